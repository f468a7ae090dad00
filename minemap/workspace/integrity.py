"""Damage in a GeoPackage workspace: checksums of every row, table, the schema and the
metadata, SQLite's own checks, and what a damaged workspace is told.

SQLite checks its own structure (``PRAGMA integrity_check``), not the values it
stores: a changed byte inside a record is read back as another value, and pages
carry no checksums. So every row minemap writes carries the checksum of its values
(``row_checksum``), ``minemap_meta`` holds the checksum of every table as a whole,
of the schema, and of itself, and a reader verifies them before it uses anything.
A table's checksum (one SHA-256 over all its rows, serialised in one go) is what
readers check: it costs a few percent of a read. The rows' checksums say which
record is damaged once a table's does not match, and are what a salvaged copy can
be sorted by. Writers run SQLite's ``integrity_check`` first, and a ``quick_check``
before they commit.

The values are hashed as SQLite gives them back, serialised as compact UTF-8 JSON
(integers, reals as Python's shortest round-trip repr, text, null; a BLOB other
than the geometry as ``{"blob": hex}``); the geometry blob is hashed as its bytes.
These definitions are part of the file format: change them only with a migration.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sqlite3
import struct
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np

from minemap import schema as s
from minemap.errors import NotAWorkspaceError, WorkspaceDamagedError, WorkspaceError
from minemap.workspace import gpkg
from minemap.workspace.model import (
    FID,
    GEOM,
    IMPORTS_TABLE,
    META_TABLE,
    REJECTS_TABLE,
    ROW_CHECKSUM,
    history_table,
    q,
    shown,
)

#: The unique index of the log: one counted import per file, kind and reading options.
IMPORTS_FILE_INDEX = f"{IMPORTS_TABLE}_file"


def table_columns(con: sqlite3.Connection, table: str) -> dict[str, str]:
    """Column name -> declared type, in the table's order."""
    return {r[1]: r[2].upper() for r in con.execute(f"PRAGMA table_info({q(table)})")}


def meta(con: sqlite3.Connection) -> dict[str, str]:
    return dict(con.execute(f"SELECT key, value FROM {META_TABLE} NOT INDEXED").fetchall())


#: minemap_meta keys: the checksum of the other rows of minemap_meta, and of the schema;
#: each table's is ``checksum:<table>``.
META_CHECKSUM = "checksum"
SCHEMA_CHECKSUM = "checksum:schema"
#: The first schema version whose workspaces carry checksums.
CHECKSUMS_SINCE = 2
#: What a damaged workspace's message says to do (docs/workspace.md tells more).
RECOVERY = (
    "minemap neither reads nor writes a damaged workspace. Restore it from the last good copy "
    "(a backup), or rebuild it from the files it was made of (see 'A damaged workspace' in "
    "docs/workspace.md)"
)


def checked_tables() -> tuple[str, ...]:
    """The tables whose rows carry checksums."""
    return (IMPORTS_TABLE, REJECTS_TABLE, *(history_table(k) for k in s.LAYER_KINDS))


def table_key(table: str) -> str:
    return f"checksum:{table}"


def order_key(table: str) -> str:
    """The integer primary key of one of minemap's tables (rows are kept in its order)."""
    return s.IMPORT_ID if table == IMPORTS_TABLE else FID


def damaged(path: Path, what: str) -> WorkspaceDamagedError:
    return WorkspaceDamagedError(path, f"is damaged: {what}; {RECOVERY}")


def _json(value) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_json_blob).encode(
        "utf-8", "surrogateescape"
    )


def _json_blob(value):
    if isinstance(value, bytes | bytearray | memoryview):
        return {"blob": bytes(value).hex()}
    raise TypeError(f"{type(value).__name__} is not a value SQLite stores")


def row_checksum(values: tuple, geom) -> str:
    """The checksum of one row: ``values`` are its columns but the geometry and the
    checksum, in the table's order. Trailing nulls do not count, so that a column added
    later (null in the rows before it) leaves their checksums as they were."""
    end = len(values)
    while end and values[end - 1] is None:
        end -= 1
    digest = hashlib.sha256(_json([None if geom is None else len(geom), *values[:end]]))
    if geom is not None:
        digest.update(geom)
    return digest.hexdigest()[:32]


def table_checksum(columns: list[str], rows: list[tuple], geoms: list | None) -> str:
    """The checksum of a whole table: its column names, every row (without the geometry)
    in order, then every geometry's length and bytes."""
    digest = hashlib.sha256(_json(columns))
    digest.update(_json(rows))
    if geoms is not None:
        lengths = [-1 if g is None else len(g) for g in geoms]
        digest.update(struct.pack(f"<{len(lengths)}q", *lengths))
        digest.update(b"".join(g for g in geoms if g is not None))
    return digest.hexdigest()


def meta_checksum(meta: Mapping[str, str]) -> str:
    return hashlib.sha256(
        _json(sorted([k, v] for k, v in meta.items() if k != META_CHECKSUM))
    ).hexdigest()


def schema_names() -> set[str]:
    """minemap's own tables, views and indexes (other programs may add their own)."""
    names = {
        META_TABLE,
        IMPORTS_TABLE,
        REJECTS_TABLE,
        IMPORTS_FILE_INDEX,
        "gpkg_spatial_ref_sys",
        "gpkg_contents",
        "gpkg_geometry_columns",
    }
    for kind in s.LAYER_KINDS:
        table = history_table(kind)
        names |= {table, kind, f"{table}_key", f"{table}_current"}
    return names


def schema_checksum(con: sqlite3.Connection) -> str:
    names = schema_names()
    rows = sorted(
        list(r)
        for r in con.execute("SELECT type, name, tbl_name, sql FROM sqlite_master")
        if r[1] in names
    )
    return hashlib.sha256(_json(rows)).hexdigest()


def read_table(con: sqlite3.Connection, table: str) -> tuple[list[str], list[tuple], list | None]:
    """Every row of one of minemap's tables in order, without using any index (an index
    is not covered by the checksums): (columns but the geometry, rows, geometries)."""
    names = list(table_columns(con, table))
    columns = [c for c in names if c != GEOM]
    key = order_key(table)
    rows = con.execute(
        f"SELECT {', '.join(q(c) for c in columns)} FROM {q(table)} NOT INDEXED ORDER BY {key}"
    ).fetchall()
    geoms = None
    if GEOM in names:
        geoms = [
            r[0] for r in con.execute(f"SELECT {GEOM} FROM {q(table)} NOT INDEXED ORDER BY {key}")
        ]
    return columns, rows, geoms


def scan(
    con: sqlite3.Connection, path: Path, table: str, *, verify: bool = True
) -> tuple[list[str], list[tuple], list | None]:
    """:func:`read_table`, verified against the table's checksum (see :func:`locate_damage`)."""
    try:
        columns, rows, geoms = read_table(con, table)
    except (sqlite3.OperationalError, UnicodeDecodeError) as exc:
        if isinstance(exc, sqlite3.OperationalError) and not undecodable(exc):
            raise
        raise locate_damage(con, path, table) from None
    verified = getattr(con, "verified", set())
    if verify and table not in verified:
        if table_checksum(columns, rows, geoms) != meta(con).get(table_key(table)):
            raise locate_damage(con, path, table)
        verified.add(table)
    return columns, rows, geoms


def locate_damage(con: sqlite3.Connection, path: Path, table: str) -> WorkspaceDamagedError:
    """The error for a table that does not match its checksum: the first row that does not
    match its own, or the table as a whole (rows lost, added, or reordered)."""
    names = list(table_columns(con, table))
    values = [c for c in names if c not in (GEOM, ROW_CHECKSUM)]
    stored = ROW_CHECKSUM if ROW_CHECKSUM in names else "NULL"
    geom = GEOM if GEOM in names else "NULL"
    saved = con.text_factory
    con.text_factory = lambda raw: raw.decode("utf-8", "surrogateescape")
    try:
        for row in con.execute(
            f"SELECT {stored}, {geom}, {', '.join(q(c) for c in values)} FROM {q(table)} "
            f"NOT INDEXED ORDER BY {order_key(table)}"
        ):
            if row[0] != row_checksum(row[2:], row[1]):
                record = record_text(table, dict(zip(values, row[2:], strict=True)))
                return damaged(path, f"{record} does not match its checksum")
    except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
        return damaged(path, f"{table} cannot be read ({shown(exc, 80)})")
    finally:
        con.text_factory = saved
    return damaged(
        path, f"the table {table} does not match its checksum (records lost, added or moved)"
    )


def record_text(table: str, record: Mapping) -> str:
    """Which record a row of one of minemap's tables is, in a message."""
    if table == IMPORTS_TABLE:
        return f"import #{shown(record.get(s.IMPORT_ID))} of the log ({IMPORTS_TABLE})"
    where = (
        f"row {shown(record.get(FID))} of {table}, from import #{shown(record.get(s.IMPORT_ID))}"
    )
    if table == REJECTS_TABLE:
        return f"a rejected feature ({where})"
    kind = table.removesuffix("_history")
    return f"{kind} record {shown(record.get(s.ID_COLUMN[kind]))} ({where})"


def verify_meta(path: Path, meta: Mapping[str, str]) -> None:
    if meta.get(META_CHECKSUM) != meta_checksum(meta):
        raise damaged(
            path, f"{META_TABLE} (the schema version and the checksums) does not match its checksum"
        )


def verify_base(con: sqlite3.Connection, path: Path, version: int) -> None:
    """The schema and the log, where the workspace has checksums."""
    if version < CHECKSUMS_SINCE:
        return
    if schema_checksum(con) != meta(con).get(SCHEMA_CHECKSUM):
        raise damaged(path, "its schema (the tables' definitions) does not match its checksum")
    scan(con, path, IMPORTS_TABLE)


def seal_rows(con: sqlite3.Connection, table: str, where: str = "", params=()) -> None:
    """Set the checksum of the rows of ``table`` selected by ``where`` (all by default)."""
    names = list(table_columns(con, table))
    values = [c for c in names if c not in (GEOM, ROW_CHECKSUM)]
    key = order_key(table)
    geom = GEOM if GEOM in names else "NULL"
    rows = con.execute(
        f"SELECT {key}, {geom}, {', '.join(q(c) for c in values)} FROM {q(table)} {where}",
        params,
    ).fetchall()
    con.executemany(
        f"UPDATE {q(table)} SET {ROW_CHECKSUM} = ? WHERE {key} = ?",
        [(row_checksum(r[2:], r[1]), r[0]) for r in rows],
    )


def seal(con: sqlite3.Connection, tables: Iterable[str] | None = None) -> None:
    """Record the checksum of ``tables`` (default: all), of the schema and of minemap_meta
    itself (the rows' checksums are set where the rows are written, :func:`seal_rows`)."""
    tables = checked_tables() if tables is None else tables
    sums = {table_key(t): table_checksum(*read_table(con, t)) for t in tables}
    sums[SCHEMA_CHECKSUM] = schema_checksum(con)
    con.executemany(f"INSERT OR REPLACE INTO {META_TABLE} (key, value) VALUES (?, ?)", sums.items())
    con.execute(
        f"INSERT OR REPLACE INTO {META_TABLE} (key, value) VALUES (?, ?)",
        (META_CHECKSUM, meta_checksum(meta(con))),
    )


def integrity_check(con: sqlite3.Connection, path: Path, *, quick: bool) -> None:
    """SQLite's own check of the file's structure (``quick``: without the indexes' contents)."""
    name = "quick_check" if quick else "integrity_check"
    problems = [r[0] for r in con.execute(f"PRAGMA {name}").fetchall()]
    if problems != ["ok"]:
        more = f" and {len(problems) - 1} more" if len(problems) > 1 else ""
        raise damaged(path, f"SQLite's {name} fails ({shown(problems[0], 80)}{more})")


def looks_like_sqlite(path: Path) -> bool:
    """Whether a file SQLite cannot read was an SQLite file or a GeoPackage (a damaged one),
    from its header: SQLite's magic string (give or take a few damaged bytes), or the
    GeoPackage application id."""
    with contextlib.suppress(OSError), path.open("rb") as handle:
        head = handle.read(100)
        magic = b"SQLite format 3\0"
        alike = sum(a == b for a, b in zip(head[:16], magic, strict=False))
        return alike >= 12 or head[68:72] == b"GPKG"
    return False


def unreadable(path: Path, exc: Exception) -> WorkspaceError:
    """SQLite cannot read the file: damaged if it was one of SQLite's, else not a workspace."""
    if not looks_like_sqlite(path):
        return NotAWorkspaceError(
            path,
            "is not a workspace (not a GeoPackage); give the path of a workspace, or create one "
            "with `minemap init NEW.gpkg`",
        )
    found = quick_check_text(path)
    return damaged(
        path, f"SQLite cannot read it ({shown(exc, 80)}" + (f"; {found})" if found else ")")
    )


def quick_check_text(path: Path) -> str | None:
    """The first problem SQLite's ``quick_check`` finds in the file, if it can run at all."""
    try:
        con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=1)
    except sqlite3.Error:
        return None
    con.text_factory = lambda raw: raw.decode("utf-8", "backslashreplace")
    with contextlib.closing(con):
        try:
            first = con.execute("PRAGMA quick_check").fetchone()
        except (sqlite3.Error, UnicodeDecodeError):  # (SQLite's message may quote damaged text)
            return None
    if first is None or first[0] == "ok":
        return None
    return f"quick_check: {shown(first[0], 80)}"


def decode_checked(
    path: Path, table: str, columns: list[str], rows: list[tuple], blobs: list, expected
) -> np.ndarray:
    """:func:`gpkg.decode_geometries`, raising for the first damaged geometry, naming its record."""
    geoms, problems = gpkg.decode_geometries(blobs, expected)
    if problems:
        first = min(problems)
        record = record_text(table, dict(zip(columns, rows[first], strict=True)))
        raise damaged(path, f"{record}: {problems[first]}")
    return geoms


def undecodable(exc: Exception) -> bool:
    """Text SQLite holds that is not UTF-8 (Python's sqlite3 cannot decode it)."""
    return "Could not decode to UTF-8" in str(exc)
