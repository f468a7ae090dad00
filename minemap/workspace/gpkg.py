"""The GeoPackage side of a workspace file: its metadata tables and its binary geometries.

A GeoPackage geometry is a small header (magic ``GP``, version, flags, SRS id and
an optional envelope) followed by ISO WKB, which shapely writes and reads
(:func:`shapely.to_wkb`, :func:`shapely.from_wkb`); only the header is made here.
Every geometry read is checked: header, SRS, envelope against the geometry, WKB and
type (:func:`decode_geometries`).
"""

from __future__ import annotations

import struct

import numpy as np
import shapely

from minemap import _screen
from minemap.workspace.model import SRS_ID

#: ``PRAGMA application_id`` of a GeoPackage ("GPKG") and its ``user_version`` (1.2).
APPLICATION_ID = 0x47504B47
GPKG_VERSION = 10200
#: Bytes of a GeoPackage geometry header's envelope, by its envelope code.
ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}
#: Geometry type ids (shapely's) of the layers' GeoPackage geometry types.
_TYPE_IDS = {"MULTIPOLYGON": int(shapely.GeometryType.MULTIPOLYGON), "POINT": 0}
_ENVELOPE_SIZES = np.array([ENVELOPE_BYTES.get(code, -1) for code in range(8)])

GPKG_TABLES = (
    """CREATE TABLE gpkg_spatial_ref_sys (
        srs_name TEXT NOT NULL,
        srs_id INTEGER NOT NULL PRIMARY KEY,
        organization TEXT NOT NULL,
        organization_coordsys_id INTEGER NOT NULL,
        definition TEXT NOT NULL,
        description TEXT)""",
    """CREATE TABLE gpkg_contents (
        table_name TEXT NOT NULL PRIMARY KEY,
        data_type TEXT NOT NULL,
        identifier TEXT UNIQUE,
        description TEXT DEFAULT '',
        last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
        min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE,
        srs_id INTEGER,
        CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id))""",
    """CREATE TABLE gpkg_geometry_columns (
        table_name TEXT NOT NULL,
        column_name TEXT NOT NULL,
        geometry_type_name TEXT NOT NULL,
        srs_id INTEGER NOT NULL,
        z TINYINT NOT NULL,
        m TINYINT NOT NULL,
        CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
        CONSTRAINT uk_gc_table_name UNIQUE (table_name),
        CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
        CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id))""",
)
GPKG_TABLE_NAMES = ("gpkg_spatial_ref_sys", "gpkg_contents", "gpkg_geometry_columns")

_WGS84_WKT = (
    'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,'
    'AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,'
    'AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],'
    'AXIS["Latitude",NORTH],AXIS["Longitude",EAST],AUTHORITY["EPSG","4326"]]'
)
SRS_ROWS = (
    ("Undefined cartesian SRS", -1, "NONE", -1, "undefined", "undefined cartesian coordinate"),
    ("Undefined geographic SRS", 0, "NONE", 0, "undefined", "undefined geographic coordinates"),
    ("WGS 84 geodetic", SRS_ID, "EPSG", SRS_ID, _WGS84_WKT, "longitude/latitude on WGS 84"),
)


def to_blobs(geoms) -> list[bytes | None]:
    """GeoPackage binary geometries: a GP header (with an xy envelope) and ISO WKB."""
    geoms = np.asarray(geoms, dtype=object)
    out: list[bytes | None] = [None] * len(geoms)
    present = np.flatnonzero(~shapely.is_missing(geoms))
    if not len(present):
        return out
    given = geoms[present]
    wkb = shapely.to_wkb(given, byte_order=1, flavor="iso", output_dimension=3)
    bounds = shapely.bounds(given)
    empty = shapely.is_empty(given)
    point = shapely.get_type_id(given) == shapely.GeometryType.POINT
    finite = np.isfinite(bounds).all(axis=1)
    for i, blob, box, is_empty, is_point, is_finite in zip(
        present, wkb, bounds, empty, point, finite, strict=True
    ):
        if is_empty:  # flags: little-endian, no envelope, empty
            header = b"GP" + struct.pack("<BBi", 0, 0b10001, SRS_ID)
        elif is_point or not is_finite:  # flags: little-endian, no envelope
            header = b"GP" + struct.pack("<BBi", 0, 0b00001, SRS_ID)
        else:  # flags: little-endian, envelope minx, maxx, miny, maxy
            header = b"GP" + struct.pack("<BBi4d", 0, 0b00011, SRS_ID, *box[[0, 2, 1, 3]])
        out[i] = header + blob
    return out


def wkb_part(blob: bytes | None) -> bytes | None:
    """The WKB after a GeoPackage geometry's header (None for None)."""
    if blob is None:
        return None
    size = 8 + ENVELOPE_BYTES.get((blob[3] >> 1) & 0b111, 0) if len(blob) >= 8 else 0
    return bytes(blob[size:])


def decode_geometries(blobs: list, expected: str | None) -> tuple[np.ndarray, dict[int, str]]:
    """Geometries from GeoPackage binary, each checked: (geometries, {index: problem}).

    The header (magic, version, flags, SRS), the envelope against the geometry, the WKB,
    and the geometry type where ``expected`` names one. None stays None. Vectorised:
    a few Python operations per geometry, the rest in numpy and GEOS.
    """
    n = len(blobs)
    problems: dict[int, str] = {}
    geoms = np.full(n, None, dtype=object)
    given = np.array([b is not None for b in blobs], dtype=bool)
    at = np.flatnonzero(given)
    if not len(at):
        return geoms, problems
    present = [blobs[i] for i in at]
    lengths = np.fromiter(map(len, present), dtype=np.int64, count=len(present))
    heads = np.frombuffer(b"".join(b[:8].ljust(8, b"\0") for b in present), dtype=np.uint8).reshape(
        -1, 8
    )
    flags = heads[:, 3]
    little = (flags & 1).astype(bool)
    size = 8 + _ENVELOPE_SIZES[(flags >> 1) & 0b111]
    srs = np.where(
        little,
        heads[:, 4:8].copy().view("<i4")[:, 0],
        heads[:, 4:8].copy().view(">i4")[:, 0],
    )
    bad = np.full(len(at), "", dtype=object)
    ok = (heads[:, 0] == ord("G")) & (heads[:, 1] == ord("P")) & (heads[:, 2] == 0)
    ok &= lengths >= 8
    bad[~ok] = "its geometry has no GeoPackage header"
    flagged = ok & (((flags & 0b1110_0000) != 0) | (size < 8))
    bad[flagged] = "its geometry's header is damaged (flags)"
    ok &= ~flagged
    short = ok & (lengths < size + 5)
    bad[short] = "its geometry is cut short"
    ok &= ~short
    elsewhere = ok & (srs != SRS_ID)
    for k in np.flatnonzero(elsewhere):
        bad[k] = f"its geometry is in SRS {int(srs[k])}, not EPSG:{SRS_ID}"
    ok &= ~elsewhere
    wkb = np.full(len(at), None, dtype=object)
    wkb[ok] = [present[k][size[k] :] for k in np.flatnonzero(ok)]
    # GEOS reads WKB recursively: what nests too deep would crash it, so it never sees it.
    deep = ok & _screen.wkb_too_deep(wkb)
    bad[deep] = f"its geometry nests more than {_screen.MAX_NESTING} levels deep"
    ok &= ~deep
    wkb[deep] = None
    decoded = shapely.from_wkb(wkb, on_invalid="ignore")
    broken = ok & shapely.is_missing(decoded)
    bad[broken] = "its geometry cannot be decoded (damaged WKB)"
    ok &= ~broken
    if expected is not None:
        wrong = ok & (shapely.get_type_id(decoded) != _TYPE_IDS[expected])
        for k in np.flatnonzero(wrong):
            name = shapely.GeometryType(int(shapely.get_type_id(decoded[k]))).name
            bad[k] = f"its geometry is a {name}, not a {expected}"
        ok &= ~wrong
    empty_flag = (flags & 0b1_0000).astype(bool)
    disagree = ok & (shapely.is_empty(decoded) != empty_flag)
    bad[disagree] = "its geometry's header and the geometry disagree (empty or not)"
    ok &= ~disagree
    boxed = ok & (size > 8)
    if boxed.any():
        sel = np.flatnonzero(boxed)
        raw = b"".join(present[k][8:40] for k in sel)
        stored = np.frombuffer(raw, dtype="<f8").reshape(-1, 4).copy()
        big = ~little[sel]
        if big.any():  # GeoPackage allows big-endian headers (minemap writes little-endian)
            stored[big] = np.frombuffer(raw, dtype=">f8").reshape(-1, 4)[big]
        box = shapely.bounds(decoded[sel])[:, [0, 2, 1, 3]]
        same = (box == stored) | (np.isnan(box) & np.isnan(stored))
        bad[sel[~same.all(axis=1)]] = "its geometry does not match the envelope in its header"
    geoms[at] = decoded
    for k in np.flatnonzero(bad != ""):
        problems[int(at[k])] = bad[k]
    return geoms, problems
