"""The workspace: one GeoPackage that keeps every submission and release, with history.

Information managers add data every week. A workspace is one GeoPackage file
(SQLite: embedded, no server) that keeps every file added to it:

- **The log.** Each import is a row of ``minemap_imports``: when (UTC), which
  file, its SHA-256, how it was read, how many features were kept and rejected,
  and the ``source`` (who handed it over) when given.
- **History.** Each record (a hazard, a release, an item, a district) keeps
  every version it ever had in ``<kind>_history``. A record is known by its id
  and the source of its import: a later file from the same source with the same
  id supersedes the earlier version, which stays in the history. The views
  ``hazards``, ``releases``, ``items`` and ``districts`` show the current
  records; :func:`read_workspace` also gives the records *as they were known* on
  an earlier day (``known_on``).
- **Nothing lost.** Rejected features are stored in ``minemap_rejects`` with
  their reasons. Adding the same file twice changes nothing.
- **One transaction per import.** Everything an import writes happens in one
  SQLite transaction (``BEGIN IMMEDIATE`` ... ``COMMIT``): a process killed at
  any moment leaves the old state or the new one. The file is in WAL mode, so
  readers read while an import is under way; a second writer waits
  :data:`BUSY_TIMEOUT_S` seconds, then gets :class:`~minemap.errors.WorkspaceBusyError`.
- **Schema versions.** ``minemap_meta`` records the workspace's schema version;
  an older workspace is migrated (:data:`MIGRATIONS`) in the same transaction as
  the next write.
- **Damage is found, never read.** Every row carries a checksum of its values,
  every table one of all its rows, and the schema and ``minemap_meta`` one each
  (SQLite checks its own structure, not the values it stores). Readers verify
  them, and every geometry, before using anything; a write runs SQLite's
  ``integrity_check`` first. A damaged workspace is a
  :class:`~minemap.errors.WorkspaceDamagedError` saying how to recover.

QGIS and GDAL open the file like any GeoPackage. ``docs/workspace.md``
describes the layout in full.

Examples
--------
>>> import pathlib, tempfile
>>> from minemap import datasets, store
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> workspace = store.create_workspace(folder / "workspace.gpkg")
>>> store.add_file(workspace, "districts", datasets.get_path("districts")).kept
12
>>> store.add_file(workspace, "districts", datasets.get_path("districts")).already
True
>>> len(store.read_workspace(workspace, "districts"))
12
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import json
import math
import os
import sqlite3
import struct
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from minemap import io as mio
from minemap import outputs, validate
from minemap import schema as s
from minemap.errors import (
    InputFileError,
    OutputExistsError,
    WorkspaceBusyError,
    WorkspaceDamagedError,
    WorkspaceError,
)
from minemap.profile import Profile, parse_profile
from minemap.validate import ERROR, MAX_SEGMENT_M, Problem

__all__ = [
    "BUSY_TIMEOUT_S",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "Import",
    "add_file",
    "create_workspace",
    "file_sha256",
    "history_table",
    "migrate",
    "parse_known_on",
    "read_history",
    "read_imports",
    "read_rejects",
    "read_workspace",
    "read_workspace_layers",
    "schema_version",
    "source_profile",
    "verify_workspace",
]

#: The layout of the workspace tables this minemap writes. Version 1 is the first;
#: version 2 adds the checksums and lets a wholly rejected import be added again.
SCHEMA_VERSION = 2
#: Migration steps by the version they start from: ``MIGRATIONS[n](connection)``
#: brings a workspace from version n to n + 1. They run inside the transaction of
#: the next write (all of them, or none), and the version is recorded with them.
MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {}
#: Seconds a writer waits for another import to finish before it gives up (busy).
BUSY_TIMEOUT_S = 2.0
#: Seconds a reader waits (readers rarely wait: only while SQLite recovers a WAL).
READ_TIMEOUT_S = 30.0

#: ``PRAGMA application_id`` of a GeoPackage ("GPKG") and its ``user_version`` (1.2).
APPLICATION_ID = 0x47504B47
GPKG_VERSION = 10200
#: Every layer of a workspace is in WGS84 longitude/latitude.
SRS_ID = 4326

META_TABLE = "minemap_meta"
IMPORTS_TABLE = "minemap_imports"
REJECTS_TABLE = "minemap_rejects"
#: Feature id and geometry columns of the GeoPackage tables (GDAL's names).
FID = "fid"
GEOM = "geom"
#: Bookkeeping columns of the history tables (see :func:`read_history`).
_BOOKKEEPING = (s.IMPORT_ID, s.SUPERSEDED_BY, s.IMPORT_SOURCE)
#: Checksum of each row's values, in the history tables, the rejects and the log.
ROW_CHECKSUM = "row_checksum"
_RESERVED = {c.lower() for c in (FID, GEOM, *_BOOKKEEPING, ROW_CHECKSUM)}
#: The unique index of the log: one counted import per file, kind and reading options.
_IMPORTS_FILE_INDEX = f"{IMPORTS_TABLE}_file"

_TEXT, _INTEGER, _REAL, _DATE, _DATETIME, _BOOLEAN = (
    "TEXT",
    "INTEGER",
    "REAL",
    "DATE",
    "DATETIME",
    "BOOLEAN",
)
#: GeoPackage geometry type of each layer: polygons are stored as MultiPolygons.
_GEOMETRY_TYPES = {
    "hazards": "MULTIPOLYGON",
    "releases": "MULTIPOLYGON",
    "items": "POINT",
    "districts": "MULTIPOLYGON",
}
#: The layers each kind's checks take as context (see ``commands._common.load_all``).
_CONTEXT = {
    "hazards": ("districts",),
    "releases": ("districts", "hazards"),
    "items": (),
    "districts": (),
}
#: Bytes of a GeoPackage geometry header's envelope, by its envelope code.
_ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}
#: Timestamps are stored as fixed-width UTC text, so they sort as they compare.
_STAMP = "%Y-%m-%dT%H:%M:%S.%fZ"
#: Files that make up a Shapefile, hashed together with the .shp.
_SHAPEFILE_PARTS = (".shx", ".dbf", ".prj", ".cpg")


def history_table(kind: str) -> str:
    """Name of the table that holds every version of a layer's records."""
    _check_kind(kind)
    return f"{kind}_history"


# --- the import record -------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Import:
    """One import of the log; ``already`` when the file had been imported before.

    ``read == kept + rejected``; ``kept == new + superseded + unchanged``.
    ``loaded`` holds what reading the file gave (None when ``already``);
    ``notes`` what the workspace had to do (a column stored under another name).
    """

    import_id: int
    kind: str
    file: str
    sha256: str
    imported_at: pd.Timestamp
    source: str | None
    read: int
    kept: int
    rejected: int
    new: int
    superseded: int
    unchanged: int
    already: bool = False
    loaded: mio.Loaded | None = dataclasses.field(default=None, repr=False, compare=False)
    notes: tuple[str, ...] = ()
    #: With ``reuse_profile``: the stored profile the file was read with, and the import
    #: it was stored with (``None`` when none was reused).
    reused_profile: tuple[Profile, int] | None = dataclasses.field(default=None, compare=False)

    @property
    def wholly_rejected(self) -> bool:
        """Every feature of the file was rejected: nothing was added.

        Such an import stays in the log with its rejects, but does not count as
        imported: the same file can be added again (read another way, or with
        another ``source``).
        """
        return self.kept == 0 and self.rejected > 0

    def summary(self) -> str:
        """One line saying what the import did."""
        name = Path(self.file).name
        if self.already:
            return (
                f"{name}: already imported on {self.imported_at:%Y-%m-%d %H:%M} UTC as import "
                f"#{self.import_id}; nothing changed"
            )
        notes = [
            *(["the earlier versions stay in the history"] if self.superseded else []),
            *(["the rejected features are stored with their reasons"] if self.rejected else []),
        ]
        return (
            f"import #{self.import_id}: {self.kind} from {name}: {self.new} new, "
            f"{self.superseded} superseded, {self.unchanged} unchanged, {self.rejected} rejected"
            + "".join(f"; {n}" for n in notes)
        )


# --- creating and opening ------------------------------------------------------------


def create_workspace(path, *, overwrite: bool = False) -> Path:
    """Create an empty workspace (a GeoPackage) at ``path``, atomically.

    An existing workspace is replaced only when it holds no import and
    ``overwrite`` is given: a workspace that holds imports is never replaced
    (its whole history would go), nor is any other file.

    Parameters
    ----------
    path
        The file to create; it must end in ``.gpkg``.
    overwrite
        Replace an existing *empty* workspace (refused while an import is writing to it).

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    OutputExistsError
        ``path`` is an empty workspace and ``overwrite`` is not given.
    WorkspaceError
        ``path`` exists and is a workspace that holds imports, or not a workspace;
        or the workspace cannot be written (a full disk).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = create_workspace(pathlib.Path(tempfile.mkdtemp()) / "ws.gpkg")
    >>> schema_version(path) == SCHEMA_VERSION
    True
    """
    path = Path(path)
    if path.suffix.lower() != ".gpkg":
        raise WorkspaceError(path, "a workspace is a GeoPackage: give it the .gpkg extension")
    with _replacing(path, overwrite) as replace, mio.atomic_path(path, replace) as tmp:
        try:
            with contextlib.closing(sqlite3.connect(tmp, isolation_level=None)) as con:
                _create_schema(con)
        except sqlite3.Error as exc:
            if outputs.disk_problem(exc, path.parent) is not None:
                raise  # said as for every output: "not written: the disk is full ..."
            raise _sqlite_problem(path, exc, doing="cannot be created") from None
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
                version = _check_workspace(con, path)
            except sqlite3.Error as exc:
                raise _sqlite_problem(path, exc) from None
            except UnicodeDecodeError as exc:
                raise _unreadable(path, exc) from None
        except _NotAWorkspaceError:
            raise WorkspaceError(
                path,
                "exists and is not a minemap workspace; `minemap init` never replaces another "
                "file: give the new workspace another name",
            ) from None
        _integrity_check(con, path, quick=True)
        _verify_base(con, path, version)
        imports = len(_scan(con, path, IMPORTS_TABLE, verify=version >= _CHECKSUMS_SINCE)[1])
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


def schema_version(workspace) -> int:
    """The schema version of a workspace (raise if it is not one)."""
    path = Path(workspace)
    with _connect(path, write=False) as con:
        return _check_workspace(con, path)


def migrate(workspace) -> tuple[int, int]:
    """Bring a workspace to :data:`SCHEMA_VERSION` in one transaction; return (before, after).

    Writing to a workspace (:func:`add_file`) and reading it migrate it first
    anyway; this does only that.
    """
    path = Path(workspace)
    before = schema_version(path)
    if before < SCHEMA_VERSION:
        with _writing(path):
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
        raise _sqlite_problem(path, exc) from None
    except UnicodeDecodeError as exc:  # text SQLite holds that is not UTF-8
        raise _unreadable(path, exc) from None
    finally:
        con.close()


class _Connection(sqlite3.Connection):
    """A connection to a workspace (one transaction): it remembers the tables whose
    checksums it verified, so that a table read twice is verified once."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.verified: set[str] = set()


def _is_busy(exc: sqlite3.Error) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (5, 6)  # SQLITE_BUSY, SQLITE_LOCKED (and their extended codes)
    return "locked" in str(exc) or "busy" in str(exc)


#: SQLite's primary result codes that say something about the file or the disk.
_SQLITE_READONLY, _SQLITE_IOERR, _SQLITE_CORRUPT, _SQLITE_FULL, _SQLITE_NOTADB = 8, 10, 11, 13, 26


def _sqlite_problem(path: Path, exc: sqlite3.Error, *, doing: str | None = None) -> WorkspaceError:
    """The minemap error for an SQLite error on the workspace at ``path``."""
    if _is_busy(exc):
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
    if code in (_SQLITE_CORRUPT, _SQLITE_NOTADB) or _undecodable(exc):
        return _unreadable(path, exc)
    if type(exc) is sqlite3.DatabaseError:
        return _unreadable(path, exc)
    return WorkspaceError(path, f"{text}; {nothing}")


def _disk_full(path: Path) -> bool:
    """Whether the disk of ``path`` has (next to) no room left: SQLite reports a full disk
    as an I/O error where it extends its shared-memory file."""
    return outputs.disk_problem(OSError(), path.resolve().parent) is not None


def _undecodable(exc: sqlite3.Error) -> bool:
    """Text SQLite holds that is not UTF-8 (Python's sqlite3 cannot decode it)."""
    return "Could not decode to UTF-8" in str(exc)


class _NotAWorkspaceError(WorkspaceError):
    """The file is not a minemap workspace (and does not look like a damaged one)."""


def _check_workspace(con: sqlite3.Connection, path: Path) -> int:
    """Raise unless ``con`` is a minemap workspace; return its schema version.

    A file that looks like a workspace (SQLite's header, the GeoPackage
    application id, minemap's tables) and fails is damaged, never "not a workspace".
    """
    if path.stat().st_size == 0:
        raise _damaged(path, "the file is empty (0 bytes): it was cut off, or never written")
    try:
        application_id = con.execute("PRAGMA application_id").fetchone()[0]
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
        raise _unreadable(path, exc) from None
    ours = {META_TABLE, *_checked_tables()}
    found = ours & tables
    if not found:
        if application_id == APPLICATION_ID and "gpkg_contents" in tables:
            raise _NotAWorkspaceError(
                path,
                "is a GeoPackage but not a minemap workspace (no minemap_meta table); create a "
                "workspace with `minemap init NEW.gpkg` and add its layers with `minemap add`",
            )
        if application_id == APPLICATION_ID:
            raise _damaged(path, "a GeoPackage whose tables cannot be found")
        raise _NotAWorkspaceError(
            path,
            "is not a workspace (not a GeoPackage); give the path of a workspace, or create one "
            "with `minemap init NEW.gpkg`",
        )
    if found != ours or "gpkg_contents" not in tables:
        missing = sorted(ours - found) or ["gpkg_contents"]
        raise _damaged(path, f"its table(s) {', '.join(missing)} cannot be found")
    if application_id != APPLICATION_ID:
        raise _damaged(path, f"its GeoPackage application id is {application_id:#x}, not 'GPKG'")
    meta = _meta(con)
    version = meta.get("schema_version")
    if _META_CHECKSUM in meta:
        _verify_meta(path, meta)
    if version is None or not str(version).isdigit():
        raise _damaged(path, "its minemap_meta has no schema_version")
    version = int(version)
    if version >= _CHECKSUMS_SINCE and _META_CHECKSUM not in meta:
        raise _damaged(path, "its minemap_meta has no checksum")
    if version > SCHEMA_VERSION:
        raise WorkspaceError(
            path,
            f"was written by a newer minemap (workspace schema version {version}; this "
            f"minemap knows up to {SCHEMA_VERSION}): upgrade minemap to use it",
        )
    return version


def _meta(con: sqlite3.Connection) -> dict[str, str]:
    return dict(con.execute(f"SELECT key, value FROM {META_TABLE} NOT INDEXED").fetchall())


@contextlib.contextmanager
def _writing(path: Path, tables: Iterable[str] = ()):
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
            if _is_busy(exc):
                raise WorkspaceBusyError(path) from None
            raise
        try:
            version = _check_workspace(con, path)
            _integrity_check(con, path, quick=False)
            _verify_base(con, path, version)
            if version >= _CHECKSUMS_SINCE:
                for table in _checked_tables():
                    _scan(con, path, table)
            _bring_up_to_date(con, path)
            yield con
            _seal(con, tables)
            _integrity_check(con, path, quick=True)
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")


@contextlib.contextmanager
def _reading(path: Path):
    """A read transaction on a workspace whose checksums pass: every query sees one state.

    The schema, ``minemap_meta`` and the log are verified here; each table a
    reader reads is verified as it is read (:func:`_scan`).
    """
    if schema_version(path) < SCHEMA_VERSION:
        migrate(path)
    with _connect(path, write=False) as con:
        con.execute("BEGIN")
        try:
            version = _check_workspace(con, path)
            _verify_base(con, path, version)
            yield con
        finally:
            with contextlib.suppress(sqlite3.Error):
                con.execute("ROLLBACK")


def _bring_up_to_date(con: sqlite3.Connection, path: Path) -> None:
    """Run the migrations from the workspace's version to :data:`SCHEMA_VERSION`.

    Migrations change rows: every row's checksum is made again afterwards (they were
    all verified before, in :func:`_writing`, where the workspace had them).
    """
    version = int(_meta(con)["schema_version"])
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
            (f"migrated_to_{step + 1}", _stamp(_utcnow())),
        )
    if version < SCHEMA_VERSION:
        for table in _checked_tables():
            _seal_rows(con, table)
        _seal(con)


def _add_checksums(con: sqlite3.Connection) -> None:
    """Version 1 to 2: a checksum on every row, and a log where a wholly rejected import
    does not hold its file (the log's unique constraint becomes a partial index)."""
    fresh = f"{IMPORTS_TABLE}_2"
    con.execute(_imports_table_sql(fresh))
    columns = ", ".join(_q(c) for c in _table_columns(con, IMPORTS_TABLE))
    con.execute(f"INSERT INTO {fresh} ({columns}) SELECT {columns} FROM {IMPORTS_TABLE}")
    con.execute(f"DROP TABLE {IMPORTS_TABLE}")
    con.execute(f"ALTER TABLE {fresh} RENAME TO {IMPORTS_TABLE}")
    con.execute(_IMPORTS_INDEX_SQL)
    for table in (REJECTS_TABLE, *(history_table(k) for k in s.LAYER_KINDS)):
        con.execute(f"ALTER TABLE {_q(table)} ADD COLUMN {ROW_CHECKSUM} TEXT")


MIGRATIONS[1] = _add_checksums


# --- the schema -----------------------------------------------------------------------

_GPKG_TABLES = (
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

_WGS84_WKT = (
    'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,'
    'AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,'
    'AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],'
    'AXIS["Latitude",NORTH],AXIS["Longitude",EAST],AUTHORITY["EPSG","4326"]]'
)
_SRS_ROWS = (
    ("Undefined cartesian SRS", -1, "NONE", -1, "undefined", "undefined cartesian coordinate"),
    ("Undefined geographic SRS", 0, "NONE", 0, "undefined", "undefined geographic coordinates"),
    ("WGS 84 geodetic", SRS_ID, "EPSG", SRS_ID, _WGS84_WKT, "longitude/latitude on WGS 84"),
)


def _q(name: str) -> str:
    """An SQL identifier, quoted (column names come from users' files)."""
    return '"' + str(name).replace('"', '""') + '"'


def _canonical_columns(kind: str) -> dict[str, str]:
    """The SQL type of every column minemap knows for a layer, in order."""
    columns = {}
    for column in (*s.REQUIRED[kind], *s.OPTIONAL[kind]):
        if column in s.COUNT_COLUMNS[kind]:
            columns[column] = _INTEGER
        elif column in s.DATE_COLUMNS[kind]:
            columns[column] = _DATE
        elif column in (s.DEPTH_CM, s.AREA_HA):
            columns[column] = _REAL
        else:
            columns[column] = _TEXT
    return columns


def _create_schema(con: sqlite3.Connection) -> None:
    con.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    con.execute(f"PRAGMA user_version = {GPKG_VERSION}")
    con.execute("PRAGMA journal_mode = WAL")
    con.execute("BEGIN")
    for statement in _GPKG_TABLES:
        con.execute(statement)
    con.executemany("INSERT INTO gpkg_spatial_ref_sys VALUES (?, ?, ?, ?, ?, ?)", _SRS_ROWS)
    con.execute(f"CREATE TABLE {META_TABLE} (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    from minemap import __version__

    con.executemany(
        f"INSERT INTO {META_TABLE} (key, value) VALUES (?, ?)",
        [
            ("schema_version", str(SCHEMA_VERSION)),
            ("created_at", _stamp(_utcnow())),
            ("created_by", f"minemap {__version__}"),
        ],
    )
    con.execute(_imports_table_sql(IMPORTS_TABLE))
    con.execute(_IMPORTS_INDEX_SQL)
    _register(con, IMPORTS_TABLE, "attributes", "minemap: every import (the log)")
    for kind in s.LAYER_KINDS:
        table = history_table(kind)
        id_col = s.ID_COLUMN[kind]
        columns = ", ".join(
            f"{_q(c)} {t}" + (" NOT NULL" if c == id_col else "")
            for c, t in _canonical_columns(kind).items()
        )
        con.execute(
            f"""CREATE TABLE {_q(table)} (
                {FID} INTEGER PRIMARY KEY AUTOINCREMENT,
                {GEOM} {_GEOMETRY_TYPES[kind]},
                {columns},
                {s.IMPORT_ID} INTEGER NOT NULL REFERENCES {IMPORTS_TABLE}({s.IMPORT_ID}),
                {s.SUPERSEDED_BY} INTEGER REFERENCES {IMPORTS_TABLE}({s.IMPORT_ID}),
                {s.IMPORT_SOURCE} TEXT NOT NULL DEFAULT '',
                {ROW_CHECKSUM} TEXT)"""
        )
        con.execute(
            f"CREATE INDEX {_q(table + '_key')} ON {_q(table)} "
            f"({_q(id_col)}, {s.IMPORT_SOURCE}, {FID})"
        )
        con.execute(f"CREATE INDEX {_q(table + '_current')} ON {_q(table)} ({s.SUPERSEDED_BY})")
        _create_view(con, kind)
        _register(con, table, "features", f"minemap: every version of every {kind} record")
        _register(con, kind, "features", f"minemap: the current {kind}")
        for name in (table, kind):
            con.execute(
                "INSERT INTO gpkg_geometry_columns VALUES (?, ?, ?, ?, 0, 0)",
                (name, GEOM, _GEOMETRY_TYPES[kind], SRS_ID),
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
    _register(con, REJECTS_TABLE, "features", "minemap: rejected features and why")
    con.execute(
        "INSERT INTO gpkg_geometry_columns VALUES (?, ?, 'GEOMETRY', ?, 2, 0)",
        (REJECTS_TABLE, GEOM, SRS_ID),
    )
    _seal(con)
    con.execute("COMMIT")


def _imports_table_sql(name: str) -> str:
    """The log. A file is imported once per kind and reading options (the unique index
    :data:`_IMPORTS_FILE_INDEX`), except where every feature was rejected."""
    return f"""CREATE TABLE {_q(name)} (
            {s.IMPORT_ID} INTEGER PRIMARY KEY AUTOINCREMENT,
            {s.IMPORTED_AT} TEXT NOT NULL,
            {s.KIND} TEXT NOT NULL,
            {s.FILE} TEXT NOT NULL,
            {s.SHA256} TEXT NOT NULL,
            {s.SOURCE} TEXT,
            {_q(s.READ)} INTEGER NOT NULL,
            {s.KEPT} INTEGER NOT NULL,
            {s.REJECTED} INTEGER NOT NULL,
            {s.NEW} INTEGER NOT NULL,
            {s.SUPERSEDED} INTEGER NOT NULL,
            {s.UNCHANGED} INTEGER NOT NULL,
            {s.WARNINGS} INTEGER NOT NULL,
            {s.READ_OPTIONS} TEXT NOT NULL,
            {s.MINEMAP_VERSION} TEXT NOT NULL,
            {ROW_CHECKSUM} TEXT)"""


#: Where every feature of an import was rejected, the file was not imported.
_COUNTED = f"NOT ({s.KEPT} = 0 AND {s.REJECTED} > 0)"
_IMPORTS_INDEX_SQL = (
    f"CREATE UNIQUE INDEX {_IMPORTS_FILE_INDEX} ON {IMPORTS_TABLE} "
    f"({s.SHA256}, {s.KIND}, {s.READ_OPTIONS}) WHERE {_COUNTED}"
)


def _register(con: sqlite3.Connection, table: str, data_type: str, description: str) -> None:
    con.execute(
        "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, srs_id) "
        "VALUES (?, ?, ?, ?, ?)",
        (table, data_type, table, description, SRS_ID if data_type == "features" else None),
    )


def _create_view(con: sqlite3.Connection, kind: str) -> None:
    """(Re)create the view of the current records: every data column, no bookkeeping."""
    table = history_table(kind)
    data = [_q(c) for c in _data_columns(con, table)]
    con.execute(f"DROP VIEW IF EXISTS {_q(kind)}")
    con.execute(
        f"CREATE VIEW {_q(kind)} AS SELECT {FID}, {GEOM}, {', '.join(data)} "
        f"FROM {_q(table)} WHERE {s.SUPERSEDED_BY} IS NULL"
    )


def _table_columns(con: sqlite3.Connection, table: str) -> dict[str, str]:
    """Column name -> declared type, in the table's order."""
    return {r[1]: r[2].upper() for r in con.execute(f"PRAGMA table_info({_q(table)})")}


def _data_columns(con: sqlite3.Connection, table: str) -> dict[str, str]:
    """The layer's own columns of a history table (no fid, geometry, bookkeeping or checksum)."""
    return {
        c: t
        for c, t in _table_columns(con, table).items()
        if c not in (FID, GEOM, ROW_CHECKSUM) and c not in _BOOKKEEPING
    }


# --- values between pandas and SQLite ------------------------------------------------


def _sql_type(values: pd.Series) -> str:
    """The GeoPackage column type for a column of values of a file."""
    dtype = values.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return _BOOLEAN
    if pd.api.types.is_integer_dtype(dtype):
        return _INTEGER
    if pd.api.types.is_float_dtype(dtype):
        return _REAL
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return _DATETIME
    inferred = pd.api.types.infer_dtype(values, skipna=True)
    return {
        "integer": _INTEGER,
        "floating": _REAL,
        "mixed-integer-float": _REAL,
        "boolean": _BOOLEAN,
        "date": _DATE,
        "datetime": _DATETIME,
        "datetime64": _DATETIME,
    }.get(inferred, _TEXT)


def _fits(column_type: str, values_type: str) -> bool:
    """Whether values of one type can be stored in a column of another without loss."""
    if column_type in (values_type, _TEXT):
        return True
    return (column_type, values_type) in {
        (_REAL, _INTEGER),
        (_REAL, _BOOLEAN),
        (_INTEGER, _BOOLEAN),
        (_DATETIME, _DATE),
    }


def _text(value) -> str:
    if isinstance(value, dt.date | pd.Timestamp):
        return value.isoformat()
    return str(value)


def _to_sql(values: pd.Series, sql_type: str) -> list:
    """Python values SQLite stores for a column of a given type (None for missing)."""
    present = np.asarray(values.notna(), dtype=bool)
    out = np.full(len(values), None, dtype=object)
    if not present.any():
        return out.tolist()
    given = values[present]
    if sql_type in (_INTEGER, _BOOLEAN):
        out[present] = [int(v) for v in given.astype(object)]
    elif sql_type == _REAL:
        out[present] = [float(v) for v in given.astype(object)]
    elif sql_type in (_DATE, _DATETIME):
        stamps = pd.to_datetime(given.astype(object), utc=True)
        if sql_type == _DATE:
            out[present] = stamps.dt.strftime("%Y-%m-%d").tolist()
        else:  # GeoPackage DATETIME: ISO 8601 in UTC, to the millisecond
            out[present] = [t[:-3] + "Z" for t in stamps.dt.strftime("%Y-%m-%dT%H:%M:%S.%f")]
    else:
        out[present] = [v if isinstance(v, str) else _text(v) for v in given.astype(object)]
    return out.tolist()


def _from_sql(values: list, sql_type: str, column: str, kind: str) -> pd.Series:
    """A column as the readers give it (ids and districts as ``string``, counts ``Int64``...)."""
    raw = pd.Series(values, dtype=object)
    try:
        if sql_type == _INTEGER:
            series = raw.astype("Int64")
            if column not in s.COUNT_COLUMNS[kind] and not series.isna().any():
                series = series.astype("int64")
            return series
        if sql_type == _BOOLEAN:
            series = raw.astype("boolean")
            return series if series.isna().any() else series.astype(bool)
        if sql_type in (_REAL, "FLOAT", "DOUBLE"):
            return raw.astype("float64")
        # Days of minemap's date columns as the checks give them; other dates and
        # times as GDAL does (to the millisecond).
        unit = "datetime64[us]" if column in s.DATE_COLUMNS[kind] else "datetime64[ms]"
        if sql_type == _DATE:
            return pd.to_datetime(raw, format="%Y-%m-%d").astype(unit)
        if sql_type == _DATETIME:
            stamps = pd.to_datetime(raw, format="ISO8601", utc=True)
            return stamps.dt.tz_convert(None).astype(unit)
    except (TypeError, ValueError):  # a value of another type, written by another program
        return raw
    if column in (s.ID_COLUMN[kind], s.DISTRICT):
        return raw.astype("string")
    return raw.infer_objects()


def _promote(geoms: np.ndarray) -> np.ndarray:
    """Polygons as single-part MultiPolygons (the layers' GeoPackage type)."""
    geoms = np.asarray(geoms, dtype=object).copy()
    single = shapely.get_type_id(geoms) == shapely.GeometryType.POLYGON
    if single.any():
        geoms[single] = shapely.multipolygons(geoms[single], indices=np.arange(single.sum()))
    return geoms


def _to_blobs(geoms) -> list[bytes | None]:
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


def _json_value(value):
    """A rejected feature's value as JSON can hold it (text for what it cannot)."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, list | dict | tuple | np.ndarray):
        return None if value is None else str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else str(value)
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, bool | int | float | str):
        return value
    return _text(value)


# --- time ---------------------------------------------------------------------------


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).strftime(_STAMP)


def _utc(value) -> dt.datetime:
    """A moment in UTC from a datetime, date or ISO text (naive times are UTC)."""
    stamp = pd.Timestamp(value)
    if pd.isna(stamp):
        raise ValueError(f"{value!r} is not a date or time")
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return stamp.to_pydatetime()


def parse_known_on(value) -> dt.date | dt.datetime:
    """A ``known_on`` value: a day (``YYYY-MM-DD``) or a moment (``YYYY-MM-DDTHH:MM``, UTC).

    A day means "as known at the end of that day (UTC)"; a moment includes the
    imports made at it.

    >>> parse_known_on("2024-03-10")
    datetime.date(2024, 3, 10)
    >>> parse_known_on("2024-03-10T12:00")
    datetime.datetime(2024, 3, 10, 12, 0, tzinfo=datetime.timezone.utc)
    """
    if isinstance(value, dt.datetime | pd.Timestamp):
        return _utc(value)
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    try:
        if len(text) == 10:
            return dt.date.fromisoformat(text)
        return _utc(dt.datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError:
        raise ValueError(
            f"{value!r} is not a day or a moment; use YYYY-MM-DD or YYYY-MM-DDTHH:MM (UTC)"
        ) from None


def _cutoff(known_on) -> str:
    """The stamp before which an import is known (``imported_at < cutoff``)."""
    known_on = parse_known_on(known_on)
    if isinstance(known_on, dt.datetime):
        return _stamp(known_on + dt.timedelta(microseconds=1))
    end = dt.datetime.combine(known_on + dt.timedelta(days=1), dt.time(), dt.timezone.utc)
    return _stamp(end)


def _import_moment(con: sqlite3.Connection, path: Path, imported_at) -> str:
    """The stamp of a new import: now, or ``imported_at``, never before the last import."""
    moment = _utcnow() if imported_at is None else _utc(imported_at)
    if moment > _utcnow() + dt.timedelta(minutes=1):
        raise WorkspaceError(path, f"an import cannot be dated in the future ({_stamp(moment)})")
    stamp = _stamp(moment)
    last = con.execute(
        f"SELECT {s.IMPORT_ID}, {s.IMPORTED_AT} FROM {IMPORTS_TABLE} "
        f"ORDER BY {s.IMPORT_ID} DESC LIMIT 1"
    ).fetchone()
    if last is not None and stamp < last[1]:
        raise WorkspaceError(
            path,
            f"an import dated {stamp} would come before the last one (#{last[0]}, {last[1]}); "
            "imports are recorded in the order they are made: add older files first",
        )
    return stamp


# --- adding a file ------------------------------------------------------------------


def file_sha256(path) -> str:
    """SHA-256 of a file's bytes (a Shapefile's: of its .shp, .shx, .dbf, .prj, .cpg)."""
    path = Path(path)
    if not path.exists():
        raise InputFileError(path, "no such file")
    if path.is_dir():
        raise InputFileError(path, "is a folder, not a file")
    parts = [path]
    if path.suffix.lower() == ".shp":
        siblings = {p.suffix.lower(): p for p in path.parent.glob(f"{path.stem}.*")}
        parts += [siblings[x] for x in _SHAPEFILE_PARTS if x in siblings]
    digest = hashlib.sha256()
    for part in parts:
        with part.open("rb") as handle:
            for block in iter(lambda handle=handle: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def _read_options(
    layer,
    mapping,
    crs,
    profile: Profile | None = None,
    max_segment_m: float = MAX_SEGMENT_M,
    reading=None,
) -> str:
    """How a file was read, as canonical JSON (part of what makes an import the same).

    With a profile, its file name, SHA-256 and whole text are kept (``"profile"``):
    the log says how the file was read, and a later import from the source reuses it.
    A longest segment other than the default is kept too (``"max_segment_m"``).
    ``reading`` (``--date-order``, ``--decimal``, ``--encoding``) is kept where given.
    """
    options = {
        "layer": layer,
        "mapping": dict(sorted((mapping or {}).items())),
        "crs": None if crs is None else str(crs),
    }
    if profile is not None:
        options[PROFILE] = profile.as_dict()
    if max_segment_m != MAX_SEGMENT_M:  # the default is left out: earlier logs stay the same
        options["max_segment_m"] = max_segment_m
    for key, value in (reading or {}).items():
        if value is not None and value != ():
            options[key] = list(value) if isinstance(value, tuple) else value
    return json.dumps(options, sort_keys=True)


#: The key of the import log's ``read_options`` that holds the profile a file was read with.
PROFILE = "profile"


def source_profile(workspace, source: str | None) -> tuple[Profile, int] | None:
    """The profile the last import from ``source`` was read with, and that import's number.

    ``None`` when no import from that source had one (or no source is given).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from minemap import datasets, profile
    >>> ws = create_workspace(pathlib.Path(tempfile.mkdtemp()) / "ws.gpkg")
    >>> p = profile.parse_profile('date_order = "DMY"', name="anama.toml")
    >>> _ = add_file(ws, "hazards", datasets.get_path("hazards"), source="ANAMA", profile=p)
    >>> found, import_id = source_profile(ws, "ANAMA")
    >>> found.name, found.settings("hazards").date_order, import_id
    ('anama.toml', 'DMY', 1)
    """
    source = (source or "").strip()
    if not source:
        return None
    with _reading(Path(workspace)) as con:
        return _stored_profile(con, source)


def _stored_profile(con: sqlite3.Connection, source: str) -> tuple[Profile, int] | None:
    rows = con.execute(
        f"SELECT {s.IMPORT_ID}, {s.READ_OPTIONS} FROM {IMPORTS_TABLE} "
        f"WHERE {s.SOURCE} = ? ORDER BY {s.IMPORT_ID} DESC",
        (source,),
    ).fetchall()
    for import_id, options in rows:
        try:
            stored = json.loads(options).get(PROFILE)
        except (ValueError, AttributeError):
            continue
        if isinstance(stored, dict) and isinstance(stored.get("text"), str):
            name = str(stored.get("name") or f"the profile of import #{import_id}")
            return parse_profile(stored["text"], name=name), int(import_id)
    return None


def add_file(
    workspace,
    kind: str,
    path,
    *,
    source: str | None = None,
    layer: str | None = None,
    mapping: Mapping[str, str] | None = None,
    crs=None,
    imported_at=None,
    today: dt.date | None = None,
    max_segment_m: float = MAX_SEGMENT_M,
    profile: Profile | None = None,
    reuse_profile: bool = False,
    reading: Mapping | None = None,
) -> Import:
    """Import one file of a layer into a workspace, in one transaction.

    The file is read and checked like every other input (:func:`minemap.io.load_layers`,
    with the workspace's districts and hazards as the checks' context). Kept
    features become the current version of their records; a record the
    workspace already holds from the same ``source`` is superseded when it
    changed (the earlier version stays in the history) and left alone when it did
    not. Rejected features are stored with their reasons. A feature whose id the
    workspace holds from *another* source is rejected (``duplicate-id``): ids stay
    unique, and one source cannot overwrite another's records.

    Parameters
    ----------
    workspace
        A workspace made by :func:`create_workspace`.
    kind
        ``hazards``, ``releases``, ``items`` or ``districts``.
    path
        The file (any format :func:`minemap.io.read_file` reads).
    source
        Who handed the file over (an organisation, a team, a map's name): kept
        in the log, and with each record's id the key that supersession uses.
    layer, mapping, crs
        How to read the file, as in :func:`minemap.io.load_layers`.
    profile
        An import profile (:func:`minemap.profile.read_profile`), stored whole in
        the import log (``read_options``); :func:`source_profile` finds it again.
    reuse_profile
        Without ``profile``: read the file with the profile the last import from
        the same ``source`` was read with, if any (``Import.reused_profile`` says
        which). Looked up in the import's own transaction.
    reading
        ``date_order``, ``decimal``, ``unknown``, ``encoding``: how the file
        writes dates, numbers and text, as in :func:`minemap.io.load_layers`.
    imported_at
        Record the import as made at this moment (UTC) instead of now, to build
        a workspace from an archive of earlier files, oldest first. It may not
        be earlier than the last import, nor in the future.
    today
        Dates after this day are errors (default: today).
    max_segment_m
        The longest segment allowed in hazards and releases (metres): part of
        the reading options when it is not the default.

    Returns
    -------
    Import
        What the import did; ``already`` is true (and nothing changed) when the
        same file had been imported the same way (same SHA-256, kind and
        reading options) before. ``wholly_rejected`` is true when every feature
        was rejected: the import is logged with its rejects, but the file does
        not count as imported (adding it again reads it again).

    Raises
    ------
    WorkspaceBusyError
        Another import is writing to the workspace.
    InputFileError
        The file cannot be read (nothing is stored).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from minemap import datasets
    >>> ws = create_workspace(pathlib.Path(tempfile.mkdtemp()) / "ws.gpkg")
    >>> done = add_file(ws, "hazards", datasets.get_path("hazards"), source="handover")
    >>> done.read == done.kept + done.rejected == done.new
    True
    """
    _check_kind(kind)
    workspace, path = Path(workspace), Path(path)
    if path.exists() and workspace.exists() and path.resolve() == workspace.resolve():
        raise InputFileError(path, "is the workspace itself; add the files it is made of")
    digest = file_sha256(path)
    reading = dict(reading or {})
    source = (source or "").strip()
    with _writing(workspace, (history_table(kind), REJECTS_TABLE)) as con:
        reused = (
            _stored_profile(con, source) if profile is None and reuse_profile and source else None
        )
        if reused is not None:
            profile = reused[0]
        options = _read_options(layer, mapping, crs, profile, max_segment_m, reading)
        earlier = con.execute(
            f"SELECT * FROM {IMPORTS_TABLE} WHERE {s.SHA256} = ? AND {s.KIND} = ? "
            f"AND {s.READ_OPTIONS} = ? AND {_COUNTED}",
            (digest, kind, options),
        ).fetchone()
        if earlier is not None:
            return dataclasses.replace(
                _import_from_row(con, earlier, already=True), reused_profile=reused
            )
        stamp = _import_moment(con, workspace, imported_at)
        context = _read_layers(con, workspace, _CONTEXT[kind], upto=None)
        loaded = mio.load_layers(
            [path],
            kind,
            layer=layer,
            mapping=mapping,
            crs=crs,
            districts=_or_none(context.get("districts")),
            hazards=_or_none(context.get("hazards")),
            today=today,
            max_segment_m=max_segment_m,
            profile=profile,
            **reading,
        )
        loaded = _reject_foreign_ids(con, kind, loaded, source, path)
        if kind == "hazards":
            loaded = _reject_copies_of_current(con, workspace, loaded, source, path)
        from minemap import __version__

        import_id = con.execute(
            f"INSERT INTO {IMPORTS_TABLE} ({s.IMPORTED_AT}, {s.KIND}, {s.FILE}, {s.SHA256}, "
            f"{s.SOURCE}, {_q(s.READ)}, {s.KEPT}, {s.REJECTED}, {s.NEW}, {s.SUPERSEDED}, "
            f"{s.UNCHANGED}, {s.WARNINGS}, {s.READ_OPTIONS}, {s.MINEMAP_VERSION}) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, 0, 0, 0, ?, ?)",
            (
                stamp,
                kind,
                str(path.resolve()),
                digest,
                source or None,
                loaded.read,
                len(loaded.kept),
                len(loaded.rejected),
                options,
                __version__,
            ),
        ).lastrowid
        new, superseded, unchanged, notes = _write_versions(
            con, kind, loaded.kept, import_id, source
        )
        _write_rejects(con, kind, loaded.rejected, import_id)
        con.execute(
            f"UPDATE {IMPORTS_TABLE} SET {s.NEW} = ?, {s.SUPERSEDED} = ?, {s.UNCHANGED} = ?, "
            f"{s.WARNINGS} = ? WHERE {s.IMPORT_ID} = ?",
            (new, superseded, unchanged, len(loaded.warnings) + len(notes), import_id),
        )
        _touch_contents(con, kind, stamp, loaded)
        this = f"WHERE {s.IMPORT_ID} = ?"
        _seal_rows(
            con, history_table(kind), f"{this} OR {s.SUPERSEDED_BY} = ?", (import_id, import_id)
        )
        _seal_rows(con, REJECTS_TABLE, this, (import_id,))
        _seal_rows(con, IMPORTS_TABLE, this, (import_id,))
        row = con.execute(
            f"SELECT * FROM {IMPORTS_TABLE} WHERE {s.IMPORT_ID} = ?", (import_id,)
        ).fetchone()
        done = _import_from_row(con, row, loaded=loaded, notes=tuple(notes))
        return dataclasses.replace(done, reused_profile=reused)


def _check_kind(kind: str) -> None:
    if kind not in s.LAYER_KINDS:
        raise ValueError(f"kind must be one of {', '.join(s.LAYER_KINDS)}, not {kind!r}")


def _or_none(frame):
    return frame if frame is not None and len(frame) else None


def _import_from_row(
    con: sqlite3.Connection, row: tuple, *, already: bool = False, loaded=None, notes=()
) -> Import:
    names = [d[0] for d in con.execute(f"SELECT * FROM {IMPORTS_TABLE} LIMIT 0").description]
    record = dict(zip(names, row, strict=True))
    return Import(
        import_id=record[s.IMPORT_ID],
        kind=record[s.KIND],
        file=record[s.FILE],
        sha256=record[s.SHA256],
        imported_at=pd.Timestamp(record[s.IMPORTED_AT]),
        source=record[s.SOURCE],
        read=record[s.READ],
        kept=record[s.KEPT],
        rejected=record[s.REJECTED],
        new=record[s.NEW],
        superseded=record[s.SUPERSEDED],
        unchanged=record[s.UNCHANGED],
        already=already,
        loaded=loaded,
        notes=tuple(notes),
    )


def _source_text(source: str) -> str:
    return f"source {source!r}" if source else "no source (added without --source)"


def _reject_foreign_ids(
    con: sqlite3.Connection, kind: str, loaded: mio.Loaded, source: str, path: Path
) -> mio.Loaded:
    """Set aside kept features whose id the workspace holds from another source."""
    id_col = s.ID_COLUMN[kind]
    kept = loaded.kept
    if not len(kept):
        return loaded
    others = {
        r[0]: (r[1], r[2])
        for r in con.execute(
            f"SELECT {_q(id_col)}, {s.IMPORT_SOURCE}, {s.IMPORT_ID} FROM {_q(history_table(kind))}"
            f" WHERE {s.SUPERSEDED_BY} IS NULL AND {s.IMPORT_SOURCE} != ?",
            (source,),
        )
    }
    ids = kept[id_col].astype(object).to_numpy()
    clash = np.array([i in others for i in ids], dtype=bool)
    if not clash.any():
        return loaded
    messages = []
    for value in ids[clash]:
        other, import_id = others[value]
        messages.append(
            f"{id_col} {value} is already in the workspace from {_source_text(other)} "
            f"(import #{import_id}); to correct that record, add the file with "
            + (f"--source {other!r}" if other else "no --source")
            + f"; if it is another record, give it another {id_col}"
        )
    return _set_aside(loaded, clash, "duplicate-id", messages, path)


def _set_aside(
    loaded: mio.Loaded, clash: np.ndarray, rule: str, messages: list[str], path: Path
) -> mio.Loaded:
    """Move the kept features marked by ``clash`` to the rejects, each with its message."""
    kind, kept = loaded.kind, loaded.kept
    id_col = s.ID_COLUMN[kind]
    ids = kept[id_col].astype(object).to_numpy()
    # Kept features are the file's rows that were not rejected, in order.
    rows = np.setdiff1d(
        np.arange(1, loaded.read + 1), loaded.rejected[mio.SOURCE_ROW].to_numpy(dtype=int)
    )
    moved = kept[clash].copy()
    moved[mio.SOURCE_FILE] = str(path)
    moved[mio.SOURCE_ROW] = rows[clash]
    moved[mio.PROBLEM] = [f"{rule}: {m}" for m in messages]
    frames = [f for f in (loaded.rejected, moved) if len(f)]
    rejected = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    rejected = rejected.sort_values(mio.SOURCE_ROW, kind="stable").reset_index(drop=True)
    problems = list(loaded.problems) + [
        Problem(str(path), int(row), f"{id_col} {value}", rule, ERROR, message)
        for row, value, message in zip(rows[clash], ids[clash], messages, strict=True)
    ]
    remaining = kept[~clash].reset_index(drop=True)
    remaining.attrs = dict(kept.attrs)
    return mio.Loaded(kind, remaining, rejected, problems, loaded.read, loaded.copies)


def _reject_copies_of_current(
    con: sqlite3.Connection, workspace: Path, loaded: mio.Loaded, source: str, path: Path
) -> mio.Loaded:
    """Set aside new hazards that share more than 90 % of a current record's ground.

    The file's own records were checked against each other when it was read; this
    checks them against the records already in the workspace, except those the
    file supersedes (same id, same source): a minefield already recorded, sent
    again under another id or by another source, would count its mines twice.
    """
    kept = loaded.kept
    if not len(kept):
        return loaded
    current = _read_layers(con, workspace, ("hazards",), upto=None)["hazards"]
    replaced = {
        r[0]
        for r in con.execute(
            f"SELECT {_q(s.HAZARD_ID)} FROM {_q(history_table('hazards'))} "
            f"WHERE {s.SUPERSEDED_BY} IS NULL AND {s.IMPORT_SOURCE} = ?",
            (source,),
        )
    }
    new_ids = kept[s.HAZARD_ID].astype(object).to_numpy()
    current = current[~current[s.HAZARD_ID].isin(replaced & set(new_ids))]
    if not len(current):
        return loaded
    geoms = np.concatenate(
        [current.geometry.to_numpy(dtype=object), kept.geometry.to_numpy(dtype=object)]
    )
    first, later, share = validate.overlapping_records(geoms)
    across = (first < len(current)) & (later >= len(current))
    clash = np.zeros(len(kept), dtype=bool)
    messages = {}
    pairs = zip(first[across], later[across] - len(current), share[across], strict=True)
    for old, new, ratio in pairs:
        if not clash[new]:
            clash[new] = True
            other = f"{s.HAZARD_ID} {current[s.HAZARD_ID].iloc[old]} of the workspace"
            messages[new] = validate.duplicate_message(other, ratio)
    if not clash.any():
        return loaded
    return _set_aside(
        loaded, clash, "duplicate-record", [messages[i] for i in np.flatnonzero(clash)], path
    )


def _free_name(name: str, taken: Iterable[str]) -> str:
    taken = {t.lower() for t in taken}
    number = 1
    while f"{name}_{number}".lower() in taken:
        number += 1
    return f"{name}_{number}"


def _ensure_columns(
    con: sqlite3.Connection, kind: str, frame: gpd.GeoDataFrame
) -> tuple[dict[str, str], list[str]]:
    """Map the frame's columns to the history table's, adding the new ones.

    A column the workspace does not have yet is added with the type of its
    values. One it has, with values of a type the column cannot hold without
    loss (text in a number column), goes to ``<name>_<type>``.
    """
    table = history_table(kind)
    canonical = _canonical_columns(kind)
    columns = _table_columns(con, table)
    by_lower = {c.lower(): c for c in columns}
    mapping: dict[str, str] = {}
    notes = []
    added = False
    for column in frame.columns:
        if column == frame.geometry.name:
            continue
        name = str(column)
        if name in canonical:
            if name not in columns:
                # A column minemap came to know after the workspace was made (area_ha).
                con.execute(f"ALTER TABLE {_q(table)} ADD COLUMN {_q(name)} {canonical[name]}")
                columns[name] = canonical[name]
                by_lower[name.lower()] = name
                added = True
            mapping[column] = name
            continue
        wanted = _sql_type(frame[column])
        target = by_lower.get(name.lower())
        if name.lower() in _RESERVED or target in mapping.values():
            target = None
            name = _free_name(name, columns)
            notes.append(f"column {column!r} is stored as {name!r} (the name is taken)")
        elif target is not None and not _fits(columns[target], wanted):
            alternative = f"{name}_{wanted.lower()}"
            notes.append(
                f"column {column!r} holds {wanted.lower()} values where the workspace's "
                f"{target!r} holds {columns[target].lower()}: they are stored as {alternative!r}"
            )
            name = alternative
            target = by_lower.get(name.lower())
            if target is not None and not _fits(columns[target], wanted):
                target = None
                name = _free_name(name, columns)
        if target is None:
            con.execute(f"ALTER TABLE {_q(table)} ADD COLUMN {_q(name)} {wanted}")
            columns[name] = wanted
            by_lower[name.lower()] = name
            target = name
            added = True
        mapping[column] = target
    if added:
        _create_view(con, kind)
    return mapping, notes


#: Where a release given as an area says the work was: its point, kept as two columns
#: (the releases' geometry column holds polygons).
POINT_LONGITUDE, POINT_LATITUDE = "point_longitude", "point_latitude"


def _points_as_columns(kept: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Releases given as an area with a point: the point in two columns, no geometry.

    Such a release has no polygon (``area_ha`` and ``hazard_id`` say what it
    released); its point, where the team worked, is kept beside it.
    """
    geoms = kept.geometry.to_numpy(dtype=object)
    points = ~pd.isna(geoms) & (shapely.get_type_id(geoms) == shapely.GeometryType.POINT)
    if not points.any():
        return kept
    kept = kept.copy()
    kept[POINT_LONGITUDE] = np.where(points, shapely.get_x(np.where(points, geoms, None)), np.nan)
    kept[POINT_LATITUDE] = np.where(points, shapely.get_y(np.where(points, geoms, None)), np.nan)
    return kept.set_geometry(
        gpd.GeoSeries(np.where(points, None, geoms), index=kept.index, crs=kept.crs)
    )


def _write_versions(
    con: sqlite3.Connection, kind: str, kept: gpd.GeoDataFrame, import_id: int, source: str
) -> tuple[int, int, int, list[str]]:
    """Store the kept features as versions of their records; return (new, superseded, unchanged)."""
    if not len(kept):
        return 0, 0, 0, []
    table = history_table(kind)
    id_col = s.ID_COLUMN[kind]
    if kind == "releases":
        kept = _points_as_columns(kept)
    mapping, notes = _ensure_columns(con, kind, kept)
    data = _data_columns(con, table)
    origin = {target: column for column, target in mapping.items()}
    values = [
        _to_sql(kept[origin[c]], t) if c in origin else [None] * len(kept) for c, t in data.items()
    ]
    geoms = kept.geometry.to_numpy()
    if _GEOMETRY_TYPES[kind] == "MULTIPOLYGON":
        geoms = _promote(geoms)
    rows = list(zip(_to_blobs(geoms), *values, strict=True))
    names = [GEOM, *data]
    key = names.index(id_col)
    current = {
        r[key + 1]: (r[0], tuple(r[1:]))
        for r in con.execute(
            f"SELECT {FID}, {', '.join(_q(n) for n in names)} FROM {_q(table)} "
            f"WHERE {s.SUPERSEDED_BY} IS NULL AND {s.IMPORT_SOURCE} = ?",
            (source,),
        )
    }
    inserts, replaced = [], []
    unchanged = 0
    for row in rows:
        found = current.get(row[key])
        if found is None:
            inserts.append(row)
        elif found[1] == row:
            unchanged += 1
        else:
            replaced.append((import_id, found[0]))
            inserts.append(row)
    con.executemany(
        f"UPDATE {_q(table)} SET {s.SUPERSEDED_BY} = ? WHERE {FID} = ?",
        replaced,
    )
    marks = ", ".join("?" * (len(names) + 2))
    con.executemany(
        f"INSERT INTO {_q(table)} ({', '.join(_q(n) for n in names)}, {s.IMPORT_ID}, "
        f"{s.IMPORT_SOURCE}) VALUES ({marks})",
        [(*row, import_id, source) for row in inserts],
    )
    return len(inserts) - len(replaced), len(replaced), unchanged, notes


def _write_rejects(
    con: sqlite3.Connection, kind: str, rejected: gpd.GeoDataFrame, import_id: int
) -> None:
    if not len(rejected):
        return
    id_col = s.ID_COLUMN[kind]
    if isinstance(rejected, gpd.GeoDataFrame):  # what GeoPackage readers may read: valid
        rejected = mio.with_valid_geometry(rejected)
    geometry = rejected.geometry.name if isinstance(rejected, gpd.GeoDataFrame) else None
    skip = {geometry, mio.SOURCE_FILE, mio.SOURCE_ROW, mio.PROBLEM}
    attributes = [c for c in rejected.columns if c not in skip]
    blobs = (
        _to_blobs(rejected.geometry.to_numpy()) if geometry is not None else [None] * len(rejected)
    )
    rows = []
    for blob, (_, feature) in zip(blobs, rejected.iterrows(), strict=True):
        values = {str(c): _json_value(feature[c]) for c in attributes}
        feature_id = values.get(id_col)
        rows.append(
            (
                blob,
                import_id,
                kind,
                int(feature[mio.SOURCE_ROW]) if pd.notna(feature[mio.SOURCE_ROW]) else None,
                None if feature_id is None else str(feature_id),
                str(feature[mio.PROBLEM]),
                json.dumps(values, ensure_ascii=False, allow_nan=False),
            )
        )
    con.executemany(
        f"INSERT INTO {REJECTS_TABLE} ({GEOM}, {s.IMPORT_ID}, {s.LAYER}, {mio.SOURCE_ROW}, "
        f"{s.FEATURE_ID}, {mio.PROBLEM}, {s.ATTRIBUTES}) VALUES (?, ?, ?, ?, ?, ?, ?)",
        rows,
    )


def _touch_contents(con: sqlite3.Connection, kind: str, stamp: str, loaded: mio.Loaded) -> None:
    """Update gpkg_contents: last change, and the extent of the layers that grew."""
    change = stamp[:23] + "Z"  # GeoPackage: to the millisecond
    extents = {history_table(kind): loaded.kept, kind: loaded.kept, REJECTS_TABLE: loaded.rejected}
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


# --- reading ------------------------------------------------------------------------


def read_workspace(workspace, kind: str, *, known_on=None) -> gpd.GeoDataFrame:
    """The current records of one layer, or the records as known on a day.

    Parameters
    ----------
    workspace
        A workspace.
    kind
        ``hazards``, ``releases``, ``items`` or ``districts``.
    known_on
        A day (``date`` or ``YYYY-MM-DD``: as known at the end of that day, UTC)
        or a moment (``datetime`` or ``YYYY-MM-DDTHH:MM``, UTC). Default: now.

    Returns
    -------
    GeoDataFrame
        The layer as :func:`minemap.io.load_layers` gives it (canonical columns
        and types, EPSG:4326), records in the order they were first added.
        Polygons come as MultiPolygons. Optional columns no record fills are left out.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from minemap import datasets
    >>> ws = create_workspace(pathlib.Path(tempfile.mkdtemp()) / "ws.gpkg")
    >>> _ = add_file(ws, "districts", datasets.get_path("districts"))
    >>> read_workspace(ws, "districts").crs.to_epsg()
    4326
    >>> len(read_workspace(ws, "districts", known_on="2000-01-01"))
    0
    """
    return read_workspace_layers(workspace, [kind], known_on=known_on)[kind]


def read_workspace_layers(
    workspace, kinds: Iterable[str] = s.LAYER_KINDS, *, known_on=None
) -> dict[str, gpd.GeoDataFrame]:
    """Several layers of a workspace as one consistent state (see :func:`read_workspace`).

    They are read in one transaction: an import under way is either in all of
    them or in none. ``frame.attrs["import_id"]`` is the last import they include.
    """
    kinds = list(kinds)
    for kind in kinds:
        _check_kind(kind)
    path = Path(workspace)
    with _reading(path) as con:
        upto = _last_import(con, path, None if known_on is None else _cutoff(known_on))
        return _read_layers(con, path, kinds, upto=upto)


def _imports(con: sqlite3.Connection, path: Path) -> pd.DataFrame:
    """The log's rows (every column), verified, in order."""
    columns, rows, _ = _scan(con, path, IMPORTS_TABLE)
    return pd.DataFrame.from_records(rows, columns=columns)


def _last_import(con: sqlite3.Connection, path: Path, cutoff: str | None) -> int:
    """The last import made before ``cutoff`` (0 when none; every import when no cutoff)."""
    log = _imports(con, path)
    if cutoff is not None:
        log = log[log[s.IMPORTED_AT] < cutoff]
    return int(log[s.IMPORT_ID].max()) if len(log) else 0


def _read_layers(
    con: sqlite3.Connection, path: Path, kinds: Iterable[str], *, upto: int | None
) -> dict[str, gpd.GeoDataFrame]:
    """Records of each kind known after import ``upto`` (the current ones for None)."""
    out = {}
    last = upto if upto is not None else _last_import(con, path, None)
    for kind in kinds:
        frame = _select_versions(con, path, kind, upto=upto)
        required = {s.GEOMETRY, *s.REQUIRED[kind]}
        empty = [c for c in frame.columns if c not in required and frame[c].isna().all()]
        frame = frame.drop(columns=empty)
        frame.attrs["import_id"] = last
        out[kind] = frame
    return out


def _select_versions(
    con: sqlite3.Connection,
    path: Path,
    kind: str,
    *,
    upto: int | None = None,
    history: bool = False,
) -> gpd.GeoDataFrame:
    """The versions of a layer's records: current, as known after import ``upto``, or all.

    The whole history table is read and verified (:func:`_scan`), then selected
    here: no index is used, as the checksums do not cover them.
    """
    table = history_table(kind)
    columns, rows, blobs = _scan(con, path, table)
    at = {c: i for i, c in enumerate(columns)}
    values = list(zip(*rows, strict=True)) if rows else [()] * len(columns)
    imported, superseded, source = (at[c] for c in _BOOKKEEPING)
    if history:
        chosen = np.arange(len(rows))
    else:
        by = np.array([v is None for v in values[superseded]], dtype=bool)
        later = np.array([-1 if v is None else v for v in values[superseded]], dtype=np.int64)
        if upto is None:
            keep = by
        else:
            keep = (np.array(values[imported], dtype=np.int64) <= upto) & (by | (later > upto))
        # Records in the order they were first added, whatever their later versions.
        fids = np.array(values[at[FID]], dtype=np.int64)
        keys = pd.DataFrame({"id": values[at[s.ID_COLUMN[kind]]], "source": values[source]})
        groups = pd.Series(fids).groupby([keys["id"], keys["source"]], sort=False, dropna=False)
        first = groups.transform("min")
        chosen = np.flatnonzero(keep)
        chosen = chosen[np.lexsort((fids[chosen], first.to_numpy()[chosen]))]
    picked = [rows[i] for i in chosen]
    geoms = _decode_checked(
        path, table, columns, picked, [blobs[i] for i in chosen], _GEOMETRY_TYPES[kind]
    )
    values = [np.asarray(column, dtype=object)[chosen] for column in values]
    data = _data_columns(con, table)
    frame = {c: _from_sql(values[at[c]], t, c, kind) for c, t in data.items()}
    if history:
        frame[s.IMPORT_ID] = pd.Series(values[imported], dtype=object).astype("Int64")
        frame[s.SUPERSEDED_BY] = pd.Series(values[superseded], dtype=object).astype("Int64")
        frame[s.IMPORT_SOURCE] = pd.Series(values[source], dtype=object).astype("string")
    return gpd.GeoDataFrame(
        pd.DataFrame(frame, index=pd.RangeIndex(len(picked))),
        geometry=gpd.GeoSeries(geoms, crs=s.CANONICAL_CRS),
        crs=s.CANONICAL_CRS,
    )


def read_history(workspace, kind: str) -> gpd.GeoDataFrame:
    """Every version of every record of a layer, oldest first.

    Besides the layer's columns: ``import_id`` (the import that brought the
    version), ``imported_at``, ``superseded_by`` (the import that replaced it;
    missing while it is current), ``superseded_at`` and ``import_source``.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from minemap import datasets
    >>> ws = create_workspace(pathlib.Path(tempfile.mkdtemp()) / "ws.gpkg")
    >>> _ = add_file(ws, "districts", datasets.get_path("districts"))
    >>> int(read_history(ws, "districts")["superseded_by"].notna().sum())
    0
    """
    _check_kind(kind)
    path = Path(workspace)
    with _reading(path) as con:
        frame = _select_versions(con, path, kind, history=True)
        log = _imports(con, path)
    when = {k: pd.Timestamp(v) for k, v in zip(log[s.IMPORT_ID], log[s.IMPORTED_AT], strict=True)}
    frame.insert(
        frame.columns.get_loc(s.IMPORT_ID) + 1,
        s.IMPORTED_AT,
        pd.to_datetime(frame[s.IMPORT_ID].map(when), utc=True),
    )
    frame.insert(
        frame.columns.get_loc(s.SUPERSEDED_BY) + 1,
        s.SUPERSEDED_AT,
        pd.to_datetime(frame[s.SUPERSEDED_BY].map(when), utc=True),
    )
    return frame


def read_imports(workspace) -> pd.DataFrame:
    """The import log: one row per import, oldest first (columns: ``schema.IMPORT_COLUMNS``).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from minemap import datasets
    >>> ws = create_workspace(pathlib.Path(tempfile.mkdtemp()) / "ws.gpkg")
    >>> _ = add_file(ws, "districts", datasets.get_path("districts"))
    >>> read_imports(ws)[["import_id", "kind", "read", "kept", "rejected"]].values.tolist()
    [[1, 'districts', 12, 12, 0]]
    """
    path = Path(workspace)
    with _reading(path) as con:
        log = _imports(con, path)
    table = log[list(s.IMPORT_COLUMNS)].reset_index(drop=True)
    table[s.IMPORTED_AT] = pd.to_datetime(table[s.IMPORTED_AT], format="ISO8601", utc=True)
    counts = [s.IMPORT_ID, s.READ, s.KEPT, s.REJECTED, s.NEW, s.SUPERSEDED, s.UNCHANGED]
    for column in [*counts, s.WARNINGS]:
        table[column] = table[column].astype("int64")
    return table


def read_rejects(workspace, *, import_id: int | None = None) -> gpd.GeoDataFrame:
    """The rejected features, with their reasons, as they were read.

    Columns: ``import_id``, ``layer`` (the kind), ``file``, ``source_row``,
    ``feature_id``, ``problem``, then the feature's own columns (a name that
    clashes with one of these gets ``_1``), and the geometry as read (missing
    when it could not be decoded).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from minemap import datasets
    >>> ws = create_workspace(pathlib.Path(tempfile.mkdtemp()) / "ws.gpkg")
    >>> _ = add_file(ws, "districts", datasets.get_path("districts"))
    >>> len(read_rejects(ws))
    0
    """
    path = Path(workspace)
    with _reading(path) as con:
        files = dict(_imports(con, path)[[s.IMPORT_ID, s.FILE]].itertuples(index=False))
        columns, rows, blobs = _scan(con, path, REJECTS_TABLE)
    at = {c: i for i, c in enumerate(columns)}
    chosen = [i for i, r in enumerate(rows) if import_id is None or r[at[s.IMPORT_ID]] == import_id]
    picked = [rows[i] for i in chosen]
    geoms = _decode_checked(
        path, REJECTS_TABLE, columns, picked, [blobs[i] for i in chosen], expected=None
    )
    base = [s.IMPORT_ID, s.LAYER, s.FILE, mio.SOURCE_ROW, s.FEATURE_ID, mio.PROBLEM]
    records = []
    for row in picked:
        record = {c: files.get(row[at[s.IMPORT_ID]]) if c == s.FILE else row[at[c]] for c in base}
        for name, value in json.loads(row[at[s.ATTRIBUTES]]).items():
            record[name if name not in record else _free_name(name, record)] = value
        records.append(record)
    table = pd.DataFrame.from_records(records, columns=None if records else base)
    for column in (s.IMPORT_ID, mio.SOURCE_ROW):
        table[column] = table[column].astype("Int64")
    return gpd.GeoDataFrame(table, geometry=gpd.GeoSeries(geoms, crs=s.CANONICAL_CRS))


# --- integrity: checksums, checks, and what a damaged workspace is told ---------------
#
# SQLite checks its own structure (PRAGMA integrity_check), not the values it stores: a
# changed byte inside a record is read back as another value, and pages carry no
# checksums. So every row minemap writes carries the checksum of its values
# (ROW_CHECKSUM), minemap_meta holds the checksum of every table as a whole, of the
# schema, and of itself, and a reader verifies them before it uses anything. A
# table's checksum (one SHA-256 over all its rows, serialised in one go) is what
# readers check: it costs a few percent of a read. The rows' checksums say which record
# is damaged once a table's does not match, and are what a salvaged copy can be sorted
# by. Writers run SQLite's integrity_check first, and a quick_check before they commit.
#
# The values are hashed as SQLite gives them back, serialised as compact UTF-8 JSON
# (integers, reals as Python's shortest round-trip repr, text, null; a BLOB other than
# the geometry as {"blob": hex}); the geometry blob is hashed as its bytes. These
# definitions are part of the file format: change them only with a migration.

#: minemap_meta keys: the checksum of the other rows of minemap_meta, and of the schema;
#: each table's is ``checksum:<table>``.
_META_CHECKSUM = "checksum"
_SCHEMA_CHECKSUM = "checksum:schema"
#: The first schema version whose workspaces carry checksums.
_CHECKSUMS_SINCE = 2
#: What a damaged workspace's message says to do (docs/workspace.md tells more).
_RECOVERY = (
    "minemap neither reads nor writes a damaged workspace. Restore it from the last good copy "
    "(a backup), or rebuild it from the files it was made of (see 'A damaged workspace' in "
    "docs/workspace.md)"
)


def verify_workspace(workspace) -> int:
    """Check a whole workspace: SQLite's integrity check, every checksum, every geometry.

    Readers verify the tables they read; this verifies everything, as
    ``minemap log --check`` does (for a backup, or a copy received).

    Returns
    -------
    int
        The number of rows checked.

    Raises
    ------
    WorkspaceDamagedError
        The workspace is damaged; the message says where and what to do.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from minemap import datasets
    >>> ws = create_workspace(pathlib.Path(tempfile.mkdtemp()) / "ws.gpkg")
    >>> _ = add_file(ws, "districts", datasets.get_path("districts"))
    >>> verify_workspace(ws)
    13
    """
    path = Path(workspace)
    checked = 0
    with _reading(path) as con:
        _integrity_check(con, path, quick=False)
        for table in _checked_tables():
            columns, rows, geoms = _scan(con, path, table)
            checked += len(rows)
            if geoms is not None:
                kind = table.removesuffix("_history")
                _decode_checked(path, table, columns, rows, geoms, _GEOMETRY_TYPES.get(kind))
    return checked


def _checked_tables() -> tuple[str, ...]:
    """The tables whose rows carry checksums."""
    return (IMPORTS_TABLE, REJECTS_TABLE, *(history_table(k) for k in s.LAYER_KINDS))


def _table_key(table: str) -> str:
    return f"checksum:{table}"


def _order_key(table: str) -> str:
    """The integer primary key of one of minemap's tables (rows are kept in its order)."""
    return s.IMPORT_ID if table == IMPORTS_TABLE else FID


def _damaged(path: Path, what: str) -> WorkspaceDamagedError:
    return WorkspaceDamagedError(path, f"is damaged: {what}; {_RECOVERY}")


def _shown(value, limit: int = 40) -> str:
    """A value for a message: cut short, control characters and damaged text escaped."""
    text = str(value)
    if len(text) > limit:
        text = text[:limit] + "…"
    return "".join(
        c if c.isprintable() else (f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}")
        for c in text
    )


def _json(value) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_json_blob).encode(
        "utf-8", "surrogateescape"
    )


def _json_blob(value):
    if isinstance(value, bytes | bytearray | memoryview):
        return {"blob": bytes(value).hex()}
    raise TypeError(f"{type(value).__name__} is not a value SQLite stores")


def _row_checksum(values: tuple, geom) -> str:
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


def _table_checksum(columns: list[str], rows: list[tuple], geoms: list | None) -> str:
    """The checksum of a whole table: its column names, every row (without the geometry)
    in order, then every geometry's length and bytes."""
    digest = hashlib.sha256(_json(columns))
    digest.update(_json(rows))
    if geoms is not None:
        lengths = [-1 if g is None else len(g) for g in geoms]
        digest.update(struct.pack(f"<{len(lengths)}q", *lengths))
        digest.update(b"".join(g for g in geoms if g is not None))
    return digest.hexdigest()


def _meta_checksum(meta: Mapping[str, str]) -> str:
    return hashlib.sha256(
        _json(sorted([k, v] for k, v in meta.items() if k != _META_CHECKSUM))
    ).hexdigest()


def _schema_names() -> set[str]:
    """minemap's own tables, views and indexes (other programs may add their own)."""
    names = {
        META_TABLE,
        IMPORTS_TABLE,
        REJECTS_TABLE,
        _IMPORTS_FILE_INDEX,
        "gpkg_spatial_ref_sys",
        "gpkg_contents",
        "gpkg_geometry_columns",
    }
    for kind in s.LAYER_KINDS:
        table = history_table(kind)
        names |= {table, kind, f"{table}_key", f"{table}_current"}
    return names


def _schema_checksum(con: sqlite3.Connection) -> str:
    names = _schema_names()
    rows = sorted(
        list(r)
        for r in con.execute("SELECT type, name, tbl_name, sql FROM sqlite_master")
        if r[1] in names
    )
    return hashlib.sha256(_json(rows)).hexdigest()


def _read_table(con: sqlite3.Connection, table: str) -> tuple[list[str], list[tuple], list | None]:
    """Every row of one of minemap's tables in order, without using any index (an index
    is not covered by the checksums): (columns but the geometry, rows, geometries)."""
    names = list(_table_columns(con, table))
    columns = [c for c in names if c != GEOM]
    key = _order_key(table)
    rows = con.execute(
        f"SELECT {', '.join(_q(c) for c in columns)} FROM {_q(table)} NOT INDEXED ORDER BY {key}"
    ).fetchall()
    geoms = None
    if GEOM in names:
        geoms = [
            r[0] for r in con.execute(f"SELECT {GEOM} FROM {_q(table)} NOT INDEXED ORDER BY {key}")
        ]
    return columns, rows, geoms


def _scan(
    con: sqlite3.Connection, path: Path, table: str, *, verify: bool = True
) -> tuple[list[str], list[tuple], list | None]:
    """:func:`_read_table`, verified against the table's checksum (see :func:`_locate_damage`)."""
    try:
        columns, rows, geoms = _read_table(con, table)
    except (sqlite3.OperationalError, UnicodeDecodeError) as exc:
        if isinstance(exc, sqlite3.OperationalError) and not _undecodable(exc):
            raise
        raise _locate_damage(con, path, table) from None
    verified = getattr(con, "verified", set())
    if verify and table not in verified:
        if _table_checksum(columns, rows, geoms) != _meta(con).get(_table_key(table)):
            raise _locate_damage(con, path, table)
        verified.add(table)
    return columns, rows, geoms


def _locate_damage(con: sqlite3.Connection, path: Path, table: str) -> WorkspaceDamagedError:
    """The error for a table that does not match its checksum: the first row that does not
    match its own, or the table as a whole (rows lost, added, or reordered)."""
    names = list(_table_columns(con, table))
    values = [c for c in names if c not in (GEOM, ROW_CHECKSUM)]
    stored = ROW_CHECKSUM if ROW_CHECKSUM in names else "NULL"
    geom = GEOM if GEOM in names else "NULL"
    saved = con.text_factory
    con.text_factory = lambda raw: raw.decode("utf-8", "surrogateescape")
    try:
        for row in con.execute(
            f"SELECT {stored}, {geom}, {', '.join(_q(c) for c in values)} FROM {_q(table)} "
            f"NOT INDEXED ORDER BY {_order_key(table)}"
        ):
            if row[0] != _row_checksum(row[2:], row[1]):
                record = _record_text(table, dict(zip(values, row[2:], strict=True)))
                return _damaged(path, f"{record} does not match its checksum")
    except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
        return _damaged(path, f"{table} cannot be read ({_shown(exc, 80)})")
    finally:
        con.text_factory = saved
    return _damaged(
        path, f"the table {table} does not match its checksum (records lost, added or moved)"
    )


def _record_text(table: str, record: Mapping) -> str:
    """Which record a row of one of minemap's tables is, in a message."""
    if table == IMPORTS_TABLE:
        return f"import #{_shown(record.get(s.IMPORT_ID))} of the log ({IMPORTS_TABLE})"
    where = (
        f"row {_shown(record.get(FID))} of {table}, from import #{_shown(record.get(s.IMPORT_ID))}"
    )
    if table == REJECTS_TABLE:
        return f"a rejected feature ({where})"
    kind = table.removesuffix("_history")
    return f"{kind} record {_shown(record.get(s.ID_COLUMN[kind]))} ({where})"


def _verify_meta(path: Path, meta: Mapping[str, str]) -> None:
    if meta.get(_META_CHECKSUM) != _meta_checksum(meta):
        raise _damaged(
            path, f"{META_TABLE} (the schema version and the checksums) does not match its checksum"
        )


def _verify_base(con: sqlite3.Connection, path: Path, version: int) -> None:
    """The schema and the log, where the workspace has checksums."""
    if version < _CHECKSUMS_SINCE:
        return
    if _schema_checksum(con) != _meta(con).get(_SCHEMA_CHECKSUM):
        raise _damaged(path, "its schema (the tables' definitions) does not match its checksum")
    _scan(con, path, IMPORTS_TABLE)


def _seal_rows(con: sqlite3.Connection, table: str, where: str = "", params=()) -> None:
    """Set the checksum of the rows of ``table`` selected by ``where`` (all by default)."""
    names = list(_table_columns(con, table))
    values = [c for c in names if c not in (GEOM, ROW_CHECKSUM)]
    key = _order_key(table)
    geom = GEOM if GEOM in names else "NULL"
    rows = con.execute(
        f"SELECT {key}, {geom}, {', '.join(_q(c) for c in values)} FROM {_q(table)} {where}",
        params,
    ).fetchall()
    con.executemany(
        f"UPDATE {_q(table)} SET {ROW_CHECKSUM} = ? WHERE {key} = ?",
        [(_row_checksum(r[2:], r[1]), r[0]) for r in rows],
    )


def _seal(con: sqlite3.Connection, tables: Iterable[str] | None = None) -> None:
    """Record the checksum of ``tables`` (default: all), of the schema and of minemap_meta
    itself (the rows' checksums are set where the rows are written, :func:`_seal_rows`)."""
    tables = _checked_tables() if tables is None else tables
    sums = {_table_key(t): _table_checksum(*_read_table(con, t)) for t in tables}
    sums[_SCHEMA_CHECKSUM] = _schema_checksum(con)
    con.executemany(f"INSERT OR REPLACE INTO {META_TABLE} (key, value) VALUES (?, ?)", sums.items())
    con.execute(
        f"INSERT OR REPLACE INTO {META_TABLE} (key, value) VALUES (?, ?)",
        (_META_CHECKSUM, _meta_checksum(_meta(con))),
    )


def _integrity_check(con: sqlite3.Connection, path: Path, *, quick: bool) -> None:
    """SQLite's own check of the file's structure (``quick``: without the indexes' contents)."""
    name = "quick_check" if quick else "integrity_check"
    problems = [r[0] for r in con.execute(f"PRAGMA {name}").fetchall()]
    if problems != ["ok"]:
        more = f" and {len(problems) - 1} more" if len(problems) > 1 else ""
        raise _damaged(path, f"SQLite's {name} fails ({_shown(problems[0], 80)}{more})")


def _looks_like_sqlite(path: Path) -> bool:
    """Whether a file SQLite cannot read was an SQLite file or a GeoPackage (a damaged one),
    from its header: SQLite's magic string (give or take a few damaged bytes), or the
    GeoPackage application id."""
    with contextlib.suppress(OSError), path.open("rb") as handle:
        head = handle.read(100)
        magic = b"SQLite format 3\0"
        alike = sum(a == b for a, b in zip(head[:16], magic, strict=False))
        return alike >= 12 or head[68:72] == b"GPKG"
    return False


def _unreadable(path: Path, exc: Exception) -> WorkspaceError:
    """SQLite cannot read the file: damaged if it was one of SQLite's, else not a workspace."""
    if not _looks_like_sqlite(path):
        return _NotAWorkspaceError(
            path,
            "is not a workspace (not a GeoPackage); give the path of a workspace, or create one "
            "with `minemap init NEW.gpkg`",
        )
    found = _quick_check_text(path)
    return _damaged(
        path, f"SQLite cannot read it ({_shown(exc, 80)}" + (f"; {found})" if found else ")")
    )


def _quick_check_text(path: Path) -> str | None:
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
    return f"quick_check: {_shown(first[0], 80)}"


# --- checked geometries --------------------------------------------------------------

#: Geometry type ids (shapely's) of the layers' GeoPackage geometry types.
_TYPE_IDS = {"MULTIPOLYGON": int(shapely.GeometryType.MULTIPOLYGON), "POINT": 0}
_ENVELOPE_SIZES = np.array([_ENVELOPE_BYTES.get(code, -1) for code in range(8)])


def _decode_geometries(blobs: list, expected: str | None) -> tuple[np.ndarray, dict[int, str]]:
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


def _decode_checked(
    path: Path, table: str, columns: list[str], rows: list[tuple], blobs: list, expected
) -> np.ndarray:
    """:func:`_decode_geometries`, raising for the first damaged geometry, naming its record."""
    geoms, problems = _decode_geometries(blobs, expected)
    if problems:
        first = min(problems)
        record = _record_text(table, dict(zip(columns, rows[first], strict=True)))
        raise _damaged(path, f"{record}: {problems[first]}")
    return geoms
