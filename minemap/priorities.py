"""Rank remaining hazards for the next clearance season by a weighted score.

Each record with remaining ground gets five *parts*, each between 0 and 1
(1 = clear it first), and a score that is their weighted mean:

``density``
    estimated remaining mines per remaining hectare, divided by the 95th
    percentile over the records ranked, capped at 1 (denser first);
``settlements``
    ``exp(-d / settlement_scale_m)``, ``d`` the distance in metres from the
    remaining ground to the nearest settlement (1 touching a settlement, 0.37
    at ``settlement_scale_m``, default 2 km);
``roads``
    ``exp(-d / road_scale_m)`` with the distance to the nearest road
    (default scale 1 km);
``area``
    remaining hectares divided by their 95th percentile, capped at 1 (more
    land to give back first);
``accidents``
    ``1 - exp(-n)``, ``n`` the mine accidents within ``accident_radius_m``
    (default 1 km) of the remaining ground (0, 0.63, 0.86, 0.95...).

``score = Σ wₖ·partₖ / Σ wₖ`` over the parts that have data (a part whose
layer is not given is left out and the other weights keep their proportions;
so is, for one record, a part that is not known: the density of a record
whose mine count is not known, whose ``remaining_mines_est`` is empty),
so the score is between 0 and 1. The default weights are :data:`WEIGHTS`. The
output keeps every part and each part's contribution ``wₖ·partₖ / Σ wₖ``: the
contributions add up to the score, so a manager sees why a record ranks where
it does. Distances are in metres in the equal-area CRS of
:func:`minemap.geodesy.equal_area_crs`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from minemap import contamination, geodesy
from minemap import schema as s
from minemap.errors import SchemaError

__all__ = ["PARTS", "WEIGHTS", "priorities"]

#: The parts of the score, in output order.
PARTS = ("density", "settlements", "roads", "area", "accidents")
_MIN_HA = 1e-8
#: Default weights (they need not add up to one).
WEIGHTS = {"density": 0.35, "settlements": 0.25, "roads": 0.15, "area": 0.10, "accidents": 0.15}


def part_column(name: str) -> str:
    """Column of a part's value (0-1)."""
    return f"part_{name}"


def contribution_column(name: str) -> str:
    """Column of a part's contribution to the score."""
    return f"contrib_{name}"


def _nearest_distance(targets: np.ndarray, layer: np.ndarray) -> np.ndarray:
    tree = shapely.STRtree(layer)
    idx = tree.query_nearest(targets, all_matches=False, return_distance=True)
    out = np.full(len(targets), np.nan)
    out[idx[0][0]] = idx[1]
    return out


def _scaled(values: np.ndarray) -> np.ndarray:
    """Values over their 95th percentile, capped at 1; NaN (not known) stays NaN."""
    known = values[np.isfinite(values)]
    ref = np.percentile(known, 95) if len(known) else 0.0
    if not ref > 0:
        ref = known.max() if len(known) and known.max() > 0 else 1.0
    return np.clip(values / ref, 0.0, 1.0)


def check_weights(weights: Mapping[str, float]) -> dict[str, float]:
    """Default weights updated by ``weights``; unknown parts or negatives raise."""
    unknown = sorted(set(weights) - set(PARTS))
    if unknown:
        raise ValueError(
            f"unknown weight(s) {', '.join(unknown)}; the parts are {', '.join(PARTS)}"
        )
    merged = {**WEIGHTS, **{k: float(v) for k, v in weights.items()}}
    bad = [k for k, v in merged.items() if not (v >= 0 and np.isfinite(v))]
    if bad:
        raise ValueError(f"weight(s) {', '.join(bad)} must be numbers >= 0")
    return merged


def priorities(
    hazards: gpd.GeoDataFrame,
    releases: gpd.GeoDataFrame,
    districts: gpd.GeoDataFrame | None = None,
    *,
    settlements: gpd.GeoDataFrame | None = None,
    roads: gpd.GeoDataFrame | None = None,
    accidents: gpd.GeoDataFrame | None = None,
    as_of: dt.date | str | None = None,
    weights: Mapping[str, float] | None = None,
    settlement_scale_m: float = 2000.0,
    road_scale_m: float = 1000.0,
    accident_radius_m: float = 1000.0,
    remaining: gpd.GeoDataFrame | None = None,
    **weight_kwargs: float,
) -> pd.DataFrame:
    """Remaining hazards ranked by a weighted, explained score (highest first).

    Parameters
    ----------
    hazards, releases, districts, as_of
        As for :func:`minemap.remaining`.
    settlements, roads, accidents
        Context layers (any geometry; accidents usually points). A part whose
        layer is missing is left out of the score.
    weights
        ``{part: weight}`` over :data:`WEIGHTS`; keyword arguments
        (``density=0.5``) do the same.
    settlement_scale_m, road_scale_m, accident_radius_m
        See the module docstring.
    remaining
        The frame :func:`minemap.remaining` returned, to skip computing it.

    Returns
    -------
    DataFrame
        One row per record with remaining ground: ``rank``, ``hazard_id``,
        ``district`` (where most of its remaining ground lies), ``score``,
        ``remaining_area_ha``, ``remaining_mines_est``, ``mines_per_ha_est``,
        ``dist_settlement_m``, ``dist_road_m``, ``accidents_near``, then
        ``part_*`` and ``contrib_*`` for each part. Ties keep input order.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from minemap import datasets
    >>> from minemap.priorities import priorities
    >>> folder = datasets.get_path("hazards").parent
    >>> ranked = priorities(datasets.hazards(), datasets.releases(),
    ...                     settlements=gpd.read_file(folder / "settlements.geojson"),
    ...                     roads=gpd.read_file(folder / "roads.geojson"))
    >>> bool(ranked["score"].is_monotonic_decreasing)
    True
    """
    w = check_weights({**(weights or {}), **weight_kwargs})
    for name, value in (
        ("settlement_scale_m", settlement_scale_m),
        ("road_scale_m", road_scale_m),
        ("accident_radius_m", accident_radius_m),
    ):
        if not value > 0:
            raise ValueError(f"{name} must be > 0, not {value!r}")
    rem = remaining
    if rem is None:
        rem = contamination.remaining(hazards, releases, districts, as_of=as_of)
    crs = geodesy.equal_area_crs(hazards.geometry.to_crs(s.CANONICAL_CRS).total_bounds)
    # Slivers under a square centimetre (rounding left by the overlay) are not ground to clear.
    projected = rem.geometry.to_crs(crs).to_numpy(dtype=object)
    keep = (rem[s.REMAINING_AREA_HA].to_numpy(float) > _MIN_HA) & ~shapely.is_empty(projected)
    rem = rem[keep]
    geoms = projected[keep]
    ids = rem[s.HAZARD_ID].to_numpy(dtype=object)
    # One row per record: its pieces (split by district) together.
    codes, uniques = pd.factorize(pd.Series(ids), sort=False)
    n = len(uniques)
    area = np.bincount(codes, weights=rem[s.REMAINING_AREA_HA].to_numpy(float), minlength=n)
    # NaN where the record's mine count is not known: its density part is not known either.
    estimates = pd.to_numeric(rem[s.REMAINING_MINES_EST], errors="coerce")
    mines = np.bincount(
        codes, weights=estimates.to_numpy(dtype=float, na_value=np.nan), minlength=n
    )
    order = np.argsort(codes, kind="stable")
    cuts = np.flatnonzero(np.diff(codes[order])) + 1
    groups = np.split(order, cuts) if n else []
    shapes = np.array([shapely.union_all(geoms[g]) for g in groups], dtype=object)
    biggest = rem.assign(_code=codes).sort_values(s.REMAINING_AREA_HA, ascending=False)
    district = biggest.drop_duplicates("_code").set_index("_code")[s.DISTRICT].reindex(range(n))

    out = pd.DataFrame({s.HAZARD_ID: uniques.to_numpy(dtype=object)})
    out[s.DISTRICT] = district.to_numpy(dtype=object)
    out[s.REMAINING_AREA_HA] = area
    out[s.REMAINING_MINES_EST] = pd.array(mines, dtype="Float64")
    out[s.MINES_PER_HA_EST] = np.divide(
        mines, area, out=np.where(np.isnan(mines), np.nan, 0.0), where=area > 0
    )
    parts: dict[str, np.ndarray] = {
        "density": _scaled(out[s.MINES_PER_HA_EST].to_numpy()),
        "area": _scaled(area),
    }
    out[s.DIST_SETTLEMENT_M] = np.nan
    out[s.DIST_ROAD_M] = np.nan
    out[s.ACCIDENTS_NEAR] = pd.array([pd.NA] * n, dtype="Int64")
    if settlements is not None and n:
        d = _nearest_distance(shapes, _layer(settlements, crs, "settlements"))
        out[s.DIST_SETTLEMENT_M] = d
        parts["settlements"] = np.exp(-d / settlement_scale_m)
    if roads is not None and n:
        d = _nearest_distance(shapes, _layer(roads, crs, "roads"))
        out[s.DIST_ROAD_M] = d
        parts["roads"] = np.exp(-d / road_scale_m)
    if accidents is not None and n:
        layer = _layer(accidents, crs, "accidents")
        pairs = shapely.STRtree(layer).query(
            shapes, predicate="dwithin", distance=accident_radius_m
        )
        count = np.bincount(pairs[0], minlength=n)
        out[s.ACCIDENTS_NEAR] = pd.array(count, dtype="Int64")
        parts["accidents"] = 1.0 - np.exp(-count.astype(float))
    used = [p for p in PARTS if p in parts]
    total_weight = sum(w[p] for p in used)
    if not total_weight > 0:
        raise ValueError(
            f"the weights of the parts with data ({', '.join(used)}) add up to 0; give one a "
            "positive weight"
        )
    # A record's parts that are not known (its density, when its mine count is not known)
    # are left out of its score as a missing layer is: its other weights keep their
    # proportions.
    row_weight = np.zeros(n)
    for p in used:
        row_weight += np.where(np.isnan(parts[p]), 0.0, w[p])
    row_weight = np.where(row_weight > 0, row_weight, total_weight)
    score = np.zeros(n)
    for p in PARTS:
        value = parts.get(p)
        out[part_column(p)] = value if value is not None else np.nan
        contribution = w[p] * value / row_weight if value is not None else np.nan
        out[contribution_column(p)] = contribution
        if value is not None:
            score += np.nan_to_num(contribution, nan=0.0)
    out.insert(2, s.SCORE, score)
    out = out.sort_values(s.SCORE, ascending=False, kind="stable").reset_index(drop=True)
    out.insert(0, s.RANK, np.arange(1, n + 1))
    out.attrs["weights"] = {p: w[p] for p in used}
    return out


def _layer(frame: gpd.GeoDataFrame, crs, name: str) -> np.ndarray:
    if frame.crs is None:
        raise SchemaError(f"{name}: the layer has no CRS; use GeoDataFrame.set_crs(...)")
    geoms = frame.geometry.to_crs(crs).to_numpy(dtype=object)
    geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    if len(geoms) == 0:
        raise SchemaError(f"{name}: the layer has no geometry")
    return geoms
