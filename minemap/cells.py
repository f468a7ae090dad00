"""From a table of cells to features: the one path CSV files and spreadsheets share.

A CSV file gives every cell as text; a spreadsheet gives numbers, dates and
text as the spreadsheet typed them. Either way the geometry comes from the same
columns (:func:`features`): a WKT column, longitude/latitude columns, an MGRS
column, or x/y (easting/northing) columns with a CRS given by the user.
Coordinates written with a decimal comma (``46,905``) are read.

Ids are kept as written (:func:`ids_as_written`): a whole number that a reader
turned into a float because one id of the column was empty (``101.0``) is
``"101"`` again, in every format.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from minemap import _screen, mgrs
from minemap import schema as s
from minemap._arguments import argument
from minemap.errors import InputFileError
from minemap.validate import GEOMETRY_NOTE

__all__ = [
    "ID_COLUMNS",
    "LAT_NAMES",
    "LON_NAMES",
    "MGRS_NAMES",
    "WKT_NAMES",
    "X_NAMES",
    "Y_NAMES",
    "features",
    "ids_as_written",
    "number_as_written",
]

#: Column names (case-insensitive) that hold WKT.
WKT_NAMES = ("wkt", "geometry", "geom", "the_geom", "wkt_geom", "shape", "geometry_wkt")
#: Longitude/latitude columns: degrees, WGS84 unless a geographic ``--crs`` names the datum.
LON_NAMES = ("longitude", "lon", "long", "lng")
LAT_NAMES = ("latitude", "lat")
#: A column of MGRS references (``38TNK1234567890``): WGS84, each the south-west
#: corner of the square it names (:mod:`minemap.mgrs`).
MGRS_NAMES = ("mgrs", "mgrs_ref", "mgrs_reference", "grid_ref", "grid_reference")
#: Easting/northing columns: their CRS must be given (``--crs``).
X_NAMES = ("x", "easting", "east")
Y_NAMES = ("y", "northing", "north")

#: Columns that hold ids (a layer's own, and the ids of records it refers to).
ID_COLUMNS = {
    "hazards": (s.HAZARD_ID,),
    "releases": (s.RELEASE_ID, s.HAZARD_ID),
    "items": (s.ITEM_ID, s.RELEASE_ID),
    "districts": (s.DISTRICT, s.ISO_3166_2),
}

#: Floats this large are not whole numbers a person typed (2**53: the last exact one).
_EXACT = 2.0**53


def number_as_written(value) -> str | None:
    """A number as a person wrote it: ``101.0`` -> ``"101"``, ``12.5`` -> ``"12.5"``.

    Up to 15 significant digits, as spreadsheets show numbers; None for a missing
    or non-finite value.

    >>> number_as_written(101.0), number_as_written(0.1 + 0.2), number_as_written(-0.0)
    ('101', '0.3', '0')
    """
    if value is None or isinstance(value, bool):
        return None if value is None else str(value).upper()
    number = float(value)
    if not np.isfinite(number):
        return None
    if number == int(number) and abs(number) < _EXACT:
        return str(int(number))
    return f"{number:.15g}"


def _cell_text(value):
    """A cell as text: numbers as written, text as it is, missing as missing."""
    if value is None or value is pd.NA:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, float | np.floating) and np.isnan(value):
        return None
    if isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool):
        return number_as_written(value)
    return str(value)


def ids_as_written(frame: pd.DataFrame, kind: str) -> pd.DataFrame:
    """Ids as text, as written: whole numbers without ``.0``.

    A reader hands a column of whole numbers over as floats as soon as one of
    them is empty (GDAL's integer fields with a null, Arrow to pandas), so
    ``101`` would become ``"101.0"`` and a corrected file, which says ``101``,
    could never supersede it. Only columns holding numbers are changed.
    """
    out = None
    for column in ID_COLUMNS.get(kind, ()):
        if column not in frame.columns:
            continue
        values = frame[column]
        numeric = pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(
            values.dtype
        )
        if not numeric and values.dtype != object:
            continue
        if values.dtype == object and not any(
            isinstance(v, float | int | np.number) and not isinstance(v, bool) for v in values
        ):
            continue
        if out is None:
            out = frame.copy()
        texts = [_cell_text(v) for v in values.to_numpy(dtype=object)]
        out[column] = pd.Series(texts, index=frame.index, dtype=object)
    return frame if out is None else out


def _find(columns: Iterable, names: tuple[str, ...]):
    lower = {}
    for column in columns:
        lower.setdefault(str(column).strip().lower(), column)
    return next((lower[n] for n in names if n in lower), None)


def _blank(values: pd.Series) -> np.ndarray:
    """Cells holding nothing: missing, or text of spaces only."""
    missing = np.array(values.isna().to_numpy(), dtype=bool)  # a copy: pandas' may be read-only
    if values.dtype == object or isinstance(values.dtype, pd.StringDtype):
        # Not Series.map: on a column with no value at all it gives floats, which a
        # boolean fill would have to cast (a pandas warning, an error in time).
        missing |= np.fromiter(
            (isinstance(v, str) and not v.strip() for v in values.to_numpy(dtype=object)),
            dtype=bool,
            count=len(values),
        )
    return missing


def _numbers(values: pd.Series) -> pd.Series:
    """Coordinates as floats: numbers as they are, text with a decimal point or comma."""
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
        return values.astype(float)
    if isinstance(values.dtype, pd.StringDtype) or pd.api.types.is_string_dtype(values.dtype):
        try:
            text = values.str.strip().str.replace(",", ".", regex=False)
        except AttributeError:  # an object column mixing numbers and text (a spreadsheet)
            text = values.map(
                lambda v: v.strip().replace(",", ".") if isinstance(v, str) else v,
                na_action="ignore",
            )
    else:
        text = values
    # Booleans and dates are not coordinates.
    text = text.map(
        lambda v: None if isinstance(v, bool | pd.Timestamp | np.datetime64) else v,
        na_action="ignore",
    )
    return pd.to_numeric(text, errors="coerce").astype(float)


def _wkt_geometries(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Geometries of a WKT column, and a note per row (``unclosed``, ``unreadable``).

    Only text is WKT: an empty cell (missing, or a float NaN as pandas gives it)
    is a feature without geometry, a number is unreadable.
    """
    raw = values.to_numpy(dtype=object)
    blank = _blank(values)
    text = np.array(
        [v if isinstance(v, str) else None for v in raw],
        dtype=object,
    )
    text[blank] = None
    # GEOS's WKT reader is recursive: text nested too deep never reaches it.
    deep = _screen.wkt_too_deep(text)
    text[deep] = None
    note = np.full(len(raw), None, dtype=object)
    geoms = shapely.from_wkt(text, on_invalid="ignore")
    failed = pd.notna(text) & pd.isna(geoms)
    if failed.any():
        geoms[failed] = shapely.from_wkt(text[failed], on_invalid="fix")
        note[failed & pd.notna(geoms)] = "unclosed"
        note[failed & pd.isna(geoms)] = "unreadable"
    not_text = ~blank & pd.isna(text) & ~deep
    note[not_text] = "unreadable"
    note[deep] = "too-deep"
    return geoms, note


def _point_geometries(xs: pd.Series, ys: pd.Series, raw_x, raw_y):
    """Points from coordinate columns; a row with one or both unreadable is noted."""
    x, y = xs.to_numpy(dtype=float), ys.to_numpy(dtype=float)
    missing = np.isnan(x) | np.isnan(y)
    geoms = shapely.points(np.where(missing, 0.0, x), np.where(missing, 0.0, y))
    geoms = np.asarray(geoms, dtype=object)
    geoms[missing] = None
    note = np.full(len(x), None, dtype=object)
    both_blank = _blank(raw_x) & _blank(raw_y)
    note[missing & ~both_blank] = "unreadable"
    return geoms, note


def _mgrs_geometries(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Points (longitude/latitude) from MGRS references, each its square's south-west corner."""
    raw = values.to_numpy(dtype=object)
    blank = _blank(values)
    geoms = np.full(len(raw), None, dtype=object)
    note = np.full(len(raw), None, dtype=object)
    utm: dict[str, tuple | None] = {}
    for text in {v for v, b in zip(raw, blank, strict=True) if not b and isinstance(v, str)}:
        try:
            utm[text] = mgrs.mgrs_to_utm(text)
        except mgrs.MGRSError:
            utm[text] = None
    zones: dict[tuple[int, str], list[int]] = {}
    for i, value in enumerate(raw):
        if blank[i]:
            continue
        found = utm.get(value) if isinstance(value, str) else None
        if found is None:
            note[i] = "unreadable"
            continue
        zones.setdefault(found[:2], []).append(i)
    for (zone, hemisphere), rows in zones.items():
        rows = np.asarray(rows)
        east = np.array([utm[raw[i]][2] for i in rows])
        north = np.array([utm[raw[i]][3] for i in rows])
        to_lonlat = pyproj.Transformer.from_crs(
            mgrs.utm_crs(zone, hemisphere), s.CANONICAL_CRS, always_xy=True
        )
        lon, lat = to_lonlat.transform(east, north)
        geoms[rows] = shapely.points(lon, lat)
    return geoms, note


def features(
    table: pd.DataFrame,
    path: Path,
    crs,
    *,
    what: str = "a CSV",
    kind: str | None = None,
    area_list: bool = False,
) -> gpd.GeoDataFrame:
    """Features from a table of cells (a CSV file's, or a spreadsheet's sheet).

    Parameters
    ----------
    table
        One row per feature, the file's column names, cells as read (text, or
        the numbers and dates a spreadsheet holds).
    path
        The file, named in errors.
    crs
        The CRS the user gave (``--crs``), or None. Longitude/latitude and MGRS
        columns need none (WGS84; a geographic ``crs`` names the datum of
        longitude/latitude); WKT and x/y columns do.
    what
        What the file is, for messages: ``"a CSV"``, ``"a spreadsheet"``.
    kind
        The layer kind read, if known (for the hint of an error).
    area_list
        The table may be a list of releases given as areas (``hazard_id`` and
        ``area_ha``, no polygon): without geometry columns, its rows are features
        without geometry (in WGS84) instead of an error.

    Returns
    -------
    GeoDataFrame
        The other columns as they are; a private ``_geometry_note`` column marks
        rings that were closed and geometries that could not be read.
    """
    wkt = _find(table.columns, WKT_NAMES)
    lon, lat = _find(table.columns, LON_NAMES), _find(table.columns, LAT_NAMES)
    grid = _find(table.columns, MGRS_NAMES)
    x, y = _find(table.columns, X_NAMES), _find(table.columns, Y_NAMES)
    if wkt is not None:
        geoms, note = _wkt_geometries(table[wkt])
        used, given_crs = [wkt], None
    elif lon is not None and lat is not None:
        geoms, note = _point_geometries(
            _numbers(table[lon]), _numbers(table[lat]), table[lon], table[lat]
        )
        used, given_crs = [lon, lat], s.CANONICAL_CRS
    elif grid is not None:
        geoms, note = _mgrs_geometries(table[grid])
        used, given_crs = [grid], s.CANONICAL_CRS
        crs = None  # an MGRS reference names its own datum (WGS84) and zone
    elif x is not None and y is not None:
        geoms, note = _point_geometries(_numbers(table[x]), _numbers(table[y]), table[x], table[y])
        used, given_crs = [x, y], None
    elif area_list:
        # Releases kept as rows, with their hazard and hectares but no position.
        geoms = np.full(len(table), None, dtype=object)
        note = np.full(len(table), None, dtype=object)
        used, given_crs, crs = [], s.CANONICAL_CRS, None
    else:
        raise InputFileError(
            path,
            "has no geometry: no WKT column (wkt, geometry), no coordinate columns "
            f"(longitude/latitude, lon/lat, or x/y with {argument('crs')}) and no MGRS column "
            "(mgrs)"
            + (
                "; a list of releases without polygons needs hazard_id and area_ha columns"
                if kind in (None, "releases")
                else ""
            ),
        )
    if given_crs is None and crs is None:
        raise InputFileError(
            path,
            f"{what} has no coordinate reference system: pass {argument('crs')} with the one its "
            "coordinates are in (EPSG:4326 for longitude/latitude), or name the columns "
            "longitude and latitude",
        )
    if (
        given_crs is not None
        and crs is not None
        and not pyproj.CRS.from_user_input(crs).is_geographic
    ):
        # Longitude/latitude columns are degrees: a projected --crs (meant for the other
        # inputs, in metres) does not apply to them; a geographic one names their datum.
        crs = None
    frame = gpd.GeoDataFrame(table.drop(columns=used), geometry=geoms, crs=crs or given_crs)
    if pd.notna(note).any():
        frame[GEOMETRY_NOTE] = note
    return frame
