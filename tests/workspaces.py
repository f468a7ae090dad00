"""Helpers for tests that run on both kinds of workspace (a GeoPackage, a PostgreSQL URL)."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

from minemap import workspace as store


def is_pg(location) -> bool:
    return store.is_url(location)


def dump(location) -> dict:
    """Every row of every table and the schema: the whole state of a workspace."""
    if not is_pg(location):
        with contextlib.closing(sqlite3.connect(Path(location))) as con:
            schema = con.execute(
                "SELECT type, name, sql FROM sqlite_master ORDER BY name"
            ).fetchall()
            tables = [name for kind, name, _ in schema if kind == "table"]
            rows = {
                t: con.execute(f'SELECT * FROM "{t}" ORDER BY rowid').fetchall() for t in tables
            }
        return {"schema": schema, **rows}
    import psycopg

    with psycopg.connect(location) as con:
        schema = con.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'minemap' ORDER BY table_name, ordinal_position"
        ).fetchall()
        tables = sorted(
            r[0]
            for r in con.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'minemap'"
            ).fetchall()
        )
        rows = {}
        for table in tables:
            columns = [r[1] for r in schema if r[0] == table]
            select = ", ".join(
                f'ST_AsEWKB("{c}")' if c == "geom" else f'"{c}"::text' for c in columns
            )
            rows[table] = con.execute(
                f'SELECT {select} FROM minemap."{table}" ORDER BY 1'
            ).fetchall()
    return {"schema": schema, **rows}
