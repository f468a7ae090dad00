"""The tables of a GeoPackage workspace: minemap's own, the GeoPackage metadata, the views
of the current records, and the steps that bring an older layout up to date."""

from __future__ import annotations

import sqlite3

import geopandas as gpd
import numpy as np
import shapely

from minemap import io as mio
from minemap import schema as s
from minemap.workspace import gpkg, integrity
from minemap.workspace.integrity import IMPORTS_FILE_INDEX, table_columns
from minemap.workspace.model import (
    BOOKKEEPING,
    FID,
    GEOM,
    GEOMETRY_TYPES,
    IMPORTS_TABLE,
    META_TABLE,
    REJECTS_TABLE,
    ROW_CHECKSUM,
    SRS_ID,
    canonical_columns,
    history_table,
    q,
)

#: Where every feature of an import was rejected, the file was not imported.
_WHOLLY_REJECTED = f"({s.KEPT} = 0 AND {s.REJECTED} > 0)"
#: Nor where a manager rejected the import (schema version 3).
_COUNTED = f"NOT {_WHOLLY_REJECTED} AND coalesce({s.IMPORT_STATUS}, 'accepted') != 'rejected'"


def imports_index_sql(review: bool = True) -> str:
    """The log's unique index: one counted import per file, kind and reading options."""
    where = _COUNTED if review else f"NOT {_WHOLLY_REJECTED}"
    return (
        f"CREATE UNIQUE INDEX {IMPORTS_FILE_INDEX} ON {IMPORTS_TABLE} "
        f"({s.SHA256}, {s.KIND}, {s.READ_OPTIONS}) WHERE {where}"
    )


def imports_table_sql(name: str, *, review: bool = True) -> str:
    """The log (with the review columns from schema version 3 on)."""
    reviews = "".join(f"{c} TEXT, " for c in s.REVIEW_COLUMNS) if review else ""
    return f"""CREATE TABLE {q(name)} (
            {s.IMPORT_ID} INTEGER PRIMARY KEY AUTOINCREMENT,
            {s.IMPORTED_AT} TEXT NOT NULL,
            {s.KIND} TEXT NOT NULL,
            {s.FILE} TEXT NOT NULL,
            {s.SHA256} TEXT NOT NULL,
            {s.SOURCE} TEXT,
            {q(s.READ)} INTEGER NOT NULL,
            {s.KEPT} INTEGER NOT NULL,
            {s.REJECTED} INTEGER NOT NULL,
            {s.NEW} INTEGER NOT NULL,
            {s.SUPERSEDED} INTEGER NOT NULL,
            {s.UNCHANGED} INTEGER NOT NULL,
            {s.WARNINGS} INTEGER NOT NULL,
            {s.READ_OPTIONS} TEXT NOT NULL,
            {s.MINEMAP_VERSION} TEXT NOT NULL,
            {reviews}{ROW_CHECKSUM} TEXT)"""


def create_schema(con: sqlite3.Connection, version: int) -> None:
    """Every table of a new workspace, in one transaction, sealed with its checksums."""
    from minemap import __version__
    from minemap.workspace import model

    con.execute(f"PRAGMA application_id = {gpkg.APPLICATION_ID}")
    con.execute(f"PRAGMA user_version = {gpkg.GPKG_VERSION}")
    con.execute("PRAGMA journal_mode = WAL")
    con.execute("BEGIN")
    for statement in gpkg.GPKG_TABLES:
        con.execute(statement)
    con.executemany("INSERT INTO gpkg_spatial_ref_sys VALUES (?, ?, ?, ?, ?, ?)", gpkg.SRS_ROWS)
    con.execute(f"CREATE TABLE {META_TABLE} (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    con.executemany(
        f"INSERT INTO {META_TABLE} (key, value) VALUES (?, ?)",
        [
            ("schema_version", str(version)),
            ("created_at", model.stamp(model.utcnow())),
            ("created_by", f"minemap {__version__}"),
        ],
    )
    con.execute(imports_table_sql(IMPORTS_TABLE))
    con.execute(imports_index_sql())
    register(con, IMPORTS_TABLE, "attributes", "minemap: every import (the log)")
    for kind in s.LAYER_KINDS:
        table = history_table(kind)
        id_col = s.ID_COLUMN[kind]
        columns = ", ".join(
            f"{q(c)} {t}" + (" NOT NULL" if c == id_col else "")
            for c, t in canonical_columns(kind).items()
        )
        con.execute(
            f"""CREATE TABLE {q(table)} (
                {FID} INTEGER PRIMARY KEY AUTOINCREMENT,
                {GEOM} {GEOMETRY_TYPES[kind]},
                {columns},
                {s.IMPORT_ID} INTEGER NOT NULL REFERENCES {IMPORTS_TABLE}({s.IMPORT_ID}),
                {s.SUPERSEDED_BY} INTEGER REFERENCES {IMPORTS_TABLE}({s.IMPORT_ID}),
                {s.IMPORT_SOURCE} TEXT NOT NULL DEFAULT '',
                {ROW_CHECKSUM} TEXT)"""
        )
        con.execute(
            f"CREATE INDEX {q(table + '_key')} ON {q(table)} "
            f"({q(id_col)}, {s.IMPORT_SOURCE}, {FID})"
        )
        con.execute(f"CREATE INDEX {q(table + '_current')} ON {q(table)} ({s.SUPERSEDED_BY})")
        create_view(con, kind)
        register(con, table, "features", f"minemap: every version of every {kind} record")
        register(con, kind, "features", f"minemap: the current {kind}")
        for name in (table, kind):
            con.execute(
                "INSERT INTO gpkg_geometry_columns VALUES (?, ?, ?, ?, 0, 0)",
                (name, GEOM, GEOMETRY_TYPES[kind], SRS_ID),
            )
    con.execute(
        f"""CREATE TABLE {REJECTS_TABLE} (
            {FID} INTEGER PRIMARY KEY AUTOINCREMENT,
            {GEOM} GEOMETRY,
            {s.IMPORT_ID} INTEGER NOT NULL REFERENCES {IMPORTS_TABLE}({s.IMPORT_ID}),
            {s.LAYER} TEXT NOT NULL,
            {mio.SOURCE_ROW} INTEGER,
            {s.FEATURE_ID} TEXT,
            {mio.PROBLEM} TEXT NOT NULL,
            {s.ATTRIBUTES} TEXT NOT NULL,
            {ROW_CHECKSUM} TEXT)"""
    )
    register(con, REJECTS_TABLE, "features", "minemap: rejected features and why")
    con.execute(
        "INSERT INTO gpkg_geometry_columns VALUES (?, ?, 'GEOMETRY', ?, 2, 0)",
        (REJECTS_TABLE, GEOM, SRS_ID),
    )
    integrity.seal(con)
    con.execute("COMMIT")


def register(con: sqlite3.Connection, table: str, data_type: str, description: str) -> None:
    con.execute(
        "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, srs_id) "
        "VALUES (?, ?, ?, ?, ?)",
        (table, data_type, table, description, SRS_ID if data_type == "features" else None),
    )


def create_view(con: sqlite3.Connection, kind: str) -> None:
    """(Re)create the view of the current records: every data column, no bookkeeping.

    A version is current when no later version supersedes it and its import counts
    (a workspace copied from PostgreSQL may hold imports pending or rejected by review).
    """
    table = history_table(kind)
    data = [q(c) for c in data_columns(con, table)]
    reviewed = s.IMPORT_STATUS in table_columns(con, IMPORTS_TABLE)
    counted = (
        f" AND {s.IMPORT_ID} IN (SELECT {s.IMPORT_ID} FROM {IMPORTS_TABLE} "
        f"WHERE coalesce({s.IMPORT_STATUS}, 'accepted') = 'accepted')"
        if reviewed
        else ""
    )
    con.execute(f"DROP VIEW IF EXISTS {q(kind)}")
    con.execute(
        f"CREATE VIEW {q(kind)} AS SELECT {FID}, {GEOM}, {', '.join(data)} "
        f"FROM {q(table)} WHERE {s.SUPERSEDED_BY} IS NULL{counted}"
    )


def data_columns(con: sqlite3.Connection, table: str) -> dict[str, str]:
    """The layer's own columns of a history table (no fid, geometry, bookkeeping or checksum)."""
    return {
        c: t
        for c, t in table_columns(con, table).items()
        if c not in (FID, GEOM, ROW_CHECKSUM) and c not in BOOKKEEPING
    }


def touch_contents(con: sqlite3.Connection, kind: str, stamp: str, kept, rejected) -> None:
    """Update gpkg_contents: last change, and the extent of the layers that grew."""
    change = stamp[:23] + "Z"  # GeoPackage: to the millisecond
    extents = {history_table(kind): kept, kind: kept, REJECTS_TABLE: rejected}
    for table, frame in extents.items():
        bounds = _finite_bounds(frame)
        if bounds is None:
            continue
        x0, y0, x1, y1 = bounds
        con.execute(
            "UPDATE gpkg_contents SET last_change = :change, "
            "min_x = min(coalesce(min_x, :x0), :x0), min_y = min(coalesce(min_y, :y0), :y0), "
            "max_x = max(coalesce(max_x, :x1), :x1), max_y = max(coalesce(max_y, :y1), :y1) "
            "WHERE table_name = :table",
            {"change": change, "table": table, "x0": x0, "y0": y0, "x1": x1, "y1": y1},
        )
    con.execute(
        "UPDATE gpkg_contents SET last_change = ? WHERE table_name = ?", (change, IMPORTS_TABLE)
    )


def _finite_bounds(frame) -> tuple[float, float, float, float] | None:
    if not isinstance(frame, gpd.GeoDataFrame) or not len(frame):
        return None
    bounds = shapely.bounds(frame.geometry.to_numpy())
    bounds = bounds[np.isfinite(bounds).all(axis=1)]
    if not len(bounds):
        return None
    return (
        float(bounds[:, 0].min()),
        float(bounds[:, 1].min()),
        float(bounds[:, 2].max()),
        float(bounds[:, 3].max()),
    )


# --- migrations -----------------------------------------------------------------------


def add_checksums(con: sqlite3.Connection) -> None:
    """Version 1 to 2: a checksum on every row, and a log where a wholly rejected import
    does not hold its file (the log's unique constraint becomes a partial index)."""
    fresh = f"{IMPORTS_TABLE}_2"
    con.execute(imports_table_sql(fresh, review=False))
    columns = ", ".join(q(c) for c in table_columns(con, IMPORTS_TABLE))
    con.execute(f"INSERT INTO {fresh} ({columns}) SELECT {columns} FROM {IMPORTS_TABLE}")
    con.execute(f"DROP TABLE {IMPORTS_TABLE}")
    con.execute(f"ALTER TABLE {fresh} RENAME TO {IMPORTS_TABLE}")
    con.execute(imports_index_sql(review=False))
    for table in (REJECTS_TABLE, *(history_table(k) for k in s.LAYER_KINDS)):
        con.execute(f"ALTER TABLE {q(table)} ADD COLUMN {ROW_CHECKSUM} TEXT")


def add_review(con: sqlite3.Connection) -> None:
    """Version 2 to 3: the log's review columns (empty: every import so far is accepted;
    trailing nulls leave the rows' checksums as they were), an import a manager rejected
    no longer holds its file, and the views count accepted imports only."""
    for column in s.REVIEW_COLUMNS:
        con.execute(f"ALTER TABLE {IMPORTS_TABLE} ADD COLUMN {column} TEXT")
    con.execute(f"DROP INDEX {IMPORTS_FILE_INDEX}")
    con.execute(imports_index_sql())
    for kind in s.LAYER_KINDS:
        create_view(con, kind)
