"""Geometry and features as the page receives them: simplified, rounded, compact.

Areas never come from here: the browser gets geometry simplified by
:data:`SIMPLIFY_TOLERANCE` and rounded to :data:`COORDINATE_DECIMALS`, sent as
integer deltas, with each feature's properties under the short keys of
:data:`minemap.render.protocol.FEATURE_KEYS`.
"""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from minemap import schema as s
from minemap.render.offline import script_json
from minemap.render.protocol import FEATURE_KEYS as K

__all__ = [
    "COORDINATE_DECIMALS",
    "SIMPLIFY_TOLERANCE",
    "Styles",
    "bounds",
    "display_geometries",
    "encode_geometry",
    "feature_collection",
    "in_wgs84",
    "records",
]

#: Display geometry is simplified by this many degrees (about 2 m here) with its
#: topology kept. Areas never come from display geometry.
SIMPLIFY_TOLERANCE = 2e-5

#: Coordinates in the page are rounded to this many decimals (about 1 m).
COORDINATE_DECIMALS = 5


def _polygonal(geom):
    """Keep the polygons of a geometry collection (no Leaflet marker for stray points)."""
    parts = [
        p
        for p in shapely.get_parts(geom)
        if shapely.get_type_id(p) in (3, 6) and not shapely.is_empty(p)
    ]
    polys = [q for p in parts for q in shapely.get_parts(p)]
    return shapely.MultiPolygon(polys) if polys else None


def display_geometries(geoms) -> np.ndarray:
    """GeoJSON text of each geometry simplified and rounded for display, ``None`` if empty."""
    arr = np.asarray(gpd.GeoSeries(geoms).to_numpy(), dtype=object)
    out = np.full(len(arr), None, dtype=object)
    present = np.array([g is not None for g in arr], dtype=bool)
    present[present] = ~shapely.is_empty(arr[present].astype(object))
    if not present.any():
        return out
    shown = arr[present]
    kinds = shapely.get_type_id(shown)
    odd = np.flatnonzero(kinds == 7)  # GeometryCollection
    for i in odd:
        shown[i] = _polygonal(shown[i])
    shown = shapely.simplify(shown, SIMPLIFY_TOLERANCE, preserve_topology=True)
    # Snapped to the page's grid by GEOS, which keeps polygons valid (rounding alone
    # makes rings cross); parts under the grid's size go.
    shown = shapely.set_precision(shown, 10.0**-COORDINATE_DECIMALS)
    shown = shapely.transform(shown, lambda xy: np.round(xy, COORDINATE_DECIMALS))
    texts = shapely.to_geojson(shown)
    keep = ~shapely.is_empty(shown) & (shown != None)  # noqa: E711
    texts[~keep] = None
    out[present] = texts
    return out


def _delta_ring(ring: list, scale: float) -> list[int]:
    """A ring or line as flat integer deltas: ``[x0, y0, dx1, dy1, ...]`` in 1/scale degrees."""
    xy = np.rint(np.asarray(ring, dtype=float).reshape(-1, 2) * scale).astype(np.int64)
    xy[1:] -= xy[:-1].copy()
    return xy.ravel().tolist()


def encode_geometry(text: str, scale: float) -> str:
    """GeoJSON geometry text with its coordinates as integer deltas, half the bytes.

    The deltas stand under ``FEATURE_KEYS.deltas`` in place of ``coordinates``;
    ``minemap.geojson`` in the page turns them back into coordinates.
    """
    geom = json.loads(text)
    kind, coords = geom["type"], geom.get("coordinates")
    if kind == "Point":
        encoded = _delta_ring([coords], scale)
    elif kind in ("LineString", "MultiPoint"):
        encoded = _delta_ring(coords, scale)
    elif kind in ("Polygon", "MultiLineString"):
        encoded = [_delta_ring(r, scale) for r in coords]
    elif kind == "MultiPolygon":
        encoded = [[_delta_ring(r, scale) for r in poly] for poly in coords]
    else:  # pragma: no cover - display_geometries keeps only the kinds above
        return text
    return json.dumps({"type": kind, K.deltas: encoded}, separators=(",", ":"))


def _share_strings(props: list[dict]) -> tuple[list[dict], list[str]]:
    """Send a tooltip value that recurs (a district, a source map...) once per layer.

    Values seen more than once and longer than a few characters become their
    index in the returned table; the page looks them up (``minemap.geojson``).
    Tooltip values are otherwise always strings, so a number means an index.
    """
    counts: dict[str, int] = {}
    for p in props:
        for v in p[K.tooltip][K.values]:
            if len(v) > 4:
                counts[v] = counts.get(v, 0) + 1
    strings = [v for v, n in counts.items() if n > 1]
    index = {v: i for i, v in enumerate(strings)}
    shared = []
    for p in props:
        tip = p[K.tooltip]
        values = [index.get(v, v) for v in tip[K.values]]
        shared.append({**p, K.tooltip: {**tip, K.values: values}})
    return shared, strings


def feature_collection(geoms, props: list[dict]) -> str:
    """A GeoJSON FeatureCollection as script-safe text, for ``minemap.geojson``.

    Parameters
    ----------
    geoms
        One geometry per feature (WGS 84); a feature whose geometry is empty
        once simplified is left out.
    props
        One properties dict per feature, with the keys of
        :data:`~minemap.render.protocol.FEATURE_KEYS`.

    Returns
    -------
    str
        JSON text: coordinates as integer deltas (:func:`encode_geometry`),
        recurring tooltip values once in ``strings``, no feature ``type``.
    """
    texts = display_geometries(geoms)
    scale = 10.0**COORDINATE_DECIMALS
    props, strings = _share_strings(props)
    features = [
        f'{{"geometry":{encode_geometry(g, scale)},"properties":{script_json(p)}}}'
        for g, p in zip(texts, props, strict=True)
        if g is not None
    ]
    return (
        '{"type":"FeatureCollection","scale":'
        + repr(scale)
        + ',"strings":'
        + script_json(strings)
        + ',"features":['
        + ",".join(features)
        + "]}"
    )


class Styles:
    """Numbers each distinct style so features carry an index, not a copy."""

    def __init__(self) -> None:
        self.styles: list[dict] = []
        self._index: dict[str, int] = {}

    def __call__(self, style: dict) -> int:
        key = script_json(style)
        if key not in self._index:
            self._index[key] = len(self.styles)
            self.styles.append(style)
        return self._index[key]


def records(frame: pd.DataFrame) -> list[dict]:
    return frame.drop(columns=frame.geometry.name).to_dict("records")


def in_wgs84(frame: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame | None:
    if frame is None or frame.crs is None or frame.crs.equals(s.CANONICAL_CRS):
        return frame
    return frame.to_crs(s.CANONICAL_CRS)


def bounds(*frames) -> list[list[float]] | None:
    boxes = []
    for frame in frames:
        if frame is None or not len(frame):
            continue
        geoms = frame.geometry.to_numpy()
        geoms = geoms[~shapely.is_missing(geoms)]
        geoms = geoms[~shapely.is_empty(geoms)]
        if len(geoms):
            boxes.append(shapely.total_bounds(geoms))
    if not boxes:
        return None
    b = np.array(boxes)
    return [
        [float(b[:, 1].min()), float(b[:, 0].min())],
        [float(b[:, 3].max()), float(b[:, 2].max())],
    ]
