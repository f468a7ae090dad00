"""Remaining contamination per record and per district, as of a date.

The semantics (``docs/design.md#semantics``), which this module implements:

* remaining = hazard − union(releases with ``released_on`` ≤ as-of date);
* areas are true areas on the WGS84 ellipsoid (see :mod:`minemap.geodesy`);
* a hazard that crosses a district boundary is split, its mines shared by area;
  ground outside every district goes to ``(unassigned)``;
* remaining mines are an estimate: a record's mines times its remaining share
  of area (uniform density);
* area figures count overlapping records once; mine figures are sums over
  records.

Two sets of area columns come out of :func:`remaining`. ``mapped_area_ha``,
``released_area_ha`` and ``remaining_area_ha`` describe each record on its
own (two overlapping records each count the shared ground). The ``net_*``
columns give the shared ground to the earlier record only (input order), so
their sums over any set of rows count ground once; :func:`by_district` adds
those up.
"""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from tqdm.auto import tqdm

from minemap import engine as _engine
from minemap import geodesy, overlay
from minemap import schema as s
from minemap.errors import SchemaError, ValidationError
from minemap.validate import NO_AREA_M2

#: Parts of remaining ground below this (square metres) are numerical slivers.
SLIVER_M2 = 1e-6
#: How far (metres, per metre of edge length squared) an edge straight in the
#: equal-area CRS may lie from the straight edge between the same two points in
#: longitude/latitude: 2e-8 at 40° N, 9e-8 at 75° N (a 1 km edge: 2-9 cm); with a margin.
BEND_PER_M = 1e-6
#: Widths (metres) below which parts of a remaining polygon are taken away, the
#: narrowest first, where nothing else makes it valid in longitude/latitude.
THIN_WIDTHS_M = (1e-5, 1e-4, 1e-3, 1e-2, 1e-1)

__all__ = ["by_district", "remaining"]

_FIGURES = (
    s.MINES,
    s.MAPPED_AREA_HA,
    s.RELEASED_AREA_HA,
    s.REMAINING_AREA_HA,
    s.REMAINING_SHARE,
    s.REMAINING_MINES_AP_EST,
    s.REMAINING_MINES_AT_EST,
    s.REMAINING_MINES_EST,
    s.NET_MAPPED_AREA_HA,
    s.NET_RELEASED_AREA_HA,
    s.NET_REMAINING_AREA_HA,
)


def require_columns(frame: pd.DataFrame, columns, layer: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise SchemaError(
            f"{layer}: missing column(s) {', '.join(missing)}; columns present: "
            f"{', '.join(map(str, frame.columns))}. Read the file with "
            f"minemap.read_{layer}(), which maps known aliases, or rename the columns."
        )


def parse_as_of(as_of) -> pd.Timestamp | None:
    """Turn an as-of date (``date``, ``datetime``, ``Timestamp`` or ``YYYY-MM-DD``) into a day."""
    if as_of is None:
        return None
    try:
        stamp = pd.Timestamp(as_of)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"as-of date {as_of!r} is not a date; use YYYY-MM-DD") from exc
    if pd.isna(stamp):
        raise ValueError(f"as-of date {as_of!r} is not a date; use YYYY-MM-DD")
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert(None)
    return stamp.normalize()


def released_by(releases: gpd.GeoDataFrame, as_of: pd.Timestamp | None) -> gpd.GeoDataFrame:
    """The releases dated on or before ``as_of`` (a day, inclusive); all of them for ``None``."""
    if as_of is None:
        return releases
    dates = pd.to_datetime(releases[s.RELEASED_ON], errors="coerce")
    if getattr(dates.dt, "tz", None) is not None:
        dates = dates.dt.tz_localize(None)
    if dates.isna().any():
        bad = releases.loc[dates.isna(), s.RELEASE_ID].astype(str).tolist()[:5]
        raise ValidationError(
            f"releases: {int(dates.isna().sum())} release(s) have no valid released_on date "
            f"(e.g. {', '.join(bad)}), so an as-of date cannot be applied. Fix or reject them "
            "first (minemap validate)."
        )
    # Releases on the as-of day count: the day is inclusive.
    return releases[dates.dt.normalize().to_numpy() <= as_of.to_datetime64()]


def to_wgs84(frame: gpd.GeoDataFrame, layer: str) -> gpd.GeoDataFrame:
    if frame.crs is None:
        raise SchemaError(
            f"{layer}: the layer has no CRS. Use GeoDataFrame.set_crs(...) to say what its "
            "coordinates are (EPSG:4326 for longitude/latitude)."
        )
    return frame if frame.crs.equals(s.CANONICAL_CRS) else frame.to_crs(s.CANONICAL_CRS)


def _project(frame: gpd.GeoDataFrame, crs) -> np.ndarray:
    geoms = frame.geometry.to_numpy(dtype=object)
    return geodesy.project(geoms, frame.crs, crs, workers=_engine.WORKERS)


def _output_geometry(left, projected, original, h_idx, crs) -> tuple[np.ndarray, np.ndarray]:
    """Remaining pieces in EPSG:4326, valid there, and the ground they hold in ``crs``.

    A record left whole keeps its own coordinates. Pieces that were cut (by a
    release or a district boundary) lose their slivers (parts of ``SLIVER_M2``
    or less) and are projected back, which saves time and keeps untouched
    records exactly as they were read.

    A piece valid in the equal-area CRS may not be valid in longitude/latitude:
    a strip cut along a hazard's own vertices in UTM leaves a spike a
    millimetre wide along the hazard's edge (a vertex on an edge in one
    projection is beside it in another), and projected back, the spike's long
    edge bends by more than its width and crosses the other side. Those pieces,
    and only those, get a vertex on each edge where another of their vertices
    lies near it (:func:`minemap.overlay.node_near_vertices`: same shape, same
    area), so that both sides bend alike. A piece still invalid then loses its
    parts narrower than :data:`THIN_WIDTHS_M` (the narrowest width that makes
    it valid), and in the last resort is repaired in longitude/latitude.

    Returns
    -------
    out, kept
        The pieces in EPSG:4326 and, in ``crs``, the ground each one holds (the
        area to report, so that what is written is what is counted). ``kept``
        holds the very objects of ``left`` where no ground was taken away.
    """
    whole = np.fromiter(
        (piece is projected[h] for piece, h in zip(left, h_idx, strict=True)),
        dtype=bool,
        count=len(left),
    )
    out = original[h_idx]
    kept = np.array(left, dtype=object, copy=True)
    cut = np.flatnonzero(~whole)
    if not len(cut):
        return out, kept
    local = overlay.without_flat_parts(left[cut], SLIVER_M2).copy()
    back = geodesy.project(local, crs, s.CANONICAL_CRS, workers=_engine.WORKERS)
    bad = np.flatnonzero(~shapely.is_valid(back))
    if len(bad):
        noded = overlay.node_near_vertices(local[bad], BEND_PER_M)
        back[bad] = geodesy.project(noded, crs, s.CANONICAL_CRS)
        bad = bad[~shapely.is_valid(back[bad])]
    for width in THIN_WIDTHS_M:
        if not len(bad):
            break
        thinned = overlay.without_thin_parts(local[bad], width)
        local[bad] = overlay.without_flat_parts(thinned, SLIVER_M2)
        noded = overlay.node_near_vertices(local[bad], BEND_PER_M)
        back[bad] = geodesy.project(noded, crs, s.CANONICAL_CRS)
        bad = bad[~shapely.is_valid(back[bad])]
    if len(bad):
        back[bad] = overlay.valid_polygonal(back[bad])
        local[bad] = geodesy.project(back[bad], s.CANONICAL_CRS, crs)
    out[cut] = back
    kept[cut] = local
    return out, kept


def _district_keys(districts: gpd.GeoDataFrame) -> np.ndarray:
    keys = districts[s.DISTRICT].astype("string").str.strip()
    if keys.isna().any() or (keys == "").any():
        raise SchemaError("districts: every district needs a name in the 'district' column.")
    return keys.to_numpy(dtype=object)


def remaining(
    hazards: gpd.GeoDataFrame,
    releases: gpd.GeoDataFrame,
    districts: gpd.GeoDataFrame | None = None,
    *,
    as_of: dt.date | str | None = None,
    progress: bool = False,
    engine: str | None = None,
    scheduler=None,
    chunk_size: int | None = None,
) -> gpd.GeoDataFrame:
    """Remaining hazardous ground of each record, split by district.

    Parameters
    ----------
    hazards
        Submitted hazard records (``hazard_id``, ``mines_ap``, ``mines_at``,
        polygons).
    releases
        Released land (``release_id``, ``released_on``, ``method``, polygons).
    districts
        District polygons (``district``). Without them, each record's own
        ``district`` attribute is used, or ``(unassigned)``.
    as_of
        Count only releases dated on or before this day; ``None`` counts all.
    progress
        Show a progress bar on stderr.
    engine
        ``"local"`` (threads on this machine) or ``"dask"`` (Dask distributed);
        ``None`` uses :data:`minemap.engine.DEFAULT_ENGINE`. Both give the same
        figures (see :mod:`minemap.engine`).
    scheduler
        With ``engine="dask"``: a scheduler address (``"tcp://host:8786"``) or
        a ``distributed.Client``; ``None`` uses the current client or starts a
        LocalCluster for the call.
    chunk_size
        Hazards per spatial chunk (per Dask partition); bounds the memory of
        the intermediate steps. The figures do not depend on it.

    Returns
    -------
    GeoDataFrame
        One row per record and district it lies in (every record has at least
        one row, fully released ones with an empty geometry), in EPSG:4326,
        with the record's columns and: ``district``, ``mines``,
        ``mapped_area_ha``, ``released_area_ha``, ``remaining_area_ha``,
        ``remaining_share``, ``mines_ap``/``mines_at`` (this piece's share of
        the record's mines), ``remaining_mines_ap_est``,
        ``remaining_mines_at_est``, ``remaining_mines_est``, and the counted-once
        ``net_mapped_area_ha``, ``net_released_area_ha``,
        ``net_remaining_area_ha``. The geometry is the remaining polygon.

    Examples
    --------
    >>> import minemap as mm
    >>> from minemap import datasets
    >>> rem = mm.remaining(datasets.hazards(), datasets.releases(), datasets.districts())
    >>> bool((rem["remaining_area_ha"] <= rem["mapped_area_ha"]).all())
    True
    """
    require_columns(hazards, s.REQUIRED["hazards"], "hazards")
    require_columns(releases, (s.RELEASED_ON,) if as_of is not None else (), "releases")
    engine, scheduler, chunk_size = _engine.resolve(engine, scheduler, chunk_size)
    as_of = parse_as_of(as_of)
    hazards = to_wgs84(hazards, "hazards")
    releases = to_wgs84(released_by(releases, as_of), "releases")

    steps = tqdm(total=4, desc="remaining", unit="step", disable=not progress, leave=False)
    crs = geodesy.equal_area_crs(hazards.total_bounds)
    hz = _project(hazards, crs)
    hz_area = geodesy.area_ha(hz)
    # The validator's floor: a record on less than a square metre would hold its mines there.
    flat = np.flatnonzero(~(hz_area * geodesy.M2_PER_HA >= NO_AREA_M2))
    if len(flat):
        ids = hazards[s.HAZARD_ID].iloc[flat].astype(str).tolist()[:5]
        raise ValidationError(
            f"hazards: {len(flat)} record(s) have no area (less than {NO_AREA_M2:g} m², e.g. "
            f"{', '.join(ids)}); run minemap validate on the file."
        )
    zones = None
    if districts is not None:
        require_columns(districts, s.REQUIRED["districts"], "districts")
        districts = to_wgs84(districts, "districts")
        names = _district_keys(districts)
        zones = overlay.make_disjoint(_project(districts, crs))
    rel = _project(releases, crs)
    steps.update()

    # 1-3. Cut records along district boundaries, subtract the releases that touch
    # each piece, and count overlapping records once: chunk by chunk (minemap.engine).
    done = _engine.run(hz, zones, rel, engine=engine, scheduler=scheduler, chunk_size=chunk_size)
    h_idx, pieces = done.hazard, done.pieces
    if districts is not None:
        z_idx = done.zone
        piece_district = np.where(z_idx >= 0, names[np.maximum(z_idx, 0)], s.UNASSIGNED)
    elif s.DISTRICT in hazards.columns:
        recorded = hazards[s.DISTRICT].astype("string").str.strip()
        recorded = recorded.mask(recorded == "").fillna(s.UNASSIGNED)
        piece_district = recorded.to_numpy(dtype=object)[h_idx]
    else:
        piece_district = np.full(len(h_idx), s.UNASSIGNED, dtype=object)
    steps.update()
    piece_area = geodesy.area_ha(pieces)
    geometry, left = _output_geometry(done.left, hz, hazards.geometry.to_numpy(), h_idx, crs)
    left_area = geodesy.area_ha(left)
    net_area = geodesy.area_ha(done.net)
    net_left = done.net_left.copy()
    # A piece that counts once as it is (no earlier record over it) loses what it lost.
    changed = np.flatnonzero(
        np.fromiter((a is not b for a, b in zip(left, done.left, strict=True)), bool, len(left))
    )
    same = shapely.equals_identical(net_left[changed], done.left[changed])
    net_left[changed[same]] = left[changed[same]]
    net_left_area = geodesy.area_ha(net_left)
    # Released ground counted once: what the releases took from the counted-once piece.
    net_released = np.maximum(net_area - net_left_area, 0.0)
    steps.update()

    # 4. Mines shared by area among a record's pieces (shares add up to one).
    total_by_hazard = np.bincount(h_idx, weights=piece_area, minlength=len(hz))
    share = piece_area / total_by_hazard[h_idx]
    remaining_share = np.divide(
        left_area, piece_area, out=np.zeros_like(left_area), where=piece_area > 0
    )
    mines_ap = hazards[s.MINES_AP].to_numpy(dtype=float)[h_idx] * share
    mines_at = hazards[s.MINES_AT].to_numpy(dtype=float)[h_idx] * share

    out = hazards.drop(columns=hazards.geometry.name).iloc[h_idx].reset_index(drop=True)
    if districts is not None and s.DISTRICT in out.columns:
        out = out.rename(columns={s.DISTRICT: "district_recorded"})
    out[s.DISTRICT] = piece_district
    out[s.MINES_AP] = mines_ap
    out[s.MINES_AT] = mines_at
    out[s.MINES] = mines_ap + mines_at
    out[s.MAPPED_AREA_HA] = piece_area
    out[s.RELEASED_AREA_HA] = piece_area - left_area
    out[s.REMAINING_AREA_HA] = left_area
    out[s.REMAINING_SHARE] = remaining_share
    out[s.REMAINING_MINES_AP_EST] = mines_ap * remaining_share
    out[s.REMAINING_MINES_AT_EST] = mines_at * remaining_share
    out[s.REMAINING_MINES_EST] = out[s.REMAINING_MINES_AP_EST] + out[s.REMAINING_MINES_AT_EST]
    out[s.NET_MAPPED_AREA_HA] = net_area
    out[s.NET_RELEASED_AREA_HA] = net_released
    out[s.NET_REMAINING_AREA_HA] = net_left_area
    result = gpd.GeoDataFrame(
        out,
        geometry=geometry,
        crs=s.CANONICAL_CRS,
    )
    result.attrs["as_of"] = None if as_of is None else as_of.date().isoformat()
    result.attrs["districts"] = list(_district_keys(districts)) if districts is not None else None
    steps.update()
    steps.close()
    return result


def by_district(
    hazards: gpd.GeoDataFrame,
    releases: gpd.GeoDataFrame | None = None,
    districts: gpd.GeoDataFrame | None = None,
    *,
    as_of: dt.date | str | None = None,
    progress: bool = False,
    engine: str | None = None,
    scheduler=None,
    chunk_size: int | None = None,
) -> pd.DataFrame:
    """Per-district table of mapped, released and remaining ground and mines.

    Call it with the same arguments as :func:`remaining` (``engine``,
    ``scheduler`` and ``chunk_size`` included), or with the frame
    :func:`remaining` returned (then ``releases`` is omitted).

    Returns
    -------
    DataFrame
        One row per district (in the districts layer's order, districts with
        no hazard included), then ``(unassigned)``. The columns begin with
        exactly ``district, mapped_area_ha, released_area_ha,
        remaining_area_ha, mapped_mines, remaining_mines_est``; then
        ``hazards`` (records with ground in the district), ``share_released``,
        ``mapped_mines_ap``, ``mapped_mines_at``, ``remaining_mines_ap_est``,
        ``remaining_mines_at_est``. Areas count overlapping records once.

    Examples
    --------
    >>> import minemap as mm
    >>> from minemap import datasets
    >>> table = mm.by_district(datasets.hazards(), datasets.releases(), datasets.districts())
    >>> list(table.columns[:3])
    ['district', 'mapped_area_ha', 'released_area_ha']
    """
    if releases is None:
        require_columns(hazards, _FIGURES, "remaining")
        pieces = hazards
        names = pieces.attrs.get("districts")
        if districts is not None:
            names = list(_district_keys(districts))
    else:
        pieces = remaining(
            hazards,
            releases,
            districts,
            as_of=as_of,
            progress=progress,
            engine=engine,
            scheduler=scheduler,
            chunk_size=chunk_size,
        )
        names = pieces.attrs.get("districts")
    if names is None:
        names = sorted(set(pieces[s.DISTRICT]) - {s.UNASSIGNED})
    rows = [*dict.fromkeys(names), s.UNASSIGNED]

    grouped = pieces.groupby(s.DISTRICT, sort=False)
    sums = grouped[
        [
            s.NET_MAPPED_AREA_HA,
            s.NET_RELEASED_AREA_HA,
            s.NET_REMAINING_AREA_HA,
            s.MINES,
            s.REMAINING_MINES_EST,
            s.MINES_AP,
            s.MINES_AT,
            s.REMAINING_MINES_AP_EST,
            s.REMAINING_MINES_AT_EST,
        ]
    ].sum()
    counts = grouped[s.HAZARD_ID].nunique()
    extra = [d for d in sums.index if d not in rows]
    rows = [*rows[:-1], *sorted(extra), s.UNASSIGNED]
    sums = sums.reindex(rows, fill_value=0.0)
    table = pd.DataFrame(
        {
            s.DISTRICT: rows,
            s.MAPPED_AREA_HA: sums[s.NET_MAPPED_AREA_HA].to_numpy(),
            s.RELEASED_AREA_HA: sums[s.NET_RELEASED_AREA_HA].to_numpy(),
            s.REMAINING_AREA_HA: sums[s.NET_REMAINING_AREA_HA].to_numpy(),
            s.MAPPED_MINES: sums[s.MINES].to_numpy(),
            s.REMAINING_MINES_EST: sums[s.REMAINING_MINES_EST].to_numpy(),
            s.HAZARDS: counts.reindex(rows, fill_value=0).to_numpy(),
        }
    )
    mapped = table[s.MAPPED_AREA_HA].to_numpy()
    table[s.SHARE_RELEASED] = np.divide(
        table[s.RELEASED_AREA_HA].to_numpy(), mapped, out=np.zeros(len(table)), where=mapped > 0
    )
    table[s.MAPPED_MINES_AP] = sums[s.MINES_AP].to_numpy()
    table[s.MAPPED_MINES_AT] = sums[s.MINES_AT].to_numpy()
    table[s.REMAINING_MINES_AP_EST] = sums[s.REMAINING_MINES_AP_EST].to_numpy()
    table[s.REMAINING_MINES_AT_EST] = sums[s.REMAINING_MINES_AT_EST].to_numpy()
    table.attrs["as_of"] = pieces.attrs.get("as_of")
    return table
