"""The workspace: every submission and release, kept, with history.

A workspace keeps every file added to it:

- **The log.** Each import is a row of ``minemap_imports``: when (UTC), which
  file, its SHA-256, how it was read, how many features were kept and rejected,
  the ``source`` (who handed it over) when given, and its review status.
- **History.** Each record (a hazard, a release, an item, a district) keeps
  every version it ever had in ``<kind>_history``. A record is known by its id
  and the source of its import: a later file from the same source with the same
  id supersedes the earlier version, which stays in the history.
  :func:`read_workspace` gives the current records, or the records *as they were
  known* on an earlier day (``known_on``).
- **Nothing lost.** Rejected features are stored with their reasons. Adding the
  same file twice changes nothing.
- **One transaction per import**: a process killed at any moment leaves the old
  state or the new one.

Two kinds of workspace behave the same (the import rules, :mod:`.imports`, and
the readers, :mod:`.readers`, are written once):

- a **GeoPackage** file (``*.gpkg``, :mod:`.sqlite`): embedded, no server, one
  file to back up, one writer at a time; every row carries a checksum
  (:mod:`.integrity`), as SQLite's pages carry none;
- a **PostgreSQL + PostGIS** database (``postgresql://USER@HOST[:PORT]/DB``,
  :mod:`.postgis`): many writers at once, roles enforced by the database
  (viewer, submitter, manager: :func:`grant`), and review of submitters' imports
  (:func:`review`) before they count.

:func:`copy_workspace` moves a workspace from one kind to the other. QGIS and GDAL
open both. ``docs/workspace.md`` describes the layouts in full.

Examples
--------
>>> import pathlib, tempfile
>>> from minemap import datasets, workspace
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> ws = workspace.create_workspace(folder / "workspace.gpkg")
>>> workspace.add_file(ws, "districts", datasets.get_path("districts")).kept
12
>>> workspace.add_file(ws, "districts", datasets.get_path("districts")).already
True
>>> len(workspace.read_workspace(ws, "districts"))
12
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterable, Mapping
from pathlib import Path

import geopandas as gpd
import pandas as pd

from minemap import schema as s
from minemap.errors import InputFileError, WorkspaceError
from minemap.profile import Profile
from minemap.validate import MAX_SEGMENT_M
from minemap.workspace import imports, readers, sqlite
from minemap.workspace.gpkg import APPLICATION_ID, GPKG_VERSION
from minemap.workspace.imports import POINT_LATITUDE, POINT_LONGITUDE
from minemap.workspace.model import (
    ACCEPTED,
    FID,
    GEOM,
    IMPORTS_TABLE,
    META_TABLE,
    PENDING,
    PROFILE,
    REJECTED,
    REJECTS_TABLE,
    ROW_CHECKSUM,
    SRS_ID,
    Import,
    check_kind,
    cutoff,
    file_sha256,
    history_table,
    parse_known_on,
    stored_profile,
)
from minemap.workspace.sqlite import BUSY_TIMEOUT_S, MIGRATIONS, SCHEMA_VERSION

__all__ = [
    "ACCEPTED",
    "APPLICATION_ID",
    "BUSY_TIMEOUT_S",
    "FID",
    "GEOM",
    "GPKG_VERSION",
    "IMPORTS_TABLE",
    "META_TABLE",
    "MIGRATIONS",
    "PENDING",
    "POINT_LATITUDE",
    "POINT_LONGITUDE",
    "PROFILE",
    "REJECTED",
    "REJECTS_TABLE",
    "ROW_CHECKSUM",
    "SCHEMA_VERSION",
    "SRS_ID",
    "Import",
    "add_file",
    "copy_workspace",
    "create_workspace",
    "file_sha256",
    "grant",
    "history_table",
    "is_url",
    "migrate",
    "parse_known_on",
    "read_history",
    "read_imports",
    "read_rejects",
    "read_workspace",
    "read_workspace_layers",
    "review",
    "revoke",
    "schema_version",
    "shown_location",
    "source_profile",
    "verify_workspace",
]

#: The beginnings of a PostgreSQL workspace's location (a libpq URL).
URL_SCHEMES = ("postgresql://", "postgres://")


def is_url(workspace) -> bool:
    """Whether ``workspace`` names a PostgreSQL database rather than a GeoPackage file."""
    return isinstance(workspace, str) and workspace.lower().startswith(URL_SCHEMES)


def shown_location(workspace) -> str:
    """A workspace's location for messages: a URL without any password in it."""
    if is_url(workspace):
        from minemap.workspace import pgconnect

        return pgconnect.shown(workspace)
    return str(workspace)


def _backend(workspace):
    """The backend module and the location it takes (a Path, or a libpq URL)."""
    if is_url(workspace):
        from minemap.workspace import postgis

        return postgis, workspace
    return sqlite, Path(workspace)


# --- creating -----------------------------------------------------------------------


def create_workspace(workspace, *, overwrite: bool = False):
    """Create an empty workspace: a GeoPackage file, or minemap's schema in a database.

    A GeoPackage is created atomically; an existing one is replaced only when it
    holds no import and ``overwrite`` is given: a workspace that holds imports is
    never replaced (its whole history would go), nor is any other file. In an
    existing PostgreSQL database, ``minemap``'s schema is created (and the
    ``postgis`` extension, if the user may); a database that already holds a
    workspace is left as it is (with imports, never replaced).

    Parameters
    ----------
    workspace
        A file ending in ``.gpkg``, or ``postgresql://USER@HOST[:PORT]/DB``.
    overwrite
        Replace an existing *empty* workspace (refused while an import is writing to it).

    Returns
    -------
    Path or str
        ``workspace`` (a Path for a file).

    Raises
    ------
    OutputExistsError
        ``workspace`` is an empty workspace and ``overwrite`` is not given.
    WorkspaceError
        It exists and holds imports, or is not a workspace; or it cannot be
        written (a full disk, no permission).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = create_workspace(pathlib.Path(tempfile.mkdtemp()) / "ws.gpkg")
    >>> schema_version(path) == SCHEMA_VERSION
    True
    """
    backend, location = _backend(workspace)
    return backend.create_workspace(location, overwrite=overwrite)


def schema_version(workspace) -> int:
    """The schema version of a workspace (raise if it is not one)."""
    backend, location = _backend(workspace)
    return backend.schema_version(location)


def migrate(workspace) -> tuple[int, int]:
    """Bring a workspace to the current schema version in one transaction; return (before,
    after). Writing to a workspace (:func:`add_file`) and reading it migrate it first anyway."""
    backend, location = _backend(workspace)
    return backend.migrate(location)


# --- adding a file ------------------------------------------------------------------


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
    unique, and one source cannot overwrite another's records. The rules are
    those of :mod:`minemap.workspace.imports`, for both kinds of workspace.

    Parameters
    ----------
    workspace
        A workspace made by :func:`create_workspace` (a file or a URL).
    kind
        ``hazards``, ``releases``, ``items`` or ``districts``.
    path
        The file (any format :func:`minemap.io.read_file` reads).
    source
        Who handed the file over (an organisation, a team, a map's name): kept
        in the log, and with each record's id the key that supersession uses.
        A submitter on a PostgreSQL workspace adds under its own sources only.
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
        not count as imported (adding it again reads it again). ``status`` is
        ``pending`` for a submitter's import until a manager reviews it.

    Raises
    ------
    WorkspaceBusyError
        Another import is writing to a GeoPackage workspace.
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
    check_kind(kind)
    backend, location = _backend(workspace)
    path = Path(path)
    if (
        not is_url(workspace)
        and path.exists()
        and location.exists()
        and path.resolve() == location.resolve()
    ):
        raise InputFileError(path, "is the workspace itself; add the files it is made of")
    digest = file_sha256(path)  # (a missing file is said before the workspace is opened)
    with backend.write_session(location, kind) as session:
        return imports.add(
            session,
            kind,
            path,
            digest=digest,
            source=(source or "").strip(),
            layer=layer,
            mapping=mapping,
            crs=crs,
            imported_at=imported_at,
            today=today,
            max_segment_m=max_segment_m,
            profile=profile,
            reuse_profile=reuse_profile,
            reading=reading,
        )


# --- reading ------------------------------------------------------------------------


def read_workspace(
    workspace, kind: str, *, known_on=None, include_pending: bool = False
) -> gpd.GeoDataFrame:
    """The current records of one layer, or the records as known on a day.

    Parameters
    ----------
    workspace
        A workspace (a file or a URL).
    kind
        ``hazards``, ``releases``, ``items`` or ``districts``.
    known_on
        A day (``date`` or ``YYYY-MM-DD``: as known at the end of that day, UTC)
        or a moment (``datetime`` or ``YYYY-MM-DDTHH:MM``, UTC). Default: now.
    include_pending
        Count the imports waiting for review too (a preview); by default only
        accepted imports count.

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
    return read_workspace_layers(
        workspace, [kind], known_on=known_on, include_pending=include_pending
    )[kind]


def read_workspace_layers(
    workspace, kinds: Iterable[str] = s.LAYER_KINDS, *, known_on=None, include_pending=False
) -> dict[str, gpd.GeoDataFrame]:
    """Several layers of a workspace as one consistent state (see :func:`read_workspace`).

    They are read in one transaction: an import under way is either in all of
    them or in none. ``frame.attrs["import_id"]`` is the last import they include.
    """
    kinds = list(kinds)
    for kind in kinds:
        check_kind(kind)
    with _reading(workspace) as session:
        limit = None if known_on is None else cutoff(known_on)
        upto = readers.last_import(session.log(), limit)
        return readers.layers(session, kinds, upto=upto, include_pending=include_pending)


@contextlib.contextmanager
def _reading(workspace):
    backend, location = _backend(workspace)
    with backend.read_session(location) as session:
        yield session


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
    check_kind(kind)
    with _reading(workspace) as session:
        return readers.history(session, kind)


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
    with _reading(workspace) as session:
        return stored_profile(session.log(), source)


def read_imports(workspace) -> pd.DataFrame:
    """The import log: one row per import, oldest first (columns: ``schema.IMPORT_COLUMNS``
    and ``schema.REVIEW_COLUMNS``: status, who imported, who reviewed, when, why).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from minemap import datasets
    >>> ws = create_workspace(pathlib.Path(tempfile.mkdtemp()) / "ws.gpkg")
    >>> _ = add_file(ws, "districts", datasets.get_path("districts"))
    >>> read_imports(ws)[["import_id", "kind", "read", "kept", "status"]].values.tolist()
    [[1, 'districts', 12, 12, 'accepted']]
    """
    with _reading(workspace) as session:
        return readers.imports(session.log())


def read_rejects(workspace, *, import_id: int | None = None) -> gpd.GeoDataFrame:
    """The rejected features, with their reasons, as they were read.

    Columns: ``import_id``, ``layer`` (the kind), ``file``, ``source_row``,
    ``feature_id``, ``problem``, then the feature's own columns (a name that
    clashes with one of these gets ``_1``), and the geometry as read (missing
    when it could not be decoded). A submitter sees the rejects of its own
    sources only.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from minemap import datasets
    >>> ws = create_workspace(pathlib.Path(tempfile.mkdtemp()) / "ws.gpkg")
    >>> _ = add_file(ws, "districts", datasets.get_path("districts"))
    >>> len(read_rejects(ws))
    0
    """
    with _reading(workspace) as session:
        log = session.log()
        rows, geoms = session.rejects()
    return readers.rejects(rows, geoms, log, import_id=import_id)


def verify_workspace(workspace) -> int:
    """Check a whole workspace; return the number of rows checked.

    A GeoPackage: SQLite's integrity check, every checksum, every geometry. A
    PostgreSQL workspace: every row read and every geometry checked (type, SRID,
    WKB), every version and reject pointing at an import of the log; the server's
    own data checksums guard the pages (see docs/workspace.md).

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
    backend, location = _backend(workspace)
    return backend.verify_workspace(location)


# --- PostgreSQL only: roles, review; and copying between the kinds --------------------


def _database_only(workspace, what: str):
    if not is_url(workspace):
        raise WorkspaceError(
            workspace,
            f"is a GeoPackage workspace: it has one user and no {what} (every import is "
            "accepted); roles and review are for a PostgreSQL workspace "
            "(postgresql://USER@HOST/DB)",
        )
    from minemap.workspace import roles

    return roles


def grant(workspace, user: str, role: str, *, sources: Iterable[str] = ()) -> str:
    """Let a database user into a PostgreSQL workspace as ``viewer``, ``submitter`` (adding
    under ``sources`` only) or ``manager``; the login role is created if needed. Returns
    a line saying what was done."""
    return _database_only(workspace, "roles").grant(workspace, user, role, sources=sources)


def revoke(workspace, user: str, role: str | None = None, *, sources: Iterable[str] = ()) -> str:
    """Take a role (or some of a submitter's sources, or every role) from a user."""
    return _database_only(workspace, "roles").revoke(workspace, user, role, sources=sources)


def review(workspace, import_id: int, *, accept: bool, reason: str | None = None) -> Import:
    """Accept or reject a pending import (a manager, on a PostgreSQL workspace)."""
    return _database_only(workspace, "review").review(
        workspace, import_id, accept=accept, reason=reason
    )


def copy_workspace(source, target) -> int:
    """Copy a whole workspace into a new one of either kind, losslessly: the log (with its
    review), every version of every record, every reject. Returns the imports copied."""
    from minemap.workspace import copy

    return copy.copy_workspace(source, target)
