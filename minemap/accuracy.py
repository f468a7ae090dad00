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
    recorded. NaN when the record lists none of that type.
*offset_m*, *offset_bearing_deg*
    The systematic shift: the translation ``t`` of the record that brings its
    devices inside, found by an iterated robust estimator. It needs at least
    ``min_devices`` devices near (else NaN) and is 0 unless at least three
    devices, and a twentieth of them, lie outside the record (a stray or two
    is not a shift). Otherwise, start at ``t = 0``; for the devices still
    outside ``polygon + t``, take the vectors from their nearest point on the
    shifted polygon to the device, and step ``t`` by the component-wise median
    of those vectors (or, when that does not help, their mean: devices off two
    different sides cancel in the median); accept a step only if it lowers the
    sum of device-to-polygon distances (otherwise halve it, up to 6 times);
    stop when every device is inside, or no step of 1 cm or more lowers the
    sum. The median makes a few stray devices harmless, and the acceptance
    test keeps a lone stray from dragging the record. That is the smallest
    shift that fits. Where the devices span the record in a direction (at
    least 10 devices, which can move at most one typical device spacing,
    sqrt(hull area / devices), without fitting worse), the shift is then
    centred in that room, along the shift and across it, which removes the
    bias of stopping at the first edge; a record cleared only in part keeps
    the smallest shift. ``offset_m`` is the geodesic length and
    ``offset_bearing_deg`` the true bearing (0-360°, clockwise from north) of
    ``t`` applied at the record's centroid: the direction in which the devices
    lie from the record (NaN for a zero shift). A consistent shift is the
    signature of a wrong reference point. ``hit_rate_shifted`` is the hit rate
    after the shift.
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

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from minemap import geodesy
from minemap import schema as s
from minemap.contamination import require_columns
from minemap.errors import SchemaError

__all__ = ["LEVELS", "accuracy", "estimate_offset", "rollup"]

#: Roll-up levels of :func:`accuracy`.
LEVELS = ("hazard", "district", "source")

_GEOD = pyproj.Geod(ellps="WGS84")
_SEARCHED_METHODS = ("reduced", "cleared")
#: Devices span a record in a direction when they can move at most this many
#: typical spacings (sqrt(hull area / devices)) without leaving it.
_SPAN_SPACINGS = 1.0
#: Devices needed before the shift is centred (fewer say little about the edges).
_CENTRE_MIN_DEVICES = 10
#: A shift needs this many devices, and this share of them, outside the record.
_SHIFT_MIN_OUTSIDE = 3
_SHIFT_MIN_SHARE = 0.05
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


def estimate_offset(
    points: np.ndarray,
    polygon: shapely.Geometry,
    *,
    max_iter: int = 100,
) -> np.ndarray:
    """The smallest translation that brings ``points`` inside ``polygon`` (robust).

    Parameters
    ----------
    points
        ``(n, 2)`` device coordinates in metres.
    polygon
        The record, in the same planar CRS.

    Returns
    -------
    ndarray
        ``(dx, dy)`` in metres: where the devices lie relative to the record.
        See the module docstring for the estimator.
    """
    pts = np.asarray(points, dtype=float).reshape(-1, 2)
    shapely.prepare(polygon)
    t = np.zeros(2)

    def cost(shift: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        moved = shapely.points(pts - shift)
        dist = shapely.distance(moved, polygon)
        return float(dist.sum()), moved, dist

    total, moved, dist = cost(t)
    outside = int((dist > 1e-9).sum())
    if outside < max(_SHIFT_MIN_OUTSIDE, _SHIFT_MIN_SHARE * len(pts)):
        # A stray or two off the edge is not a systematic shift.
        return t
    for _ in range(max_iter):
        outside = dist > 1e-9
        if not outside.any():
            break
        lines = shapely.shortest_line(moved[outside], polygon)
        coords = shapely.get_coordinates(lines).reshape(-1, 2, 2)
        # From the polygon's nearest point to the device: where the device lies.
        vectors = coords[:, 0, :] - coords[:, 1, :]
        accepted = False
        # The component-wise median first (robust to strays); when devices lie off
        # two different sides its components can cancel, so then the mean.
        for step in (np.median(vectors, axis=0), vectors.mean(axis=0)):
            for _ in range(7):
                if np.hypot(*step) < 0.01:
                    break
                trial_total, trial_moved, trial_dist = cost(t + step)
                if trial_total < total - 1e-9:
                    t, total, moved, dist = t + step, trial_total, trial_moved, trial_dist
                    accepted = True
                    break
                step = step / 2
            if accepted:
                break
        if not accepted:
            break
    return _centre(t, pts, polygon, cost, total)


def _centre(t, pts, polygon, cost, total) -> np.ndarray:
    """Centre ``t`` in the room the devices have, along the shift and across it.

    The descent stops at the first position where the devices fit, short of
    the true shift by the gap between the outermost devices and the edge. When
    the devices span the record in a direction (the room to move them, without
    worsening the fit, is at most :data:`_SPAN_SPACINGS` device spacings), the
    middle of that room is the unbiased estimate; when they do not (a record
    cleared only in part), the smallest shift is kept.
    """
    hull = shapely.convex_hull(shapely.multipoints(pts))
    spacing = np.sqrt(shapely.area(hull) / len(pts)) if len(pts) else 0.0
    if len(pts) < _CENTRE_MIN_DEVICES or not spacing > 0:
        return t
    length = np.hypot(*t)
    u = t / length if length > 0 else np.array([1.0, 0.0])
    reach = float(np.sqrt(shapely.area(shapely.envelope(polygon)))) * 2 + length
    for direction in (u, np.array([-u[1], u[0]])):
        ahead = _room(t, direction, reach, cost, total)
        behind = _room(t, -direction, reach, cost, total)
        if ahead + behind <= _SPAN_SPACINGS * spacing:
            t = t + direction * (ahead - behind) / 2
            total = cost(t)[0]
    return t


def _room(t, direction, reach: float, cost, total: float) -> float:
    """How far ``t`` moves along ``direction`` before the fit gets worse (bisection)."""
    lo, hi = 0.0, reach
    if cost(t + direction * hi)[0] <= total + 1e-6:
        return hi
    for _ in range(30):
        mid = (lo + hi) / 2
        if cost(t + direction * mid)[0] <= total + 1e-6:
            lo = mid
        else:
            hi = mid
        if hi - lo < 0.05:
            break
    return lo


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


def accuracy(
    hazards: gpd.GeoDataFrame,
    items: gpd.GeoDataFrame,
    releases: gpd.GeoDataFrame | None = None,
    *,
    tolerance_m: float = 0.0,
    search_m: float = 200.0,
    hull_buffer_m: float = 10.0,
    min_devices: int = 3,
    item_types: tuple[str, ...] = ("AP", "AT"),
    shift_threshold_m: float = 25.0,
    level: str = "hazard",
) -> pd.DataFrame:
    """Accuracy of each submitted record against the devices found near it.

    Parameters
    ----------
    hazards
        Submitted records (``hazard_id``, ``mines_ap``, ``mines_at``, polygons;
        ``district`` and ``source`` are carried into the result when present).
    items
        Devices found (``item_id``, ``item_type``, points).
    releases
        Released land (``method``, polygons). With it, only devices within
        ``search_m`` of reduced or cleared ground count, and
        ``searched_share`` is filled.
    tolerance_m
        A device within this distance of the polygon counts as inside.
    search_m
        How far from a record a device may lie and still belong to it.
    hull_buffer_m
        Buffer of the devices' convex hull for ``iou``.
    min_devices
        Devices needed near a record for ``offset_m`` and ``iou``.
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
        the equal-area CRS), ``hit_rate_shifted``, ``iou``, ``searched_share``.
        The module docstring defines each measure.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from minemap import datasets
    >>> from minemap.accuracy import accuracy
    >>> items = gpd.read_file(datasets.get_path("hazards").parent / "items.geojson")
    >>> table = accuracy(datasets.hazards(), items)
    >>> bool(table["hit_rate"].dropna().between(0, 1).all())
    True
    """
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
    kinds = items[s.ITEM_TYPE].astype("string").str.strip().str.upper()
    counted = kinds.isin([t.upper() for t in item_types]).fillna(False).to_numpy(dtype=bool)
    points = _projected(items, crs, "items")[counted]
    kinds = kinds.to_numpy(dtype=object)[counted]

    searched_share = np.full(n, np.nan)
    if releases is not None:
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
            points, kinds = points[keep], kinds[keep]
        searched_share = _searched_share(records, searched)

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
            recorded = hazards[recorded_col].to_numpy(dtype=float)
            found = out[_MINE_TYPES[kind]].to_numpy(dtype=float)
            out[ratio_col] = np.where(
                recorded > 0, found / np.where(recorded > 0, recorded, 1), np.nan
            )

    shifts = np.full((n, 2), np.nan)
    shifted_hits = np.full(n, np.nan)
    iou = np.full(n, np.nan)
    order = np.argsort(rec, kind="stable")
    bounds = np.searchsorted(rec[order], np.arange(n + 1))
    xy = shapely.get_coordinates(points[dev]) if len(dev) else np.zeros((0, 2))
    for i in np.flatnonzero(near >= max(min_devices, 1)):
        members = order[bounds[i] : bounds[i + 1]]
        pts = xy[members]
        t = estimate_offset(pts, records[i])
        shifts[i] = t
        moved = shapely.points(pts - t)
        shifted_hits[i] = shapely.dwithin(moved, records[i], tolerance_m + 1e-6).mean()
        hull = shapely.buffer(shapely.convex_hull(shapely.multipoints(pts)), hull_buffer_m)
        union = shapely.area(shapely.union(hull, records[i]))
        iou[i] = shapely.area(shapely.intersection(hull, records[i])) / union if union else np.nan
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
    out[s.HIT_RATE_SHIFTED] = shifted_hits
    out[s.IOU] = iou
    out[s.SEARCHED_SHARE] = searched_share
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
        the records with devices near), ``offset_m`` (median over records with
        an offset), ``records_shifted``, ``iou`` (mean).
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
    frame["_rec_ap"] = np.where(with_devices, frame[s.MINES_AP], 0)
    frame["_rec_at"] = np.where(with_devices, frame[s.MINES_AT], 0)
    frame["_with"] = with_devices.astype(int)
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
            "_with",
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
            s.FOUND_VS_RECORDED_AP: ratio(sums[s.DEVICES_INSIDE_AP], sums["_rec_ap"]),
            s.FOUND_VS_RECORDED_AT: ratio(sums[s.DEVICES_INSIDE_AT], sums["_rec_at"]),
            s.OFFSET_M: grouped[s.OFFSET_M].median().to_numpy(),
            s.RECORDS_SHIFTED: sums["_shifted"].to_numpy(),
            s.IOU: grouped[s.IOU].mean().to_numpy(),
        }
    )
    return result.reset_index(drop=True)
