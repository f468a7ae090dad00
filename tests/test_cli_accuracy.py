"""`minemap accuracy` (CliRunner)."""

from __future__ import annotations

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


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def items(tmp_path) -> Path:
    """Three AP mines inside each small hazard and one just west of the first."""
    hz = gpd.read_file(HAZARDS)
    points, ids = [], []
    for geom in hz.geometry:
        c = geom.representative_point()
        points += [c, shapely.Point(c.x + 1e-5, c.y), shapely.Point(c.x, c.y + 1e-5)]
    minx, miny, _maxx, maxy = hz.geometry.iloc[0].bounds
    points.append(shapely.Point(minx - 0.0003, (miny + maxy) / 2))  # about 25 m west
    ids = [f"I-{i}" for i in range(len(points))]
    frame = gpd.GeoDataFrame(
        {
            s.ITEM_ID: ids,
            s.FOUND_ON: ["2022-05-01"] * len(ids),
            s.ITEM_TYPE: ["AP"] * len(ids),
        },
        geometry=points,
        crs="EPSG:4326",
    )
    path = tmp_path / "items.geojson"
    frame.to_file(path)
    return path


def test_accuracy_writes_per_record_and_rollups(runner, tmp_path, items):
    out = tmp_path / "acc.csv"
    result = runner.invoke(
        main, ["accuracy", "--hazards", HAZARDS, "--items", str(items), "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out)
    assert len(table) == 5
    assert table[s.HAZARD_ID].is_unique
    first = table.set_index(s.HAZARD_ID).loc["AGM-1"]
    # Its own three, the one west of it, and those of AGM-2 that fall in the overlap.
    assert first[s.DEVICES_NEAR] >= 4
    assert first[s.HIT_RATE] == pytest.approx((first[s.DEVICES_NEAR] - 1) / first[s.DEVICES_NEAR])
    by_district = pd.read_csv(tmp_path / "acc_by_district.csv")
    by_source = pd.read_csv(tmp_path / "acc_by_source.csv")
    assert by_district[s.RECORDS].sum() == 5
    assert "Handover map A" in by_source[s.SOURCE].tolist()
    assert "Handover map A" in result.stdout
    assert "items: read 16, kept 16" in result.stderr


def test_tolerance_and_releases_options(runner, tmp_path, items):
    out = tmp_path / "acc.csv"
    args = ["accuracy", "--hazards", HAZARDS, "--items", str(items), "--tolerance", "100"]
    result = runner.invoke(main, [*args, "--releases", RELEASES, "-o", str(out)])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out)
    assert s.SEARCHED_SHARE in table.columns
    assert table[s.SEARCHED_SHARE].notna().all()


def test_existing_output_is_refused_without_overwrite(runner, tmp_path, items):
    out = tmp_path / "acc.csv"
    out.write_text("keep")
    args = ["accuracy", "--hazards", HAZARDS, "--items", str(items), "-o", str(out)]
    result = runner.invoke(main, args)
    assert result.exit_code == 1
    assert "exists" in result.stderr
    assert "Traceback" not in result.output
    assert out.read_text() == "keep"
    assert runner.invoke(main, [*args, "--overwrite"]).exit_code == 0


def test_bad_items_file_is_one_clear_error(runner, tmp_path):
    bad = tmp_path / "items.geojson"
    bad.write_text("{ not json")
    result = runner.invoke(
        main, ["accuracy", "--hazards", HAZARDS, "--items", str(bad), "-o", str(tmp_path / "a.csv")]
    )
    assert result.exit_code == 1
    assert "items.geojson" in result.stderr
    assert "Traceback" not in result.output


def test_negative_tolerance_is_a_usage_error(runner, tmp_path, items):
    args = ["accuracy", "--hazards", HAZARDS, "--items", str(items), "--tolerance", "-1"]
    result = runner.invoke(main, [*args, "-o", str(tmp_path / "a.csv")])
    assert result.exit_code == 2


def test_html_option_writes_an_offline_map_with_the_layer(runner, tmp_path, items):
    out, page = tmp_path / "acc.csv", tmp_path / "acc.html"
    args = ["accuracy", "--hazards", HAZARDS, "--items", str(items), "--releases", RELEASES]
    result = runner.invoke(main, [*args, "-o", str(out), "--html", str(page)])
    assert result.exit_code == 0, result.output
    text = page.read_text(encoding="utf-8")
    assert "minemap-accuracy" in text
    # The devices found are on the map.
    assert "minemap-device" in text
    assert "device found outside its record" in text
    assert "<script src=" not in text
    assert "<img src=x" not in text


def test_records_without_a_shift_estimate_have_empty_cells_and_a_note(runner, tmp_path, items):
    """Three devices per record say nothing about a shift: empty, not 0, and why."""
    out = tmp_path / "acc.csv"
    result = runner.invoke(
        main, ["accuracy", "--hazards", HAZARDS, "--items", str(items), "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out, keep_default_na=False)
    for column in (s.OFFSET_M, s.OFFSET_BEARING_DEG, s.OFFSET_UNCERTAINTY_M):
        assert (table[column] == "").all(), column
    assert table[s.OFFSET_NOTE].str.startswith("too few devices").all()
    by_source = pd.read_csv(tmp_path / "acc_by_source.csv", keep_default_na=False)
    assert (by_source[s.RECORDS_WITH_OFFSET] == 0).all()
    assert (by_source[s.OFFSET_M] == "").all()
    assert "shift est." in result.stdout
