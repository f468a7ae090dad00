"""Clearance progress over time: released ground per week or month, by district and method.

:func:`progress` answers "how much did we release each week, by method and
district, and how much is left?" from the release polygons, the precise
source:

* area is true area on the WGS84 ellipsoid (:mod:`minemap.geodesy`);
* ground is counted once: releases are taken in date order and each keeps only
  what no earlier release covered (one partition of hazards and releases,
  :func:`minemap.contamination.ground`), so a later release over
  already-released ground adds nothing;
* with hazards, ``released_ha`` is released *hazard* ground (the part of the
  counted-once releases inside the union of the hazards, as in
  :func:`minemap.contamination.by_district`) and ``remaining_ha`` is the hazard
  ground still unreleased at the end of each period, so that
  ``cumulative_released_ha + remaining_ha`` equals the mapped ground of the
  district at every period; without hazards every released hectare counts and
  ``remaining_ha`` is empty;
* districts come from the districts layer (spatial split, ground outside every
  district in ``(unassigned)``), or else from the hazards' own ``district``
  attribute; the district ``all`` and the method ``all`` are the totals;
* items found come from the release counts (``items_ap``, ``items_at``,
  ``items_uxo``), or, when an items layer is given, from its points instead
  (never both: that would count a device twice);
* releases given as an area without a polygon (``hazard_id``, ``area_ha``)
  count as :func:`minemap.contamination.remaining` counts them as of each day
  (after the hazard's polygon releases, capped at what they left, spread over
  its districts by area): each change of that figure is released ground on
  the day it happens (:func:`_area_only_parts`).

Bulletins (:func:`minemap.bulletins.read_reports`) are compared, never added:
:func:`compare_reports` puts each bulletin's figure beside the polygons' figure
for the same days.
"""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from minemap import geodesy, overlay
from minemap import schema as s
from minemap._layers import layer_order
from minemap.contamination import (
    area_only_releases,
    ground,
    parse_as_of,
    require_columns,
    to_wgs84,
)
from minemap.errors import SchemaError, ValidationError

__all__ = ["PERIODS", "compare_reports", "period_start", "progress"]

#: Period lengths a progress table can use.
PERIODS = ("week", "month")

_DATE = "_date"
_AREA = "_area_ha"
_COUNTS = (s.ITEMS_AP, s.ITEMS_AT, s.ITEMS_UXO)
#: Item types counted as anti-personnel and anti-tank mines; every other type
#: (UXO, AXO, IED, submunition) is explosive ordnance other than a mine.
_ITEM_COLUMN = {"AP": s.ITEMS_AP, "AT": s.ITEMS_AT}
_COMPARISON_COLUMNS = (
    s.PERIOD_START,
    s.PERIOD_END,
    s.BULLETIN_AREA_HA,
    s.RELEASED_HA,
    s.DIFFERENCE_HA,
    s.MINES_AP,
    s.MINES_AT,
    s.UXO,
    *_COUNTS,
    s.BULLETIN_DISTRICTS,
    s.POLYGON_DISTRICTS,
    s.PROBLEM,
    s.NOTE,
)


def period_start(dates, period: str = "week") -> pd.DatetimeIndex:
    """The first day of the week (Monday) or month holding each date.

    Examples
    --------
    >>> [d.strftime("%Y-%m-%d") for d in period_start(["2023-08-20", "2023-08-21"])]
    ['2023-08-14', '2023-08-21']
    >>> period_start(["2023-08-20"], "month")[0].strftime("%Y-%m-%d")
    '2023-08-01'
    """
    _check_period(period)
    days = pd.DatetimeIndex(pd.to_datetime(dates)).normalize()
    if period == "week":
        return days - pd.to_timedelta(days.day_of_week, unit="D")
    return days - pd.to_timedelta(days.day - 1, unit="D")


def _period_end(starts: pd.DatetimeIndex, period: str) -> pd.DatetimeIndex:
    if period == "week":
        return starts + pd.Timedelta(days=6)
    return starts + pd.offsets.MonthEnd(0)


def _check_period(period: str) -> None:
    if period not in PERIODS:
        raise ValueError(f"period must be one of {', '.join(PERIODS)}, not {period!r}")


def _dates(frame: pd.DataFrame, column: str, layer: str, id_column: str) -> pd.Series:
    dates = pd.to_datetime(frame[column], errors="coerce")
    if dates.dt.tz is not None:
        dates = dates.dt.tz_convert(None)
    if dates.isna().any():
        bad = frame.loc[dates.isna(), id_column].astype(str).tolist()[:5]
        raise ValidationError(
            f"{layer}: {int(dates.isna().sum())} feature(s) have no valid {column} date "
            f"(e.g. {', '.join(bad)}), so they cannot be placed in time. Fix or reject them "
            "first (minemap validate)."
        )
    return dates.dt.normalize()


class _Ground:
    """Releases cut into dated, counted-once pieces assigned to districts."""

    def __init__(self, releases, hazards, districts, as_of) -> None:
        require_columns(releases, (s.RELEASE_ID, s.RELEASED_ON, s.METHOD), "releases")
        releases = to_wgs84(releases, "releases")
        dates = _dates(releases, s.RELEASED_ON, "releases", s.RELEASE_ID)
        self.as_of = parse_as_of(as_of)
        if self.as_of is None:
            self.as_of = dates.max() if len(dates) else None
        keep = (dates <= self.as_of).to_numpy() if self.as_of is not None else np.ones(0, bool)
        # Releases given as an area have no polygon: they count through their hazard.
        by_area = area_only_releases(releases) & keep
        self.by_area = releases[by_area]
        self.by_area_dates = dates[by_area].to_numpy()
        keep = keep & ~by_area
        # Stable sort by date: the earliest release keeps shared ground (counted once).
        order = np.argsort(dates.to_numpy()[keep], kind="stable")
        rel = releases[keep].iloc[order]
        self.releases = rel
        self.release_dates = dates[keep].iloc[order].to_numpy()

        layers = [rel]
        if hazards is not None:
            require_columns(hazards, (s.HAZARD_ID,), "hazards")
            hazards = to_wgs84(hazards, "hazards")
            layers.append(hazards)
        if districts is not None:
            require_columns(districts, (s.DISTRICT,), "districts")
            districts = to_wgs84(districts, "districts")
            layers.append(districts)
        bounds = np.array([f.total_bounds for f in layers if len(f)]).reshape(-1, 4)
        box = (
            (bounds[:, 0].min(), bounds[:, 1].min(), bounds[:, 2].max(), bounds[:, 3].max())
            if len(bounds)
            else (np.nan,) * 4
        )
        self.crs = geodesy.equal_area_crs(box)

        # Zones that name districts: the districts layer, or else the hazards (the
        # earliest covering one) carrying their own district attribute.
        zone_geoms, zone_names = None, None
        if districts is not None:
            names = districts[s.DISTRICT].astype("string").str.strip()
            if names.isna().any() or (names == "").any():
                raise SchemaError("districts: every district needs a name in 'district'.")
            zone_geoms = overlay.make_disjoint(districts.geometry.to_crs(self.crs).to_numpy())
            zone_names = names.to_numpy(dtype=object)
        elif hazards is not None and s.DISTRICT in hazards.columns:
            zone_geoms = hazards.geometry.to_crs(self.crs).to_numpy(dtype=object)
            zone_names = (
                hazards[s.DISTRICT].astype("string").fillna(s.UNASSIGNED).to_numpy(dtype=object)
            )
        self.has_districts = zone_geoms is not None

        # One partition of hazards and releases (releases in date order): each
        # cell's ground counted once, under its earliest hazard and release.
        cells = ground(
            hazards, rel, districts, release_priority=np.arange(len(rel)), crs=self.crs
        ).cells
        if not self.has_districts:
            cells[s.DISTRICT] = s.ALL
        released = cells[cells["release"] >= 0]
        # Every counted-once released hectare, hazard or not: what bulletins count.
        per_release = released.groupby("release")["area_ha"].sum()
        self.release_area = pd.DataFrame(
            {
                _DATE: self.release_dates,
                _AREA: per_release.reindex(np.arange(len(rel)), fill_value=0.0).to_numpy(),
            }
        )
        self.mapped: dict[str, float] | None = None
        if hazards is not None:
            released = released[released["hazard"] >= 0]
            on_hazards = cells[cells["hazard"] >= 0]
            mapped = on_hazards.groupby(s.DISTRICT)["area_ha"].sum()
            self.mapped = {str(k): float(v) for k, v in mapped.items()}
        parts = released.groupby(["release", s.DISTRICT], sort=True)["area_ha"].sum().reset_index()
        t_idx = parts["release"].to_numpy()
        self.parts = pd.DataFrame(
            {
                _DATE: self.release_dates[t_idx] if len(t_idx) else np.array([], "M8[ns]"),
                s.DISTRICT: parts[s.DISTRICT].to_numpy(dtype=object),
                s.METHOD: rel[s.METHOD].astype(str).to_numpy()[t_idx],
                _AREA: parts["area_ha"].to_numpy(),
            }
        )
        self.parts = self.parts[self.parts[_AREA] > 0]

        self._zones = (zone_geoms, zone_names)
        self.main_district: dict[str, str] = {}
        if len(self.by_area):
            if hazards is not None:
                # Area-only releases are shared out over the ground the polygons
                # left, counted once: releases and hazards made disjoint by date/row.
                geoms = overlay.polygonal(rel.geometry.to_crs(self.crs).to_numpy(dtype=object))
                pieces_all = overlay.polygonal(overlay.make_disjoint(geoms))
                hazard_parts = overlay.polygonal(
                    overlay.make_disjoint(hazards.geometry.to_crs(self.crs).to_numpy(dtype=object))
                )
                if districts is None and zone_geoms is not None:
                    self._zones = (hazard_parts, zone_names)
                extra = _area_only_parts(self, hazards, pieces_all, hazard_parts)
            else:
                extra = _area_only_as_given(self)
            self.parts = pd.concat([self.parts, extra], ignore_index=True)
            self.release_area = pd.concat(
                [self.release_area, extra[[_DATE, _AREA]]], ignore_index=True
            )

    def district_of(self, points: np.ndarray) -> np.ndarray:
        """District of each point (projected), ``(unassigned)`` outside every zone."""
        zone_geoms, zone_names = self._zones
        if zone_geoms is None:
            return np.full(len(points), s.ALL, dtype=object)
        out = np.full(len(points), s.UNASSIGNED, dtype=object)
        pi, zi = overlay.candidate_pairs(points, zone_geoms, predicate="intersects")
        # A point on a shared boundary goes to the first zone.
        first = ~pd.Series(pi).duplicated().to_numpy()
        out[pi[first]] = zone_names[zi[first]]
        return out


def _area_only_as_given(ground: _Ground) -> pd.DataFrame:
    """Without hazards, a release given as an area counts its hectares as given.

    Nothing caps them (their hazard's ground is not known), as nothing says
    whether a polygon release covers the same ground: every released hectare
    counts, as without hazards it does for polygons too. District: its point's.
    """
    rel = ground.by_area
    geoms = rel.geometry.to_crs(ground.crs).to_numpy(dtype=object)
    points = ~pd.isna(geoms) & (shapely.get_type_id(geoms) == shapely.GeometryType.POINT)
    names = np.full(len(rel), s.UNASSIGNED if ground.has_districts else s.ALL, dtype=object)
    names[points] = ground.district_of(geoms[points])
    return pd.DataFrame(
        {
            _DATE: ground.by_area_dates,
            s.DISTRICT: names,
            s.METHOD: rel[s.METHOD].astype(str).to_numpy(),
            _AREA: pd.to_numeric(rel[s.AREA_HA], errors="coerce").to_numpy(dtype=float),
        }
    ).astype({_DATE: "datetime64[us]"})


def _area_only_parts(
    ground: _Ground, hazards: gpd.GeoDataFrame, pieces: np.ndarray, hazard_parts: np.ndarray
) -> pd.DataFrame:
    """Released ground of the area-only releases, as dated rows like ``ground.parts``.

    As of a day ``t``, hazard ``H`` (own ground ``M``, its polygon releases'
    ``P(t)``, its area-only releases' ``A(t)``) has ``a(t) = min(A(t), M - P(t))``
    released by area, taken in proportion from its remaining ground; in a
    district ``z`` that is ``a(t) · n(t) / (M - P(t))``, ``n(t)`` the
    counted-once ground of ``H`` in ``z`` the polygons left, as
    :func:`minemap.contamination.remaining` counts. That figure changes only
    on the days of ``H``'s releases: each change is a row on its day, under the
    methods of the area-only releases of that day (by area), else of all of
    them so far. It goes down only when a polygon released ground the
    area-only reports had claimed (polygons come first): that row is negative,
    under the polygon's methods, and with the polygon's own row it counts that
    ground once. The district's released ground never goes down.
    """
    own_ids = hazards[s.HAZARD_ID].astype("string").str.strip().to_numpy(dtype=object)
    position = {h: i for i, h in reversed(list(enumerate(own_ids)))}
    named = ground.by_area[s.HAZARD_ID].astype("string").str.strip().to_numpy(dtype=object)
    where = np.array([position.get(h, -1) for h in named], dtype=int)
    if (where < 0).any():
        missing = ground.by_area[s.RELEASE_ID].astype(str).to_numpy()[where < 0][:5]
        raise ValidationError(
            f"releases: {int((where < 0).sum())} release(s) without a polygon name no hazard "
            f"given (e.g. {', '.join(missing)}); check their hazard_id"
        )
    area = pd.to_numeric(ground.by_area[s.AREA_HA], errors="coerce").to_numpy(dtype=float)
    methods = ground.by_area[s.METHOD].astype(str).to_numpy(dtype=object)
    own = overlay.polygonal(hazards.geometry.to_crs(ground.crs).to_numpy(dtype=object))
    zone_geoms, zone_names = ground._zones
    if zone_geoms is not None:
        hz_of, z_of, hparts = overlay.split(hazard_parts, zone_geoms)
        names = np.where(z_of >= 0, zone_names[np.maximum(z_of, 0)], s.UNASSIGNED)
    else:
        hz_of = np.arange(len(hazard_parts))
        hparts, names = hazard_parts, np.full(len(hazard_parts), s.ALL, dtype=object)
    rows = []
    dates = ground.release_dates
    piece_methods = ground.releases[s.METHOD].astype(str).to_numpy(dtype=object)
    area_of = geodesy.area_ha(hparts)
    for h in np.unique(where):
        keep = np.flatnonzero(hz_of == h)
        if len(keep):
            ground.main_district[own_ids[h]] = names[keep[np.argmax(area_of[keep])]]
        mine = where == h
        m_h = float(geodesy.area_ha(own[h : h + 1])[0])
        # Polygon releases of H's own ground (P) and of its counted-once parts (n), dated.
        pi, _ = overlay.candidate_pairs(pieces, own[h : h + 1])
        taken_own = geodesy.area_ha(overlay.intersection(pieces[pi], np.repeat(own[h], len(pi))))
        pj, kj = overlay.candidate_pairs(pieces, hparts[keep])
        taken_net = geodesy.area_ha(overlay.intersection(pieces[pj], hparts[keep][kj]))
        net_mapped = geodesy.area_ha(hparts[keep])
        days = np.unique(np.r_[dates[pi], dates[pj], ground.by_area_dates[mine]])
        days = days[days >= ground.by_area_dates[mine].min()]  # nothing before the first
        before = np.zeros(len(keep))
        for day in days:
            p_t = taken_own[dates[pi] <= day].sum()
            n_t = net_mapped - np.bincount(
                kj[dates[pj] <= day], weights=taken_net[dates[pj] <= day], minlength=len(keep)
            )
            said = mine & (ground.by_area_dates <= day)
            r_t = max(m_h - p_t, 0.0)
            a_t = min(area[said].sum(), r_t)
            now = a_t * np.maximum(n_t, 0.0) / r_t if r_t > 0 else np.zeros(len(keep))
            step = now - before
            before = now
            today = mine & (ground.by_area_dates == day)
            by_area_methods = (
                pd.Series(area[today if today.any() else said])
                .groupby(methods[today if today.any() else said])
                .sum()
            )
            for k in np.flatnonzero(np.abs(step) > 1e-12):
                weights = by_area_methods
                if step[k] < 0:
                    # A polygon of this day released ground the area-only reports had
                    # claimed: it is not released twice, so their share moves to it (the
                    # polygon's own row counts it), under the polygon's methods.
                    polygon = (kj == k) & (dates[pj] == day)
                    if taken_net[polygon].sum() > 0:
                        weights = (
                            pd.Series(taken_net[polygon]).groupby(piece_methods[pj[polygon]]).sum()
                        )
                for method, share in (weights / weights.sum()).items():
                    rows.append((day, names[keep[k]], method, step[k] * share))
    return pd.DataFrame(rows, columns=[_DATE, s.DISTRICT, s.METHOD, _AREA]).astype(
        {_DATE: "datetime64[us]", _AREA: float}
    )


def _counts_of(ground: _Ground, rel, dates, districts) -> pd.DataFrame:
    """One row per release with its item counts, in the district it lies in."""
    if districts is None:
        points = shapely.point_on_surface(rel.geometry.to_crs(ground.crs).to_numpy(dtype=object))
        districts = ground.district_of(points)
    frame = pd.DataFrame(
        {_DATE: dates, s.DISTRICT: districts, s.METHOD: rel[s.METHOD].astype(str).to_numpy()}
    )
    for c in _COUNTS:
        values = rel[c] if c in rel.columns else pd.Series(0, index=rel.index)
        frame[c] = pd.to_numeric(values, errors="coerce").fillna(0).to_numpy(dtype=float)
    return frame


def _area_only_districts(ground: _Ground) -> np.ndarray:
    """District of each area-only release: its point's, else its hazard's (largest part)."""
    rel = ground.by_area
    out = np.full(len(rel), s.UNASSIGNED if ground.has_districts else s.ALL, dtype=object)
    if not len(rel):
        return out
    geoms = rel.geometry.to_crs(ground.crs).to_numpy(dtype=object)
    points = ~pd.isna(geoms) & (shapely.get_type_id(geoms) == shapely.GeometryType.POINT)
    out[points] = ground.district_of(geoms[points])
    main = ground.main_district
    named = rel[s.HAZARD_ID].astype("string").str.strip().to_numpy(dtype=object)
    out[~points] = [main.get(h, out[0]) for h in named[~points]]
    return out


def _item_records(ground: _Ground, items: gpd.GeoDataFrame | None) -> pd.DataFrame:
    """One row per release or item: date, district, method, AP, AT and UXO counts."""
    columns = [_DATE, s.DISTRICT, s.METHOD, *_COUNTS]
    if items is None:
        frames = [
            _counts_of(ground, rel, dates, districts)
            for rel, dates, districts in (
                (ground.releases, ground.release_dates, None),
                (ground.by_area, ground.by_area_dates, _area_only_districts(ground)),
            )
            if len(rel) and any(c in rel.columns for c in _COUNTS)
        ]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)
    require_columns(items, (s.ITEM_ID, s.FOUND_ON, s.ITEM_TYPE), "items")
    items = to_wgs84(items, "items")
    dates = _dates(items, s.FOUND_ON, "items", s.ITEM_ID)
    keep = (dates <= ground.as_of).to_numpy() if ground.as_of is not None else dates.notna()
    items, dates = items[keep], dates[keep]
    points = items.geometry.to_crs(ground.crs).to_numpy(dtype=object)
    methods = np.full(len(items), None, dtype=object)
    known = pd.concat([f for f in (ground.releases, ground.by_area) if len(f)] or [ground.releases])
    if s.RELEASE_ID in items.columns and len(known):
        # A device found on a known release counts under that release's method.
        lookup = dict(
            zip(
                known[s.RELEASE_ID].astype(str),
                known[s.METHOD].astype(str),
                strict=True,
            )
        )
        methods = items[s.RELEASE_ID].astype(str).map(lookup).to_numpy(dtype=object)
    types = items[s.ITEM_TYPE].astype(str).str.strip().str.upper()
    frame = pd.DataFrame(
        {_DATE: dates.to_numpy(), s.DISTRICT: ground.district_of(points), s.METHOD: methods}
    )
    for c in _COUNTS:
        frame[c] = 0.0
    target = types.map(_ITEM_COLUMN).fillna(s.ITEMS_UXO).to_numpy()
    for c in _COUNTS:
        frame.loc[target == c, c] = 1.0
    return frame


def _totals(records: pd.DataFrame, values: list[str], period: str) -> pd.DataFrame:
    """Sums per (period, district, method) with ``all`` rows for district and method."""
    if not len(records):
        return pd.DataFrame(columns=[s.PERIOD, s.DISTRICT, s.METHOD, *values])
    frame = records.copy()
    frame[s.PERIOD] = period_start(frame[_DATE], period)
    frame[s.METHOD] = frame[s.METHOD].astype(object)
    out = []
    for district_all in (False, True):
        for method_all in (False, True):
            part = frame.copy()
            if district_all:
                part[s.DISTRICT] = s.ALL
            if method_all:
                part[s.METHOD] = s.ALL
            part = part[part[s.METHOD].notna()]
            out.append(
                part.groupby([s.PERIOD, s.DISTRICT, s.METHOD], dropna=False)[values]
                .sum()
                .reset_index()
            )
    totals = pd.concat(out, ignore_index=True)
    # The district "all" of data without districts is already the total.
    return totals.groupby([s.PERIOD, s.DISTRICT, s.METHOD])[values].max().reset_index()


@layer_order(
    new=("hazards", "releases", "districts"),
    old=("releases", "hazards", "districts"),
    kinds={"hazards": "hazards", "releases": "releases", "items": "items"},
)
def progress(
    hazards: gpd.GeoDataFrame | None = None,
    releases: gpd.GeoDataFrame | None = None,
    districts: gpd.GeoDataFrame | None = None,
    *,
    as_of: dt.date | str | None = None,
    period: str = "week",
    reports: pd.DataFrame | None = None,
    items: gpd.GeoDataFrame | None = None,
) -> pd.DataFrame:
    """Released ground, items found and remaining ground per period, district and method.

    Layers come in the order ``hazards, releases, districts`` (by position or
    keyword), options by keyword only. The old order ``progress(releases,
    hazards, districts)`` still works for one release, with a
    ``DeprecationWarning``.

    Parameters
    ----------
    hazards
        Submitted hazards, or ``None``: with them ``released_ha`` counts
        released hazard ground and ``remaining_ha`` is filled; without them
        progress works from the releases alone.
    releases
        Land releases with ``released_on`` and ``method`` (and optionally the
        counts ``items_ap``, ``items_at``, ``items_uxo``). Required.
    districts
        District polygons; without them the hazards' ``district`` attribute is
        used, and without that only the district ``all`` is reported.
    as_of
        Last day counted (inclusive); releases and items after it are left
        out. Default: the last release (or item) date. The last period may be partial:
        it holds the days up to ``as_of`` only.
    period
        ``"week"`` (weeks start on Monday) or ``"month"``.
    reports
        Bulletins (:func:`minemap.bulletins.read_reports`): adds
        ``bulletin_area_ha`` and ``difference_ha`` (polygons minus bulletin)
        on the ``all``/``all`` row of each period that wholly holds a
        bulletin's days. ``difference_ha`` is the counted-once area of all the
        release polygons of the period (inside hazards or not, as bulletins
        count) minus the bulletin's. The two are compared, never added.
    items
        Devices found (points with ``found_on`` and ``item_type``): when given,
        they replace the release counts. AP and AT go to ``items_ap`` and
        ``items_at``, every other type to ``items_uxo``. A device counts under
        its release's method when its ``release_id`` names one, else only under
        the method ``all``.

    Returns
    -------
    pandas.DataFrame
        Exactly the columns ``period, district, method, released_ha,
        cumulative_released_ha, remaining_ha, items_ap, items_at, items_uxo``
        (plus the two bulletin columns with ``reports``), one row per period
        from the first release or item to ``as_of``, per district (and
        ``all``) and per method (and ``all``), zeros included. ``period`` is
        the first day of the week or month. ``remaining_ha`` is filled on the
        method ``all`` rows only (remaining ground has no method) and only with
        hazards. ``attrs`` holds ``as_of``, ``period`` and ``mapped_ha`` (per
        district).

    Examples
    --------
    >>> from minemap import datasets
    >>> table = progress(None, datasets.releases(), as_of="2021-06-30")
    >>> list(table.columns[:3])
    ['period', 'district', 'method']
    """
    if releases is None:
        raise TypeError("progress() needs releases: progress(hazards, releases, districts, ...)")
    _check_period(period)
    if as_of is None and items is not None and len(items) and s.FOUND_ON in items:
        # Default: the last day anything was released or found.
        found = pd.to_datetime(items[s.FOUND_ON], errors="coerce").max()
        released = pd.to_datetime(releases[s.RELEASED_ON], errors="coerce").max()
        as_of = max(d for d in (found, released) if pd.notna(d)) if pd.notna(found) else None
    ground = _Ground(releases, hazards, districts, as_of)
    records = _item_records(ground, items)
    area = _totals(ground.parts, [_AREA], period)
    counts = _totals(records, list(_COUNTS), period)

    # Periods run from the first release or item, even one that released no hazard ground.
    dates = [
        pd.Series(d) for d in (ground.release_dates, ground.by_area_dates, records[_DATE]) if len(d)
    ]
    methods = [*s.RELEASE_METHODS]
    extra = sorted(set(ground.parts[s.METHOD]) - set(methods))
    methods = [*methods, *extra, s.ALL]
    if ground.has_districts:
        names = set(ground.parts[s.DISTRICT]) | set(records[s.DISTRICT])
        if ground.mapped:
            names |= set(ground.mapped)
        district_list = [*sorted(n for n in names if n != s.ALL), s.ALL]
    else:
        district_list = [s.ALL]
    if ground.as_of is None:
        table = pd.DataFrame({c: [] for c in s.PROGRESS_COLUMNS})
    else:
        # Nothing released by the as-of day: one period, all ground still remaining.
        first = min(d.min() for d in dates) if dates else ground.as_of
        periods = pd.date_range(
            period_start([first], period)[0],
            period_start([ground.as_of], period)[0],
            freq="W-MON" if period == "week" else "MS",
        )
        grid = pd.MultiIndex.from_product(
            [periods, district_list, methods], names=[s.PERIOD, s.DISTRICT, s.METHOD]
        )
        table = pd.DataFrame(index=grid)
        table[s.RELEASED_HA] = (
            area.set_index([s.PERIOD, s.DISTRICT, s.METHOD])[_AREA].reindex(grid).fillna(0.0)
            if len(area)
            else 0.0
        )
        table[s.CUMULATIVE_RELEASED_HA] = table.groupby(level=[1, 2])[s.RELEASED_HA].cumsum()
        mapped = ground.mapped
        if mapped is not None:
            if ground.has_districts:
                mapped = {**mapped, s.ALL: sum(mapped.values())}
            left = (
                table.index.get_level_values(1)
                .map(lambda d: mapped.get(d, 0.0))
                .to_numpy(dtype=float)
                - table[s.CUMULATIVE_RELEASED_HA].to_numpy()
            )
            # Float noise below a square millimetre is not ground.
            left[np.abs(left) < 1e-10] = 0.0
            by_all = table.index.get_level_values(2) == s.ALL
            table[s.REMAINING_HA] = np.where(by_all, left, np.nan)
        else:
            table[s.REMAINING_HA] = np.nan
        counted = (
            counts.set_index([s.PERIOD, s.DISTRICT, s.METHOD])
            if len(counts)
            else pd.DataFrame(columns=list(_COUNTS))
        )
        for c in _COUNTS:
            values = counted[c].reindex(grid) if len(counted) else pd.Series(np.nan, index=grid)
            table[c] = values.fillna(0).round().astype("int64").to_numpy()
        table = table.reset_index()[list(s.PROGRESS_COLUMNS)]
    table[s.PERIOD] = pd.to_datetime(table[s.PERIOD])
    if reports is not None:
        table = _attach_reports(table, reports, period, ground.release_area, ground.as_of)
    table.attrs["as_of"] = None if ground.as_of is None else f"{ground.as_of:%Y-%m-%d}"
    table.attrs["period"] = period
    table.attrs["mapped_ha"] = dict(ground.mapped or {})
    table.attrs["released_all_ground_ha"] = float(ground.release_area[_AREA].sum())
    return table


def _attach_reports(
    table: pd.DataFrame, reports: pd.DataFrame, period: str, release_area: pd.DataFrame, as_of
) -> pd.DataFrame:
    require_columns(reports, (s.PERIOD_START, s.PERIOD_END, s.AREA_HA), "reports")
    rep = reports.dropna(subset=[s.PERIOD_START, s.PERIOD_END, s.AREA_HA])
    starts = period_start(rep[s.PERIOD_START], period)
    ends = period_start(rep[s.PERIOD_END], period)
    inside = np.asarray(starts == ends)
    figures = pd.Series(rep[s.AREA_HA].to_numpy(dtype=float)[inside], index=starts[inside])
    figures = figures.groupby(level=0).sum()
    # The polygons cover the days from the first release to the as-of day: a bulletin
    # with days outside them has no polygon figure to compare (not 0).
    first = release_area[_DATE].min() if len(release_area) else None
    within = (
        (pd.to_datetime(rep[s.PERIOD_START]) >= first)
        & (pd.to_datetime(rep[s.PERIOD_END]) <= as_of)
        if first is not None and as_of is not None
        else pd.Series(False, index=rep.index)
    ).to_numpy()
    covered = pd.Series(within[inside], index=starts[inside]).groupby(level=0).all()
    table = table.copy()
    total = (table[s.DISTRICT] == s.ALL) & (table[s.METHOD] == s.ALL)
    table[s.BULLETIN_AREA_HA] = np.where(total, table[s.PERIOD].map(figures), np.nan)
    # Bulletins count all released land, inside a recorded hazard or not: so does
    # the difference, whatever released_ha counts.
    released = release_area[_AREA].groupby(period_start(release_area[_DATE], period)).sum()
    polygons = table[s.PERIOD].map(released).fillna(0.0)
    compared = table[s.PERIOD].map(covered).fillna(False).astype(bool)
    table[s.DIFFERENCE_HA] = (polygons - table[s.BULLETIN_AREA_HA]).where(compared)
    return table


def compare_reports(
    releases: gpd.GeoDataFrame,
    reports: pd.DataFrame,
    *,
    districts: gpd.GeoDataFrame | None = None,
    as_of: dt.date | str | None = None,
) -> pd.DataFrame:
    """Each bulletin's figures beside what the release polygons give for the same days.

    The polygons cover the days from the first release to ``as_of`` (default:
    the last release). A bulletin is compared only when its days lie within
    them: for other periods the polygons' figures are empty, never 0, and the
    note says ``no polygons for this period`` (or that they cover only part of
    it). A bulletin area that was not read (ambiguous, implausible) is empty and
    left out, with the reason in the note.

    Parameters
    ----------
    releases
        Land releases (``released_on``, ``method``).
    reports
        Bulletins (:func:`minemap.bulletins.read_reports`).
    districts
        District polygons: the districts each period's releases lie in.
    as_of
        Last day the polygons are complete to.

    Returns
    -------
    pandas.DataFrame
        One row per bulletin, in order: ``period_start``, ``period_end``,
        ``bulletin_area_ha`` (the bulletin's ``area_ha``), ``released_ha``
        (counted-once release polygons dated in the bulletin's days, all of their
        ground as bulletins count it), ``difference_ha`` (polygons minus
        bulletin), the bulletin's ``mines_ap``, ``mines_at``, ``uxo`` beside the
        release counts ``items_ap``, ``items_at``, ``items_uxo`` over the same
        days, ``bulletin_districts`` (the districts the bulletin lists),
        ``polygon_districts`` (the districts the period's releases lie in; empty
        without a districts layer), the bulletin's ``problem`` and ``note``. The
        figures are compared, never added.
    """
    require_columns(reports, (s.PERIOD_START, s.PERIOD_END, s.AREA_HA), "reports")
    ground = _Ground(releases, None, districts, as_of)
    records = _item_records(ground, None)
    parts = ground.release_area
    located = ground.parts if ground.has_districts else None
    first = pd.Timestamp(parts[_DATE].min()) if len(parts) else None
    last = ground.as_of
    rows = []
    for _, r in reports.iterrows():
        start, end = r[s.PERIOD_START], r[s.PERIOD_END]
        bulletin = float(r[s.AREA_HA]) if pd.notna(r[s.AREA_HA]) else np.nan
        problem = r.get("problem", "")
        problem = "" if pd.isna(problem) else str(problem)
        listed = r.get(s.DISTRICT)
        listed = None if pd.isna(listed) or not str(listed).strip() else str(listed)
        notes = []
        covered = False
        if pd.isna(start) or pd.isna(end):
            kind = r.get("period_type")
            what = f"a {kind} figure" if isinstance(kind, str) and kind else "the figure"
            notes.append(
                f"no {'start' if pd.isna(start) else 'end'} date: {what} cannot be compared"
            )
        elif first is None or last is None or end < first or start > last:
            notes.append("no polygons for this period")
        elif start < first or end > last:
            notes.append(
                f"the polygons cover only part of this period ({first:%Y-%m-%d} to {last:%Y-%m-%d})"
            )
        else:
            covered = True
        row = {
            s.PERIOD_START: start,
            s.PERIOD_END: end,
            s.BULLETIN_AREA_HA: bulletin,
            s.RELEASED_HA: np.nan,
            s.DIFFERENCE_HA: np.nan,
            **{key: r.get(key, pd.NA) for key in (s.MINES_AP, s.MINES_AT, s.UXO)},
            **dict.fromkeys(_COUNTS, pd.NA),
            s.BULLETIN_DISTRICTS: listed,
            s.POLYGON_DISTRICTS: None,
        }
        if covered:
            start, end = pd.Timestamp(start), pd.Timestamp(end)
            in_parts = (parts[_DATE] >= start) & (parts[_DATE] <= end)
            row[s.RELEASED_HA] = float(parts.loc[in_parts, _AREA].sum())
            row[s.DIFFERENCE_HA] = row[s.RELEASED_HA] - bulletin
            in_records = (records[_DATE] >= start) & (records[_DATE] <= end)
            for c in _COUNTS:
                row[c] = int(records.loc[in_records, c].sum()) if len(records) else 0
            if located is not None:
                inside = located[(located[_DATE] >= start) & (located[_DATE] <= end)]
                names = sorted(set(inside[s.DISTRICT]))
                row[s.POLYGON_DISTRICTS] = ";".join(names)
                if listed:
                    said = [d.strip() for d in listed.split(";") if d.strip()]
                    extra = [d for d in names if d not in said]
                    silent = [d for d in said if d not in names]
                    if extra:
                        notes.append(
                            f"polygons in districts the bulletin does not list: {', '.join(extra)}"
                        )
                    if silent:
                        notes.append(
                            f"bulletin districts with no released polygons: {', '.join(silent)}"
                        )
        if np.isnan(bulletin):
            notes.insert(
                0, "bulletin area left out (see problem)" if problem else "no area in the bulletin"
            )
        row[s.PROBLEM] = problem
        row[s.NOTE] = "; ".join(notes) or None
        rows.append(row)
    out = pd.DataFrame(rows, columns=_COMPARISON_COLUMNS)
    for c in _COUNTS:
        out[c] = out[c].astype("Int64")
    for c in (s.BULLETIN_DISTRICTS, s.POLYGON_DISTRICTS, s.NOTE):
        out[c] = out[c].astype("string")
    return out
