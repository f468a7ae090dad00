"""Vectorised polygon overlay: arrays of geometries in, arrays out.

This is minemap's "shapely": pure geometry, no columns and no I/O (the overlay
stage of ``docs/design.md#data-flow``).
Every operation finds candidate pairs with one ``STRtree.query`` call, unions
only each target's own partners, and then runs one vectorised shapely
operation over all targets. Nothing here calls ``geopandas.overlay`` or
differences against one global union.

All inputs should be in one projected CRS (metres), valid and polygonal.
"""

from __future__ import annotations

import logging

import numpy as np
import shapely
from shapely.errors import GEOSException

__all__ = [
    "EMPTY",
    "candidate_pairs",
    "intersection",
    "make_disjoint",
    "node_near_vertices",
    "piece_keys",
    "polygonal",
    "split",
    "subtract",
    "subtract_unions",
    "tree",
    "union_by_group",
    "valid_polygonal",
    "without_flat_parts",
    "without_thin_parts",
]

log = logging.getLogger(__name__)

#: The empty polygon used for "nothing left".
EMPTY = shapely.Polygon()

#: Precision grid (CRS units, metres) used only where GEOS raises on a pair.
FALLBACK_GRID_SIZE = 1e-3

_POLYGONAL = (shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON)


def _as_array(geometries) -> np.ndarray:
    return np.asarray(geometries, dtype=object)


def polygonal(geometries) -> np.ndarray:
    """Keep only the polygonal part of each geometry; empty polygon where there is none.

    Intersections of polygons that touch along an edge or at a point return
    lines, points or collections; those parts have no area and are dropped.

    Examples
    --------
    >>> import shapely
    >>> a, b = shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)
    >>> polygonal([shapely.intersection(a, b)])[0].is_empty
    True
    """
    geoms = _as_array(geometries).copy()
    types = shapely.get_type_id(geoms)
    for i in np.flatnonzero(~np.isin(types, _POLYGONAL)):
        geom = geoms[i]
        if geom is None or geom.is_empty:
            geoms[i] = EMPTY
            continue
        parts = shapely.get_parts(geom)
        while np.any(shapely.get_type_id(parts) == shapely.GeometryType.GEOMETRYCOLLECTION):
            parts = shapely.get_parts(parts)
        parts = parts[np.isin(shapely.get_type_id(parts), _POLYGONAL)]
        parts = shapely.get_parts(parts)  # MultiPolygons to Polygons
        if len(parts) == 0:
            geoms[i] = EMPTY
        elif len(parts) == 1:
            geoms[i] = parts[0]
        else:
            geoms[i] = shapely.multipolygons(parts)
    return geoms


def without_flat_parts(geometries, min_area: float = 0.0) -> np.ndarray:
    """Polygons without their parts of area ``min_area`` or less (in the CRS's units).

    GEOS leaves such parts (two distinct points, 1e-10 m²) where two edges run
    along each other; they are not ground, and some formats and CRSs find them
    invalid. A polygon with nothing left becomes an empty MultiPolygon; other
    geometry types, and polygons without such parts, are returned as they are.

    Examples
    --------
    >>> import shapely
    >>> sliver = shapely.Polygon([(2, 0), (3, 0), (2, 1e-12)])
    >>> out = without_flat_parts([shapely.MultiPolygon([shapely.box(0, 0, 1, 1), sliver])], 1e-6)
    >>> float(out[0].area), len(out[0].geoms)
    (1.0, 1)
    """
    geoms = _as_array(geometries)
    # Only a polygon of several parts, or one of no area, can hold a flat part.
    suspect = np.flatnonzero(
        np.isin(shapely.get_type_id(geoms), _POLYGONAL)
        & ((shapely.get_num_geometries(geoms) > 1) | ~(shapely.area(geoms) > min_area))
    )
    parts, row = shapely.get_parts(geoms[suspect], return_index=True)
    flat = ~(shapely.area(parts) > min_area)
    if not flat.any():
        return geoms
    out = geoms.copy()
    for i in np.unique(row[flat]):
        kept = parts[(row == i) & ~flat]
        out[suspect[i]] = shapely.multipolygons(kept) if len(kept) else shapely.MultiPolygon()
    return out


def valid_polygonal(geometries, min_area: float = 0.0) -> np.ndarray:
    """Each geometry as a valid Polygon or MultiPolygon: what every writer may write.

    Geometries that already are one, valid and without parts of ``min_area``
    or less, are returned as they are (the same objects). The others are
    repaired by ``make_valid``, keep only their polygonal part (lines and
    points of a collection have no area), and lose their parts of ``min_area``
    or less; one with nothing left becomes the empty polygon. Missing
    geometries (``None``) stay missing.

    Examples
    --------
    >>> import shapely
    >>> bow_tie = shapely.Polygon([(0, 0), (2, 2), (2, 0), (0, 2)])
    >>> out = valid_polygonal([bow_tie, shapely.LineString([(0, 0), (1, 1)])])
    >>> [g.geom_type for g in out], float(out[0].area), out[1].is_empty
    (['MultiPolygon', 'Polygon'], 2.0, True)
    """
    geoms = _as_array(geometries)
    present = ~shapely.is_missing(geoms)
    fine = present & np.isin(shapely.get_type_id(geoms), _POLYGONAL)
    fine[fine] = shapely.is_valid(geoms[fine])
    out = geoms.copy()
    repair = np.flatnonzero(present & ~fine)
    if len(repair):
        out[repair] = polygonal(shapely.make_valid(geoms[repair]))
    out[present] = without_flat_parts(out[present], min_area)
    emptied = np.flatnonzero(present & shapely.is_empty(out))
    out[emptied] = EMPTY
    return out


def node_near_vertices(geometries, bend: float) -> np.ndarray:
    """Polygons with a vertex added on each edge where another of their vertices lies near it.

    A vertex lies near an edge of length ``L`` when it is within ``bend * L**2``
    of it (``bend`` per unit of length); the vertex added is its foot on the
    edge, so the polygon keeps its shape and its area. Two edges that run
    along each other then break at the same places: projected to another CRS,
    in which straight edges bend by up to about ``bend * L**2``, they bend
    alike and do not cross (without it, a 1 mm wide spike of a remaining
    polygon crosses itself in longitude/latitude). Geometries with no vertex
    near an edge are returned as they are (the same objects).

    Examples
    --------
    >>> import shapely
    >>> spike = [(10, 5), (300, 5.0005), (200, 5.0003), (10, 5.001)]  # 1 mm wide
    >>> square = shapely.Polygon([(0, 0), (10, 0), *spike, (10, 10), (0, 10)])
    >>> out = node_near_vertices([square], 1e-6)[0]
    >>> len(out.exterior.coords) - len(square.exterior.coords), abs(out.area - square.area) < 1e-9
    (1, True)
    """
    geoms = _as_array(geometries)
    out = geoms.copy()
    rows = np.flatnonzero(
        np.isin(shapely.get_type_id(geoms), _POLYGONAL) & ~shapely.is_empty(geoms)
    )
    if not len(rows):
        return out
    kind, coords, offsets = shapely.to_ragged_array(geoms[rows])
    ring_offsets, *rest = offsets
    part_offsets = rest[0] if kind == shapely.GeometryType.MULTIPOLYGON else None
    geom_offsets = rest[-1]
    n = len(coords)
    ring_of = np.repeat(np.arange(len(ring_offsets) - 1), np.diff(ring_offsets))
    part_of = (
        ring_of
        if part_offsets is None
        else np.repeat(np.arange(len(part_offsets) - 1), np.diff(part_offsets))[ring_of]
    )
    geom_of = np.repeat(np.arange(len(geom_offsets) - 1), np.diff(geom_offsets))[part_of]
    # Edge k runs from vertex k to vertex k + 1 of the same ring.
    edge = np.flatnonzero(np.r_[ring_of[1:] == ring_of[:-1], False])
    start, end = coords[edge], coords[edge + 1]
    length = np.hypot(*(end - start).T)
    reach = bend * length**2
    index = shapely.STRtree(shapely.linestrings(np.stack([start, end], axis=1)))
    # The closing vertex repeats the first: ask about each vertex once.
    first = np.flatnonzero(np.r_[True, ring_of[1:] != ring_of[:-1]])
    ask = np.setdiff1d(np.arange(n), np.r_[first[1:] - 1, n - 1])
    vi, ei = index.query(
        shapely.points(coords[ask]), predicate="dwithin", distance=float(reach.max(initial=0))
    )
    vi = ask[vi]
    keep = (geom_of[vi] == geom_of[edge[ei]]) & (reach[ei] > 0)
    vi, ei = vi[keep], ei[keep]
    a, d = start[ei], end[ei] - start[ei]
    t = np.einsum("ij,ij->i", coords[vi] - a, d) / length[ei] ** 2
    foot = a + t[:, None] * d
    gap = np.hypot(*(coords[vi] - foot).T)
    near = (gap <= reach[ei]) & (t > 1e-9) & (t < 1 - 1e-9)
    if not near.any():
        return out
    ei, t, foot = ei[near], t[near], foot[near]
    # New vertices go after the edge's start, in order along it.
    position = np.r_[np.arange(n, dtype=float), edge[ei] + t]
    merged = np.r_[coords, foot]
    order = np.argsort(position, kind="stable")
    merged, position = merged[order], position[order]
    keep = np.r_[True, np.diff(position) > 0]  # one vertex per foot
    merged = merged[keep]
    added = np.bincount(
        ring_of[np.floor(position[keep & (position % 1 > 0)]).astype(np.intp)],
        minlength=len(ring_offsets) - 1,
    )
    new_offsets = (ring_offsets + np.r_[0, np.cumsum(added)]).astype(ring_offsets.dtype)
    rebuilt = shapely.from_ragged_array(kind, merged, (new_offsets, *rest))
    touched = np.unique(geom_of[edge[ei]])
    single = shapely.get_type_id(geoms[rows[touched]]) == shapely.GeometryType.POLYGON
    rebuilt = rebuilt[touched]
    rebuilt[single] = shapely.get_geometry(rebuilt[single], 0)
    out[rows[touched]] = rebuilt
    return out


def without_thin_parts(geometries, width: float) -> np.ndarray:
    """Polygons without the parts of them narrower than ``width`` (in the CRS's units).

    A morphological opening (shrink by half the width, grow back, mitred
    corners): spikes, slivers and necks thinner than ``width`` go, the rest of
    the polygon keeps its corners and its area (to floating-point precision,
    and but for the tip of a corner sharper than 1°). Such parts are what
    edges drawn along each other in another projection leave behind; once
    projected to longitude/latitude their edges cross.

    Examples
    --------
    >>> import shapely
    >>> spike = [(10, 5), (30, 5.0005), (10, 5.001)]  # 20 m long, 1 mm wide
    >>> spiked = shapely.Polygon([(0, 0), (10, 0), *spike, (10, 10), (0, 10)])
    >>> out = without_thin_parts([spiked], 0.01)[0]
    >>> round(float(out.area), 9), float(out.bounds[2])
    (100.0, 10.0)
    """
    geoms = _as_array(geometries)
    style = {"join_style": "mitre", "mitre_limit": 100.0}
    opened = shapely.buffer(shapely.buffer(geoms, -width / 2, **style), width / 2, **style)
    # Growing back may round off nothing, but it may add a hair beyond the input at a
    # corner: keep only what was there.
    return polygonal(_robust_binary(shapely.intersection, opened, geoms))


def _robust_binary(operation, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Apply a vectorised binary operation, falling back only for the pairs where GEOS raises.

    A batch that raises is halved until the failing pairs are alone (a few
    vectorised calls, not a Python loop over every pair). A failing pair is
    retried with both operands repaired by ``make_valid`` and, if GEOS still
    raises, snapped to a 1 mm grid; nothing is dropped silently.
    """
    try:
        return operation(a, b)
    except GEOSException:
        if len(a) > 1:
            half = len(a) // 2
            return np.concatenate(
                [
                    _robust_binary(operation, a[:half], b[:half]),
                    _robust_binary(operation, a[half:], b[half:]),
                ]
            )
    x, y = shapely.make_valid(a), shapely.make_valid(b)
    try:
        return operation(x, y)
    except GEOSException:
        log.warning("GEOS failed on a pair; retrying on a %g m grid", FALLBACK_GRID_SIZE)
        return operation(x, y, grid_size=FALLBACK_GRID_SIZE)


def intersection(a, b) -> np.ndarray:
    """The polygonal part of ``a[i] ∩ b[i]`` for each pair, repaired where GEOS raises.

    Examples
    --------
    >>> import shapely
    >>> [float(g.area) for g in intersection([shapely.box(0, 0, 2, 1)], [shapely.box(1, 0, 3, 1)])]
    [1.0]
    """
    return polygonal(_robust_binary(shapely.intersection, _as_array(a), _as_array(b)))


def _robust_union(geoms: np.ndarray):
    try:
        return shapely.union_all(geoms)
    except GEOSException:
        try:
            return shapely.union_all(shapely.make_valid(geoms))
        except GEOSException:
            return shapely.union_all(shapely.make_valid(geoms), grid_size=FALLBACK_GRID_SIZE)


def tree(geometries) -> shapely.STRtree:
    """An ``STRtree`` over ``geometries``, built now so that threads can share it.

    GEOS builds a tree lazily on its first query; one query here does it on the
    calling thread, so later concurrent queries only read it.
    """
    index = shapely.STRtree(_as_array(geometries))
    if len(index.geometries):
        index.query(index.geometries[:1])
    return index


def candidate_pairs(
    targets, others, *, predicate: str = "intersects", tree: shapely.STRtree | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs ``(i, j)`` where ``predicate(targets[i], others[j])`` holds.

    One ``STRtree.query`` call; pairs are sorted by target, then by other.
    ``tree`` is an index already built over ``others`` (see :func:`tree`), so
    that chunks of targets can share one index of their neighbours.
    """
    targets, others = _as_array(targets), _as_array(others)
    if len(targets) == 0 or len(others) == 0:
        empty = np.empty(0, dtype=np.intp)
        return empty, empty.copy()
    index = tree if tree is not None else shapely.STRtree(others)
    ti, oi = index.query(targets, predicate=predicate)
    order = np.lexsort((oi, ti))
    return ti[order], oi[order]


def union_by_group(geometries, groups: np.ndarray, n: int) -> np.ndarray:
    """Union the geometries of each group; ``None`` for groups with no member.

    Parameters
    ----------
    geometries
        Geometries, one per member.
    groups
        Group number (0..n-1) of each member.
    n
        Number of groups.
    """
    geoms = _as_array(geometries)
    groups = np.asarray(groups, dtype=np.intp)
    out = np.full(n, None, dtype=object)
    if len(geoms) == 0:
        return out
    order = np.argsort(groups, kind="stable")
    groups, geoms = groups[order], geoms[order]
    starts = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]])
    ends = np.r_[starts[1:], len(groups)]
    sizes = ends - starts
    # Most targets have one partner: no union needed.
    single = sizes == 1
    out[groups[starts[single]]] = geoms[starts[single]]
    # The others in one vectorised union per band of group sizes (faster than a
    # loop of union_all calls, and free of the GIL): each group is a row of a
    # table padded with None, which union_all ignores.
    band = np.ceil(np.log2(np.maximum(sizes, 1))).astype(np.intp)
    for width_band in np.unique(band[~single]):
        chosen = np.flatnonzero(band == width_band)
        size = sizes[chosen]
        row = np.repeat(np.arange(len(chosen)), size)
        column = np.arange(len(row)) - np.repeat(np.cumsum(size) - size, size)
        table = np.full((len(chosen), int(size.max())), None, dtype=object)
        table[row, column] = geoms[starts[chosen][row] + column]
        try:
            out[groups[starts[chosen]]] = shapely.union_all(table, axis=1)
        except GEOSException:  # this band group by group, repairing where GEOS fails
            for k, start in enumerate(starts[chosen]):
                out[groups[start]] = _robust_union(table[k, : size[k]])
    return out


def subtract_unions(targets, unions) -> np.ndarray:
    """Each target minus its own union (``None`` leaves the target as it is)."""
    targets, unions = _as_array(targets), _as_array(unions)
    result = targets.copy()
    has = np.flatnonzero(unions != None)  # noqa: E711  (element-wise test for None)
    if len(has):
        result[has] = polygonal(_robust_binary(shapely.difference, targets[has], unions[has]))
    return result


def subtract(targets, cutters, *, return_unions: bool = False):
    """Each target minus the union of the cutters that intersect it.

    Parameters
    ----------
    targets, cutters
        Arrays of polygonal geometries in the same projected CRS.
    return_unions
        Also return, per target, the union of its cutters (``None`` where no
        cutter touches it), so that callers can intersect with it too.

    Examples
    --------
    >>> import shapely
    >>> out = subtract([shapely.box(0, 0, 2, 1)], [shapely.box(1, 0, 3, 1)])
    >>> float(out[0].area)
    1.0
    """
    targets, cutters = _as_array(targets), _as_array(cutters)
    ti, ci = candidate_pairs(targets, cutters)
    unions = union_by_group(cutters[ci], ti, len(targets))
    result = subtract_unions(targets, unions)
    return (result, unions) if return_unions else result


def make_disjoint(geometries) -> np.ndarray:
    """Remove from each geometry what earlier geometries in the array already cover.

    The results do not overlap and their union equals the union of the inputs,
    so the sum of their areas counts overlapping ground once. Earlier entries
    keep the shared ground.

    Examples
    --------
    >>> import shapely
    >>> parts = make_disjoint([shapely.box(0, 0, 2, 1), shapely.box(1, 0, 3, 1)])
    >>> [float(p.area) for p in parts]
    [2.0, 1.0]
    """
    geoms = _as_array(geometries)
    ti, oi = candidate_pairs(geoms, geoms)
    earlier = oi < ti
    unions = union_by_group(geoms[oi[earlier]], ti[earlier], len(geoms))
    return subtract_unions(geoms, unions)


def split(targets, zones) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cut targets along zone boundaries.

    Zones must not overlap each other (see :func:`make_disjoint`).

    Returns
    -------
    target_index, zone_index, pieces
        One entry per non-empty piece. ``zone_index`` is -1 for the part of a
        target outside every zone. Pieces are ordered by target, then zone,
        with the outside part last.
    """
    targets, zones = _as_array(targets), _as_array(zones)
    n = len(targets)
    if len(zones) == 0 or n == 0:
        wi = wz = ti = zi = np.empty(0, dtype=np.intp)
    else:
        # Zones are few and large (districts): each is prepared and tested against
        # an index of the targets, not each target against them.
        index = shapely.STRtree(targets)
        # A target wholly inside one zone is its own piece: no intersection needed.
        wz, wi = index.query(zones, predicate="contains")
        zi, ti = index.query(zones, predicate="intersects")
        order = np.lexsort((wz, wi))
        wi, wz = wi[order], wz[order]
        order = np.lexsort((zi, ti))
        ti, zi = ti[order], zi[order]
    whole = np.zeros(n, dtype=bool)
    whole[wi] = True
    cut = ~whole[ti]
    ti, zi = ti[cut], zi[cut]
    inside = intersection(targets[ti], zones[zi])
    partial = np.flatnonzero(~whole)
    # The part outside every zone: each target that meets a zone minus all zones
    # (GEOS clips the union to the target first); the others are outside whole.
    outside = targets[partial].copy()
    meets = np.flatnonzero(np.isin(partial, ti))
    if len(meets):
        everywhere = _robust_union(zones)
        outside[meets] = polygonal(
            _robust_binary(
                shapely.difference,
                targets[partial[meets]],
                np.full(len(meets), everywhere, dtype=object),
            )
        )

    t_idx = np.concatenate([wi, ti, partial])
    z_idx = np.concatenate([wz, zi, np.full(len(partial), -1, dtype=np.intp)])
    pieces = np.concatenate([targets[wi], inside, outside])
    keep = shapely.area(pieces) > 0
    t_idx, z_idx, pieces = t_idx[keep], z_idx[keep], pieces[keep]
    # Outside pieces (-1) sort after the zones of the same target.
    order = np.lexsort((np.where(z_idx < 0, np.iinfo(np.intp).max, z_idx), t_idx))
    return t_idx[order], z_idx[order], pieces[order]


def piece_keys(target_index: np.ndarray, zone_index: np.ndarray, n_zones: int) -> np.ndarray:
    """One integer per piece that sorts pieces as :func:`split` orders them.

    By target, then zone, with the part outside every zone (-1) last. Comparing
    keys tells which of two pieces comes first in the whole layer without
    holding the whole layer: what chunks and partitions need for
    :func:`minemap.partition.remaining_pieces`.
    """
    zone = np.where(zone_index < 0, n_zones, zone_index).astype(np.int64)
    return np.asarray(target_index, dtype=np.int64) * (n_zones + 1) + zone
