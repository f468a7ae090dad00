"""Curved geometries (arcs), as ArcGIS and GML write them, made of straight segments.

ArcGIS keeps arcs as arcs: its GeoPackages and FileGDB exports hold
MultiSurface, CurvePolygon and CompoundCurve rings (ISO WKB types 8 to 17).
GEOS, and so shapely and minemap's checks, knows only straight segments. The
features that hold a curve are read again through GDAL, which strokes every arc
into segments of at most :data:`ARC_STEP_DEGREES` degrees of arc (GDAL's
``OGR_ARC_STEPSIZE``): a chord then departs from its arc by at most
``r (1 - cos 0.5°)``, 0.0038 % of the arc's radius (4 mm on a 100 m radius),
and a full circle's area comes out 0.005 % small. Each such feature gets a
``curved-geometry`` warning naming it.
"""

from __future__ import annotations

import struct

import numpy as np
import pyogrio
import pyogrio.raw

__all__ = [
    "ARC_STEP_DEGREES",
    "CURVED",
    "curved_rows",
    "has_arc",
    "linearised",
]

#: Degrees of arc per straight segment when an arc is stroked.
ARC_STEP_DEGREES = 1.0
#: The reader's geometry note for a feature whose arcs were stroked.
CURVED = "curved"

#: ISO WKB base types with arcs, or that may hold them: CircularString, CompoundCurve,
#: CurvePolygon, MultiCurve, MultiSurface, Curve, Surface, PolyhedralSurface, TIN,
#: Triangle.
_CURVE_TYPES = frozenset(range(8, 18))
_COLLECTION = 7


def _base_type(blob) -> int | None:
    """The WKB geometry type of a blob without its Z/M flags (ISO or EWKB)."""
    if blob is None or len(blob) < 5:
        return None
    order = "<" if blob[0] == 1 else ">"
    (code,) = struct.unpack(f"{order}I", bytes(blob[1:5]))
    return (code & 0x0FFFFFFF) % 1000


def _header(blob: bytes, at: int) -> tuple[str, int, int, int] | None:
    """Byte order, base type, coordinate dimensions of the geometry at ``at``, and the
    bytes of an EWKB SRID after its header (0 or 4)."""
    if at + 5 > len(blob) or blob[at] not in (0, 1):
        return None
    order = "<" if blob[at] == 1 else ">"
    (code,) = struct.unpack_from(f"{order}I", blob, at + 1)
    flags, code = code >> 28, code & 0x0FFFFFFF
    dims = (
        2 + (code // 1000 in (1, 3)) + (code // 1000 in (2, 3)) + bool(flags & 8) + bool(flags & 4)
    )
    return order, code % 1000, dims, 4 if flags & 2 else 0


def has_arc(blob) -> bool:
    """Whether a WKB geometry holds a CircularString (an arc), at any depth.

    WKB lists a geometry's parts after its header, depth first, so one pass over
    the headers finds every part; no recursion.
    """
    blob = bytes(blob)
    at = 0
    while at < len(blob):
        header = _header(blob, at)
        if header is None:
            return False
        order, kind, dims, srid = header
        at += 5 + srid
        step = 8 * dims
        if kind == 8:
            return True
        if kind == 1:  # Point
            at += step
        elif kind == 2:  # LineString
            (n,) = struct.unpack_from(f"{order}I", blob, at)
            at += 4 + n * step
        elif kind in (3, 17):  # Polygon, Triangle: rings without headers
            (rings,) = struct.unpack_from(f"{order}I", blob, at)
            at += 4
            for _ in range(rings):
                (n,) = struct.unpack_from(f"{order}I", blob, at)
                at += 4 + n * step
        elif kind in (4, 5, 6, 7, 9, 10, 11, 12, 15, 16):  # parts with headers follow
            at += 4
        else:
            return False
    return False


def curved_rows(wkb: np.ndarray) -> np.ndarray:
    """Rows whose WKB holds a curve: a curved type, or a collection with one inside."""
    out = np.zeros(len(wkb), dtype=bool)
    for i, blob in enumerate(wkb):
        kind = _base_type(blob)
        if kind in _CURVE_TYPES:
            out[i] = True
        elif kind == _COLLECTION:
            import shapely

            try:
                shapely.from_wkb(blob, on_invalid="ignore")
            except NotImplementedError:  # "Nonlinear geometry types are not supported"
                out[i] = True
    return out


def linearised(target: str, layer: str | None, wkb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``wkb`` with every curved geometry replaced by its stroked form; which held arcs.

    A curved type that holds no arc (ArcGIS writes every polygon as a
    MultiSurface) is replaced too, without being named: nothing changed in it.

    Parameters
    ----------
    target
        What GDAL opens (a path, or a ``/vsizip/`` path inside a ZIP).
    layer
        The layer read (None: the first).
    wkb
        The layer's geometries as read, in feature order.
    """
    wkb = np.asarray(wkb, dtype=object)
    curved = curved_rows(wkb)
    if not curved.any():
        return wkb, curved
    previous = pyogrio.get_gdal_config_option("OGR_ARC_STEPSIZE")
    pyogrio.set_gdal_config_options({"OGR_ARC_STEPSIZE": str(ARC_STEP_DEGREES)})
    try:
        # pyogrio's feature-by-feature reader asks GDAL for linear geometries only.
        kwargs = {"layer": layer} if layer is not None else {}
        _, _, linear, _ = pyogrio.raw.read(target, columns=[], **kwargs)
    finally:
        pyogrio.set_gdal_config_options({"OGR_ARC_STEPSIZE": previous})
    if linear is None or len(linear) != len(wkb):
        raise ValueError("the curved geometries could not be read again as straight segments")
    out = wkb.copy()
    out[curved] = np.asarray(linear, dtype=object)[curved]
    arcs = np.zeros(len(wkb), dtype=bool)
    for i in np.flatnonzero(curved):
        try:
            arcs[i] = has_arc(wkb[i])
        except struct.error:  # cut short: it held something GDAL read as curved
            arcs[i] = True
    return out, arcs
