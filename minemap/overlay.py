"""Vectorised polygon overlay: arrays of geometries in, arrays out.

This is minemap's "shapely": pure geometry, no columns and no I/O (DESIGN §8).
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
    "make_disjoint",
    "polygonal",
    "split",
    "subtract",
    "subtract_unions",
    "union_by_group",
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


def _robust_binary(operation, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Apply a vectorised binary operation, falling back pair by pair where GEOS raises.

    The fallback repairs both operands with ``make_valid`` and, if GEOS still
    raises, snaps them to a 1 mm grid; nothing is dropped silently.
    """
    try:
        return operation(a, b)
    except GEOSException:
        pass
    out = np.empty(len(a), dtype=object)
    for i, (x, y) in enumerate(zip(a, b, strict=True)):
        try:  # only reached when GEOS raised on the whole batch
            out[i] = operation(x, y)
        except GEOSException:
            x, y = shapely.make_valid(x), shapely.make_valid(y)
            try:
                out[i] = operation(x, y)
            except GEOSException:
                log.warning("GEOS failed on a pair; retrying on a %g m grid", FALLBACK_GRID_SIZE)
                out[i] = operation(x, y, grid_size=FALLBACK_GRID_SIZE)
    return out


def _robust_union(geoms: np.ndarray):
    try:
        return shapely.union_all(geoms)
    except GEOSException:
        try:
            return shapely.union_all(shapely.make_valid(geoms))
        except GEOSException:
            return shapely.union_all(shapely.make_valid(geoms), grid_size=FALLBACK_GRID_SIZE)


def candidate_pairs(
    targets, others, *, predicate: str = "intersects"
) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs ``(i, j)`` where ``predicate(targets[i], others[j])`` holds.

    One ``STRtree.query`` call; pairs are sorted by target, then by other.
    """
    targets, others = _as_array(targets), _as_array(others)
    if len(targets) == 0 or len(others) == 0:
        empty = np.empty(0, dtype=np.intp)
        return empty, empty.copy()
    tree = shapely.STRtree(others)
    ti, oi = tree.query(targets, predicate=predicate)
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
    single = ends - starts == 1
    # Most targets have one partner: no union needed.
    out[groups[starts[single]]] = geoms[starts[single]]
    for start, end in zip(starts[~single], ends[~single], strict=True):
        out[groups[start]] = _robust_union(geoms[start:end])
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
    # A target wholly inside one zone is its own piece: no intersection needed.
    wi, wz = candidate_pairs(targets, zones, predicate="within")
    whole = np.zeros(n, dtype=bool)
    whole[wi] = True
    ti, zi = candidate_pairs(targets, zones)
    cut = ~whole[ti]
    ti, zi = ti[cut], zi[cut]
    inside = polygonal(_robust_binary(shapely.intersection, targets[ti], zones[zi]))
    partial = np.flatnonzero(~whole)
    outside = subtract(targets[partial], zones)

    t_idx = np.concatenate([wi, ti, partial])
    z_idx = np.concatenate([wz, zi, np.full(len(partial), -1, dtype=np.intp)])
    pieces = np.concatenate([targets[wi], inside, outside])
    keep = shapely.area(pieces) > 0
    t_idx, z_idx, pieces = t_idx[keep], z_idx[keep], pieces[keep]
    # Outside pieces (-1) sort after the zones of the same target.
    order = np.lexsort((np.where(z_idx < 0, np.iinfo(np.intp).max, z_idx), t_idx))
    return t_idx[order], z_idx[order], pieces[order]
