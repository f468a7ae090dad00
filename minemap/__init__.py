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

from minemap.contamination import by_district, remaining
from minemap.errors import (
    InputFileError,
    MinemapError,
    OutputExistsError,
    SchemaError,
    ValidationError,
)
from minemap.io import read_districts, read_hazards, read_items, read_releases, write_layer


def render_map(*args, **kwargs):
    """Render the offline HTML map; see :func:`minemap.render.render_map`."""
    from minemap.render import render_map as _render_map

    return _render_map(*args, **kwargs)


__version__ = "0.1.0"

__all__ = [
    "InputFileError",
    "MinemapError",
    "OutputExistsError",
    "SchemaError",
    "ValidationError",
    "__version__",
    "by_district",
    "read_districts",
    "read_hazards",
    "read_items",
    "read_releases",
    "remaining",
    "render_map",
    "write_layer",
]
