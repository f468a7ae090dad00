"""The batched feature checks."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from minemap import schema as s
from minemap.validate import ERROR, WARNING, check_layer, guess_kind

SQUARE = shapely.box(46.90, 39.98, 46.91, 39.99)
BOWTIE = shapely.Polygon([(46.90, 39.98), (46.91, 39.99), (46.91, 39.98), (46.90, 39.99)])


def _layer(rows, geoms):
    return gpd.GeoDataFrame(pd.DataFrame(rows), geometry=geoms, crs="EPSG:4326")


def _rules(problems):
    return [(p.feature, p.rule, p.severity) for p in problems]


def test_a_clean_layer_has_no_problem():
    frame = _layer({"hazard_id": ["A"], "mines_ap": [1], "mines_at": [2]}, [SQUARE])
    cleaned, problems, rejected = check_layer(frame, "hazards")
    assert problems == []
    assert not rejected.any()
    assert cleaned[s.MINES_AP].dtype == "Int64"


def test_every_problem_is_reported_in_one_pass():
    frame = _layer(
        {
            "hazard_id": ["A", "B", "C", "D", "E"],
            "mines_ap": [1.5, "x", 1, 1, 1],
            "mines_at": [0, 0, None, 0, 0],
        },
        [SQUARE, SQUARE, SQUARE, shapely.Point(46.9, 39.9), None],
    )
    _, problems, rejected = check_layer(frame, "hazards", source="h.geojson")
    assert sorted(_rules(problems)) == [
        ("hazard_id A", "bad-count", ERROR),
        ("hazard_id B", "bad-count", ERROR),
        ("hazard_id C", "missing-count", ERROR),
        ("hazard_id D", "geometry-type", ERROR),
        ("hazard_id E", "missing-geometry", ERROR),
    ]
    assert rejected.tolist() == [True] * 5
    assert all(p.file == "h.geojson" for p in problems)


def test_invalid_geometry_is_repaired_with_a_warning():
    frame = _layer({"hazard_id": ["A"], "mines_ap": [1], "mines_at": [0]}, [BOWTIE])
    cleaned, problems, rejected = check_layer(frame, "hazards")
    assert _rules(problems) == [("hazard_id A", "invalid-geometry", WARNING)]
    assert "Self-intersection" in problems[0].message
    assert not rejected.any()
    assert cleaned.geometry.iloc[0].is_valid


def test_release_dates_methods_and_future():
    frame = _layer(
        {
            "release_id": ["R1", "R2", "R3", "R4"],
            "released_on": ["2022-07-18", "18/07/2022x", "2999-01-01", "2022-01-03"],
            "method": ["Cleared", "cleared", "cleared", "demined"],
        },
        [SQUARE] * 4,
    )
    cleaned, problems, _ = check_layer(frame, "releases", today=dt.date(2026, 11, 22))
    assert sorted(_rules(problems)) == [
        ("release_id R2", "bad-date", ERROR),
        ("release_id R3", "future-date", ERROR),
        ("release_id R4", "unknown-value", ERROR),
    ]
    assert cleaned[s.METHOD].iloc[0] == "cleared"


def test_coordinates_outside_the_globe_are_errors():
    frame = _layer({"district": ["X"]}, [shapely.box(4690, 3998, 4691, 3999)])
    _, problems, _ = check_layer(frame, "districts")
    assert _rules(problems) == [("district X", "coordinates-out-of-range", ERROR)]


def test_district_spellings_become_keys():
    frame = _layer({"district": ["Agdam District", "Qubadlı", "Atlantis"]}, [SQUARE] * 3)
    cleaned, _, _ = check_layer(frame, "districts")
    assert cleaned[s.DISTRICT].tolist() == ["Aghdam", "Gubadli", "Atlantis"]


def test_missing_required_column_rejects_the_layer():
    frame = _layer({"hazard_id": ["A"]}, [SQUARE])
    _, problems, rejected = check_layer(frame, "hazards")
    assert problems[0].rule == "missing-column"
    assert "mines_ap" in problems[0].message
    assert rejected.all()


@pytest.mark.parametrize(
    ("columns", "kind"),
    [
        (["hazard_id", "mines_ap"], "hazards"),
        (["release_id", "released_on", "method"], "releases"),
        (["district", "name_az"], "districts"),
        (["foo"], None),
    ],
)
def test_guess_kind(columns, kind):
    assert guess_kind(columns) == kind


def test_items_are_points_with_known_types():
    frame = _layer(
        {
            "item_id": ["I1", "I2", "I3"],
            "found_on": ["2022-07-19", "2022-07-20", "2022-07-21"],
            "item_type": ["ap", "PMN-2", "UXO"],
        },
        [shapely.Point(46.9, 39.98), shapely.Point(46.91, 39.98), SQUARE],
    )
    cleaned, problems, _ = check_layer(frame, "items", today=dt.date(2026, 11, 22))
    assert sorted(_rules(problems)) == [
        ("item_id I2", "unknown-value", ERROR),
        ("item_id I3", "geometry-type", ERROR),
    ]
    assert cleaned[s.ITEM_TYPE].iloc[0] == "AP"
