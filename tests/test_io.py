"""Readers and writers: aliases, CRS, formats, atomic writes, unreadable files."""

from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd
import pytest
import shapely

import minemap as mm
from minemap import io as mio
from minemap import schema as s
from minemap.errors import InputFileError, OutputExistsError, ValidationError

SQUARE = shapely.box(46.90, 39.98, 46.91, 39.99)


def _geojson(path, features):
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def _feature(props, geom=SQUARE):
    return {"type": "Feature", "properties": props, "geometry": shapely.geometry.mapping(geom)}


def test_aliases_map_case_insensitively(tmp_path):
    path = _geojson(tmp_path / "h.geojson", [_feature({"ID": " H-1 ", "AP": 3, "At": 1})])
    frame = mm.read_hazards(path)
    assert frame[s.HAZARD_ID].tolist() == ["H-1"]  # trimmed
    assert frame[s.MINES_AP].tolist() == [3]
    assert frame[s.MINES_AT].tolist() == [1]


def test_explicit_mapping_wins(tmp_path):
    path = _geojson(tmp_path / "h.geojson", [_feature({"ref": "A", "AP_COUNT": 7, "AT": 0})])
    frame = mm.read_hazards(path, mapping={s.HAZARD_ID: "ref", s.MINES_AP: "AP_COUNT"})
    assert frame[s.MINES_AP].tolist() == [7]


def test_projected_input_is_brought_to_wgs84(tmp_path):
    frame = gpd.GeoDataFrame(
        {"hazard_id": ["A"], "mines_ap": [1], "mines_at": [0]},
        geometry=[SQUARE],
        crs="EPSG:4326",
    ).to_crs("EPSG:32638")
    frame.to_file(tmp_path / "h.gpkg")
    read = mm.read_hazards(tmp_path / "h.gpkg")
    assert read.crs.equals("EPSG:4326")
    assert read.geometry.iloc[0].equals_exact(SQUARE, tolerance=1e-7)


@pytest.mark.parametrize("suffix", [".gpkg", ".geojson", ".shp"])
def test_round_trip(tmp_path, suffix):
    frame = gpd.GeoDataFrame(
        {
            "release_id": ["R1", "R2"],
            "released_on": pd.to_datetime(["2021-05-10", "2022-07-18"]),
            "method": ["cleared", "cancelled"],
            "items_ap": pd.array([3, 0], dtype="Int64"),
        },
        geometry=[SQUARE, shapely.box(46.92, 39.98, 46.93, 39.99)],
        crs="EPSG:4326",
    )
    path = mm.write_layer(frame, tmp_path / f"r{suffix}")
    back = mm.read_releases(path)
    assert back[s.RELEASE_ID].tolist() == ["R1", "R2"]
    assert back[s.RELEASED_ON].dt.strftime("%Y-%m-%d").tolist() == ["2021-05-10", "2022-07-18"]
    assert back[s.METHOD].tolist() == ["cleared", "cancelled"]
    # Shapefiles turn rings clockwise: compare normalised shapes.
    assert shapely.normalize(back.geometry.iloc[0]).equals_exact(
        shapely.normalize(SQUARE), tolerance=1e-9
    )


def test_writers_refuse_to_overwrite_and_leave_no_temporary_files(tmp_path):
    frame = gpd.GeoDataFrame({"district": ["A"]}, geometry=[SQUARE], crs="EPSG:4326")
    path = mm.write_layer(frame, tmp_path / "d.gpkg")
    with pytest.raises(OutputExistsError, match="--overwrite"):
        mm.write_layer(frame, path)
    mm.write_layer(frame, path, overwrite=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.gpkg"]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.geojson", None, "no such file"),
        ("empty.geojson", b"", "the file is empty"),
        (
            "truncated.geojson",
            b'{"type": "FeatureCollection", "features": [{"type": "Fea',
            "cannot",
        ),
        ("garbage.gpkg", bytes(range(256)) * 4, "cannot"),
        ("table.csv", b"a,b\n1,2\n", "no geometry"),
    ],
)
def test_unreadable_files_name_the_file_and_the_problem(tmp_path, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(InputFileError, match=message) as info:
        mm.read_hazards(path)
    assert str(path) in str(info.value)


def test_rejected_features_are_all_reported_and_nothing_is_lost(tmp_path):
    features = [
        _feature({"hazard_id": "A", "mines_ap": 1, "mines_at": 0}),
        _feature({"hazard_id": "A", "mines_ap": 2, "mines_at": 0}),
        _feature({"hazard_id": "B", "mines_ap": -1, "mines_at": 0}),
        _feature({"hazard_id": "C", "mines_ap": 1, "mines_at": 0}),
    ]
    path = _geojson(tmp_path / "h.geojson", features)
    with pytest.raises(ValidationError) as info:
        mm.read_hazards(path)
    rules = sorted(p.rule for p in info.value.problems)
    assert rules == ["bad-count", "duplicate-id", "duplicate-id"]
    loaded = mio.load_layers([path], "hazards")
    assert loaded.read == len(loaded.kept) + len(loaded.rejected) == 4
    assert loaded.kept[s.HAZARD_ID].tolist() == ["C"]
    assert loaded.rejected["problem"].str.len().gt(0).all()
    assert loaded.rejected["source_row"].tolist() == [1, 2, 3]


def test_ids_must_be_unique_across_files(tmp_path):
    a = _geojson(tmp_path / "a.geojson", [_feature({"hazard_id": "X", "AP": 1, "AT": 0})])
    b = _geojson(tmp_path / "b.geojson", [_feature({"hazard_id": "X", "AP": 1, "AT": 0})])
    loaded = mio.load_layers([a, b], "hazards")
    assert {p.file for p in loaded.errors} == {str(a), str(b)}
