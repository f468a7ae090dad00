"""Analysis the map needs, kept apart from the drawing: the time slider's figures, the public grid.

These give released ground over time and contamination on a coarse grid
from the full geometry (areas on the ellipsoid, ground counted once). The
figures over time come from the library's one partition of hazards and
releases (:func:`minemap.contamination.ground`, which ``minemap progress`` and
:func:`minemap.remaining_over_time` read too); each function is called from
one place, in :mod:`minemap.render.layers` (:func:`hazardous_by_month` and
:func:`public_grid`).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from minemap import geodesy, overlay
from minemap import schema as s
from minemap.contamination import ground

__all__ = [
    "PUBLIC_CELL_M",
    "hazardous_by_month",
    "month_index",
    "months_between",
    "naive_dates",
    "pending_pieces",
    "public_grid",
    "slider_months",
]


# --- months of the time slider ----------------------------------------------------


def months_between(*series) -> pd.PeriodIndex | None:
    dates = pd.concat([naive_dates(x) for x in series if x is not None], ignore_index=True)
    dates = dates.dropna()
    if dates.empty:
        return None
    return pd.period_range(dates.min().to_period("M"), dates.max().to_period("M"), freq="M")


def naive_dates(values) -> pd.Series:
    dates = pd.to_datetime(pd.Series(values), errors="coerce")
    if getattr(dates.dt, "tz", None) is not None:
        dates = dates.dt.tz_localize(None)
    return dates.reset_index(drop=True)


def month_index(values, months: pd.PeriodIndex, missing: int) -> np.ndarray:
    """Position of each date's month in ``months``; ``missing`` where there is no date."""
    dates = naive_dates(values)
    out = np.full(len(dates), missing, dtype=int)
    ok = dates.notna().to_numpy()
    if ok.any():
        ordinals = dates[ok].dt.to_period("M").map(lambda m: m.ordinal).to_numpy()
        out[ok] = np.clip(ordinals - months[0].ordinal, 0, len(months) - 1)
    return out


def slider_months(
    releases: gpd.GeoDataFrame | None,
    hazards: gpd.GeoDataFrame | None,
    as_of: pd.Timestamp | None,
) -> pd.PeriodIndex | None:
    """The time slider's months: from the first submission to the as-of day.

    ``None`` (no slider) without dated releases. The months run from the
    earliest release (or hazard submission, if earlier) to the latest release
    or ``as_of``.
    """
    if releases is None or not len(releases) or s.RELEASED_ON not in releases.columns:
        return None
    months = months_between(releases[s.RELEASED_ON], [as_of] if as_of is not None else [])
    if months is not None and hazards is not None and s.SUBMITTED_ON in hazards.columns:
        first = naive_dates(hazards[s.SUBMITTED_ON]).min()
        if not pd.isna(first) and first.to_period("M") < months[0]:
            months = pd.period_range(first.to_period("M"), months[-1], freq="M")
    return months


# --- released ground over time ------------------------------------------------------


def pending_pieces(hazards: gpd.GeoDataFrame, releases: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Each release's overlap with each hazard: land hazardous until the release date.

    Releases cut hazards by place, as in :func:`minemap.remaining`, so a
    release that spills over two hazards gives a piece in each.
    """
    rel_geoms = releases.geometry.to_numpy()
    hz_geoms = hazards.geometry.to_numpy()
    ri, hi = overlay.candidate_pairs(rel_geoms, hz_geoms)
    pieces = overlay.polygonal(shapely.intersection(rel_geoms[ri], hz_geoms[hi]))
    keep = ~shapely.is_missing(pieces)
    keep[keep] = shapely.area(pieces[keep]) > 0
    ri, hi, pieces = ri[keep], hi[keep], pieces[keep]

    def _column(frame: pd.DataFrame, column: str, rows: np.ndarray):
        return frame[column].to_numpy()[rows] if column in frame.columns else None

    return gpd.GeoDataFrame(
        {
            s.HAZARD_ID: _column(hazards, s.HAZARD_ID, hi),
            s.CLASSIFICATION: _column(hazards, s.CLASSIFICATION, hi),
            s.STATUS: _column(hazards, s.STATUS, hi),
            s.SUBMITTED_ON: _column(hazards, s.SUBMITTED_ON, hi),
            s.RELEASE_ID: _column(releases, s.RELEASE_ID, ri),
            s.RELEASED_ON: _column(releases, s.RELEASED_ON, ri),
            s.METHOD: _column(releases, s.METHOD, ri),
        },
        geometry=pieces,
        crs=s.CANONICAL_CRS,
    )


def hazardous_by_month(
    hazards: gpd.GeoDataFrame, releases: gpd.GeoDataFrame, months: pd.PeriodIndex
) -> np.ndarray:
    """Hectares still hazardous at the end of each of ``months``, ground counted once.

    The ground of the hazards submitted by then (where records overlap, the
    shared ground is counted once, under the earliest submission) less the
    part of it released by then (where releases overlap, once, under the
    earliest release): at the last month, the district table's remaining total.
    A hazard without a submission date counts from the first month; a release
    without a date, from the last.

    Parameters
    ----------
    hazards, releases
        Submitted hazards and releases in WGS 84.
    months
        The slider's months (:func:`slider_months`).
    """
    known = np.zeros(len(hazards), dtype=int)
    if s.SUBMITTED_ON in hazards.columns:
        known = month_index(hazards[s.SUBMITTED_ON], months, 0)
    released = month_index(releases[s.RELEASED_ON], months, len(months) - 1)
    return _hazardous_by_month(months, hazards, known, releases, released)


def _hazardous_by_month(
    months: pd.PeriodIndex,
    hazards: gpd.GeoDataFrame,
    known: np.ndarray,
    releases: gpd.GeoDataFrame,
    released: np.ndarray,
) -> np.ndarray:
    """Hectares still hazardous at each month end, ground counted once.

    The ground of the hazards submitted by then (where records overlap, the
    shared ground is counted once, under the earliest submission) less the
    part of it released by then (where releases overlap, once, under the
    earliest release): at the last month, the district table's remaining total.
    The drawn pieces may show an overlap of two releases as hazardous until
    the later one; this figure does not.

    Parameters
    ----------
    months
        The slider's months.
    hazards, releases
        Submitted hazards and releases in WGS 84.
    known, released
        Month index (into ``months``) of each hazard's submission and of each
        release.
    """
    n = len(months)
    if not len(hazards):
        return np.zeros(n)
    # One partition (the one minemap.remaining_over_time and minemap progress
    # read): each cell of ground under its earliest-known hazard and its earliest
    # release, hazardous from the one's month until the other's.
    r_dates = naive_dates(releases[s.RELEASED_ON]).to_numpy()
    cells = ground(hazards, releases, hazard_priority=known, release_priority=r_dates).cells
    cells = cells[cells["hazard"] >= 0]
    start = known[cells["hazard"].to_numpy()]
    release = cells["release"].to_numpy()
    stop = np.where(release >= 0, released[np.maximum(release, 0)], n)
    stop = np.maximum(stop, start)
    area = cells["area_ha"].to_numpy()
    gone = stop < n
    change = np.bincount(start, weights=area, minlength=n)[:n]
    change -= np.bincount(stop[gone], weights=area[gone], minlength=n)[:n]
    return np.cumsum(change)


# --- public map -------------------------------------------------------------------

#: Side of the public map's grid cells, in metres on an equal-area projection.
PUBLIC_CELL_M = 2000.0


def public_grid(remaining: gpd.GeoDataFrame, *, cell_m: float = PUBLIC_CELL_M) -> gpd.GeoDataFrame:
    """Remaining contamination summed on a coarse equal-area grid (for a public map).

    Each remaining piece is cut along the cells of a square grid laid on a
    Lambert azimuthal equal-area projection centred on the data; a cell gets
    the hectares of the pieces inside it (land shared by overlapping hazards
    counted once, as in :func:`minemap.by_district`) and their estimated
    mines in proportion to area. Exact perimeters cannot be read back from
    the cells.

    Parameters
    ----------
    remaining
        Remaining hazard pieces from :func:`minemap.remaining`.
    cell_m
        Side of a cell in metres.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per cell holding contamination: ``remaining_area_ha``,
        ``remaining_mines_est`` (if ``remaining`` has it), cell polygons in
        WGS 84.

    Examples
    --------
    >>> import minemap as mm
    >>> from minemap import datasets
    >>> rem = mm.remaining(datasets.hazards(), datasets.releases(), datasets.districts())
    >>> grid = public_grid(rem)
    >>> total = mm.by_district(rem)["remaining_area_ha"].sum()
    >>> bool(abs(grid["remaining_area_ha"].sum() - total) < 1e-6 * total)
    True
    """
    if cell_m <= 0:
        raise ValueError(f"cell_m must be positive, got {cell_m}")
    frame = remaining
    if frame.crs is not None and not frame.crs.equals(s.CANONICAL_CRS):
        frame = frame.to_crs(s.CANONICAL_CRS)
    geoms = frame.geometry.to_numpy()
    present = ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)
    frame, geoms = frame[present], geoms[present]
    columns = [s.REMAINING_AREA_HA, s.REMAINING_MINES_EST]
    if not len(frame):
        return gpd.GeoDataFrame({key: [] for key in columns}, geometry=[], crs=s.CANONICAL_CRS)
    crs = geodesy.equal_area_crs(shapely.total_bounds(geoms))
    projected = gpd.GeoSeries(geoms, crs=s.CANONICAL_CRS).to_crs(crs).to_numpy()
    x0, y0, x1, y1 = shapely.total_bounds(projected)
    xs = np.arange(np.floor(x0 / cell_m) * cell_m, x1 + cell_m, cell_m)
    ys = np.arange(np.floor(y0 / cell_m) * cell_m, y1 + cell_m, cell_m)
    gx, gy = np.meshgrid(xs[:-1], ys[:-1])
    cells = shapely.box(gx.ravel(), gy.ravel(), gx.ravel() + cell_m, gy.ravel() + cell_m)
    piece_of, cell_of, pieces = overlay.split(projected, cells)
    piece_ha = geodesy.area_ha(pieces)
    whole_ha = geodesy.area_ha(projected)
    # Mines spread over a piece in proportion to area (as remaining() estimates them).
    share = np.divide(
        piece_ha, whole_ha[piece_of], out=np.zeros_like(piece_ha), where=whole_ha[piece_of] > 0
    )
    if s.NET_REMAINING_AREA_HA in frame.columns and s.REMAINING_AREA_HA in frame.columns:
        # Where hazards overlap, remaining() counts the shared land once (net);
        # scale each hazard's pieces the same way so the grid adds up to the table.
        net = pd.to_numeric(frame[s.NET_REMAINING_AREA_HA], errors="coerce").to_numpy()
        gross = pd.to_numeric(frame[s.REMAINING_AREA_HA], errors="coerce").to_numpy()
        ratio = np.divide(net, gross, out=np.ones_like(net), where=gross > 0)
        piece_ha = piece_ha * np.nan_to_num(ratio, nan=1.0)[piece_of]
    inside = cell_of >= 0
    out = pd.DataFrame({"cell": cell_of[inside], s.REMAINING_AREA_HA: piece_ha[inside]})
    if s.REMAINING_MINES_EST in frame.columns:
        mines = pd.to_numeric(frame[s.REMAINING_MINES_EST], errors="coerce").fillna(0).to_numpy()
        out[s.REMAINING_MINES_EST] = (mines[piece_of] * share)[inside]
    summed = out.groupby("cell").sum()
    summed = summed[summed[s.REMAINING_AREA_HA] > 0]
    return gpd.GeoDataFrame(
        summed.reset_index(drop=True),
        geometry=gpd.GeoSeries(cells[summed.index.to_numpy()], crs=crs).to_crs(s.CANONICAL_CRS),
        crs=s.CANONICAL_CRS,
    )
