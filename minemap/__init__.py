"""minemap: mine-action information management in Python.

Import minefield maps and land release, compute the remaining contamination per
district on the ellipsoid, and show it on maps that work offline.

>>> import minemap as mm
>>> from minemap import datasets
>>> table = mm.by_district(datasets.hazards(), datasets.releases(), datasets.districts())
>>> table.columns[0]
'district'
"""

from __future__ import annotations

# The functions below share their names with their modules (minemap.progress,
# minemap.accuracy...): importing them here, first, binds the package attribute to
# the function; `from minemap.progress import ...` still reaches the module.
from minemap.accuracy import accuracy
from minemap.bulletins import read_reports
from minemap.contamination import by_district, remaining, remaining_over_time
from minemap.errors import (
    InputFileError,
    MGRSError,
    MinemapError,
    MisclosureError,
    NotAWorkspaceError,
    OutputExistsError,
    OutputFileError,
    PrintUnavailableError,
    ProfileError,
    RecordError,
    SchemaError,
    ValidationError,
    WorkspaceBusyError,
    WorkspaceDamagedError,
    WorkspaceError,
    WorkspacePermissionError,
)
from minemap.forecast import forecast
from minemap.io import read_districts, read_hazards, read_items, read_releases, write_layer
from minemap.priorities import priorities
from minemap.profile import read_profile
from minemap.progress import progress
from minemap.records import read_record, traverse
from minemap.workspace import read_workspace


def __getattr__(name: str):
    # minemap.render_map is minemap.render.render_map itself (its signature and
    # docstring), imported on first use so that `import minemap` loads no folium.
    if name == "render_map":
        from minemap.render import render_map

        globals()["render_map"] = render_map
        return render_map
    raise AttributeError(f"module 'minemap' has no attribute {name!r}")


__version__ = "0.1.0"

__all__ = [
    "InputFileError",
    "MGRSError",
    "MinemapError",
    "MisclosureError",
    "NotAWorkspaceError",
    "OutputExistsError",
    "OutputFileError",
    "PrintUnavailableError",
    "ProfileError",
    "RecordError",
    "SchemaError",
    "ValidationError",
    "WorkspaceBusyError",
    "WorkspaceDamagedError",
    "WorkspaceError",
    "WorkspacePermissionError",
    "__version__",
    "accuracy",
    "by_district",
    "forecast",
    "priorities",
    "progress",
    "read_districts",
    "read_hazards",
    "read_items",
    "read_profile",
    "read_record",
    "read_releases",
    "read_reports",
    "read_workspace",
    "remaining",
    "remaining_over_time",
    "render_map",
    "traverse",
    "write_layer",
]
