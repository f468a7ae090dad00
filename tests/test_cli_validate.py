"""`minemap validate` and the reading options every command shares (CliRunner)."""

from __future__ import annotations

import csv
import json
import shlex
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from click.testing import CliRunner

from minemap import schema as s
from minemap.cli import main

ROOT = Path(__file__).parent.parent
DATA = Path(__file__).parent / "data"
BAD = DATA / "bad"
FORMATS = DATA / "formats"
HAZARDS = str(DATA / "small_hazards.geojson")
RELEASES = str(DATA / "small_releases.geojson")
DISTRICTS = str(DATA / "small_districts.geojson")

with (BAD / "EXPECTED.csv").open(encoding="utf-8") as _f:
    EXPECTED = list(csv.DictReader(_f))


@pytest.fixture
def runner():
    return CliRunner()


def test_every_bad_file_in_the_corpus_is_listed():
    listed = {row["file"] for row in EXPECTED}
    present = {p.name for p in BAD.iterdir()} - {"EXPECTED.csv", "make_files.py"}
    assert listed == present


@pytest.mark.parametrize("row", EXPECTED, ids=[r["file"] for r in EXPECTED])
def test_bad_file_gives_its_message_and_exit_one(runner, row, monkeypatch):
    monkeypatch.chdir(ROOT)
    path = BAD / row["file"]
    result = runner.invoke(main, ["validate", *shlex.split(row["args"]), str(path)])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert row["expected"] in result.stdout + result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error")]
    if errors:  # an unreadable file: one line naming the file and the problem
        assert len(errors) == 1
        assert str(path) in errors[0]
        assert row["expected"] in errors[0]


def test_unreadable_and_readable_files_together(runner, tmp_path):
    result = runner.invoke(
        main, ["validate", str(BAD / "empty.geojson"), str(tmp_path / "none.gpkg"), HAZARDS]
    )
    assert result.exit_code == 1
    assert "the file is empty" in result.stderr
    assert "no such file" in result.stderr
    assert "hazards, 5 feature(s), 0 rejected" in result.stderr


def test_json_lists_every_problem_with_file_feature_rule_and_severity(runner):
    result = runner.invoke(
        main, ["validate", "--json", str(BAD / "bad_counts.geojson"), str(BAD / "empty.geojson")]
    )
    assert result.exit_code == 1
    problems = json.loads(result.stdout)
    assert {(p["rule"], p["severity"]) for p in problems} == {
        ("bad-count", "error"),
        ("unreadable-file", "error"),
    }
    counts = [p for p in problems if p["rule"] == "bad-count"]
    assert len(counts) == 2
    assert all(p["feature"] == "hazard_id H-1" and p["row"] == 1 for p in counts)


def test_warnings_alone_exit_zero(runner, tmp_path):
    frame = gpd.GeoDataFrame(
        {"hazard_id": ["A"], "mines_ap": [1], "mines_at": [0]},
        geometry=[shapely.Polygon([(46.9, 39.98, 5), (46.91, 39.98, 5), (46.91, 39.99, 5)])],
        crs="EPSG:4326",
    )
    path = tmp_path / "z.geojson"
    frame.to_file(path)
    result = runner.invoke(main, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    assert "warning: z-dropped" in result.stdout


def test_kind_is_guessed_and_can_be_forced(runner):
    result = runner.invoke(main, ["validate", HAZARDS, RELEASES, DISTRICTS])
    assert result.exit_code == 0, result.output
    assert "small_districts.geojson: districts" in result.stderr
    forced = runner.invoke(main, ["validate", "--kind", "hazards", DISTRICTS])
    assert forced.exit_code == 1
    assert "missing-column" in forced.stdout


def test_releases_are_checked_against_the_hazards_given(runner, tmp_path):
    far = gpd.GeoDataFrame(
        {"release_id": ["R-far"], "released_on": ["2022-01-03"], "method": ["cleared"]},
        geometry=[shapely.box(46.60, 39.60, 46.61, 39.61)],
        crs="EPSG:4326",
    )
    path = tmp_path / "far.geojson"
    far.to_file(path)
    result = runner.invoke(main, ["validate", HAZARDS, str(path)])
    assert result.exit_code == 0, result.output
    assert "release_id R-far: warning: outside-hazards" in result.stdout
    alone = runner.invoke(main, ["validate", str(path)])
    assert "outside-hazards" not in alone.stdout


def test_max_segment_is_configurable(runner):
    path = str(BAD / "long_segment.geojson")
    assert runner.invoke(main, ["validate", path]).exit_code == 1
    assert runner.invoke(main, ["validate", "--max-segment-km", "8", path]).exit_code == 0


def test_map_option_names_columns(runner, tmp_path):
    csv_path = FORMATS / "hazards_wkt.csv"
    without = runner.invoke(main, ["validate", "--crs", "EPSG:4326", str(csv_path)])
    assert without.exit_code == 1
    assert "no column mines_ap" in without.stdout
    assert "--map mines_ap=COLUMN" in without.stdout
    assert "mapping=" not in without.stdout  # the library's spelling stays in Python
    with_map = runner.invoke(
        main, ["validate", "--crs", "EPSG:4326", "--map", "mines_ap=ap_total", str(csv_path)]
    )
    assert with_map.exit_code == 0, with_map.output
    qualified = runner.invoke(
        main,
        ["validate", "--crs", "EPSG:4326", "--map", "hazards:mines_ap=AP_TOTAL", str(csv_path)],
    )
    assert qualified.exit_code == 0, qualified.output


@pytest.mark.parametrize("value", ["mines_ap", "nonsense=AP", "mines_ap="])
def test_bad_map_is_a_usage_error(runner, value):
    result = runner.invoke(main, ["validate", "--map", value, HAZARDS])
    assert result.exit_code == 2
    assert "--map" in result.output


def test_layer_option_picks_a_geopackage_layer(runner, tmp_path):
    path = tmp_path / "two.gpkg"
    hz = gpd.read_file(HAZARDS)
    hz.to_file(path, layer="minefields")
    gpd.read_file(DISTRICTS).to_file(path, layer="boundaries", mode="a")
    refused = runner.invoke(main, ["validate", str(path)])
    assert refused.exit_code == 1
    assert "minefields" in refused.stderr
    assert "--layer" in refused.stderr
    chosen = runner.invoke(main, ["validate", "--layer", "minefields", str(path)])
    assert chosen.exit_code == 0, chosen.output
    assert "hazards, 5 feature(s)" in chosen.stderr


def test_validate_checks_every_layer_named_like_a_kind(runner, tmp_path):
    path = tmp_path / "all.gpkg"
    gpd.read_file(HAZARDS).to_file(path, layer="hazards")
    releases = gpd.read_file(RELEASES)
    releases.loc[0, s.METHOD] = "demined"  # an error in the second layer
    releases.to_file(path, layer="releases", mode="a")
    result = runner.invoke(main, ["validate", str(path)])
    assert result.exit_code == 1
    assert "hazards: read 5, kept 5, rejected 0" in result.stderr
    assert "releases: read 3, kept 2, rejected 1" in result.stderr
    assert "unknown-value: method 'demined'" in result.stdout
    one = runner.invoke(main, ["validate", "--kind", "hazards", str(path)])
    assert one.exit_code == 0, one.output
    assert "releases:" not in one.stderr


@pytest.mark.parametrize(
    ("properties", "point", "kind"),
    [
        ({"ID": "R1", "Date": "2022-05-01", "Type": "cleared"}, False, "releases"),
        ({"ID": "I1", "Date": "2022-05-01", "Type": "AP"}, True, "items"),
        ({"ID": "H1", "AP": 3, "AT": 0, "Date": "2022-05-01", "Type": "CHA"}, False, "hazards"),
        ({"hazard_id": "H1", "mines_ap": 3, "district": "Aghdam"}, False, "hazards"),
        ({"Name": "Aghdam"}, False, "districts"),
    ],
)
def test_kind_is_guessed_from_aliases_values_and_geometry(
    runner, tmp_path, properties, point, kind
):
    geometry = shapely.Point(46.905, 39.985) if point else shapely.box(46.9, 39.98, 46.91, 39.99)
    path = tmp_path / "layer.geojson"
    gpd.GeoDataFrame([properties], geometry=[geometry], crs="EPSG:4326").to_file(path)
    result = runner.invoke(main, ["validate", str(path)])
    assert f"layer.geojson: {kind}, 1 feature(s)" in result.stderr, result.output


def test_remaining_reads_a_geopackage_with_a_layer_per_kind(runner, tmp_path):
    path = tmp_path / "all.gpkg"
    gpd.read_file(HAZARDS).to_file(path, layer="hazards")
    gpd.read_file(RELEASES).to_file(path, layer="releases", mode="a")
    gpd.read_file(DISTRICTS).to_file(path, layer="districts", mode="a")
    result = runner.invoke(
        main,
        ["remaining", "--hazards", str(path), "--releases", str(path), "--districts", str(path)],
    )
    assert result.exit_code == 0, result.output
    assert "hazards: read 5, kept 5, rejected 0" in result.stderr
    assert "districts: read 2, kept 2, rejected 0" in result.stderr


def test_remaining_takes_csv_with_crs_and_map(runner, tmp_path):
    hz = gpd.read_file(HAZARDS)
    table = hz.drop(columns="geometry").rename(columns={s.MINES_AP: "AP_COUNT"})
    table["wkt"] = hz.to_crs("EPSG:32638").geometry.to_wkt()
    path = tmp_path / "hz.csv"
    table.to_csv(path, index=False)
    refused = runner.invoke(main, ["remaining", "--hazards", str(path), "--releases", RELEASES])
    assert refused.exit_code == 1
    assert "pass --crs with the one its coordinates are in" in refused.stderr
    result = runner.invoke(
        main,
        [
            "remaining",
            "--hazards",
            str(path),
            "--releases",
            RELEASES,
            "--crs",
            "EPSG:32638",
            "--map",
            "mines_ap=AP_COUNT",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "hazards: read 5, kept 5, rejected 0" in result.stderr


def test_commands_refuse_then_set_aside_with_rejects(runner, tmp_path):
    hz = gpd.read_file(HAZARDS)
    hz.loc[1, s.DISTRICT] = "Atlantis"
    path, out, rejects = tmp_path / "hz.geojson", tmp_path / "r.csv", tmp_path / "rej.csv"
    hz.to_file(path)
    refused = runner.invoke(
        main, ["remaining", "--hazards", str(path), "--releases", RELEASES, "--by-district", out]
    )
    assert refused.exit_code == 1
    assert "unknown-district" in refused.stderr
    assert not out.exists()
    went_on = runner.invoke(
        main,
        [
            *("remaining", "--hazards", str(path), "--releases", RELEASES),
            *("--by-district", str(out), "--rejects", str(rejects)),
        ],
    )
    assert went_on.exit_code == 0, went_on.output
    assert "hazards: read 5, kept 4, rejected 1" in went_on.stderr
    assert "closest known" in rejects.read_text(encoding="utf-8")


def test_a_districts_layer_makes_its_names_known(runner, tmp_path):
    hz = gpd.read_file(HAZARDS)
    hz[s.DISTRICT] = "Atlantis"
    ds = gpd.read_file(DISTRICTS)
    ds.loc[0, s.DISTRICT] = "Atlantis"
    hz_path, ds_path = tmp_path / "hz.geojson", tmp_path / "ds.geojson"
    hz.to_file(hz_path)
    ds.to_file(ds_path)
    result = runner.invoke(main, ["validate", "--districts", str(ds_path), str(hz_path)])
    assert "unknown-district" not in result.stdout
    alone = runner.invoke(main, ["validate", str(hz_path)])
    assert alone.exit_code == 1
    assert "unknown-district" in alone.stdout


def test_a_bad_crs_is_a_usage_error(runner):
    result = runner.invoke(main, ["validate", "--crs", "EPSG:99999", HAZARDS])
    assert result.exit_code == 2
    assert "is not a coordinate reference system" in result.output


def test_reading_options_reach_every_command_that_reads_layers(runner):
    for command in ("remaining", "map", "validate"):
        help_text = runner.invoke(main, [command, "--help"]).output
        for option in ("--layer", "--crs", "--map"):
            assert option in help_text, (command, option)


def test_validate_districts_honours_the_map_option_and_says_when_it_cannot_use_the_file(
    runner, tmp_path
):
    hz = gpd.read_file(HAZARDS)
    hz[s.DISTRICT] = "Atlantis"
    ds = gpd.read_file(DISTRICTS).rename(columns={s.DISTRICT: "RAYON_AD"})
    ds.loc[0, "RAYON_AD"] = "Atlantis"
    hz_path, ds_path = tmp_path / "hz.geojson", tmp_path / "rayonlar.geojson"
    hz.to_file(hz_path)
    ds.to_file(ds_path)
    mapped = runner.invoke(
        main,
        [
            "validate",
            "--districts",
            str(ds_path),
            "--map",
            "districts:district=RAYON_AD",
            str(hz_path),
        ],
    )
    assert mapped.exit_code == 0, mapped.output
    assert "unknown-district" not in mapped.stdout  # the districts' names are known
    # Without the mapping the file cannot serve: said, not silently dropped.
    unmapped = runner.invoke(main, ["validate", "--districts", str(ds_path), str(hz_path)])
    assert unmapped.exit_code == 1
    said = [line for line in unmapped.stderr.splitlines() if str(ds_path) in line]
    assert any("cannot be used as districts" in line for line in said), unmapped.stderr
    assert any("--map districts:district=COLUMN" in line for line in said), unmapped.stderr
