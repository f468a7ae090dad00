"""The bundled sample: real district boundaries, synthetic hazards and releases.

The files live in the repository's ``data/`` folder, with the script that makes
them and their attribution; wheels carry a copy inside the package.

Examples
--------
>>> from minemap import datasets
>>> len(datasets.districts())
12
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import geopandas as gpd

__all__ = ["available", "districts", "get_path", "hazards", "releases"]

_FILES = {
    "districts": "districts.geojson",
    "hazards": "hazards.geojson",
    "releases": "releases.geojson",
    "attribution": "ATTRIBUTION.md",
}


def _folder() -> Path:
    packaged = Path(str(resources.files("minemap"))) / "_sample"
    if packaged.is_dir():
        return packaged
    # A source checkout or an editable install: the repository's data/ folder.
    return Path(__file__).resolve().parent.parent / "data"


def available() -> list[str]:
    """Names of the bundled sample files."""
    return sorted(_FILES)


def get_path(name: str) -> Path:
    """Path of a bundled sample file (``districts``, ``hazards``, ``releases``, ``attribution``)."""
    try:
        filename = _FILES[name]
    except KeyError:
        raise ValueError(
            f"no sample named {name!r}; choose one of {', '.join(available())}"
        ) from None
    path = _folder() / filename
    if not path.is_file():
        raise FileNotFoundError(
            f"the sample file {path} is missing; reinstall minemap, or in a source checkout "
            "regenerate it with the scripts in tools/sample/ (see data/README.md)"
        )
    return path


def _read(name: str) -> gpd.GeoDataFrame:
    from minemap.io import read_layer

    return read_layer(get_path(name), name)


def districts() -> gpd.GeoDataFrame:
    """The 12 district polygons (geoBoundaries, CC BY-SA 3.0; see ``ATTRIBUTION.md``)."""
    return _read("districts")


def hazards() -> gpd.GeoDataFrame:
    """Synthetic submitted minefield records inside the real districts."""
    return _read("hazards")


def releases() -> gpd.GeoDataFrame:
    """Synthetic land releases (cancelled, reduced, cleared), November 2020 onwards."""
    return _read("releases")
