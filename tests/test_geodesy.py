"""Projections and areas on the ellipsoid."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from minemap import datasets, geodesy


@pytest.mark.parametrize("workers", [1, 2])
def test_project_matches_geopandas_on_one_or_many_threads(monkeypatch, workers):
    monkeypatch.setattr(geodesy, "_PROJECT_CHUNK", 100)  # several tasks on the sample
    hazards = datasets.hazards()
    crs = geodesy.equal_area_crs(hazards.total_bounds)
    expected = hazards.geometry.to_crs(crs).to_numpy()
    got = geodesy.project(hazards.geometry.to_numpy(), hazards.crs, crs, workers=workers)
    assert len(got) == len(expected)
    assert np.array_equal(shapely.get_coordinates(got), shapely.get_coordinates(expected))
    # And back again, to the input within 1e-8° (PROJ's inverse of the ellipsoidal
    # Lambert azimuthal uses a series for the authalic latitude: about 1 mm).
    back = geodesy.project(got, crs, "EPSG:4326", workers=workers)
    original = shapely.get_coordinates(hazards.geometry.to_numpy())
    assert np.abs(shapely.get_coordinates(back) - original).max() < 1e-8


def test_project_leaves_its_input_alone_and_keeps_missing_geometries():
    square = shapely.box(46.9, 39.9, 46.91, 39.91)
    geoms = np.array([square, None, shapely.Polygon()], dtype=object)
    crs = geodesy.equal_area_crs(square.bounds)
    out = geodesy.project(geoms, "EPSG:4326", crs)
    assert geoms[0] is square
    assert square.bounds == (46.9, 39.9, 46.91, 39.91)
    assert out[1] is None
    assert out[2].is_empty
    expected = gpd.GeoSeries([square], crs="EPSG:4326").to_crs(crs).iloc[0]
    assert shapely.equals_exact(out[0], expected, tolerance=0)
