"""Deprecated: the workspace is :mod:`minemap.workspace` (this module re-exports its names).

``from minemap import store`` keeps working for one release, with a
``DeprecationWarning``; use ``from minemap import workspace`` instead. Setting a
module variable here (``store.BUSY_TIMEOUT_S = ...``) no longer changes anything:
set it on :mod:`minemap.workspace.sqlite`.
"""

from __future__ import annotations

import warnings

from minemap.workspace import (
    APPLICATION_ID,
    BUSY_TIMEOUT_S,
    FID,
    GEOM,
    GPKG_VERSION,
    IMPORTS_TABLE,
    META_TABLE,
    MIGRATIONS,
    POINT_LATITUDE,
    POINT_LONGITUDE,
    PROFILE,
    REJECTS_TABLE,
    ROW_CHECKSUM,
    SCHEMA_VERSION,
    SRS_ID,
    Import,
    add_file,
    create_workspace,
    file_sha256,
    history_table,
    migrate,
    parse_known_on,
    read_history,
    read_imports,
    read_rejects,
    read_workspace,
    read_workspace_layers,
    schema_version,
    source_profile,
    verify_workspace,
)

warnings.warn(
    "minemap.store is deprecated: use minemap.workspace (the same functions)",
    DeprecationWarning,
    stacklevel=2,
)

__all__ = [
    "APPLICATION_ID",
    "BUSY_TIMEOUT_S",
    "FID",
    "GEOM",
    "GPKG_VERSION",
    "IMPORTS_TABLE",
    "META_TABLE",
    "MIGRATIONS",
    "POINT_LATITUDE",
    "POINT_LONGITUDE",
    "PROFILE",
    "REJECTS_TABLE",
    "ROW_CHECKSUM",
    "SCHEMA_VERSION",
    "SRS_ID",
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
