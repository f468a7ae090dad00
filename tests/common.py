"""Small exact fixtures: rectangles in metres in an equal-area CRS."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import shapely

from minemap import schema as s

#: Lambert azimuthal equal-area on WGS84 centred at 0°N 0°E: metres, exact areas. (Near
#: Aghdam, PROJ's inverse LAEA moves vertices by a fraction of a millimetre, about 1e-5 of
#: the area of a 25 m square; at the equator it is exact to 1e-9, which exact tests need.)
LAEA = "+proj=laea +lat_0=0 +lon_0=0 +ellps=WGS84 +units=m +no_defs"


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
