"""The PostgreSQL + PostGIS workspace: minemap's schema in an existing database.

- **Many writers at once.** Each import is one transaction that first takes the
  workspace's advisory lock (``pg_advisory_xact_lock``): imports from many
  processes and machines wait their turn and all land, in order, without a
  "busy" error; none is lost and none is counted twice. A transaction cut off (a
  client killed, a server stopped) is not committed: the state before or after.
- **Readers never wait.** A read is one ``REPEATABLE READ`` snapshot: every layer
  from the same state, whatever the writers do meanwhile. Each layer is read with
  one streamed query (binary ``COPY`` of the rows, geometries as WKB decoded by
  shapely), never row by row.
- **Roles and review** are the database's (:mod:`.pgschema`, :mod:`.roles`).
- **Integrity.** PostgreSQL checks its pages itself (data checksums, ``initdb
  --data-checksums``) and logs every change ahead (WAL); the GeoPackage's row
  checksums are not needed here. Every geometry read is checked (type, SRID, WKB).
"""

from __future__ import annotations

import contextlib
import time

import numpy as np
import pandas as pd
import shapely

from minemap import _screen
from minemap import io as mio
from minemap import schema as s
from minemap.errors import OutputExistsError, WorkspaceDamagedError, WorkspaceError
from minemap.workspace import model, pgconnect, pgschema, readers
from minemap.workspace.model import (
    ACCEPTED,
    FID,
    GEOM,
    GEOMETRY_TYPES,
    IMPORTS_TABLE,
    META_TABLE,
    REJECTS_TABLE,
    SRS_ID,
    history_table,
    q,
)
from minemap.workspace.pgschema import SCHEMA, SCHEMA_VERSION, t

#: The advisory lock every import takes (one import at a time per database).
IMPORT_LOCK = 0x6D696E656D6170  # "minemap"
#: Rows sent in one INSERT ... SELECT FROM unnest(...) statement.
BATCH = 20_000
#: How long one try at adding a column waits for readers of its table (then it lets
#: them go on, and tries again): readers are never held up longer.
ALTER_WAIT_MS = 500
_GEOMETRY_IDS = {"MULTIPOLYGON": int(shapely.GeometryType.MULTIPOLYGON), "POINT": 0}


def _version(con, url: str) -> int | None:
    """The workspace's schema version, None where the database holds no workspace."""
    found = con.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (SCHEMA,)).fetchone()
    if found is None:
        return None
    usage = con.execute("SELECT has_schema_privilege(%s, 'USAGE')", (SCHEMA,)).fetchone()[0]
    if not usage:
        user = con.execute("SELECT session_user").fetchone()[0]
        raise pgconnect.WorkspacePermissionError(
            pgconnect.shown(url),
            f"{user} has no role in this workspace: a manager can `minemap grant` one "
            "(viewer, submitter or manager)",
        )
    exists = con.execute("SELECT to_regclass(%s)", (f"{SCHEMA}.{META_TABLE}",)).fetchone()[0]
    if exists is None:
        raise WorkspaceError(
            pgconnect.shown(url),
            f"has a schema {SCHEMA!r} that is not a minemap workspace; minemap does not "
            "touch it: use another database",
        )
    row = con.execute(
        f"SELECT value FROM {pgschema.t(META_TABLE)} WHERE key = 'schema_version'"
    ).fetchone()
    version = int(row[0]) if row and str(row[0]).isdigit() else 0
    if version > SCHEMA_VERSION:
        raise WorkspaceError(
            pgconnect.shown(url),
            f"was written by a newer minemap (workspace schema version {version}; this "
            f"minemap knows up to {SCHEMA_VERSION}): upgrade minemap to use it",
        )
    return version


def _require(con, url: str) -> int:
    version = _version(con, url)
    if version is None:
        raise WorkspaceError(
            pgconnect.shown(url),
            f"holds no minemap workspace; create one with `minemap init {pgconnect.shown(url)}`",
        )
    return version


def create_workspace(url: str, *, overwrite: bool = False) -> str:
    """Create minemap's schema in an existing database (and PostGIS, if the user may)."""
    from minemap import __version__

    database = pgconnect.database(url)
    shown = pgconnect.shown(url)
    with contextlib.closing(pgconnect.connect(url)) as con, pgconnect.errors(url):
        _ensure_postgis(con, url)
        con.execute("SELECT pg_advisory_xact_lock(%s)", (IMPORT_LOCK,))
        version = _version(con, url)
        if version is not None:
            imports = con.execute(f"SELECT count(*) FROM {t(IMPORTS_TABLE)}").fetchone()[0]
            if imports:
                raise WorkspaceError(
                    shown,
                    f"is a workspace that holds {imports} import(s), its whole history: a "
                    "workspace that holds imports is never replaced; use another database",
                )
            if not overwrite:
                raise OutputExistsError(
                    f"{shown} holds a workspace already (empty: no imports); pass --overwrite "
                    "(overwrite=True) to create it again"
                )
            con.execute(f"DROP SCHEMA {SCHEMA} CASCADE")
        pgschema.create(con, database, __version__)
        if _may_create_roles(con):
            pgschema.apply_roles(con, database)
        con.commit()
    return url


def _ensure_postgis(con, url: str) -> None:
    """PostGIS in the database: there, created now, or a clear message saying who must."""
    present = con.execute("SELECT 1 FROM pg_extension WHERE extname = 'postgis'").fetchone()
    if present:
        return
    available = con.execute(
        "SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'"
    ).fetchone()
    shown = pgconnect.shown(url)
    if available is None:
        raise WorkspaceError(
            shown,
            "PostGIS is not installed on this server: its administrator must install it "
            "(on Debian: apt-get install postgresql-15-postgis-3), then run "
            "`minemap init` again",
        )
    psycopg = pgconnect._driver()
    try:
        with con.transaction():
            con.execute("CREATE EXTENSION postgis")
    except psycopg.errors.InsufficientPrivilege:
        user = con.execute("SELECT current_user").fetchone()[0]
        raise WorkspaceError(
            shown,
            f"the postgis extension is not in this database and {user} may not create it: "
            "the database's owner or a superuser must run `CREATE EXTENSION postgis;` in "
            f"database {pgconnect.database(url)}, then run `minemap init` again",
        ) from None


def _may_create_roles(con) -> bool:
    row = con.execute(
        "SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user"
    ).fetchone()
    return bool(row and row[0])


def schema_version(url: str) -> int:
    with contextlib.closing(pgconnect.connect(url)) as con, pgconnect.errors(url):
        return _require(con, url)


def migrate(url: str) -> tuple[int, int]:
    version = schema_version(url)
    return version, version


@contextlib.contextmanager
def write_session(url: str, kind: str | None):
    """One import's transaction, holding the workspace's import lock."""
    with contextlib.closing(pgconnect.connect(url)) as con, pgconnect.errors(url):
        _require(con, url)
        con.execute("SELECT pg_advisory_xact_lock(%s)", (IMPORT_LOCK,))
        try:
            yield Session(con, url)
        except BaseException:
            with contextlib.suppress(Exception):
                con.rollback()
            raise
        con.commit()


@contextlib.contextmanager
def read_session(url: str):
    """One consistent snapshot, read only: it never waits for writers, nor they for it."""
    with contextlib.closing(pgconnect.connect(url)) as con, pgconnect.errors(url):
        con.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        try:
            _require(con, url)
            yield Session(con, url)
        finally:
            with contextlib.suppress(Exception):
                con.rollback()


class Session:
    """One transaction on a PostgreSQL workspace (see :class:`minemap.workspace.sqlite.Session`)."""

    #: Submitters' imports wait for a manager's review.
    reviews = True

    def __init__(self, con, url: str) -> None:
        self.con = con
        self.url = url
        self.location = pgconnect.shown(url)
        self._columns: dict[str, dict[str, str]] = {}

    # reading

    def log(self) -> pd.DataFrame:
        columns = [*s.IMPORT_COLUMNS, *s.REVIEW_COLUMNS]
        stamped = {s.IMPORTED_AT, s.REVIEWED_AT}
        select = ", ".join(
            pgschema.STAMP_SQL.format(q(c)) if c in stamped else q(c) for c in columns
        )
        rows = self.con.execute(
            f"SELECT {select} FROM {t(IMPORTS_TABLE)} ORDER BY {s.IMPORT_ID}"
        ).fetchall()
        return pd.DataFrame.from_records(rows, columns=columns)

    def all_columns(self, kind: str) -> dict[str, str]:
        """Every column of a history table -> minemap's type (None for fid, geometry...)."""
        rows = self.con.execute(
            "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
            "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
            (f"{SCHEMA}.{q(history_table(kind))}",),
        ).fetchall()
        return {name: pgschema.FROM_PG.get(kind_type) for name, kind_type in rows}

    def columns(self, kind: str) -> dict[str, str]:
        skip = {FID, GEOM, s.IMPORT_ID, s.IMPORT_SOURCE}
        return {c: x for c, x in self.all_columns(kind).items() if c not in skip}

    def versions(self, kind: str) -> readers.Versions:
        """Every version of a layer's records, in one streamed query (binary COPY)."""
        data = self.columns(kind)
        select = ", ".join(
            [
                FID,
                s.IMPORT_ID,
                s.IMPORT_SOURCE,
                f"ST_AsBinary({GEOM}, 'NDR')",
                *(pgschema.canonical_sql(c, x) for c, x in data.items()),
            ]
        )
        types = ["int8", "int8", "text", "bytea"]
        types += [
            "int8" if x in ("INTEGER", "BOOLEAN") else "float8" if x == "REAL" else "text"
            for x in data.values()
        ]
        rows = self._copy_out(
            f"SELECT {select} FROM {t(history_table(kind))} ORDER BY {FID}", types
        )
        columns = list(zip(*rows, strict=True)) if rows else [()] * (4 + len(data))
        geoms = self._geometries(history_table(kind), columns[3], columns[0], GEOMETRY_TYPES[kind])
        return readers.Versions(
            kind=kind,
            fid=np.array(columns[0], dtype=np.int64),
            import_id=np.array(columns[1], dtype=np.int64),
            source=np.array(columns[2], dtype=object),
            data={c: (x, list(columns[4 + i])) for i, (c, x) in enumerate(data.items())},
            geoms=geoms,
        )

    def _copy_out(self, query: str, types: list[str]) -> list[tuple]:
        with (
            self.con.cursor() as cursor,
            cursor.copy(f"COPY ({query}) TO STDOUT (FORMAT BINARY)") as copy,
        ):
            copy.set_types(types)
            return list(copy.rows())

    def _geometries(self, table: str, blobs, fids, expected: str | None) -> np.ndarray:
        """Decode WKB with shapely; a geometry that does not decode, or is not of the layer's
        type, is damage (the database would not have taken it from minemap)."""
        wkb = np.array([None if b is None else bytes(b) for b in blobs], dtype=object)
        # GEOS reads WKB recursively: what nests too deep would crash it, so it never sees it.
        deep = _screen.wkb_too_deep(wkb)
        if deep.any():
            at = int(np.flatnonzero(deep)[0])
            raise WorkspaceDamagedError(
                self.location,
                f"is damaged: row {fids[at]} of {table} has a geometry nested more than "
                f"{_screen.MAX_NESTING} levels deep (minemap never stores one); restore the "
                "database from its last backup",
            )
        geoms = shapely.from_wkb(wkb, on_invalid="ignore")
        broken = (wkb != None) & shapely.is_missing(geoms)  # noqa: E711
        if expected is not None:
            broken |= ~shapely.is_missing(geoms) & (
                shapely.get_type_id(geoms) != _GEOMETRY_IDS[expected]
            )
        if broken.any():
            at = int(np.flatnonzero(broken)[0])
            raise WorkspaceDamagedError(
                self.location,
                f"is damaged: row {fids[at]} of {table} has a geometry that is not a "
                f"{expected or 'geometry'}; restore the database from its last backup",
            )
        return geoms

    def rejects(self) -> tuple[pd.DataFrame, np.ndarray]:
        columns = [s.IMPORT_ID, s.LAYER, mio.SOURCE_ROW, s.FEATURE_ID, mio.PROBLEM]
        rows = self.con.execute(
            f"SELECT {FID}, {', '.join(columns)}, {s.ATTRIBUTES}::text, "
            f"{pgschema.REJECT_WKB} FROM {t(REJECTS_TABLE)} ORDER BY {FID}"
        ).fetchall()
        frame = pd.DataFrame.from_records([r[1:-1] for r in rows], columns=[*columns, s.ATTRIBUTES])
        geoms = self._geometries(REJECTS_TABLE, [r[-1] for r in rows], [r[0] for r in rows], None)
        return frame, geoms

    def rejects_sources(self) -> list[str]:
        return [
            r[0]
            for r in self.con.execute(
                f"SELECT {s.IMPORT_SOURCE} FROM {t(REJECTS_TABLE)} ORDER BY {FID}"
            )
        ]

    # who

    def imported_by(self) -> str:
        return self.con.execute("SELECT session_user").fetchone()[0]

    def may_review(self) -> bool:
        """The schema's owner, a superuser, or a member of the managers' role."""
        database = pgconnect.database(self.url)
        row = self.con.execute(
            "SELECT r.rolsuper OR n.nspowner = r.oid OR coalesce(pg_has_role(r.oid, m.oid, "
            "'MEMBER'), false) FROM pg_roles r JOIN pg_namespace n ON n.nspname = %s "
            "LEFT JOIN pg_roles m ON m.rolname = %s WHERE r.rolname = session_user",
            (SCHEMA, pgschema.role_name(database, "manager")),
        ).fetchone()
        return bool(row and row[0])

    def may_add(self, source: str) -> None:
        """Refuse, before any work, a source the user may not add under (the database
        refuses it anyway)."""
        if self.may_review():
            return
        mine = [r[0] for r in self.con.execute(f"SELECT {SCHEMA}.my_sources()")]
        if source not in mine:
            sources = ", ".join(repr(x) for x in sorted(mine)) or "none"
            raise pgconnect.WorkspacePermissionError(
                self.location,
                f"you may not add under source {source!r}: a submitter adds under its own "
                f"sources only (yours: {sources}); a manager can `minemap grant` you more",
            )

    # writing

    def add_column(self, kind: str, name: str, column_type: str) -> None:
        """Add a column (through a function: submitters may not alter tables). It waits
        for readers of the table at most ALTER_WAIT_MS at a time, so that readers queued
        behind it are never held up longer; then it lets them pass and tries again."""
        psycopg = pgconnect._driver()
        self.con.execute(f"SET LOCAL lock_timeout = {ALTER_WAIT_MS}")
        while True:
            try:
                with self.con.transaction():
                    self.con.execute(
                        f"SELECT {SCHEMA}.add_column(%s, %s, %s)",
                        (kind, name, pgschema.PG_TYPES[column_type]),
                    )
                break
            except psycopg.errors.LockNotAvailable:
                time.sleep(0.05)
        self.con.execute("SET LOCAL lock_timeout = 0")

    def next_import_id(self) -> int:
        last = self.con.execute(f"SELECT max({s.IMPORT_ID}) FROM {t(IMPORTS_TABLE)}").fetchone()
        return (last[0] or 0) + 1

    def insert_import(self, record: dict) -> None:
        columns = [c for c in (*s.IMPORT_COLUMNS, *s.REVIEW_COLUMNS) if c in record]
        values = dict(record)
        values[s.IMPORT_STATUS] = values.get(s.IMPORT_STATUS) or ACCEPTED
        self.con.execute(
            f"INSERT INTO {t(IMPORTS_TABLE)} ({', '.join(q(c) for c in columns)}) "
            f"VALUES ({', '.join(['%s'] * len(columns))})",
            [values[c] for c in columns],
        )

    def _insert(self, table, names, kinds, geoms, rows, fids, *, geometry=GEOM) -> None:
        """Rows in batches of one INSERT ... SELECT FROM unnest(...) each (COPY FROM is not
        allowed under row-level security): geometries as WKB (shapely's, read by
        ST_GeomFromWKB), canonical values cast to the columns' types by the server."""
        wkb = model.to_wkb(geoms)
        all_names = [geometry, *names]
        if fids is not None:
            all_names = [FID, *all_names]
        select = [f"ST_GeomFromWKB(u.c0, {SRS_ID})" if geometry == GEOM else "u.c0"]
        casts = ["bytea"]
        for i, kind_type in enumerate(kinds, start=1):
            select.append(f"u.c{i}::{kind_type}")
            casts.append("text")
        if fids is not None:
            select = [f"u.c{len(kinds) + 1}::bigint", *select]
            casts.append("text")
        arrays = ", ".join(f"%s::{c}[]" for c in casts)
        aliases = ", ".join(f"c{i}" for i in range(len(casts)))
        sql = (
            f"INSERT INTO {t(table)} ({', '.join(q(n) for n in all_names)}) "
            f"{'OVERRIDING SYSTEM VALUE ' if fids is not None else ''}"
            f"SELECT {', '.join(select)} FROM unnest({arrays}) AS u({aliases})"
        )
        for start in range(0, len(rows), BATCH):
            stop = min(start + BATCH, len(rows))
            columns = [[None if b is None else bytes(b) for b in wkb[start:stop]]]
            columns += [[_text(r[i]) for r in rows[start:stop]] for i in range(len(kinds))]
            if fids is not None:
                columns.append([str(int(f)) for f in fids[start:stop]])
            self.con.execute(sql, columns)

    def insert_versions(self, kind, names, geoms, rows, import_id, source, *, fids=None) -> None:
        types = self.columns(kind)
        kinds = [pgschema.PG_TYPES[types[n]] for n in names] + ["bigint", "text"]
        rows = [(*r, import_id, source) for r in rows]
        self._insert(
            history_table(kind), [*names, s.IMPORT_ID, s.IMPORT_SOURCE], kinds, geoms, rows, fids
        )
        if fids is not None:
            self._follow_identity(history_table(kind))

    def mark_superseded(self, kind: str, fids, import_id: int) -> None:
        """Nothing to store: which version is current follows from the versions' order."""

    def insert_rejects(self, geoms, rows, source: str, *, fids=None) -> None:
        names = [s.IMPORT_ID, s.LAYER, mio.SOURCE_ROW, s.FEATURE_ID, mio.PROBLEM, s.ATTRIBUTES]
        kinds = ["bigint", "text", "bigint", "text", "text", "json", "text"]
        rows = [(*r, source) for r in rows]
        self._insert(
            REJECTS_TABLE,
            [*names, s.IMPORT_SOURCE],
            kinds,
            geoms,
            rows,
            fids,
            geometry=pgschema.REJECT_WKB,
        )
        if fids is not None:
            self._follow_identity(REJECTS_TABLE)

    def _follow_identity(self, table: str) -> None:
        self.con.execute(
            f"SELECT setval(pg_get_serial_sequence(%s, '{FID}'), "
            f"coalesce((SELECT max({FID}) FROM {t(table)}), 0) + 1, false)",
            (f"{SCHEMA}.{q(table)}",),
        )

    def after_import(self, kind: str, import_id: int, stamp: str, kept, rejected) -> None:
        """Nothing more: the server keeps its own indexes and statistics."""

    def after_copy(self) -> None:
        """Nothing more (see :meth:`after_import`)."""


def _text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, float):
        return repr(value)
    return str(value)


def verify_workspace(url: str) -> int:
    """Read every row and check every geometry (type, SRID, WKB); the log's references."""
    checked = 0
    with read_session(url) as session:
        con = session.con
        log = session.log()
        checked += len(log)
        known = set(log[s.IMPORT_ID].astype(int))
        for kind in s.LAYER_KINDS:
            versions = session.versions(kind)
            checked += len(versions)
            srids = con.execute(
                f"SELECT count(*) FROM {t(history_table(kind))} WHERE ST_SRID({GEOM}) <> %s",
                (SRS_ID,),
            ).fetchone()[0]
            orphans = set(versions.import_id) - known
            if srids or orphans:
                raise WorkspaceDamagedError(
                    session.location,
                    f"is damaged: {history_table(kind)} holds versions with another SRID or "
                    "of imports the log lacks; restore the database from its last backup",
                )
        rows, _ = session.rejects()
        checked += len(rows)
    return checked


def data_checksums(url: str) -> bool:
    """Whether the server checks its pages (``initdb --data-checksums``)."""
    with contextlib.closing(pgconnect.connect(url)) as con, pgconnect.errors(url):
        return con.execute("SHOW data_checksums").fetchone()[0] == "on"
