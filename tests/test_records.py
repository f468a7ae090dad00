"""Minefield records: reading, checking and traversing (minemap.records)."""

from __future__ import annotations

import copy
import datetime as dt
import itertools
import json
import logging
import math

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import minemap as mm
from minemap import geodesy, records
from minemap import mgrs as mg
from minemap import schema as s
from minemap.errors import InputFileError, MinemapError
from minemap.validate import ERROR, check_layer

GEOD = pyproj.Geod(ellps="WGS84")
#: A point in Aghdam district.
LAT0, LON0 = 39.95, 46.85


def metres(a, b) -> float:
    """Geodesic distance between two (lon, lat) pairs."""
    return GEOD.inv(a[0], a[1], b[0], b[1])[2]


def write_record(tmp_path, points, name="record.json", **fields):
    data = {"record_id": "MF-1", "north": "true", **fields, "points": points}
    data = {k: v for k, v in data.items() if v is not None}
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def square(bearings=(0, 90, 180, 270), distance=100.0, closes=True, **start):
    """A start point and four chained legs, the last closing on the start."""
    first = {"id": "P0", **(start or {"lat": LAT0, "lon": LON0})}
    legs = [
        {"id": f"P{i + 1}", "bearing": b, "distance_m": distance} for i, b in enumerate(bearings)
    ]
    legs[-1]["closes"] = closes
    return [first, *legs]


def coords(result) -> dict[str, tuple[float, float]]:
    frame = result.points
    return {pid: (g.x, g.y) for pid, g in zip(frame[s.POINT_ID], frame.geometry, strict=True)}


def run(tmp_path, points, **fields):
    return records.traverse(records.read_record(write_record(tmp_path, points, **fields)))


# --- known answers ------------------------------------------------------------------


def test_square_of_four_legs_closes_and_is_one_hectare(tmp_path):
    result = run(tmp_path, square())
    assert result.misclosure_m < 0.01
    assert result.area_ha == pytest.approx(1.0, rel=1e-4)
    polygon = result.perimeter.geometry.iloc[0]
    assert len(polygon.exterior.coords) == 5  # P0..P3 and P0 again; P4 is the closing point
    assert shapely.Polygon(polygon.exterior).exterior.is_ccw
    got = coords(result)
    # Going 100 m due north then due east: hand-computed with the meridian arc.
    north = GEOD.fwd(LON0, LAT0, 0, 100)[:2]
    assert metres(got["P1"], north) < 1e-6
    assert got["P1"][0] == pytest.approx(LON0, abs=1e-12)
    assert geodesy.geodesic_area_ha([polygon])[0] == pytest.approx(result.area_ha)


def test_perimeter_without_closing_leg_has_no_misclosure(tmp_path):
    points = square()[:-1]
    result = run(tmp_path, points)
    assert result.misclosure_m is None
    assert math.isnan(result.perimeter[s.MISCLOSURE_M].iloc[0])
    assert result.area_ha == pytest.approx(1.0, rel=1e-4)


@pytest.mark.parametrize(
    ("per_circle", "bearings"),
    [(6400, (0, 1600, 3200, 4800, 800)), (6000, (0, 1500, 3000, 4500, 750))],
)
def test_mils_equal_degrees(tmp_path, per_circle, bearings):
    degrees = (0, 90, 180, 270, 45)
    base = [{"id": "A", "lat": LAT0, "lon": LON0}]
    legs = [{"id": f"L{i}", "bearing": b, "distance_m": 150.0} for i, b in enumerate(degrees)]
    mils = [{**leg, "bearing": b} for leg, b in zip(legs, bearings, strict=True)]
    want = coords(run(tmp_path, base + legs))
    got = coords(run(tmp_path, base + mils, bearing_unit="mils", mils_per_circle=per_circle))
    for pid, point in want.items():
        assert metres(point, got[pid]) < 1e-6


def test_mils_of_6000_and_6400_differ(tmp_path):
    base = [{"id": "A", "lat": LAT0, "lon": LON0}, {"id": "B", "bearing": 1000, "distance_m": 1}]
    base += [
        {"id": "C", "bearing": 3000, "distance_m": 1},
        {"id": "D", "bearing": 5000, "distance_m": 1},
    ]
    a = coords(run(tmp_path, base, bearing_unit="mils", mils_per_circle=6400))
    b = coords(run(tmp_path, base, bearing_unit="mils", mils_per_circle=6000))
    # 1000 mils is 56.25° in one system and 60° in the other: about 6 cm apart at 1 m.
    assert metres(a["B"], b["B"]) == pytest.approx(2 * math.sin(math.radians(3.75 / 2)), rel=1e-3)


@pytest.mark.parametrize("declination", [6.4, -3.25, 0.0])
def test_magnetic_equals_true_plus_declination(tmp_path, declination):
    bearings = (12.0, 97.5, 188.0, 300.0)
    magnetic = run(
        tmp_path,
        square(bearings, distance=120.0, closes=False),
        north="magnetic",
        declination_deg=declination,
    )
    true = run(
        tmp_path,
        square([(b + declination) % 360 for b in bearings], distance=120.0, closes=False),
    )
    for pid, point in coords(true).items():
        assert metres(point, coords(magnetic)[pid]) < 1e-6
    az = magnetic.points.set_index(s.POINT_ID)[s.AZIMUTH_DEG]
    assert az["P1"] == pytest.approx((12.0 + declination) % 360)


def _by_hand(lat, lon, azimuth_deg, distance_m):
    """One short leg by hand: north and east steps over the ellipsoid's radii of curvature."""
    a, f = 6378137.0, 1 / 298.257223563
    e2 = f * (2 - f)
    phi = math.radians(lat)
    w = math.sqrt(1 - e2 * math.sin(phi) ** 2)
    meridian, normal = a * (1 - e2) / w**3, a / w  # M and N, in metres per radian
    north = distance_m * math.cos(math.radians(azimuth_deg))
    east = distance_m * math.sin(math.radians(azimuth_deg))
    return lat + math.degrees(north / meridian), lon + math.degrees(east / (normal * math.cos(phi)))


def test_soviet_mils_and_magnetic_north_against_a_hand_computed_traverse(tmp_path):
    # 6000 mils to the circle: 750 mils is 45°; magnetic north 6.4° east of true.
    mils = (750, 2250, 3750, 5250)
    points = [{"id": "A", "lat": LAT0, "lon": LON0}]
    points += [{"id": f"T{i + 1}", "bearing": b, "distance_m": 80.0} for i, b in enumerate(mils)]
    points[-1]["closes"] = True
    result = run(
        tmp_path,
        points,
        bearing_unit="mils",
        mils_per_circle=6000,
        north="magnetic",
        declination_deg=6.4,
    )
    lat, lon = LAT0, LON0
    got = coords(result)
    for i, bearing in enumerate(mils):
        azimuth = bearing * 360 / 6000 + 6.4  # 51.4°, 141.4°, 231.4°, 321.4°
        lat, lon = _by_hand(lat, lon, azimuth, 80.0)
        assert metres(got[f"T{i + 1}"], (lon, lat)) < 1e-3  # a millimetre
    assert result.misclosure_m < 5e-3  # geodesic legs: a square does not quite close
    assert result.area_ha == pytest.approx(0.64, rel=1e-5)  # an 80 m square


def test_grid_north_follows_utm_grid_lines(tmp_path):
    # Grid bearings 0 and 90 run along UTM grid lines: easting, then northing, stay put
    # (to the arc-to-chord correction, sub-millimetre over 1 km).
    zone, hemisphere, easting, northing = mg.latlon_to_utm(LAT0, LON0)
    points = [
        {
            "id": "A",
            "utm_zone": zone,
            "hemisphere": hemisphere,
            "easting": easting,
            "northing": northing,
        },
        {"id": "B", "bearing": 0, "distance_m": 1000.0},
        {"id": "C", "bearing": 90, "distance_m": 1000.0},
        {"id": "D", "bearing": 180, "distance_m": 1000.0, "north": "true"},
    ]
    result = run(tmp_path, points, north="grid")
    to_utm = pyproj.Transformer.from_crs("EPSG:4326", mg.utm_crs(zone, hemisphere), always_xy=True)
    got = {pid: to_utm.transform(*xy) for pid, xy in coords(result).items()}
    assert got["B"][0] == pytest.approx(easting, abs=0.005)
    assert got["C"][1] == pytest.approx(got["B"][1], abs=0.005)
    # The meridian convergence east of 45°E at 40°N is about 1.2°, grid north east of true.
    convergence = pyproj.Proj(mg.utm_crs(zone, hemisphere)).get_factors(LON0, LAT0)
    az = result.points.set_index(s.POINT_ID)[s.AZIMUTH_DEG]
    assert az["B"] == pytest.approx(convergence.meridian_convergence, abs=1e-9)
    assert 1.0 < az["B"] < 1.5
    assert az["D"] == pytest.approx(180.0)  # a per-leg true north overrides the record's


def test_grid_zone_from_record(tmp_path):
    # Forcing zone 39 (central meridian 51°E): convergence at 46.85°E is negative.
    points = [{"id": "A", "lat": LAT0, "lon": LON0}, {"id": "B", "bearing": 0, "distance_m": 10}]
    result = run(tmp_path, points + square()[1:3], north="grid", grid_zone="39N")
    az = result.points.set_index(s.POINT_ID)[s.AZIMUTH_DEG]
    assert 357.0 < az["B"] < 358.0


def test_polar_legs_from_reference_point(tmp_path):
    points = [{"id": "RP", "role": "reference", "lat": LAT0, "lon": LON0}]
    wanted = {"T1": (30.0, 200.0), "T2": (110.0, 250.0), "T3": (200.0, 180.0), "T4": (300.0, 220.0)}
    points += [
        {"id": pid, "frompoint": "RP", "bearing": b, "distance_m": d}
        for pid, (b, d) in wanted.items()
    ]
    result = run(tmp_path, points)
    got = coords(result)
    for pid, (b, d) in wanted.items():
        lon, lat, _ = GEOD.fwd(LON0, LAT0, b, d)
        assert metres(got[pid], (lon, lat)) < 1e-6
    ring = list(result.perimeter.geometry.iloc[0].exterior.coords)
    assert len(ring) == 5  # the reference point is not on the perimeter
    assert (LON0, LAT0) not in ring


def test_chained_legs_default_to_previous_point(tmp_path):
    implicit = square((10, 100, 190, 280))
    explicit = copy.deepcopy(implicit)
    for previous, point in itertools.pairwise(explicit):
        point["frompoint"] = previous["id"]
    a, b = coords(run(tmp_path, implicit)), coords(run(tmp_path, explicit))
    assert a == b
    chained = GEOD.fwd(*GEOD.fwd(LON0, LAT0, 10, 100)[:2], 100, 100)[:2]
    assert metres(a["P2"], chained) < 1e-6


def test_utm_and_mgrs_references_equal_latlon(tmp_path):
    # Whole metres in UTM, so that the 1 m MGRS reference names exactly this corner.
    zone, hemisphere = 38, "N"
    easting, northing = 655232.0, 4423022.0
    lat, lon = mg.utm_to_latlon(zone, hemisphere, easting, northing)
    reference = mg.utm_to_mgrs(zone, hemisphere, easting, northing)
    starts = [
        {"lat": lat, "lon": lon},
        {"utm_zone": zone, "hemisphere": hemisphere, "easting": easting, "northing": northing},
        {"utm_zone": "38N", "easting": easting, "northing": northing},
        {"mgrs": reference},
        {"mgrs": f"{reference[:5]} {reference[5:10]} {reference[10:]}".lower()},
    ]
    results = [coords(run(tmp_path, square((20, 110, 200, 290), **start))) for start in starts]
    for other in results[1:]:
        for pid, point in results[0].items():
            assert metres(point, other[pid]) < 0.01
    assert metres(results[0]["P0"], (lon, lat)) < 1e-6


def test_mgrs_with_fewer_digits_names_the_corner(tmp_path):
    result = run(tmp_path, square(mgrs="38SPK548228"))  # 100 m precision
    corner = mg.utm_to_latlon(38, "N", 654800.0, 4422800.0)
    assert metres(coords(result)["P0"], corner[::-1]) < 1e-6


# --- hypothesis: a random closed traverse reproduces its polygon --------------------


@st.composite
def star_polygons(draw):
    n = draw(st.integers(min_value=3, max_value=12))
    cuts = sorted(draw(st.lists(st.floats(0.0, 0.8), min_size=n, max_size=n, unique=True)))
    angles = [2 * math.pi * (c + i) / n for i, c in enumerate(cuts)]
    radii = draw(st.lists(st.floats(20.0, 2000.0), min_size=n, max_size=n))
    lat = draw(st.floats(-60.0, 60.0))
    lon = draw(st.floats(-179.0, 179.0))
    return [GEOD.fwd(lon, lat, math.degrees(a), r)[:2] for a, r in zip(angles, radii, strict=True)]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(vertices=star_polygons())
def test_random_closed_traverse_reproduces_vertices(tmp_path, vertices):
    polygon = shapely.Polygon(vertices)
    if not polygon.is_valid:  # a star with nearly collinear spokes may self-touch
        return
    points = [{"id": "V0", "lon": vertices[0][0], "lat": vertices[0][1]}]
    ring = [*vertices[1:], vertices[0]]
    previous = vertices[0]
    for i, vertex in enumerate(ring, start=1):
        az, _, dist = GEOD.inv(previous[0], previous[1], vertex[0], vertex[1])
        points.append({"id": f"V{i}", "bearing": az % 360, "distance_m": dist})
        previous = vertex
    points[-1]["closes"] = True
    result = run(tmp_path, points)
    assert result.misclosure_m < 0.001
    got = coords(result)
    for i, vertex in enumerate(vertices):
        assert metres(got[f"V{i}"], vertex) < 0.001
    want = geodesy.geodesic_area_ha([polygon])[0]
    assert result.area_ha == pytest.approx(want, rel=1e-7, abs=1e-6)


# --- the perimeter is a hazard --------------------------------------------------------


def test_example_record_is_a_valid_hazard(tmp_path):
    result = records.traverse(records.read_record(records.EXAMPLE_JSON))
    _cleaned, problems, rejected = check_layer(result.perimeter, "hazards")
    assert not rejected.any(), problems
    assert not [p for p in problems if p.severity == ERROR]
    row = result.perimeter.iloc[0]
    assert (row[s.HAZARD_ID], row[s.MINES_AP], row[s.MINES_AT]) == ("AGD-MF-0417", 120, 36)
    assert row[s.DISTRICT] == "Aghdam"
    assert row[s.LAID_ON].date() == dt.date(1994, 3, 12)
    assert row[s.SUBMITTED_ON].date() == dt.date(2021, 6, 12)
    assert row[s.MINE_TYPES] == "PMN-2 (AP) 120; TM-62M (AT) 36"
    assert 0 < row[s.MISCLOSURE_M] < records.WARN_MISCLOSURE_M
    path = tmp_path / "perimeter.geojson"
    mm.write_layer(result.perimeter, path)
    read = mm.read_hazards(path)
    assert list(read[s.HAZARD_ID]) == ["AGD-MF-0417"]
    assert read.geometry.iloc[0].equals_exact(result.perimeter.geometry.iloc[0], 1e-9)


def test_example_lies_in_aghdam():
    from minemap import datasets

    districts = datasets.districts()
    result = records.traverse(records.read_record(records.EXAMPLE_CSV))
    aghdam = districts.loc[districts[s.DISTRICT] == "Aghdam"].geometry.iloc[0]
    assert aghdam.contains(result.perimeter.geometry.iloc[0])


def test_csv_and_json_examples_are_the_same_minefield():
    a = records.traverse(records.read_record(records.EXAMPLE_JSON))
    b = records.traverse(records.read_record(records.EXAMPLE_CSV))
    assert a.perimeter.drop(columns="geometry").equals(b.perimeter.drop(columns="geometry"))
    assert a.perimeter.geometry.iloc[0].equals_exact(b.perimeter.geometry.iloc[0], 0)
    assert a.rows.equals(b.rows)
    assert a.misclosure_m == b.misclosure_m


def test_rows_and_points(tmp_path):
    result = records.traverse(records.read_record(records.EXAMPLE_JSON))
    rows = result.rows
    assert list(rows[s.ROW_ID]) == ["R1", "R2"]
    assert list(rows[s.MINES_AP]) == [120, 0]
    assert list(rows[s.MINES_AT]) == [0, 36]
    assert list(rows[s.MINE_TYPE]) == ["PMN-2", "TM-62M"]
    assert (rows.geometry.geom_type == "LineString").all()
    for line, length in zip(rows.geometry, rows[s.LENGTH_M], strict=True):
        assert length == pytest.approx(GEOD.geometry_length(line))
    assert rows[s.LENGTH_M].iloc[0] == pytest.approx(260.0, abs=0.01)
    points = result.points.set_index(s.POINT_ID)
    assert points.loc["RP1", s.GIVEN_AS] == "mgrs"
    assert points.loc["LM1", s.GIVEN_AS] == "utm"
    assert points.loc["TP2", s.FROMPOINT] == "TP1"  # chained
    assert points.loc["R2S", s.FROMPOINT] == "LM1"  # polar from the landmark
    # 193 mils (6000) magnetic + 6.4° declination.
    assert points.loc["TP2", s.AZIMUTH_DEG] == pytest.approx(193 * 360 / 6000 + 6.4)


def test_row_counts_sum_without_record_totals(tmp_path, caplog):
    row = {"role": "row", "distance_m": 50, "bearing": 90}
    points = [
        *square(),
        {**row, "id": "A", "row": "R1", "frompoint": "P0", "mines_ap": 7, "mine_type": "PMN"},
        {**row, "id": "B", "row": "R1"},
        {**row, "id": "C", "row": "R2", "frompoint": "P0", "bearing": 45, "mines_at": 3},
        {**row, "id": "D", "row": "R2"},
    ]
    result = run(tmp_path, points)
    assert (result.perimeter[s.MINES_AP].iloc[0], result.perimeter[s.MINES_AT].iloc[0]) == (7, 3)
    with caplog.at_level(logging.WARNING, logger="minemap"):
        result = run(tmp_path, points, mines=[{"type": "PMN", "category": "AP", "count": 9}])
    assert (result.perimeter[s.MINES_AP].iloc[0], result.perimeter[s.MINES_AT].iloc[0]) == (9, 0)
    assert "rows hold 7 AP and 3 AT" in caplog.text


def test_misclosure_warning_and_limit(tmp_path, caplog):
    points = square(distance=100.0)
    points[-1]["distance_m"] = 97.0  # 3 m short
    with caplog.at_level(logging.WARNING, logger="minemap"):
        result = run(tmp_path, points)
    assert result.misclosure_m == pytest.approx(3.0, abs=0.01)
    assert "misses the first point P0 by 3.00 m" in caplog.text
    path = write_record(tmp_path, points)
    with pytest.raises(
        records.MisclosureError, match=r"record.json.*P4.*by 3\.00 m.*more than 2 m"
    ) as info:
        records.traverse(records.read_record(path), max_misclosure_m=2.0)
    assert str(info.value).endswith("or raise the limit (max_misclosure_m=...)")
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="minemap"):
        records.traverse(records.read_record(path), warn_misclosure_m=5.0)
    assert "misses" not in caplog.text


def test_traverse_unpacks_and_leaves_record_alone(tmp_path):
    record = records.read_record(write_record(tmp_path, square()))
    before = copy.deepcopy(record)
    perimeter, rows, points = records.traverse(record)
    assert record == before
    assert isinstance(perimeter, gpd.GeoDataFrame)
    assert perimeter.crs == s.CANONICAL_CRS
    assert len(rows) == 0
    assert len(points) == 5
    assert np.isnan(points[s.BEARING].iloc[0])


# --- bad records ------------------------------------------------------------------------

BAD = [
    # (what to change, expected message)
    (
        lambda d: d["points"][2].update(frompoint="P9"),
        "point P2 (points[2]): unknown frompoint 'P9'",
    ),
    (
        lambda d: d["points"][1].update(frompoint="P3"),
        "frompoint 'P3' is defined later (points[3])",
    ),
    (
        lambda d: d["points"][1].update(bearing=361),
        "point P1 (points[1]): bearing 361 is out of range 0 to 360 degrees",
    ),
    (lambda d: d["points"][1].update(bearing=-1), "bearing -1 is out of range"),
    (lambda d: d["points"][1].update(bearing="N45E"), "bearing 'N45E' is not a number"),
    (lambda d: d["points"][1].update(distance_m="1,200"), "distance_m '1,200' is ambiguous"),
    (
        lambda d: (
            d.update(bearing_unit="mils", mils_per_circle=6400)
            or d["points"][1].update(bearing=6500)
        ),
        "bearing 6500 is out of range 0 to 6400 mils",
    ),
    (lambda d: d.update(bearing_unit="mils"), "mils_per_circle is missing"),
    (
        lambda d: d.update(bearing_unit="mils", mils_per_circle=6300),
        "mils_per_circle 6300 must be 6400 or 6000",
    ),
    (lambda d: d.update(bearing_unit="grads"), "bearing_unit 'grads' is neither degrees nor mils"),
    (
        lambda d: d.update(north="magnetic"),
        "point P1 (points[1]): bearing is magnetic but the record has no declination_deg",
    ),
    (
        lambda d: d["points"][3].update(north="magnetic"),
        "point P3 (points[3]): bearing is magnetic",
    ),
    (lambda d: d.pop("north"), "north is missing"),
    (lambda d: d.update(north="compass"), "north 'compass' is not one of true, grid, magnetic"),
    (lambda d: d.update(declination_deg=120), "declination_deg 120 is out of range"),
    (lambda d: d.pop("record_id"), "record_id is missing"),
    (
        lambda d: d["points"][0].update(lat=None, lon=None),
        "point P0 (points[0]): has neither coordinates",
    ),
    (
        lambda d: d["points"][0].update(lat=None, lon=None, bearing=0, distance_m=5),
        "is the first point but has no coordinates",
    ),
    (lambda d: d["points"][2].update(id="P1"), "id 'P1' is already used by the point at points[1]"),
    (lambda d: d["points"][1].update(distance_m=-5), "distance_m -5 must be more than 0 metres"),
    (lambda d: d["points"][1].pop("distance_m"), "has a bearing but no distance_m"),
    (
        lambda d: d["points"][1].update(lat=40.0, lon=46.0),
        "has both coordinates and a bearing/distance",
    ),
    (lambda d: d["points"][0].update(lat=95), "lat 95 is out of range"),
    (lambda d: d["points"][0].pop("lon"), "give both lat and lon"),
    (
        lambda d: d["points"][0].update(mgrs="38SPK5483422803"),
        "coordinates are given as lat/lon and MGRS",
    ),
    (
        lambda d: d["points"][0].update(lat=None, lon=None, mgrs="38SAK1234512345"),
        "point P0 (points[0]): MGRS reference '38SAK1234512345': column letter A",
    ),
    (
        lambda d: d["points"][0].update(lat=None, lon=None, utm_zone=38, easting=650000),
        "UTM coordinates need hemisphere, northing too",
    ),
    (
        lambda d: d["points"][0].update(
            lat=None, lon=None, utm_zone=38, hemisphere="N", easting=-1, northing=4e6
        ),
        "outside zone 38N",
    ),
    (lambda d: d["points"][2].update(closes=True), "closes is only for the last perimeter point"),
    (lambda d: d["points"][4].update(closes="maybe"), "closes 'maybe' should be true or false"),
    (lambda d: d.update(points=d["points"][:2]), "the perimeter has 2 point(s)"),
    (lambda d: d["points"][2].update(role="corner"), "role 'corner' is not one of"),
    (
        lambda d: d["points"][2].update(role="row"),
        "point P2 (points[2]): is a row point but names no row",
    ),
    (
        lambda d: d["points"].append(
            {"id": "R", "role": "row", "row": "R1", "bearing": 1, "distance_m": 1}
        ),
        "row 'R1' has 1 point",
    ),
    (lambda d: d["points"][2].update(mines_ap=4), "mine counts and types go on row points"),
    (lambda d: d["points"][2].update(colour="red"), "unknown field(s) 'colour'"),
    (lambda d: d.update(colour="red"), "unknown record field(s) 'colour'"),
    (lambda d: d.update(district="Agdamm"), "district 'Agdamm' is not known; did you mean Aghdam"),
    (
        lambda d: d.update(laid_on="12/03/1994"),
        "laid_on '12/03/1994' is not a date written YYYY-MM-DD",
    ),
    (lambda d: d.update(submitted_on="2999-01-01"), "submitted_on 2999-01-01 is in the future"),
    (lambda d: d.update(classification="XYZ"), "classification 'XYZ' is not one of SHA, CHA"),
    (
        lambda d: d.update(mines=[{"type": "PMN", "category": "UXO", "count": 3}]),
        "mines[0] (PMN): category 'UXO' must be AP or AT",
    ),
    (
        lambda d: d.update(mines=[{"type": "PMN", "category": "AP", "count": 2.5}]),
        "count 2.5 must be a whole number",
    ),
    (lambda d: d.update(points="P0"), "'points' must be a list of objects"),
]


@pytest.mark.parametrize(("change", "message"), BAD, ids=[m[:40] for _, m in BAD])
def test_bad_records(tmp_path, change, message):
    data = {"record_id": "MF-1", "north": "true", "points": square()}
    change(data)
    data["points"] = (
        [{k: v for k, v in p.items() if v is not None} for p in data["points"]]
        if isinstance(data["points"], list)
        else data["points"]
    )
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    with pytest.raises(records.RecordError) as info:
        records.read_record(path)
    assert message in str(info.value)
    assert str(info.value).startswith(str(path))
    assert isinstance(info.value, MinemapError)
    assert isinstance(info.value, ValueError)


def test_mils_without_their_circle_is_one_problem_not_one_per_bearing(tmp_path):
    points = square((0, 1600, 3200, 4800))
    with pytest.raises(records.RecordError) as info:
        records.read_record(write_record(tmp_path, points, bearing_unit="mils"))
    missing = "bearings are in mils but mils_per_circle is missing; say 6400 (NATO) or 6000"
    assert info.value.problems == [f"{missing} (Warsaw Pact)"]
    points[2]["bearing"] = 7000  # out of range for either circle
    with pytest.raises(records.RecordError, match="bearing 7000 is out of range 0 to 6400"):
        records.read_record(write_record(tmp_path, points, bearing_unit="mils"))


def test_every_problem_reported_at_once(tmp_path):
    points = square()
    points[1]["bearing"] = 400
    points[2]["frompoint"] = "nowhere"
    with pytest.raises(records.RecordError) as info:
        records.read_record(write_record(tmp_path, points, north="magnetic"))
    error = info.value
    assert len(error.problems) == 6  # 2 own + 4 legs without declination
    assert "bearing 400" in str(error)
    assert "unknown frompoint 'nowhere'" in str(error)


def test_self_crossing_perimeter(tmp_path):
    # A bow tie: the perimeter points are out of order.
    points = [
        {"id": "A", "lat": LAT0, "lon": LON0},
        {"id": "B", "bearing": 90, "distance_m": 100},
        {"id": "C", "bearing": 315, "distance_m": 141.42},
        {"id": "D", "bearing": 90, "distance_m": 100},
    ]
    with pytest.raises(
        records.RecordError,
        match=r"record.json: record MF-1: the perimeter \(A, B, C, D\) is not a valid polygon: "
        r"Self-intersection",
    ):
        run(tmp_path, points)


@pytest.mark.parametrize(
    ("name", "content", "error", "message"),
    [
        ("missing.json", None, InputFileError, "no such file"),
        ("empty.json", "  \n", InputFileError, "is empty"),
        ("broken.json", '{"record_id": ', InputFileError, "is not valid JSON"),
        ("list.json", "[1, 2]", records.RecordError, "a JSON record is an object"),
        ("record.kml", "<kml/>", InputFileError, "unknown record format '.kml'"),
        ("latin.csv", b"# record_id: \xe9\xff\n", InputFileError, "is not UTF-8"),
        (
            "header.csv",
            "# record_id: X\n# north: true\nid,colour\nA,red\n",
            records.RecordError,
            "line 3: unknown column(s) 'colour'",
        ),
        (
            "cells.csv",
            "# record_id: X\n# north: true\nid,lat\nA,40,47\n",
            records.RecordError,
            "line 4: 3 cells but 2 columns",
        ),
        (
            "mines.csv",
            "# record_id: X\n# mines: PMN 12\nid,lat\n",
            records.RecordError,
            "'TYPE CATEGORY COUNT'",
        ),
        ("nopoints.csv", "# record_id: X\n", records.RecordError, "no points table"),
        (
            "typo.csv",
            "# Surveyed by the 3rd company: May 1994\n# record_id: X\n# nort: true\nid,lat,lon\n",
            records.RecordError,
            "unknown record field(s) 'nort'",
        ),
    ],
)
def test_unreadable_records(tmp_path, name, content, error, message):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")) as info:
        records.read_record(path)
    assert str(path) in str(info.value)


def test_csv_record_lines_are_named(tmp_path):
    text = (
        "# Minefield record, test\n"
        "# record_id: MF-9\n"
        "# north: true\n"
        "id,lat,lon,bearing,distance_m\n"
        "P0,39.95,46.85,,\n"
        "P1,,,0,100\n"
        "P2,,,90,100\n"
        "P3,,,500,100\n"
    )
    path = tmp_path / "r.csv"
    path.write_text(text)
    with pytest.raises(records.RecordError, match=r"r\.csv: point P3 \(line 8\): bearing 500"):
        records.read_record(path)


def test_csv_decimal_commas_and_any_column_order(tmp_path):
    text = (
        "# record_id: MF-10\n"
        "# north: true\n"
        "distance_m,bearing,id,lon,lat\n"
        ',,P0,"46,85","39,95"\n'
        '"100,5",0,P1,,\n'
        "100,90,P2,,\n"
        "100,180,P3,,\n"
    )
    path = tmp_path / "comma.csv"
    path.write_text(text)
    result = records.traverse(records.read_record(path))
    got = coords(result)
    assert metres(got["P0"], (LON0, LAT0)) < 1e-6
    assert metres(got["P1"], got["P0"]) == pytest.approx(100.5, abs=1e-6)
