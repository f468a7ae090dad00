"""`minemap init`, `add`, `log` and `--workspace`: the week a manager has, every week."""

from __future__ import annotations

import contextlib
import hashlib
import json
import sqlite3
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner

from minemap import schema as s
from minemap import workspace as store
from minemap.cli import main
from minemap.workspace import sqlite as gpkg_backend

DATA = Path(__file__).parent / "data"
HAZARDS = DATA / "small_hazards.geojson"
RELEASES = DATA / "small_releases.geojson"
DISTRICTS = DATA / "small_districts.geojson"


@pytest.fixture
def runner():
    return CliRunner()


def run(runner, *args, code: int = 0):
    result = runner.invoke(main, [str(a) for a in args])
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    return result


@pytest.fixture
def week(tmp_path, new_workspace):
    """The files of four weeks: the handover map, two weeks of releases, a corrected map."""
    releases = gpd.read_file(RELEASES)
    releases[s.RELEASED_ON] = ["2024-01-03", "2024-01-05", "2024-01-11"]
    week1, week2 = tmp_path / "releases_w1.geojson", tmp_path / "releases_w2.geojson"
    releases.iloc[:2].to_file(week1)
    releases.iloc[2:].to_file(week2)
    hazards = gpd.read_file(HAZARDS)
    corrected = hazards.copy()
    at = corrected[s.HAZARD_ID] == "AGM-2"
    corrected.loc[at, s.MINES_AP] += 60
    grown = shapely.buffer(corrected.loc[at, s.GEOMETRY].to_numpy(), 0.002, join_style="mitre")
    corrected.loc[at, s.GEOMETRY] = grown
    extra = gpd.GeoDataFrame(
        {s.HAZARD_ID: ["AGM-3"], s.MINES_AP: [7], s.MINES_AT: [2], s.SOURCE: ["Handover map A"]},
        geometry=[shapely.box(46.90, 40.00, 46.91, 40.01)],
        crs=s.CANONICAL_CRS,
    )
    corrected = pd.concat([corrected, extra], ignore_index=True)
    corrected_path = tmp_path / "hazards_corrected.geojson"
    corrected.to_file(corrected_path)
    return {
        "workspace": new_workspace,  # a GeoPackage, or a PostgreSQL database
        "week1": week1,
        "week2": week2,
        "corrected": corrected_path,
        "folder": tmp_path,
    }


def _table(path: Path) -> pd.DataFrame:
    return pd.read_csv(path).set_index(s.DISTRICT)


def test_the_weekly_flow(runner, week):
    ws, folder = week["workspace"], week["folder"]
    run(runner, "init", ws)
    out = run(runner, "add", "districts", ws, DISTRICTS, "--imported-at", "2024-01-01").stdout
    assert out.startswith("import #1: districts from small_districts.geojson: 2 new")
    result = run(
        runner,
        "add",
        "hazards",
        ws,
        HAZARDS,
        "--source",
        "handover",
        "--imported-at",
        "2024-01-01T10:00",
    )
    assert "import #2: hazards from small_hazards.geojson: 5 new" in result.stdout
    assert "hazards: read 5, kept 5, rejected 0" in result.stderr
    for number, (name, moment) in enumerate(
        [("week1", "2024-01-08T09:00"), ("week2", "2024-01-15T09:00")], start=3
    ):
        result = run(
            runner, "add", "releases", ws, week[name], "--source", "ANAMA", "--imported-at", moment
        )
        assert result.stdout.startswith(f"import #{number}: releases")
    result = run(
        runner,
        "add",
        "hazards",
        ws,
        week["corrected"],
        "--source",
        "handover",
        "--imported-at",
        "2024-01-22T09:00",
    )
    assert "import #5: hazards from hazards_corrected.geojson: 1 new, 1 superseded" in result.stdout
    assert "4 unchanged, 0 rejected; the earlier versions stay in the history" in result.stdout

    # The same file again, the next week: nothing changes.
    result = run(runner, "add", "releases", ws, week["week1"], "--source", "ANAMA")
    assert result.stdout.strip() == (
        "releases_w1.geojson: already imported on 2024-01-08 09:00 UTC as import #3; "
        "nothing changed"
    )

    # The log: when, what, its SHA-256, kept and rejected, from whom.
    log = run(runner, "log", ws).stdout.splitlines()
    assert log[0].split() == [
        "#", "imported", "(UTC)", "kind", "file", "source", "read", "kept", "rejected",
        "new", "superseded", "unchanged", *(["status"] if store.is_url(ws) else []), "sha256",
    ]  # fmt: skip
    assert len(log) == 2 + 5
    assert "2024-01-22 09:00:00" in log[-1]
    assert "hazards_corrected.geojson" in log[-1]
    assert hashlib.sha256(week["corrected"].read_bytes()).hexdigest() in log[-1]
    records = json.loads(run(runner, "log", ws, "--json").stdout)
    assert [r[s.IMPORT_ID] for r in records] == [1, 2, 3, 4, 5]
    assert records[2][s.SHA256] == hashlib.sha256(week["week1"].read_bytes()).hexdigest()
    assert records[2][s.SOURCE] == "ANAMA"
    assert records[4][s.SUPERSEDED] == 1
    assert records[2][s.IMPORTED_AT] == "2024-01-08T09:00:00.000000Z"
    assert {r[s.IMPORT_STATUS] for r in records} == {"accepted"}
    assert {r[s.REVIEWED_BY] for r in records} == {None}

    # Remaining, from the workspace: the corrected hazards and both weeks of releases...
    now = folder / "now.csv"
    result = run(runner, "remaining", "--workspace", ws, "--by-district", now)
    assert "hazards: 6 record(s) from workspace" in result.stderr
    assert "TOTAL" in result.stdout
    files = folder / "files.csv"
    run(
        runner,
        "remaining",
        "--hazards", week["corrected"],
        "--releases", week["week1"], week["week2"],
        "--districts", DISTRICTS,
        "--by-district", files,
    )  # fmt: skip
    pd.testing.assert_frame_equal(_table(now), _table(files))

    # ... and as known on 10 January: the handover map and the first week's releases only.
    then = folder / "then.csv"
    result = run(
        runner, "remaining", "--workspace", ws, "--known-on", "2024-01-10", "--by-district", then
    )
    assert "as known on 2024-01-10" in result.stderr
    before = folder / "before.csv"
    run(
        runner,
        "remaining",
        "--hazards", HAZARDS,
        "--releases", week["week1"],
        "--districts", DISTRICTS,
        "--by-district", before,
    )  # fmt: skip
    pd.testing.assert_frame_equal(_table(then), _table(before))
    assert _table(then)[s.MAPPED_MINES].sum() < _table(now)[s.MAPPED_MINES].sum()

    # --known-on says what was known; --as-of which releases count.
    cut = folder / "cut.csv"
    run(
        runner,
        "remaining", "--workspace", ws, "--known-on", "2024-01-10", "--as-of", "2024-01-04",
        "--by-district", cut,
    )  # fmt: skip
    assert _table(cut)[s.RELEASED_AREA_HA].sum() < _table(then)[s.RELEASED_AREA_HA].sum()

    # The map, the report and progress read the workspace too.
    run(runner, "map", "--workspace", ws, "-o", folder / "map.html")
    assert "AGM-3" in (folder / "map.html").read_text(encoding="utf-8")
    run(runner, "map", "--workspace", ws, "--known-on", "2024-01-10", "-o", folder / "then.html")
    assert "AGM-3" not in (folder / "then.html").read_text(encoding="utf-8")
    run(runner, "report", "--workspace", ws, "-o", folder / "report.html")
    run(runner, "priorities", "--workspace", ws, "-o", folder / "priorities.csv")
    assert len(pd.read_csv(folder / "priorities.csv")) == 6
    result = run(runner, "progress", "--workspace", ws, "-o", folder / "progress")
    assert "releases: 3 record(s) from workspace" in result.stderr
    progress = pd.read_csv(folder / "progress" / "progress.csv")
    assert progress[s.RELEASED_HA].sum() > 0
    run(runner, "progress", "--workspace", ws, "--known-on", "2024-01-10", "-o", folder / "p2")
    assert len(pd.read_csv(folder / "p2" / "progress.csv")) <= len(progress)
    assert len(store.read_imports(ws)) == 5


def test_a_file_layer_replaces_that_layer_of_the_workspace(runner, week):
    ws = week["workspace"]
    run(runner, "init", ws)
    run(runner, "add", "hazards", ws, HAZARDS)
    run(runner, "add", "releases", ws, week["week1"])
    result = run(runner, "remaining", "--workspace", ws, "--releases", RELEASES)
    assert "hazards: 5 record(s) from workspace" in result.stderr
    assert "releases: read 3, kept 3, rejected 0" in result.stderr


def test_rejected_features_are_kept_and_listed(runner, tmp_path, new_workspace):
    ws = new_workspace
    bad = gpd.read_file(HAZARDS)
    bad.loc[1, s.MINES_AP] = -5
    path = tmp_path / "hazards.geojson"
    bad.to_file(path)
    run(runner, "init", ws)
    result = run(runner, "add", "hazards", ws, path)
    assert "hazards: read 5, kept 4, rejected 1" in result.stderr
    assert "AGM-2" in result.stderr
    assert "1 rejected; the rejected features are stored with their reasons" in result.stdout
    listed = run(runner, "log", ws, "--rejects").stdout
    assert "AGM-2" in listed
    assert "mines_ap" in listed
    rejects = json.loads(run(runner, "log", ws, "--rejects", "--json").stdout)
    assert [r[s.FEATURE_ID] for r in rejects] == ["AGM-2"]
    assert rejects[0][s.MINES_AP] == -5
    assert rejects[0]["wkt"].startswith("POLYGON")
    assert json.loads(run(runner, "log", ws, "--rejects", "--import", "1", "--json").stdout)
    run(runner, "log", ws, "--import", "1", code=2)


def test_every_feature_rejected_is_said_loudly(runner, tmp_path, new_workspace):
    ws = new_workspace
    run(runner, "init", ws)
    result = run(runner, "add", "hazards", ws, RELEASES, code=1)
    assert "every feature" in result.stderr
    assert "read 3, kept 0, rejected 3" in result.stderr


def test_columns_are_mapped_as_in_every_command(runner, tmp_path, new_workspace):
    frame = gpd.read_file(HAZARDS).rename(columns={s.MINES_AP: "AP_COUNT"})
    path = tmp_path / "h.geojson"
    frame.to_file(path)
    ws = new_workspace
    run(runner, "init", ws)
    run(runner, "add", "hazards", ws, path, "--map", "mines_ap=AP_COUNT")
    assert store.read_workspace(ws, "hazards")[s.MINES_AP].sum() == frame["AP_COUNT"].sum()


def test_a_second_writer_is_told_the_workspace_is_busy(runner, monkeypatch, tmp_path):
    ws = tmp_path / "ws.gpkg"
    run(runner, "init", ws)
    monkeypatch.setattr(gpkg_backend, "BUSY_TIMEOUT_S", 0.05)
    with contextlib.closing(sqlite3.connect(ws, isolation_level=None)) as other:
        other.execute("BEGIN IMMEDIATE")
        result = run(runner, "add", "hazards", ws, HAZARDS, code=1)
        other.execute("ROLLBACK")
    assert result.stderr.strip() == (
        f"Error: workspace {ws} is busy: another import is under way; try again when it has "
        "finished"
    )
    assert store.read_imports(ws).empty


def test_init_never_replaces_a_workspace_that_holds_imports(runner, tmp_path):
    ws = tmp_path / "ws.gpkg"
    run(runner, "init", ws)
    # An empty workspace may be made again...
    assert "--overwrite" in run(runner, "init", ws, code=1).stderr
    run(runner, "init", ws, "--overwrite")
    # ...but not one that holds imports: its history would be lost.
    run(runner, "add", "hazards", ws, HAZARDS)
    before = ws.read_bytes()
    for args in (["init", ws], ["init", ws, "--overwrite"]):
        result = run(runner, *args, code=1)
        errors = [line for line in result.stderr.splitlines() if line.startswith("Error")]
        assert len(errors) == 1
        assert "holds 1 import" in errors[0]
        assert "another name" in errors[0]
        assert "--overwrite" not in errors[0]
    assert ws.read_bytes() == before
    assert len(store.read_imports(ws)) == 1
    assert ".gpkg" in run(runner, "init", tmp_path / "ws.db", code=2).stderr


def test_a_wholly_rejected_correction_exits_1_and_does_not_block_the_right_one(runner, week):
    ws = week["workspace"]
    run(runner, "init", ws)
    run(runner, "add", "hazards", ws, HAZARDS, "--source", "handover")
    # The corrected map, added without --source: every record is the handover's.
    corrected = gpd.read_file(HAZARDS)
    corrected[s.MINES_AP] += 1
    path = week["folder"] / "corrected.geojson"
    corrected.to_file(path)
    result = run(runner, "add", "hazards", ws, path, code=1)
    assert "read 5, kept 0, rejected 5" in result.stderr
    assert "--source 'handover'" in result.stderr  # each reject says how to correct it
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error")]
    assert len(errors) == 1
    assert "every feature" in errors[0]
    assert "import #2" in result.stdout
    # It stays in the log, with its rejects.
    log = json.loads(run(runner, "log", ws, "--json").stdout)
    assert [(r[s.IMPORT_ID], r[s.KEPT], r[s.REJECTED]) for r in log] == [(1, 5, 0), (2, 0, 5)]
    assert len(json.loads(run(runner, "log", ws, "--rejects", "--json").stdout)) == 5
    # The same file with its source goes in (it was not "already imported").
    result = run(runner, "add", "hazards", ws, path, "--source", "handover")
    assert "import #3: hazards from corrected.geojson: 0 new, 5 superseded" in result.stdout
    assert "already" not in result.stdout
    current = store.read_workspace(ws, "hazards")
    assert current[s.MINES_AP].tolist() == corrected[s.MINES_AP].tolist()
    result = run(runner, "add", "hazards", ws, path, "--source", "handover")
    assert "already imported" in result.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["add", "hazards", "{ws}", str(DATA / "bad" / "truncated.geojson")],
        ["add", "hazards", "{ws}", "{missing}"],
        ["add", "hazards", "{missing}", str(HAZARDS)],
        ["log", "{missing}"],
        ["remaining", "--workspace", "{missing}"],
        ["remaining", "--workspace", str(HAZARDS)],
        ["remaining", "--workspace", "{ws}"],  # holds no hazards
        ["progress", "--workspace", "{ws}", "-o", "{out}"],  # holds no releases
    ],
    ids=["unreadable", "no-file", "no-workspace", "log", "read", "not-workspace", "empty", "p"],
)
def test_bad_input_is_one_line_and_exit_one(runner, tmp_path, args):
    ws = tmp_path / "ws.gpkg"
    run(runner, "init", ws)
    values = {"ws": ws, "missing": tmp_path / "missing.gpkg", "out": tmp_path / "out"}
    result = run(runner, *[a.format(**values) for a in args], code=1)
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error")]
    assert len(errors) == 1
    assert store.read_imports(ws).empty


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["remaining"], "Missing option '--hazards'"),
        (["remaining", "--hazards", str(HAZARDS)], "Missing option '--releases'"),
        (["map", "-o", "m.html"], "Missing option '--hazards'"),
        (["progress", "-o", "out"], "Missing option '--releases'"),
        (
            [
                "remaining",
                "--hazards",
                str(HAZARDS),
                "--releases",
                str(RELEASES),
                "--known-on",
                "2024-01-01",
            ],
            "--known-on needs --workspace",
        ),
        (["remaining", "--workspace", "w.gpkg", "--known-on", "10/01/2024"], "not a day"),
        (["add", "mines", "w.gpkg", str(HAZARDS)], "'mines' is not one of"),
    ],
)
def test_bad_usage_is_exit_two(runner, args, message):
    result = run(runner, *args, code=2)
    assert message in result.stderr


def test_log_of_a_new_workspace_is_empty(runner, tmp_path, new_workspace):
    ws = new_workspace
    run(runner, "init", ws)
    result = run(runner, "log", ws)
    assert result.stdout == ""
    assert "0 import(s)" in result.stderr
    assert json.loads(run(runner, "log", ws, "--json").stdout) == []


# --- accuracy and density read the workspace too ----------------------------------------


@pytest.fixture
def surveyed(week):
    """A workspace with districts, hazards, releases and the devices found, and its files."""
    folder, ws = week["folder"], week["workspace"]
    hazards = gpd.read_file(HAZARDS)
    points, ids = [], []
    for number, geom in enumerate(hazards.geometry):
        c = geom.representative_point()
        for k in range(4):
            points.append(shapely.Point(c.x + k * 2e-4, c.y + (k % 2) * 1e-4))
            ids.append(f"İ-{number}-{k}")
    items = gpd.GeoDataFrame(
        {
            s.ITEM_ID: ids,
            s.FOUND_ON: ["2024-01-04"] * len(ids),
            s.ITEM_TYPE: ["AP", "AT"] * (len(ids) // 2),
        },
        geometry=points,
        crs=s.CANONICAL_CRS,
    )
    items_path = folder / "items.geojson"
    items.to_file(items_path)
    runner = CliRunner()
    run(runner, "init", ws)
    run(runner, "add", "districts", ws, DISTRICTS, "--imported-at", "2024-01-01")
    run(
        runner, "add", "hazards", ws, HAZARDS, "--source", "handover", "--imported-at", "2024-01-02"
    )
    run(runner, "add", "releases", ws, week["week1"], "--imported-at", "2024-01-08")
    run(runner, "add", "items", ws, items_path, "--imported-at", "2024-01-09")
    run(runner, "add", "releases", ws, week["week2"], "--imported-at", "2024-01-15")
    return {**week, "items": items_path}


def test_accuracy_reads_the_workspace_like_the_files(runner, surveyed):
    ws, folder = surveyed["workspace"], surveyed["folder"]
    result = run(runner, "accuracy", "--workspace", ws, "-o", folder / "ws.csv")
    assert "items: 20 record(s) from workspace" in result.stderr
    files = run(
        runner,
        "accuracy",
        "--hazards", HAZARDS,
        "--items", surveyed["items"],
        "--releases", surveyed["week1"], surveyed["week2"],
        "-o", folder / "files.csv",
    )  # fmt: skip
    assert result.stdout == files.stdout
    for suffix in ("", "_by_district", "_by_source"):
        pd.testing.assert_frame_equal(
            pd.read_csv(folder / f"ws{suffix}.csv"), pd.read_csv(folder / f"files{suffix}.csv")
        )
    # As known on a day: the first week's releases only.
    run(runner, "accuracy", "--workspace", ws, "--known-on", "2024-01-10", "-o", folder / "k.csv")
    run(
        runner,
        "accuracy",
        "--hazards", HAZARDS,
        "--items", surveyed["items"],
        "--releases", surveyed["week1"],
        "-o", folder / "k_files.csv",
    )  # fmt: skip
    pd.testing.assert_frame_equal(
        pd.read_csv(folder / "k.csv"), pd.read_csv(folder / "k_files.csv")
    )
    # A layer given as files replaces the workspace's.
    result = run(
        runner, "accuracy", "--workspace", ws, "--items", surveyed["items"], "-o", folder / "x.csv"
    )
    assert "items: read 20, kept 20" in result.stderr


def test_density_reads_the_workspace_like_the_files(runner, surveyed):
    ws, folder = surveyed["workspace"], surveyed["folder"]
    args = ["--cell-size", "200"]
    result = run(runner, "density", "--workspace", ws, *args, "-o", folder / "ws.tif")
    files = run(
        runner,
        "density",
        "--hazards", HAZARDS,
        "--releases", surveyed["week1"], surveyed["week2"],
        "--districts", DISTRICTS,
        "--items", surveyed["items"],
        *args,
        "-o", folder / "files.tif",
    )  # fmt: skip
    assert result.stdout == files.stdout
    assert "Aghdam" in result.stdout
    import rasterio

    with rasterio.open(folder / "ws.tif") as a, rasterio.open(folder / "files.tif") as b:
        assert a.transform == b.transform
        assert (a.read() == b.read()).all()
    run(
        runner,
        "density",
        "--workspace",
        ws,
        "--known-on",
        "2024-01-10",
        *args,
        "-o",
        folder / "k.tif",
    )
    run(
        runner,
        "density",
        "--hazards", HAZARDS,
        "--releases", surveyed["week1"],
        "--districts", DISTRICTS,
        "--items", surveyed["items"],
        *args,
        "-o", folder / "k_files.tif",
    )  # fmt: skip
    with rasterio.open(folder / "k.tif") as a, rasterio.open(folder / "k_files.tif") as b:
        assert (a.read() == b.read()).all()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["accuracy", "-o", "a.csv"], "Missing option '--hazards'"),
        (["accuracy", "--hazards", str(HAZARDS), "-o", "a.csv"], "Missing option '--items'"),
        (["density", "--cell-size", "100", "-o", "d.tif"], "Missing option '--hazards'"),
        (
            ["density", "--hazards", str(HAZARDS), "--cell-size", "100", "-o", "d.tif"],
            "Missing option '--releases'",
        ),
        (
            [
                "accuracy",
                "--hazards",
                str(HAZARDS),
                "--items",
                str(HAZARDS),
                "--known-on",
                "2024-01-01",
                "-o",
                "a.csv",
            ],
            "--known-on needs --workspace",
        ),
    ],
)
def test_accuracy_and_density_without_inputs_are_bad_usage(runner, args, message):
    assert message in run(runner, *args, code=2).stderr


def test_accuracy_needs_devices_in_the_workspace(runner, week):
    ws = week["workspace"]
    run(runner, "init", ws)
    run(runner, "add", "hazards", ws, HAZARDS)
    result = run(runner, "accuracy", "--workspace", ws, "-o", week["folder"] / "a.csv", code=1)
    assert "holds no items" in result.stderr
