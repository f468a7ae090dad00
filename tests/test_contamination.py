"""Exact answers on rectangles, and the invariants of docs/design.md#semantics as properties."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import minemap as mm
from minemap import schema as s
from minemap.errors import SchemaError, ValidationError
from tests.common import UTM38N, box, districts, examples, hazards, releases

HA = 10_000.0
REL = 1e-7  # fixtures pass through longitude/latitude into minemap's own projection


def test_one_hazard_half_cleared():
    hz = hazards(box(0, 0, 200, 100), ap=[80], at=[20])
    rel = releases(box(100, 0, 300, 100))
    rem = mm.remaining(hz, rel)
    row = rem.iloc[0]
    assert row[s.MAPPED_AREA_HA] == pytest.approx(2.0, rel=REL)
    assert row[s.REMAINING_AREA_HA] == pytest.approx(1.0, rel=REL)
    assert row[s.RELEASED_AREA_HA] == pytest.approx(1.0, rel=REL)
    assert row[s.REMAINING_MINES_AP_EST] == pytest.approx(40, rel=REL)
    assert row[s.REMAINING_MINES_AT_EST] == pytest.approx(10, rel=REL)
    assert row[s.REMAINING_MINES_EST] == pytest.approx(50, rel=REL)
    assert row[s.DISTRICT] == s.UNASSIGNED


def test_overlapping_hazards_count_ground_once_but_mines_per_record():
    hz = hazards(box(0, 0, 200, 100), box(100, 0, 300, 100), ap=[10, 30])
    table = mm.by_district(hz, releases())
    total = table.set_index(s.DISTRICT).loc[s.UNASSIGNED]
    assert total[s.MAPPED_AREA_HA] == pytest.approx(3.0, rel=REL)  # not 4
    assert total[s.MAPPED_MINES] == pytest.approx(40)
    rem = mm.remaining(hz, releases())
    assert rem[s.MAPPED_AREA_HA].sum() == pytest.approx(4.0, rel=REL)  # each record whole
    assert rem[s.NET_MAPPED_AREA_HA].tolist() == pytest.approx([2.0, 1.0], rel=REL)


def test_boundary_crossing_hazard_is_split_and_mines_shared_by_area():
    hz = hazards(box(-100, 0, 300, 100), ap=[400], at=[40])
    ds = districts(["West", "East"], [box(-1000, -1000, 0, 1000), box(0, -1000, 1000, 1000)])
    rel = releases(box(200, 0, 300, 100))
    table = mm.by_district(hz, rel, ds).set_index(s.DISTRICT)
    assert list(table.index) == ["West", "East", s.UNASSIGNED]
    assert table.loc["West", s.MAPPED_AREA_HA] == pytest.approx(1.0, rel=REL)
    assert table.loc["East", s.MAPPED_AREA_HA] == pytest.approx(3.0, rel=REL)
    assert table.loc["West", s.MAPPED_MINES] == pytest.approx(110, rel=REL)
    assert table.loc["East", s.MAPPED_MINES] == pytest.approx(330, rel=REL)
    assert table.loc["East", s.REMAINING_MINES_EST] == pytest.approx(220, rel=REL)
    assert table.loc["East", s.RELEASED_AREA_HA] == pytest.approx(1.0, rel=REL)
    assert table.loc[s.UNASSIGNED, s.MAPPED_AREA_HA] == 0


def test_ground_outside_every_district_is_unassigned_not_dropped():
    hz = hazards(box(900, 0, 1100, 100), ap=[100])
    ds = districts(["A"], [box(0, 0, 1000, 1000)])
    table = mm.by_district(hz, releases(), ds).set_index(s.DISTRICT)
    assert table.loc["A", s.MAPPED_AREA_HA] == pytest.approx(1.0, rel=REL)
    assert table.loc[s.UNASSIGNED, s.MAPPED_AREA_HA] == pytest.approx(1.0, rel=REL)
    assert table.loc[s.UNASSIGNED, s.MAPPED_MINES] == pytest.approx(50, rel=REL)


def test_table_has_exact_leading_columns_and_a_row_per_district():
    ds = districts(["A", "B", "C"], [box(0, 0, 10, 10), box(10, 0, 20, 10), box(20, 0, 30, 10)])
    table = mm.by_district(hazards(box(1, 1, 3, 3)), releases(), ds)  # over validate.NO_AREA_M2
    assert tuple(table.columns[:6]) == s.TABLE_COLUMNS
    assert list(table[s.DISTRICT]) == ["A", "B", "C", s.UNASSIGNED]


def test_as_of_counts_releases_on_or_before_the_day():
    hz = hazards(box(0, 0, 300, 100))
    rel = releases(
        box(0, 0, 100, 100),
        box(100, 0, 200, 100),
        box(200, 0, 300, 100),
        dates=["2021-03-01", "2021-06-01", "2021-09-01"],
    )
    rem = lambda day: mm.remaining(hz, rel, as_of=day)[s.REMAINING_AREA_HA].iloc[0]  # noqa: E731
    assert rem("2021-02-28") == pytest.approx(3.0, rel=REL)
    assert rem("2021-03-01") == pytest.approx(2.0, rel=REL)
    assert rem("2021-08-31") == pytest.approx(1.0, rel=REL)
    assert rem(None) == pytest.approx(0.0, abs=1e-9)


def test_fully_released_record_stays_in_the_result_with_empty_geometry():
    hz = hazards(box(0, 0, 100, 100), box(500, 0, 600, 100))
    rem = mm.remaining(hz, releases(box(-10, -10, 110, 110)))
    assert len(rem) == 2
    assert rem.geometry.iloc[0].is_empty
    assert rem[s.REMAINING_MINES_EST].iloc[0] == 0


def test_district_attribute_used_without_a_districts_layer():
    hz = hazards(box(0, 0, 100, 100), box(500, 0, 600, 100), district=["Agdam", None])
    table = mm.by_district(hz, releases())
    assert set(table[s.DISTRICT]) == {"Agdam", s.UNASSIGNED}


def test_no_hazards_gives_a_table_of_zeros():
    ds = districts(["W", "E"], [box(0, 0, 100, 100), box(100, 0, 200, 100)])
    table = mm.by_district(hazards(), releases(box(0, 0, 50, 50)), ds)
    assert table[s.DISTRICT].tolist() == ["W", "E", s.UNASSIGNED]
    assert (table[list(s.TABLE_COLUMNS[1:])].to_numpy() == 0).all()


def test_remaining_polygons_of_the_sample_are_valid_without_slivers():
    import shapely

    from minemap import datasets

    rem = mm.remaining(datasets.hazards(), datasets.releases(), datasets.districts())
    geoms = rem.geometry.to_numpy()
    # GEOS left parts of two distinct points (1e-10 m²) along release edges: invalid.
    assert shapely.is_valid(geoms).all()
    parts = shapely.get_parts(geoms)
    assert (shapely.area(parts) > 0).all()
    closed = (rem[s.STATUS] == "closed").to_numpy()
    assert shapely.is_empty(geoms[closed]).all()  # fully released records: nothing left


def test_inputs_are_not_modified():
    hz = hazards(box(0, 0, 100, 100))
    rel = releases(box(50, 0, 100, 100))
    before = hz.copy(), rel.copy()
    mm.remaining(hz, rel)
    assert hz.equals(before[0])
    assert rel.equals(before[1])


def test_missing_column_names_the_fix():
    hz = hazards(box(0, 0, 100, 100)).drop(columns=[s.MINES_AT])
    with pytest.raises(SchemaError, match="mines_at"):
        mm.remaining(hz, releases())


def test_zero_area_hazard_is_refused():
    hz = hazards(box(0, 0, 100, 0))
    with pytest.raises(ValidationError, match="no area"):
        mm.remaining(hz, releases())


def test_areas_match_geodesic_areas_on_the_ellipsoid():
    import geopandas as gpd
    import shapely

    from minemap.geodesy import geodesic_area_ha

    # Real-sized records in Aghdam, given in longitude/latitude as files are.
    lonlat = [shapely.box(46.90, 39.98, 46.92, 39.99), shapely.box(47.20, 39.60, 47.23, 39.62)]
    hz = hazards(*lonlat).set_geometry(gpd.GeoSeries(lonlat, crs="EPSG:4326"))
    rem = mm.remaining(hz, releases())
    expected = geodesic_area_ha(hz.geometry.to_numpy())
    np.testing.assert_allclose(rem[s.MAPPED_AREA_HA], expected, rtol=5e-5)


# --- properties -------------------------------------------------------------

coords = st.integers(min_value=0, max_value=40).map(lambda v: v * 25.0)


@st.composite
def rectangles(draw):
    x0, y0 = draw(coords), draw(coords)
    w = draw(st.integers(min_value=1, max_value=20)) * 25.0
    h = draw(st.integers(min_value=1, max_value=20)) * 25.0
    return box(x0, y0, x0 + w, y0 + h)


@st.composite
def scenes(draw):
    hz = draw(st.lists(rectangles(), min_size=1, max_size=6))
    rel = draw(st.lists(rectangles(), min_size=0, max_size=6))
    days = draw(
        st.lists(st.integers(min_value=0, max_value=700), min_size=len(rel), max_size=len(rel))
    )
    ap = draw(st.lists(st.integers(0, 500), min_size=len(hz), max_size=len(hz)))
    at = draw(st.lists(st.integers(0, 500), min_size=len(hz), max_size=len(hz)))
    dates = [str(np.datetime64("2021-01-01") + d) for d in days]
    split_x = draw(coords) + 12.5
    return (
        hazards(*hz, ap=ap, at=at),
        releases(*rel, dates=dates),
        districts(["W", "E"], [box(-10, -10, split_x, 700), box(split_x, -10, 1100, 700)]),
    )


fast = settings(
    max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@fast
@given(scenes())
def test_conservation_per_district_and_in_total(scene):
    import shapely

    hz, rel, ds = scene
    table = mm.by_district(hz, rel, ds)
    mapped, released, left = (
        table[c].to_numpy() for c in (s.MAPPED_AREA_HA, s.RELEASED_AREA_HA, s.REMAINING_AREA_HA)
    )
    np.testing.assert_allclose(mapped, released + left, rtol=1e-9, atol=1e-9)
    union_ha = shapely.union_all(hz.geometry.to_numpy()).area / HA
    assert mapped.sum() == pytest.approx(union_ha, rel=REL)  # counted once
    mines = (hz[s.MINES_AP] + hz[s.MINES_AT]).sum()
    assert table[s.MAPPED_MINES].sum() == pytest.approx(mines, rel=1e-9, abs=1e-9)
    assert (table[s.REMAINING_MINES_EST] <= table[s.MAPPED_MINES] * (1 + 1e-9) + 1e-9).all()


@fast
@given(scenes())
def test_remaining_equals_hazard_union_minus_release_union(scene):
    import shapely

    hz, rel, _ = scene
    table = mm.by_district(hz, rel)
    expected = (
        shapely.difference(
            shapely.union_all(hz.geometry.to_numpy()), shapely.union_all(rel.geometry.to_numpy())
        ).area
        / HA
    )
    assert table[s.REMAINING_AREA_HA].sum() == pytest.approx(expected, rel=REL, abs=1e-6)


@fast
@given(scenes(), st.integers(0, 700), st.integers(0, 700))
def test_as_of_is_monotone(scene, a, b):
    hz, rel, ds = scene
    early, late = sorted((a, b))
    start = np.datetime64("2021-01-01")
    t1 = mm.by_district(hz, rel, ds, as_of=str(start + early))
    t2 = mm.by_district(hz, rel, ds, as_of=str(start + late))
    assert (t2[s.REMAINING_AREA_HA].to_numpy() <= t1[s.REMAINING_AREA_HA].to_numpy() + 1e-9).all()
    assert (
        t2[s.REMAINING_MINES_EST].to_numpy() <= t1[s.REMAINING_MINES_EST].to_numpy() + 1e-9
    ).all()


# --- strips cut along the hazards' own vertices, drawn in UTM -------------------


@st.composite
def strip_scenes(draw):
    """Hazards and the strips released across them, as drawn in UTM 38N near Aghdam.

    Each hazard is a star-shaped polygon of 4-9 vertices; one may be split into two
    records along a line (a shared edge); strips are cut across each record along
    its own vertices, neighbouring strips sharing an edge or overlapping by up to
    2 m, and a random subset of them is released. Two districts meet across the
    records.
    """
    from tests.common import star, strips

    metres = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)
    cx = 620_000 + draw(st.integers(-40, 40)) * 1_000 + draw(metres) * 1_000
    cy = 4_430_000 + draw(st.integers(-30, 30)) * 1_000 + draw(metres) * 1_000
    records = []
    for k in range(draw(st.integers(1, 2))):
        n = draw(st.integers(4, 9))
        angles = draw(st.lists(st.floats(0, 2 * np.pi), min_size=n, max_size=n, unique=True))
        radii = draw(st.lists(st.floats(150, 1_500), min_size=n, max_size=n))
        shape = star(cx + 600 * k, cy + 300 * k, angles, radii)
        if not shape.is_valid or shape.area < 1_000:
            continue
        if draw(st.booleans()):  # one minefield mapped as two records sharing an edge
            records.extend(strips(shape, draw(st.floats(0, np.pi)), [0.5], [0.0, 0.0]))
        else:
            records.append(shape)
    if not records:
        records.append(star(cx, cy, [0, 1.5, 3, 4.5], [400, 400, 400, 400]))
    released = []
    for record in records:
        cuts = draw(st.lists(st.floats(0.05, 0.95), min_size=1, max_size=5))
        overlaps = [
            draw(st.sampled_from([0.0, 0.0, draw(st.floats(0.0, 2.0))]))
            for _ in range(len(cuts) + 1)
        ]
        cut = strips(record, draw(st.floats(0, np.pi)), cuts, overlaps)
        released.extend(strip for strip in cut if draw(st.booleans()))
    split_x = cx + draw(st.floats(-800, 800))
    far = 50_000
    hz = hazards(*records, ap=[30] * len(records)).set_crs(UTM38N, allow_override=True)
    rel = releases(*released).set_crs(UTM38N, allow_override=True)
    ds = districts(
        ["W", "E"],
        [box(cx - far, cy - far, split_x, cy + far), box(split_x, cy - far, cx + far, cy + far)],
    ).set_crs(UTM38N, allow_override=True)
    return hz, rel, ds


@fast
@given(strip_scenes())
def test_strips_cut_along_hazard_vertices_leave_valid_polygons_and_conserve_area(scene):
    import shapely

    from minemap import geodesy

    hz, rel, ds = scene
    rem = mm.remaining(hz, rel, ds)
    geoms = rem.geometry.to_numpy()
    assert shapely.is_valid(geoms).all(), shapely.is_valid_reason(geoms).tolist()
    assert np.isin(shapely.get_type_id(geoms), [3, 6]).all()  # Polygon / MultiPolygon only
    # What is written is what is counted: the polygons' areas are the figures.
    crs = geodesy.equal_area_crs(hz.to_crs(s.CANONICAL_CRS).total_bounds)
    written = geodesy.area_ha(geodesy.project(geoms, s.CANONICAL_CRS, crs))
    mapped = rem[s.MAPPED_AREA_HA].to_numpy()
    np.testing.assert_allclose(written, rem[s.REMAINING_AREA_HA], rtol=0, atol=1e-9 * mapped.max())
    # Conservation per record and per district, in plain and counted-once figures.
    released, left = rem[s.RELEASED_AREA_HA].to_numpy(), rem[s.REMAINING_AREA_HA].to_numpy()
    np.testing.assert_allclose(mapped, released + left, rtol=1e-9, atol=1e-12)
    net = [rem[c].to_numpy() for c in (s.NET_MAPPED_AREA_HA, s.NET_RELEASED_AREA_HA)]
    np.testing.assert_allclose(
        net[0], net[1] + rem[s.NET_REMAINING_AREA_HA].to_numpy(), rtol=1e-9, atol=1e-12
    )
    table = mm.by_district(rem, districts=ds)
    mapped, released, left = (
        table[c].to_numpy() for c in (s.MAPPED_AREA_HA, s.RELEASED_AREA_HA, s.REMAINING_AREA_HA)
    )
    np.testing.assert_allclose(mapped, released + left, rtol=1e-9, atol=1e-12)


def test_a_record_on_less_than_a_square_metre_is_refused():
    from tests.common import UTM38N

    line = [(620_000.0, 4_430_000.0), (620_100.0, 4_430_050.0), (620_300.0, 4_430_150.0)]
    import shapely

    hz = hazards(shapely.Polygon(line), ap=[30]).set_crs(UTM38N, allow_override=True)
    with pytest.raises(ValidationError, match="less than 1 m²"):
        mm.remaining(hz, releases())
