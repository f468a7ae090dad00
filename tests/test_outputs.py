"""Output files: one atomic writer (checked, fsynced, race-free, umask), Shapefile sets,
spreadsheet-safe and rounded tables."""

from __future__ import annotations

import contextlib
import csv
import errno
import os
import re
import signal
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from click.testing import CliRunner
from matplotlib.figure import Figure

import minemap as mm
from minemap import contamination, outputs
from minemap import io as mio
from minemap import schema as s
from minemap import workspace as store
from minemap.cli import main
from minemap.errors import OutputExistsError, OutputFileError
from tests.common import LAEA, box, hazards, releases

ROOT = Path(__file__).parent.parent
DATA = Path(__file__).parent / "data"
HAZARDS = str(ROOT / "data" / "hazards.geojson")
RELEASES = str(ROOT / "data" / "releases.geojson")
DISTRICTS = str(ROOT / "data" / "districts.geojson")
SMALL_HAZARDS = str(DATA / "small_hazards.geojson")
SMALL_RELEASES = str(DATA / "small_releases.geojson")
SMALL_DISTRICTS = str(DATA / "small_districts.geojson")
SQUARE = shapely.box(46.90, 39.98, 46.91, 39.99)

LAYER_FORMATS = [".gpkg", ".geojson", ".shp", ".zip", ".fgb", ".kml", ".kmz", ".parquet", ".csv"]
SHAPEFILE = (".shp", ".shx", ".dbf", ".prj", ".cpg")


@pytest.fixture
def runner():
    return CliRunner()


def _layer(ids=("A", "B"), x0=46.90) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {s.HAZARD_ID: list(ids), s.MINES_AP: list(range(1, len(ids) + 1))},
        geometry=[
            shapely.box(x0 + 0.02 * i, 39.98, x0 + 0.02 * i + 0.01, 39.99) for i in range(len(ids))
        ],
        crs="EPSG:4326",
    )


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@contextlib.contextmanager
def _umask(mask: int):
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def _ok(result):
    assert result.exit_code == 0, result.output
    return result


def _failed(result):
    """Exit 1 with a message, not a traceback (CliRunner keeps the exception)."""
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    return result


# --- permissions ---------------------------------------------------------------------


def _write_every_kind(folder: Path) -> list[Path]:
    """One output of every kind minemap writes, through its public writer."""
    from minemap import charts, density
    from minemap.render import render_map, write_map

    layer = _layer()
    written = [mm.write_layer(layer, folder / f"layer{suffix}") for suffix in LAYER_FORMATS]
    written += [folder / f"layer{p}" for p in SHAPEFILE[1:]]
    written.append(mio.write_table(pd.DataFrame({"a": [1.5]}), folder / "table.csv"))
    hz = hazards(box(0, 0, 700, 300), ap=[500])
    grid = density.density(hz, releases(box(0, 0, 100, 300)), cell_size_m=50, crs=LAEA)
    written.append(density.write_density(grid, folder / "density.tif"))
    written.append(write_map(render_map(layer.assign(**{s.MINES_AT: 0})), folder / "map.html"))
    figure = Figure()
    figure.subplots().plot([0, 1], [0, 1])
    written.append(charts.write_svg(figure, folder / "chart.svg"))
    written.append(charts.write_png(figure, folder / "chart.png"))
    written.append(store.create_workspace(folder / "ws.gpkg"))
    return written


@pytest.mark.parametrize("mask", [0o027, 0o002])
def test_every_output_follows_the_umask(tmp_path, mask):
    # density.tif was written 0600 (mkstemp's mode) whatever the umask.
    with _umask(mask):
        written = _write_every_kind(tmp_path)
    want = 0o666 & ~mask
    modes = {p.name: oct(p.stat().st_mode & 0o777) for p in written}
    assert modes == {p.name: oct(want) for p in written}
    assert _names(tmp_path) == sorted(p.name for p in written)  # nothing else left


def test_record_and_cli_outputs_follow_the_umask(runner, tmp_path):
    with _umask(0o077):
        _ok(
            runner.invoke(
                main,
                [
                    "record",
                    str(ROOT / "data" / "records" / "example_record.json"),
                    "-o",
                    str(tmp_path / "r.gpkg"),
                ],
            )
        )
    assert (tmp_path / "r.gpkg").stat().st_mode & 0o777 == 0o600
    with _umask(0o022):
        _ok(
            runner.invoke(
                main,
                [
                    "record",
                    str(ROOT / "data" / "records" / "example_record.json"),
                    "-o",
                    str(tmp_path / "r.gpkg"),
                    "--overwrite",
                ],
            )
        )
    assert (tmp_path / "r.gpkg").stat().st_mode & 0o777 == 0o644


# --- race-free: a file created while minemap writes is never replaced -----------------


def _intrude_during(monkeypatch, target: Path, module, name: str):
    """Create ``target`` while ``module.name`` (a writer's step) runs."""
    original = getattr(module, name)

    def intruding(*args, **kwargs):
        result = original(*args, **kwargs)
        if not target.exists():
            target.write_text("someone else's file")
        return result

    monkeypatch.setattr(module, name, intruding)


@pytest.mark.parametrize(
    ("name", "intruder"),
    [("h.geojson", "h.geojson"), ("h.gpkg", "h.gpkg"), ("h.shp", "h.dbf"), ("h.shp", "h.shp")],
)
def test_a_layer_created_while_minemap_writes_is_not_replaced(
    tmp_path, monkeypatch, name, intruder
):
    _intrude_during(monkeypatch, tmp_path / intruder, pyogrio, "write_dataframe")
    with pytest.raises(OutputExistsError, match=intruder.replace(".", r"\.")):
        mm.write_layer(_layer(), tmp_path / name)
    assert (tmp_path / intruder).read_text() == "someone else's file"
    assert _names(tmp_path) == [intruder]  # nothing of ours, no temporary file


def test_a_table_created_while_minemap_writes_is_not_replaced(tmp_path, monkeypatch):
    _intrude_during(monkeypatch, tmp_path / "t.csv", pd.DataFrame, "to_csv")
    with pytest.raises(OutputExistsError, match=r"t\.csv"):
        mio.write_table(pd.DataFrame({"a": [1]}), tmp_path / "t.csv")
    assert (tmp_path / "t.csv").read_text() == "someone else's file"
    assert _names(tmp_path) == ["t.csv"]


def test_a_map_created_while_minemap_writes_is_not_replaced(tmp_path, monkeypatch):
    from minemap.render import render_map, write_map

    m = render_map(_layer().assign(**{s.MINES_AT: 0}))
    _intrude_during(monkeypatch, tmp_path / "map.html", os, "fsync")
    with pytest.raises(OutputExistsError, match=r"map\.html"):
        write_map(m, tmp_path / "map.html")
    assert (tmp_path / "map.html").read_text() == "someone else's file"
    assert _names(tmp_path) == ["map.html"]


@pytest.mark.parametrize("renameat2", [True, False])
@pytest.mark.parametrize("no_link", [errno.EPERM, errno.EOPNOTSUPP])
def test_without_hard_links_the_no_replace_rename_still_refuses(
    tmp_path, monkeypatch, no_link, renameat2
):
    # FAT/exFAT drives and some network shares have no hard links: renameat2's
    # RENAME_NOREPLACE (Linux) or the platform's own exclusive rename takes over, and
    # without either a check then a rename.
    def refuse(*args, **kwargs):
        raise OSError(no_link, os.strerror(no_link))

    monkeypatch.setattr(os, "link", refuse)
    if not renameat2:
        monkeypatch.setattr(outputs, "_renameat2", None)
    path = outputs.write_text("first", tmp_path / "a.txt")
    assert path.read_text() == "first"
    _intrude_during(monkeypatch, tmp_path / "b.txt", os, "fsync")
    with pytest.raises(OutputExistsError):
        outputs.write_text("second", tmp_path / "b.txt")
    assert (tmp_path / "b.txt").read_text() == "someone else's file"
    assert _names(tmp_path) == ["a.txt", "b.txt"]


# --- checked and durable -------------------------------------------------------------


def _fd_path(fd: int) -> str:
    return os.readlink(f"/proc/self/fd/{fd}")


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc (Linux)")
@pytest.mark.parametrize("suffix", [".geojson", ".kml", ".shp", ".csv"])
def test_outputs_are_fsynced_then_renamed_then_their_folder_fsynced(tmp_path, monkeypatch, suffix):
    events: list[tuple[str, str]] = []
    fsync, link, replace = os.fsync, os.link, os.replace

    def logged_fsync(fd):
        events.append(("fsync", _fd_path(fd)))
        return fsync(fd)

    def logged(kind, function):
        def call(src, dst, *args, **kwargs):
            events.append((kind, str(dst)))
            return function(src, dst, *args, **kwargs)

        return call

    monkeypatch.setattr(os, "fsync", logged_fsync)
    monkeypatch.setattr(os, "link", logged("rename", link))
    monkeypatch.setattr(os, "replace", logged("rename", replace))
    path = mm.write_layer(_layer(), tmp_path / f"out{suffix}")
    placed = [i for i, (kind, dst) in enumerate(events) if kind == "rename" and dst == str(path)]
    assert placed, events
    synced = [
        i for i, (kind, p) in enumerate(events) if kind == "fsync" and Path(p).name == path.name
    ]
    assert synced, events
    assert synced[0] < placed[0], events  # the data is on disk before its name
    folder = [i for i, (kind, p) in enumerate(events) if kind == "fsync" and p == str(tmp_path)]
    assert folder, events
    assert folder[-1] > placed[-1], events  # and the name after the rename


def _truncate_after(monkeypatch, module, name: str, keep: int):
    """Make ``module.name`` leave a cut-off file, as a writer that ignores a full disk does."""
    original = getattr(module, name)

    def truncating(frame, path, *args, **kwargs):
        result = original(frame, path, *args, **kwargs)
        with open(path, "r+b") as f:
            f.truncate(keep)
        return result

    monkeypatch.setattr(module, name, truncating)


@pytest.mark.parametrize("suffix", [".kml", ".geojson", ".gpkg", ".fgb"])
def test_an_output_that_does_not_read_back_is_refused(tmp_path, monkeypatch, suffix):
    # LIBKML reports no error when the disk fills: `remaining -o rem.kml` exited 0
    # leaving an unparsable file under the final name.
    _truncate_after(monkeypatch, pyogrio, "write_dataframe", 300)
    with pytest.raises(OutputFileError, match=rf"out\{suffix}: .*nothing was written"):
        mm.write_layer(_layer(), tmp_path / f"out{suffix}")
    assert _names(tmp_path) == []


def test_a_table_that_does_not_read_back_is_refused(tmp_path, monkeypatch):
    _truncate_after(monkeypatch, pd.DataFrame, "to_csv", 5)
    with pytest.raises(OutputFileError, match=r"t\.csv: .*nothing was written"):
        mio.write_table(
            pd.DataFrame({"name": ["Ağdam", "Füzuli"], "v": [1, 2]}), tmp_path / "t.csv"
        )
    assert _names(tmp_path) == []


def _fail_fsync(monkeypatch, code: int):
    def failing(fd):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(os, "fsync", failing)


_SMALL = ["--hazards", SMALL_HAZARDS, "--releases", SMALL_RELEASES]
_RECORD = str(ROOT / "data" / "records" / "example_record.json")


@pytest.mark.parametrize(
    ("args", "output"),
    [
        (["remaining", *_SMALL, "-o"], "r.geojson"),
        (["remaining", *_SMALL, "-o"], "r.shp"),
        (["remaining", *_SMALL, "--by-district"], "d.csv"),
        (["map", *_SMALL, "-o"], "m.html"),
        (["density", *_SMALL, "--cell-size", "50", "-o"], "d.tif"),
        (["record", _RECORD, "-o"], "r.gpkg"),
        (["init"], "ws.gpkg"),
    ],
)
@pytest.mark.parametrize("code", [errno.EIO, errno.ENOSPC])
def test_an_io_error_is_exit_1_naming_the_file_with_nothing_left(
    runner, tmp_path, monkeypatch, args, output, code
):
    _fail_fsync(monkeypatch, code)
    result = _failed(runner.invoke(main, [*args, str(tmp_path / output)]))
    assert str(tmp_path / output) in result.stderr
    reason = "input/output error" if code == errno.EIO else "the disk is full"
    assert reason in result.stderr
    assert "nothing was written" in result.stderr
    assert _names(tmp_path) == []


def test_an_io_error_keeps_the_existing_output(tmp_path, monkeypatch):
    path = mm.write_layer(_layer(), tmp_path / "h.geojson")
    before = path.read_bytes()
    _fail_fsync(monkeypatch, errno.EIO)
    with pytest.raises(OutputFileError, match="the existing file is unchanged"):
        mm.write_layer(_layer(("X", "Y", "Z")), path, overwrite=True)
    assert path.read_bytes() == before
    assert _names(tmp_path) == ["h.geojson"]


# --- Shapefile sets ------------------------------------------------------------------


@pytest.mark.parametrize(
    "sidecar", ["h.dbf", "h.shx", "h.prj", "h.cpg", "h.qix", "h.sbn", "h.shp.xml", "h.DBF"]
)
def test_every_shapefile_sidecar_counts_for_overwrite(tmp_path, sidecar):
    (tmp_path / sidecar).write_text("keep")
    with pytest.raises(OutputExistsError, match=rf"{sidecar.replace('.', '[.]')}.*overwrite=True"):
        mm.write_layer(_layer(), tmp_path / "h.shp")
    assert _names(tmp_path) == [sidecar]
    assert (tmp_path / sidecar).read_text() == "keep"


def test_the_cli_refuses_a_lone_dbf_before_any_work(runner, tmp_path):
    (tmp_path / "rem.dbf").write_text("keep")
    args = ["remaining", *_SMALL]
    result = _failed(runner.invoke(main, [*args, "-o", str(tmp_path / "rem.shp")]))
    assert "rem.dbf" in result.stderr
    assert "--overwrite" in result.stderr
    assert "read" not in result.stderr  # refused before reading anything
    assert _names(tmp_path) == ["rem.dbf"]
    _ok(runner.invoke(main, [*args, "-o", str(tmp_path / "rem.shp"), "--overwrite"]))
    assert _names(tmp_path) == [f"rem{p}" for p in sorted(SHAPEFILE)]


def test_overwrite_replaces_the_whole_set_and_drops_stale_indexes(tmp_path):
    path = mm.write_layer(_layer(("OLD1", "OLD2", "OLD3")), tmp_path / "h.shp")
    stale = ["h.qix", "h.sbn", "h.sbx", "h.fix", "h.aih", "h.ain", "h.atx", "h.shp.xml", "h.QIX"]
    for name in stale:
        (tmp_path / name).write_text("index of the old geometry")
    (tmp_path / "h.qml").write_text("the user's style")  # not a part of the data: kept
    (tmp_path / "other.dbf").write_text("another layer")
    mm.write_layer(_layer(("NEW",)), path, overwrite=True)
    assert _names(tmp_path) == sorted([*(f"h{p}" for p in SHAPEFILE), "h.qml", "other.dbf"])
    assert pyogrio.read_dataframe(path)[s.HAZARD_ID].tolist() == ["NEW"]


_KILLER = textwrap.dedent(
    """
    import os, sys, threading
    from pathlib import Path
    import geopandas as gpd, shapely
    import minemap as mm

    path, pause_after = Path(sys.argv[1]), int(sys.argv[2])
    moves = 0

    def pausing(function):
        # Count every rename or link of a part of the Shapefile (h.shp, h.dbf...),
        # whichever way the writer moves them; pause after the chosen one.
        def call(src, dst, *args, **kwargs):
            global moves
            result = function(src, dst, *args, **kwargs)
            if Path(src).name.startswith(path.stem + "."):
                moves += 1
                if moves == pause_after:
                    print("paused", flush=True)
                    threading.Event().wait()  # until the test kills us
            return result

        return call

    os.replace, os.rename, os.link = map(pausing, (os.replace, os.rename, os.link))
    frame = gpd.GeoDataFrame(
        {"hazard_id": ["NEW1", "NEW2", "NEW3"], "mines_ap": [7, 8, 9]},
        geometry=[shapely.box(47 + i, 40, 47.5 + i, 40.5) for i in range(3)],
        crs="EPSG:4326",
    )
    mm.write_layer(frame, path, overwrite=True)
    print("moves", moves)
    """
)


def _old_set(folder: Path) -> Path:
    path = mm.write_layer(_layer(("OLD1", "OLD2")), folder / "h.shp")
    (folder / "h.qix").write_text("stale index")
    return path


def _count_moves(tmp_path) -> int:
    folder = tmp_path / "count"
    folder.mkdir()
    done = subprocess.run(
        [sys.executable, "-c", _KILLER, str(_old_set(folder)), "0"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return int(done.stdout.split()[-1])


def _kill_after(folder: Path, moves: int) -> None:
    """Run a writer in another process, SIGKILL it once it has moved ``moves`` parts
    (it says so on its output, then waits)."""
    process = subprocess.Popen(
        [sys.executable, "-c", _KILLER, str(folder / "h.shp"), str(moves)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    with process:
        try:
            said = process.stdout.readline().strip()
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait()
        assert said == "paused", process.stderr.read()


def _what_a_reader_sees(path: Path) -> list[str] | None:
    """The ids of the Shapefile at ``path`` (None when there is none to read)."""
    if not path.exists():
        return None
    try:
        frame = pyogrio.read_dataframe(path)
    except pyogrio.errors.DataSourceError:
        return None  # a .shp without its .shx or .dbf: refused, not mispaired
    return frame[s.HAZARD_ID].tolist()


def _kill_between_part_renames(tmp_path, every: bool) -> None:
    """Kill a Shapefile writer after each rename of a part (``every``), or after the
    first, the middle one and the last but one."""
    total = _count_moves(tmp_path)
    assert total >= 10  # 6 old parts moved aside, 5 new ones moved in
    chosen = range(1, total) if every else sorted({1, total // 2, total - 1})
    for moves in chosen:
        folder = tmp_path / f"kill-{moves}"
        folder.mkdir()
        path = _old_set(folder)
        _kill_after(folder, moves)
        seen = _what_a_reader_sees(path)
        assert seen in (None, ["OLD1", "OLD2"], ["NEW1", "NEW2", "NEW3"]), (moves, seen)
        if seen is not None:  # a whole set: each geometry goes with its own attributes
            west = pyogrio.read_dataframe(path).geometry.bounds["minx"] < 47
            assert west.tolist() == [i.startswith("OLD") for i in seen], moves
        # The next write of the same output finishes or undoes the interrupted one first.
        outputs.recover(path)
        after = _what_a_reader_sees(path)
        assert after in (["OLD1", "OLD2"], ["NEW1", "NEW2", "NEW3"]), (moves, after)
        left = _names(folder)
        if after == ["NEW1", "NEW2", "NEW3"]:
            assert left == [f"h{p}" for p in sorted(SHAPEFILE)], moves  # stale .qix gone
        else:
            assert left == sorted([*(f"h{p}" for p in SHAPEFILE), "h.qix"]), moves
        mm.write_layer(_layer(("AGAIN",)), path, overwrite=True)
        assert _what_a_reader_sees(path) == ["AGAIN"]
        assert _names(folder) == [f"h{p}" for p in sorted(SHAPEFILE)]


def test_a_kill_between_part_renames_never_pairs_old_and_new_parts(tmp_path):
    _kill_between_part_renames(tmp_path, every=False)


@pytest.mark.slow
def test_a_kill_after_any_part_rename_never_pairs_old_and_new_parts(tmp_path):
    _kill_between_part_renames(tmp_path, every=True)


def test_a_zipped_shapefile_is_one_checked_file(tmp_path):
    path = mm.write_layer(_layer(), tmp_path / "h.zip")
    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None
        assert sorted(archive.namelist()) == [f"h{p}" for p in sorted(SHAPEFILE)]
    assert _names(tmp_path) == ["h.zip"]


# --- spreadsheet formula injection ----------------------------------------------------

DANGEROUS = ['=HYPERLINK("http://x")', "+1", "-2", "@SUM(A1)", "\tx", "\rx", "=1+2;=3"]
#: Beyond OWASP's list: after spaces, full-width signs, NUL.
ALSO = ["  =1+1", "\uff1d1+1", "\uff20SUM(A1)", "\x00=1"]


def _cells(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def test_table_text_cells_cannot_start_a_formula_and_numbers_stay_numbers(tmp_path):
    table = pd.DataFrame(
        {
            "hazard_id": [*DANGEROUS, "AGM-1", None],
            "remaining_area_ha": [-1.25, 2.5, -3.0, 0.0, 4.0, 5.0, 6.0, 7.0, np.nan],
            "hazards": [-1, 2, 3, 4, 5, 6, 7, 8, 9],
            "=cmd|' /C calc'!A0": ["x"] * 9,
        }
    )
    cells = _cells(mio.write_table(table, tmp_path / "t.csv"))
    assert cells[0] == ["hazard_id", "remaining_area_ha", "hazards", "'=cmd|' /C calc'!A0"]
    assert [r[0] for r in cells[1:]] == [*(f"'{v}" for v in DANGEROUS), "AGM-1", ""]
    assert [r[1] for r in cells[1:]] == [
        "-1.25",
        "2.5",
        "-3.0",
        "0.0",
        "4.0",
        "5.0",
        "6.0",
        "7.0",
        "",
    ]
    assert [r[2] for r in cells[1:4]] == ["-1", "2", "3"]
    # Read back, the numbers are still numbers.
    back = pd.read_csv(tmp_path / "t.csv")
    assert back["remaining_area_ha"].iloc[0] == -1.25
    assert back["hazards"].iloc[0] == -1


def test_layer_csv_text_cells_cannot_start_a_formula(tmp_path):
    frame = _layer(DANGEROUS[:4])
    frame[s.MINES_AP] = [-5, 1, 2, 3]
    cells = _cells(mm.write_layer(frame, tmp_path / "h.csv"))
    assert [r[0] for r in cells[1:]] == [f"'{v}" for v in DANGEROUS[:4]]
    assert [r[1] for r in cells[1:]] == ["-5", "1", "2", "3"]
    assert all(r[-1].startswith("POLYGON") for r in cells[1:])


def test_spreadsheet_safe_leaves_non_text_alone():
    frame = pd.DataFrame(
        {
            "t": pd.array(["=x", "ok", None], dtype="string"),
            "mixed": ["-1", -1, 2.5],
            "n": [-1.0, 0.0, 1.0],
            "d": pd.to_datetime(["2024-01-01"] * 3),
        }
    )
    safe = outputs.spreadsheet_safe(frame)
    also = outputs.spreadsheet_safe(pd.DataFrame({"a": [*ALSO, "A =1", "ok-1"]}))["a"]
    assert also.tolist() == [*(f"'{v}" for v in ALSO), "A =1", "ok-1"]
    category = pd.DataFrame({"c": pd.Categorical(["=1", "x"])})
    assert outputs.spreadsheet_safe(category)["c"].tolist() == ["'=1", "x"]
    assert safe["t"].tolist()[:2] == ["'=x", "ok"]
    assert pd.isna(safe["t"].iloc[2])
    assert safe["mixed"].tolist() == ["'-1", -1, 2.5]  # the text '-1', the number -1
    pd.testing.assert_series_equal(safe["n"], frame["n"])
    pd.testing.assert_series_equal(safe["d"], frame["d"])
    assert frame["t"].iloc[0] == "=x"  # the input is not modified


def test_the_cli_tables_and_rejects_are_spreadsheet_safe(runner, tmp_path):
    districts = gpd.read_file(SMALL_DISTRICTS)
    districts[s.DISTRICT] = ["=cmd|' /C calc'!A0", "@evil"][: len(districts)]
    districts.to_file(tmp_path / "ds.geojson")
    hz = gpd.read_file(SMALL_HAZARDS)
    bad = hz.iloc[[0]].copy()
    bad[s.HAZARD_ID] = "+HYPERLINK(1)"
    bad[s.MINES_AP] = -3  # rejected: a count below 0
    pd.concat([hz, bad]).to_file(tmp_path / "hz.geojson")
    args = ["--hazards", tmp_path / "hz.geojson", "--releases", SMALL_RELEASES]
    args += ["--districts", tmp_path / "ds.geojson", "--by-district", tmp_path / "d.csv"]
    _ok(runner.invoke(main, ["remaining", *map(str, args), "--rejects", tmp_path / "rej.csv"]))
    names = [r[0] for r in _cells(tmp_path / "d.csv")[1:]]
    assert "'=cmd|' /C calc'!A0" in names
    assert "'@evil" in names
    rejects = pd.read_csv(tmp_path / "rej.csv", dtype=str)
    assert rejects[s.HAZARD_ID].tolist() == ["'+HYPERLINK(1)"]
    assert rejects[s.MINES_AP].tolist() == ["-3"]  # a number as read: not quoted


def test_density_prints_its_district_csv_spreadsheet_safe(runner, tmp_path):
    districts = gpd.read_file(SMALL_DISTRICTS)
    districts[s.DISTRICT] = ["=1+1", "Ağdam, west"][: len(districts)]
    districts.to_file(tmp_path / "ds.geojson")
    args = [*_SMALL, "--districts", tmp_path / "ds.geojson", "--cell-size", "50"]
    result = _ok(runner.invoke(main, ["density", *map(str, args), "-o", tmp_path / "d.tif"]))
    rows = list(csv.reader(result.stdout.splitlines()))
    assert rows[0][0] == s.DISTRICT
    names = [r[0] for r in rows[1:]]
    assert "'=1+1" in names
    assert "Ağdam, west" in names  # quoted, not split at the comma


# --- figures rounded to what they mean --------------------------------------------------


def _decimals(text: str) -> int:
    return len(text.split(".")[1]) if "." in text else 0


def _max_decimals(path: Path) -> dict[str, int]:
    rows = _cells(path)
    return {
        head: max((_decimals(r[i]) for r in rows[1:] if r[i]), default=0)
        for i, head in enumerate(rows[0])
    }


def test_decimals_follow_what_a_figure_means():
    assert outputs.decimals(s.REMAINING_AREA_HA) == 2
    assert outputs.decimals(s.RATE_HA_PER_WEEK) == 2
    assert outputs.decimals("rate_13w_ha_per_week") == 2
    assert outputs.decimals(s.REMAINING_MINES_EST) == 1
    assert outputs.decimals(s.MAPPED_MINES) == 1
    assert outputs.decimals(s.MINES_PER_HA_EST) == 2
    assert outputs.decimals(s.HAZARDS) == 0
    assert outputs.decimals(s.DEVICES_INSIDE) == 0
    assert outputs.decimals(s.SHARE_RELEASED) == 3
    assert outputs.decimals(s.OFFSET_M) == 1
    assert outputs.decimals("contrib_density") == 3
    assert outputs.decimals("some_new_figure") is None


def test_by_district_csv_is_rounded_and_the_frame_stays_exact(runner, tmp_path):
    csv_path = tmp_path / "d.csv"
    sample = ["--hazards", HAZARDS, "--releases", RELEASES, "--districts", DISTRICTS]
    _ok(runner.invoke(main, ["remaining", *sample, "--by-district", str(csv_path)]))
    most = _max_decimals(csv_path)
    for column in (s.MAPPED_AREA_HA, s.RELEASED_AREA_HA, s.REMAINING_AREA_HA):
        assert most[column] == 2, column
    for column in (s.MAPPED_MINES, s.REMAINING_MINES_EST, s.REMAINING_MINES_AP_EST):
        assert most[column] == 1, column
    assert most[s.HAZARDS] == 0
    assert most[s.SHARE_RELEASED] <= 3
    # The file holds the exact figures rounded; the frame they come from is exact.
    exact = contamination.by_district(
        mm.read_hazards(HAZARDS), mm.read_releases(RELEASES), mm.read_districts(DISTRICTS)
    )
    mapped = exact[s.MAPPED_AREA_HA]
    conserved = exact[s.RELEASED_AREA_HA] + exact[s.REMAINING_AREA_HA]
    assert ((mapped - conserved).abs() <= 1e-9 * mapped).all()
    written = pd.read_csv(csv_path)
    np.testing.assert_array_equal(
        written[s.REMAINING_AREA_HA].to_numpy(), exact[s.REMAINING_AREA_HA].round(2).to_numpy()
    )
    np.testing.assert_array_equal(
        written[s.REMAINING_MINES_EST].to_numpy(), exact[s.REMAINING_MINES_EST].round(1).to_numpy()
    )


def test_counts_with_gaps_are_written_as_integers(tmp_path):
    table = pd.DataFrame({s.ACCIDENTS_NEAR: [3.0, np.nan], s.RECORDS: [2.0, 5.0]})
    cells = _cells(mio.write_table(table, tmp_path / "t.csv"))
    assert cells[1:] == [["3", "2"], ["", "5"]]


def test_every_cli_table_is_rounded(runner, tmp_path):
    items = str(ROOT / "data" / "items.geojson")
    settlements = str(ROOT / "data" / "settlements.geojson")
    _ok(
        runner.invoke(
            main, ["progress", *_SMALL, "--districts", SMALL_DISTRICTS, "-o", tmp_path / "p"]
        )
    )
    _ok(
        runner.invoke(
            main, ["accuracy", "--hazards", HAZARDS, "--items", items, "-o", tmp_path / "acc.csv"]
        )
    )
    _ok(
        runner.invoke(
            main, ["priorities", *_SMALL, "--settlements", settlements, "-o", tmp_path / "pri.csv"]
        )
    )
    tables = [
        tmp_path / "p" / "progress.csv",
        tmp_path / "p" / "forecast.csv",
        tmp_path / "pri.csv",
    ]
    tables += [
        tmp_path / "acc.csv",
        tmp_path / "acc_by_district.csv",
        tmp_path / "acc_by_source.csv",
    ]
    for table in tables:
        for column, most in _max_decimals(table).items():
            want = outputs.decimals(column)
            if want is not None:
                assert most <= want, (table.name, column, most)


def test_a_symlink_at_the_output_name_is_never_followed(tmp_path):
    victim = tmp_path / "elsewhere.txt"
    victim.write_text("not minemap's")
    (tmp_path / "out").mkdir()
    link = tmp_path / "out" / "h.geojson"
    link.symlink_to(victim)
    with pytest.raises(OutputExistsError):
        mm.write_layer(_layer(), link)
    mm.write_layer(_layer(), link, overwrite=True)
    assert victim.read_text() == "not minemap's"
    assert not link.is_symlink()
    assert pyogrio.read_dataframe(link)[s.HAZARD_ID].tolist() == ["A", "B"]


def test_a_killed_writers_leftover_folder_goes_with_the_next_write(tmp_path):
    left = tmp_path / ".h.geojson.minemap-0badf00d"
    left.mkdir()
    (left / "h.geojson").write_text('{"type": "FeatureCol')  # cut off by the kill
    mm.write_layer(_layer(), tmp_path / "h.geojson")
    assert _names(tmp_path) == ["h.geojson"]


def test_a_live_writers_folder_is_left_alone(tmp_path):
    import fcntl

    live = tmp_path / ".h.shp.minemap-0badf00d"
    (live / outputs._OLD).mkdir(parents=True)
    (live / outputs._OLD / "h.shp").write_text("another writer's old set")
    fd = os.open(live, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        assert outputs.recover(tmp_path / "h.shp") == []
        assert (live / outputs._OLD / "h.shp").exists()
    finally:
        os.close(fd)
    assert outputs.recover(tmp_path / "h.shp") == [
        f"{tmp_path / 'h.shp'}: undid an interrupted write (the previous set is back)"
    ]
    assert _names(tmp_path) == ["h.shp"]


def _fail_move(monkeypatch, *, replace: bool, at: int):
    """Make the ``at``-th move of a part (of that kind) fail with EIO."""
    original, calls, wanted = outputs._move_part, [], replace

    def failing(src, dst, *, replace: bool):
        if replace == wanted:
            calls.append(src)
            if len(calls) == at:
                raise OSError(errno.EIO, os.strerror(errno.EIO), str(dst))
        return original(src, dst, replace=replace)

    monkeypatch.setattr(outputs, "_move_part", failing)


def _old_shapefile(folder: Path) -> dict[str, bytes]:
    _old_set(folder)
    return {p.name: p.read_bytes() for p in folder.iterdir()}


@pytest.mark.parametrize(
    ("replace", "at"), [(False, 1), (False, 3), (True, 1), (True, 3), (True, 5)]
)
def test_a_failure_while_replacing_a_set_puts_the_old_set_back(tmp_path, monkeypatch, replace, at):
    # replace=False moves are the old set going aside; replace=True the new set going in.
    before = _old_shapefile(tmp_path)
    _fail_move(monkeypatch, replace=replace, at=at)
    with pytest.raises(OutputFileError, match=r"input/output error.*existing file is unchanged"):
        mm.write_layer(_layer(("NEW",)), tmp_path / "h.shp", overwrite=True)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


@pytest.mark.parametrize("at", [1, 2, 5])
def test_a_failure_while_placing_a_new_set_leaves_nothing(tmp_path, monkeypatch, at):
    _fail_move(monkeypatch, replace=False, at=at)
    with pytest.raises(OutputFileError, match=r"input/output error.*nothing was written"):
        mm.write_layer(_layer(), tmp_path / "h.shp")
    assert _names(tmp_path) == []


def test_an_old_set_that_cannot_be_put_back_yet_is_kept_for_the_next_write(tmp_path, monkeypatch):
    before = _old_shapefile(tmp_path)
    _fail_move(monkeypatch, replace=True, at=2)
    replace = os.replace

    def stuck(src, dst, *args, **kwargs):
        if Path(src).parent.name == outputs._OLD:
            raise OSError(errno.EIO, os.strerror(errno.EIO), str(src))
        return replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", stuck)
    with pytest.raises(OutputFileError, match=r"previous files are kept in .*\.h\.shp\.minemap-"):
        mm.write_layer(_layer(("NEW",)), tmp_path / "h.shp", overwrite=True)
    assert not (tmp_path / "h.shp").exists()  # neither set is there: no mix
    monkeypatch.undo()
    assert outputs.recover(tmp_path / "h.shp") == [
        f"{tmp_path / 'h.shp'}: undid an interrupted write (the previous set is back)"
    ]
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_no_module_writes_files_its_own_way():
    # One writer: a module that renames or makes temporary files itself bypasses the
    # checks, fsyncs, umask and no-replace rule of minemap.outputs.
    own_way = re.compile(
        r"os\.(replace|rename)\(|shutil\.move\(|mkstemp\(|NamedTemporaryFile\(|\.to_file\("
    )
    found = []
    for module in sorted((ROOT / "minemap").rglob("*.py")):
        if module.name == "outputs.py" or "vendor" in module.parts:
            continue
        for number, line in enumerate(module.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#")[0]
            if own_way.search(code) and not code.lstrip().startswith(">>>"):
                found.append(f"{module.relative_to(ROOT)}:{number}: {line.strip()}")
    assert found == []
