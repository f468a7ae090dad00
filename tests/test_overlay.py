"""The vectorised geometry kernels, on exact rectangles and random layouts."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from minemap import overlay
from tests.common import box

EMPTY = shapely.Polygon()


def test_subtract_removes_only_touching_cutters():
    targets = [box(0, 0, 2, 1), box(10, 10, 11, 11)]
    cutters = [box(1, 0, 3, 1), box(1.5, 0, 1.8, 0.5)]
    out, unions = overlay.subtract(targets, cutters, return_unions=True)
    assert out[0].area == pytest.approx(1.0)
    assert out[1].equals(targets[1])  # untouched targets pass through unchanged
    assert unions[1] is None


def test_subtract_fully_covered_target_becomes_empty_polygon():
    out = overlay.subtract([box(0, 0, 1, 1)], [box(-1, -1, 2, 2)])
    assert out[0].is_empty
    assert out[0].geom_type == "Polygon"


def test_subtract_with_no_cutters_returns_targets():
    targets = [box(0, 0, 1, 1)]
    assert overlay.subtract(targets, [])[0].equals(targets[0])


def test_polygonal_drops_lines_and_points_from_touching_intersections():
    a, b, c = box(0, 0, 1, 1), box(1, 0, 2, 1), box(0.5, 0, 1.5, 1)
    inter = shapely.intersection(shapely.union_all([a, c]), b)
    mixed = shapely.GeometryCollection([inter, shapely.LineString([(5, 5), (6, 6)])])
    out = overlay.polygonal([shapely.intersection(a, b), mixed, None])
    assert out[0].is_empty
    assert out[1].area == pytest.approx(0.5)
    assert out[2].is_empty


def test_union_by_group_handles_singletons_and_gaps():
    geoms = np.array([box(0, 0, 1, 1), box(1, 0, 2, 1), box(5, 5, 6, 6)], dtype=object)
    out = overlay.union_by_group(geoms, np.array([2, 2, 0]), 4)
    assert out[0].equals(geoms[2])
    assert out[1] is None
    assert out[3] is None
    assert out[2].area == pytest.approx(2.0)


def test_make_disjoint_gives_shared_ground_to_the_first():
    parts = overlay.make_disjoint([box(0, 0, 2, 2), box(1, 1, 3, 3), box(0, 0, 2, 2)])
    assert [p.area for p in parts] == pytest.approx([4.0, 3.0, 0.0])


def test_split_pieces_by_zone_with_outside_part_last():
    zones = [box(0, 0, 10, 10), box(10, 0, 20, 10)]
    targets = [box(8, 2, 12, 4), box(1, 1, 2, 2), box(18, 8, 22, 12)]
    t, z, pieces = overlay.split(targets, zones)
    assert t.tolist() == [0, 0, 1, 2, 2]
    assert z.tolist() == [0, 1, 0, 1, -1]
    assert shapely.area(pieces).tolist() == pytest.approx([4.0, 4.0, 1.0, 4.0, 12.0])


coord = st.integers(0, 30).map(float)


@st.composite
def rects(draw):
    x, y = draw(coord), draw(coord)
    return box(x, y, x + draw(st.integers(1, 12)), y + draw(st.integers(1, 12)))


@settings(max_examples=80, deadline=None)
@given(st.lists(rects(), min_size=1, max_size=8))
def test_make_disjoint_partitions_the_union(geoms):
    parts = overlay.make_disjoint(geoms)
    union = shapely.union_all(geoms)
    assert shapely.area(parts).sum() == pytest.approx(union.area, rel=1e-12)
    for i in range(len(parts)):
        for j in range(i):
            assert shapely.intersection(parts[i], parts[j]).area == pytest.approx(0, abs=1e-9)


@settings(max_examples=80, deadline=None)
@given(st.lists(rects(), min_size=1, max_size=6), st.integers(1, 40))
def test_split_conserves_each_targets_area(targets, cut):
    zones = [box(-1, -1, cut + 0.5, 50), box(cut + 0.5, -1, 50, 20)]
    t, _, pieces = overlay.split(targets, zones)
    by_target = np.bincount(t, weights=shapely.area(pieces), minlength=len(targets))
    np.testing.assert_allclose(by_target, shapely.area(np.array(targets)), rtol=1e-12)


@settings(max_examples=80, deadline=None)
@given(st.lists(rects(), min_size=1, max_size=6), st.lists(rects(), max_size=6))
def test_subtract_matches_difference_with_the_global_union(targets, cutters):
    out = overlay.subtract(targets, cutters)
    everything = shapely.union_all(cutters) if cutters else EMPTY
    expected = shapely.area(shapely.difference(np.array(targets), everything))
    np.testing.assert_allclose(shapely.area(out), expected, rtol=1e-12, atol=1e-12)


# --- robustness: where GEOS raises, repair; never drop (issue 4) ----------------


def test_subtract_repairs_a_pair_that_makes_geos_raise_and_keeps_the_rest():
    bowtie = shapely.Polygon([(0, 0), (2, 2), (2, 0), (0, 2)])  # self-intersecting
    cutter = box(0.5, 0, 1.5, 2)
    with pytest.raises(shapely.errors.GEOSException):
        shapely.difference(bowtie, cutter)
    targets = [box(5, 5, 6, 6), bowtie, box(0, 0, 1, 1), box(1, 1, 2, 2)]
    out = overlay.subtract(targets, [cutter])
    expected = shapely.difference(shapely.make_valid(bowtie), cutter).area
    assert shapely.area(out).tolist() == pytest.approx([1.0, expected, 0.5, 0.5])
    assert expected == pytest.approx(1.5)


def test_pairs_that_still_raise_after_make_valid_are_snapped_to_a_grid(monkeypatch, caplog):
    real = shapely.difference
    calls = []

    def flaky(a, b, **kwargs):
        # GEOS "fails" on any batch holding the third target unless snapped to a grid.
        calls.append((np.size(a), kwargs.get("grid_size")))
        if kwargs.get("grid_size") is None and np.any(shapely.area(a) == 3.0):
            raise shapely.errors.GEOSException("TopologyException: test")
        return real(a, b, **kwargs)

    monkeypatch.setattr(shapely, "difference", flaky)
    targets = [box(i * 10, 0, i * 10 + 1 + (i == 2) * 2, 1) for i in range(8)]
    cutters = [box(i * 10 + 0.5, 0, i * 10 + 5, 1) for i in range(8)]
    out = overlay.subtract(targets, cutters)
    assert len(out) == 8
    assert shapely.area(out).tolist() == pytest.approx([0.5] * 8)
    assert [c for c in calls if c[1] is not None] == [(1, overlay.FALLBACK_GRID_SIZE)]
    assert "grid" in caplog.text
    # The failing batch is halved, not looped over pair by pair.
    assert len(calls) < 12


def test_piece_keys_sort_as_split_orders_pieces():
    t = np.array([0, 0, 0, 1, 2, 2])
    z = np.array([0, 3, -1, 1, 0, -1])
    keys = overlay.piece_keys(t, z, n_zones=4)
    assert (np.diff(keys) > 0).all()


def test_a_band_of_unions_that_makes_geos_raise_is_redone_group_by_group(monkeypatch):
    real = shapely.union_all
    calls = []

    def flaky(geometries, grid_size=None, axis=None, **kwargs):
        # GEOS "fails" on the vectorised union of the band holding the group with 3 members.
        calls.append(axis)
        table = np.asarray(geometries, dtype=object)
        if axis is not None and table.shape[1] >= 3 and grid_size is None:
            raise shapely.errors.GEOSException("TopologyException: test")
        return real(geometries, grid_size=grid_size, axis=axis, **kwargs)

    monkeypatch.setattr(shapely, "union_all", flaky)
    geoms = [box(0, 0, 1, 1), box(0.5, 0, 2, 1), box(5, 5, 6, 6), box(5, 5, 7, 6), box(6, 5, 8, 6)]
    groups = np.array([0, 0, 2, 2, 2])
    out = overlay.union_by_group(geoms, groups, 4)
    assert out[1] is None
    assert out[3] is None
    assert [shapely.area(out[0]), shapely.area(out[2])] == pytest.approx([2.0, 3.0])
    assert calls.count(None) == 1  # only the failing group, on its own


def test_flat_parts_are_dropped_and_nothing_else():
    sliver = shapely.Polygon([(2, 0), (3, 0), (2, 1e-9)])
    line = shapely.LineString([(0, 0), (1, 1)])
    square = box(0, 0, 1, 1)
    geoms = [shapely.MultiPolygon([square, sliver]), sliver, square, line, shapely.Polygon()]
    out = overlay.without_flat_parts(geoms, 1e-6)
    assert shapely.equals(out[0], square)
    assert out[1].is_empty
    assert out[1].geom_type == "MultiPolygon"
    assert out[2] is geoms[2]
    assert out[3] is line
    assert out[4].is_empty
    # Nothing flat: the very array comes back.
    clean = np.array([square, line], dtype=object)
    assert overlay.without_flat_parts(clean) is clean


# --- geometry fit to be written --------------------------------------------------


def test_valid_polygonal_repairs_only_what_needs_it_and_keeps_the_ground():
    square = box(0, 0, 1, 1)
    bow_tie = shapely.Polygon([(0, 0), (2, 2), (2, 0), (0, 2)])
    collection = shapely.GeometryCollection([box(5, 5, 6, 6), shapely.LineString([(7, 7), (8, 8)])])
    flat = shapely.Polygon([(3, 0), (4, 0), (3, 1e-12)])
    given = [square, bow_tie, collection, shapely.LineString([(0, 0), (1, 1)]), None]
    given.append(shapely.MultiPolygon([box(10, 0, 11, 1), flat]))
    out = overlay.valid_polygonal(given, min_area=1e-9)
    assert out[0] is square  # valid: the same object
    assert shapely.is_valid(out[:4]).all()
    assert [g.geom_type for g in out[:4]] == ["Polygon", "MultiPolygon", "Polygon", "Polygon"]
    assert out[1].area == pytest.approx(2.0)  # both triangles of the bow-tie
    assert out[2].equals(box(5, 5, 6, 6))
    assert out[3].is_empty
    assert out[4] is None
    assert out[5].area == pytest.approx(1.0)
    assert len(out[5].geoms) == 1


def _spiked(angle: float) -> shapely.Polygon:
    """A 10 m square with a spike 390 m long and 0.1-0.5 mm wide, in metres near Aghdam.

    Like what a strip cut along a hazard's vertices in UTM leaves of the hazard:
    one side of the spike is one long edge, the other has vertices along it.
    """
    ring = [(0, 0), (10, 0), (10, 5), (400, 5.0005), (300, 5.0007), (100, 5.0009), (10, 5.001)]
    spiked = shapely.Polygon([*ring, (10, 10), (0, 10)])
    return shapely.affinity.translate(shapely.affinity.rotate(spiked, angle, (0, 0)), 0, 30_000)


@pytest.mark.parametrize("angle", [150, 180, 240])
def test_node_near_vertices_keeps_a_spike_valid_in_longitude_latitude(angle):
    from minemap import geodesy

    crs = geodesy.equal_area_crs((46.5, 39.5, 47.5, 40.5))
    spiked = _spiked(angle)
    assert spiked.is_valid
    assert not geodesy.project([spiked], crs, "EPSG:4326")[0].is_valid  # the defect
    noded = overlay.node_near_vertices([spiked], 1e-6)[0]
    assert len(noded.exterior.coords) == len(spiked.exterior.coords) + 2  # two feet
    assert noded.area == pytest.approx(spiked.area, rel=1e-11)
    assert shapely.hausdorff_distance(noded, spiked) < 1e-9  # the same shape
    assert geodesy.project([noded], crs, "EPSG:4326")[0].is_valid


def test_node_near_vertices_leaves_other_geometries_as_they_are():
    square, hole = (
        box(0, 0, 100, 100),
        shapely.Polygon(box(0, 0, 100, 100).exterior, [box(10, 10, 20, 20).exterior.coords]),
    )
    given = [square, hole, EMPTY, None, shapely.Point(0, 0)]
    out = overlay.node_near_vertices(given, 1e-6)
    assert all(a is b for a, b in zip(out, given, strict=True))


def test_node_near_vertices_works_on_holes_and_parts_of_multipolygons():
    # A hole whose corner is 0.1 mm from the shell's long edge.
    shell = [(0, 0), (1000, 0), (1000, 1000), (0, 1000)]
    hole = [(400, 0.0001), (500, 50), (300, 50)]
    poly = shapely.Polygon(shell, [hole])
    multi = shapely.MultiPolygon([box(-10, -10, -5, -5), poly])
    out = overlay.node_near_vertices([poly, multi], 1e-6)
    assert out[0].geom_type == "Polygon"
    assert out[1].geom_type == "MultiPolygon"
    assert len(out[0].exterior.coords) == 6  # the foot of the hole's corner, on the shell
    assert len(out[1].geoms[1].exterior.coords) == 6
    assert out[0].area == pytest.approx(poly.area, rel=1e-12)


def test_without_thin_parts_removes_spikes_and_keeps_the_rest():
    spiked = _spiked(0)
    out = overlay.without_thin_parts([spiked, box(0, 0, 100, 100)], 1e-2)
    assert out[0].area == pytest.approx(100.0, rel=1e-9)
    assert out[0].bounds[2] == pytest.approx(10.0)
    assert out[1].area == pytest.approx(10_000.0, rel=1e-12)
