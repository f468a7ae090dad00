"""How accurate are the submitted minefield records? Record versus found devices.

Each submitted record (hazard polygon) is compared with the devices that
clearance found near it. All distances are in metres in a Lambert azimuthal
equal-area projection centred on the data (:func:`minemap.geodesy.equal_area_crs`);
bearings are true bearings on the WGS84 ellipsoid (:meth:`pyproj.Geod.inv`).

Definitions (``docs/accuracy.md`` has a picture):

*devices near a record*
    Found items of the types counted (AP and AT mines by default) that lie
    within ``search_m`` metres of the record's polygon. A device near several
    records belongs to the nearest one (distance 0 inside; a device inside two
    overlapping records belongs to both). With ``releases``, only devices
    within ``search_m`` of reduced or cleared ground count: devices reported
    elsewhere (a call-out, a spot task) say nothing about the map.
*hit_rate*
    devices near the record that lie inside its polygon (or within
    ``tolerance_m`` of it) ÷ devices near the record. Empty (NaN) with no
    device near.
*found_vs_recorded_ap*, *found_vs_recorded_at*
    AP (AT) devices inside the record (with ``tolerance_m``) ÷ AP (AT) mines
    recorded. NaN when the record lists none of that type, or its count is
    not known.
*offset_m*, *offset_bearing_deg*, *offset_uncertainty_m*
    The systematic shift ``t`` of the record: where its minefield really lies.
    Devices found by searching a minefield are spread over the searched part
    of it, so the record moved by the right ``t`` is centred on them. The
    estimate (:func:`estimate_offset`) is the likelihood-weighted mean of the
    shifts up to ``search_m`` in each direction, the likelihood counting the
    devices inside the record moved by ``t`` (each inside, or a stray) and the
    searched ground it covers that lies far (1.5 spacings) from every device;
    ``offset_uncertainty_m`` is the largest distance from the estimate to a
    shift that fits nearly as well (within a factor 20 of the best, any one
    device left out at no cost). There is no estimate (empty cells, and ``offset_note``
    says why) with fewer than 8 devices (or ``min_devices``), when the searched
    part of the moved record is under half of it, when the devices cover under
    half of that part, when the fit is open to ``search_m``, or when the
    uncertainty is over 25 m and over a third of the shift. ``offset_m`` is the
    geodesic length and ``offset_bearing_deg`` the true bearing (0-360°,
    clockwise from north) of ``t`` applied at the record's centroid: the
    direction in which the devices lie from the record; ``offset_dx_m``,
    ``offset_dy_m`` give ``t`` east and north. ``offset_devices`` is the number
    of devices the estimate rests on and ``offset_searched`` what it took as
    searched ("releases", or "record" when no releases are given or they do not
    hold the devices). A consistent shift is the signature of a wrong
    reference point. ``hit_rate_shifted`` is the hit rate after the shift.
*iou*
    Intersection over union of the record's polygon and the *found area*: the
    convex hull of the devices near it, buffered by ``hull_buffer_m``. It needs
    ``min_devices`` devices, else NaN. On a record only partly cleared the
    found area is smaller than the minefield, so read ``iou`` with
    ``searched_share``.
*searched_share*
    (with ``releases``) the share of the record's area released by reduced or
    cleared land, i.e. searched for devices.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
import shapely.affinity

from minemap import contamination, geodesy
from minemap import schema as s
from minemap._layers import layer_order
from minemap.contamination import require_columns
from minemap.errors import SchemaError

__all__ = ["LEVELS", "Offset", "accuracy", "assigned_devices", "estimate_offset", "rollup"]

#: Roll-up levels of :func:`accuracy`.
LEVELS = ("hazard", "district", "source")

_GEOD = pyproj.Geod(ellps="WGS84")
_SEARCHED_METHODS = ("reduced", "cleared")
_MINE_TYPES = {"AP": s.DEVICES_INSIDE_AP, "AT": s.DEVICES_INSIDE_AT}


def _projected(frame: gpd.GeoDataFrame, crs, layer: str) -> np.ndarray:
    if frame.crs is None:
        raise SchemaError(
            f"{layer}: the layer has no CRS. Use GeoDataFrame.set_crs(...) to say what its "
            "coordinates are (EPSG:4326 for longitude/latitude)."
        )
    return frame.geometry.to_crs(crs).to_numpy(dtype=object)


def _wgs84_bounds(frame: gpd.GeoDataFrame) -> np.ndarray:
    if frame.crs is None:
        raise SchemaError("hazards: the layer has no CRS. Use GeoDataFrame.set_crs(...).")
    return frame.geometry.to_crs(s.CANONICAL_CRS).total_bounds


@dataclass(frozen=True)
class Offset:
    """The shift of one record estimated from its devices (:func:`estimate_offset`).

    Attributes
    ----------
    dx, dy
        The shift in metres (east, north): where the devices lie relative to the
        record. NaN when there is no estimate.
    uncertainty_m
        Largest distance from the estimate to a shift that fits the devices
        nearly as well (likelihood within a factor :data:`FIT_RATIO` of the
        best: the 95 % likelihood-ratio region). NaN when there is no estimate.
    devices
        Devices the estimate rests on: inside the searched part of the record
        moved by the shift.
    searched_share
        Share of the record, moved by the shift, that was searched.
    coverage
        Share of that searched part the devices cover (their convex hull,
        buffered by half a typical spacing).
    searched
        ``"releases"`` when the reduced/cleared ground was taken as the searched
        part, ``"record"`` when the whole record was (no releases given, or
        releases that do not hold the devices).
    note
        Why there is no estimate; empty when there is one.
    """

    dx: float = np.nan
    dy: float = np.nan
    uncertainty_m: float = np.nan
    devices: int = 0
    searched_share: float = np.nan
    coverage: float = np.nan
    searched: str = "record"
    note: str = ""

    @property
    def estimated(self) -> bool:
        """Whether there is an estimate."""
        return not self.note

    @property
    def shift(self) -> np.ndarray | None:
        """``(dx, dy)`` or ``None`` without an estimate."""
        return np.array([self.dx, self.dy]) if self.estimated else None


#: A shift fits "nearly as well" as the best when its likelihood is within this
#: factor of the best: exp(5.99 / 2), the 95 % likelihood-ratio region in two dimensions.
FIT_RATIO = float(np.exp(5.991 / 2))
#: Devices within this distance of a record's edge count as inside for the fit
#: (hand-drawn edges, GPS); the same margin on every side does not bias the shift.
EDGE_M = 1.0
#: Released ground holds a device within this distance of it (GPS).
GPS_M = 5.0
#: The releases describe where the devices were found when they hold this share of them.
RELEASES_HOLD_SHARE = 0.8
#: Prior share of strays among the devices (GPS errors, hand-drawn edges, other minefields).
STRAY_SHARE = 0.05
#: Searched ground farther than this many typical spacings from every device is
#: empty ground: with devices spread at random, a point that far from all of them has a
#: chance of exp(-pi * 1.5**2), under 1 in 1,000, so a record over much of it fits worse.
#: Gaps up to this wide are free: devices in rows (a laid minefield) leave gaps of up to
#: a spacing between the last row and the edge.
EMPTY_SPACINGS = 1.5
#: Devices the uncertainty allows to be strays: one device a few metres off an edge
#: can pull the best fit towards it, so shifts that leave it out count as fitting too.
STRAYS_ALLOWED = 1
_COARSE_CELLS = 256
_FINE_STEPS = 48


def estimate_offset(
    points: np.ndarray,
    polygon: shapely.Geometry,
    searched: shapely.Geometry | None = None,
    *,
    max_shift_m: float = 200.0,
    min_devices: int = 8,
    min_coverage: float = 0.5,
    min_searched_share: float = 0.5,
    max_uncertainty_m: float = 25.0,
    max_uncertainty_share: float = 1 / 3,
) -> Offset:
    """The shift of a record that centres it on the devices found, with its uncertainty.

    Devices found by searching a minefield are spread over the searched part of
    it. If the record was drawn off by ``t``, the minefield is the record moved
    by ``t``, and the devices lie over its searched part. The likelihood of a
    shift ``t`` counts the devices inside ``polygon + t`` (each is found in the
    minefield or, with probability :data:`STRAY_SHARE`, a stray anywhere
    around it) and weighs against searched ground inside ``polygon + t`` that
    lies more than :data:`EMPTY_SPACINGS` typical spacings from every device
    (see :func:`_fit`). The estimate is the likelihood-weighted mean of the
    shifts up to ``max_shift_m`` (the centre of the shifts that fit: devices
    spread over a record are centred in it), found on a coarse grid of every
    shift (FFT correlation of the devices with the record) and then on a fine
    grid around the best; the uncertainty is the largest distance from it to a
    shift within a factor :data:`FIT_RATIO` of the best fit when up to
    :data:`STRAYS_ALLOWED` devices may be left out at no cost.
    ``docs/accuracy.md`` walks through it.

    Parameters
    ----------
    points
        ``(n, 2)`` device coordinates in metres (an equal-area CRS).
    polygon
        The record, in the same CRS.
    searched
        The ground searched around the record (reduced and cleared releases), in
        the same CRS; ``None`` when the whole record was searched. When it holds
        fewer than :data:`RELEASES_HOLD_SHARE` of the devices it does not say
        where they were found, and the whole record counts as searched.
    max_shift_m
        Largest shift looked for, in each of east and north.
    min_devices
        Devices needed inside the searched part of the shifted record.
    min_coverage
        Share of the searched part the devices must cover ("most of the record").
    min_searched_share
        Share of the shifted record that must have been searched.
    max_uncertainty_m, max_uncertainty_share
        An estimate is given only when its uncertainty is at most
        ``max(max_uncertainty_m, max_uncertainty_share * shift)``: it can tell a
        shifted record (``records_shifted``, over 25 m) from one in place, or the
        shift is at least three times its uncertainty.

    Returns
    -------
    Offset
        The shift and its uncertainty, or a ``note`` saying why there is none.

    Examples
    --------
    >>> import shapely
    >>> record = shapely.box(0, 0, 100, 100)
    >>> xs, ys = np.meshgrid(np.arange(30, 131, 5.0), np.arange(-20, 81, 5.0))
    >>> fit = estimate_offset(np.column_stack([xs.ravel(), ys.ravel()]), record)
    >>> [round(float(v)) for v in fit.shift], fit.uncertainty_m < 5
    ([30, -20], True)
    """
    pts = np.asarray(points, dtype=float).reshape(-1, 2)
    pts = pts[np.isfinite(pts).all(axis=1)]
    n = len(pts)
    if n < min_devices:
        return Offset(devices=n, note=f"too few devices ({n}; a shift needs {min_devices})")
    if polygon is None or shapely.is_empty(polygon) or not shapely.area(polygon) > 0:
        return Offset(devices=n, note="the record has no area")
    record = shapely.buffer(polygon, EDGE_M, join_style="mitre")
    basis = "record"
    ground = None
    if searched is not None and not shapely.is_empty(searched):
        ground = shapely.buffer(searched, GPS_M)
        held = shapely.contains_xy(ground, pts[:, 0], pts[:, 1])
        if held.mean() >= RELEASES_HOLD_SHARE:
            basis = "releases"
            pts = pts[held]
        else:
            ground = None
    fit = _fit(pts, n, record, ground, float(max_shift_m))
    if fit is None:
        return Offset(devices=0, searched=basis, note="no shift puts the devices inside the record")
    t, uncertainty, bounded = fit
    moved = shapely.affinity.translate(polygon, *t)
    part = moved if ground is None else shapely.intersection(moved, ground)
    part_area = float(shapely.area(part))
    share = min(part_area / float(shapely.area(polygon)), 1.0)
    inside = shapely.contains_xy(
        shapely.buffer(part, EDGE_M, join_style="mitre"), pts[:, 0], pts[:, 1]
    )
    k = int(inside.sum())
    coverage = _coverage(pts[inside], part, part_area)
    common = {"devices": k, "searched_share": share, "coverage": coverage, "searched": basis}
    length = float(np.hypot(*t))
    allowed = max(max_uncertainty_m, max_uncertainty_share * length)
    note = ""
    if k < min_devices:
        note = f"too few devices inside the record ({k}; a shift needs {min_devices})"
    elif share < min_searched_share:
        note = f"searched part too small ({share:.0%} of the record)"
    elif coverage < min_coverage:
        note = f"the devices cover only {coverage:.0%} of the searched part of the record"
    elif not bounded:
        note = f"the devices do not pin the record down (shifts up to {max_shift_m:g} m fit)"
    elif uncertainty > allowed:
        note = (
            f"shift not measurable: uncertainty {uncertainty:.0f} m (an estimate needs at most "
            f"{max_uncertainty_m:g} m, or {max_uncertainty_share:.0%} of the shift)"
        )
    if note:
        return Offset(note=note, **common)
    return Offset(float(t[0]), float(t[1]), float(uncertainty), **common)


def _coverage(pts: np.ndarray, part, part_area: float) -> float:
    """Share of ``part`` within the devices' hull buffered by half a typical spacing."""
    if len(pts) < 3 or not part_area > 0:
        return 0.0
    spacing = np.sqrt(part_area / len(pts))
    hull = shapely.buffer(shapely.convex_hull(shapely.multipoints(pts)), spacing / 2)
    return float(shapely.area(shapely.intersection(hull, part)) / part_area)


def _fit(pts: np.ndarray, n: int, record, ground, bound: float):
    """Likelihood-weighted mean shift, its uncertainty and whether the fit is bounded.

    The log-likelihood of a shift ``t`` is ``k(t) * log(1 + rho) - E(t) / g**2``:
    ``k`` devices inside ``record + t`` (each is either found in the record,
    density ``(1 - STRAY_SHARE) / area``, or a stray spread over the canvas,
    ``rho`` the ratio of the two densities), and ``E`` the searched ground inside
    ``record + t`` farther than :data:`EMPTY_SPACINGS` typical spacings ``g``
    from every device: with devices at one per ``g**2``, ground that far from all
    of them is unlikely (Poisson), so a shift that puts the record over empty
    searched ground fits worse. Smaller gaps are free, so devices in rows (a
    laid minefield) are not mistaken for an edge. ``None`` when no shift holds a
    device.
    """
    if len(pts) == 0:
        return None
    # Coarse: every shift on a grid, by FFT correlation on a square canvas around
    # the record with a margin of ``bound`` (so circular correlation is exact).
    minx, miny, maxx, maxy = shapely.bounds(record)
    side = max(maxx - minx, maxy - miny) + 2 * bound
    cells = _COARSE_CELLS
    r = side / (cells - 4)
    ox = (minx + maxx) / 2 - cells * r / 2
    oy = (miny + maxy) / 2 - cells * r / 2
    gx, gy = np.meshgrid(ox + (np.arange(cells) + 0.5) * r, oy + (np.arange(cells) + 0.5) * r)
    # A device binned to its cell centre moves by up to r/sqrt(2): the record grown by
    # that much counts every device the exact test would (an upper bound, to find where
    # to look closely).
    grown = shapely.buffer(record, r * 0.7072, join_style="mitre")
    mask_grown = shapely.contains_xy(grown, gx, gy).astype(float)
    mask = shapely.contains_xy(record, gx, gy).astype(float)
    edges_x = ox + np.arange(cells + 1) * r
    edges_y = oy + np.arange(cells + 1) * r
    hist, _, _ = np.histogram2d(pts[:, 1], pts[:, 0], bins=[edges_y, edges_x])
    reach = int(np.floor(bound / r))
    idx = np.arange(-reach, reach + 1) % cells
    window = np.ix_(idx, idx)

    def correlate(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        # c(tau) = sum_x a(x) b(x - tau): how much of ``a`` the record moved by tau holds.
        full = np.fft.irfft2(np.fft.rfft2(a) * np.conj(np.fft.rfft2(b)), s=a.shape)
        return full[window]

    k_coarse = np.rint(correlate(hist, mask_grown))
    if k_coarse.max() <= 0:
        return None
    if ground is None:
        searched = np.ones_like(mask)
        searched_area = float(shapely.area(record))
    else:
        searched = shapely.contains_xy(ground, gx, gy).astype(float)
        # The record's searched part is at most the record, and at most the ground.
        searched_area = min(float(shapely.area(record)), float(shapely.area(ground)))
    spacing = max(np.sqrt(max(searched_area, r * r) / len(pts)), r)
    # Ground within EMPTY_SPACINGS spacings of a device: the histogram convolved with a disc.
    offsets = (np.arange(cells) + cells // 2) % cells - cells // 2
    ox_, oy_ = np.meshgrid(offsets * r, offsets * r)
    disc = (np.hypot(ox_, oy_) <= EMPTY_SPACINGS * spacing).astype(float)
    near = np.fft.irfft2(np.fft.rfft2(hist) * np.fft.rfft2(disc), s=hist.shape) > 0.5
    empty = searched * ~near
    empty_coarse = correlate(empty, mask) * r * r
    inside = (1 - STRAY_SHARE) / float(shapely.area(record))
    stray = STRAY_SHARE / (side * side)
    gain = np.log1p(inside / stray)

    def log_likelihood(k, empty_area):
        return k * gain - empty_area / (spacing * spacing)

    ll = log_likelihood(k_coarse, empty_coarse)
    steps = np.arange(-reach, reach + 1) * r
    rows, cols = np.nonzero(ll >= ll.max() - 25.0)
    lo_x = max(steps[cols.min()] - 2 * r, -bound)
    hi_x = min(steps[cols.max()] + 2 * r, bound)
    lo_y = max(steps[rows.min()] - 2 * r, -bound)
    hi_y = min(steps[rows.max()] + 2 * r, bound)

    # Fine: exact point-in-polygon counts on a grid over that window; the empty
    # ground (smooth in the shift) interpolated from the coarse grid.
    step = max(max(hi_x - lo_x, hi_y - lo_y) / (_FINE_STEPS - 1), 0.05)
    fx = np.arange(lo_x, hi_x + step / 2, step)
    fy = np.arange(lo_y, hi_y + step / 2, step)
    tx, ty = (a.ravel() for a in np.meshgrid(fx, fy))
    shapely.prepare(record)
    # A device farther from the record's edge than the window's reach is inside (or
    # outside) for every shift of the window: count it once, test only the others.
    centre = np.array([(lo_x + hi_x) / 2, (lo_y + hi_y) / 2])
    reach_m = np.hypot(hi_x - lo_x, hi_y - lo_y) / 2 + 1e-6
    moved = pts - centre
    settled = shapely.distance(shapely.points(moved), shapely.boundary(record)) > reach_m
    k = np.full(len(tx), float(shapely.contains_xy(record, *moved[settled].T).sum()))
    edge = pts[~settled]
    chunk = max(1, 2_000_000 // max(len(edge), 1))
    for i in range(0, len(tx) if len(edge) else 0, chunk):
        xs = edge[None, :, 0] - tx[i : i + chunk, None]
        ys = edge[None, :, 1] - ty[i : i + chunk, None]
        k[i : i + chunk] += shapely.contains_xy(record, xs, ys).sum(axis=1)
    if k.max() <= 0:
        return None
    empty = _bilinear(empty_coarse, tx / r + reach, ty / r + reach)
    ll = log_likelihood(k, empty)
    # The shifts that fit about as well as the best, allowing for a stray near an edge
    # (a device a few metres off, which the best fit may have taken in): up to
    # STRAYS_ALLOWED devices may be left out at no cost.
    robust = log_likelihood(np.minimum(k, k.max() - STRAYS_ALLOWED), empty)
    close = robust >= robust.max() - np.log(FIT_RATIO)
    weight = np.exp(ll - ll.max())
    t = np.array([np.sum(weight * tx), np.sum(weight * ty)]) / weight.sum()
    spread = float(np.hypot(tx[close] - t[0], ty[close] - t[1]).max()) + step / np.sqrt(2)
    edge = bound - r
    bounded = not ((np.abs(tx[close]) >= edge) | (np.abs(ty[close]) >= edge)).any()
    return t, spread, bounded


def _bilinear(grid: np.ndarray, col: np.ndarray, row: np.ndarray) -> np.ndarray:
    """``grid`` sampled at fractional (row, col) positions, clamped to its edges."""
    rows, cols = grid.shape
    col = np.clip(col, 0, cols - 1)
    row = np.clip(row, 0, rows - 1)
    c0 = np.minimum(np.floor(col).astype(int), cols - 2) if cols > 1 else np.zeros_like(col, int)
    r0 = np.minimum(np.floor(row).astype(int), rows - 2) if rows > 1 else np.zeros_like(row, int)
    fc, fr = col - c0, row - r0
    c1, r1 = np.minimum(c0 + 1, cols - 1), np.minimum(r0 + 1, rows - 1)
    return (
        grid[r0, c0] * (1 - fr) * (1 - fc)
        + grid[r0, c1] * (1 - fr) * fc
        + grid[r1, c0] * fr * (1 - fc)
        + grid[r1, c1] * fr * fc
    )


def _bearing(centroids: np.ndarray, shifts: np.ndarray, crs) -> tuple[np.ndarray, np.ndarray]:
    """Geodesic length (m) and true bearing (0-360°) of planar shifts applied at centroids."""
    to_ll = pyproj.Transformer.from_crs(crs, s.CANONICAL_CRS, always_xy=True)
    lon1, lat1 = to_ll.transform(centroids[:, 0], centroids[:, 1])
    lon2, lat2 = to_ll.transform(centroids[:, 0] + shifts[:, 0], centroids[:, 1] + shifts[:, 1])
    az, _, dist = _GEOD.inv(lon1, lat1, lon2, lat2)
    az = np.mod(np.asarray(az, dtype=float), 360.0)
    dist = np.asarray(dist, dtype=float)
    az[~(dist > 0)] = np.nan
    return dist, az


def _assign(points: np.ndarray, records: np.ndarray, search_m: float) -> tuple[np.ndarray, ...]:
    """(device index, record index) pairs: each device to its nearest record(s) within reach."""
    if len(points) == 0 or len(records) == 0:
        empty = np.zeros(0, dtype=np.intp)
        return empty, empty
    tree = shapely.STRtree(records)
    pairs = tree.query_nearest(points, max_distance=search_m, all_matches=True)
    return pairs[0], pairs[1]


def _counted(items, releases, crs, search_m: float, item_types):
    """Devices that count: (points, types, positions in ``items``, searched ground or None).

    Items of the counted types; with releases, only those within ``search_m`` of
    reduced or cleared ground (the searched ground, also returned).
    """
    kinds = items[s.ITEM_TYPE].astype("string").str.strip().str.upper()
    counted = kinds.isin([t.upper() for t in item_types]).fillna(False).to_numpy(dtype=bool)
    points = _projected(items, crs, "items")[counted]
    kinds = kinds.to_numpy(dtype=object)[counted]
    positions = np.flatnonzero(counted)
    searched = None
    if releases is not None:
        # Releases given as an area have no ground to place: not searched ground.
        releases = releases[~contamination.area_only_releases(releases)]
        methods = releases[s.METHOD].astype("string").str.strip().str.lower()
        searched = _projected(releases, crs, "releases")[
            methods.isin(_SEARCHED_METHODS).fillna(False).to_numpy(dtype=bool)
        ]
        if len(points):
            near_ground = shapely.STRtree(searched).query(
                points, predicate="dwithin", distance=search_m
            )
            keep = np.zeros(len(points), dtype=bool)
            keep[near_ground[0]] = True
            points, kinds, positions = points[keep], kinds[keep], positions[keep]
    return points, kinds, positions, searched


#: Both functions took (hazards, items, releases) in 0.1: still accepted, with a warning.
_ORDER_OF_0_1 = layer_order(
    new=("hazards", "releases", "items"),
    old=("hazards", "items", "releases"),
    kinds={"hazards": "hazards", "releases": "releases", "items": "items"},
)


@_ORDER_OF_0_1
def assigned_devices(
    hazards: gpd.GeoDataFrame,
    releases: gpd.GeoDataFrame | None = None,
    items: gpd.GeoDataFrame | None = None,
    *,
    tolerance_m: float = 0.0,
    search_m: float = 200.0,
    item_types: tuple[str, ...] = ("AP", "AT"),
) -> gpd.GeoDataFrame:
    """The devices :func:`accuracy` counts, each with its record: for maps and checks.

    Parameters
    ----------
    hazards, releases, items, tolerance_m, search_m, item_types
        As for :func:`accuracy` (the same layer order; the old order
        ``hazards, items, releases`` works for one release, with a
        ``DeprecationWarning``).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per counted device (points in EPSG:4326): ``item_id`` (when the
        items have one), ``item_type``, ``hazard_id`` of the record it belongs
        to (empty when no record lies within ``search_m``; the first of two
        overlapping records) and ``inside`` (within ``tolerance_m`` of that
        record).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from minemap import datasets
    >>> items = gpd.read_file(datasets.get_path("hazards").parent / "items.geojson")
    >>> found = assigned_devices(datasets.hazards(), items=items)
    >>> sorted(set(found["item_type"]))
    ['AP', 'AT']
    """
    if items is None:
        raise TypeError(
            "assigned_devices() needs items: assigned_devices(hazards, releases, items)"
        )
    require_columns(hazards, s.REQUIRED["hazards"], "hazards")
    require_columns(items, (s.ITEM_TYPE,), "items")
    if releases is not None:
        require_columns(releases, (s.METHOD,), "releases")
    crs = geodesy.equal_area_crs(_wgs84_bounds(hazards))
    records = _projected(hazards, crs, "hazards")
    points, kinds, positions, _ = _counted(items, releases, crs, search_m, item_types)
    dev, rec = _assign(points, records, search_m)
    first = ~pd.Series(dev).duplicated().to_numpy()
    dev, rec = dev[first], rec[first]
    record = np.full(len(points), None, dtype=object)
    record[dev] = hazards[s.HAZARD_ID].to_numpy(dtype=object)[rec]
    inside = np.zeros(len(points), dtype=bool)
    inside[dev] = shapely.dwithin(points[dev], records[rec], tolerance_m + 1e-9)
    frame = pd.DataFrame(index=range(len(points)))
    if s.ITEM_ID in items:
        frame[s.ITEM_ID] = items[s.ITEM_ID].to_numpy(dtype=object)[positions]
    frame[s.ITEM_TYPE] = kinds
    frame[s.HAZARD_ID] = record
    frame["inside"] = inside
    found = gpd.GeoDataFrame(frame, geometry=points, crs=crs)
    return found.to_crs(s.CANONICAL_CRS)


@_ORDER_OF_0_1
def accuracy(
    hazards: gpd.GeoDataFrame,
    releases: gpd.GeoDataFrame | None = None,
    items: gpd.GeoDataFrame | None = None,
    *,
    tolerance_m: float = 0.0,
    search_m: float = 200.0,
    hull_buffer_m: float = 10.0,
    min_devices: int = 3,
    min_offset_devices: int = 8,
    item_types: tuple[str, ...] = ("AP", "AT"),
    shift_threshold_m: float = 25.0,
    level: str = "hazard",
) -> pd.DataFrame:
    """Accuracy of each submitted record against the devices found near it.

    Layers come in the order ``hazards, releases, items`` (by position or
    keyword), options by keyword only. The old order ``accuracy(hazards, items,
    releases)`` still works for one release, with a ``DeprecationWarning``.

    Parameters
    ----------
    hazards
        Submitted records (``hazard_id``, ``mines_ap``, ``mines_at``, polygons;
        ``district`` and ``source`` are carried into the result when present).
    releases
        Released land (``method``, polygons), or ``None``. With it, only
        devices within ``search_m`` of reduced or cleared ground count, and
        ``searched_share`` is filled.
    items
        Devices found (``item_id``, ``item_type``, points). Required.
    tolerance_m
        A device within this distance of the polygon counts as inside.
    search_m
        How far from a record a device may lie and still belong to it.
    hull_buffer_m
        Buffer of the devices' convex hull for ``iou``.
    min_devices
        Devices needed near a record for ``iou`` (and for a shift estimate).
    min_offset_devices
        Devices a shift estimate needs at least (see :func:`estimate_offset`).
    item_types
        Item types that count as devices (mines by default; UXO is not on a
        minefield record).
    shift_threshold_m
        A record counts as shifted (``records_shifted`` in roll-ups) above this.
    level
        ``"hazard"`` (one row per record), ``"district"`` or ``"source"`` (see
        :func:`rollup`).

    Returns
    -------
    DataFrame
        One row per ``hazard_id`` (input order) with ``district``/``source``
        when present and ``devices_near``, ``devices_inside``,
        ``devices_inside_ap``, ``devices_inside_at``, ``hit_rate``,
        ``found_vs_recorded_ap``, ``found_vs_recorded_at``, ``offset_m``,
        ``offset_bearing_deg``, ``offset_dx_m``, ``offset_dy_m`` (east, north in
        the equal-area CRS), ``offset_uncertainty_m``, ``hit_rate_shifted``,
        ``iou``, ``searched_share``, ``offset_devices``, ``offset_searched`` and
        ``offset_note`` (why a record has no shift estimate; its shift cells are
        then empty, never 0). The module docstring defines each measure.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from minemap import datasets
    >>> from minemap.accuracy import accuracy
    >>> items = gpd.read_file(datasets.get_path("hazards").parent / "items.geojson")
    >>> table = accuracy(datasets.hazards(), items=items)
    >>> bool(table["hit_rate"].dropna().between(0, 1).all())
    True
    """
    if items is None:
        raise TypeError("accuracy() needs items: accuracy(hazards, releases, items, ...)")
    if level not in LEVELS:
        raise ValueError(f"level {level!r} is not one of {', '.join(LEVELS)}")
    if tolerance_m < 0 or search_m <= 0 or hull_buffer_m < 0:
        raise ValueError("tolerance_m and hull_buffer_m must be >= 0 and search_m > 0")
    require_columns(hazards, s.REQUIRED["hazards"], "hazards")
    require_columns(items, (s.ITEM_TYPE,), "items")
    if releases is not None:
        require_columns(releases, (s.METHOD,), "releases")

    crs = geodesy.equal_area_crs(_wgs84_bounds(hazards))
    records = _projected(hazards, crs, "hazards")
    n = len(records)
    points, kinds, _, searched = _counted(items, releases, crs, search_m, item_types)
    searched_share = np.full(n, np.nan) if searched is None else _searched_share(records, searched)

    dev, rec = _assign(points, records, search_m)
    inside = shapely.dwithin(points[dev], records[rec], tolerance_m + 1e-9)
    near = np.bincount(rec, minlength=n)
    hits = np.bincount(rec, weights=inside, minlength=n)
    out = hazards.drop(columns=hazards.geometry.name)[
        [c for c in (s.HAZARD_ID, s.DISTRICT, s.SOURCE, s.MINES_AP, s.MINES_AT) if c in hazards]
    ].reset_index(drop=True)
    out[s.DEVICES_NEAR] = near
    out[s.DEVICES_INSIDE] = hits.astype(int)
    for kind, column in _MINE_TYPES.items():
        is_kind = kinds[dev] == kind
        out[column] = np.bincount(rec, weights=inside & is_kind, minlength=n).astype(int)
    with np.errstate(divide="ignore", invalid="ignore"):
        out[s.HIT_RATE] = np.where(near > 0, hits / np.maximum(near, 1), np.nan)
        for kind, recorded_col, ratio_col in (
            ("AP", s.MINES_AP, s.FOUND_VS_RECORDED_AP),
            ("AT", s.MINES_AT, s.FOUND_VS_RECORDED_AT),
        ):
            # NaN where the record's count is not known: the ratio is not known either.
            recorded = pd.to_numeric(hazards[recorded_col], errors="coerce").to_numpy(
                dtype=float, na_value=np.nan
            )
            found = out[_MINE_TYPES[kind]].to_numpy(dtype=float)
            out[ratio_col] = np.where(
                recorded > 0, found / np.where(recorded > 0, recorded, 1), np.nan
            )

    shifts = np.full((n, 2), np.nan)
    uncertainty = np.full(n, np.nan)
    fit_devices = np.zeros(n, dtype=int)
    notes = np.full(n, "no device near", dtype=object)
    basis = np.full(n, "", dtype=object)
    shifted_hits = np.full(n, np.nan)
    iou = np.full(n, np.nan)
    order = np.argsort(rec, kind="stable")
    bounds = np.searchsorted(rec[order], np.arange(n + 1))
    xy = shapely.get_coordinates(points[dev]) if len(dev) else np.zeros((0, 2))
    ground_tree = shapely.STRtree(searched) if searched is not None and len(searched) else None
    need = max(min_devices, min_offset_devices)
    for i in np.flatnonzero(near > 0):
        members = order[bounds[i] : bounds[i + 1]]
        pts = xy[members]
        ground = None
        if ground_tree is not None and len(pts) >= need:
            hits = ground_tree.query(records[i], predicate="dwithin", distance=search_m)
            ground = shapely.union_all(searched[hits]) if len(hits) else shapely.Polygon()
        fit = estimate_offset(pts, records[i], ground, max_shift_m=search_m, min_devices=need)
        notes[i], fit_devices[i] = fit.note, fit.devices
        basis[i] = fit.searched if fit.devices else ""
        if fit.estimated:
            shifts[i] = fit.shift
            uncertainty[i] = fit.uncertainty_m
            moved = shapely.points(pts - fit.shift)
            shifted_hits[i] = shapely.dwithin(moved, records[i], tolerance_m + 1e-6).mean()
        if near[i] >= max(min_devices, 1):
            hull = shapely.buffer(shapely.convex_hull(shapely.multipoints(pts)), hull_buffer_m)
            union = shapely.area(shapely.union(hull, records[i]))
            iou[i] = (
                shapely.area(shapely.intersection(hull, records[i])) / union if union else np.nan
            )
    centroids = shapely.get_coordinates(shapely.centroid(records))
    has = ~np.isnan(shifts[:, 0])
    length = np.full(n, np.nan)
    bearing = np.full(n, np.nan)
    if has.any():
        length[has], bearing[has] = _bearing(centroids[has], shifts[has], crs)
    out[s.OFFSET_M] = length
    out[s.OFFSET_BEARING_DEG] = bearing
    out[s.OFFSET_DX_M] = shifts[:, 0]
    out[s.OFFSET_DY_M] = shifts[:, 1]
    out[s.OFFSET_UNCERTAINTY_M] = uncertainty
    out[s.HIT_RATE_SHIFTED] = shifted_hits
    out[s.IOU] = iou
    out[s.SEARCHED_SHARE] = searched_share
    out[s.OFFSET_DEVICES] = fit_devices
    out[s.OFFSET_SEARCHED] = pd.array([b or None for b in basis], dtype="string")
    out[s.OFFSET_NOTE] = pd.array([x or None for x in notes], dtype="string")
    out.attrs["crs"] = crs.to_wkt()
    if level != "hazard":
        return rollup(out, by=level, shift_threshold_m=shift_threshold_m)
    return out


def _searched_share(records: np.ndarray, searched: np.ndarray) -> np.ndarray:
    """Share of each record's area covered by reduced/cleared ground (union per record)."""
    share = np.zeros(len(records))
    if len(searched) == 0:
        return share
    pairs = shapely.STRtree(searched).query(records, predicate="intersects")
    if pairs.shape[1] == 0:
        return share
    order = np.argsort(pairs[0], kind="stable")
    rec, rel = pairs[0][order], pairs[1][order]
    cuts = np.flatnonzero(np.diff(rec)) + 1
    groups = np.split(rel, cuts)
    firsts = rec[np.r_[0, cuts]]
    unions = np.array([shapely.union_all(searched[g]) for g in groups], dtype=object)
    covered = shapely.area(shapely.intersection(records[firsts], unions))
    share[firsts] = covered / shapely.area(records[firsts])
    return np.clip(share, 0.0, 1.0)


def rollup(
    table: pd.DataFrame, *, by: str = "district", shift_threshold_m: float = 25.0
) -> pd.DataFrame:
    """Roll per-record accuracy up per district or per source map.

    Parameters
    ----------
    table
        The per-record frame of :func:`accuracy`.
    by
        ``"district"`` or ``"source"`` (the records' column of that name; records
        without one go to ``(unassigned)``).
    shift_threshold_m
        Records whose ``offset_m`` exceeds this count in ``records_shifted``.

    Returns
    -------
    DataFrame
        One row per group: ``records``, ``records_with_devices``,
        ``devices_near``, ``devices_inside`` (sums), ``hit_rate`` (devices inside
        ÷ devices near, over the group: device-weighted),
        ``found_vs_recorded_ap``/``_at`` (devices inside ÷ mines recorded, over
        the records with devices near whose count is known), ``records_with_offset`` (records with a
        shift estimate), ``offset_m``, ``offset_dx_m``, ``offset_dy_m`` (medians
        over those records only: a record without an estimate is unknown, not
        0; empty when none has one), ``records_shifted`` (records whose estimate
        exceeds ``shift_threshold_m``), ``iou`` (mean).
    """
    column = {"district": s.DISTRICT, "source": s.SOURCE}.get(by)
    if column is None:
        raise ValueError(f"by={by!r}: roll up by 'district' or 'source'")
    keys = (
        table[column].astype("string").str.strip().replace("", pd.NA).fillna(s.UNASSIGNED)
        if column in table
        else pd.Series(s.UNASSIGNED, index=table.index)
    )
    frame = table.assign(_key=keys.to_numpy(dtype=object))
    with_devices = frame[s.DEVICES_NEAR] > 0
    # Records whose count is not known take no part in found-vs-recorded: neither their
    # recorded mines (not 0) nor the devices found in them.
    for kind, mines, inside in (
        ("ap", s.MINES_AP, s.DEVICES_INSIDE_AP),
        ("at", s.MINES_AT, s.DEVICES_INSIDE_AT),
    ):
        recorded = pd.to_numeric(frame[mines], errors="coerce").to_numpy(
            dtype=float, na_value=np.nan
        )
        known = with_devices.to_numpy() & np.isfinite(recorded)
        frame[f"_rec_{kind}"] = np.where(known, recorded, 0.0)
        frame[f"_found_{kind}"] = np.where(known, frame[inside].to_numpy(dtype=float), 0.0)
    frame["_with"] = with_devices.astype(int)
    frame["_offset"] = frame[s.OFFSET_M].notna().astype(int)
    # Records without an estimate are unknown, not "not shifted": neither 0 nor counted.
    frame["_shifted"] = (frame[s.OFFSET_M] > shift_threshold_m).astype(int)
    grouped = frame.groupby("_key", sort=True)
    sums = grouped[
        [
            s.DEVICES_NEAR,
            s.DEVICES_INSIDE,
            s.DEVICES_INSIDE_AP,
            s.DEVICES_INSIDE_AT,
            "_rec_ap",
            "_rec_at",
            "_found_ap",
            "_found_at",
            "_with",
            "_offset",
            "_shifted",
        ]
    ].sum()

    def ratio(a: pd.Series, b: pd.Series) -> np.ndarray:
        a, b = a.to_numpy(dtype=float), b.to_numpy(dtype=float)
        return np.divide(a, b, out=np.full(len(a), np.nan), where=b > 0)

    result = pd.DataFrame(
        {
            column: sums.index.to_numpy(dtype=object),
            s.RECORDS: grouped.size().to_numpy(),
            s.RECORDS_WITH_DEVICES: sums["_with"].to_numpy(),
            s.DEVICES_NEAR: sums[s.DEVICES_NEAR].to_numpy(),
            s.DEVICES_INSIDE: sums[s.DEVICES_INSIDE].to_numpy(),
            s.HIT_RATE: ratio(sums[s.DEVICES_INSIDE], sums[s.DEVICES_NEAR]),
            s.FOUND_VS_RECORDED_AP: ratio(sums["_found_ap"], sums["_rec_ap"]),
            s.FOUND_VS_RECORDED_AT: ratio(sums["_found_at"], sums["_rec_at"]),
            s.RECORDS_WITH_OFFSET: sums["_offset"].to_numpy(),
            # median() skips the records without an estimate (NaN): never read as 0.
            s.OFFSET_M: grouped[s.OFFSET_M].median().to_numpy(),
            s.OFFSET_DX_M: grouped[s.OFFSET_DX_M].median().to_numpy(),
            s.OFFSET_DY_M: grouped[s.OFFSET_DY_M].median().to_numpy(),
            s.RECORDS_SHIFTED: sums["_shifted"].to_numpy(),
            s.IOU: grouped[s.IOU].mean().to_numpy(),
        }
    )
    return result.reset_index(drop=True)
