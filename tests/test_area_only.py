"""Releases kept as rows, with a hazard and hectares but no polygon (area-only releases)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import minemap as mm
from minemap import schema as s
from minemap.errors import ValidationError
from tests.common import LAEA, box, districts, examples, hazards, releases

REL = 1e-7


def by_area(rows, *, point=None) -> gpd.GeoDataFrame:
    """Area-only releases: ``(hazard_id, area_ha, date, method)`` rows, no polygon."""
    frame = pd.DataFrame(
        {
            s.RELEASE_ID: [f"A{i + 1}" for i in range(len(rows))],
            s.HAZARD_ID: [r[0] for r in rows],
            s.AREA_HA: [float(r[1]) for r in rows],
            s.RELEASED_ON: pd.to_datetime([r[2] if len(r) > 2 else "2022-02-01" for r in rows]),
            s.METHOD: [r[3] if len(r) > 3 else "cleared" for r in rows],
        }
    )
    geoms = [point] * len(rows)
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, crs=LAEA), crs=LAEA)


def mixed(polygons: gpd.GeoDataFrame, areas: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(pd.concat([polygons, areas], ignore_index=True), crs=LAEA)


def test_an_area_only_release_takes_its_hectares_from_its_hazard():
    hz = hazards(box(0, 0, 1000, 100), ap=[100])  # 10 ha
    rel = mixed(releases(box(0, 0, 400, 100)), by_area([("H1", 3)]))  # 4 ha + 3 ha
    rem = mm.remaining(hz, rel)
    row = rem.iloc[0]
    assert row[s.MAPPED_AREA_HA] == pytest.approx(10, rel=REL)
    assert row[s.RELEASED_AREA_HA] == pytest.approx(7, rel=REL)
    assert row[s.REMAINING_AREA_HA] == pytest.approx(3, rel=REL)
    assert row[s.RELEASED_AREA_ONLY_HA] == pytest.approx(3, rel=REL)
    assert row[s.REMAINING_MINES_EST] == pytest.approx(30, rel=REL)
    # The polygon is where the remaining ground lies (the 6 ha the polygons left).
    assert rem.to_crs(LAEA).geometry.iloc[0].area / 1e4 == pytest.approx(6, rel=1e-6)
    table = mm.by_district(hz, rel)
    total = table.set_index(s.DISTRICT).loc[s.UNASSIGNED]
    assert total[s.RELEASED_AREA_HA] == pytest.approx(7, rel=REL)
    assert total[s.RELEASED_AREA_ONLY_HA] == pytest.approx(3, rel=REL)
    assert rem.attrs["warnings"] == []


def test_the_excess_over_what_the_polygons_left_is_a_warning_and_never_below_zero():
    hz = hazards(box(0, 0, 1000, 100))
    rel = mixed(releases(box(0, 0, 400, 100)), by_area([("H1", 5), ("H1", 3)]))
    rem = mm.remaining(hz, rel)
    row = rem.iloc[0]
    assert row[s.REMAINING_AREA_HA] == 0
    assert row[s.RELEASED_AREA_HA] == pytest.approx(10, rel=REL)  # not 12: counted once
    assert row[s.RELEASED_AREA_ONLY_HA] == pytest.approx(6, rel=REL)
    assert rem.geometry.iloc[0].is_empty  # fully released
    (warning,) = rem.attrs["warnings"]
    assert "H1" in warning
    assert "8.00 ha" in warning
    assert "2.00 ha not counted" in warning


def test_the_share_is_spread_over_the_districts_in_proportion_to_area():
    hz = hazards(box(-100, 0, 300, 100), ap=[40])  # 1 ha west, 3 ha east
    ds = districts(["West", "East"], [box(-1000, -1000, 0, 1000), box(0, -1000, 1000, 1000)])
    rel = by_area([("H1", 2)])
    table = mm.by_district(hz, rel, ds).set_index(s.DISTRICT)
    assert table.loc["West", s.RELEASED_AREA_HA] == pytest.approx(0.5, rel=REL)
    assert table.loc["East", s.RELEASED_AREA_HA] == pytest.approx(1.5, rel=REL)
    assert table.loc["East", s.REMAINING_MINES_EST] == pytest.approx(15, rel=REL)
    assert table.loc["East", s.RELEASED_AREA_ONLY_HA] == pytest.approx(1.5, rel=REL)


def test_area_only_releases_follow_as_of_and_a_point_is_only_where_the_work_was():
    hz = hazards(box(0, 0, 1000, 100))
    point = shapely.Point(500, 50)
    rel = by_area([("H1", 2, "2022-01-10"), ("H1", 3, "2022-03-10")], point=point)
    early = mm.remaining(hz, rel, as_of="2022-02-01").iloc[0]
    late = mm.remaining(hz, rel).iloc[0]
    assert early[s.REMAINING_AREA_HA] == pytest.approx(8, rel=REL)
    assert late[s.REMAINING_AREA_HA] == pytest.approx(5, rel=REL)


def test_polygon_releases_dated_later_come_first_as_of_any_day():
    # A polygon released after the area-only report, over the whole hazard: as of the
    # last day the hazard is released once, not 12 ha out of 10.
    hz = hazards(box(0, 0, 1000, 100))
    rel = mixed(releases(box(0, 0, 1000, 100), dates=["2022-05-01"]), by_area([("H1", 2)]))
    assert mm.remaining(hz, rel, as_of="2022-03-01").iloc[0][s.REMAINING_AREA_HA] == (
        pytest.approx(8, rel=REL)
    )
    late = mm.remaining(hz, rel)
    assert late.iloc[0][s.RELEASED_AREA_HA] == pytest.approx(10, rel=REL)
    assert late.iloc[0][s.RELEASED_AREA_ONLY_HA] == 0
    assert "not counted" in late.attrs["warnings"][0]


def test_an_area_only_release_naming_no_hazard_is_refused():
    hz = hazards(box(0, 0, 1000, 100))
    with pytest.raises(ValidationError, match="name no hazard"):
        mm.remaining(hz, by_area([("H9", 2)]))


def test_overlapping_hazards_count_area_only_ground_once():
    # H1 is first: the shared 1 ha counts under H1; H2's area-only release takes
    # from H2's own remaining ground, and from the counted-once figures only H2's share.
    hz = hazards(box(0, 0, 200, 100), box(100, 0, 300, 100))
    rel = by_area([("H2", 1)])
    rem = mm.remaining(hz, rel)
    h2 = rem.set_index(s.HAZARD_ID).loc["H2"]
    assert h2[s.RELEASED_AREA_ONLY_HA] == pytest.approx(1, rel=REL)
    assert h2[s.NET_RELEASED_AREA_ONLY_HA] == pytest.approx(0.5, rel=REL)
    table = mm.by_district(rem)
    assert table[s.MAPPED_AREA_HA].sum() == pytest.approx(3, rel=REL)
    assert table[s.REMAINING_AREA_HA].sum() == pytest.approx(2.5, rel=REL)


# --- conservation: released + remaining = mapped ---------------------------------

coords = st.integers(min_value=0, max_value=40).map(lambda v: v * 25.0)


@st.composite
def rectangles(draw):
    x0, y0 = draw(coords), draw(coords)
    w = draw(st.integers(min_value=1, max_value=20)) * 25.0
    h = draw(st.integers(min_value=1, max_value=20)) * 25.0
    return box(x0, y0, x0 + w, y0 + h)


@st.composite
def scenes(draw):
    """Overlapping hazards, polygon releases and area-only releases, across two districts."""
    hz = draw(st.lists(rectangles(), min_size=1, max_size=5))
    polygons = draw(st.lists(rectangles(), min_size=0, max_size=5))
    day = st.integers(0, 365).map(lambda d: str(np.datetime64("2022-01-01") + d))
    polygon_days = [draw(day) for _ in polygons]
    areas = draw(
        st.lists(
            st.tuples(
                st.integers(0, len(hz) - 1).map(lambda i: f"H{i + 1}"),
                st.floats(0.01, 30, allow_nan=False),
                day,
                st.sampled_from(["cleared", "reduced", "cancelled"]),
            ),
            max_size=6,
        )
    )
    split_x = draw(coords) + 12.5
    rel = releases(*polygons, dates=polygon_days)
    if areas:
        rel = mixed(rel, by_area(areas))
    ds = districts(["W", "E"], [box(-10, -10, split_x, 1100), box(split_x, -10, 1100, 1100)])
    return hazards(*hz, ap=[50] * len(hz)), rel, ds, draw(st.one_of(st.none(), day))


@settings(max_examples=examples(80), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenes())
def test_conservation_with_area_only_and_polygon_releases_mixed(scene):
    hz, rel, ds, as_of = scene
    rem = mm.remaining(hz, rel, ds, as_of=as_of)
    mapped, released, left = (
        rem[c].to_numpy() for c in (s.MAPPED_AREA_HA, s.RELEASED_AREA_HA, s.REMAINING_AREA_HA)
    )
    assert (left >= 0).all()
    assert (released >= -1e-12).all()
    np.testing.assert_allclose(mapped, released + left, rtol=1e-9, atol=1e-12)
    net = [rem[c].to_numpy() for c in (s.NET_MAPPED_AREA_HA, s.NET_RELEASED_AREA_HA)]
    net_left = rem[s.NET_REMAINING_AREA_HA].to_numpy()
    assert (net_left >= 0).all()
    np.testing.assert_allclose(net[0], net[1] + net_left, rtol=1e-9, atol=1e-12)
    # Per hazard: its pieces together.
    per = rem.groupby(s.HAZARD_ID)[
        [s.MAPPED_AREA_HA, s.RELEASED_AREA_HA, s.REMAINING_AREA_HA, s.RELEASED_AREA_ONLY_HA]
    ].sum()
    np.testing.assert_allclose(
        per[s.MAPPED_AREA_HA], per[s.RELEASED_AREA_HA] + per[s.REMAINING_AREA_HA], rtol=1e-9
    )
    # Area-only ground never more than they said, nor than the ground there was.
    counted = rel[rel[s.RELEASED_ON] <= pd.Timestamp(as_of)] if as_of is not None else rel
    said = (
        counted.dropna(subset=[s.AREA_HA]).groupby(s.HAZARD_ID)[s.AREA_HA].sum()
        if s.AREA_HA in counted.columns
        else pd.Series(dtype=float)
    )
    taken = per[s.RELEASED_AREA_ONLY_HA]
    assert (taken <= said.reindex(taken.index, fill_value=0) + 1e-9).all()
    # Per district, counted once: the union of the hazards, conserved.
    table = mm.by_district(rem, districts=ds)
    tmapped, treleased, tleft = (
        table[c].to_numpy() for c in (s.MAPPED_AREA_HA, s.RELEASED_AREA_HA, s.REMAINING_AREA_HA)
    )
    np.testing.assert_allclose(tmapped, treleased + tleft, rtol=1e-9, atol=1e-9)
    union = shapely.union_all(hz.geometry.to_numpy()).area / 1e4
    assert tmapped.sum() == pytest.approx(union, rel=REL)
    assert (table[s.RELEASED_AREA_ONLY_HA] <= table[s.RELEASED_AREA_HA] + 1e-9).all()
    # Counted once never remains more than the records' own remaining ground.
    assert tleft.sum() <= left.sum() + 1e-9


# --- progress ---------------------------------------------------------------------


def test_progress_counts_area_only_releases_on_their_days():
    from minemap.progress import progress

    hz = hazards(box(-100, 0, 300, 100))  # 1 ha West, 3 ha East
    ds = districts(["West", "East"], [box(-1000, -1000, 0, 1000), box(0, -1000, 1000, 1000)])
    rel = mixed(
        releases(box(200, 0, 300, 100), dates=["2022-01-03"]),  # 1 ha, East
        by_area([("H1", 1.5, "2022-01-12", "reduced")]),
    )
    table = progress(hz, rel, ds, as_of="2022-01-16")
    week = table[table[s.PERIOD] == pd.Timestamp("2022-01-10")].set_index([s.DISTRICT, s.METHOD])
    # 1.5 ha of the 3 ha left: 0.5 ha of West's 1 ha, 1 ha of East's 2 ha.
    assert week.loc[("West", "reduced"), s.RELEASED_HA] == pytest.approx(0.5, rel=1e-6)
    assert week.loc[("East", "reduced"), s.RELEASED_HA] == pytest.approx(1.0, rel=1e-6)
    assert week.loc[("all", "all"), s.RELEASED_HA] == pytest.approx(1.5, rel=1e-6)
    assert week.loc[("all", "all"), s.REMAINING_HA] == pytest.approx(1.5, rel=1e-6)
    # The last period equals remaining's per-district table.
    by = mm.by_district(hz, rel, ds, as_of="2022-01-16").set_index(s.DISTRICT)
    for name in ("West", "East"):
        assert week.loc[(name, "all"), s.REMAINING_HA] == pytest.approx(
            by.loc[name, s.REMAINING_AREA_HA], rel=1e-6
        )


@settings(max_examples=examples(40), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenes())
def test_progress_agrees_with_remaining_with_area_only_releases(scene):
    from minemap.progress import progress

    hz, rel, ds, as_of = scene
    as_of = as_of or "2022-12-31"
    table = progress(hz, rel, ds, as_of=as_of)
    assert (table[s.RELEASED_HA] >= -1e-12).all()
    last = table[(table[s.PERIOD] == table[s.PERIOD].max()) & (table[s.METHOD] == s.ALL)]
    by = mm.by_district(hz, rel, ds, as_of=as_of).set_index(s.DISTRICT)
    for _, row in last.iterrows():
        if row[s.DISTRICT] == s.ALL:
            expected = by[s.REMAINING_AREA_HA].sum()
        else:
            expected = by[s.REMAINING_AREA_HA].get(row[s.DISTRICT], 0.0)
        assert row[s.REMAINING_HA] == pytest.approx(expected, rel=1e-6, abs=1e-6)


def test_accuracy_takes_no_searched_ground_from_an_area_only_release():
    from minemap.accuracy import accuracy

    hz = hazards(box(0, 0, 1000, 100))
    point = shapely.Point(500, 50)
    rel = mixed(releases(box(0, 0, 100, 100)), by_area([("H1", 3)], point=point))
    items = gpd.GeoDataFrame(
        {s.ITEM_ID: ["I1"], s.FOUND_ON: pd.to_datetime(["2022-01-03"]), s.ITEM_TYPE: ["AP"]},
        geometry=[shapely.Point(510, 50)],
        crs=LAEA,
    )
    table = accuracy(hz, rel, items, search_m=50)
    # The device lies 410 m from the cleared polygon: near no searched ground (the area-only
    # release's point is where the team worked, not ground searched).
    assert table[s.DEVICES_NEAR].iloc[0] == 0
    assert table[s.SEARCHED_SHARE].iloc[0] == pytest.approx(0.1, rel=1e-6)


def test_without_hazards_progress_and_bulletins_count_the_hectares_as_given():
    from minemap.progress import compare_reports, progress

    rel = mixed(
        releases(box(0, 0, 100, 100), dates=["2022-01-03"]),  # 1 ha
        by_area([("H1", 2.5, "2022-01-04", "reduced")]),
    )
    table = progress(releases=rel, as_of="2022-01-09")
    total = table[(table[s.DISTRICT] == s.ALL) & (table[s.METHOD] == s.ALL)]
    assert total[s.RELEASED_HA].sum() == pytest.approx(3.5, rel=1e-6)
    reports = pd.DataFrame(
        {
            s.PERIOD_START: pd.to_datetime(["2022-01-03"]),
            s.PERIOD_END: pd.to_datetime(["2022-01-09"]),
            s.AREA_HA: [3.0],
        }
    )
    compared = compare_reports(rel, reports, as_of="2022-01-09")
    assert compared[s.RELEASED_HA].iloc[0] == pytest.approx(3.5, rel=1e-6)
