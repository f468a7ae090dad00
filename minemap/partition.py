"""Counting ground once as a planar partition of polygon boundaries.

Arrays of polygons in, arrays out: no columns, no I/O, no threads (the engine
in :mod:`minemap.engine` runs these kernels chunk by chunk).

The boundaries of every hazard piece and every release are cut at all their
crossings with one another. Between two crossings, a stretch of one ring (a
*run*) has the same polygons on its left and on its right: the polygon the
ring belongs to on the left only (rings are oriented with the interior on the
left), and every polygon that covers the run on both sides. The area of any
region that is a function of those covering polygons ("the earliest hazard
here is piece *p* and no release covers it", "the earliest release here is
*r*") is then, by Green's theorem, a sum over runs: each run adds
``∫ x dy`` along it when the region lies on its left and not on its right, and
subtracts it in the opposite case. Every per-record, per-district and as-of
figure is such a sum, so one partition answers them all; the remaining ground
of each piece is assembled from the same runs.

Exactness. Whether two segments cross, and on which side of a segment a
vertex lies, is decided exactly: a floating-point orientation test with
Shewchuk's error bound, rational arithmetic where the bound cannot decide, and
*simulation of simplicity* where a vertex lies exactly on another polygon's
edge (shared vertices and edges, identical copies): each polygon is moved by
its own infinitesimal shift, smaller for later polygons, so that no two
boundaries share a point without crossing. Ground that only the shifts create
or remove has no area, so every figure is the figure of the unshifted
polygons. Crossing points are rounded to floating point only to measure and
draw, never to decide; the few remaining pieces whose assembled geometry is
not valid are left to the caller's fallback (see :func:`remaining_pieces`).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import shapely

__all__ = [
    "HAZARD",
    "NONE",
    "RELEASE",
    "Arrangement",
    "arrange",
]

#: Families of polygons in an arrangement.
HAZARD, RELEASE = 0, 1

#: "No polygon" in a label (larger than any order).
NONE = np.iinfo(np.int64).max

# Shewchuk's ccwerrboundA, (3 + 16 eps) eps with eps = 2**-53: a floating-point
# orientation larger than this times the sum of its two products' magnitudes has
# the sign of the exact one.
_ERR = 3.3306690738754716e-16

# Cells of the segment grid: about this many times the median segment's extent.
_CELL = 1.5
# A segment whose box covers more grid cells than this is paired through an STRtree.
_MAX_CELLS = 256


def _empty_int(n: int = 0) -> np.ndarray:
    return np.zeros(n, dtype=np.int64)


@dataclass
class Segments:
    """The segments of a set of polygons, ring by ring, interior on the left.

    Attributes
    ----------
    x0, y0, x1, y1
        End points of each segment (no segment of zero length).
    ring
        Ring of each segment; a ring's segments are consecutive, in ring order.
    ring_poly
        Polygon (position in the input) of each ring.
    ring_start, ring_count
        First segment and number of segments of each ring (rings of fewer than
        three distinct vertices have none: they hold no ground).
    xref
        Per polygon, the x of one of its vertices: the origin of ``∫ (x - xref) dy``,
        kept near the polygon so that sums of such integrals stay exact to
        about 1e-16 of the local extent.
    """

    x0: np.ndarray
    y0: np.ndarray
    x1: np.ndarray
    y1: np.ndarray
    ring: np.ndarray
    ring_poly: np.ndarray
    ring_start: np.ndarray
    ring_count: np.ndarray
    xref: np.ndarray

    @property
    def poly(self) -> np.ndarray:
        return self.ring_poly[self.ring]

    @property
    def position(self) -> np.ndarray:
        """Position of each segment in its ring (0 for the first)."""
        return np.arange(len(self.x0)) - self.ring_start[self.ring]


def segments(polygons) -> Segments:
    """Cut polygons into oriented segments (shells counter-clockwise, holes clockwise).

    Parameters
    ----------
    polygons
        Polygons or multipolygons (``None`` and empty ones hold no ring).
    """
    geoms = np.asarray(polygons, dtype=object)
    n = len(geoms)
    present = ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)
    if not present.any():
        f = np.zeros(0)
        i = _empty_int()
        return Segments(f, f, f, f, i, i, i, i, np.zeros(n))
    rows = np.flatnonzero(present)
    kind, xy, offsets = shapely.to_ragged_array(geoms[rows])
    if kind == shapely.GeometryType.POLYGON:
        ring_off, poly_ring = offsets
        ring_part_first = poly_ring
        part_of_ring = np.searchsorted(poly_ring, np.arange(len(ring_off) - 1), "right") - 1
        poly_of_part = np.arange(len(poly_ring) - 1)
    elif kind == shapely.GeometryType.MULTIPOLYGON:
        ring_off, part_ring, poly_part = offsets
        ring_part_first = part_ring
        part_of_ring = np.searchsorted(part_ring, np.arange(len(ring_off) - 1), "right") - 1
        poly_of_part = np.searchsorted(poly_part, np.arange(len(part_ring) - 1), "right") - 1
    else:  # pragma: no cover - callers pass polygons only
        raise TypeError(f"polygons expected, not {kind!r}")
    ring_off = np.asarray(ring_off, dtype=np.int64)
    n_rings = len(ring_off) - 1
    ring_poly = rows[poly_of_part[part_of_ring]]
    exterior = np.arange(n_rings) == np.asarray(ring_part_first, dtype=np.int64)[part_of_ring]
    coord_ring = np.repeat(np.arange(n_rings), np.diff(ring_off))

    # Reference x of each polygon: its first vertex.
    xref = np.zeros(n)
    first_ring = np.r_[True, ring_poly[1:] != ring_poly[:-1]]
    xref[ring_poly[first_ring]] = xy[ring_off[:-1][first_ring], 0]

    # Orientation: signed area of each ring around its polygon's reference.
    x = xy[:, 0] - xref[ring_poly[coord_ring]]
    y = xy[:, 1]
    last = np.r_[coord_ring[1:] != coord_ring[:-1], True]  # the closing vertex
    step = np.flatnonzero(~last)
    twice = np.bincount(
        coord_ring[step],
        weights=x[step] * y[step + 1] - x[step + 1] * y[step],
        minlength=n_rings,
    )
    flip = np.flatnonzero(np.where(exterior, twice < 0, twice > 0))
    if len(flip):
        take = np.arange(len(xy))
        in_flip = np.zeros(n_rings, dtype=bool)
        in_flip[flip] = True
        c = np.flatnonzero(in_flip[coord_ring])
        r = coord_ring[c]
        take[c] = ring_off[r] + ring_off[r + 1] - 1 - c
        xy = xy[take]

    start = np.flatnonzero(~last)
    x0, y0 = xy[start, 0], xy[start, 1]
    x1, y1 = xy[start + 1, 0], xy[start + 1, 1]
    ring = coord_ring[start]
    keep = (x0 != x1) | (y0 != y1)
    count = np.bincount(ring[keep], minlength=n_rings)
    keep &= count[ring] >= 3
    x0, y0, x1, y1, ring = x0[keep], y0[keep], x1[keep], y1[keep], ring[keep]
    ring_count = np.bincount(ring, minlength=n_rings)
    ring_start = np.cumsum(ring_count) - ring_count
    return Segments(x0, y0, x1, y1, ring, ring_poly, ring_start, ring_count, xref)


# --- exact predicates ----------------------------------------------------------------


def _two_diff(a, b):
    s = a - b
    bb = a - s
    return s, (a - (s + bb)) + (bb - b)


def _split(a):
    t = 134217729.0 * a  # 2**27 + 1 (Dekker)
    hi = t - (t - a)
    return hi, a - hi


def _two_product(a, b):
    p = a * b
    ah, al = _split(a)
    bh, bl = _split(b)
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


def _orientation_expansion(ax, ay, bx, by, cx, cy) -> np.ndarray:
    """``(a - c) × (b - c)`` as a non-overlapping expansion, largest term last.

    Error-free transformations: each difference is an exact sum of two
    floats, each product of those an exact sum of two more, so the
    orientation is an exact sum of sixteen floats; distillation (error-free
    summation repeated until nothing changes) makes the terms non-overlapping,
    so the last is the sum rounded and the one before it what rounding left.
    """
    terms = []
    x = _two_diff(np.asarray(ax, float), np.asarray(cx, float))
    y = _two_diff(np.asarray(by, float), np.asarray(cy, float))
    u = _two_diff(np.asarray(ay, float), np.asarray(cy, float))
    v = _two_diff(np.asarray(bx, float), np.asarray(cx, float))
    for p in x:
        for q in y:
            terms.extend(_two_product(p, q))
    for p in u:
        for q in v:
            terms.extend(-t for t in _two_product(p, q))
    t = np.stack(terms, axis=1)
    for _ in range(64):
        before = t.copy()
        for i in range(1, t.shape[1]):
            s = t[:, i - 1] + t[:, i]
            bb = s - t[:, i - 1]
            t[:, i - 1] = (t[:, i - 1] - (s - bb)) + (t[:, i] - bb)
            t[:, i] = s
        if np.array_equal(t, before):
            break
    return t


def exact_orientation_sign(ax, ay, bx, by, cx, cy) -> np.ndarray:
    """Exact sign of ``(a - c) × (b - c)`` for arrays of floating-point points.

    For the few orientations that rounding cannot decide (see
    :func:`_orientation_expansion`).
    """
    return np.sign(_orientation_expansion(ax, ay, bx, by, cx, cy)[:, -1]).astype(np.int8)


def _quick_two_sum(a, b):
    s = a + b
    return s, b - (s - a)


def _dd_parameter(seg: Segments, on: np.ndarray, other: np.ndarray):
    """Where segments ``on`` cross the lines of segments ``other``, in double-double.

    ``A / (A - B)`` with ``A`` and ``B`` the orientations of the ends of ``on``
    from ``other``, each to about 106 bits: about 1e-31 of the segment. For
    ordering crossings that rounding to floating point cannot tell apart.
    """
    ox0, oy0, ox1, oy1 = seg.x0[other], seg.y0[other], seg.x1[other], seg.y1[other]
    a = _orientation_expansion(ox0, oy0, ox1, oy1, seg.x0[on], seg.y0[on])[:, -2:]
    b = _orientation_expansion(ox0, oy0, ox1, oy1, seg.x1[on], seg.y1[on])[:, -2:]
    ah, al = a[:, 1], a[:, 0]
    # d = a - b
    s = ah - b[:, 1]
    bb = s - ah
    e = (ah - (s - bb)) + (-b[:, 1] - bb) + (al - b[:, 0])
    dh, dl = _quick_two_sum(s, e)
    with np.errstate(invalid="ignore", divide="ignore"):
        q1 = ah / dh
        p, pe = _two_product(q1, dh)
        r = ((ah - p) - pe + al) - q1 * dl
        q2 = r / dh
    hi, lo = _quick_two_sum(q1, q2)
    zero = (ah == 0) & (al == 0)
    one = (b[:, 1] == 0) & (b[:, 0] == 0)
    hi = np.where(zero, 0.0, np.where(one, 1.0, hi))
    lo = np.where(zero | one, 0.0, lo)
    return np.nan_to_num(hi), np.nan_to_num(lo)


def orientation(ax, ay, bx, by, cx, cy, ab_id, c_id) -> tuple[np.ndarray, np.ndarray]:
    """Side of point ``c`` from segment ``a → b``: +1 left, -1 right; never 0.

    Exact: floating point where Shewchuk's bound decides, rationals where it
    does not, and simulation of simplicity where ``c`` lies exactly on the
    line: polygon ``k`` is shifted by ``(e_k, e_k**2)`` with ``e_k`` much
    larger than ``e_(k+1)``, so the point of the polygon with the smaller id
    moves first.

    Parameters
    ----------
    ax, ay, bx, by
        The segment (of the polygon ``ab_id``).
    cx, cy
        The point (of the polygon ``c_id``, never ``ab_id``).

    Returns
    -------
    sign, value, bound
        The exact sign; the floating-point orientation (twice the signed area
        of the triangle; 0 where ``c`` lies exactly on the line); and a bound
        on the difference between that value and the exact one.
    """
    left = (ax - cx) * (by - cy)
    right = (ay - cy) * (bx - cx)
    value = left - right
    bound = _ERR * (np.abs(left) + np.abs(right))
    sign = np.sign(value).astype(np.int8)
    unsure = np.flatnonzero(~(np.abs(value) > bound) & ((left != 0) | (right != 0)))
    if len(unsure):
        sign[unsure] = exact_orientation_sign(
            ax[unsure], ay[unsure], bx[unsure], by[unsure], cx[unsure], cy[unsure]
        )
    zero = np.flatnonzero(sign == 0)
    if len(zero):
        value = value.copy()
        value[zero] = 0.0
        bound[zero] = 0.0
        dx = bx[zero] - ax[zero]
        dy = by[zero] - ay[zero]
        # c moves by s_c - s_ab; the larger shift leads. With c first the shift is
        # about (e, e**2): cross((dx, dy), (1, e)) has the sign of -dy, or of dx.
        lead = np.where(dy != 0, -np.sign(dy), np.sign(dx)).astype(np.int8)
        sign[zero] = np.where(np.asarray(c_id)[zero] < np.asarray(ab_id)[zero], lead, -lead)
    return sign, value, bound


def _parameter(v_from, b_from, v_to, b_to):
    """Where a segment crosses a line, from the orientations of its ends: value, low, high."""
    a, b = np.abs(v_from), np.abs(v_to)
    with np.errstate(invalid="ignore", divide="ignore"):
        value = np.nan_to_num(a / (a + b))
        a_lo, b_lo = np.maximum(a - b_from, 0.0), np.maximum(b - b_to, 0.0)
        low = np.nan_to_num(a_lo / (a_lo + b + b_to))
        high = np.nan_to_num((a + b_from) / (a + b_from + b_lo), nan=1.0)
    ulp = 4e-16
    return value, np.maximum(low * (1 - ulp) - ulp, 0.0), np.minimum(high * (1 + ulp) + ulp, 1.0)


# --- candidate pairs of segments ----------------------------------------------------


def _boxes(seg: Segments):
    return (
        np.minimum(seg.x0, seg.x1),
        np.minimum(seg.y0, seg.y1),
        np.maximum(seg.x0, seg.x1),
        np.maximum(seg.y0, seg.y1),
    )


def segment_pairs(seg: Segments, sos: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of segments of different polygons whose boxes meet, each pair once.

    A uniform grid of cells about the size of a segment: two segments are a
    candidate pair if they share a cell, counted in the cell that holds the
    lower-left corner of their boxes' overlap. Each pair comes out with the
    segment of the polygon with the smaller ``sos`` id first.
    """
    n = len(seg.x0)
    if n == 0:
        return _empty_int(), _empty_int()
    bx0, by0, bx1, by1 = _boxes(seg)
    poly = seg.poly
    extent = np.maximum(bx1 - bx0, by1 - by0)
    span = max(float(bx1.max() - bx0.min()), float(by1.max() - by0.min()), 1e-9)
    # Not so small that cell numbers overflow, whatever the layer's extent.
    size = max(float(np.median(extent)) * _CELL, span / 2**20, 1e-9)
    ox, oy = float(bx0.min()), float(by0.min())
    cx0 = ((bx0 - ox) / size).astype(np.int64)
    cx1 = ((bx1 - ox) / size).astype(np.int64)
    cy0 = ((by0 - oy) / size).astype(np.int64)
    cy1 = ((by1 - oy) / size).astype(np.int64)
    nx, ny = cx1 - cx0 + 1, cy1 - cy0 + 1
    cells = nx * ny
    big = cells > _MAX_CELLS
    small = np.flatnonzero(~big)

    count = cells[small]
    entry = np.repeat(small, count)
    offset = np.arange(len(entry)) - np.repeat(np.cumsum(count) - count, count)
    gx = cx0[entry] + offset % nx[entry]
    gy = cy0[entry] + offset // nx[entry]
    # Each entry: whether its cell is in the first column, and the first row, of
    # its segment's cells. Two segments are paired only in the cell where both
    # the first column and the first row of their boxes' overlap meet.
    corner = (gx == cx0[entry]).astype(np.int8) | ((gy == cy0[entry]).astype(np.int8) << 1)
    cell = gx * (int(cy1.max()) + 1) + gy
    order = np.argsort(cell, kind="stable")
    entry, cell, corner = entry[order], cell[order], corner[order]
    first = np.ones(len(entry), dtype=bool)
    first[1:] = cell[1:] != cell[:-1]
    group_start = np.flatnonzero(first)
    group_end = np.r_[group_start[1:], len(entry)]
    size = group_end - group_start
    # Every pair of entries of a cell, cells of one size at a time (a template of
    # pairs added to each cell's first entry).
    us, vs = [], []
    for g in np.unique(size[size > 1]):
        i, j = np.triu_indices(int(g), 1)
        base = group_start[size == g][:, None]
        us.append((base + i).ravel())
        vs.append((base + j).ravel())
    u = np.concatenate(us) if us else _empty_int()
    v = np.concatenate(vs) if vs else _empty_int()
    keep = (corner[u] | corner[v]) == 3
    u, v = u[keep], v[keep]
    # Entries of a cell are next to each other: compare in the entries' order.
    e_poly, e_x0, e_x1, e_y0, e_y1 = poly[entry], bx0[entry], bx1[entry], by0[entry], by1[entry]
    keep = e_poly[u] != e_poly[v]
    u, v = u[keep], v[keep]
    keep = (e_x0[u] <= e_x1[v]) & (e_x0[v] <= e_x1[u]) & (e_y0[u] <= e_y1[v]) & (e_y0[v] <= e_y1[u])
    a, b = entry[u[keep]], entry[v[keep]]

    if big.any():
        tree = shapely.STRtree(shapely.box(bx0, by0, bx1, by1))
        bi, other = tree.query(shapely.box(bx0[big], by0[big], bx1[big], by1[big]))
        bi = np.flatnonzero(big)[bi]
        # big × small once; big × big once (the smaller index first)
        keep = (poly[bi] != poly[other]) & (~big[other] | (bi < other))
        a = np.r_[a, bi[keep]]
        b = np.r_[b, other[keep]]

    swap = sos[poly[a]] > sos[poly[b]]
    return np.where(swap, b, a), np.where(swap, a, b)


# --- the arrangement -----------------------------------------------------------------


@dataclass
class Arrangement:
    """Runs of every ring of a set of polygons, with the polygons that cover each.

    Attributes
    ----------
    seg
        The polygons' segments.
    sos
        Per polygon, its id for simulation of simplicity (the same polygon must
        have the same id in every chunk, and ids must differ).
    run_poly, run_ring
        Polygon and ring of each run.
    run_w
        ``∫ (x - xref) dy`` along the run (``xref`` of its own polygon).
    run_dy
        ``Δy`` along the run: moves the integral to another polygon's
        reference (``w + (xref_a - xref_b) Δy``).
    run_start, run_end
        Crossing where the run begins and ends (-1: a ring crossed by nothing,
        one run all round).
    run_seg0, run_seg1
        Segment where the run begins and ends.
    ring_first_run, ring_runs
        Per ring: its first run and number of runs (runs of a ring are
        consecutive, in ring order).
    cover_run, cover_poly
        One entry per run and polygon (other than its own) that covers it.
    cross_x, cross_y
        Crossing points (rounded to floating point: for measuring and drawing).
    cross_node
        Per crossing, the smallest crossing at the same place (crossings of
        three or more boundaries through one point): a node of the partition.
    consistent
        Whether every ring met every polygon in alternately entering and
        leaving it (else runs were tested one by one).
    """

    seg: Segments
    sos: np.ndarray
    run_poly: np.ndarray
    run_ring: np.ndarray
    run_w: np.ndarray
    run_dy: np.ndarray
    run_start: np.ndarray
    run_end: np.ndarray
    run_seg0: np.ndarray
    run_seg1: np.ndarray
    ring_first_run: np.ndarray
    ring_runs: np.ndarray
    cover_run: np.ndarray
    cover_poly: np.ndarray
    cross_x: np.ndarray
    cross_y: np.ndarray
    cross_node: np.ndarray
    consistent: bool


def _crossings(seg: Segments, s: np.ndarray, t: np.ndarray, sos: np.ndarray):
    """Exact proper crossings of the pairs ``s`` (lower id) × ``t``.

    Returns, per crossing: the two segments; where the crossing lies along
    each (0 to 1) with bounds on the exact value; the point; and whether
    ``s``'s ring enters ``t``'s polygon there, and ``t``'s ring ``s``'s.
    """
    ps, pt = sos[seg.poly[s]], sos[seg.poly[t]]
    sx0, sy0, sx1, sy1 = seg.x0[s], seg.y0[s], seg.x1[s], seg.y1[s]
    tx0, ty0, tx1, ty1 = seg.x0[t], seg.y0[t], seg.x1[t], seg.y1[t]
    o1, v1, b1 = orientation(sx0, sy0, sx1, sy1, tx0, ty0, ps, pt)
    o2, v2, b2 = orientation(sx0, sy0, sx1, sy1, tx1, ty1, ps, pt)
    hit = np.flatnonzero(o1 != o2)
    s, t, o1, v1, v2, b1, b2 = (a[hit] for a in (s, t, o1, v1, v2, b1, b2))
    ps, pt = ps[hit], pt[hit]
    sx0, sy0, sx1, sy1 = sx0[hit], sy0[hit], sx1[hit], sy1[hit]
    tx0, ty0, tx1, ty1 = tx0[hit], ty0[hit], tx1[hit], ty1[hit]
    o3, v3, b3 = orientation(tx0, ty0, tx1, ty1, sx0, sy0, pt, ps)
    o4, v4, b4 = orientation(tx0, ty0, tx1, ty1, sx1, sy1, pt, ps)
    hit = np.flatnonzero(o3 != o4)
    s, t, o1, o3 = s[hit], t[hit], o1[hit], o3[hit]
    lam = _parameter(v3[hit], b3[hit], v4[hit], b4[hit])
    mu = _parameter(v1[hit], b1[hit], v2[hit], b2[hit])
    sdx, sdy = seg.x1[s] - seg.x0[s], seg.y1[s] - seg.y0[s]
    x = seg.x0[s] + lam[0] * sdx
    y = seg.y0[s] + lam[0] * sdy
    # Segments nearly along each other: rounding may put the crossing anywhere
    # where they overlap, differently on each. Place it from its exact place along
    # each (to about 1e-31), the same point on both.
    loose = np.flatnonzero((lam[2] - lam[1] > 1e-9) | (mu[2] - mu[1] > 1e-9))
    if len(loose):
        i, j = s[loose], t[loose]
        for values, (hi, lo) in ((lam, _dd_parameter(seg, i, j)), (mu, _dd_parameter(seg, j, i))):
            values[0][loose] = np.clip(hi, 0.0, 1.0)
            values[1][loose] = np.clip(hi - 4e-16, 0.0, 1.0)
            values[2][loose] = np.clip(hi + 4e-16, 0.0, 1.0)
            if values is lam:
                x[loose] = seg.x0[i] + hi * sdx[loose] + lo * sdx[loose]
                y[loose] = seg.y0[i] + hi * sdy[loose] + lo * sdy[loose]
    # A ring enters the other polygon where it crosses from the right of its edge.
    return s, t, lam, mu, x, y, o3 < 0, o1 < 0


#: Crossings whose places along a segment differ by less than this (computed to
#: about 1e-31) are taken to be at the same place.
_SAME_PLACE = 1e-28


def _exact_order(seg: Segments, side_seg, side_oseg, value, low, high):
    """Put crossings that rounding cannot tell apart on a segment in their exact order.

    Crossings are sorted by segment, then by their rounded place along it;
    those whose bounds overlap, directly or through others, are sorted again by
    their place to about 1e-31 (:func:`_dd_parameter`). Returns the new order
    and, per crossing in it, whether it is at the same place as the one before
    it on the same segment.
    """
    m = len(side_seg)
    order = np.arange(m)
    tie = np.zeros(m, dtype=bool)
    if m < 2:
        return order, tie
    new_seg = np.ones(m, dtype=bool)
    new_seg[1:] = side_seg[1:] != side_seg[:-1]
    # Bounds shifted by twice the segment's rank, so one running maximum serves all.
    rank = 2.0 * (np.cumsum(new_seg) - 1)
    reach = np.maximum.accumulate(high + rank)
    joined = np.zeros(m, dtype=bool)
    joined[1:] = ~new_seg[1:] & (low[1:] + rank[1:] <= reach[:-1])
    member = joined.copy()
    member[:-1] |= joined[1:]
    if not member.any():
        return order, tie
    cluster = np.cumsum(~joined) - 1
    idx = np.flatnonzero(member)  # clusters are runs of consecutive crossings
    hi, lo = _dd_parameter(seg, side_seg[idx], side_oseg[idx])
    inner = np.lexsort((idx, lo, hi, cluster[idx]))
    order[idx] = idx[inner]
    hi, lo, c = hi[inner], lo[inner], cluster[idx][inner]
    tie[idx[1:]] = (c[1:] == c[:-1]) & (
        np.abs((hi[1:] - hi[:-1]) + (lo[1:] - lo[:-1])) <= _SAME_PLACE
    )
    return order, tie


def arrange(polygons, sos) -> Arrangement:
    """The runs of every ring of ``polygons`` and the polygons covering each run.

    Parameters
    ----------
    polygons
        Polygons in one projected CRS, valid. Polygons may overlap, share
        edges or be identical.
    sos
        Distinct integer ids (the shifts of simulation of simplicity: the
        same polygon must get the same id wherever it is arranged).
    """
    geoms = np.asarray(polygons, dtype=object)
    sos = np.asarray(sos, dtype=np.int64)
    seg = segments(geoms)
    n_rings = len(seg.ring_poly)
    poly = seg.poly

    s, t = segment_pairs(seg, sos)
    s, t, lam, mu, cx, cy, enter_s, enter_t = _crossings(seg, s, t, sos)
    n_cross = len(s)

    # Each crossing lies on two rings: one side on each, ordered along the ring.
    side_seg = np.r_[s, t]
    side_par, side_low, side_high = (np.r_[a, b] for a, b in zip(lam, mu, strict=True))
    side_other = np.r_[poly[t], poly[s]]
    side_enter = np.r_[enter_s, enter_t]
    side_oseg = np.r_[t, s]
    side_cross = np.r_[np.arange(n_cross), np.arange(n_cross)]
    order = np.argsort(side_par, kind="stable")
    order = order[np.argsort(side_seg[order], kind="stable")]
    side_seg, side_oseg, side_par, side_low, side_high, side_other, side_enter, side_cross = (
        a[order]
        for a in (
            side_seg,
            side_oseg,
            side_par,
            side_low,
            side_high,
            side_other,
            side_enter,
            side_cross,
        )
    )
    order, tie = _exact_order(seg, side_seg, side_oseg, side_par, side_low, side_high)
    side_seg, side_other, side_enter, side_cross = (
        a[order] for a in (side_seg, side_other, side_enter, side_cross)
    )
    m = len(side_seg)
    side_ring = seg.ring[side_seg]
    ring_sides = np.bincount(side_ring, minlength=n_rings)
    ring_first_side = np.cumsum(ring_sides) - ring_sides

    # ∫ (x - xref) dy from the start of the ring to each crossing.
    xref = seg.xref[poly]
    w = ((seg.x0 + seg.x1) * 0.5 - xref) * (seg.y1 - seg.y0)
    cumulative = np.cumsum(w)
    before = cumulative - w
    ring_total = np.bincount(seg.ring, weights=w, minlength=n_rings)
    has_segments = seg.ring_count > 0
    ring_base = np.zeros(n_rings)
    ring_base[has_segments] = before[seg.ring_start[has_segments]]
    sx, sy = cx[side_cross], cy[side_cross]
    at = (
        before[side_seg]
        - ring_base[side_ring]
        + ((seg.x0[side_seg] + sx) * 0.5 - xref[side_seg]) * (sy - seg.y0[side_seg])
    )
    following = np.arange(1, m + 1)
    last = np.r_[side_ring[1:] != side_ring[:-1], True] if m else np.zeros(0, dtype=bool)
    following[last] = ring_first_side[side_ring[last]]
    crossing_w = at[following] - at
    crossing_w[last] += ring_total[side_ring[last]]
    crossing_dy = sy[following] - sy

    # Rings that nothing crosses: one run all round.
    free = np.flatnonzero(has_segments & (ring_sides == 0))
    run_ring = np.r_[side_ring, free]
    run_poly = seg.ring_poly[run_ring]
    run_w = np.r_[crossing_w, ring_total[free]]
    run_dy = np.r_[crossing_dy, np.zeros(len(free))]
    run_start = np.r_[side_cross, np.full(len(free), -1)]
    run_end = np.r_[side_cross[following], np.full(len(free), -1)]
    run_seg0 = np.r_[side_seg, seg.ring_start[free]]
    run_seg1 = np.r_[side_seg[following], seg.ring_start[free]]
    ring_first_run = np.full(n_rings, -1, dtype=np.int64)
    ring_runs = np.zeros(n_rings, dtype=np.int64)
    crossed = ring_sides > 0
    ring_first_run[crossed] = ring_first_side[crossed]
    ring_runs[crossed] = ring_sides[crossed]
    ring_first_run[free] = m + np.arange(len(free))
    ring_runs[free] = 1

    # Which runs lie inside which other polygon. Along a ring, the crossings with
    # one polygon alternate between entering and leaving it. Crossings at the same
    # place on a segment (a vertex of the other polygon, three boundaries through
    # one point) may be in either order, so each such group counts as one event:
    # +1 if it enters more often than it leaves, -1 if the reverse, none if even.
    group = np.cumsum(~tie) - 1
    group_last = np.r_[np.flatnonzero(~tie)[1:] - 1, m - 1][group] if m else _empty_int()
    position_last = group_last - ring_first_side[side_ring]
    # sides are in ring order (ring, then group): a stable sort by (ring, polygon)
    by_pair = np.argsort(side_ring * np.int64(len(geoms) + 1) + side_other, kind="stable")
    pr, po, pg = side_ring[by_pair], side_other[by_pair], group[by_pair]
    value = np.where(side_enter[by_pair], 1, -1)
    event_first = np.ones(m, dtype=bool)
    event_first[1:] = (pr[1:] != pr[:-1]) | (po[1:] != po[:-1]) | (pg[1:] != pg[:-1])
    event_start = np.flatnonzero(event_first)
    net = np.add.reduceat(value, event_start) if m else _empty_int()
    er, eo = pr[event_start], po[event_start]
    ep = position_last[by_pair][event_start]
    event = net != 0
    er, eo, ep, net = er[event], eo[event], ep[event], net[event]
    n_events = len(er)
    pair_first = np.ones(n_events, dtype=bool)
    pair_first[1:] = (er[1:] != er[:-1]) | (eo[1:] != eo[:-1])
    pair_start = np.flatnonzero(pair_first)
    pair = np.cumsum(pair_first) - 1
    pair_next = np.arange(1, n_events + 1)
    pair_last = np.r_[pair_first[1:], True] if n_events else np.zeros(0, dtype=bool)
    pair_next[pair_last] = pair_start[pair[pair_last]]
    # In exact arithmetic events are +1 and -1 in turn; a pair that is not (rounding
    # put crossings a hair apart in the wrong order) is decided run by run below.
    wrong = (np.abs(net) != 1) | (net == net[pair_next])
    bad = np.zeros(len(pair_start), dtype=bool)
    np.logical_or.at(bad, pair[wrong], True)
    good = ~bad[pair]
    enters = np.flatnonzero(good & (net > 0))
    n_in_ring = ring_sides[er[enters]]
    begin = ep[enters]
    length = (ep[pair_next[enters]] - begin) % n_in_ring
    idx = np.repeat(np.arange(len(enters)), length)
    step = np.arange(len(idx)) - np.repeat(np.cumsum(length) - length, length)
    cover_run = ring_first_side[er[enters]][idx] + (begin[idx] + step) % n_in_ring[idx]
    cover_poly = eo[enters][idx]
    bad_ring, bad_poly = er[pair_start[bad]], eo[pair_start[bad]]
    if len(bad_ring):
        runs, polys = _inside_by_midpoints(
            geoms,
            seg,
            bad_ring,
            bad_poly,
            ring_first_run,
            ring_runs,
            run_seg0,
            run_seg1,
            cx[run_start[:m]],
            cy[run_start[:m]],
            cx[run_end[:m]],
            cy[run_end[:m]],
        )
        cover_run, cover_poly = np.r_[cover_run, runs], np.r_[cover_poly, polys]

    # Rings that cross nothing of a polygon whose box holds theirs: inside or outside.
    # (A ring that only touches it, at crossings that cancel, counts as crossing nothing.)
    crossed_pairs = er[pair_start] * np.int64(len(geoms) + 1) + eo[pair_start]
    nested_ring, nested_poly = _nested(geoms, seg, sos, crossed_pairs)
    count = ring_runs[nested_ring]
    idx = np.repeat(np.arange(len(nested_ring)), count)
    step = np.arange(len(idx)) - np.repeat(np.cumsum(count) - count, count)
    cover_run = np.r_[cover_run, ring_first_run[nested_ring][idx] + step]
    cover_poly = np.r_[cover_poly, nested_poly[idx]]
    consistent = not bad.any()
    return Arrangement(
        seg,
        sos,
        run_poly,
        run_ring,
        run_w,
        run_dy,
        run_start,
        run_end,
        run_seg0,
        run_seg1,
        ring_first_run,
        ring_runs,
        cover_run,
        cover_poly,
        cx,
        cy,
        _nodes(n_cross, side_cross, tie),
        consistent,
    )


def _nodes(n_cross: int, side_cross: np.ndarray, tie: np.ndarray) -> np.ndarray:
    """Per crossing, the smallest crossing joined to it by crossings at the same place."""
    node = np.arange(n_cross)
    if not tie.any():
        return node
    i = np.flatnonzero(tie)
    a, b = side_cross[i], side_cross[i - 1]
    while True:
        low = np.minimum(node[a], node[b])
        new = node.copy()
        np.minimum.at(new, a, low)
        np.minimum.at(new, b, low)
        new = new[new]
        if np.array_equal(new, node):
            return node
        node = new


def _inside_by_midpoints(
    geoms, seg, rings, polys, ring_first_run, ring_runs, seg0, seg1, x0, y0, x1, y1
):
    """Runs of ``rings`` inside ``polys`` (pairwise), tested at a point of each run.

    For the rare ring whose crossings with a polygon rounding left out of
    order: a run's point is off the polygon's boundary unless the run follows
    that boundary within rounding, where either answer moves no ground.
    """
    count = ring_runs[rings]
    idx = np.repeat(np.arange(len(rings)), count)
    run = ring_first_run[rings][idx] + (
        np.arange(len(idx)) - np.repeat(np.cumsum(count) - count, count)
    )
    last = run == ring_first_run[rings][idx] + count[idx] - 1
    same = (seg0[run] == seg1[run]) & ~last
    k = seg0[run]
    ex = np.where(same, x1[run], seg.x1[k])
    ey = np.where(same, y1[run], seg.y1[k])
    inside = shapely.contains_xy(geoms[polys[idx]], (x0[run] + ex) * 0.5, (y0[run] + ey) * 0.5)
    return run[inside], polys[idx][inside]


def _nested(geoms: np.ndarray, seg: Segments, sos: np.ndarray, crossed_pairs: np.ndarray):
    """(ring, polygon) pairs where a ring that crosses nothing of the polygon lies inside it.

    A ring that crosses nothing of a polygon is all inside it or all outside:
    its first vertex tells, unless that vertex lies on the polygon's boundary;
    then the next one, and so on; a ring whose every vertex lies on it is
    decided with the shifts of simulation of simplicity.
    """
    rings = np.flatnonzero(seg.ring_count > 0)
    if len(rings) == 0 or len(geoms) < 2:
        return _empty_int(), _empty_int()
    first = seg.ring_start[rings]
    tree = shapely.STRtree(geoms)
    ri, p = tree.query(shapely.points(seg.x0[first], seg.y0[first]))
    r = rings[ri]
    keep = seg.ring_poly[r] != p
    r, p, ri = r[keep], p[keep], ri[keep]
    if len(crossed_pairs) and len(r):
        key = r * np.int64(len(geoms) + 1) + p
        found = np.minimum(np.searchsorted(crossed_pairs, key), len(crossed_pairs) - 1)
        keep = crossed_pairs[found] != key
        r, p, ri = r[keep], p[keep], ri[keep]
    keep = shapely.intersects_xy(geoms[p], seg.x0[first][ri], seg.y0[first][ri])
    r, p = r[keep], p[keep]
    inside = np.zeros(len(r), dtype=bool)
    unknown = np.arange(len(r))
    exhausted = []
    k = 0
    while len(unknown):
        more = seg.ring_count[r[unknown]] > k
        exhausted.append(unknown[~more])
        unknown = unknown[more]
        vertex = seg.ring_start[r[unknown]] + k
        x, y = seg.x0[vertex], seg.y0[vertex]
        strictly = shapely.contains_xy(geoms[p[unknown]], x, y)
        inside[unknown[strictly]] = True
        unknown = unknown[~strictly]
        if k > 0:  # the first vertex is known to touch or be inside
            unknown = unknown[shapely.intersects_xy(geoms[p[unknown]], x[~strictly], y[~strictly])]
        k += 1
    for i in np.concatenate(exhausted) if exhausted else []:
        # every vertex on the boundary: decide with the shifts
        inside[i] = _inside_shifted(seg, r[i], p[i], sos)
    return r[inside], p[inside]


def _shifted_left(ex, ey, first: bool) -> bool:
    """Whether the shift direction lies left of direction ``(ex, ey)`` (exact, symbolic).

    The direction is ``(1, e)`` when the point's polygon comes first, else
    ``(-1, -e)``, with ``e`` infinitesimal.
    """
    if first:  # cross((ex, ey), (1, e)) = ex e - ey
        return ey < 0 if ey != 0 else ex > 0
    return ey > 0 if ey != 0 else ex < 0


def _inside_shifted(seg: Segments, ring: int, poly: int, sos: np.ndarray) -> bool:
    """Whether a ring whose vertices all lie on ``poly``'s boundary is inside it, shifted.

    The ring's first vertex moves by its polygon's shift minus ``poly``'s. It
    is inside if that direction points into ``poly`` where the vertex lies:
    left of the edge through it, or inside the wedge of the vertex it is on.
    """
    k = seg.ring_start[ring]
    px, py = Fraction(seg.x0[k]), Fraction(seg.y0[k])
    first = bool(sos[seg.ring_poly[ring]] < sos[poly])
    for j in np.flatnonzero(seg.ring_poly[seg.ring] == poly):
        ax, ay = Fraction(seg.x0[j]), Fraction(seg.y0[j])
        bx, by = Fraction(seg.x1[j]), Fraction(seg.y1[j])
        if (bx - ax) * (py - ay) - (by - ay) * (px - ax) != 0:
            continue
        if not (min(ax, bx) <= px <= max(ax, bx) and min(ay, by) <= py <= max(ay, by)):
            continue
        if (px, py) == (bx, by):
            continue  # taken with the next segment, which starts here
        left_out = _shifted_left(bx - ax, by - ay, first)
        if (px, py) != (ax, ay):
            return left_out
        # On a vertex: inside the wedge between the incoming and the outgoing edge.
        r = seg.ring[j]
        prev = j - 1 if j > seg.ring_start[r] else seg.ring_start[r] + seg.ring_count[r] - 1
        fx = Fraction(seg.x1[prev]) - Fraction(seg.x0[prev])
        fy = Fraction(seg.y1[prev]) - Fraction(seg.y0[prev])
        left_in = _shifted_left(fx, fy, first)
        convex = fx * (by - ay) - fy * (bx - ax) >= 0
        return (left_in and left_out) if convex else (left_in or left_out)
    return False  # pragma: no cover - the vertex lies on the boundary


# --- figures and remaining ground ----------------------------------------------------


def cover_min(arr: Arrangement, family: np.ndarray, wanted: int, rank: np.ndarray) -> np.ndarray:
    """Per run, the smallest ``rank`` among the covering polygons of one family.

    ``NONE`` where no polygon of that family covers the run.
    """
    out = np.full(len(arr.run_w), NONE, dtype=np.int64)
    mine = family[arr.cover_poly] == wanted
    np.minimum.at(out, arr.cover_run[mine], rank[arr.cover_poly[mine]])
    return out


def region_sums(
    arr: Arrangement, key_left, key_right, inside_left, inside_right, n_keys: int
) -> np.ndarray:
    """Areas of regions given by each run's two sides.

    Each side of a run lies in the region ``key`` (0 to ``n_keys - 1``; any
    other value: in none) where ``inside`` holds. A region's area is the sum,
    over runs, of ``∫ (x - xref) dy`` with the region on the left minus the
    same with it on the right, measured from the region's own polygon's
    reference (region ``k`` is polygon ``k`` of the arrangement).
    """
    w, dy, xref = arr.run_w, arr.run_dy, arr.seg.xref
    own = xref[arr.run_poly]
    out = np.zeros(n_keys)
    differs = (key_left != key_right) | (inside_left != inside_right)
    for key, inside, sign in ((key_left, inside_left, 1.0), (key_right, inside_right, -1.0)):
        use = differs & inside & (key >= 0) & (key < n_keys)
        k = key[use]
        out += sign * np.bincount(
            k, weights=w[use] + (own[use] - xref[k]) * dy[use], minlength=n_keys
        )
    return out


def assemble(arr: Arrangement, region: np.ndarray, run: np.ndarray, reverse: np.ndarray, n: int):
    """Polygons from boundary runs: each run with its region on the left once turned.

    Parameters
    ----------
    region, run, reverse
        One entry per boundary run of a region (0 to ``n - 1``): the run, and
        whether it is walked backwards (its polygon's interior on the right).
    n
        Number of regions.

    Returns
    -------
    geometries, ok
        A polygon or multipolygon per region (empty where it has no boundary),
        and whether it could be assembled: regions whose boundary does not
        close up (crossings that coincide, taken in the wrong order) or whose
        rings do not make a valid polygon are ``False`` (their geometry is
        ``None``), for the caller to compute another way.
    """
    seg = arr.seg
    out = np.full(n, None, dtype=object)
    ok = np.ones(n, dtype=bool)
    if len(run) == 0:
        out[:] = shapely.MultiPolygon()
        return out, ok
    n_cross = len(arr.cross_x)
    # Crossings at the same place are one node; a ring crossed by nothing is its own.
    node = np.r_[arr.cross_node, 0]
    start = np.where(arr.run_start[run] >= 0, node[arr.run_start[run]], n_cross + run)
    end = np.where(arr.run_end[run] >= 0, node[arr.run_end[run]], n_cross + run)
    # A run from a node to itself that passes no vertex, or only a vertex at that
    # very place, has no length: it is no boundary.
    ring = arr.run_ring[run]
    wraps = run == arr.ring_first_run[ring] + arr.ring_runs[ring] - 1
    seg_n = np.maximum(seg.ring_count[ring], 1)
    p0, p1 = seg.position[arr.run_seg0[run]], seg.position[arr.run_seg1[run]]
    passes = p1 - p0 + np.where(wraps, seg_n, 0)
    vertex = seg.ring_start[ring] + (p0 + 1) % seg_n
    at = np.maximum(arr.run_start[run], 0)
    on_node = (seg.x0[vertex] == np.r_[arr.cross_x, 0.0][at]) & (
        seg.y0[vertex] == np.r_[arr.cross_y, 0.0][at]
    )
    empty = (start == end) & (arr.run_start[run] >= 0) & ((passes == 0) | (passes == 1) & on_node)
    keep = ~empty
    region, run, reverse, start, end = (a[keep] for a in (region, run, reverse, start, end))
    tail = np.where(reverse, end, start)
    head = np.where(reverse, start, end)
    span = np.int64(n_cross + len(arr.run_w))
    out_key = region * span + tail
    in_key = region * span + head
    by_out = np.argsort(out_key, kind="stable")
    sorted_out = out_key[by_out]
    found = np.searchsorted(sorted_out, in_key)
    found = np.minimum(found, len(sorted_out) - 1)
    matched = sorted_out[found] == in_key
    succ = by_out[found]
    unique_out = np.ones(len(sorted_out), dtype=bool)
    unique_out[1:] = sorted_out[1:] != sorted_out[:-1]
    unique_out[:-1] &= sorted_out[:-1] != sorted_out[1:]
    bad = np.zeros(n, dtype=bool)
    bad[region[~matched]] = True
    bad[region[by_out[~unique_out]]] = True
    # Each half-edge is the successor of exactly one other.
    hits = np.bincount(succ[matched], minlength=len(run))
    bad[region[hits != 1]] = True
    good = ~bad[region]
    ok[bad] = False

    edges = np.flatnonzero(good)
    if len(edges) == 0:
        return _finish(out, ok, n)
    local = np.full(len(run), -1, dtype=np.int64)
    local[edges] = np.arange(len(edges))
    nxt = local[succ[edges]]
    e_run, e_rev, e_region = run[edges], reverse[edges], region[edges]

    # Cycles: the smallest half-edge of each by pointer doubling, then walk them.
    label = np.arange(len(edges))
    jump = nxt.copy()
    while True:
        new = np.minimum(label, label[jump])
        if np.array_equal(new, label):
            break
        label, jump = new, jump[jump]
    heads = np.flatnonzero(label == np.arange(len(edges)))
    current, cycle = heads.copy(), np.arange(len(heads))
    walked, walked_cycle = [], []
    while len(current):
        walked.append(current)
        walked_cycle.append(cycle)
        current = nxt[current]
        alive = current != heads[cycle]
        current, cycle = current[alive], cycle[alive]
    walked, walked_cycle = np.concatenate(walked), np.concatenate(walked_cycle)
    by_cycle = np.argsort(walked_cycle, kind="stable")
    order, ring_of = walked[by_cycle], walked_cycle[by_cycle]

    # Coordinates: each half-edge gives its first point (the crossing where it
    # starts, unless the boundary only passes through it along the same ring)
    # and the ring's vertices up to its end.
    h_run, h_rev = e_run[order], e_rev[order]
    cycle_start = np.flatnonzero(np.r_[True, ring_of[1:] != ring_of[:-1]])
    cycle_end = np.r_[cycle_start[1:], len(order)] - 1
    prev = np.roll(order, 1)
    prev[cycle_start] = order[cycle_end]
    # The boundary passes straight through a crossing where the run before it
    # is the one before it on the same ring (not merely at the same place).
    p_run, p_rev = e_run[prev], e_rev[prev]
    prev_head = np.where(p_rev, arr.run_start[p_run], arr.run_end[p_run])
    this_tail = np.where(h_rev, arr.run_end[h_run], arr.run_start[h_run])
    through = (arr.run_ring[p_run] == arr.run_ring[h_run]) & (prev_head == this_tail)
    through &= this_tail >= 0
    r_ring = arr.run_ring[h_run]
    ring_n = seg.ring_count[r_ring]
    ring_s = seg.ring_start[r_ring]
    p0 = seg.position[arr.run_seg0[h_run]] if len(seg.x0) else _empty_int()
    p1 = seg.position[arr.run_seg1[h_run]] if len(seg.x0) else _empty_int()
    free = arr.run_start[h_run] < 0
    last_run = h_run == arr.ring_first_run[r_ring] + arr.ring_runs[r_ring] - 1
    count = np.where(free, ring_n, p1 - p0 + np.where(last_run, ring_n, 0))
    own_point = ~free & ~through
    crossing = np.where(h_rev, arr.run_end[h_run], arr.run_start[h_run])
    total = count + own_point
    idx = np.repeat(np.arange(len(order)), total)
    k = np.arange(len(idx)) - np.repeat(np.cumsum(total) - total, total)
    is_cross = own_point[idx] & (k == 0)
    j = k - own_point[idx]  # 0 .. count-1: vertices after the start
    # Forward: positions p0+1 .. p0+count (free rings: 0 .. n-1); backwards the reverse.
    base = np.where(free[idx], 0, p0[idx] + 1)
    step = np.where(h_rev[idx], count[idx] - 1 - j, j)
    if_free_rev = free[idx] & h_rev[idx]
    step = np.where(if_free_rev, ring_n[idx] - 1 - j, step)
    vertex = ring_s[idx] + (base + step) % ring_n[idx]
    vertex = np.where(is_cross, 0, vertex)
    at = np.where(is_cross, crossing[idx], len(arr.cross_x))
    xs = np.where(is_cross, np.r_[arr.cross_x, 0.0][at], seg.x0[vertex])
    ys = np.where(is_cross, np.r_[arr.cross_y, 0.0][at], seg.y0[vertex])
    out_ring = ring_of[idx]
    return _build(arr, out, ok, n, e_region[order][cycle_start], out_ring, xs, ys)


def _finish(out, ok, n):
    empty = np.flatnonzero(ok & (out == None))  # noqa: E711
    out[empty] = shapely.MultiPolygon()
    return out, ok


def _closed(rings, ring_start, size, xs, ys):
    """The points of ``rings`` in that order, each ring closed, and the ring offsets."""
    count = size[rings] + 1
    offsets = np.r_[0, np.cumsum(count)]
    k = np.arange(offsets[-1]) - np.repeat(offsets[:-1], count)
    n = np.repeat(size[rings], count)
    at = np.repeat(ring_start[rings], count) + np.where(k == n, 0, k)
    return np.column_stack([xs[at], ys[at]]), offsets


#: A ring that turns back on itself at an angle whose sine is below this has a
#: needle there (two edges along each other, of no area): its tip is dropped.
_NEEDLE = 1e-9
#: Consecutive points of a ring closer than this, relative to the coordinates, are one.
_NEAR = 1e-12


def _bounds_of_runs(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Whether each entry is the first, and the last, of its run of equal ids."""
    first = np.ones(len(ids), dtype=bool)
    last = np.ones(len(ids), dtype=bool)
    first[1:] = ids[1:] != ids[:-1]
    last[:-1] = first[1:]
    return first, last


def _despike(ring_id, xs, ys):
    """Rings without repeated points and without needles (the last point not repeating the first).

    Where a release's edge runs along a hazard's, within rounding, the ground
    between them is a needle: exact, but of no area, and it would not stay
    valid once projected to longitude and latitude.
    """
    # Points closer than this are one (crossings computed twice, a few units in
    # the last place apart).
    near = _NEAR * max(float(np.abs(xs).max(initial=0.0)), float(np.abs(ys).max(initial=0.0)), 1.0)
    for _ in range(64):
        first, last = _bounds_of_runs(ring_id)
        start = np.flatnonzero(first)[np.cumsum(first) - 1]
        end = np.flatnonzero(last)[np.cumsum(first) - 1]
        prev = np.arange(len(xs)) - 1
        prev[first] = end[first]
        nxt = np.arange(len(xs)) + 1
        nxt[last] = start[last]
        ax, ay = xs[prev] - xs, ys[prev] - ys
        bx, by = xs[nxt] - xs, ys[nxt] - ys
        same = (np.abs(ax) <= near) & (np.abs(ay) <= near)
        cross = ax * by - ay * bx
        dot = ax * bx + ay * by
        tip = (dot > 0) & (np.abs(cross) <= _NEEDLE * np.hypot(ax, ay) * np.hypot(bx, by))
        # one tip at a time in a row of tips, so that a ring is not emptied at once
        tip &= ~tip[prev] | (prev == np.arange(len(xs)))
        # repeated points first: a tip is only a tip once they are gone
        drop = same if same.any() else tip
        if not drop.any():
            break
        keep = ~drop
        ring_id, xs, ys = ring_id[keep], xs[keep], ys[keep]
    return ring_id, xs, ys


def _shell_of(holes, shells, ring_region, ring_start, size, xs, ys) -> np.ndarray:
    """For each hole, the shell of its region around it (-1 if none is found).

    The shell around a hole is the smallest of its region's shells larger than
    the hole whose outline holds a point inside the hole; smaller ones holding
    it are islands within the hole.
    """

    def polygons(rings):
        coords, offsets = _closed(rings, ring_start, size, xs, ys)
        return shapely.from_ragged_array(
            shapely.GeometryType.POLYGON, coords, (offsets, np.arange(len(rings) + 1))
        )

    hole_polys, shell_polys = polygons(holes), polygons(shells)
    inside = shapely.get_coordinates(shapely.point_on_surface(hole_polys))
    hole_area, shell_area = shapely.area(hole_polys), shapely.area(shell_polys)
    # Pairs of a hole and a shell of the same region.
    by_region = np.argsort(ring_region[shells], kind="stable")
    shell_region = ring_region[shells][by_region]
    lo = np.searchsorted(shell_region, ring_region[holes], "left")
    hi = np.searchsorted(shell_region, ring_region[holes], "right")
    count = hi - lo
    h = np.repeat(np.arange(len(holes)), count)
    s = by_region[
        np.repeat(lo, count) + np.arange(len(h)) - np.repeat(np.cumsum(count) - count, count)
    ]
    fits = (shell_area[s] > hole_area[h]) & shapely.contains_xy(
        shell_polys[s], inside[h, 0], inside[h, 1]
    )
    h, s = h[fits], s[fits]
    best = np.lexsort((shell_area[s], h))
    h, s = h[best], s[best]
    first = np.r_[True, h[1:] != h[:-1]] if len(h) else np.zeros(0, bool)
    out = np.full(len(holes), -1, dtype=np.int64)
    out[h[first]] = shells[s[first]]
    return out


def _build(arr, out, ok, n, ring_region, ring_id, xs, ys):
    """Rings (points in order, by ring) into one polygon or multipolygon per region."""
    ring_id, xs, ys = _despike(ring_id, xs, ys)
    n_rings = len(ring_region)
    first, last = _bounds_of_runs(ring_id)
    start = np.flatnonzero(first)[np.cumsum(first) - 1]
    following = np.arange(1, len(xs) + 1)
    following[last] = start[last]
    x0 = xs[start]
    twice = np.bincount(
        ring_id,
        weights=(xs - x0) * ys[following] - (xs[following] - x0) * ys,
        minlength=n_rings,
    )
    size = np.bincount(ring_id, minlength=n_rings)
    usable = (size >= 3) & (twice != 0)
    shell, hole = usable & (twice > 0), usable & (twice < 0)
    shells = np.bincount(ring_region[shell], minlength=n)
    holes = np.bincount(ring_region[hole], minlength=n)
    ok[(holes > 0) & (shells == 0)] = False  # a hole without a shell cannot be
    use = usable & ok[ring_region]
    ring_start = np.zeros(n_rings, dtype=np.int64)
    ring_start[ring_id[first]] = np.flatnonzero(first)
    single = use & (shells[ring_region] == 1)
    multi = use & (shells[ring_region] > 1)
    if single.any():
        rings = np.flatnonzero(single)
        rings = rings[np.lexsort((hole[rings], ring_region[rings]))]
        coords, ring_offsets = _closed(rings, ring_start, size, xs, ys)
        regions, per = np.unique(ring_region[rings], return_counts=True)
        out[regions] = shapely.from_ragged_array(
            shapely.GeometryType.POLYGON, coords, (ring_offsets, np.r_[0, np.cumsum(per)])
        )
    if multi.any():
        rings = np.flatnonzero(multi)
        owner = rings.copy()  # the shell each ring belongs to (a shell: itself)
        inner = rings[hole[rings]]
        if len(inner):
            outer = rings[shell[rings] & (holes[ring_region[rings]] > 0)]
            found = _shell_of(inner, outer, ring_region, ring_start, size, xs, ys)
            owner[hole[rings]] = found
            ok[ring_region[inner[found < 0]]] = False
        keep = ok[ring_region[rings]]
        rings, owner = rings[keep], owner[keep]
        order = np.lexsort((hole[rings], owner, ring_region[rings]))
        rings, owner = rings[order], owner[order]
        coords, ring_offsets = _closed(rings, ring_start, size, xs, ys)
        polygon_first = np.r_[True, owner[1:] != owner[:-1]]
        polygon_offsets = np.r_[np.flatnonzero(polygon_first), len(rings)]
        polygon_region = ring_region[rings][polygon_first]
        regions, per = np.unique(polygon_region, return_counts=True)
        out[regions] = shapely.from_ragged_array(
            shapely.GeometryType.MULTIPOLYGON,
            coords,
            (ring_offsets, polygon_offsets, np.r_[0, np.cumsum(per)]),
        )
    built = np.flatnonzero(ok & (shells > 0))
    ok[built[~shapely.is_valid(out[built])]] = False
    out[~ok] = None
    return _finish(out, ok, n)


def remaining_pieces(pieces, piece_ids, owned, releases, release_ids):
    """Remaining ground of hazard pieces, and their ground counted once.

    The kernel of :func:`minemap.remaining` on one chunk.

    Parameters
    ----------
    pieces
        Hazard pieces (a record's part in one district), sorted by
        ``piece_ids``: where pieces overlap, the one with the smaller id keeps
        the shared ground.
    piece_ids
        Distinct ids of the pieces, the same in every chunk.
    owned
        The pieces to report on; the others are their neighbours (every piece
        whose box meets an owned piece's must be given, and every release
        whose box does).
    releases
        Released land.
    release_ids
        Distinct ids of the releases, the same in every chunk and none equal
        to a piece's.

    Returns
    -------
    left, net, net_left
        For each owned piece (in order): its ground minus the releases (the
        piece itself where no release takes ground from it), the area it
        keeps once earlier pieces have taken theirs, and that area minus the
        releases.
    """
    from minemap import overlay

    pieces = np.asarray(pieces, dtype=object)
    releases = np.asarray(releases, dtype=object)
    owned = np.asarray(owned, dtype=bool)
    n_p, n_r = len(pieces), len(releases)
    polys = np.concatenate([pieces, releases])
    sos = np.r_[np.asarray(piece_ids, dtype=np.int64), np.asarray(release_ids, dtype=np.int64)]
    family = np.r_[np.full(n_p, HAZARD), np.full(n_r, RELEASE)]
    arr = arrange(polys, sos)
    rank = np.arange(n_p + n_r)
    kmin = cover_min(arr, family, HAZARD, rank)
    released = cover_min(arr, family, RELEASE, rank) != NONE
    a = arr.run_poly
    is_piece = family[a] == HAZARD
    key_left = np.where(is_piece, np.minimum(kmin, a), kmin)
    key_right = kmin
    as_owned = np.r_[np.where(owned, np.arange(n_p), -1), -1]

    def region(key):
        return as_owned[np.where(key == NONE, n_p, np.minimum(key, n_p))]

    everywhere = np.ones(len(a), dtype=bool)
    net = region_sums(arr, region(key_left), region(key_right), everywhere, everywhere, n_p)
    net_left = region_sums(
        arr, region(key_left), region(key_right), ~(released | ~is_piece), ~released, n_p
    )

    # Remaining ground: the piece's own runs that no release covers, and the
    # runs of releases inside it that no other release covers (walked backwards).
    own = np.flatnonzero(is_piece & owned[np.minimum(a, n_p - 1)] & ~released)
    inner = (family[arr.cover_poly] == HAZARD) & (family[a[arr.cover_run]] == RELEASE)
    inner &= owned[np.minimum(arr.cover_poly, n_p - 1)] & ~released[arr.cover_run]
    inner_run, inner_piece = arr.cover_run[inner], arr.cover_poly[inner]
    geoms, ok = assemble(
        arr,
        np.r_[a[own], inner_piece],
        np.r_[own, inner_run],
        np.r_[np.zeros(len(own), bool), np.ones(len(inner_run), bool)],
        n_p,
    )
    runs_of = np.bincount(a[is_piece], minlength=n_p)
    kept = np.bincount(a[own], minlength=max(n_p, 1))[:n_p]
    cut = np.bincount(inner_piece, minlength=max(n_p, 1))[:n_p]
    whole = owned & (kept == runs_of) & (cut == 0)
    geoms[whole] = pieces[whole]
    redo = np.flatnonzero(owned & ~ok)
    if len(redo):
        geoms[redo] = overlay.subtract(pieces[redo], releases)
    mine = np.flatnonzero(owned)
    return geoms[mine], net[mine], net_left[mine]


def cells(hazards, hazard_ids, hazard_owned, releases, release_ids, release_owned):
    """Ground cut into cells by its earliest hazard and its earliest release.

    The kernel behind every as-of figure (:func:`minemap.contamination.ground`):
    a point of ground lies in cell ``(h, r)`` where ``h`` is the first hazard
    covering it (or none) and ``r`` the first release covering it (or none),
    "first" in the order the arrays are given in. Any figure counted once and
    as of any date is then a sum of cell areas: the ground released by a date
    is the cells whose release is dated by then.

    Parameters
    ----------
    hazards, releases
        Polygons, each sorted by priority (the first keeps shared ground).
    hazard_ids, release_ids
        Distinct ids (the same in every chunk) for simulation of simplicity.
    hazard_owned, release_owned
        The polygons whose cells to report: a cell is reported by the chunk
        that owns its hazard, or its release where no hazard covers it. Every
        polygon whose box meets an owned one must be given.

    Returns
    -------
    hazard, release, area
        One entry per cell with ground: positions in ``hazards`` and
        ``releases`` (-1: none), and the area (square metres, CRS units).
    """
    hazards = np.asarray(hazards, dtype=object)
    releases = np.asarray(releases, dtype=object)
    n_h, n_r = len(hazards), len(releases)
    polys = np.concatenate([hazards, releases])
    sos = np.r_[np.asarray(hazard_ids, dtype=np.int64), np.asarray(release_ids, dtype=np.int64)]
    family = np.r_[np.full(n_h, HAZARD), np.full(n_r, RELEASE)]
    owned = np.r_[np.asarray(hazard_owned, dtype=bool), np.asarray(release_owned, dtype=bool)]
    arr = arrange(polys, sos)
    rank = np.arange(n_h + n_r)
    k_cover = cover_min(arr, family, HAZARD, rank)
    r_cover = cover_min(arr, family, RELEASE, rank)
    a = arr.run_poly
    own_h = family[a] == HAZARD
    k_left = np.where(own_h, np.minimum(k_cover, a), k_cover)
    r_left = np.where(~own_h, np.minimum(r_cover, a), r_cover)
    w, dy, xref = arr.run_w, arr.run_dy, arr.seg.xref
    keys, values = [], []
    for k, r, sign in ((k_left, r_left, 1.0), (k_cover, r_cover, -1.0)):
        # A cell is measured from, and reported by, its hazard, else its release.
        anchor = np.where(k != NONE, k, r)
        use = anchor != NONE
        use[use] &= owned[anchor[use]]
        use &= (k_left != k_cover) | (r_left != r_cover)
        k, r, anchor = k[use], r[use], anchor[use]
        keys.append(
            np.where(k == NONE, -1, k) * np.int64(n_r + 1) + np.where(r == NONE, n_r, r - n_h)
        )
        values.append(sign * (w[use] + (xref[a[use]] - xref[anchor]) * dy[use]))
    key = np.concatenate(keys)
    value = np.concatenate(values)
    if len(key) == 0:
        empty = _empty_int()
        return empty, empty.copy(), np.zeros(0)
    order = np.argsort(key, kind="stable")
    key, value = key[order], value[order]
    first = np.r_[True, key[1:] != key[:-1]]
    total = np.add.reduceat(value, np.flatnonzero(first))
    key = key[first]
    kept = total != 0  # cells whose runs cancel exactly (identical copies) hold nothing
    key, total = key[kept], total[kept]
    hazard, release = np.divmod(key, np.int64(n_r + 1))
    release = np.where(release == n_r, -1, release)
    return hazard, release, total
