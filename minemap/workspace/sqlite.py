"""The GeoPackage workspace: one SQLite file, its transactions, schema and migrations.

- **One transaction per import.** Everything an import writes happens in one
  SQLite transaction (``BEGIN IMMEDIATE`` ... ``COMMIT``): a process killed at
  any moment leaves the old state or the new one. The file is in WAL mode, so
  readers read while an import is under way; a second writer waits
  :data:`BUSY_TIMEOUT_S` seconds, then gets :class:`~minemap.errors.WorkspaceBusyError`.
- **Schema versions.** ``minemap_meta`` records the workspace's schema version;
  an older workspace is migrated (:data:`MIGRATIONS`) in the same transaction as
  the next write.
- **Damage is found, never read** (:mod:`minemap.workspace.integrity`).

:class:`Session` is what the import rules (:mod:`minemap.workspace.imports`) and
the readers (:mod:`minemap.workspace.readers`) use: the same methods as the
PostgreSQL backend's (:mod:`minemap.workspace.postgis`).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from minemap import io as mio
from minemap import outputs
from minemap import schema as s
from minemap.errors import OutputExistsError, WorkspaceBusyError, WorkspaceError
from minemap.workspace import gpkg, integrity, model, readers
from minemap.workspace import sqlite_schema as schema
from minemap.workspace.integrity import (
    CHECKSUMS_SINCE,
    META_CHECKSUM,
    NotAWorkspaceError,
    damaged,
    meta,
    unreadable,
)
from minemap.workspace.model import (
    FID,
    GEOM,
    GEOMETRY_TYPES,
    IMPORTS_TABLE,
    META_TABLE,
    REJECTS_TABLE,
    ROW_CHECKSUM,
    history_table,
    q,
)

#: The layout of the workspace tables this minemap writes. Version 1 is the first;
#: version 2 adds the checksums and lets a wholly rejected import be added again;
#: version 3 adds the review columns to the log (status, who imported and reviewed).
SCHEMA_VERSION = 3
#: Migration steps by the version they start from: ``MIGRATIONS[n](connection)``
#: brings a workspace from version n to n + 1. They run inside the transaction of
#: the next write (all of them, or none), and the version is recorded with them.
MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {
    1: schema.add_checksums,
    2: schema.add_review,
}
#: Seconds a writer waits for another import to finish before it gives up (busy).
BUSY_TIMEOUT_S = 2.0
#: Seconds a reader waits (readers rarely wait: only while SQLite recovers a WAL).
READ_TIMEOUT_S = 30.0


# --- creating and opening ------------------------------------------------------------


def create_workspace(path: Path, *, overwrite: bool = False) -> Path:
    """Create an empty GeoPackage workspace at ``path``, atomically (see
    :func:`minemap.workspace.create_workspace`)."""
    if path.suffix.lower() != ".gpkg":
        raise WorkspaceError(path, "a workspace is a GeoPackage: give it the .gpkg extension")
    with _replacing(path, overwrite) as replace, mio.atomic_path(path, replace) as tmp:
        try:
            with contextlib.closing(sqlite3.connect(tmp, isolation_level=None)) as con:
                schema.create_schema(con, SCHEMA_VERSION)
        except sqlite3.Error as exc:
            if outputs.disk_problem(exc, path.parent) is not None:
                raise  # said as for every output: "not written: the disk is full ..."
            raise sqlite_problem(path, exc, doing="cannot be created") from None
        finally:
            for suffix in ("-wal", "-shm", "-journal"):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(f"{tmp}{suffix}")
    # A WAL left by the file replaced must not be applied to the new one.
    for suffix in ("-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(f"{path}{suffix}")
    return path


@contextlib.contextmanager
def _replacing(path: Path, overwrite: bool):
    """Whether ``path`` is to be replaced; refuse unless it is absent or an empty workspace.

    An empty workspace is replaced under its write lock, taken here and held
    until the new file is in place: no import can slip in between the check and
    the replacement (an import waiting for the lock then fails on the moved file).
    """
    if path.is_dir():
        raise WorkspaceError(path, "is a folder, not a workspace file")
    if not path.exists():
        yield False
        return
    with _connect(path, write=True) as con:
        try:
            try:
                con.execute("BEGIN IMMEDIATE")
                version = check_workspace(con, path)
            except sqlite3.Error as exc:
                raise sqlite_problem(path, exc) from None
            except UnicodeDecodeError as exc:
                raise unreadable(path, exc) from None
        except NotAWorkspaceError:
            raise WorkspaceError(
                path,
                "exists and is not a minemap workspace; `minemap init` never replaces another "
                "file: give the new workspace another name",
            ) from None
        integrity.integrity_check(con, path, quick=True)
        integrity.verify_base(con, path, version)
        verify = version >= CHECKSUMS_SINCE
        imports = len(integrity.scan(con, path, IMPORTS_TABLE, verify=verify)[1])
        if imports:
            raise WorkspaceError(
                path,
                f"is a workspace that holds {imports} import(s), its whole history: a workspace "
                "that holds imports is never replaced; give the new workspace another name",
            )
        if not overwrite:
            raise OutputExistsError(
                f"{path} exists (an empty workspace: no imports); pass --overwrite "
                "(overwrite=True) to create it again"
            )
        try:
            yield True
        finally:
            with contextlib.suppress(sqlite3.Error):
                con.execute("ROLLBACK")


def schema_version(path: Path) -> int:
    """The schema version of a GeoPackage workspace (raise if it is not one)."""
    with _connect(path, write=False) as con:
        return check_workspace(con, path)


def migrate(path: Path) -> tuple[int, int]:
    """Bring a workspace to :data:`SCHEMA_VERSION` in one transaction; return (before, after)."""
    before = schema_version(path)
    if before < SCHEMA_VERSION:
        with writing(path):
            pass
    return before, max(before, SCHEMA_VERSION)


@contextlib.contextmanager
def _connect(path: Path, *, write: bool):
    """A connection in autocommit mode (transactions are explicit), always closed.

    SQLite's errors become minemap's: busy, a full disk, a damaged file.
    """
    if not path.exists():
        raise WorkspaceError(
            path, f"no such workspace; create it with `minemap init {path}` (create_workspace)"
        )
    if path.is_dir():
        raise WorkspaceError(path, "is a folder, not a workspace file")
    # mode=rw never creates a file. Readers use it too where they may, so that the last
    # connection to close folds the WAL back into the file; read-only media get mode=ro.
    mode = "rw" if write or os.access(path, os.W_OK) else "ro"
    try:
        con = sqlite3.connect(
            f"{path.resolve().as_uri()}?mode={mode}",
            uri=True,
            isolation_level=None,
            timeout=BUSY_TIMEOUT_S if write else READ_TIMEOUT_S,
            factory=_Connection,
        )
    except sqlite3.Error as exc:
        raise WorkspaceError(path, f"cannot be opened ({exc})") from None
    try:
        yield con
    except (sqlite3.IntegrityError, sqlite3.ProgrammingError, sqlite3.InterfaceError):
        raise  # bugs, not the file
    except sqlite3.Error as exc:
        raise sqlite_problem(path, exc) from None
    except UnicodeDecodeError as exc:  # text SQLite holds that is not UTF-8
        raise unreadable(path, exc) from None
    finally:
        con.close()


class _Connection(sqlite3.Connection):
    """A connection to a workspace (one transaction): it remembers the tables whose
    checksums it verified, so that a table read twice is verified once."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.verified: set[str] = set()


def is_busy(exc: sqlite3.Error) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (5, 6)  # SQLITE_BUSY, SQLITE_LOCKED (and their extended codes)
    return "locked" in str(exc) or "busy" in str(exc)


#: SQLite's primary result codes that say something about the file or the disk.
_SQLITE_READONLY, _SQLITE_IOERR, _SQLITE_CORRUPT, _SQLITE_FULL, _SQLITE_NOTADB = 8, 10, 11, 13, 26


def sqlite_problem(path: Path, exc: sqlite3.Error, *, doing: str | None = None) -> WorkspaceError:
    """The minemap error for an SQLite error on the workspace at ``path``."""
    if is_busy(exc):
        return WorkspaceBusyError(path)
    code = (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF
    text = str(exc)
    prefix = "" if doing is None else f"{doing}: "
    nothing = "nothing was changed" if doing is None else "nothing was written"
    io_error = code == _SQLITE_IOERR or "disk I/O error" in text
    if code == _SQLITE_FULL or "disk is full" in text or (io_error and _disk_full(path)):
        return WorkspaceError(
            path,
            f"{prefix}the disk is full; {nothing}: make room (or use another disk) and try again",
        )
    if io_error:
        detail = "" if text == "disk I/O error" else f" ({text})"
        return WorkspaceError(
            path,
            f"{prefix}a disk I/O error{detail}: was the disk removed, or is it failing? "
            f"{nothing.capitalize()}; check the disk and try again",
        )
    if code == _SQLITE_READONLY or "readonly" in text:
        return WorkspaceError(
            path,
            f"{prefix}it cannot be written ({text}): a read-only file or disk, or the file was "
            f"moved or replaced meanwhile; {nothing}",
        )
    if code in (_SQLITE_CORRUPT, _SQLITE_NOTADB) or integrity.undecodable(exc):
        return unreadable(path, exc)
    if type(exc) is sqlite3.DatabaseError:
        return unreadable(path, exc)
    return WorkspaceError(path, f"{text}; {nothing}")


def _disk_full(path: Path) -> bool:
    """Whether the disk of ``path`` has (next to) no room left: SQLite reports a full disk
    as an I/O error where it extends its shared-memory file."""
    return outputs.disk_problem(OSError(), path.resolve().parent) is not None


def check_workspace(con: sqlite3.Connection, path: Path) -> int:
    """Raise unless ``con`` is a minemap workspace; return its schema version.

    A file that looks like a workspace (SQLite's header, the GeoPackage
    application id, minemap's tables) and fails is damaged, never "not a workspace".
    """
    if path.stat().st_size == 0:
        raise damaged(path, "the file is empty (0 bytes): it was cut off, or never written")
    try:
        application_id = con.execute("PRAGMA application_id").fetchone()[0]
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
        raise unreadable(path, exc) from None
    ours = {META_TABLE, *integrity.checked_tables()}
    found = ours & tables
    if not found:
        if application_id == gpkg.APPLICATION_ID and "gpkg_contents" in tables:
            raise NotAWorkspaceError(
                path,
                "is a GeoPackage but not a minemap workspace (no minemap_meta table); create a "
                "workspace with `minemap init NEW.gpkg` and add its layers with `minemap add`",
            )
        if application_id == gpkg.APPLICATION_ID:
            raise damaged(path, "a GeoPackage whose tables cannot be found")
        raise NotAWorkspaceError(
            path,
            "is not a workspace (not a GeoPackage); give the path of a workspace, or create one "
            "with `minemap init NEW.gpkg`",
        )
    if found != ours or "gpkg_contents" not in tables:
        missing = sorted(ours - found) or ["gpkg_contents"]
        raise damaged(path, f"its table(s) {', '.join(missing)} cannot be found")
    if application_id != gpkg.APPLICATION_ID:
        raise damaged(path, f"its GeoPackage application id is {application_id:#x}, not 'GPKG'")
    stored = meta(con)
    version = stored.get("schema_version")
    if META_CHECKSUM in stored:
        integrity.verify_meta(path, stored)
    if version is None or not str(version).isdigit():
        raise damaged(path, "its minemap_meta has no schema_version")
    version = int(version)
    if version >= CHECKSUMS_SINCE and META_CHECKSUM not in stored:
        raise damaged(path, "its minemap_meta has no checksum")
    if version > SCHEMA_VERSION:
        raise WorkspaceError(
            path,
            f"was written by a newer minemap (workspace schema version {version}; this "
            f"minemap knows up to {SCHEMA_VERSION}): upgrade minemap to use it",
        )
    return version


@contextlib.contextmanager
def writing(path: Path, tables: Iterable[str] = ()):
    """One write transaction on a sound workspace brought up to date; rolled back on any error.

    ``tables`` are the tables the transaction may change, besides the log.
    Before anything is written, SQLite's ``integrity_check`` must pass, and every
    checksum: nothing is ever written into a damaged file (a backup of it would
    be worth less), and no damage is ever covered by a new checksum. Before the
    commit, the checksums of these tables, the schema and ``minemap_meta`` are
    made again (the other tables keep theirs) and SQLite's ``quick_check`` runs
    on the state about to be committed.
    """
    tables = (IMPORTS_TABLE, *tables)
    with _connect(path, write=True) as con:
        con.execute("PRAGMA synchronous = FULL")  # durable across power loss, not only crashes
        try:
            con.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if is_busy(exc):
                raise WorkspaceBusyError(path) from None
            raise
        try:
            version = check_workspace(con, path)
            integrity.integrity_check(con, path, quick=False)
            integrity.verify_base(con, path, version)
            if version >= CHECKSUMS_SINCE:
                for table in integrity.checked_tables():
                    integrity.scan(con, path, table)
            _bring_up_to_date(con, path)
            yield con
            integrity.seal(con, tables)
            integrity.integrity_check(con, path, quick=True)
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")


@contextlib.contextmanager
def reading(path: Path):
    """A read transaction on a workspace whose checksums pass: every query sees one state.

    The schema, ``minemap_meta`` and the log are verified here; each table a
    reader reads is verified as it is read (:func:`integrity.scan`).
    """
    if schema_version(path) < SCHEMA_VERSION:
        migrate(path)
    with _connect(path, write=False) as con:
        con.execute("BEGIN")
        try:
            version = check_workspace(con, path)
            integrity.verify_base(con, path, version)
            yield con
        finally:
            with contextlib.suppress(sqlite3.Error):
                con.execute("ROLLBACK")


def _bring_up_to_date(con: sqlite3.Connection, path: Path) -> None:
    """Run the migrations from the workspace's version to :data:`SCHEMA_VERSION`.

    Migrations change rows: every row's checksum is made again afterwards (they were
    all verified before, in :func:`writing`, where the workspace had them).
    """
    version = int(meta(con)["schema_version"])
    for step in range(version, SCHEMA_VERSION):
        migration = MIGRATIONS.get(step)
        if migration is None:
            raise WorkspaceError(
                path,
                f"has schema version {step} and this minemap has no migration from it to "
                f"{step + 1}",
            )
        migration(con)
        con.execute(
            f"UPDATE {META_TABLE} SET value = ? WHERE key = 'schema_version'", (str(step + 1),)
        )
        con.execute(
            f"INSERT OR REPLACE INTO {META_TABLE} (key, value) VALUES (?, ?)",
            (f"migrated_to_{step + 1}", model.stamp(model.utcnow())),
        )
    if version < SCHEMA_VERSION:
        for table in integrity.checked_tables():
            integrity.seal_rows(con, table)
        integrity.seal(con)


# --- the session: what the import rules and the readers use ----------------------------


class Session:
    """One transaction on a GeoPackage workspace (reading, or writing one import)."""

    #: A GeoPackage has one user: every import is accepted at once.
    reviews = False

    def __init__(self, con: sqlite3.Connection, path: Path) -> None:
        self.con = con
        self.path = path
        self.location = path

    # reading

    def log(self) -> pd.DataFrame:
        """The log's rows (every column, canonical values), verified, in order."""
        columns, rows, _ = integrity.scan(self.con, self.path, IMPORTS_TABLE)
        return pd.DataFrame.from_records(rows, columns=columns)

    def versions(self, kind: str) -> readers.Versions:
        """Every version of a layer's records, verified (the whole table, no index)."""
        table = history_table(kind)
        columns, rows, blobs = integrity.scan(self.con, self.path, table)
        at = {c: i for i, c in enumerate(columns)}
        values = list(zip(*rows, strict=True)) if rows else [()] * len(columns)
        geoms = integrity.decode_checked(
            self.path, table, columns, rows, blobs, GEOMETRY_TYPES[kind]
        )
        data = schema.data_columns(self.con, table)
        return readers.Versions(
            kind=kind,
            fid=np.array(values[at[FID]], dtype=np.int64),
            import_id=np.array(values[at[s.IMPORT_ID]], dtype=np.int64),
            source=np.array(values[at[s.IMPORT_SOURCE]], dtype=object),
            data={c: (t, list(values[at[c]])) for c, t in data.items()},
            geoms=geoms,
        )

    def rejects(self) -> tuple[pd.DataFrame, np.ndarray]:
        columns, rows, blobs = integrity.scan(self.con, self.path, REJECTS_TABLE)
        geoms = integrity.decode_checked(self.path, REJECTS_TABLE, columns, rows, blobs, None)
        return pd.DataFrame.from_records(rows, columns=columns), geoms

    # writing

    def imported_by(self) -> str | None:
        return None

    def columns(self, kind: str) -> dict[str, str]:
        return schema.data_columns(self.con, history_table(kind))

    def all_columns(self, kind: str) -> dict[str, str]:
        return integrity.table_columns(self.con, history_table(kind))

    def add_column(self, kind: str, name: str, column_type: str) -> None:
        self.con.execute(f"ALTER TABLE {q(history_table(kind))} ADD COLUMN {q(name)} {column_type}")
        schema.create_view(self.con, kind)

    def next_import_id(self) -> int:
        last = self.con.execute(f"SELECT max({s.IMPORT_ID}) FROM {IMPORTS_TABLE}").fetchone()[0]
        return (last or 0) + 1

    def insert_versions(self, kind, names, geoms, rows, import_id, source, *, fids=None) -> None:
        """Versions: their geometries and rows of canonical values of ``names``; ``fids``
        to keep given ones (a copy)."""
        blobs = gpkg.to_blobs(geoms)
        columns = [GEOM, *names, s.IMPORT_ID, s.IMPORT_SOURCE]
        values = [(g, *row, import_id, source) for g, row in zip(blobs, rows, strict=True)]
        self._insert(history_table(kind), columns, values, fids)

    def _insert(self, table: str, columns: list, values: list, fids) -> None:
        if fids is not None:
            columns = [FID, *columns]
            values = [(int(f), *v) for f, v in zip(fids, values, strict=True)]
        self.con.executemany(
            f"INSERT INTO {q(table)} ({', '.join(q(c) for c in columns)}) "
            f"VALUES ({', '.join('?' * len(columns))})",
            values,
        )

    def mark_superseded(self, kind: str, fids, import_id: int) -> None:
        self.con.executemany(
            f"UPDATE {q(history_table(kind))} SET {s.SUPERSEDED_BY} = ? WHERE {FID} = ?",
            [(import_id, int(f)) for f in fids],
        )

    def insert_rejects(self, geoms, rows, source: str, *, fids=None) -> None:
        """Rejected features: geometries, and rows of (import_id, layer, source_row,
        feature_id, problem, attributes)."""
        columns = [GEOM, s.IMPORT_ID, s.LAYER, mio.SOURCE_ROW, s.FEATURE_ID]
        columns += [mio.PROBLEM, s.ATTRIBUTES]
        values = [(g, *r) for g, r in zip(gpkg.to_blobs(geoms), rows, strict=True)]
        self._insert(REJECTS_TABLE, columns, values, fids)

    def insert_import(self, record: dict) -> None:
        """A row of the log (canonical values; a GeoPackage's imports are accepted)."""
        record = dict(record)
        if record.get(s.IMPORT_STATUS) == model.ACCEPTED and not record.get(s.REVIEWED_BY):
            record[s.IMPORT_STATUS] = None  # (accepted: the column stays empty, as before)
        columns = [c for c in (*s.IMPORT_COLUMNS, *s.REVIEW_COLUMNS) if c in record]
        self.con.execute(
            f"INSERT INTO {IMPORTS_TABLE} ({', '.join(q(c) for c in columns)}) "
            f"VALUES ({', '.join('?' * len(columns))})",
            [record[c] for c in columns],
        )

    def after_import(self, kind: str, import_id: int, stamp: str, kept, rejected) -> None:
        """The GeoPackage's metadata, and the checksums of the rows the import wrote."""
        schema.touch_contents(self.con, kind, stamp, kept, rejected)
        this = f"WHERE {s.IMPORT_ID} = ?"
        integrity.seal_rows(
            self.con,
            history_table(kind),
            f"{this} OR {s.SUPERSEDED_BY} = ?",
            (import_id, import_id),
        )
        integrity.seal_rows(self.con, REJECTS_TABLE, this, (import_id,))
        integrity.seal_rows(self.con, IMPORTS_TABLE, this, (import_id,))

    def after_copy(self) -> None:
        """Every row's checksum, and the GeoPackage's extents (after a whole copy)."""
        for table in integrity.checked_tables():
            integrity.seal_rows(self.con, table)
        stamp = model.stamp(model.utcnow())
        for kind in s.LAYER_KINDS:
            versions = self.versions(kind)
            frame = readers.frame(versions, np.arange(len(versions)))
            schema.touch_contents(self.con, kind, stamp, frame, None)
        rows, geoms = self.rejects()
        if len(rows):
            import geopandas as gpd

            frame = gpd.GeoDataFrame(geometry=gpd.GeoSeries(geoms), crs=s.CANONICAL_CRS)
            schema.touch_contents(self.con, "items", stamp, None, frame)


@contextlib.contextmanager
def write_session(path: Path, kind: str | None):
    """A :class:`Session` writing one import of ``kind`` (all tables for None)."""
    tables = (
        (history_table(kind), REJECTS_TABLE) if kind is not None else integrity.checked_tables()[1:]
    )
    with writing(path, tables) as con:
        yield Session(con, path)


@contextlib.contextmanager
def read_session(path: Path):
    with reading(path) as con:
        yield Session(con, path)


def verify_workspace(path: Path) -> int:
    """Check a whole GeoPackage workspace (see :func:`minemap.workspace.verify_workspace`)."""
    checked = 0
    with reading(path) as con:
        integrity.integrity_check(con, path, quick=False)
        for table in integrity.checked_tables():
            columns, rows, geoms = integrity.scan(con, path, table)
            checked += len(rows)
            if geoms is not None:
                kind = table.removesuffix("_history")
                integrity.decode_checked(
                    path, table, columns, rows, geoms, GEOMETRY_TYPES.get(kind)
                )
    return checked


__all__ = ["BUSY_TIMEOUT_S", "MIGRATIONS", "ROW_CHECKSUM", "SCHEMA_VERSION", "Session"]
