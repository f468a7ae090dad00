"""`minemap density` (CliRunner)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import rasterio
from click.testing import CliRunner

import minemap as mm
from minemap import schema as s
from minemap.cli import main

DATA = Path(__file__).parent / "data"
HAZARDS = str(DATA / "small_hazards.geojson")
RELEASES = str(DATA / "small_releases.geojson")
DISTRICTS = str(DATA / "small_districts.geojson")


@pytest.fixture
def runner():
    return CliRunner()


def test_density_writes_a_geotiff_that_adds_up(runner, tmp_path):
    out = tmp_path / "density.tif"
    args = ["density", "--hazards", HAZARDS, "--releases", RELEASES, "--districts", DISTRICTS]
    result = runner.invoke(main, [*args, "--cell-size", "100", "-o", str(out)])
    assert result.exit_code == 0, result.output
    rem = mm.remaining(
        mm.read_hazards(HAZARDS), mm.read_releases(RELEASES), mm.read_districts(DISTRICTS)
    )
    with rasterio.open(out) as src:
        assert src.res == (100.0, 100.0)
        assert src.crs.to_dict().get("proj") == "laea"
        band = src.read(1, masked=True)
    assert float(band.sum()) == pytest.approx(rem[s.REMAINING_MINES_EST].sum(), rel=5e-3)
    assert result.stdout.startswith("district,remaining_mines_est,table_remaining_mines_est")
    zones = pd.read_csv(io.StringIO(result.stdout)).set_index("district")
    table = mm.by_district(rem, districts=mm.read_districts(DISTRICTS)).set_index("district")
    assert zones["table_remaining_mines_est"].to_dict() == pytest.approx(
        table["remaining_mines_est"].round(1).to_dict(), abs=0.051
    )
    assert zones["remaining_mines_est"].sum() == pytest.approx(float(band.sum()), abs=0.2)
    assert "Aghdam" in zones.index


def test_as_of_changes_the_raster(runner, tmp_path):
    base = ["density", "--hazards", HAZARDS, "--releases", RELEASES, "--cell-size", "200"]
    early, late = tmp_path / "early.tif", tmp_path / "late.tif"
    assert runner.invoke(main, [*base, "--as-of", "2020-01-01", "-o", str(early)]).exit_code == 0
    assert runner.invoke(main, [*base, "-o", str(late)]).exit_code == 0
    with rasterio.open(early) as a, rasterio.open(late) as b:
        total_early = float(np.sum(a.read(1, masked=True)))
        total_late = float(np.sum(b.read(1, masked=True)))
    assert total_early > total_late


def test_cell_size_is_required_and_positive(runner, tmp_path):
    base = ["density", "--hazards", HAZARDS, "--releases", RELEASES, "-o", str(tmp_path / "d.tif")]
    assert runner.invoke(main, base).exit_code == 2
    assert runner.invoke(main, [*base, "--cell-size", "0"]).exit_code == 2
    result = runner.invoke(main, [*base, "--cell-size", "0.001"])
    assert result.exit_code == 2
    assert "choose a larger cell size (--cell-size)" in result.output


def test_missing_hazards_file_is_one_clear_error(runner, tmp_path):
    args = ["density", "--hazards", str(tmp_path / "nope.geojson"), "--releases", RELEASES]
    result = runner.invoke(main, [*args, "--cell-size", "100", "-o", str(tmp_path / "d.tif")])
    assert result.exit_code == 1
    assert "nope.geojson" in result.stderr
    assert "Traceback" not in result.output
