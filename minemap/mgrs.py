"""The Military Grid Reference System (MGRS) on WGS84, to and from UTM.

An MGRS reference such as ``38TNK 12345 67890`` is a UTM zone (``38``), a
latitude band (``T``), a 100 km square (column ``N``, row ``K``) and a
numerical location inside that square (here to 1 m). This module converts
between MGRS and UTM (zone, hemisphere, easting, northing) with the standard
"AA" lettering used on WGS84 maps (NGA, STANAG 2211); UTM to and from
longitude/latitude goes through :mod:`pyproj`. The polar regions (UPS, bands
A, B, Y, Z) are not supported: no minefield record needs them here.

An MGRS reference names a square, not a point: :func:`mgrs_to_utm` returns its
south-west corner, as the standard and the usual tools (GeoTrans, the ``mgrs``
package) do; digits are truncated, never rounded, when writing one.

Examples
--------
>>> mgrs_to_utm("18SUJ2348306479")
(18, 'N', 323483.0, 4306479.0)
>>> utm_to_mgrs(18, "N", 323483.0, 4306479.0)
'18SUJ2348306479'
"""

from __future__ import annotations

import functools
import math
import re

import pyproj

from minemap._text import show
from minemap.errors import MGRSError

__all__ = [
    "BANDS",
    "MGRSError",  # defined in minemap.errors, still importable from here
    "latlon_to_mgrs",
    "latlon_to_utm",
    "mgrs_to_latlon",
    "mgrs_to_utm",
    "parse_mgrs",
    "utm_crs",
    "utm_to_latlon",
    "utm_to_mgrs",
    "utm_zone_for",
]


#: Latitude bands C..X (I and O are never used), 8 degrees each from 80°S; X spans 72-84°N.
BANDS = "CDEFGHJKLMNPQRSTUVWX"
#: 100 km column letters: three sets of eight, for zones 1, 2, 3, 4, 5, 6...
_COLUMN_SETS = ("ABCDEFGH", "JKLMNPQR", "STUVWXYZ")
#: 100 km row letters, repeating every 2,000 km of northing; even zones start 5 letters on.
_ROWS = "ABCDEFGHJKLMNPQRSTUV"
_ROW_CYCLE_M = 2_000_000.0
_SQUARE_M = 100_000.0
_FALSE_NORTHING_SOUTH = 10_000_000.0

_PATTERN = re.compile(r"^(\d{1,2})([C-HJ-NP-X])([A-HJ-NP-Z])([A-HJ-NP-V])(\d*)$")


def utm_crs(zone: int, hemisphere: str) -> pyproj.CRS:
    """The WGS84 UTM CRS of a zone (1-60) and hemisphere (``N`` or ``S``)."""
    zone, hemisphere = _check_zone(zone, hemisphere)
    return pyproj.CRS.from_epsg((32600 if hemisphere == "N" else 32700) + zone)


@functools.lru_cache(maxsize=256)
def _to_lonlat(zone: int, hemisphere: str) -> pyproj.Transformer:
    return pyproj.Transformer.from_crs(utm_crs(zone, hemisphere), "EPSG:4326", always_xy=True)


@functools.lru_cache(maxsize=256)
def _from_lonlat(zone: int, hemisphere: str) -> pyproj.Transformer:
    return pyproj.Transformer.from_crs("EPSG:4326", utm_crs(zone, hemisphere), always_xy=True)


def _check_zone(zone: object, hemisphere: object) -> tuple[int, str]:
    try:
        number = int(zone)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise MGRSError(f"UTM zone {show(zone)} is not a number from 1 to 60") from None
    if (number != zone and str(number) != str(zone).strip()) or not 1 <= number <= 60:
        raise MGRSError(f"UTM zone {show(zone)} is not a whole number from 1 to 60")
    letter = str(hemisphere).strip().upper()[:1]
    if letter not in ("N", "S"):
        raise MGRSError(f"UTM hemisphere {show(hemisphere)} is neither N (north) nor S (south)")
    return number, letter


def utm_zone_for(lon: float, lat: float) -> int:
    """The UTM zone of a point, with the Norway (32V) and Svalbard (31X-37X) exceptions.

    >>> utm_zone_for(46.9, 40.0), utm_zone_for(5.0, 60.0), utm_zone_for(20.0, 78.0)
    (38, 32, 33)
    """
    if not (-180.0 <= lon <= 180.0 and -80.0 <= lat <= 84.0):
        raise MGRSError(
            f"longitude {lon}, latitude {lat} is outside the UTM/MGRS area "
            "(80°S to 84°N; the polar UPS grid is not supported)"
        )
    zone = int((lon + 180.0) // 6.0) % 60 + 1
    if 56.0 <= lat < 64.0 and 3.0 <= lon < 12.0:
        return 32
    if lat >= 72.0 and 0.0 <= lon < 42.0:
        # Svalbard: zones 31, 33, 35, 37 only, each 9 or 12 degrees wide.
        return 31 if lon < 9.0 else 33 if lon < 21.0 else 35 if lon < 33.0 else 37
    return zone


def _band(lat: float) -> str:
    if not -80.0 <= lat <= 84.0:
        raise MGRSError(f"latitude {lat} is outside the MGRS bands C to X (80°S to 84°N)")
    return BANDS[min(int((lat + 80.0) // 8.0), len(BANDS) - 1)]


def _band_limits(band: str) -> tuple[float, float]:
    i = BANDS.index(band)
    south = -80.0 + 8.0 * i
    return south, 84.0 if band == "X" else south + 8.0


def latlon_to_utm(lat: float, lon: float, zone: int | None = None) -> tuple[int, str, float, float]:
    """``(zone, hemisphere, easting, northing)`` of a point, in its own zone unless ``zone``.

    >>> z, h, e, n = latlon_to_utm(40.0, 47.0)
    >>> z, h, round(e, 2), round(n, 2)
    (38, 'N', 670725.49, 4429672.97)
    """
    zone = utm_zone_for(lon, lat) if zone is None else _check_zone(zone, "N")[0]
    # The hemisphere follows the MGRS band, so that -1e-20° is band N and hemisphere N.
    hemisphere = "N" if _band(lat) >= "N" else "S"
    easting, northing = _from_lonlat(zone, hemisphere).transform(lon, lat, errcheck=True)
    return zone, hemisphere, float(easting), float(northing)


def utm_to_latlon(zone: int, hemisphere: str, easting: float, northing: float):
    """``(lat, lon)`` of a UTM coordinate.

    >>> [round(v, 6) for v in utm_to_latlon(38, "N", 670725.49, 4429672.97)]
    [40.0, 47.0]
    """
    zone, hemisphere = _check_zone(zone, hemisphere)
    easting, northing = float(easting), float(northing)
    # Beyond about 1,000 km from the central meridian UTM means nothing.
    if not (0.0 < easting < 1_000_000.0 and 0.0 <= northing <= _FALSE_NORTHING_SOUTH):
        raise MGRSError(
            f"UTM easting {easting:g}, northing {northing:g} is outside zone {zone}{hemisphere} "
            "(easting 0-1,000,000 m, northing 0-10,000,000 m)"
        )
    lon, lat = _to_lonlat(zone, hemisphere).transform(easting, northing, errcheck=True)
    return float(lat), float(lon)


def utm_to_mgrs(
    zone: int, hemisphere: str, easting: float, northing: float, *, precision: int = 5
) -> str:
    """The MGRS reference of a UTM coordinate, to ``10**(5 - precision)`` metres.

    Parameters
    ----------
    zone, hemisphere, easting, northing
        The UTM coordinate (WGS84).
    precision
        Digits per axis, 0 (100 km) to 5 (1 m). Digits are truncated, as the standard says.

    Examples
    --------
    >>> utm_to_mgrs(38, "N", 670725.49, 4429672.97)
    '38SPK7072529672'
    """
    zone, hemisphere = _check_zone(zone, hemisphere)
    if precision not in range(6):
        raise MGRSError(f"MGRS precision {show(precision)} must be 0 to 5 digits per axis")
    # Projections differ in the last micrometre: 499999.99999999 at a central meridian
    # is 500,000 m, whose square is the next one.
    easting, northing = round(float(easting), 6), round(float(northing), 6)
    lat, _ = utm_to_latlon(zone, hemisphere, easting, northing)
    band = _band(lat)
    column = int(easting // _SQUARE_M)
    if not 1 <= column <= 8:
        raise MGRSError(
            f"UTM easting {easting:g} is outside the 100 km columns of zone {zone} "
            "(100,000 to 899,999 m)"
        )
    row = int(northing // _SQUARE_M) + (5 if zone % 2 == 0 else 0)
    letters = _COLUMN_SETS[(zone - 1) % 3][column - 1] + _ROWS[row % len(_ROWS)]
    scale = 10 ** (5 - precision)
    e = int((easting % _SQUARE_M) // scale)
    n = int((northing % _SQUARE_M) // scale)
    digits = f"{e:0{precision}d}{n:0{precision}d}" if precision else ""
    # Two-digit zones (02D...), as GeoTrans and NGA write them.
    return f"{zone:02d}{band}{letters}{digits}"


def parse_mgrs(text: str) -> tuple[int, str, str, str, str]:
    """Split an MGRS reference into zone, band, column letter, row letter and digits.

    Spaces and case do not matter: ``38t nk 12345 67890`` reads like ``38TNK1234567890``.
    """
    if not isinstance(text, str):
        raise MGRSError(f"MGRS reference {show(text)} is not text")
    compact = "".join(text.split()).upper()
    match = _PATTERN.match(compact)
    if match is None:
        raise MGRSError(
            f"MGRS reference {show(text)} is malformed; write zone, band, 100 km square and an "
            "even number of digits, e.g. 38TNK1234567890 (bands C-X and letters without I or O)"
        )
    zone_text, band, col, row, digits = match.groups()
    zone = int(zone_text)
    if not 1 <= zone <= 60:
        raise MGRSError(f"MGRS reference {show(text)}: zone {zone} is not from 1 to 60")
    if len(digits) % 2 or len(digits) > 10:
        raise MGRSError(
            f"MGRS reference {show(text)}: {len(digits)} digit(s); give an even number, at most 10 "
            "(easting then northing, e.g. 1234567890 to 1 m)"
        )
    if col not in _COLUMN_SETS[(zone - 1) % 3]:
        raise MGRSError(
            f"MGRS reference {show(text)}: column letter {col} is not used in zone {zone} "
            f"(its columns are {_COLUMN_SETS[(zone - 1) % 3]})"
        )
    return zone, band, col, row, digits


def mgrs_to_utm(text: str) -> tuple[int, str, float, float]:
    """``(zone, hemisphere, easting, northing)`` of an MGRS reference's south-west corner.

    The row letter repeats every 2,000 km of northing; the latitude band tells
    which repetition is meant.

    Examples
    --------
    >>> mgrs_to_utm("38TPK7072529672")
    (38, 'N', 670725.0, 4429672.0)
    """
    zone, band, col, row, digits = parse_mgrs(text)
    hemisphere = "N" if band >= "N" else "S"
    easting = (_COLUMN_SETS[(zone - 1) % 3].index(col) + 1) * _SQUARE_M
    row_index = (_ROWS.index(row) - (5 if zone % 2 == 0 else 0)) % len(_ROWS)
    half = len(digits) // 2
    if half:
        scale = 10 ** (5 - half)
        easting += int(digits[:half]) * scale
        offset = row_index * _SQUARE_M + int(digits[half:]) * scale
    else:
        offset = row_index * _SQUARE_M
    south, north = _band_limits(band)
    best = None
    # Northings in the hemisphere are 0-10,000 km: try each 2,000 km repetition and
    # keep the one whose latitude lies in (or, at the square's corner, nearest) the band.
    for cycle in range(5):
        northing = offset + cycle * _ROW_CYCLE_M
        _lon, lat = _to_lonlat(zone, hemisphere).transform(easting, northing)
        if not math.isfinite(lat):
            continue
        gap = max(south - lat, lat - north, 0.0)
        if best is None or gap < best[0]:
            best = (gap, northing)
    # A 100 km square reaches at most about 1° beyond its band (square corners at zone edges).
    if best is None or best[0] > 1.0:
        raise MGRSError(
            f"MGRS reference {show(text)}: square {col}{row} does not lie in latitude band {band} "
            f"of zone {zone}"
        )
    return zone, hemisphere, float(easting), float(best[1])


def mgrs_to_latlon(text: str) -> tuple[float, float]:
    """``(lat, lon)`` of an MGRS reference's south-west corner.

    >>> [round(v, 4) for v in mgrs_to_latlon("38TPK7072529672")]
    [40.0, 47.0]
    """
    return utm_to_latlon(*mgrs_to_utm(text))


def latlon_to_mgrs(lat: float, lon: float, *, precision: int = 5) -> str:
    """The MGRS reference of a point (its own zone, Norway and Svalbard included).

    >>> latlon_to_mgrs(38.889484, -77.035278)
    '18SUJ2347906481'
    """
    zone, hemisphere, easting, northing = latlon_to_utm(lat, lon)
    return utm_to_mgrs(zone, hemisphere, easting, northing, precision=precision)
