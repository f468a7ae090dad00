"""What the readers look at before a parser does: sizes, archives, nesting, NUL characters.

GDAL, GEOS and pandas trust what a file says about itself. A hostile file can
say a lot: a 0.5 MB ZIP whose ``.cpg`` expands to 512 MiB, a geometry
collection nested 50,000 deep (GEOS's recursive readers run out of stack and
the process dies), a NUL character that GDAL silently cuts an id at. The
functions here look at the raw bytes first, cheaply (sizes from the file
system or the archive's directory; vectorised scans over whole columns), so
that :mod:`minemap.io` can refuse the file, or reject just the feature, with a
message that says why.
"""

from __future__ import annotations

import json
import re
import sqlite3
import struct
import zipfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "EXPECTED_CONTENT",
    "MAX_ARCHIVE_MEMBERS",
    "MAX_COMPRESSION_RATIO",
    "MAX_NESTING",
    "MAX_UNCOMPRESSED",
    "SIDECAR_LIMITS",
    "archive_problem",
    "content_kind",
    "dbf_nul_cells",
    "describe_content",
    "geojson_nul_cells",
    "gpkg_nul_cells",
    "nul_cells",
    "sidecar_problem",
    "wkb_too_deep",
    "wkt_too_deep",
]

#: Largest size of the files that are small by nature (a code page name, a CRS as WKT).
SIDECAR_LIMITS = {".cpg": 1024, ".prj": 16 * 1024}
#: Deepest nesting of geometries: a collection in a collection... (GDAL's own readers
#: refuse more than 32 levels too). A MultiPolygon in a GeometryCollection is 2.
MAX_NESTING = 32
#: Most members an archive may list (a zipped Shapefile has about 6, a KMZ a few more).
MAX_ARCHIVE_MEMBERS = 10_000
#: Most bytes the members of an archive may expand to, all together.
MAX_UNCOMPRESSED = 8 * 1024**3
#: Deflate cannot do much better than about 1,030 to 1 on real data; beyond that an archive
#: (or a member of more than :data:`_RATIO_FLOOR` bytes) is a bomb.
MAX_COMPRESSION_RATIO = 1_000
_RATIO_FLOOR = 16 * 1024**2

# Geometry type codes (ISO WKB, with the EWKB flags for Z, M and SRID) whose members are
# geometries themselves: Multi*, GeometryCollection, CompoundCurve, CurvePolygon,
# MultiCurve, MultiSurface, PolyhedralSurface, TIN.
_NESTING_KINDS = (4, 5, 6, 7, 9, 10, 11, 12, 15, 16)
_EWKB_Z, _EWKB_M, _EWKB_SRID = 0x80000000, 0x40000000, 0x20000000


# --- sizes and archives -------------------------------------------------------------


def sidecar_problem(name: str, size: int) -> str | None:
    """Why a ``.cpg``/``.prj`` of ``size`` bytes is refused, or None."""
    limit = SIDECAR_LIMITS.get(Path(name).suffix.lower())
    if limit is None or size <= limit:
        return None
    return (
        f"its {Path(name).suffix.lower()} is {size:,} bytes; such a file holds a few words "
        f"(at most {limit:,} bytes): it is not what it says"
    )


def archive_problem(archive: zipfile.ZipFile, size: int) -> str | None:
    """Why an archive is refused, from its directory alone (nothing is decompressed), or None.

    ``size`` is the archive's size in bytes. Members' declared sizes and
    compression ratios are checked: a ZIP bomb says what it will expand to.
    """
    members = archive.infolist()
    if len(members) > MAX_ARCHIVE_MEMBERS:
        return f"the ZIP lists {len(members):,} members (at most {MAX_ARCHIVE_MEMBERS:,})"
    total = 0
    for member in members:
        problem = sidecar_problem(member.filename, member.file_size)
        if problem is not None:
            return f"{_member_name(member.filename)}: {problem}"
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > _RATIO_FLOOR and ratio > MAX_COMPRESSION_RATIO:
            return (
                f"{_member_name(member.filename)} would expand {ratio:,.0f} times "
                f"(to {member.file_size:,} bytes): a ZIP bomb, not data"
            )
        total += member.file_size
    if total > MAX_UNCOMPRESSED:
        return f"the ZIP would expand to {total:,} bytes (at most {MAX_UNCOMPRESSED:,})"
    if total > _RATIO_FLOOR and total > MAX_COMPRESSION_RATIO * max(size, 1):
        return f"the ZIP would expand {total / max(size, 1):,.0f} times: a ZIP bomb, not data"
    return None


def _member_name(name: str) -> str:
    from minemap._text import escape

    return escape(name)


# --- what a file holds ----------------------------------------------------------------

#: What the first bytes of each GDAL format minemap reads look like (see :func:`content_kind`).
EXPECTED_CONTENT = {
    ".geojson": ("JSON",),
    ".json": ("JSON",),
    ".gpkg": ("SQLite",),
    ".fgb": ("FlatGeobuf",),
    ".shp": ("Shapefile",),
    ".kml": ("XML", "GML"),  # KML may declare GML's namespace too
    ".kmz": ("ZIP",),
}
_DESCRIPTIONS = {
    "JSON": "JSON",
    "SQLite": "an SQLite database",
    "FlatGeobuf": "FlatGeobuf",
    "Shapefile": "a Shapefile's .shp",
    "XML": "XML",
    "ZIP": "a ZIP archive",
    "VRT": "an OGR VRT (a file that points GDAL at other files)",
    "GDALG": "a GDALG pipeline (a file that makes GDAL run commands)",
    "GML": "GML",
    "text": "plain text",
    "binary": "binary data",
}


def content_kind(head: bytes) -> str:
    """What the first bytes of a file say it is: a key of ``_DESCRIPTIONS``.

    Only the formats minemap reads are told apart, and the crafted ones it refuses
    (an OGR VRT, a GDALG pipeline, GML): enough to check that a file's content is
    what its extension says before GDAL opens it.
    """
    text = head.lstrip(b"\xef\xbb\xbf").lstrip()
    if head.startswith(b"SQLite format 3\x00"):
        return "SQLite"
    if head.startswith(b"fgb\x03"):
        return "FlatGeobuf"
    if head.startswith(b"\x00\x00\x27\x0a"):
        return "Shapefile"
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "ZIP"
    if text.startswith((b"{", b"[")):
        return "GDALG" if b"gdal_streamed_alg" in head else "JSON"
    if text.startswith(b"<"):
        if b"<OGRVRTDataSource" in head:
            return "VRT"
        return "GML" if b"opengis.net/gml" in head or b"<gml:" in head else "XML"
    return "binary" if b"\x00" in head else "text"


def describe_content(kind: str) -> str:
    """A content kind (:func:`content_kind`) in words, for a message."""
    return _DESCRIPTIONS.get(kind, kind)


# --- nesting ------------------------------------------------------------------------


def wkb_too_deep(values, limit: int = MAX_NESTING) -> np.ndarray:
    """Which WKB blobs nest geometries more than ``limit`` levels deep.

    ``values`` is an array of ``bytes`` (or None), or a pyarrow binary array.
    Points, lines and polygons cannot nest and are passed at once. The members
    of every MultiPoint, MultiLineString and MultiPolygon are followed header by
    header, all blobs at once (vectorised, skipping coordinates by their counts):
    a Multi* whose members are points, lines and polygons is two levels deep.
    What is left (geometry collections, curves, a Multi* holding a collection,
    anything that cannot be followed so) is walked blob by blob, iteratively.
    GEOS never sees a blob this returns True for.
    """
    array = _binary(values)
    result = np.zeros(len(array), dtype=bool)
    if not len(array):
        return result
    offsets, data = _buffers(array)
    starts, ends = offsets[:-1], offsets[1:]
    kinds = _top_kinds(data, starts, ends)
    multi = np.isin(kinds, _MULTI_KINDS)
    suspects = np.isin(kinds, _NESTING_KINDS) & ~multi
    if multi.any():
        rows = np.flatnonzero(multi)
        suspects[rows[_multi_suspects(data, starts[rows], ends[rows])]] = True
    for row in np.flatnonzero(suspects):
        blob = data[starts[row] : ends[row]].tobytes()
        result[row] = _wkb_depth(blob, limit) > limit
    return result


_MULTI_KINDS = (4, 5, 6)  # MultiPoint, MultiLineString, MultiPolygon
#: Members or rings beyond which a Multi* is left to the walk one blob at a time.
_FOLLOWED = 1024
#: Multi* blobs still being followed below which the rest are walked one at a time.
_FEW = 8


def _u32(data: np.ndarray, at: np.ndarray, little: np.ndarray) -> np.ndarray:
    """Unsigned 32-bit integers at byte positions ``at`` (each in its own byte order)."""
    raw = np.ascontiguousarray(data[at[:, None] + _FOUR])
    values = raw.view("<u4").ravel().astype(np.int64)
    big = ~little
    if big.any():
        values[big] = raw[big].view(">u4").ravel()
    return values


_FOUR = np.arange(4)


def _header(data: np.ndarray, at: np.ndarray):
    """Geometry headers at ``at``: (kind or -1, little-endian?, point size, body offset)."""
    order = data[at]
    little = order == 1
    code = _u32(data, at + 1, little)
    base = code & 0x0FFFFFFF
    iso, kind = base // 1000, base % 1000
    has_z = ((code & _EWKB_Z) != 0) | (iso == 1) | (iso == 3)
    has_m = ((code & _EWKB_M) != 0) | (iso == 2) | (iso == 3)
    point = 8 * (2 + has_z.astype(np.int64) + has_m.astype(np.int64))
    body = at + 5 + 4 * ((code & _EWKB_SRID) != 0)
    return np.where(order <= 1, kind, -1), little, point, body


def _multi_suspects(data: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Which Multi* blobs hold a member that is not a point, line or polygon.

    Those, and those that cannot be followed (truncated, or with more than
    :data:`_FOLLOWED` members or rings), are left to :func:`_wkb_depth`. All blobs
    advance together, one member per step.
    """
    _, little, _, body = _header(data, starts)
    suspect = body + 4 > ends
    left = np.zeros(len(starts), dtype=np.int64)
    readable = np.flatnonzero(~suspect)
    left[readable] = _u32(data, body[readable], little[readable])
    suspect |= left > _FOLLOWED
    cursor = body + 4
    while True:
        rows = np.flatnonzero((left > 0) & ~suspect)
        if len(rows) < _FEW:
            suspect[rows] = True
            return suspect
        cut = cursor[rows] + 9 > ends[rows]  # room for a header and a count
        suspect[rows[cut]] = True
        rows = rows[~cut]
        kind, little, point, body = _header(data, cursor[rows])
        end = ends[rows]
        flat = np.isin(kind, (1, 2, 3)) & (body + 4 <= end)
        suspect[rows[~flat]] = True
        rows, kind, little, point, body, end = (
            x[flat] for x in (rows, kind, little, point, body, end)
        )
        following = body + point  # a point
        lines = kind == 2
        counts = _u32(data, body[lines], little[lines])
        following[lines] = body[lines] + 4 + counts * point[lines]
        polygons = kind == 3
        following[polygons] = _skip_rings(
            data, body[polygons], little[polygons], point[polygons], end[polygons]
        )
        suspect[rows[following > end]] = True
        cursor[rows] = following
        left[rows] -= 1


def _skip_rings(data, body, little, point, end) -> np.ndarray:
    """Where each polygon ends (past ``end`` when it cannot be followed)."""
    rings = _u32(data, body, little)
    at = body + 4
    lost = rings > _FOLLOWED
    for ring in range(int(rings[~lost].max(initial=0))):
        going = (rings > ring) & ~lost
        lost |= going & (at + 4 > end)
        going &= ~lost
        if not going.any():
            break
        at[going] += 4 + _u32(data, at[going], little[going]) * point[going]
    at[lost] = end[lost] + 1
    return at


def _binary(values) -> pa.Array:
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if isinstance(values, pa.Array):
        if pa.types.is_binary(values.type) or pa.types.is_large_binary(values.type):
            return values
        return values.cast(pa.large_binary())
    return pa.array(np.asarray(values, dtype=object), type=pa.large_binary(), from_pandas=True)


def _buffers(array: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """A binary array's offsets (one per row, plus the end) and its bytes, not copied."""
    _, offsets, data = array.buffers()
    width = np.int64 if pa.types.is_large_binary(array.type) else np.int32
    offsets = np.frombuffer(offsets, dtype=width)[array.offset : array.offset + len(array) + 1]
    data = np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, np.uint8)
    return offsets.astype(np.int64), data


def _top_kinds(data: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Each blob's geometry kind (1 Point ... 7 GeometryCollection); 0 if too short."""
    kinds = np.zeros(len(starts), dtype=np.int64)
    full = (ends - starts) >= 5
    kinds[full] = _header(data, starts[full])[0]
    return kinds


def _wkb_depth(blob: bytes, limit: int) -> int:
    """How deep the geometries of one WKB blob nest; stops counting beyond ``limit``.

    Iterative (no recursion, whatever the blob says). A blob this walk cannot
    follow gives the depth reached so far: GEOS refuses such a blob by itself.
    """
    position, deepest = 0, 0
    pending = [1]  # geometries still to read at each level
    size = len(blob)
    while pending:
        if not pending[-1]:
            pending.pop()
            continue
        pending[-1] -= 1
        deepest = max(deepest, len(pending))
        if deepest > limit or position + 5 > size or blob[position] > 1:
            return deepest
        endian = "<" if blob[position] == 1 else ">"
        (code,) = struct.unpack_from(endian + "I", blob, position + 1)
        position += 5 + (4 if code & _EWKB_SRID else 0)
        iso = (code & 0x0FFFFFFF) // 1000
        kind = (code & 0x0FFFFFFF) % 1000
        has_z = bool(code & _EWKB_Z) or iso in (1, 3)
        has_m = bool(code & _EWKB_M) or iso in (2, 3)
        point = 8 * (2 + has_z + has_m)
        try:
            if kind == 1:
                position += point
            elif kind in (2, 8):
                (n,) = struct.unpack_from(endian + "I", blob, position)
                position += 4 + n * point
            elif kind in (3, 17):
                (rings,) = struct.unpack_from(endian + "I", blob, position)
                position += 4
                for _ in range(rings):
                    (n,) = struct.unpack_from(endian + "I", blob, position)
                    position += 4 + n * point
                    if position > size:
                        return deepest
            elif kind in _NESTING_KINDS:
                (n,) = struct.unpack_from(endian + "I", blob, position)
                position += 4
                pending.append(n)
            else:
                return deepest
        except struct.error:
            return deepest
    return deepest


def wkt_too_deep(values, limit: int = MAX_NESTING) -> np.ndarray:
    """Which WKT texts nest geometries more than ``limit`` levels deep.

    Depth is counted as for WKB: a point, line or polygon is one level, each
    collection around it (GEOMETRYCOLLECTION, MULTI...) one more. Texts with
    fewer than ``limit`` parentheses cannot be that deep and are passed at once
    (counted in C by pyarrow); the others are measured token by token.
    """
    text = pa.array(np.asarray(values, dtype=object), type=pa.large_string(), from_pandas=True)
    result = np.zeros(len(text), dtype=bool)
    if not len(text):
        return result
    opened = pc.count_substring(text, "(").to_numpy(zero_copy_only=False)
    for row in np.flatnonzero(np.nan_to_num(opened.astype(float)) >= limit):
        result[row] = _wkt_depth(text[int(row)].as_py(), limit) > limit
    return result


_WKT_TOKEN = re.compile(r"[A-Za-z]+|[()]")
_WKT_COLLECTIONS = frozenset(
    {
        "GEOMETRYCOLLECTION",
        "MULTIPOINT",
        "MULTILINESTRING",
        "MULTIPOLYGON",
        "MULTICURVE",
        "MULTISURFACE",
        "COMPOUNDCURVE",
        "CURVEPOLYGON",
        "POLYHEDRALSURFACE",
        "TIN",
    }
)


def _wkt_depth(text: str, limit: int) -> int:
    """One more than the most collections open at once; stops counting beyond ``limit``."""
    opened: list[bool] = []  # per open parenthesis: did it open a collection?
    collections, deepest, keyword = 0, 1, ""
    for token in _WKT_TOKEN.finditer(text):
        word = token.group()
        if word == "(":
            is_collection = keyword in _WKT_COLLECTIONS
            opened.append(is_collection)
            collections += is_collection
            deepest = max(deepest, collections + 1)
            if deepest > limit:
                return deepest
            keyword = ""
        elif word == ")":
            if opened:
                collections -= opened.pop()
            keyword = ""
        elif word.upper() not in ("Z", "M", "ZM", "EMPTY"):
            keyword = word.upper()
    return deepest


# --- NUL characters -------------------------------------------------------------------


def nul_cells(table: pa.Table) -> dict[int, list[str]]:
    """Rows (by position) whose text columns hold a NUL character, with those columns."""
    cells: dict[int, list[str]] = {}
    for name, column in zip(table.column_names, table.columns, strict=True):
        if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
            continue
        hits = pc.fill_null(pc.match_substring(column, "\x00"), False)
        for row in np.flatnonzero(hits.to_numpy(zero_copy_only=False)):
            cells.setdefault(int(row), []).append(name)
    return cells


def _json_has_nul(raw: bytes) -> bool:
    """Whether JSON text holds the escape for NUL (``\\u0000``).

    Only after an even number of backslashes: an escaped backslash followed by
    "u0000" is text, not NUL.
    """
    found = raw.find(b"\\u0000")
    while found >= 0:
        before = found
        while before > 0 and raw[before - 1] == 0x5C:
            before -= 1
        if (found - before) % 2 == 0:
            return True
        found = raw.find(b"\\u0000", found + 1)
    return False


#: Largest GeoJSON parsed again by Python to say which feature and column hold a NUL.
_JSON_LOCATE_LIMIT = 256 * 1024**2


def geojson_nul_cells(raw: bytes) -> dict[int, list[str]] | str | None:
    """Where a GeoJSON's text values hold a NUL (``\\u0000``), which GDAL would cut at.

    None when there is none (the common case: one regular-expression scan);
    ``{feature position: [property, ...]}`` otherwise; a sentence when the file
    cannot be told apart so cheaply (a property *name* with a NUL, or a file too
    large to parse twice).
    """
    if not _json_has_nul(raw):
        return None
    if len(raw) > _JSON_LOCATE_LIMIT:
        return "holds a NUL character (\\u0000) in its text; text may not contain one"
    try:
        document = json.loads(bytes(raw))
    except ValueError:
        return None  # GDAL's own error says what is wrong with it
    features = document.get("features") if isinstance(document, dict) else None
    if isinstance(document, dict) and document.get("type") == "Feature":
        features = [document]
    cells: dict[int, list[str]] = {}
    for position, feature in enumerate(features if isinstance(features, list) else []):
        properties = feature.get("properties") if isinstance(feature, dict) else None
        if not isinstance(properties, dict):
            continue
        for key, value in properties.items():
            if "\x00" in key:
                return "a property name holds a NUL character (\\u0000); names may not"
            if _holds_nul(value):
                cells.setdefault(position, []).append(key)
    return cells


def _holds_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any("\x00" in k or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_nul(v) for v in value)
    return False


def gpkg_nul_cells(path: Path, table: str) -> dict[int, list[str]]:
    """Rows of a GeoPackage table whose text values hold a NUL (GDAL would cut them there).

    The file is opened read-only and immutable (nothing written beside it); only
    SQLite's own functions run, over the columns declared as text. One query says
    whether any value holds a NUL; only then are the rows found, counted in the
    order GDAL reads them.
    """
    uri = f"{path.resolve().as_uri()}?mode=ro&immutable=1"
    try:
        con = sqlite3.connect(uri, uri=True)
    except sqlite3.Error:
        return {}
    try:
        quoted = _quote(table)
        columns = [
            name
            for _, name, declared, *_ in con.execute(f"PRAGMA table_info({quoted})")
            if not declared or str(declared).upper().startswith(_TEXT_TYPES)
        ]
        if not columns:
            return {}
        tests = [f"instr({_quote(c)}, char(0)) > 0" for c in columns]
        if (
            con.execute(f"SELECT 1 FROM {quoted} WHERE {' OR '.join(tests)} LIMIT 1").fetchone()
            is None
        ):
            return {}
        query = (
            "SELECT * FROM (SELECT row_number() OVER () - 1, "
            + ", ".join(f"{test} AS t{i}" for i, test in enumerate(tests))
            + f" FROM {quoted}) WHERE "
            + " OR ".join(f"t{i}" for i in range(len(tests)))
        )
        cells: dict[int, list[str]] = {}
        for row in con.execute(query):
            cells[int(row[0])] = [c for c, hit in zip(columns, row[1:], strict=True) if hit]
        return cells
    except sqlite3.Error:
        return {}  # GDAL's own reading says what is wrong with the file
    finally:
        con.close()


# Declared SQLite column types GDAL reads as text (and columns declared without a type).
_TEXT_TYPES = ("TEXT", "VARCHAR", "CHAR", "CLOB", "STRING")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def dbf_nul_cells(raw) -> dict[int, list[str]]:
    """Records of a ``.dbf`` whose text fields hold a NUL before more text.

    A NUL after the last character is padding (some writers pad with NUL, not
    spaces) and is harmless; one before other text makes GDAL cut the value.
    ``raw`` is the file's bytes (or a memory map). Deleted records, which GDAL
    skips, are not counted.
    """
    if len(raw) < 32:
        return {}
    count, header, length = struct.unpack_from("<IHH", raw, 4)
    if not length or raw.find(b"\x00", header) < 0:
        return {}
    fields, position, offset = [], 32, 1
    while position + 32 <= header and raw[position] != 0x0D:
        name = bytes(raw[position : position + 11]).split(b"\x00", 1)[0].decode("latin-1")
        kind, width = chr(raw[position + 11]), raw[position + 16]
        if kind == "C":
            fields.append((name, offset, width))
        offset += width
        position += 32
    count = min(count, (len(raw) - header) // length)
    if not fields or count <= 0:
        return {}
    records = np.frombuffer(raw, dtype=np.uint8, count=count * length, offset=header)
    records = records.reshape(count, length)
    kept = records[:, 0] != ord("*")
    position_of = np.cumsum(kept) - 1
    cells: dict[int, list[str]] = {}
    for name, start, width in fields:
        block = records[:, start : start + width]
        if block.shape[1] == 0:
            continue
        nul = block == 0
        text = ~nul & (block != ord(" "))
        first_nul = np.where(nul.any(axis=1), nul.argmax(axis=1), width)
        last_text = np.where(text.any(axis=1), width - 1 - text[:, ::-1].argmax(axis=1), -1)
        for row in np.flatnonzero(kept & (first_nul < last_text)):
            cells.setdefault(int(position_of[row]), []).append(name)
    return cells
