"""Remaining contamination per record and per district, as of a date.

The semantics (``docs/design.md#semantics``), which this module implements:

* remaining = hazard − union(releases with ``released_on`` ≤ as-of date);
* areas are true areas on the WGS84 ellipsoid (see :mod:`minemap.geodesy`);
* a hazard that crosses a district boundary is split, its mines shared by area;
  ground outside every district goes to ``(unassigned)``;
* remaining mines are an estimate: a record's mines times its remaining share
  of area (uniform density);
* area figures count overlapping records once; mine figures are sums over
  records;
* a mine count that is not known (NA) stays not known: the record's mines
  and remaining mines are NA, sums skip them, and tables count such records
  (``hazards_unknown_mines``);
* releases kept as rows, with a hazard and an area but no polygon
  (``area_ha``, "area-only"), apply after the polygon releases as of the same
  day: each hazard's area-only releases take their hectares from the ground
  its polygon releases left, capped at it (the excess is a warning in
  ``attrs["warnings"]``), spread over its remaining pieces in proportion to
  their area (:func:`apply_area_only`).

Two sets of area columns come out of :func:`remaining`. ``mapped_area_ha``,
``released_area_ha`` and ``remaining_area_ha`` describe each record on its
own (two overlapping records each count the shared ground). The ``net_*``
columns give the shared ground to the earlier record only (input order), so
their sums over any set of rows count ground once; :func:`by_district` adds
those up.
"""

from __future__ import annotations

import dataclasses
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

__all__ = [
    "Ground",
    "apply_area_only",
    "area_only_releases",
    "by_district",
    "ground",
    "remaining",
    "remaining_over_time",
]

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
#: Mine figures: NA where a record's count is not known (pandas' nullable Float64).
_MINE_FIGURES = (
    s.MINES_AP,
    s.MINES_AT,
    s.MINES,
    s.REMAINING_MINES_AP_EST,
    s.REMAINING_MINES_AT_EST,
    s.REMAINING_MINES_EST,
)
#: Area-only releases smaller than their hazard's remaining ground by less than this
#: (hectares: a square metre) are taken as equal to it, not as an excess.
_EXCESS_HA = 1e-4


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


def _counts(values: pd.Series) -> np.ndarray:
    """Mine counts as floats, NaN where not known (NA, or not a number)."""
    return pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def area_only_releases(releases: pd.DataFrame) -> np.ndarray:
    """Which releases are given as an area, not a polygon (see :func:`apply_area_only`).

    A release with no polygon (no geometry, an empty one, or a point) and an
    ``area_ha``.
    """
    if s.AREA_HA not in releases.columns or not len(releases):
        return np.zeros(len(releases), dtype=bool)
    geoms = releases.geometry.to_numpy(dtype=object)
    present = ~pd.isna(geoms)
    polygon = present & np.isin(
        shapely.get_type_id(geoms),
        [shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON],
    )
    polygon &= ~shapely.is_empty(np.where(present, geoms, None))
    area = pd.to_numeric(releases[s.AREA_HA], errors="coerce").to_numpy(
        dtype=float, na_value=np.nan
    )
    return ~polygon & np.isfinite(area)


def _area_by_hazard(rows: pd.DataFrame, hazards: pd.DataFrame) -> pd.DataFrame:
    """Area-only releases' hectares per hazard (position in ``hazards``): one row per hazard.

    Columns ``hazard`` (position), ``area_ha`` (their sum), ``releases`` (how many).
    A release naming no hazard is an error: its ground cannot be placed.
    """
    empty = pd.DataFrame({"hazard": [], s.AREA_HA: [], "releases": []})
    if not len(rows):
        return empty
    require_columns(rows, (s.HAZARD_ID,), "releases")
    ids = hazards[s.HAZARD_ID].astype("string").str.strip()
    position = pd.Series(np.arange(len(ids)), index=ids.to_numpy(dtype=object))
    position = position[~position.index.duplicated()]
    named = rows[s.HAZARD_ID].astype("string").str.strip()
    where = named.map(position)
    if where.isna().any():
        missing = rows.loc[where.isna().to_numpy(), s.RELEASE_ID].astype(str).tolist()[:5]
        raise ValidationError(
            f"releases: {int(where.isna().sum())} release(s) without a polygon name no hazard "
            f"given (e.g. {', '.join(missing)}): their area cannot be taken from a hazard. "
            "Check their hazard_id, or reject them first (minemap validate with the hazards)."
        )
    area = pd.to_numeric(rows[s.AREA_HA], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    if not (area >= 0).all():
        raise ValidationError("releases: a release without a polygon has no area_ha ≥ 0")
    frame = pd.DataFrame({"hazard": where.to_numpy(dtype=int), s.AREA_HA: area})
    return frame.groupby("hazard", as_index=False).agg(
        **{s.AREA_HA: (s.AREA_HA, "sum"), "releases": (s.AREA_HA, "size")}
    )


@dataclasses.dataclass
class AreaOnly:
    """What area-only releases took from each piece: its own ground and its counted-once ground.

    ``asked`` and ``taken`` are per hazard (hectares): what its area-only releases
    said, and what its remaining ground allowed.
    """

    own: np.ndarray
    net: np.ndarray
    asked: np.ndarray
    taken: np.ndarray


def apply_area_only(
    h_idx: np.ndarray, left: np.ndarray, net_left: np.ndarray, by_hazard: pd.DataFrame
) -> AreaOnly:
    """Share each hazard's area-only releases out over its remaining pieces.

    The rule (``docs/import.md``, "Releases without a polygon"): as of a day, a
    hazard's polygon releases come first; its area-only releases then take
    ``min(their hectares, the ground the polygons left)`` (never below zero,
    never ground a polygon released too), spread over the hazard's remaining
    pieces (districts) in proportion to their remaining area. A piece's
    counted-once remaining ground loses the same share of itself.

    Parameters
    ----------
    h_idx
        The hazard (position) of each piece.
    left, net_left
        Each piece's remaining ground after the polygon releases, and its
        counted-once part (hectares).
    by_hazard
        Area-only hectares per hazard (``hazard``, ``area_ha``).

    Returns
    -------
    AreaOnly
        The hectares taken from each piece (own and counted once), and per
        hazard what was asked and taken; ``own + remaining`` stays each piece's
        ground, and no piece goes below zero.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> taken = apply_area_only(
    ...     np.array([0, 0, 1]), np.array([3.0, 1.0, 2.0]), np.array([3.0, 0.5, 2.0]),
    ...     pd.DataFrame({"hazard": [0, 1], "area_ha": [2.0, 5.0]}),
    ... )
    >>> taken.own.tolist(), taken.net.tolist(), taken.taken.tolist()
    ([1.5, 0.5, 2.0], [1.5, 0.25, 2.0], [2.0, 2.0])
    """
    n = int(h_idx.max()) + 1 if len(h_idx) else 0
    n = max(n, int(by_hazard["hazard"].max()) + 1 if len(by_hazard) else 0)
    asked = np.zeros(n)
    if len(by_hazard):
        asked[by_hazard["hazard"].to_numpy(dtype=int)] = by_hazard[s.AREA_HA].to_numpy(float)
    ground = np.bincount(h_idx, weights=left, minlength=n)
    taken = np.minimum(asked, ground)
    share = np.divide(taken, ground, out=np.zeros(n), where=ground > 0)
    share = np.clip(share, 0.0, 1.0)
    own = np.where(share[h_idx] >= 1.0, left, left * share[h_idx])
    net = np.where(share[h_idx] >= 1.0, net_left, net_left * share[h_idx])
    return AreaOnly(own, net, asked, taken)


def _excess_warnings(taken: AreaOnly, hazards: pd.DataFrame) -> list[str]:
    """A line per hazard whose area-only releases ask more than its remaining ground."""
    ids = hazards[s.HAZARD_ID].astype(str).to_numpy(dtype=object)
    return [
        f"hazard_id {ids[h]}: releases without a polygon give {taken.asked[h]:,.2f} ha, more "
        f"than the {taken.taken[h]:,.2f} ha its polygon releases left; "
        f"{taken.asked[h] - taken.taken[h]:,.2f} ha not counted (released twice, or the "
        "record is too small?)"
        for h in np.flatnonzero(taken.asked - taken.taken > _EXCESS_HA)
    ]


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
    counted = released_by(releases, as_of)
    area_rows = area_only_releases(counted)
    releases = to_wgs84(counted[~area_rows], "releases")
    by_area = _area_by_hazard(counted[area_rows], hazards)

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
    # Sums of many runs: rounding may take a piece's counted-once ground a hair
    # below nothing or beyond the piece.
    net_area = np.clip(done.net / geodesy.M2_PER_HA, 0.0, piece_area)
    net_left_area = np.clip(done.net_left / geodesy.M2_PER_HA, 0.0, net_area)
    # A piece whose written polygon lost ground (parts too thin to be valid in
    # longitude/latitude) loses it from its counted-once figure too.
    changed = np.flatnonzero(
        np.fromiter((a is not b for a, b in zip(left, done.left, strict=True)), bool, len(left))
    )
    if len(changed):
        lost = np.maximum(geodesy.area_ha(done.left[changed]) - left_area[changed], 0.0)
        net_left_area[changed] = np.clip(net_left_area[changed] - lost, 0.0, left_area[changed])
    # Releases given as an area take their share of what the polygons left.
    taken = apply_area_only(h_idx, left_area, net_left_area, by_area)
    left_area, net_left_area = left_area - taken.own, net_left_area - taken.net
    emptied = (taken.own > 0) & ~(left_area > 0)
    geometry[emptied] = shapely.Polygon()  # all its ground released (position unknown)
    # Released ground counted once: what the releases took from the counted-once piece.
    net_released = np.maximum(net_area - net_left_area, 0.0)
    steps.update()

    # 4. Mines shared by area among a record's pieces (shares add up to one).
    total_by_hazard = np.bincount(h_idx, weights=piece_area, minlength=len(hz))
    share = piece_area / total_by_hazard[h_idx]
    remaining_share = np.divide(
        left_area, piece_area, out=np.zeros_like(left_area), where=piece_area > 0
    )
    # A count not known is NaN here and NA in the result: never 0.
    mines_ap = _counts(hazards[s.MINES_AP])[h_idx] * share
    mines_at = _counts(hazards[s.MINES_AT])[h_idx] * share

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
    out[s.RELEASED_AREA_ONLY_HA] = taken.own
    out[s.NET_RELEASED_AREA_ONLY_HA] = taken.net
    for column in _MINE_FIGURES:
        out[column] = pd.array(out[column].to_numpy(dtype=float), dtype="Float64")
    result = gpd.GeoDataFrame(
        out,
        geometry=geometry,
        crs=s.CANONICAL_CRS,
    )
    result.attrs["as_of"] = None if as_of is None else as_of.date().isoformat()
    result.attrs["districts"] = list(_district_keys(districts)) if districts is not None else None
    result.attrs["warnings"] = _excess_warnings(taken, hazards)
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
        ``hazards`` (records with ground in the district),
        ``hazards_unknown_mines`` (those of them whose mine count is not
        known), ``share_released``, ``mapped_mines_ap``, ``mapped_mines_at``,
        ``remaining_mines_ap_est``, ``remaining_mines_at_est`` and
        ``released_area_only_ha`` (released ground from releases given as an
        area, included in ``released_area_ha``). Areas count overlapping
        records once. Mine figures (nullable ``Float64``) sum the records whose
        counts are known: NA where every record of the district has a count not
        known, never a 0 for what is not known. ``attrs["warnings"]`` holds
        :func:`remaining`'s; ``attrs["records"]`` and
        ``attrs["records_unknown_mines"]`` count records (one that crosses a
        boundary counts once there, and in each district's row).

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

    pieces = pieces.copy()
    for column in (s.RELEASED_AREA_ONLY_HA, s.NET_RELEASED_AREA_ONLY_HA):
        if column not in pieces.columns:  # a frame from before area-only releases
            pieces[column] = 0.0
    mine_columns = [
        s.MINES,
        s.REMAINING_MINES_EST,
        s.MINES_AP,
        s.MINES_AT,
        s.REMAINING_MINES_AP_EST,
        s.REMAINING_MINES_AT_EST,
    ]
    for column in mine_columns:
        pieces[column] = pd.array(_counts(pieces[column]), dtype="Float64")
    grouped = pieces.groupby(s.DISTRICT, sort=False)
    areas = grouped[
        [
            s.NET_MAPPED_AREA_HA,
            s.NET_RELEASED_AREA_HA,
            s.NET_REMAINING_AREA_HA,
            s.NET_RELEASED_AREA_ONLY_HA,
        ]
    ].sum()
    # Sums of the known counts; NA where a district's records all have counts not known.
    mines = grouped[mine_columns].sum(min_count=1)
    counts = grouped[s.HAZARD_ID].nunique()
    unknown_pieces = pieces[pieces[s.MINES].isna().to_numpy()]
    unknown = unknown_pieces.groupby(s.DISTRICT, sort=False)[s.HAZARD_ID].nunique()
    extra = [d for d in areas.index if d not in rows]
    rows = [*rows[:-1], *sorted(extra), s.UNASSIGNED]
    areas = areas.reindex(rows, fill_value=0.0)
    mines = mines.reindex(rows)
    # A district without records has no mines (0); with records whose counts are all
    # not known, its sum is not known (NA).
    counts = counts.reindex(rows, fill_value=0)
    mines[counts.to_numpy() == 0] = 0.0
    table = pd.DataFrame(
        {
            s.DISTRICT: rows,
            s.MAPPED_AREA_HA: areas[s.NET_MAPPED_AREA_HA].to_numpy(),
            s.RELEASED_AREA_HA: areas[s.NET_RELEASED_AREA_HA].to_numpy(),
            s.REMAINING_AREA_HA: areas[s.NET_REMAINING_AREA_HA].to_numpy(),
            s.MAPPED_MINES: mines[s.MINES].array,
            s.REMAINING_MINES_EST: mines[s.REMAINING_MINES_EST].array,
            s.HAZARDS: counts.to_numpy(),
            s.HAZARDS_UNKNOWN_MINES: unknown.reindex(rows, fill_value=0).to_numpy(dtype=int),
        }
    )
    mapped = table[s.MAPPED_AREA_HA].to_numpy()
    table[s.SHARE_RELEASED] = np.divide(
        table[s.RELEASED_AREA_HA].to_numpy(), mapped, out=np.zeros(len(table)), where=mapped > 0
    )
    table[s.MAPPED_MINES_AP] = mines[s.MINES_AP].array
    table[s.MAPPED_MINES_AT] = mines[s.MINES_AT].array
    table[s.REMAINING_MINES_AP_EST] = mines[s.REMAINING_MINES_AP_EST].array
    table[s.REMAINING_MINES_AT_EST] = mines[s.REMAINING_MINES_AT_EST].array
    table[s.RELEASED_AREA_ONLY_HA] = areas[s.NET_RELEASED_AREA_ONLY_HA].to_numpy()
    table.attrs["as_of"] = pieces.attrs.get("as_of")
    table.attrs["warnings"] = list(pieces.attrs.get("warnings") or [])
    # Records, not pieces: one crossing a boundary is in two districts' counts.
    table.attrs["records"] = int(pieces[s.HAZARD_ID].nunique())
    table.attrs["records_unknown_mines"] = int(unknown_pieces[s.HAZARD_ID].nunique())
    return table


# --- many dates from one partition ----------------------------------------------------

_HAZARD, _RELEASE, _AREA = "hazard", "release", "area_ha"


@dataclasses.dataclass
class Ground:
    """Hazard and release ground cut into cells, each counted once.

    A cell is ground whose earliest hazard (in the hazards' priority order,
    rows by default) and earliest release (by ``released_on``, then row, by
    default) are the same. Every figure counted once, as of any date, is a sum
    of cells: mapped ground is the cells with a hazard; ground released by a
    day is those whose release is dated on or before it. Build it once with
    :func:`ground`, then ask for as many dates as needed.

    Attributes
    ----------
    cells
        One row per cell: ``hazard`` (row in the hazards, -1: no hazard),
        ``release`` (row in the releases, -1: none), ``district`` (the
        district of the hazard's piece, of the release's piece where there is
        no hazard and the releases were cut by districts, else
        ``(unassigned)``) and ``area_ha`` (on the ellipsoid).
    release_dates
        Each release's ``released_on`` as a day (``NaT`` where missing or
        not a date: such a release counts only when no date is asked).
    districts
        District names in table order (the districts layer's, then any other,
        then ``(unassigned)``).
    """

    cells: pd.DataFrame
    release_dates: pd.Series
    districts: list
    release_ids: np.ndarray

    def over_time(self, dates) -> pd.DataFrame:
        """Mapped, released and remaining ground per district on each date, counted once.

        Parameters
        ----------
        dates
            Days (``date``, ``Timestamp`` or ``YYYY-MM-DD``); releases dated
            on a day count on it. ``None`` among them: every release.

        Returns
        -------
        DataFrame
            ``as_of, district, mapped_area_ha, released_area_ha,
            remaining_area_ha``: per date (in the order given), one row per
            district in table order. For each date, the same area figures as
            :func:`by_district` of :func:`remaining` as of that date.

        Raises
        ------
        ValidationError
            A date is asked and a release has no valid ``released_on``.
        """
        days = [parse_as_of(d) for d in dates]
        cells = self.cells[self.cells[_HAZARD] >= 0]
        when = self.release_dates.to_numpy()
        if any(d is not None for d in days):
            undated = np.flatnonzero(pd.isna(when))
            if len(undated):
                bad = [str(v) for v in self.release_ids[undated][:5]]
                raise ValidationError(
                    f"releases: {len(undated)} release(s) have no valid released_on date "
                    f"(e.g. {', '.join(bad)}), so an as-of date cannot be applied. Fix or "
                    "reject them first (minemap validate)."
                )
        rows = self.districts
        where = pd.Index(rows).get_indexer(cells[s.DISTRICT])
        area = cells[_AREA].to_numpy()
        release = cells[_RELEASE].to_numpy()
        mapped = np.bincount(where, weights=area, minlength=len(rows))
        released_cells = release >= 0
        # Cells released by each day: sorted by date, then cumulative per district.
        stamp = np.full(len(release), np.datetime64("NaT"), dtype="datetime64[ns]")
        stamp[released_cells] = when[release[released_cells]]
        out = []
        for day in days:
            if day is None:
                chosen = released_cells
            else:
                chosen = released_cells & (stamp <= day.to_datetime64())
            released = np.bincount(where[chosen], weights=area[chosen], minlength=len(rows))
            released = np.minimum(released, mapped)
            out.append(
                pd.DataFrame(
                    {
                        s.AS_OF: day.date() if day is not None else None,
                        s.DISTRICT: rows,
                        s.MAPPED_AREA_HA: mapped,
                        s.RELEASED_AREA_HA: released,
                        s.REMAINING_AREA_HA: mapped - released,
                    }
                )
            )
        return pd.concat(out, ignore_index=True)


def _priority(values, n: int, layer: str) -> np.ndarray:
    """Positions in priority order: ``values`` (one per row) ascending, then row."""
    if values is None:
        return np.arange(n)
    values = np.asarray(values)
    if len(values) != n:
        raise ValueError(f"{layer}: {len(values)} priorities given for {n} rows")
    return np.argsort(values, kind="stable")


def _polygons_only(releases: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The releases, those without a polygon (given as an area) holding no ground.

    Rows stay where they are, so that cells name releases by their row.
    """
    geoms = releases.geometry.to_numpy(dtype=object)
    present = ~pd.isna(geoms)
    polygon = present & np.isin(
        shapely.get_type_id(np.where(present, geoms, None)),
        [shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON],
    )
    if polygon.all():
        return releases
    out = releases.copy()
    out[out.geometry.name] = gpd.GeoSeries(
        np.where(polygon, geoms, shapely.Polygon()), index=releases.index, crs=releases.crs
    )
    return out


def ground(
    hazards: gpd.GeoDataFrame | None,
    releases: gpd.GeoDataFrame,
    districts: gpd.GeoDataFrame | None = None,
    *,
    hazard_priority=None,
    release_priority=None,
    crs=None,
    engine: str | None = None,
    scheduler=None,
    chunk_size: int | None = None,
) -> Ground:
    """Cut hazards and releases into cells counted once, for figures on many dates.

    Parameters
    ----------
    hazards
        Hazard records, or ``None`` (then releases are cut by districts).
    releases
        Released land; ``released_on`` is read where present. A release
        without a polygon (given only as an area) holds no ground here:
        :func:`remaining` shares such areas out over their hazard.
    districts
        District polygons (``district``), or ``None``: each hazard's own
        ``district`` attribute, else ``(unassigned)``.
    hazard_priority, release_priority
        One value per row: where records (releases) overlap, the one with the
        smallest value keeps the shared ground, ties to the earlier row.
        Default: hazards by row (as :func:`remaining` counts them), releases by
        ``released_on`` then row (undated last).
    crs
        Equal-area CRS to measure in; default, as :func:`remaining`, centred on
        the hazards (on the releases without hazards).
    engine, scheduler, chunk_size
        As for :func:`remaining`: where the partition is computed.

    Returns
    -------
    Ground
        See :class:`Ground`; :meth:`Ground.over_time` gives the per-district
        table on any dates.

    Examples
    --------
    >>> from minemap import datasets
    >>> g = ground(datasets.hazards(), datasets.releases(), datasets.districts())
    >>> table = g.over_time(["2022-01-01", "2023-01-01"])
    >>> bool((table.groupby("as_of")["mapped_area_ha"].sum().diff().dropna() == 0).all())
    True
    """
    engine, scheduler, chunk_size = _engine.resolve(engine, scheduler, chunk_size)
    releases = to_wgs84(_polygons_only(releases), "releases")
    if hazards is not None:
        require_columns(hazards, (s.HAZARD_ID,), "hazards")
        hazards = to_wgs84(hazards, "hazards")
    if crs is None:
        bounds = (hazards if hazards is not None and len(hazards) else releases).total_bounds
        crs = geodesy.equal_area_crs(bounds)
    dates = (
        pd.to_datetime(releases[s.RELEASED_ON], errors="coerce")
        if s.RELEASED_ON in releases.columns
        else pd.Series(pd.NaT, index=releases.index, dtype="datetime64[ns]")
    )
    if getattr(dates.dt, "tz", None) is not None:
        dates = dates.dt.tz_convert(None)
    dates = dates.dt.normalize().reset_index(drop=True)
    if release_priority is None:
        # By date, then row; undated last (numpy sorts NaT last).
        r_order = np.argsort(dates.to_numpy(dtype="datetime64[ns]"), kind="stable")
    else:
        r_order = _priority(release_priority, len(releases), "releases")

    zones, names = None, None
    if districts is not None:
        require_columns(districts, s.REQUIRED["districts"], "districts")
        districts = to_wgs84(districts, "districts")
        names = _district_keys(districts)
        zones = overlay.make_disjoint(_project(districts, crs))

    rel = _project(releases, crs)[r_order]
    rel_zone = np.full(len(rel), -1, dtype=np.intp)
    rel_row = r_order
    if hazards is None:
        h_row = h_zone = np.empty(0, dtype=np.intp)
        pieces = np.empty(0, dtype=object)
        if zones is not None:
            # Without hazards, releases are cut by districts instead.
            t, rel_zone, rel = _engine.split(rel, zones, chunk_size=chunk_size)
            rel_row = r_order[t]
    else:
        h_order = _priority(hazard_priority, len(hazards), "hazards")
        hz = _project(hazards, crs)[h_order]
        t, h_zone, pieces = _engine.split(hz, zones, chunk_size=chunk_size)
        h_row = h_order[t]
    done = _engine.cells(pieces, rel, engine=engine, scheduler=scheduler, chunk_size=chunk_size)

    if zones is not None and names is not None:
        district_of_zone = np.append(names, s.UNASSIGNED).astype(object)
        piece_district = district_of_zone[np.where(h_zone >= 0, h_zone, len(names))]
        release_district = district_of_zone[np.where(rel_zone >= 0, rel_zone, len(names))]
    else:
        if hazards is not None and s.DISTRICT in hazards.columns:
            recorded = hazards[s.DISTRICT].astype("string").str.strip()
            recorded = recorded.mask(recorded == "").fillna(s.UNASSIGNED).to_numpy(dtype=object)
            piece_district = recorded[h_row]
        else:
            piece_district = np.full(len(h_row), s.UNASSIGNED, dtype=object)
        release_district = np.full(len(rel_row), s.UNASSIGNED, dtype=object)
    has_h, has_r = done.piece >= 0, done.release >= 0
    district = np.where(
        has_h,
        piece_district[np.maximum(done.piece, 0)] if len(piece_district) else s.UNASSIGNED,
        release_district[np.maximum(done.release, 0)] if len(release_district) else s.UNASSIGNED,
    )
    cells = pd.DataFrame(
        {
            _HAZARD: np.where(has_h, h_row[np.maximum(done.piece, 0)] if len(h_row) else -1, -1),
            _RELEASE: np.where(
                has_r, rel_row[np.maximum(done.release, 0)] if len(rel_row) else -1, -1
            ),
            s.DISTRICT: district.astype(object),
            _AREA: done.area / geodesy.M2_PER_HA,
        }
    )
    rows = list(dict.fromkeys(names)) if names is not None else []
    extra = sorted(set(cells[s.DISTRICT]) - set(rows) - {s.UNASSIGNED})
    ids = (
        releases[s.RELEASE_ID].astype(str).to_numpy()
        if s.RELEASE_ID in releases.columns
        else np.arange(len(releases)).astype(str)
    )
    return Ground(cells, dates, [*rows, *extra, s.UNASSIGNED], ids)


def remaining_over_time(
    hazards: gpd.GeoDataFrame,
    releases: gpd.GeoDataFrame,
    districts: gpd.GeoDataFrame | None = None,
    dates=(),
    *,
    engine: str | None = None,
    scheduler=None,
    chunk_size: int | None = None,
) -> pd.DataFrame:
    """Mapped, released and remaining ground per district on each of many dates.

    One partition (:func:`ground`) answers every date: asking for 52 weekly
    dates costs about one :func:`remaining`. Each date's rows hold the same
    area figures as ``by_district(remaining(..., as_of=date))`` where every
    release has a polygon; releases given only as an area are not counted here
    (:func:`remaining` shares them out over their hazard).

    Returns
    -------
    DataFrame
        ``as_of, district, mapped_area_ha, released_area_ha,
        remaining_area_ha``; see :meth:`Ground.over_time`.

    Examples
    --------
    >>> from minemap import datasets
    >>> table = remaining_over_time(
    ...     datasets.hazards(), datasets.releases(), datasets.districts(), ["2022-06-30"]
    ... )
    >>> list(table.columns)
    ['as_of', 'district', 'mapped_area_ha', 'released_area_ha', 'remaining_area_ha']
    """
    require_columns(releases, (s.RELEASED_ON,), "releases")
    return ground(
        hazards, releases, districts, engine=engine, scheduler=scheduler, chunk_size=chunk_size
    ).over_time(dates)
