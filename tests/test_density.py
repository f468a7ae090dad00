"""minemap.density: conservation, the GeoTIFF round trip and zonal sums."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import rasterio
import shapely
from affine import Affine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import minemap as mm
from minemap import schema as s
from minemap.density import NODATA, density, read_density, spread, write_density, zonal_sums
from tests.common import LAEA, box, districts, examples, hazards, releases

ROOT = Path(__file__).parent.parent


def _rect(draw_x, draw_y, w, h):
    return box(draw_x, draw_y, draw_x + w, draw_y + h)


rects = st.builds(
    _rect,
    st.floats(0, 2000),
    st.floats(0, 2000),
    st.floats(5, 800),
    st.floats(5, 800),
)


@settings(max_examples=examples(40), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    hz=st.lists(rects, min_size=1, max_size=6),
    rel=st.lists(rects, max_size=4),
    mines=st.lists(st.integers(0, 5000), min_size=6, max_size=6),
    cell=st.sampled_from([37.0, 100.0, 250.0, 5000.0, 1e6]),  # cells far larger too
)
def test_band_1_adds_up_to_remaining_mines(hz, rel, mines, cell):
    hzf = hazards(*hz, ap=mines[: len(hz)], at=[3] * len(hz))
    relf = releases(*rel) if rel else releases()
    rem = mm.remaining(hzf, relf)
    grid = density(hzf, relf, cell_size_m=cell, remaining=rem)
    expected = rem[s.REMAINING_MINES_EST].sum()
    assert grid.mines.sum() == pytest.approx(expected, rel=5e-3, abs=1e-3)
    assert grid.total_mines_est == pytest.approx(expected)
    assert (grid.mines >= 0).all()


def test_cells_far_larger_than_the_hazards_keep_their_mines():
    """One 20 m x 20 m record in a 10 km cell: the cell holds its mines, it is not nodata."""
    hz = hazards(box(100, 100, 120, 120), ap=[50], at=[0])
    grid = density(hz, releases(), cell_size_m=10_000)
    assert grid.mines.sum() == pytest.approx(50.0)
    per_ha = grid.bands[1][grid.bands[1] != NODATA]
    assert per_ha.sum() == pytest.approx(50.0 / 10_000)  # mines per ha of the cells


def test_spread_gives_exact_cell_shares():
    # A 150 x 100 m piece on a 100 m grid: cells get 100x100, 50x100 of 15,000 m².
    transform = Affine(100, 0, 0, 0, -100, 200)
    values, cover = spread(np.array([box(0, 0, 150, 100)]), np.array([300.0]), transform, 2, 2)
    np.testing.assert_allclose(values, [[0, 0], [200, 100]])
    np.testing.assert_allclose(cover, [[0, 0], [10_000, 5_000]])


def test_known_answer_density_and_per_hectare():
    # 200 mines on a 200 x 100 m record, the east half cleared: 100 mines in one 100 m cell.
    hz = hazards(box(0, 0, 200, 100), ap=[200])
    rel = releases(box(100, -10, 250, 110))
    grid = density(hz, rel, cell_size_m=100, crs=LAEA)
    assert grid.bands.shape == (2, 1, 2)
    assert grid.bands[0].tolist() == [[100.0, NODATA]]
    assert grid.bands[1, 0, 0] == pytest.approx(100.0)  # a 100 m cell is 1 ha
    assert grid.transform.a == 100
    assert grid.transform.e == -100


def test_items_band_counts_devices_found_by_the_as_of_day():
    hz = hazards(box(0, 0, 200, 100))
    it = gpd.GeoDataFrame(
        {
            s.ITEM_ID: ["a", "b", "c"],
            s.FOUND_ON: pd.to_datetime(["2022-01-01", "2022-01-02", "2023-01-01"]),
            s.ITEM_TYPE: ["AP", "AT", "AP"],
        },
        geometry=shapely.points([(10, 10), (20, 20), (150, 50)]),
        crs=hz.crs,
    )
    grid = density(hz, releases(), cell_size_m=100, items=it, as_of="2022-12-31", crs=LAEA)
    assert grid.names[-1] == "devices_found"
    assert grid.bands[2].tolist() == [[2.0, 0.0]]


def test_geotiff_round_trip_keeps_crs_transform_nodata_dtype_and_tiling(tmp_path):
    hz = hazards(box(0, 0, 700, 300), box(900, 900, 1300, 1000), ap=[500, 40])
    grid = density(hz, releases(box(0, 0, 100, 300)), cell_size_m=50, crs=LAEA)
    path = write_density(grid, tmp_path / "d.tif")
    with rasterio.open(path) as src:
        assert src.count == 2
        assert src.dtypes == ("float32", "float32")
        assert src.nodata == NODATA
        assert src.profile["tiled"]
        assert src.block_shapes[0] == (256, 256)
        assert src.compression.name.lower() == "deflate"
        assert src.transform == grid.transform
        assert pyproj.CRS(src.crs.to_wkt()).equals(grid.crs)
        assert src.descriptions[0] == "remaining_mines_est"
        assert (src.res[0], src.res[1]) == (50.0, 50.0)
    back = read_density(path)
    np.testing.assert_array_equal(back.bands, grid.bands)
    assert back.total_mines_est == pytest.approx(grid.total_mines_est)
    with pytest.raises(mm.OutputExistsError):
        write_density(grid, path)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp left


def test_zonal_sums_match_the_by_district_table_on_aligned_districts():
    # District boundaries on cell edges: the read-back is exact.
    hz = hazards(box(0, 0, 400, 200), box(300, 100, 800, 300), ap=[400, 250], at=[10, 0])
    ds = districts(["West", "East"], [box(-1000, -1000, 500, 1000), box(500, -1000, 2000, 1000)])
    rel = releases(box(0, 0, 100, 200))
    rem = mm.remaining(hz, rel, ds)
    table = mm.by_district(rem, districts=ds).set_index(s.DISTRICT)
    grid = density(hz, rel, ds, cell_size_m=50, remaining=rem, crs=LAEA)
    zones = zonal_sums(grid, ds).set_index(s.DISTRICT)
    for name in ("West", "East"):
        assert zones.loc[name, s.REMAINING_MINES_EST] == pytest.approx(
            table.loc[name, s.REMAINING_MINES_EST], rel=1e-5
        )


def test_sample_zonal_sums_are_close_to_the_table(tmp_path):
    from minemap import datasets

    hz, rel, ds = datasets.hazards(), datasets.releases(), datasets.districts()
    rem = mm.remaining(hz, rel, ds)
    grid = density(hz, rel, ds, cell_size_m=250, remaining=rem)
    back = read_density(write_density(grid, tmp_path / "d.tif"))
    assert back.mines.sum() == pytest.approx(rem[s.REMAINING_MINES_EST].sum(), rel=5e-3)
    zones = zonal_sums(back, ds).set_index(s.DISTRICT)[s.REMAINING_MINES_EST]
    table = mm.by_district(rem, districts=ds).set_index(s.DISTRICT)[s.REMAINING_MINES_EST]
    # Cells are assigned by their centre: boundary cells move a little between neighbours.
    big = table[table > 1000].index
    np.testing.assert_allclose(zones[big], table[big], rtol=0.02)
    assert zones.sum() == pytest.approx(table.sum(), rel=5e-3)


def test_bad_cell_size_and_huge_grids_are_refused():
    hz = hazards(box(0, 0, 100_000, 100_000))
    with pytest.raises(ValueError, match="cell size"):
        density(hz, releases(), cell_size_m=0)
    with pytest.raises(ValueError, match=r"larger cell size \(cell_size_m=\.\.\.\)"):
        density(hz, releases(), cell_size_m=0.01)


def test_density_layer_is_an_inlined_png_over_the_right_place(tmp_path):
    import base64

    from minemap.render.density_layer import density_image, density_layer
    from minemap.render.offline import OfflineMap

    hz = hazards(box(0, 0, 2000, 1000), box(3000, 0, 3500, 500), ap=[1000, 4000])
    grid = density(hz, releases(), cell_size_m=100, crs=LAEA)
    uri, bounds, breaks = density_image(grid)
    assert uri.startswith("data:image/png;base64,")
    assert base64.b64decode(uri.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    (south, west), (north, east) = bounds
    # The grid spans 0..3500 m east and 0..1000 m north of 0°N 0°E.
    assert west == pytest.approx(0, abs=2e-4)
    assert east == pytest.approx(0.03144, abs=3e-4)
    assert south == pytest.approx(0, abs=2e-4)
    assert north == pytest.approx(0.00904, abs=3e-4)
    assert breaks == sorted(breaks)
    m = OfflineMap(tiles=None)
    layer = density_layer(grid, show=True)
    layer.element.add_to(m)
    page = m.get_root().render()
    assert "L.imageOverlay(" in page
    assert "data:image/png;base64," in page
    assert len(layer.legend) >= 1
