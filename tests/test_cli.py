"""The command line, as a user runs it (click's CliRunner)."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner

from minemap import schema as s
from minemap.cli import main

DATA = Path(__file__).parent / "data"
HAZARDS = str(DATA / "small_hazards.geojson")
RELEASES = str(DATA / "small_releases.geojson")
DISTRICTS = str(DATA / "small_districts.geojson")


@pytest.fixture
def runner():
    return CliRunner()


def _inputs(*extra):
    return ["--hazards", HAZARDS, "--releases", RELEASES, "--districts", DISTRICTS, *extra]


def test_remaining_writes_layer_and_table_and_prints_the_table(runner, tmp_path):
    out, csv = tmp_path / "rem.gpkg", tmp_path / "d.csv"
    result = runner.invoke(main, ["remaining", *_inputs("-o", out, "--by-district", csv)])
    assert result.exit_code == 0, result.output
    assert "Aghdam" in result.stdout
    assert "TOTAL" in result.stdout
    assert "read 5, kept 5, rejected 0" in result.stderr
    table = pd.read_csv(csv)
    assert tuple(table.columns[:6]) == s.TABLE_COLUMNS
    assert table[s.DISTRICT].tolist() == ["Aghdam", "Fuzuli", s.UNASSIGNED]
    layer = gpd.read_file(out)
    assert set(layer[s.HAZARD_ID]) == set(gpd.read_file(HAZARDS)[s.HAZARD_ID])


def test_several_files_after_one_option(runner, tmp_path):
    extra = tmp_path / "more.geojson"
    more = gpd.read_file(RELEASES)
    more[s.RELEASE_ID] = more[s.RELEASE_ID] + "-b"
    more.to_file(extra)
    result = runner.invoke(
        main, ["remaining", "--hazards", HAZARDS, "--releases", RELEASES, str(extra)]
    )
    assert result.exit_code == 0, result.output
    assert "releases: read 6, kept 6" in result.stderr


def test_as_of_changes_the_answer(runner, tmp_path):
    early, late = tmp_path / "early.csv", tmp_path / "late.csv"
    runner.invoke(main, ["remaining", *_inputs("--as-of", "2021-01-01", "--by-district", early)])
    runner.invoke(main, ["remaining", *_inputs("--as-of", "2023-12-31", "--by-district", late)])
    before = pd.read_csv(early).set_index(s.DISTRICT)
    after = pd.read_csv(late).set_index(s.DISTRICT)
    assert before.loc["Aghdam", s.RELEASED_AREA_HA] == 0
    assert after.loc["Aghdam", s.RELEASED_AREA_HA] > 0


def test_refuses_to_overwrite_without_the_flag(runner, tmp_path):
    csv = tmp_path / "d.csv"
    csv.write_text("keep me")
    result = runner.invoke(main, ["remaining", *_inputs("--by-district", csv)])
    assert result.exit_code == 1
    assert "--overwrite" in result.stderr
    assert csv.read_text() == "keep me"
    result = runner.invoke(main, ["remaining", *_inputs("--by-district", csv, "--overwrite")])
    assert result.exit_code == 0


def test_bad_file_is_one_line_and_exit_one(runner, tmp_path):
    bad = tmp_path / "broken.geojson"
    bad.write_text('{"type": "FeatureCollection", "features": [')
    result = runner.invoke(main, ["remaining", "--hazards", str(bad), "--releases", RELEASES])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    lines = [line for line in result.stderr.splitlines() if line.startswith("Error")]
    assert len(lines) == 1
    assert str(bad) in lines[0]


def _with_bad_feature(tmp_path):
    frame = gpd.read_file(HAZARDS)
    frame.loc[0, s.MINES_AP] = -5
    path = tmp_path / "hz.geojson"
    frame.to_file(path)
    return path


def test_rejected_features_stop_the_run_and_nothing_is_written(runner, tmp_path):
    path, out = _with_bad_feature(tmp_path), tmp_path / "rem.gpkg"
    result = runner.invoke(
        main, ["remaining", "--hazards", str(path), "--releases", RELEASES, "-o", str(out)]
    )
    assert result.exit_code == 1
    assert "AGM-1" in result.stderr
    assert "--rejects" in result.stderr
    assert not out.exists()


def test_rejects_file_takes_them_and_the_run_goes_on(runner, tmp_path):
    path, out, rejects = _with_bad_feature(tmp_path), tmp_path / "rem.gpkg", tmp_path / "rej.gpkg"
    result = runner.invoke(
        main,
        [
            "remaining",
            "--hazards",
            str(path),
            "--releases",
            RELEASES,
            "-o",
            str(out),
            "--rejects",
            str(rejects),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "read 5, kept 4, rejected 1" in result.stderr
    rejected = gpd.read_file(rejects)
    assert rejected[s.HAZARD_ID].tolist() == ["AGM-1"]
    assert "whole number" in rejected["problem"].iloc[0]
    assert "AGM-1" not in set(gpd.read_file(out)[s.HAZARD_ID])


def test_rejects_in_an_unknown_format_is_refused_before_reading(runner, tmp_path):
    path = _with_bad_feature(tmp_path)
    args = ["remaining", "--hazards", str(path), "--releases", RELEASES]
    result = runner.invoke(main, [*args, "--rejects", str(tmp_path / "rejects.txt")])
    assert result.exit_code == 2
    assert "--rejects" in result.stderr
    assert "read 5" not in result.stderr  # nothing was read first


def test_rejects_with_and_without_heights_go_to_a_flatgeobuf(runner, tmp_path):
    frame = gpd.read_file(HAZARDS)
    frame.loc[0, s.MINES_AP] = -5
    frame.loc[1, s.MINES_AT] = -1
    corners = list(frame.geometry.iloc[1].exterior.coords)
    frame.loc[1, "geometry"] = shapely.Polygon([(x, y, 300.0) for x, y in corners])
    path = tmp_path / "hz.geojson"
    frame.to_file(path)
    rejects = tmp_path / "rejects.fgb"
    result = runner.invoke(
        main,
        ["remaining", "--hazards", str(path), "--releases", RELEASES, "--rejects", str(rejects)],
    )
    assert result.exit_code == 0, result.output
    assert sorted(gpd.read_file(rejects)[s.HAZARD_ID]) == ["AGM-1", "AGM-2"]


def test_quiet_leaves_only_the_table(runner, tmp_path):
    result = runner.invoke(main, ["remaining", *_inputs(), "-q"])
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert result.stdout.startswith("district")


@pytest.mark.parametrize(
    "command",
    [
        ["progress", "-o", "{tmp}/progress"],
        ["report", "-o", "{tmp}/report.html"],
        ["density", "--cell-size", "500", "-o", "{tmp}/density.tif"],
        ["map", "-o", "{tmp}/map.html"],
    ],
)
def test_quiet_silences_every_command_that_reads_layers(runner, tmp_path, command):
    args = [part.format(tmp=tmp_path) for part in command]
    result = runner.invoke(main, [args[0], *_inputs(), *args[1:], "-q"])
    assert result.exit_code == 0, result.output
    assert result.stderr == ""


def test_quiet_keeps_the_problems(runner, tmp_path):
    bad = str(_with_bad_feature(tmp_path))
    result = runner.invoke(main, ["remaining", "--hazards", bad, "--releases", RELEASES, "-q"])
    assert result.exit_code == 1
    assert "bad-count" in result.stderr


def test_items_are_checked_against_the_districts_too(runner, tmp_path):
    items = gpd.GeoDataFrame(
        {"item_id": ["I1", "I2"], "found_on": ["2022-07-19"] * 2, "item_type": ["AP", "AT"]},
        geometry=[shapely.Point(46.9, 39.95), shapely.Point(39.95, 46.9)],  # the second swapped
        crs="EPSG:4326",
    )
    path = tmp_path / "items.geojson"
    items.to_file(path)
    args = ["density", *_inputs(), "--items", str(path), "--cell-size", "500"]
    result = runner.invoke(main, [*args, "-o", str(tmp_path / "d.tif")])
    assert result.exit_code == 1
    assert "item_id I2: error: lat-lon-swapped" in result.stderr


def test_validate_reports_and_exits(runner, tmp_path):
    ok = runner.invoke(main, ["validate", HAZARDS, RELEASES, DISTRICTS])
    assert ok.exit_code == 0, ok.output
    assert "hazards, 5 feature(s), 0 rejected" in ok.stderr
    assert "releases, 3 feature(s)" in ok.stderr
    bad = runner.invoke(main, ["validate", "--json", str(_with_bad_feature(tmp_path))])
    assert bad.exit_code == 1
    problems = json.loads(bad.stdout)
    assert problems[0]["rule"] == "bad-count"
    assert problems[0]["feature"] == "hazard_id AGM-1"


def test_validate_missing_file(runner, tmp_path):
    result = runner.invoke(main, ["validate", str(tmp_path / "nope.gpkg")])
    assert result.exit_code == 1
    assert "no such file" in result.stderr


def test_bad_usage_exits_two(runner):
    assert runner.invoke(main, ["remaining", "--releases", RELEASES]).exit_code == 2
    assert runner.invoke(main, ["remaining", *_inputs("--as-of", "May 2021")]).exit_code == 2


@pytest.mark.slow
def test_demo_writes_its_three_files(runner, tmp_path):
    result = runner.invoke(main, ["demo", "-o", str(tmp_path), "-q"])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(tmp_path / "districts.csv")
    assert tuple(table.columns[:6]) == s.TABLE_COLUMNS
    assert len(table) == 13  # 12 districts and (unassigned)
    mapped = table[s.MAPPED_AREA_HA]
    conserved = table[s.RELEASED_AREA_HA] + table[s.REMAINING_AREA_HA]
    # In the file too, to its rounding: each figure is rounded to 0.01 ha on its own
    # (test_outputs checks the exact frame conserves to 1e-9).
    assert ((mapped - conserved).abs() <= 0.01 + 1e-9 * mapped).all()
    assert "Aghdam" in result.stdout
    html = (tmp_path / "map.html").read_text(encoding="utf-8")
    assert "<script src=" not in html
    assert len(gpd.read_file(tmp_path / "remaining.gpkg")) > 0
