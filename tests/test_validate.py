"""The batched feature checks."""

from __future__ import annotations

import datetime as dt
import struct
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
import shapely.affinity
from hypothesis import given, settings
from hypothesis import strategies as st

from minemap import gazetteer
from minemap import io as mio
from minemap import schema as s
from minemap.validate import ERROR, GEOMETRY_NOTE, RULES, WARNING, check_layer, guess_kind

SQUARE = shapely.box(46.90, 39.98, 46.91, 39.99)
BOWTIE = shapely.Polygon([(46.90, 39.98), (46.91, 39.99), (46.91, 39.98), (46.90, 39.99)])


def _square(i: int, size: float = 0.01) -> shapely.Polygon:
    return shapely.box(46.90 + 0.02 * i, 39.98, 46.90 + 0.02 * i + size, 39.98 + size)


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
        [_square(0), _square(1), _square(2), shapely.Point(46.9, 39.9), None],
    )
    _, problems, rejected = check_layer(frame, "hazards", source="h.geojson")
    assert sorted(_rules(problems)) == [
        ("hazard_id A", "bad-count", ERROR),
        ("hazard_id B", "bad-count", ERROR),
        ("hazard_id C", "unknown-count", WARNING),  # not known: not 0, not an error
        ("hazard_id D", "geometry-type", ERROR),
        ("hazard_id E", "missing-geometry", ERROR),
    ]
    assert rejected.tolist() == [True, True, False, True, True]
    assert all(p.file == "h.geojson" for p in problems)


def test_invalid_geometry_is_repaired_with_a_warning():
    frame = _layer({"hazard_id": ["A"], "mines_ap": [1], "mines_at": [0]}, [BOWTIE])
    cleaned, problems, rejected = check_layer(frame, "hazards")
    assert _rules(problems) == [("hazard_id A", "invalid-geometry", WARNING)]
    assert "Self-intersection" in problems[0].message
    assert not rejected.any()
    assert cleaned.geometry.iloc[0].is_valid


def test_a_collection_of_a_polygon_and_its_cut_lines_keeps_the_polygon_with_a_warning():
    """A GIS intersection along a hazard's own vertices gives the strip plus the lines and
    points where the edges touched: the polygon is the release, the rest has no area."""
    strip = _square(0)
    cut = shapely.intersection(_square(0, 0.02), shapely.box(46.90, 39.98, 46.91, 39.99))
    touching = shapely.GeometryCollection(
        [strip, shapely.LineString([(46.91, 39.98), (46.91, 39.99)]), shapely.Point(46.90, 39.98)]
    )
    nothing = shapely.GeometryCollection([shapely.LineString([(46.9, 39.9), (46.91, 39.9)])])
    frame = _layer(
        {
            "release_id": ["R1", "R2", "R3"],
            "released_on": ["2024-02-22"] * 3,
            "method": ["cleared"] * 3,
        },
        [touching, nothing, cut],
    )
    cleaned, problems, rejected = check_layer(frame, "releases", source="r.gpkg")
    assert sorted(_rules(problems)) == [
        ("release_id R1", "collection-polygons", WARNING),
        ("release_id R2", "geometry-type", ERROR),
    ]
    assert rejected.tolist() == [False, True, False]
    kept = cleaned.geometry.iloc[0]
    assert kept.geom_type in ("Polygon", "MultiPolygon")
    assert kept.is_valid
    assert kept.equals(strip)


def test_release_dates_methods_and_future():
    frame = _layer(
        {
            "release_id": ["R1", "R2", "R3", "R4"],
            "released_on": ["2022-07-18", "18/07/2022x", "2999-01-01", "2022-01-03"],
            "method": ["Cleared", "cleared", "cleared", "demined"],
        },
        [_square(i) for i in range(4)],
    )
    cleaned, problems, _ = check_layer(frame, "releases", today=dt.date(2026, 11, 22))
    assert sorted(_rules(problems)) == [
        ("release_id R2", "bad-date", ERROR),
        ("release_id R3", "future-date", ERROR),
        ("release_id R4", "unknown-value", ERROR),
    ]
    assert cleaned[s.METHOD].iloc[0] == "cleared"


@pytest.mark.parametrize(
    ("written", "day"),
    [
        ("2022-07-18", "2022-07-18"),
        ("2022-07-18T02:00:00+04:00", "2022-07-18"),  # the 17th in UTC: the day as written
        ("2022-07-18T23:30:00Z", "2022-07-18"),
        ("2022-07-18 10:00:00 +0400", "2022-07-18"),
        ("2022/7/8", "2022-07-08"),
        ("20220718", "2022-07-18"),
        ("12/07/2022", "ambiguous-date"),  # 12 July or 7 December: never guessed
        ("18.07.2022", "2022-07-18"),  # day-first: no month 18 (a note says so)
        ("2022-07", None),  # a month is not a day
        ("2022", None),
        ("44760", None),  # a spreadsheet's day number written as text
        ("2022-02-30", None),
        ("31.02.2022", None),
    ],
)
def test_dates_are_whole_days_as_written(written, day):
    frame = _layer(
        {"release_id": ["R1", "R2"], "released_on": [written, "2022-07-19"]},
        [_square(0), _square(1)],
    ).assign(method="cleared")
    cleaned, problems, _ = check_layer(frame, "releases", today=dt.date(2026, 11, 22))
    if day is None:
        assert _rules(problems) == [("release_id R1", "bad-date", ERROR)]
    elif day == "ambiguous-date":
        assert _rules(problems) == [("release_id R1", "ambiguous-date", ERROR)]
        assert "date_order=..." in problems[0].message  # the library's argument, not --date-order
    else:
        assert [p.rule for p in problems if p.severity == ERROR] == []
        assert cleaned[s.RELEASED_ON].dt.strftime("%Y-%m-%d").tolist() == [day, "2022-07-19"]


def test_dates_with_different_utc_offsets_in_one_column():
    # Offsets that differ (or are absent) in one column made pandas raise "Mixed timezones".
    frame = _layer(
        {
            "release_id": ["R1", "R2", "R3"],
            "released_on": ["2022-07-18T10:00:00+04:00", "2022-07-19T10:00:00Z", "2022-07-20"],
            "method": ["cleared"] * 3,
        },
        [_square(i) for i in range(3)],
    )
    cleaned, problems, _ = check_layer(frame, "releases", today=dt.date(2026, 11, 22))
    assert problems == []
    days = cleaned[s.RELEASED_ON].dt.strftime("%Y-%m-%d").tolist()
    assert days == ["2022-07-18", "2022-07-19", "2022-07-20"]


def test_coordinates_outside_the_globe_are_errors():
    frame = _layer({"district": ["X"]}, [shapely.box(4690, 3998, 4691, 3999)])
    _, problems, _ = check_layer(frame, "districts")
    assert _rules(problems) == [("district X", "coordinates-out-of-range", ERROR)]


with warnings.catch_warnings():  # shapely warns about NaN and infinite coordinates
    warnings.simplefilter("ignore", RuntimeWarning)
    HUGE_AND_NON_FINITE = shapely.from_wkt(
        [
            "POLYGON ((46.90 39.98, 1e305 39.98, 1e305 39.99, 46.90 39.98))",  # round() overflowed
            "POLYGON ((-1.7e308 39.98, 46.91 1.7e308, 46.91 39.99, -1.7e308 39.98))",
            "POLYGON ((46.90 39.98, inf 39.98, 46.91 39.99, 46.90 39.98))",
            "POLYGON ((46.90 39.98, 46.91 nan, 46.91 39.99, 46.90 39.98))",
            "POLYGON ((46.90 -inf, 46.91 39.98, 46.91 39.99, 46.90 -inf))",
        ]
    ).tolist()


def test_huge_and_non_finite_coordinates_are_out_of_range_errors():
    # Warnings are errors in the tests (as they are on a user's terminal: noise).
    n = len(HUGE_AND_NON_FINITE)
    frame = _layer({"district": [f"D{i}" for i in range(n + 1)]}, [*HUGE_AND_NON_FINITE, SQUARE])
    _, problems, rejected = check_layer(frame, "districts")
    assert rejected.tolist() == [True] * n + [False]
    assert [p.rule for p in problems] == ["coordinates-out-of-range"] * n
    assert "1e+305" in problems[0].message
    assert "inf" in problems[2].message
    assert "nan" not in problems[2].message
    for problem in problems:
        assert "is the CRS right?" in problem.message


def test_huge_and_non_finite_coordinates_in_a_shapefile_are_rejected(tmp_path):
    # GDAL writes no infinite or NaN coordinate: they are put into the .shp afterwards.
    marks = {12345.5: np.inf, 23456.5: np.nan, 34567.5: -np.inf}
    geoms = [shapely.box(46.90, 39.98, 1e305, 39.99), shapely.box(-1.7e308, 39.98, 46.91, 39.99)]
    geoms += [shapely.Polygon([(46.90, 39.98), (mark, 39.98), (46.91, 39.99)]) for mark in marks]
    names = [f"D{i}" for i in range(len(geoms) + 1)]
    _layer({"district": names}, [*geoms, SQUARE]).to_file(tmp_path / "d.shp", engine="pyogrio")
    shp = tmp_path / "d.shp"
    raw = shp.read_bytes()
    for mark, value in marks.items():
        raw = raw.replace(struct.pack("<d", mark), struct.pack("<d", value))
    shp.write_bytes(raw)
    loaded = mio.load_layers([shp], "districts")
    assert loaded.read == len(names)
    assert loaded.kept[s.DISTRICT].tolist() == [names[-1]]
    assert loaded.rejected[s.DISTRICT].tolist() == names[:-1]
    assert all(p.startswith("coordinates-out-of-range") for p in loaded.rejected["problem"])
    # The summary measures what was set aside; the rejects report keeps them as read.
    assert "rejected 5" in loaded.summary()
    rejects = mio.write_layer(mio.with_valid_geometry(loaded.rejected), tmp_path / "r.gpkg")
    back = mio.read_file(rejects)
    assert back.geometry.isna().all()
    assert back[s.GEOMETRY_AS_READ].str.contains("Infinity|NaN|e\\+30", regex=True).all()


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


# --- every rule: a case that trips it and one that does not -------------------------


def _hazards(geoms, **columns):
    n = len(geoms)
    rows = {"hazard_id": [f"H{i + 1}" for i in range(n)], "mines_ap": [1] * n, "mines_at": [0] * n}
    rows.update(columns)
    return _layer(rows, list(geoms))


def _found(frame, kind="hazards", **kwargs):
    cleaned, problems, rejected = check_layer(frame, kind, today=dt.date(2026, 11, 22), **kwargs)
    return cleaned, sorted(_rules(problems)), rejected


def test_every_rule_is_documented_with_a_severity():
    assert all(severity in (ERROR, WARNING) for severity, _ in RULES.values())
    doc = (Path(__file__).parent.parent / "docs" / "import.md").read_text(encoding="utf-8")
    for rule, (severity, _) in RULES.items():
        assert f"`{rule}`" in doc, rule
        assert severity in doc


def test_geometry_notes_from_the_readers_are_reported():
    frame = _hazards([_square(0), _square(1), None])
    frame[GEOMETRY_NOTE] = [None, "unclosed", "unreadable"]
    cleaned, found, rejected = _found(frame)
    assert found == [
        ("hazard_id H2", "ring-not-closed", WARNING),
        ("hazard_id H3", "unreadable-geometry", ERROR),
    ]
    assert rejected.tolist() == [False, False, True]
    assert GEOMETRY_NOTE not in cleaned.columns


@pytest.mark.parametrize(
    "wkt",
    [
        "POLYGON Z ((46.9 39.98 1, 46.91 39.98 1, 46.91 39.99 1, 46.9 39.98 1))",
        "POLYGON M ((46.9 39.98 1, 46.91 39.98 1, 46.91 39.99 1, 46.9 39.98 1))",
    ],
)
def test_z_and_m_are_dropped_with_a_warning(wkt):
    cleaned, found, rejected = _found(_hazards([shapely.from_wkt(wkt)]))
    assert found == [("hazard_id H1", "z-dropped", WARNING)]
    assert not rejected.any()
    geom = cleaned.geometry.iloc[0]
    assert not geom.has_z
    assert not shapely.has_m(geom)


def test_too_few_distinct_vertices():
    two = shapely.Polygon([(46.9, 39.98), (46.91, 39.98), (46.9, 39.98), (46.91, 39.98)])
    three = shapely.Polygon([(46.9, 39.98), (46.91, 39.98), (46.91, 39.99)])
    _, found, rejected = _found(_hazards([two, three]))
    assert found == [("hazard_id H1", "too-few-vertices", ERROR)]
    assert rejected.tolist() == [True, False]


def test_repeated_points_are_removed_with_a_warning():
    coords = [(46.9, 39.98), (46.91, 39.98), (46.91, 39.98), (46.91, 39.99), (46.9, 39.99)]
    cleaned, found, rejected = _found(_hazards([shapely.Polygon(coords), _square(2)]))
    assert found == [("hazard_id H1", "repeated-points", WARNING)]
    assert not rejected.any()
    assert shapely.get_num_coordinates(cleaned.geometry.iloc[0]) == 5
    assert shapely.normalize(cleaned.geometry.iloc[0]).equals(shapely.normalize(SQUARE))


@pytest.mark.parametrize(
    ("width_deg", "limit_m", "tripped"),
    [(0.07, 5_000, True), (0.05, 5_000, False), (0.07, 7_000, False), (0.07, None, False)],
)
def test_long_segments(width_deg, limit_m, tripped):
    # One degree of longitude at 39.98°N is about 85.4 km: 0.07° ≈ 6.0 km, 0.05° ≈ 4.3 km.
    geom = shapely.Polygon([(46.9, 39.98), (46.9 + width_deg, 39.98), (46.9, 39.99)])
    _, found, _ = _found(_hazards([geom]), max_segment_m=limit_m)
    assert found == ([("hazard_id H1", "long-segment", ERROR)] if tripped else [])


def test_long_segment_message_gives_the_distance():
    geom = shapely.Polygon([(46.9, 39.98), (46.97, 39.98), (46.9, 39.99)])
    _, problems, _ = check_layer(_hazards([geom]), "hazards")
    # The longest edge is the diagonal: 5.98 km east, 1.11 km north, 6.08 km (pyproj.Geod).
    assert "6.1 km apart" in problems[0].message


def test_districts_may_have_long_segments():
    big = shapely.box(46.0, 39.0, 47.0, 40.0)
    _, found, _ = _found(_layer({"district": ["Aghdam"]}, [big]), "districts")
    assert found == []


def test_duplicate_ids_after_trimming():
    _, found, _ = _found(
        _hazards([_square(0), _square(1), _square(2)], hazard_id=[" A", "A ", "B"])
    )
    assert found == [("hazard_id A", "duplicate-id", ERROR), ("hazard_id A", "duplicate-id", ERROR)]


def test_same_record_twice_within_one_source_is_an_error():
    nearly = shapely.affinity.translate(SQUARE, 0.0002, 0)  # 2 % shifted
    half = shapely.affinity.translate(SQUARE, 0.005, 0)
    inside = shapely.box(46.902, 39.982, 46.904, 39.984)  # a CHA inside an SHA
    _, found, rejected = _found(_hazards([SQUARE, nearly, half, inside]))
    assert found == [("hazard_id H2", "duplicate-record", ERROR)]
    assert rejected.tolist() == [False, True, False, False]


def test_same_minefield_from_two_sources_is_an_error_that_names_both_maps():
    nearly = shapely.affinity.translate(SQUARE, 0.0002, 0)
    frame = _hazards([SQUARE, nearly], source=["Handover map", "Survey map"])
    _, problems, rejected = check_layer(frame, "hazards")
    assert [(p.feature, p.rule, p.severity) for p in problems] == [
        ("hazard_id H2", "duplicate-record", ERROR)
    ]
    assert "source Handover map" in problems[0].message
    assert (
        "keep one of them; this one is set aside with the rejected features" in problems[0].message
    )
    assert "--" not in problems[0].message
    assert rejected.tolist() == [False, True]


def test_overlap_share_is_configurable():
    half = shapely.affinity.translate(SQUARE, 0.005, 0)
    _, found, _ = _found(_hazards([SQUARE, half]), overlap_share=0.4)
    assert found == [("hazard_id H2", "duplicate-record", ERROR)]


def test_release_outside_every_hazard_is_a_warning():
    hazards = _hazards([_square(0)])
    frame = _layer(
        {"release_id": ["R1", "R2"], "released_on": ["2022-01-03"] * 2, "method": ["cleared"] * 2},
        [_square(0, 0.005), _square(5)],
    )
    _, found, rejected = _found(frame, "releases", hazards=hazards)
    assert found == [("release_id R2", "outside-hazards", WARNING)]
    assert not rejected.any()
    assert _found(frame, "releases")[1] == []  # no hazards given: no context, no check


DISTRICTS = _layer(
    {"district": ["Aghdam", "Fuzuli"]},
    [shapely.box(46.8, 39.9, 46.95, 40.05), shapely.box(46.95, 39.9, 47.1, 40.05)],
)


def test_lat_lon_swap_is_named_with_the_districts_as_context():
    swapped = shapely.box(39.98, 46.90, 39.99, 46.91)
    nowhere = shapely.box(10.0, 10.0, 10.01, 10.01)
    _, found, rejected = _found(_hazards([swapped, nowhere, _square(0)]), districts=DISTRICTS)
    assert found == [("hazard_id H1", "lat-lon-swapped", ERROR)]
    assert rejected.tolist() == [True, False, False]
    assert _found(_hazards([swapped]))[1] == []  # without districts it cannot tell


def test_lat_lon_swap_off_the_globe_is_named_without_context():
    _, found, _ = _found(_hazards([shapely.box(39.98, 146.9, 39.99, 146.91)]))
    assert found == [("hazard_id H1", "lat-lon-swapped", ERROR)]


def test_coordinates_outside_the_area_of_use_of_their_crs():
    # Degrees written into a UTM 38N file land near (40.5°E, 0°N), far outside zone 38N.
    wrong = gpd.GeoDataFrame(
        {"hazard_id": ["A"], "mines_ap": [1], "mines_at": [0]},
        geometry=[SQUARE],
        crs="EPSG:32638",
    )
    _, found, _ = _found(wrong)
    assert found == [("hazard_id A", "outside-crs-area", ERROR)]
    right = gpd.GeoDataFrame(
        {"hazard_id": ["A"], "mines_ap": [1], "mines_at": [0]}, geometry=[SQUARE], crs="EPSG:4326"
    ).to_crs("EPSG:32638")
    assert _found(right)[1] == []


def test_easting_and_northing_swapped_in_a_projected_file_are_named_as_a_swap():
    right = _hazards([SQUARE, _square(1)]).to_crs("EPSG:32638")
    geoms = right.geometry.to_numpy()
    geoms[0] = shapely.transform(geoms[0], lambda c: c[:, ::-1])  # the other one is right
    swapped = right.set_geometry(gpd.GeoSeries(geoms, crs=right.crs))
    _, found, rejected = _found(swapped)
    assert found == [("hazard_id H1", "lat-lon-swapped", ERROR)]
    assert rejected.tolist() == [True, False]
    _, problems, _ = check_layer(swapped, "hazards", today=dt.date(2026, 11, 22))
    assert "easting and northing look swapped" in problems[0].message
    assert "UTM zone 38N" in problems[0].message


def test_degrees_in_a_file_that_says_metres_are_named_as_degrees():
    wrong = _hazards([SQUARE]).set_crs("EPSG:32638", allow_override=True)
    _, problems, _ = check_layer(wrong, "hazards", today=dt.date(2026, 11, 22))
    assert [p.rule for p in problems] == ["outside-crs-area"]
    assert "look like longitude/latitude degrees" in problems[0].message
    # Metres that land far away are not degrees: the message asks about the CRS instead.
    far = _hazards([shapely.box(10.0, 50.0, 10.01, 50.01)])
    _, problems, _ = check_layer(far, "hazards", source_crs="EPSG:32638")
    assert [p.rule for p in problems] == ["outside-crs-area"]
    assert "is the CRS right?" in problems[0].message


def test_an_empty_layer_has_nothing_to_reject():
    empty = gpd.GeoDataFrame(geometry=[], crs="EPSG:4326")  # a GeoJSON with no features
    cleaned, problems, rejected = check_layer(empty, "hazards")
    assert problems == []
    assert len(rejected) == 0
    assert set(s.REQUIRED["hazards"]) <= set(cleaned.columns)


def test_missing_column_lists_the_files_columns_only():
    frame = _layer({"name": ["A"], "source_file": ["x"], "source_row": [1]}, [SQUARE])
    _, problems, _ = check_layer(frame, "hazards")
    assert [p.rule for p in problems] == ["missing-column"]
    assert "(columns: name)" in problems[0].message
    # The library's own parameter, not the command line's --map.
    assert problems[0].message.endswith("map it explicitly (mapping={'hazard_id': 'COLUMN'})")
    bare = _layer({}, [SQUARE])
    _, problems, _ = check_layer(bare, "hazards")
    assert "(it has no columns)" in problems[0].message


def test_source_crs_may_be_given_per_row():
    frame = _hazards([_square(0), shapely.box(40.4, 0.0, 40.41, 0.01)])
    _, found, _ = _found(frame, source_crs=["EPSG:4326", "EPSG:32638"])
    assert found == [("hazard_id H2", "outside-crs-area", ERROR)]


def test_unknown_district_of_a_hazard_lists_the_closest_names():
    frame = _hazards([_square(0), _square(1), _square(2)], district=["Ağdam", "Agdamm", None])
    cleaned, problems, rejected = check_layer(frame, "hazards")
    assert [(p.feature, p.rule) for p in problems] == [("hazard_id H2", "unknown-district")]
    assert "closest known: Aghdam" in problems[0].message
    assert "add it to a gazetteer: gazetteer=...)" in problems[0].message
    assert "--" not in problems[0].message
    assert rejected.tolist() == [False, True, False]
    assert cleaned[s.DISTRICT].iloc[0] == "Aghdam"


def test_a_districts_layer_from_elsewhere_is_fine_and_typos_warn():
    frame = _layer(
        {"district": ["Tbilisi", "Rustavi", "Zangilann"]}, [_square(i) for i in range(3)]
    )
    cleaned, found, rejected = _found(frame, "districts")
    assert found == [("district Zangilann", "unknown-district", WARNING)]
    assert not rejected.any()
    assert cleaned[s.DISTRICT].tolist() == ["Tbilisi", "Rustavi", "Zangilann"]
    hazards = _hazards([_square(0)], district=["Rustavi"])
    assert _found(hazards, districts=cleaned)[1] == []


@pytest.mark.parametrize(
    ("spelling", "key"),
    [
        ("Gubadly", "Gubadli"),
        ("QUBADLI", "Gubadli"),
        ("Qubadlı rayonu", "Gubadli"),
        ("Terter", "Tartar"),
        ("Tərtər", "Tartar"),
        ("Stepanakert", "Khankandi"),
        ("Xankəndi şəhəri", "Khankandi"),
        ("Khankendi", "Khankandi"),
        ("Jabrail", "Jabrayil"),
        ("Cəbrayıl", "Jabrayil"),
        ("Fizuli", "Fuzuli"),
        ("Füzuli", "Fuzuli"),
        ("Kelbajar", "Kalbajar"),
        ("Kəlbəcər", "Kalbajar"),
        ("Agdam District", "Aghdam"),
        ("AZ-AGM", "Aghdam"),
        ("az-qbi", "Gubadli"),
        ("Агдам", "Aghdam"),
        ("Шуша", "Shusha"),
        ("Şuşa", "Shusha"),
        ("Xocavənd", "Khojavend"),
        ("Martakert", "Aghdara"),
        ("AZ-TOV", "Tovuz"),
        ("Gədəbəy Rayon", "Gədəbəy"),
    ],
)
def test_district_spellings(spelling, key):
    assert s.canonical_district(spelling) == key


@pytest.mark.parametrize("name", ["Atlantis", "", "   ", None, 7])
def test_unknown_district_spellings(name):
    assert s.canonical_district(name) is None


@given(
    key=st.sampled_from(sorted(gazetteer.builtin().keys)),
    data=st.data(),
)
def test_any_alias_in_any_case_with_padding_matches(key, data):
    alias = data.draw(st.sampled_from(gazetteer.builtin().names(key)))
    upper = data.draw(st.booleans())
    pad = data.draw(st.sampled_from(["", " ", "  ", "\t"]))
    text = pad + (alias.upper() if upper else alias) + pad
    assert s.canonical_district(text) == key


@given(st.text(max_size=30))
def test_fold_name_is_idempotent_and_closest_never_fails(text):
    folded = s.fold_name(text)
    assert s.fold_name(folded) == folded
    assert len(s.closest_districts(text)) <= 3


def test_swap_names_the_right_district_and_context_may_lack_a_crs():
    districts = gpd.GeoDataFrame(
        {"district": ["Empty", "Aghdam"]},
        geometry=[shapely.Polygon(), shapely.box(46.8, 39.9, 46.95, 40.05)],
    )
    swapped = shapely.box(39.98, 46.90, 39.99, 46.91)
    _, problems, _ = check_layer(_hazards([swapped]), "hazards", districts=districts)
    assert [p.rule for p in problems] == ["lat-lon-swapped"]
    assert "falls in Aghdam" in problems[0].message


def test_check_layer_does_not_change_its_inputs():
    frame = _hazards([_square(0), _square(0)], hazard_id=[" A", "B"], district=["Agdam", "x"])
    before = frame.copy()
    context = DISTRICTS.copy()
    check_layer(frame, "hazards", districts=DISTRICTS)
    pd.testing.assert_frame_equal(frame, before)
    pd.testing.assert_frame_equal(DISTRICTS, context)


def test_collinear_ring_is_rejected_as_having_no_area_once_repaired():
    flat = shapely.Polygon([(46.9, 39.98), (46.91, 39.98), (46.92, 39.98)])
    _, problems, rejected = check_layer(_hazards([flat, _square(2)]), "hazards")
    assert [(p.rule, p.severity) for p in problems] == [("no-area", ERROR)]
    assert "no area once repaired" in problems[0].message
    assert rejected.tolist() == [True, False]


def test_collinear_ring_drawn_in_utm_has_no_area_in_longitude_latitude_either():
    # Three points on a line in UTM are not quite on a line once in longitude/latitude:
    # 5e-7 ha, which passed, and the record's 30 mines stood on 0.005 m².
    utm = [(620_000.0, 4_430_000.0), (620_100.0, 4_430_050.0), (620_300.0, 4_430_150.0)]
    frame = _hazards([shapely.Polygon(utm), _square(2)], mines_ap=[30, 1]).set_crs(
        "EPSG:32638", allow_override=True
    )
    frame.loc[1, "geometry"] = gpd.GeoSeries([_square(2)], crs=4326).to_crs(32638).iloc[0]
    _, problems, rejected = check_layer(frame, "hazards")
    assert [(p.feature, p.rule, p.severity) for p in problems] == [
        ("hazard_id H1", "no-area", ERROR)
    ]
    assert "less than 1 m²" in problems[0].message
    assert rejected.tolist() == [True, False]


def test_no_area_is_the_true_area_under_a_floor_of_one_square_metre():
    from minemap.validate import NO_AREA_M2

    assert NO_AREA_M2 == 1.0
    # Thin rectangles near Aghdam: 0.6 m² and 1.5 m² on the ellipsoid.
    thin = [shapely.box(46.9, 39.98, 46.9 + d, 39.98 + 1e-6) for d in (0.000057, 0.000142)]
    frame = _hazards([*thin, _square(2)]).set_crs(4326, allow_override=True)
    _, problems, rejected = check_layer(frame, "hazards")
    assert [(p.feature, p.rule) for p in problems] == [("hazard_id H1", "no-area")]
    assert rejected.tolist() == [True, False, False]


def test_a_bow_tie_repaired_into_slivers_has_no_area():
    # Each triangle of this bow-tie is 0.1 mm wide at its base: valid once repaired,
    # 0.02 m² in all. Before repair it had none (its two halves cancel out).
    x0, y0, x1 = 46.9, 39.98, 46.9 + 0.005  # about 430 m long
    bow_tie = shapely.Polygon([(x0, y0), (x1, y0 + 1e-9), (x1, y0), (x0, y0 + 1e-9)])
    assert not bow_tie.is_valid
    _, problems, rejected = check_layer(_hazards([bow_tie, _square(2)]), "hazards")
    assert [(p.feature, p.rule, p.severity) for p in problems] == [
        ("hazard_id H1", "no-area", ERROR)
    ]
    assert "once repaired" in problems[0].message
    assert rejected.tolist() == [True, False]


def test_missing_ids_are_named_by_row():
    frame = _hazards([_square(0), _square(1), _square(2)], hazard_id=["A", "  ", None])
    _, found, rejected = _found(frame)
    assert found == [("feature 2", "missing-id", ERROR), ("feature 3", "missing-id", ERROR)]
    assert rejected.tolist() == [False, True, True]


def test_implausibly_large_counts_are_errors_not_overflows():
    frame = _layer(
        {"hazard_id": ["A"], "mines_ap": [9.223372036854776e18], "mines_at": [0]}, [SQUARE]
    )
    cleaned, problems, rejected = check_layer(frame, "hazards")
    assert [p.rule for p in problems] == ["bad-count"]
    assert "implausibly large" in problems[0].message
    assert rejected.tolist() == [True]
    assert cleaned[s.MINES_AP].isna().all()


# --- the vectorised ring helpers, against the obvious way --------------------------

_vertex = st.tuples(st.sampled_from([0.0, 1.0, 2.5]), st.sampled_from([0.0, 1.0, -3.0]))


@given(st.lists(st.lists(_vertex, min_size=1, max_size=7), min_size=1, max_size=6))
def test_distinct_vertices_counted_up_to_three(rings):
    import numpy as np

    from minemap.validate import _distinct_up_to_three

    coords = np.array([v for ring in rings for v in ring], dtype=float)
    vertex_ring = np.repeat(np.arange(len(rings)), [len(r) for r in rings])
    expected = [min(len(set(r)), 3) for r in rings]
    assert _distinct_up_to_three(coords, vertex_ring, len(rings)).tolist() == expected


def test_a_ring_going_back_and_forth_has_two_distinct_vertices():
    ring = shapely.Polygon([(46.9, 39.9), (46.91, 39.9), (46.9, 39.9), (46.91, 39.9)])
    frame = _layer({"hazard_id": ["A"], "mines_ap": [1], "mines_at": [0]}, [ring])
    _, problems, rejected = check_layer(frame, "hazards")
    assert rejected.tolist() == [True]
    assert any("2 distinct vertices" in p.message for p in problems)


@given(
    st.floats(-179.9, 179.9),
    st.floats(-89.9, 89.9),
    st.floats(-0.5, 0.5),
    st.floats(-0.5, 0.5),
)
def test_the_segment_bound_is_never_below_the_geodesic(lon, lat, dlon, dlat):
    import numpy as np
    import pyproj

    from minemap.validate import _segment_bound_m

    end_lat = min(max(lat + dlat, -90.0), 90.0)
    end_lon = (lon + dlon + 180.0) % 360.0 - 180.0
    start, end = np.array([[lon, lat]]), np.array([[end_lon, end_lat]])
    _, _, dist = pyproj.Geod(ellps="WGS84").inv(lon, lat, end_lon, end_lat)
    assert _segment_bound_m(start, end)[0] >= dist - 1e-6


@st.composite
def _rough_polygons(draw):
    """Small rings with repeated vertices and the odd far vertex, some with a hole."""
    import math

    n = draw(st.integers(3, 7))
    # A star-shaped ring (vertices by angle around a centre) is simple: mostly valid.
    angles = sorted(draw(st.lists(st.floats(0, 6.28), min_size=n, max_size=n, unique=True)))
    radii = [draw(st.floats(0.001, 0.02)) for _ in range(n)]
    ring = [
        (46.1 + r * math.cos(a), 39.85 + r * math.sin(a))
        for a, r in zip(angles, radii, strict=True)
    ]
    for _ in range(draw(st.integers(0, 2))):
        k = draw(st.integers(0, n - 1))
        ring.insert(k, ring[k])  # a repeated vertex
    if draw(st.booleans()):
        ring[draw(st.integers(0, len(ring) - 1))] = (46.9, 39.85)  # some 70 km away
    holes = []
    if draw(st.booleans()):
        holes = [[(46.1, 39.85), (46.1005, 39.85), (46.1005, 39.8505), (46.1, 39.85)]]
    return shapely.Polygon(ring, holes)


@settings(deadline=None)  # two full checks per example
@given(st.lists(_rough_polygons(), min_size=1, max_size=6))
def test_the_ring_screen_misses_nothing(polygons):
    import numpy as np

    from minemap import validate

    frame = _layer(
        {
            "hazard_id": [f"H{i}" for i in range(len(polygons))],
            "mines_ap": [1] * len(polygons),
            "mines_at": [0] * len(polygons),
        },
        polygons,
    )
    screened = _rules(check_layer(frame, "hazards")[1])
    original = validate._ring_suspects
    try:
        validate._ring_suspects = lambda geoms, ok, invalid, limit: np.flatnonzero(ok)
        exhaustive = _rules(check_layer(frame, "hazards")[1])
    finally:
        validate._ring_suspects = original
    assert sorted(screened) == sorted(exhaustive)
