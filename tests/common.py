"""Shared fixtures: rectangles in an equal-area CRS, strips drawn in UTM, copies in two formats."""

from __future__ import annotations

import itertools
import os
import pickle
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from minemap import schema as s

#: Lambert azimuthal equal-area on WGS84 centred at 0°N 0°E: metres, exact areas. (Near
#: Aghdam, PROJ's inverse LAEA moves vertices by a fraction of a millimetre, about 1e-5 of
#: the area of a 25 m square; at the equator it is exact to 1e-9, which exact tests need.)
LAEA = "+proj=laea +lat_0=0 +lon_0=0 +ellps=WGS84 +units=m +no_defs"

#: With MINEMAP_SLOW=1 (CI: the tests marked slow run too) the property tests run
#: their full number of examples; a default run a quarter of them (at least 10).
SLOW = os.environ.get("MINEMAP_SLOW") == "1"


def examples(n: int) -> int:
    """``max_examples`` for a property test: ``n`` with MINEMAP_SLOW=1, else ``n // 4``
    (at least 10)."""
    return n if SLOW else max(10, n // 4)


T = TypeVar("T")


def made_once(tmp_path_factory, name: str, make: Callable[[Path], T]) -> T:
    """``make(folder)`` run once per test run, its result shared by every xdist worker.

    Without xdist (or without ``fcntl``) each process makes its own, in a folder of
    its own. Under xdist the first worker to come makes it in a folder shared by
    the run's workers and pickles the result beside it; the others wait on a lock
    (``flock``) while it does, then read that result.
    """
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    try:
        import fcntl
    except ImportError:  # Windows
        worker = None
    if worker is None:
        return make(tmp_path_factory.mktemp(name))
    shared = tmp_path_factory.getbasetemp().parent  # the run's, above each worker's
    done = shared / f"{name}.pickle"
    with (shared / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if done.exists():
            return pickle.loads(done.read_bytes())
        folder = shared / name
        folder.mkdir()
        made = make(folder)
        done.write_bytes(pickle.dumps(made))
        return made


def box(x0: float, y0: float, x1: float, y1: float) -> shapely.Polygon:
    """A rectangle in metres in :data:`LAEA`."""
    return shapely.box(x0, y0, x1, y1)


def hazards(*geoms, ap=None, at=None, ids=None, district=None) -> gpd.GeoDataFrame:
    n = len(geoms)
    frame = pd.DataFrame(
        {
            s.HAZARD_ID: ids or [f"H{i + 1}" for i in range(n)],
            s.MINES_AP: ap if ap is not None else [100] * n,
            s.MINES_AT: at if at is not None else [0] * n,
        }
    )
    if district is not None:
        frame[s.DISTRICT] = district
    return gpd.GeoDataFrame(frame, geometry=list(geoms), crs=LAEA)


def releases(*geoms, dates=None, methods=None) -> gpd.GeoDataFrame:
    n = len(geoms)
    frame = pd.DataFrame(
        {
            s.RELEASE_ID: [f"R{i + 1}" for i in range(n)],
            s.RELEASED_ON: pd.to_datetime(dates or ["2022-01-03"] * n),
            s.METHOD: methods or ["cleared"] * n,
        }
    )
    return gpd.GeoDataFrame(frame, geometry=list(geoms), crs=LAEA)


def districts(names, geoms) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({s.DISTRICT: names}, geometry=list(geoms), crs=LAEA)


# --- strips cut along a hazard's own vertices, as teams draw them ----------------

#: UTM zone 38N: the CRS field teams near Aghdam draw in.
UTM38N = "EPSG:32638"


def star(cx: float, cy: float, angles, radii) -> shapely.Polygon:
    """A simple polygon: vertices at sorted ``angles`` (radians) and ``radii`` around a centre."""
    order = np.argsort(angles)
    a, r = np.asarray(angles, dtype=float)[order], np.asarray(radii, dtype=float)[order]
    return shapely.Polygon(np.c_[cx + r * np.cos(a), cy + r * np.sin(a)])


def strips(hazard: shapely.Polygon, theta: float, cuts, overlaps) -> list:
    """The hazard cut into strips across direction ``theta``, as releases are drawn.

    ``cuts`` are fractions (0..1) of the hazard's extent along ``theta`` where one
    strip ends and the next begins; ``overlaps[i]`` (metres, 0 = a shared edge)
    widens strip ``i`` on both sides, so neighbours overlap by about that much.
    Each strip is the hazard intersected with a band: its new vertices lie on the
    hazard's edges and its other vertices are the hazard's own.
    """
    d = np.array([np.cos(theta), np.sin(theta)])
    rotate = np.array([[d[0], -d[1]], [d[1], d[0]]])
    along = shapely.get_coordinates(hazard) @ d
    lo, hi = along.min(), along.max()
    edges = [lo - 10.0, *(lo + (hi - lo) * np.sort(np.asarray(cuts, dtype=float))), hi + 10.0]
    out = []
    for (a, b), widen in zip(itertools.pairwise(edges), overlaps, strict=False):
        far = 1e8
        corners = np.array(
            [[a - widen, -far], [b + widen, -far], [b + widen, far], [a - widen, far]]
        )
        strip = shapely.intersection(hazard, shapely.Polygon(corners @ rotate.T))
        parts = shapely.get_parts(strip)
        parts = parts[np.isin(shapely.get_type_id(parts), [3, 6]) & (shapely.area(parts) > 0)]
        if len(parts):
            out.append(parts[0] if len(parts) == 1 else shapely.multipolygons(parts))
    return out


# --- the same releases in two files ----------------------------------------------


def weekly_releases() -> gpd.GeoDataFrame:
    """Three releases as a team's weekly Shapefile and the KML of the same areas hold them."""
    strips = [
        shapely.Polygon(
            [(46.9001, 39.9801), (46.9034, 39.9802), (46.9031, 39.9837), (46.9003, 39.983)]
        ),
        shapely.box(46.911, 39.981, 46.9137, 39.9833),
        shapely.Polygon([(46.921, 39.981), (46.925, 39.9811), (46.9229, 39.9846)]),
    ]
    return gpd.GeoDataFrame(
        {
            "release_id": ["R-2024-001", "R-2024-002", "R-2024-003"],
            "released_on": ["2024-03-04", "2024-03-05", "2024-03-07"],
            "method": ["cleared", "reduced", "cancelled"],
            "items_ap": [3, 0, 0],
            "organisation": ["ANAMA team 4", "ANAMA team 4", "Partner NGO A"],
        },
        geometry=strips,
        crs="EPSG:4326",
    )


def shapefile_and_kml(tmp_path, kml_frame=None, frame=None) -> tuple[Path, Path]:
    """A frame written by GDAL as a Shapefile and as KML (rings turned, names cut...).

    ``frame`` defaults to :func:`weekly_releases`; ``kml_frame`` (default: the same)
    is what goes into the KML.
    """
    frame = weekly_releases() if frame is None else frame
    shp, kml = tmp_path / "week10.shp", tmp_path / "week10.kml"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # released_on cut to released_o
        pyogrio.write_dataframe(frame, shp, driver="ESRI Shapefile")
    pyogrio.write_dataframe(kml_frame if kml_frame is not None else frame, kml, driver="KML")
    return shp, kml
