"""The command line, as a user runs it (click's CliRunner)."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
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


def _strip_example(tmp_path):
    """One hazard and one strip released across it, drawn in UTM 38N (the issue's example).

    The strip is cut along the hazard's own vertices: its new corners lie on the
    hazard's edges, which longitude/latitude cannot hold exactly.
    """
    from tests.common import UTM38N

    hazard = shapely.Polygon(
        [
            (667419.7, 4448147.92),
            (666949.37, 4448221.28),
            (666829.79, 4448153.19),
            (666203.71, 4447923.08),
            (667419.7, 4448147.92),
        ]
    )
    half = shapely.Polygon(
        [(667150, 4447000), (667500, 4447000), (667500, 4449000), (667100, 4449000)]
    )
    strip = shapely.intersection(hazard, half)
    hz = gpd.GeoDataFrame(
        {"hazard_id": ["AGM-7"], "mines_ap": [30], "mines_at": [0]}, geometry=[hazard], crs=UTM38N
    )
    rel = gpd.GeoDataFrame(
        {"release_id": ["R-1"], "released_on": ["2023-05-02"], "method": ["cleared"]},
        geometry=[strip],
        crs=UTM38N,
    )
    paths = tmp_path / "hazards.gpkg", tmp_path / "releases.gpkg"
    hz.to_file(paths[0])
    rel.to_file(paths[1])
    return paths


@pytest.mark.parametrize("suffix", [".gpkg", ".geojson", ".kml", ".shp"])
def test_remaining_polygons_are_valid_in_every_format(runner, tmp_path, suffix):
    import pyogrio

    hz, rel = _strip_example(tmp_path)
    out = tmp_path / f"remaining{suffix}"
    result = runner.invoke(
        main, ["remaining", "--hazards", str(hz), "--releases", str(rel), "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    back = pyogrio.read_dataframe(out)
    geoms = back.geometry.to_numpy()
    assert len(geoms) == 1
    assert shapely.is_valid(geoms).all(), shapely.is_valid_reason(geoms).tolist()
    assert np.isin(shapely.get_type_id(geoms), [3, 6]).all()
    assert not shapely.is_empty(geoms).any()
    # The figure written beside the polygon is the polygon's own area.
    from minemap import geodesy

    area = geodesy.geodesic_area_ha(geoms)[0]
    column = "remaining_area_ha" if suffix != ".shp" else "remaining_"
    assert area == pytest.approx(float(back[column].iloc[0]), rel=1e-6)


@pytest.mark.parametrize("suffix", [".gpkg", ".geojson", ".kml", ".csv"])
def test_rejects_are_written_valid_and_keep_the_geometry_as_read(runner, tmp_path, suffix):
    frame = gpd.read_file(HAZARDS)
    x0, y0, x1, y1 = frame.geometry.iloc[0].bounds
    bow_tie = shapely.Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1)])
    frame.loc[0, "geometry"] = bow_tie
    frame.loc[0, s.MINES_AP] = -5  # rejected for its count; its geometry is as read
    path = tmp_path / "hz.geojson"
    frame.to_file(path)
    rejects = tmp_path / f"rejects{suffix}"
    args = ["remaining", "--hazards", str(path), "--releases", RELEASES, "--rejects", str(rejects)]
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output
    if suffix == ".csv":
        table = pd.read_csv(rejects)
        geoms = shapely.from_wkt(table["wkt"].to_numpy())
    else:
        table = gpd.read_file(rejects)
        geoms = table.geometry.to_numpy()
    assert shapely.is_valid(geoms).all()
    assert geoms[0].geom_type == "MultiPolygon"  # the bow-tie's two triangles
    # The file still says what was read, to fix it at the source.
    as_read = shapely.from_wkt(table[s.GEOMETRY_AS_READ].iloc[0])
    assert shapely.normalize(as_read).equals_exact(shapely.normalize(bow_tie), 1e-9)


def test_rejects_as_a_shapefile_are_refused_before_the_run(runner, tmp_path):
    # A Shapefile holds one geometry type and rejects may mix them: refused up front (exit 2).
    rejects = tmp_path / "rejects.shp"
    args = ["remaining", "--hazards", HAZARDS, "--releases", RELEASES, "--rejects", str(rejects)]
    result = runner.invoke(main, args)
    assert result.exit_code == 2
    assert "'.shp' is not a format minemap writes rejected features in" in result.stderr
    assert not rejects.exists()


def test_releases_in_a_shapefile_and_its_kml_are_counted_once(runner, tmp_path):
    from tests.common import shapefile_and_kml, weekly_releases

    shp, kml = shapefile_and_kml(tmp_path)
    hazards = tmp_path / "hazards.geojson"
    gpd.GeoDataFrame(
        {"hazard_id": ["AGM-1"], "mines_ap": [40], "mines_at": [2]},
        geometry=[shapely.box(46.899, 39.979, 46.93, 39.99)],
        crs=4326,
    ).to_file(hazards)
    tables = []
    for releases in ([str(shp)], [str(shp), str(kml)]):
        csv = tmp_path / f"by_district_{len(releases)}.csv"
        args = ["remaining", "--hazards", str(hazards), "--releases", *releases]
        result = runner.invoke(main, [*args, "--by-district", str(csv)])
        assert result.exit_code == 0, result.output
        tables.append(pd.read_csv(csv))
    assert "releases: read 6, kept 3, rejected 0, 3 exact copies counted once" in result.stderr
    assert tables[1][s.RELEASED_AREA_HA].sum() == pytest.approx(
        tables[0][s.RELEASED_AREA_HA].sum(), rel=1e-12
    )
    assert tables[0][s.RELEASED_AREA_HA].sum() > 0
    # Another day for one of them in the KML: both set aside, and the summary says how much.
    changed = weekly_releases()
    changed.loc[1, "released_on"] = "2024-03-12"
    other = tmp_path / "other"
    other.mkdir()
    shp, kml = shapefile_and_kml(other, changed)
    args = ["remaining", "--hazards", str(hazards), "--releases", str(shp), str(kml)]
    result = runner.invoke(main, [*args, "--rejects", str(tmp_path / "rejects.gpkg")])
    assert result.exit_code == 0, result.output
    assert "releases: read 6, kept 2, rejected 2 (" in result.stderr
    assert " ha set aside), 2 exact copies counted once" in result.stderr


def _far_releases(tmp_path, n: int) -> Path:
    """``n`` releases far from every hazard of the small sample: n outside-hazards warnings."""
    far = gpd.GeoDataFrame(
        {
            "release_id": [f"R-far-{i}" for i in range(n)],
            "released_on": ["2022-01-03"] * n,
            "method": ["cancelled"] * n,
        },
        geometry=[
            shapely.box(46.60 + 0.01 * i, 39.60, 46.605 + 0.01 * i, 39.605) for i in range(n)
        ],
        crs=4326,
    )
    path = tmp_path / "far.geojson"
    far.to_file(path)
    return path


@pytest.mark.parametrize("command", [["remaining"], ["map", "-o", "{tmp}/map.html"]])
def test_many_warnings_of_one_rule_are_one_line_and_v_lists_them(runner, tmp_path, command):
    args = [part.format(tmp=tmp_path) for part in command]
    far = str(_far_releases(tmp_path, 12))
    run = [args[0], "--hazards", HAZARDS, "--releases", far, *args[1:], "--overwrite"]
    result = runner.invoke(main, run)
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stderr.splitlines() if "outside-hazards" in line]
    assert len(lines) == 1, result.stderr
    assert "12 features" in lines[0]
    assert "-v lists each one" in lines[0]
    every = runner.invoke(main, [*run, "-v"])
    lines = [line for line in every.stderr.splitlines() if "outside-hazards" in line]
    assert len(lines) == 12
    assert "release_id R-far-11" in lines[-1]


def test_validate_lists_errors_and_sums_up_warnings_by_rule(runner, tmp_path):
    far = str(_far_releases(tmp_path, 12))
    result = runner.invoke(main, ["validate", HAZARDS, far])
    assert result.exit_code == 0, result.output
    assert result.stdout.count("outside-hazards") == 1
    assert "12 features: warning: outside-hazards" in result.stdout
    assert "-v or --json lists each one" in result.stdout
    every = runner.invoke(main, ["validate", HAZARDS, far, "-v"])
    assert every.stdout.count("outside-hazards") == 12
    listed = json.loads(runner.invoke(main, ["validate", HAZARDS, far, "--json"]).stdout)
    assert len([p for p in listed if p["rule"] == "outside-hazards"]) == 12


@pytest.mark.slow
def test_the_demo_prints_no_wall_of_warnings(runner, tmp_path):
    result = runner.invoke(main, ["demo", "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    warned = [line for line in result.stderr.splitlines() if line.startswith("WARNING")]
    # The sample's releases outside every recorded hazard (land released around them,
    # as in the real figures) are one line.
    assert len(warned) == 1, result.stderr
    assert "2,162 features: warning: outside-hazards" in warned[0]
