"""Feature checks for the canonical layers, batched: every problem at once.

Each check looks at the whole layer and reports every failing feature, so a
user fixes a file in one pass. Repairs (closing a ring, dropping repeated
points or Z/M values, ``make_valid``) are warnings and the repaired feature is
kept; anything else is an error and the feature is rejected. The rules follow
GICHD's checks for IMSMA data (the error model: ``docs/design.md#errors``);
:data:`RULES` lists them, and ``docs/import.md`` explains each.

Some checks need another layer as context: the lat/lon-swap check and the
hazards' district names look at a districts layer, the "release outside every
hazard" check at the hazards. Without that layer they are skipped.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import warnings
from collections.abc import Iterable

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from minemap import geodesy, overlay
from minemap import schema as s
from minemap import values as _values
from minemap._arguments import argument
from minemap._text import MAX_SHOWN, escape, show
from minemap.profile import ReadSettings, toml_string

#: Values read as they are written, with nothing said about them.
_PLAIN = ReadSettings()

__all__ = [
    "COPY_RULE",
    "ERROR",
    "GEOMETRY_NOTE",
    "MAX_SEGMENT_M",
    "NO_AREA_M2",
    "OVERLAP_SHARE",
    "RULES",
    "SAME_GEOMETRY_M",
    "TEXT_NOTE",
    "WARNING",
    "Problem",
    "check_layer",
    "guess_kind",
    "true_area_m2",
]

ERROR = "error"
WARNING = "warning"

#: Longest allowed distance between consecutive vertices of a hazard or release.
MAX_SEGMENT_M = 5_000.0
#: A polygon covering less than this on the ellipsoid (square metres) has no area
#: (rule ``no-area``): no minefield, release or district is smaller, and a ring
#: whose points lie on a line in one projection keeps a few square millimetres in
#: another, which must not carry a record's mines.
NO_AREA_M2 = 1.0
#: Two hazards sharing more than this share of the larger one's area are likely
#: the same record submitted twice.
OVERLAP_SHARE = 0.9

#: Two features with one id are one (an exact copy) where their boundaries lie
#: within this of each other on average (metres: the area between them over
#: the length of the longer): a Shapefile's rings turned round, or coordinates
#: rounded to 6 decimals by a KML writer, leave the same feature the same.
SAME_GEOMETRY_M = 0.1
#: Rule of a feature that is an exact copy of an earlier one (counted once).
COPY_RULE = "duplicate-copy"

#: Private column a reader may add to say what it had to do to a geometry:
#: ``"unclosed"`` (a ring was closed), ``"unreadable"`` (no geometry could be
#: made of it) or ``"too-deep"`` (it nests too deep to be decoded safely).
#: :func:`check_layer` reports it and drops the column.
GEOMETRY_NOTE = "_geometry_note"
#: Private column a reader may add to name the columns (``"id, name"``) whose text
#: held a NUL character. :func:`check_layer` reports it and drops the column.
TEXT_NOTE = "_text_note"

#: Every rule: name -> (severity, what it checks). Severity "error" rejects the feature.
RULES = {
    "missing-column": (ERROR, "a required column is absent (the whole file is rejected)"),
    "empty-layer": (WARNING, "the file has no features"),
    "unreadable-geometry": (ERROR, "the geometry cannot be decoded (e.g. a ring of 2 points)"),
    "geometry-too-deep": (
        ERROR,
        "the geometry nests collections more than 32 levels deep (a crafted file)",
    ),
    "missing-geometry": (ERROR, "the feature has no geometry or an empty one"),
    "ring-not-closed": (WARNING, "a ring's last vertex differs from its first; it is closed"),
    "curved-geometry": (
        WARNING,
        "arcs (an ArcGIS curve) were made of straight segments of at most 1° of arc",
    ),
    "z-dropped": (WARNING, "Z (height) or M (measure) values are dropped"),
    "collection-polygons": (
        WARNING,
        "a GeometryCollection holding polygons: they are kept, its lines and points dropped",
    ),
    "geometry-type": (ERROR, "the geometry type is wrong for the layer"),
    "coordinates-out-of-range": (
        ERROR,
        (
            "longitude beyond ±180 or latitude beyond ±90, or a coordinate that is not a "
            "finite number (infinite, NaN)"
        ),
    ),
    "coordinates-clamped": (
        WARNING,
        "a coordinate within 1e-9° beyond ±180 / ±90 (rounding) was moved onto the edge",
    ),
    "lat-lon-swapped": (ERROR, "x and y look exchanged (swapped, they fall in the districts)"),
    "outside-crs-area": (ERROR, "the feature lies far outside the area of use of its CRS"),
    "too-few-vertices": (ERROR, "a ring has fewer than 3 distinct vertices"),
    "repeated-points": (WARNING, "consecutive repeated vertices are removed"),
    "long-segment": (ERROR, "consecutive vertices more than 5 km apart (configurable)"),
    "invalid-geometry": (
        WARNING,
        "invalid geometry (is_valid_reason), repaired by make_valid",
    ),
    "no-area": (ERROR, "the polygon covers less than 1 m² on the ellipsoid, as read or repaired"),
    "nul-character": (ERROR, "a text value holds a NUL character (readers cut text there)"),
    "missing-id": (ERROR, "the id is empty"),
    "duplicate-id": (
        ERROR,
        "the id (trimmed) occurs more than once across the files, with other content",
    ),
    COPY_RULE: (
        WARNING,
        "a feature is an exact copy of one with its id in another file: counted once",
    ),
    "duplicate-record": (
        ERROR,
        (
            "two hazards overlap by more than 90 % of the larger one: the same record "
            "twice, or the same minefield in two maps (its mines would count twice)"
        ),
    ),
    "outside-hazards": (WARNING, "a release touches no hazard"),
    "unknown-count": (
        WARNING,
        (
            "a hazard's mine count is empty or says it is not known (?): its mines are not "
            "counted, nor its remaining mines estimated"
        ),
    ),
    "bad-count": (ERROR, "a count is not a whole number ≥ 0"),
    "ambiguous-number": (
        ERROR,
        (
            "a number reads two ways (1,157: a thousand or one?) and nothing says which: "
            "say it with decimal"
        ),
    ),
    "decimal-comma": (WARNING, "a column's numbers were read with a decimal comma (0,75)"),
    "missing-date": (ERROR, "a required date is empty"),
    "bad-date": (ERROR, "a date does not parse"),
    "ambiguous-date": (
        ERROR,
        (
            "a date reads two ways (03.04.2024: March or April?) and nothing says which: "
            "say it with date_order"
        ),
    ),
    "date-order": (WARNING, "a column's dates were read day-first (or month-first), as it shows"),
    "bad-area": (ERROR, "a release without a polygon has no area in hectares above 0"),
    "unknown-hazard": (
        ERROR,
        "a release without a polygon names no hazard read (its area comes from that hazard)",
    ),
    "future-date": (ERROR, "a date is after today"),
    "missing-value": (ERROR, "a required enumerated value is empty"),
    "unknown-value": (ERROR, "an enumerated value is not one of the known ones"),
    "unknown-district": (
        ERROR,
        (
            "a hazard's district is neither a known name nor a district of the districts "
            "layer (a warning in a districts layer, and only when it looks like a typo)"
        ),
    ),
}

_POLYGONAL = (shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON)
_GEOD = pyproj.Geod(ellps="WGS84")
# Geometry type names by shapely type id; id -1 (no geometry) indexes the last.
_TYPE_NAMES = np.array(
    [
        *("Point", "LineString", "LinearRing", "Polygon", "MultiPoint", "MultiLineString"),
        *("MultiPolygon", "GeometryCollection", ""),
    ],
    dtype=object,
)


@dataclasses.dataclass(frozen=True)
class Problem:
    """One problem with one feature (or with the whole file when ``row`` is None)."""

    file: str
    row: int | None
    feature: str
    rule: str
    severity: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.feature}" if self.feature else self.file
        return f"{where}: {self.severity}: {self.rule}: {self.message}"

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def guess_kind(columns) -> str | None:
    """Guess the layer kind from its (already canonical) column names."""
    cols = set(columns)
    if {s.ITEM_ID, s.FOUND_ON, s.ITEM_TYPE} & cols:
        return "items"
    if {s.RELEASED_ON, s.METHOD} & cols or s.RELEASE_ID in cols:
        return "releases"
    if {s.MINES_AP, s.MINES_AT} & cols or s.HAZARD_ID in cols:
        return "hazards"
    if s.DISTRICT in cols:
        return "districts"
    return None


class _Report:
    def __init__(self, frame: gpd.GeoDataFrame, kind: str, source: str) -> None:
        self.source = source
        self.problems: list[Problem] = []
        self.rejected = np.zeros(len(frame), dtype=bool)
        self._id_col = s.ID_COLUMN[kind]
        self._ids = (
            frame[self._id_col].to_numpy(dtype=object)
            if self._id_col in frame.columns
            else np.full(len(frame), None, dtype=object)
        )

    def label(self, i: int) -> str:
        """How a problem names the feature at row position ``i``: its id, or its number."""
        value = self._ids[i]
        return (
            f"{self._id_col} {escape(value)}"
            if isinstance(value, str) and value
            else f"feature {i + 1}"
        )

    def add(self, mask, rule: str, message, severity: str = ERROR) -> None:
        """Record a problem for every row where ``mask`` is true.

        ``message`` is a string or a callable taking the row position.
        """
        for i in np.flatnonzero(np.asarray(mask, dtype=bool)):
            self.add_one(i, rule, message(i) if callable(message) else message, severity)

    def add_one(self, i: int, rule: str, message: str, severity: str = ERROR) -> None:
        """Record one problem for the row at position ``i``."""
        self.problems.append(Problem(self.source, int(i), self.label(i), rule, severity, message))
        if severity == ERROR:
            self.rejected[i] = True


# --- geometry -------------------------------------------------------------------


def _swap_xy(geoms: np.ndarray) -> np.ndarray:
    return shapely.transform(geoms, lambda c: c[:, ::-1])


def _in_range(bounds: np.ndarray) -> np.ndarray:
    finite = np.isfinite(bounds).all(axis=1)
    with np.errstate(invalid="ignore"):
        return (
            finite
            & (np.abs(bounds[:, [0, 2]]) <= 180).all(axis=1)
            & (np.abs(bounds[:, [1, 3]]) <= 90).all(axis=1)
        )


#: How far beyond ±180° / ±90° a coordinate is taken for rounding (a reprojection gives
#: 180.00000000000006) and moved onto the edge, with a warning.
RANGE_TOLERANCE = 1e-9


def _clamp_to_range(geoms, ok, report) -> None:
    """Move coordinates a hair (:data:`RANGE_TOLERANCE`) beyond the globe's edges onto them."""
    rows = np.flatnonzero(ok)
    if not len(rows):
        return
    with np.errstate(all="ignore"):  # shapely's ufuncs warn on NaN
        bounds = shapely.bounds(geoms[rows])
        x, y = np.abs(bounds[:, [0, 2]]), np.abs(bounds[:, [1, 3]])
        beyond = (x > 180).any(axis=1) | (y > 90).any(axis=1)
        near = (x <= 180 + RANGE_TOLERANCE).all(axis=1) & (y <= 90 + RANGE_TOLERANCE).all(axis=1)
    hit = rows[beyond & near]
    if not len(hit):
        return

    def clip(coords: np.ndarray) -> np.ndarray:
        return np.column_stack(
            [np.clip(coords[:, 0], -180.0, 180.0), np.clip(coords[:, 1], -90.0, 90.0)]
        )

    furthest = {}
    for i, b in zip(hit, bounds[beyond & near], strict=True):
        xs = [v for v in b[[0, 2]] if abs(v) > 180]
        ys = [v for v in b[[1, 3]] if abs(v) > 90]
        furthest[i] = f"longitude {xs[0]!r}" if xs else f"latitude {ys[0]!r}"
    geoms[hit] = shapely.transform(geoms[hit], clip)
    mask = np.zeros(len(geoms), dtype=bool)
    mask[hit] = True
    report.add(
        mask,
        "coordinates-clamped",
        lambda i: (
            f"{furthest[i]} lies less than {RANGE_TOLERANCE:g}° beyond the edge of the globe "
            "(rounding, e.g. of a reprojection): moved onto the edge"
        ),
        WARNING,
    )


def _nan_inside(geoms: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """Geometries within the globe's bounds that hold a NaN (or infinite) coordinate.

    GEOS leaves NaN out of a geometry's bounds; its length (a perimeter: every
    vertex, holes too) is NaN then. Within ±180/±90 a length cannot overflow, so
    only those are measured.
    """
    found = np.zeros(len(geoms), dtype=bool)
    rows = np.flatnonzero(_in_range(bounds))
    with np.errstate(all="ignore"):  # shapely's ufuncs warn on NaN
        found[rows] = ~np.isfinite(shapely.length(geoms[rows]))
    return found


def _bounds_text(bounds: np.ndarray) -> str:
    """Bounds for a message: 6 decimals, huge and non-finite values as they are."""
    # Python's round() neither overflows nor warns (numpy's multiplies by 10**6 first).
    return str([round(float(v), 6) for v in bounds])


def _check_range(geoms, ok, report) -> np.ndarray:
    """Coordinates on the globe; a swap that would put them there is named as such.

    Coordinates within :data:`RANGE_TOLERANCE` of the globe's edge are first
    moved onto it (a warning), in ``geoms``. Huge, infinite and NaN coordinates
    (a damaged file, or one in another unit) are out of range too, and are said
    to be.
    """
    _clamp_to_range(geoms, ok, report)
    bounds = np.full((len(geoms), 4), np.nan)
    with np.errstate(all="ignore"):
        bounds[ok] = shapely.bounds(geoms[ok])
    finite = np.isfinite(bounds).all(axis=1) & ~_nan_inside(geoms, bounds)
    outside = ok & ~(_in_range(bounds) & finite)
    if not outside.any():
        return outside
    swapped_bounds = bounds[:, [1, 0, 3, 2]]
    swap = outside & finite & _in_range(swapped_bounds)
    report.add(
        swap,
        "lat-lon-swapped",
        lambda i: (
            f"latitude and longitude look swapped (bounds {_bounds_text(bounds[i])} "
            "are off the globe, exchanged they are not); write x = longitude, y = latitude"
        ),
    )
    report.add(
        outside & ~swap & finite,
        "coordinates-out-of-range",
        lambda i: (
            "coordinates lie outside longitude ±180 / latitude ±90 "
            f"(bounds {_bounds_text(bounds[i])}); is the CRS right?"
        ),
    )
    report.add(
        outside & ~finite,
        "coordinates-out-of-range",
        lambda i: (
            "coordinates are not all finite numbers (infinite or NaN; bounds "
            f"{_bounds_text(bounds[i])}): is the file damaged, or is the CRS right?"
        ),
    )
    return outside


def _crs_area(crs) -> tuple[float, float, float, float] | None:
    try:
        crs = pyproj.CRS.from_user_input(crs)
    except pyproj.exceptions.CRSError:
        return None
    area = crs.area_of_use
    if area is None or area.west > area.east:  # unknown, or crossing the antimeridian
        return None
    if (area.west, area.south, area.east, area.north) == (-180.0, -90.0, 180.0, 90.0):
        return None  # the range check covers it
    return area.west, area.south, area.east, area.north


def _check_crs_area(geoms, ok, source_crs, report) -> np.ndarray:
    """Features far outside the area of use of the CRS they were given in.

    The area is widened by a tenth of its size (at least 1°) on each side:
    projections are routinely used a little past their zone, but data in the
    wrong CRS (degrees labelled as UTM metres, a wrong zone) lands far away.
    """
    bad = np.zeros(len(geoms), dtype=bool)
    if source_crs is None:
        return bad
    if isinstance(source_crs, str | pyproj.CRS) or not hasattr(source_crs, "__len__"):
        groups = [(source_crs, ok)]
    else:
        per_row = np.asarray(list(source_crs), dtype=object)
        if len(per_row) != len(geoms):
            raise ValueError("source_crs must be one CRS or one per row")
        if len(per_row) and (per_row == per_row[0]).all():  # one file: no hashing of WKT
            groups = [(per_row[0], ok)] if per_row[0] is not None else []
        else:
            groups = [(crs, ok & (per_row == crs)) for crs in pd.unique(per_row) if crs is not None]
    for crs, rows in groups:
        area = _crs_area(crs)
        if area is None or not rows.any():
            continue
        b = shapely.bounds(geoms[rows])
        far = ~_inside_area(b, area)
        where = np.flatnonzero(rows)[far]
        source = pyproj.CRS.from_user_input(crs)
        swapped, degrees = _misread_projected(geoms[where], source, area)
        swap_mask = np.zeros(len(geoms), dtype=bool)
        swap_mask[where[swapped]] = True
        report.add(
            swap_mask,
            "lat-lon-swapped",
            f"easting and northing look swapped: the feature lies far outside the area where "
            f"{source.name} is used, but with x and y exchanged it falls inside it; write "
            "x = easting, y = northing",
        )
        degree_rows = set(where[degrees].tolist())
        far_mask = np.zeros(len(geoms), dtype=bool)
        far_mask[where[~swapped]] = True
        report.add(
            far_mask,
            "outside-crs-area",
            lambda i, n=source.name, a=area, d=degree_rows: (
                f"lies outside the area where {n} is used (longitude {a[0]:g}..{a[2]:g}, "
                f"latitude {a[1]:g}..{a[3]:g}); "
                + (
                    "its coordinates look like longitude/latitude degrees, not metres: "
                    if i in d
                    else "is the CRS right? "
                )
                + "save the file with the CRS its coordinates are really in (EPSG:4326 for "
                "degrees)"
            ),
        )
        bad |= swap_mask | far_mask
    return bad


def _inside_area(bounds: np.ndarray, area) -> np.ndarray:
    """Bounds within a CRS's area of use widened by a tenth of its size (at least 1°)."""
    west, south, east, north = area
    mx, my = max(1.0, (east - west) / 10), max(1.0, (north - south) / 10)
    with np.errstate(invalid="ignore"):
        return (
            np.isfinite(bounds).all(axis=1)
            & (bounds[:, 2] >= west - mx)
            & (bounds[:, 0] <= east + mx)
            & (bounds[:, 3] >= south - my)
            & (bounds[:, 1] <= north + my)
        )


def _misread_projected(geoms: np.ndarray, crs: pyproj.CRS, area) -> tuple[np.ndarray, np.ndarray]:
    """For features far outside a projected CRS's area: x/y swapped, or degrees as metres?

    The features are taken back to the coordinates the file gave (easting,
    northing). Swapped, they fall inside the area of use: easting and northing
    were exchanged. Numbers within ±180/±90: longitude/latitude in a file that
    says metres.
    """
    none = np.zeros(len(geoms), dtype=bool)
    if not len(geoms) or not crs.is_projected:
        return none, none
    to_file = pyproj.Transformer.from_crs(s.CANONICAL_CRS, crs, always_xy=True)
    to_lonlat = pyproj.Transformer.from_crs(crs, s.CANONICAL_CRS, always_xy=True)
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        given = shapely.transform(geoms, lambda c: np.column_stack(to_file.transform(*c.T)))
        raw = shapely.bounds(given)
        degrees = _in_range(raw)
        exchanged = shapely.transform(
            given, lambda c: np.column_stack(to_lonlat.transform(c[:, 1], c[:, 0]))
        )
        swapped = _inside_area(shapely.bounds(exchanged), area) & ~degrees
    return swapped, degrees


def _ring_coordinates(geoms: np.ndarray):
    """Every vertex of every ring: coordinates, ring number and feature row of each.

    ``geoms`` are Polygons and MultiPolygons. Read through shapely's ragged arrays,
    which make no geometry object per ring (twice as fast at a million features).
    """
    kind, coords, offsets = shapely.to_ragged_array(geoms)
    if kind == shapely.GeometryType.POLYGON:
        ring_offsets, geom_offsets = offsets
        ring_row = np.repeat(np.arange(len(geom_offsets) - 1), np.diff(geom_offsets))
    else:
        ring_offsets, part_offsets, geom_offsets = offsets
        part_row = np.repeat(np.arange(len(geom_offsets) - 1), np.diff(geom_offsets))
        ring_row = part_row[np.repeat(np.arange(len(part_offsets) - 1), np.diff(part_offsets))]
    vertex_ring = np.repeat(np.arange(len(ring_offsets) - 1), np.diff(ring_offsets))
    return coords, vertex_ring, ring_row


#: Upper bound of the length of one degree of latitude, and of longitude at the
#: equator, on the WGS84 ellipsoid (the meridian degree is longest at the poles,
#: 111.694 km; the equatorial one is 111.320 km), with a margin.
_DEGREE_BOUND_M = 111_800.0


def _segment_bound_m(start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """An upper bound, in metres, of the geodesic length of lon/lat segments.

    The geodesic is no longer than the path along the meridian, then along a
    parallel, which this bounds. Non-finite input gives inf.
    """
    with np.errstate(invalid="ignore"):
        step = np.abs(end - start)
        np.minimum(step[:, 0], 360.0 - step[:, 0], out=step[:, 0])  # across the antimeridian
        # A degree of longitude is never longer than at the equator.
        bound = step.sum(axis=1)
        bound *= _DEGREE_BOUND_M
    bound[~np.isfinite(bound)] = np.inf
    return bound


def _distinct_up_to_three(coords: np.ndarray, vertex_ring: np.ndarray, n_rings: int) -> np.ndarray:
    """Distinct vertices of each ring, counted up to three (1, 2, or 3 meaning "3 or more").

    ``vertex_ring`` (the ring of each vertex) must be sorted, as
    ``shapely.get_coordinates`` returns it. No sort of the coordinates: each
    ring's first vertex, then its first vertex unlike that one, then whether any
    vertex is unlike both.
    """
    out = np.zeros(n_rings, dtype=np.intp)
    if not len(coords):
        return out
    starts = np.flatnonzero(np.r_[True, vertex_ring[1:] != vertex_ring[:-1]])
    per_vertex = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(coords)]))
    unlike_first = np.any(coords != coords[starts][per_vertex], axis=1)
    position = np.where(unlike_first, np.arange(len(coords)), len(coords))
    second_at = np.minimum.reduceat(position, starts)
    has_second = second_at < len(coords)
    second = coords[np.minimum(second_at, len(coords) - 1)]
    unlike_both = unlike_first & np.any(coords != second[per_vertex], axis=1)
    has_third = np.logical_or.reduceat(unlike_both, starts) & has_second
    rings = vertex_ring[starts]
    out[rings] = 1 + has_second + has_third
    return out


def _ring_suspects(geoms, ok, invalid, max_segment_m: float | None) -> np.ndarray:
    """Rows that may break a ring rule; the others certainly do not.

    A screen on each feature's vertices end to end (one call, no object per
    ring): a repeated point or a long segment shows there too, beside false
    alarms where one ring ends and the next begins, which the exact check clears.
    """
    rows = np.flatnonzero(ok)
    if not len(rows):
        return rows
    coords, vertex_row = shapely.get_coordinates(geoms[rows], return_index=True)
    suspect = invalid[rows].copy()
    same = vertex_row[1:] == vertex_row[:-1]
    flagged = same & np.all(coords[1:] == coords[:-1], axis=1)
    suspect[vertex_row[1:][flagged]] = True
    if max_segment_m is not None:
        # No segment is longer than its feature's envelope allows: most features are
        # too small to hold a long one, and only the others have their segments bounded.
        box = shapely.bounds(geoms[rows])
        extent = (box[:, 2] - box[:, 0]) + (box[:, 3] - box[:, 1])  # no wrap: a bound
        large = ~(_DEGREE_BOUND_M * extent <= max_segment_m)
        if large.any():
            mask = large[vertex_row]
            start, end = coords[:-1][mask[1:]], coords[1:][mask[1:]]
            long = same[mask[1:]] & (_segment_bound_m(start, end) > max_segment_m)
            suspect[vertex_row[1:][mask[1:]][long]] = True
    return rows[suspect]


def _check_rings(geoms, ok, invalid, report, max_segment_m: float | None) -> np.ndarray:
    """Distinct vertices, repeated points and long segments, on every ring at once.

    ``invalid`` marks the rows GEOS finds invalid: a ring with fewer than three
    distinct vertices always is, so only those rows have their vertices counted.
    """
    rows = _ring_suspects(geoms, ok, invalid, max_segment_m)
    bad = np.zeros(len(geoms), dtype=bool)
    if not len(rows):
        return bad
    coords, vertex_ring, ring_row = _ring_coordinates(geoms[rows])
    ring_row = rows[ring_row]
    if not len(coords):
        return bad
    suspect = invalid[ring_row[vertex_ring]]
    distinct = np.full(len(ring_row), 3, dtype=np.intp)
    if suspect.any():
        counted = _distinct_up_to_three(coords[suspect], vertex_ring[suspect], len(ring_row))
        rings = np.unique(vertex_ring[suspect])
        distinct[rings] = counted[rings]
    few = distinct < 3
    for ring in np.flatnonzero(few):
        i = ring_row[ring]
        if not bad[i]:
            report.add_one(
                i,
                "too-few-vertices",
                f"a ring has {distinct[ring]} distinct vertices; a polygon needs at least 3",
            )
            bad[i] = True

    same_ring = vertex_ring[1:] == vertex_ring[:-1]
    repeated = same_ring & np.all(coords[1:] == coords[:-1], axis=1)
    repeated_rows = np.zeros(len(geoms), dtype=bool)
    repeated_rows[ring_row[vertex_ring[1:][repeated]]] = True
    repeated_rows &= ~bad
    if repeated_rows.any():
        counts = np.bincount(ring_row[vertex_ring[1:][repeated]], minlength=len(geoms))
        report.add(
            repeated_rows,
            "repeated-points",
            lambda i: f"{counts[i]} repeated consecutive vertex/vertices removed",
            WARNING,
        )
        geoms[repeated_rows] = shapely.remove_repeated_points(geoms[repeated_rows], tolerance=0)

    if max_segment_m is not None and same_ring.any():
        start, end = coords[:-1][same_ring], coords[1:][same_ring]
        segment_row = ring_row[vertex_ring[1:][same_ring]]
        # Measured on the ellipsoid only where a cheap upper bound allows a long one.
        could = _segment_bound_m(start, end) > max_segment_m
        start, end, segment_row = start[could], end[could], segment_row[could]
        _, _, dist = _GEOD.inv(start[:, 0], start[:, 1], end[:, 0], end[:, 1])
        longest = np.zeros(len(geoms))
        np.maximum.at(longest, segment_row, np.nan_to_num(dist, nan=np.inf))
        long_rows = (longest > max_segment_m) & ~bad
        report.add(
            long_rows,
            "long-segment",
            lambda i: (
                f"two consecutive vertices are {longest[i] / 1000:,.1f} km apart (more than "
                f"{max_segment_m / 1000:g} km): a mistyped coordinate?"
            ),
        )
        bad |= long_rows
    return bad


def _keep_collections_polygons(geoms, present, report) -> None:
    """Collections that hold polygons become those polygons (in place), with a warning.

    A GIS intersection or clip along a hazard's own vertices returns the strip
    together with the lines and points where edges touched; they have no area.
    A collection without a polygon is left for the geometry-type rule.
    """
    collection = present & (shapely.get_type_id(geoms) == shapely.GeometryType.GEOMETRYCOLLECTION)
    if not collection.any():
        return
    rows = np.flatnonzero(collection)
    parts = overlay.polygonal(geoms[rows])
    rows, parts = rows[~shapely.is_empty(parts)], parts[~shapely.is_empty(parts)]
    geoms[rows] = parts
    mask = np.zeros(len(geoms), dtype=bool)
    mask[rows] = True
    report.add(
        mask,
        "collection-polygons",
        "a GeometryCollection: its polygons are kept as the feature, its lines and points "
        "(no area) dropped",
        WARNING,
    )


def _repair_invalid(geoms, ok, invalid, report) -> tuple[np.ndarray, np.ndarray]:
    """Repair invalid polygons with ``make_valid``: the rows repaired, and those left with no area.

    A repair is a warning, unless what is left covers less than
    :data:`NO_AREA_M2`: then it is a ``no-area`` error.
    """
    repaired = np.zeros(len(geoms), dtype=bool)
    flat = np.zeros(len(geoms), dtype=bool)
    rows = np.flatnonzero(ok & invalid)
    if not len(rows):
        return repaired, flat
    reasons = shapely.is_valid_reason(geoms[rows])
    geoms[rows] = overlay.polygonal(shapely.make_valid(geoms[rows]))
    repaired[rows] = True
    area = true_area_m2(geoms[rows])
    for i, reason, covered in zip(rows, reasons, area, strict=True):
        if covered >= NO_AREA_M2:
            report.add_one(
                i,
                "invalid-geometry",
                f"invalid geometry ({reason}), repaired with make_valid",
                WARNING,
            )
        else:
            report.add_one(
                i,
                "no-area",
                f"invalid geometry ({reason}) that has no area once repaired"
                if covered == 0
                else f"invalid geometry ({reason}) that covers {covered:.2g} m² once repaired, "
                f"less than {NO_AREA_M2:g} m²: no minefield is that small",
            )
            flat[i] = True
    return repaired, flat


def true_area_m2(geoms) -> np.ndarray:
    """Area on the WGS84 ellipsoid, in square metres, of longitude/latitude polygons.

    Exact (``pyproj.Geod``) wherever it may be under 100 times :data:`NO_AREA_M2`;
    elsewhere from the area in degrees², which is within a few percent for
    features of any size checked here, and far above the floor anyway.

    Examples
    --------
    >>> import shapely
    >>> [round(float(a)) for a in true_area_m2([shapely.box(46.9, 39.98, 46.9001, 39.9801)])]
    [95]
    """
    geoms = np.asarray(geoms, dtype=object)
    area = np.zeros(len(geoms))
    present = np.flatnonzero(~pd.isna(geoms))
    if not len(present):
        return area
    box = shapely.bounds(geoms[present])
    lat = np.radians(np.clip((box[:, 1] + box[:, 3]) / 2, -90, 90))
    # Metres per degree: about 111.1 km north-south, 111.3 km x cos(latitude) east-west.
    area[present] = shapely.area(geoms[present]) * 111_132.0 * 111_320.0 * np.cos(lat)
    close = present[~(area[present] >= 100 * NO_AREA_M2)]
    area[close] = geodesy.geodesic_area_ha(geoms[close]) * geodesy.M2_PER_HA
    return area


def _check_no_area(geoms, ok, repaired, report) -> np.ndarray:
    """Polygons (as read: no repair needed) covering less than :data:`NO_AREA_M2`."""
    rows = np.flatnonzero(ok & ~repaired)
    area = true_area_m2(geoms[rows])
    flat = np.zeros(len(geoms), dtype=bool)
    flat[rows[area < NO_AREA_M2]] = True
    covered = dict(zip(rows.tolist(), area.tolist(), strict=True))
    report.add(
        flat,
        "no-area",
        lambda i: (
            "the polygon has no area (fewer than 3 distinct vertices?)"
            if covered[i] == 0
            else f"the polygon covers {covered[i]:.2g} m², less than {NO_AREA_M2:g} m²: its "
            "vertices lie (nearly) on a line? No minefield is that small"
        ),
    )
    return flat


def _check_geometry(
    frame: gpd.GeoDataFrame,
    kind: str,
    report: _Report,
    *,
    source_crs,
    max_segment_m: float | None,
    area_only: np.ndarray | None = None,
) -> tuple[gpd.GeoSeries, np.ndarray]:
    """The geometry checks; ``area_only`` rows (releases given as an area) need no polygon.

    Such a row may have no geometry, or a point (where the work was), whose
    coordinates are checked; the polygon checks skip it.
    """
    geoms = frame.geometry.to_numpy(dtype=object).copy()
    if area_only is None:
        area_only = np.zeros(len(frame), dtype=bool)
    note = (
        frame[GEOMETRY_NOTE].to_numpy(dtype=object)
        if GEOMETRY_NOTE in frame.columns
        else np.full(len(frame), None, dtype=object)
    )
    unreadable = note == "unreadable"
    report.add(
        unreadable,
        "unreadable-geometry",
        "the geometry cannot be decoded (a ring with too few points, or text that is not "
        "WKT / not numbers)",
    )
    too_deep = note == "too-deep"
    report.add(
        too_deep,
        "geometry-too-deep",
        "the geometry nests collections more than 32 levels deep; no real map does that "
        "(a crafted file?): it was not decoded",
    )
    unreadable |= too_deep
    missing = ~unreadable & (pd.isna(geoms) | shapely.is_empty(geoms))
    report.add(
        missing & ~area_only,
        "missing-geometry",
        "the feature has no geometry"
        + (
            " (a release without a polygon needs hazard_id and area_ha: the hazard it "
            "released ground of, and how many hectares)"
            if kind == "releases"
            else ""
        ),
    )
    present = ~missing & ~unreadable
    report.add(
        present & (note == "unclosed"),
        "ring-not-closed",
        "a ring was not closed (last vertex ≠ first); it was closed",
        WARNING,
    )
    report.add(
        present & (note == "curved"),
        "curved-geometry",
        "the geometry holds arcs (a curved polygon, as ArcGIS writes them); they were made "
        "of straight segments of at most 1° of arc (the chord within 0.004 % of the radius)",
        WARNING,
    )

    has_zm = present & (shapely.has_z(geoms) | shapely.has_m(geoms))
    if has_zm.any():
        report.add(has_zm, "z-dropped", "Z (height) / M (measure) values were dropped", WARNING)
        geoms[has_zm] = shapely.force_2d(geoms[has_zm])

    allowed = s.GEOMETRY_TYPES[kind]
    if "Polygon" in allowed:
        _keep_collections_polygons(geoms, present, report)
    kinds = _TYPE_NAMES[shapely.get_type_id(geoms)]  # -1 (missing) picks the last: ""
    point = area_only & (kinds == "Point")
    wrong = present & ~np.isin(kinds, allowed) & ~point
    report.add(
        wrong,
        "geometry-type",
        lambda i: f"a {kind} feature must be a {' or '.join(allowed)}, not a {kinds[i]}",
    )
    ok = present & ~wrong
    ok &= ~_check_range(geoms, ok, report)
    ok &= ~_check_crs_area(geoms, ok, source_crs, report)

    if "Point" not in allowed:
        ok_points, ok = ok & point, ok & ~point
        segments = max_segment_m if kind in ("hazards", "releases") else None
        # Checked once: removing repeated points (below) does not change validity.
        invalid = ok & ~shapely.is_valid(np.where(ok, geoms, None))
        ok &= ~_check_rings(geoms, ok, invalid, report, segments)
        repaired, flat = _repair_invalid(geoms, ok, invalid, report)
        ok &= ~flat
        ok &= ~_check_no_area(geoms, ok, repaired, report)
        ok |= ok_points
    return gpd.GeoSeries(geoms, index=frame.index, crs=frame.crs), ok


def _lonlat(layer: gpd.GeoDataFrame) -> np.ndarray:
    """A context layer's geometries in longitude/latitude (no CRS: taken as such)."""
    series = layer.geometry
    if series.crs is not None and not series.crs.equals(s.CANONICAL_CRS):
        series = series.to_crs(s.CANONICAL_CRS)
    return series.to_numpy(dtype=object)


def _check_swapped(geoms: np.ndarray, ok, districts: gpd.GeoDataFrame, report) -> np.ndarray:
    """Features outside every district whose swapped coordinates fall inside one."""
    bad = np.zeros(len(geoms), dtype=bool)
    area = _lonlat(districts)
    present = ~(pd.isna(area) | shapely.is_empty(area))
    area = area[present]
    if not len(area) or not ok.any():
        return bad
    tree = shapely.STRtree(area)
    rows = np.flatnonzero(ok)
    hit = np.zeros(len(geoms), dtype=bool)
    hit[rows[np.unique(tree.query(geoms[rows], predicate="intersects")[0])]] = True
    candidates = np.flatnonzero(ok & ~hit)
    if len(candidates):
        # Only features whose swapped envelope meets the districts' are worth swapping.
        box = shapely.bounds(geoms[candidates])[:, [1, 0, 3, 2]]
        minx, miny, maxx, maxy = shapely.total_bounds(area)
        meets = (box[:, 0] <= maxx) & (box[:, 2] >= minx) & (box[:, 1] <= maxy)
        candidates = candidates[meets & (box[:, 3] >= miny)]
    if not len(candidates):
        return bad
    swapped = _swap_xy(geoms[candidates])
    pairs = tree.query(swapped, predicate="intersects")
    names = (
        districts[s.DISTRICT].astype("string").to_numpy(dtype=object)[present]
        if s.DISTRICT in districts.columns
        else None
    )
    first = {}
    for a, b in zip(*pairs, strict=True):
        first.setdefault(int(a), int(b))
    for a, b in first.items():
        i = candidates[a]
        where = f" in {names[b]}" if names is not None else " inside a district"
        report.add_one(
            i,
            "lat-lon-swapped",
            f"latitude and longitude look swapped: the feature lies outside every district, "
            f"but with x and y exchanged it falls{where}; write x = longitude, y = latitude",
        )
        bad[i] = True
    return bad


def _envelope_pairs(geoms: np.ndarray, share: float, *, pairs=None):
    """Pairs ``a < c`` whose envelopes overlap by more than ``share`` of the larger's area.

    The smaller must hold more than ``share`` of the larger's area too. ``pairs``
    narrows the test to given pairs; by default, every pair of meeting envelopes.
    """
    if pairs is None:
        a, c = shapely.STRtree(geoms).query(geoms)
        keep = a < c
        a, c = a[keep], c[keep]
    else:
        a, c = pairs
    area = shapely.area(geoms)
    bounds = shapely.bounds(geoms)
    larger = np.maximum(area[a], area[c])
    width = np.minimum(bounds[a, 2], bounds[c, 2]) - np.maximum(bounds[a, 0], bounds[c, 0])
    height = np.minimum(bounds[a, 3], bounds[c, 3]) - np.maximum(bounds[a, 1], bounds[c, 1])
    envelope = np.clip(width, 0, None) * np.clip(height, 0, None)
    smaller = np.minimum(area[a], area[c])
    could = (larger > 0) & (envelope > share * larger) & (smaller > share * larger)
    return a[could], c[could]


def _check_duplicates(geoms, ok, report, share: float, sources: np.ndarray | None) -> None:
    """Hazards overlapping by more than ``share`` of the larger one: the same record twice?

    An error either way: the ground would count once, but the mines of both
    records would be summed. Within one source (or with no ``source`` column) one
    of the two is a duplicate; between two sources it is the same minefield in
    two maps, a normal thing to receive, of which the information manager keeps
    one (the later record is the one rejected; ``--rejects`` sets it aside).
    """
    rows = np.flatnonzero(ok)
    x, y, ratio = overlapping_records(geoms[rows], share=share)
    x, y = rows[x], rows[y]
    reported = set()
    for first, later, r in zip(x, y, ratio, strict=True):
        if int(later) in reported:
            continue
        reported.add(int(later))
        other = report.label(first)
        if sources is not None and _differ(sources[first], sources[later]):
            other = f"{other} (source {escape(sources[first])})"
        report.add_one(later, "duplicate-record", duplicate_message(other, r))


def _differ(source, other) -> bool:
    """Whether a record's ``source`` is given and differs from another's (which may be empty)."""
    return bool(pd.notna(source) and (pd.isna(other) or source != other))


def duplicate_message(other: str, share: float) -> str:
    """What ``duplicate-record`` says of a record sharing ``share`` of its ground with ``other``."""
    return (
        f"overlaps {other} on {share:.0%} of the larger one's area: the same record twice, "
        "or the same minefield in two maps? Its mines would count twice; keep one of them; "
        "this one is set aside with the rejected features until then"
    )


def overlapping_records(
    geoms: np.ndarray, *, share: float = OVERLAP_SHARE
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs of lon/lat polygons that share more than ``share`` of the larger one's area.

    Returns positions ``first < later`` and the shared share of each pair, sorted
    by ``later``. Areas are measured in an equal-area CRS centred on the pairs.
    """
    empty = np.empty(0, dtype=np.intp)
    if len(geoms) < 2:
        return empty, empty.copy(), np.empty(0)
    # Two records can share more than `share` of the larger one's ground only if their
    # envelopes overlap by that much and the smaller is that large. Tested first in
    # degrees on envelope pairs (cheap: no predicate, no projection), with a wide
    # margin, since areas in degrees² are proportional to true ones only locally...
    a, c = _envelope_pairs(geoms, share / 2)
    if not len(a):
        return empty, empty.copy(), np.empty(0)
    # ...then on the few candidates projected to an equal-area CRS, exactly.
    involved, inverse = np.unique(np.r_[a, c], return_inverse=True)
    a, c = inverse[: len(a)], inverse[len(a) :]
    crs = geodesy.equal_area_crs(shapely.total_bounds(geoms[involved]))
    projected = geodesy.project(geoms[involved], s.CANONICAL_CRS, crs)
    a, c = _envelope_pairs(projected, share, pairs=(a, c))
    larger = np.maximum(shapely.area(projected[a]), shapely.area(projected[c]))
    # Valid in lon/lat may be invalid once projected (nearly collinear vertices).
    ratio = shapely.area(overlay.intersection(projected[a], projected[c])) / larger
    hits = ratio > share
    first, later, ratio = involved[a[hits]], involved[c[hits]], ratio[hits]
    order = np.lexsort((first, later))
    return first[order], later[order], ratio[order]


def _check_outside_hazards(geoms, ok, hazards: gpd.GeoDataFrame, report) -> None:
    hz = _lonlat(hazards)
    hz = hz[~(pd.isna(hz) | shapely.is_empty(hz))]
    rows = np.flatnonzero(ok)
    if not len(rows):
        return
    touched = np.zeros(len(geoms), dtype=bool)
    if len(hz):
        tree = shapely.STRtree(hz)
        # Most releases lie on a hazard: a point-in-polygon test of a point of theirs
        # settles those; only the rest get the (costlier) polygon-polygon test.
        centres = shapely.point_on_surface(geoms[rows])
        touched[rows[np.unique(tree.query(centres, predicate="intersects")[0])]] = True
        rest = np.flatnonzero(ok & ~touched)
        touched[rest[np.unique(tree.query(geoms[rest], predicate="intersects")[0])]] = True
    report.add(
        ok & ~touched,
        "outside-hazards",
        "the release touches no hazard: released land outside every recorded hazard "
        "(a hazard missing from the inputs, or a mistyped coordinate?)",
        WARNING,
    )


# --- attributes -------------------------------------------------------------------


def _check_text(frame: pd.DataFrame, report: _Report) -> None:
    """Text that held a NUL character (the reader says which columns): an error."""
    if TEXT_NOTE not in frame.columns:
        return
    note = frame[TEXT_NOTE].to_numpy(dtype=object)
    report.add(
        pd.notna(note),
        "nul-character",
        lambda i: (
            f"the text of {note[i]} holds a NUL character (\\x00), which text may not "
            "hold: readers cut the value there; fix the value in the file"
        ),
    )


def _check_ids(frame: pd.DataFrame, kind: str, report: _Report, same: _Copies) -> None:
    column = s.ID_COLUMN[kind]
    ids = frame[column]
    missing = ids.isna() | (ids.astype("string").str.strip() == "")
    report.add(missing, "missing-id", f"{column} is empty")
    if kind == "districts":
        return
    where = _where(frame)
    for later, first in same.copy_of.items():
        report.add_one(
            later,
            COPY_RULE,
            f"the same {_ONE[kind]} as {column} {escape(ids.iloc[first])} in {where[first]}: "
            "an exact copy (same geometry and attributes), counted once",
            WARNING,
        )
    for row, (rows, differ) in same.conflicts.items():
        report.add_one(
            row,
            "duplicate-id",
            f"{column} {escape(ids.iloc[row])} occurs {len(rows)} times ("
            + ", ".join(where[r] for r in rows)
            + (f") and they differ in {', '.join(differ)}" if differ else ") in one file")
            + f": keep one, or give the other another {column}",
        )


_ONE = {"hazards": "record", "releases": "release", "items": "item", "districts": "district"}


def _where(frame: pd.DataFrame) -> list[str]:
    """Each row's file and row number (``a.shp row 3``), or its row number alone."""
    if s.SOURCE_FILE in frame.columns and s.SOURCE_ROW in frame.columns:
        return [
            f"{f} row {r}" for f, r in zip(frame[s.SOURCE_FILE], frame[s.SOURCE_ROW], strict=True)
        ]
    return [f"row {i + 1}" for i in range(len(frame))]


@dataclasses.dataclass
class _Copies:
    """Features sharing an id: ``copy_of`` (exact copies -> the first), and the conflicts.

    Copies come from different files (with no ``source_file`` column, every
    feature is taken to come from one file, which cannot hold an id twice).

    ``conflicts`` maps each feature of an id whose features differ to all the
    rows of that id and what differs between them.
    """

    copy_of: dict[int, int]
    conflicts: dict[int, tuple[list[int], list[str]]]


def _find_copies(frame: pd.DataFrame, kind: str, geoms: np.ndarray, ok: np.ndarray) -> _Copies:
    """Which features sharing an id are exact copies of the first, and which differ.

    Copies have the same geometry (within :data:`SAME_GEOMETRY_M`) and the same
    attributes once normalised (ids and text trimmed, numbers as numbers, dates as
    days, enumerated values in their canonical spelling); a column that one of
    the two files does not have at all is not compared. An id is one feature only
    if every feature of it is a copy of the first, each from another file.
    """
    none = _Copies({}, {})
    column = s.ID_COLUMN[kind]
    if kind == "districts" or column not in frame.columns:
        return none
    ids = frame[column].astype("string").str.strip()
    duplicated = ids.notna() & (ids != "") & ids.duplicated(keep=False)
    if not duplicated.any():
        return none
    rows = np.flatnonzero(duplicated.to_numpy())
    groups = pd.Series(rows).groupby(ids.iloc[rows].to_numpy(), sort=False).apply(list)
    first = np.concatenate([[g[0]] * (len(g) - 1) for g in groups])
    later = np.concatenate([g[1:] for g in groups])
    differ = {int(r): [] for r in later}
    files = (
        frame[s.SOURCE_FILE].to_numpy(dtype=object)
        if s.SOURCE_FILE in frame.columns
        else np.zeros(len(frame), dtype=object)
    )
    for name in (*s.REQUIRED[kind], *s.OPTIONAL[kind]):
        if name == column or name not in frame.columns:
            continue
        values = _comparable(frame[name], kind, name)
        given = pd.Series(values.notna().to_numpy()).groupby(files).transform("any").to_numpy()
        a, b = values.iloc[first].to_numpy(dtype=object), values.iloc[later].to_numpy(dtype=object)
        gap_a, gap_b = pd.isna(a), pd.isna(b)
        equal = (gap_a & gap_b) | (
            ~gap_a & ~gap_b & (np.where(gap_a, None, a) == np.where(gap_b, None, b))
        )
        compared = given[first] & given[later]
        for r in later[compared & ~equal]:
            differ[int(r)].append(name)
    same_shape = _same_geometry(geoms[first], geoms[later]) & ok[first] & ok[later]
    for r in later[~same_shape]:
        differ[int(r)].append("geometry")
    out = _Copies({}, {})
    for group in groups:
        what = list(dict.fromkeys(d for r in group[1:] for d in differ[int(r)]))
        # One file holding an id twice is an error in that file, copies or not.
        if what or len(set(files[group])) < len(group):
            for r in group:
                out.conflicts[int(r)] = ([int(x) for x in group], what)
        else:
            out.copy_of.update({int(r): int(group[0]) for r in group[1:]})
    return out


def _comparable(values: pd.Series, kind: str, column: str) -> pd.Series:
    """A column's values as they compare: days, numbers, canonical or trimmed text."""
    if column in s.DATE_COLUMNS[kind]:
        days = _parse_dates(values)
        return days.astype(object).where(days.notna(), values)
    if column in s.ENUM_COLUMNS[kind]:
        canonical = _normalise_enum(values, column)
        return canonical.astype(object).where(canonical.notna(), values)
    text = values.astype("string").str.strip().mask(lambda v: v == "")
    numbers = pd.to_numeric(text, errors="coerce")
    return numbers.astype(object).where(numbers.notna(), text.astype(object))


def _same_geometry(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairs of lon/lat polygons whose boundaries lie within :data:`SAME_GEOMETRY_M` on average."""
    same = np.zeros(len(a), dtype=bool)
    present = np.flatnonzero(~pd.isna(a) & ~pd.isna(b))
    if not len(present):
        return same
    both = np.r_[a[present], b[present]]
    crs = geodesy.equal_area_crs(shapely.total_bounds(both))
    local = geodesy.project(both, s.CANONICAL_CRS, crs)
    x, y = local[: len(present)], local[len(present) :]
    apart = shapely.area(overlay.polygonal(shapely.symmetric_difference(x, y)))
    length = np.maximum(shapely.length(x), shapely.length(y))
    points = shapely.get_type_id(x) == shapely.GeometryType.POINT
    apart[points] = shapely.distance(x[points], y[points])
    length[points] = 1.0
    same[present] = apart <= SAME_GEOMETRY_M * length
    return same


#: No single record or release holds more devices than this; larger counts are typos
#: (and would overflow integer columns).
MAX_COUNT = 10_000_000


def _by_file(frame: pd.DataFrame, source: str) -> list[tuple[str, np.ndarray]]:
    """Row positions of each file a frame was read from (a file writes in one way)."""
    if s.SOURCE_FILE not in frame.columns or not len(frame):
        return [(source, np.arange(len(frame)))]
    files = frame[s.SOURCE_FILE].astype(str).to_numpy(dtype=object)
    return [(f, np.flatnonzero(files == f)) for f in dict.fromkeys(files)]


def _note(report: _Report, file: str, rule: str, message: str | None) -> None:
    """A file-level warning (how a column was read), once."""
    if message is not None:
        report.problems.append(Problem(file, None, "", rule, WARNING, message))


def _read_numbers(
    frame, column, report: _Report, reading: ReadSettings, rows=None
) -> tuple[pd.Series, np.ndarray]:
    """A column's numbers (NaN where none) and its ambiguous values (reported), per file.

    ``rows`` (a mask) limits the column to the rows that use it.
    """
    raw = frame[column]
    out = pd.Series(np.nan, index=frame.index)
    ambiguous = np.zeros(len(frame), dtype=bool)
    for file, where in _by_file(frame, report.source):
        if rows is not None:
            where = where[rows[where]]
        if not len(where):
            continue
        read = _values.read_numbers(raw.iloc[where], decimal=reading.decimal)
        out.iloc[where] = read.numbers.to_numpy()
        ambiguous[where[read.ambiguous]] = True
        for i in where[read.ambiguous]:
            report.add_one(i, "ambiguous-number", read.ambiguity(column, raw.iloc[i]))
        _note(report, file, "decimal-comma", read.note(column))
    return out, ambiguous


def _check_counts(frame: pd.DataFrame, kind: str, report: _Report, reading: ReadSettings) -> dict:
    """Counts read and checked; returns each count column's numbers (NA where not known).

    A count that is empty or says "not known" (``?``, ``naməlum``...) is not
    known: NA, never 0. On a hazard that is a warning (its remaining mines are
    not estimated); elsewhere the count is simply not given.
    """
    counts = {}
    for column in s.COUNT_COLUMNS[kind]:
        if column not in frame.columns:
            continue
        raw = frame[column]
        unknown = _values.unknown_mask(raw, reading.unknown)
        numbers, ambiguous = _read_numbers(frame, column, report, reading, rows=~unknown)
        if kind == "hazards":
            report.add(
                unknown,
                "unknown-count",
                lambda i, c=column, r=raw: (
                    f"{c} is not known ({_as_written(r.iloc[i])}): the record's mines are not "
                    "counted and its remaining mines not estimated (tables say how many "
                    "records have counts not known)"
                ),
                WARNING,
            )
        bad = ~unknown & ~ambiguous & (numbers.isna() | (numbers < 0) | (numbers % 1 != 0))
        report.add(
            bad,
            "bad-count",
            lambda i, c=column, r=raw: f"{c} must be a whole number ≥ 0, not {show(r.iloc[i])}",
        )
        huge = ~unknown & ~bad & (numbers > MAX_COUNT)
        report.add(
            huge,
            "bad-count",
            lambda i, c=column, r=raw: (
                f"{c} {show(r.iloc[i])} is implausibly large "
                f"(more than {MAX_COUNT:,} on one feature)"
            ),
        )
        whole = numbers.where(~unknown & ~bad & ~huge)
        counts[column] = whole.round().astype("Int64")
    return counts


def _check_dates(
    frame: pd.DataFrame, kind: str, report: _Report, today: dt.date, reading: ReadSettings
) -> dict:
    """Dates read and checked, per file; returns each date column's days.

    Without a date order, a file's column is read day-first (or month-first)
    when its dates settle it, with a note; dates it leaves ambiguous are
    errors that name ``date_order`` and ``--date-order``.
    """
    days_of = {}
    for column in s.DATE_COLUMNS[kind]:
        if column not in frame.columns:
            continue
        raw = frame[column]
        absent = _values.unknown_mask(raw, reading.unknown)
        days = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[us]")
        ambiguous = np.zeros(len(frame), dtype=bool)
        for file, where in _by_file(frame, report.source):
            where = where[~absent[where]]
            if not len(where):
                continue
            read = _values.read_dates(raw.iloc[where], date_order=reading.date_order)
            days.iloc[where] = read.days.to_numpy()
            ambiguous[where[read.ambiguous]] = True
            for i in where[read.ambiguous]:
                report.add_one(i, "ambiguous-date", read.ambiguity(column, raw.iloc[i]))
            _note(report, file, "date-order", read.note(column))
        if column in s.REQUIRED[kind]:
            report.add(absent, "missing-date", f"{column} is empty")
        use = (
            "use YYYY-MM-DD"
            if reading.date_order is None
            else f"use YYYY-MM-DD or {_values.written_as(reading.date_order)}, the date order given"
        )
        report.add(
            ~absent & ~ambiguous & days.isna().to_numpy(),
            "bad-date",
            lambda i, c=column, r=raw, u=use: f"{c} {show(r.iloc[i])} is not a date ({u})",
        )
        future = days.notna() & (days > pd.Timestamp(today))
        report.add(
            future,
            "future-date",
            lambda i, c=column, p=days: f"{c} {p.iloc[i].date()} is in the future",
        )
        days_of[column] = days
    return days_of


def _as_written(value) -> str:
    """``empty`` for an empty cell, else the value quoted."""
    return "empty" if pd.isna(value) or not str(value).strip() else show(value)


def _parse_dates(values_: pd.Series, date_order: str | None = None) -> pd.Series:
    """Calendar days of a column as :func:`minemap.values.read_dates` reads it (NaT elsewhere)."""
    return _values.read_dates(values_, date_order=date_order).days


def _check_enums(frame: pd.DataFrame, kind: str, report: _Report) -> None:
    for column, allowed in s.ENUM_COLUMNS[kind].items():
        if column not in frame.columns:
            continue
        raw = frame[column]
        absent = raw.isna() | (raw.astype("string").str.strip() == "")
        if column in s.REQUIRED[kind]:
            report.add(absent, "missing-value", f"{column} is empty")
        value = _normalise_enum(raw, column)
        report.add(
            ~absent & ~value.isin(allowed),
            "unknown-value",
            lambda i, c=column, r=raw, a=allowed, k=kind: (
                f"{c} {show(r.iloc[i])} is not one of {', '.join(a)}, nor a word minemap "
                f"knows for one; {_profile_line(k, c, r.iloc[i], a[0])}"
            ),
        )


def _profile_line(kind: str, column: str, value, example: str) -> str:
    """How to say in a profile what a value means: the line to add, when it is short."""
    text = str(value).strip()
    if len(text) > MAX_SHOWN:
        return f"say what it means in a profile's [{kind}.values.{column}] table"
    return (
        f"say what it means in a profile: [{kind}.values.{column}] "
        f"{toml_string(text)} = {toml_string(example)}"
    )


def _normalise_enum(values: pd.Series, column: str) -> pd.Series:
    """Minemap's value for each entry (any case, English, Azerbaijani, Russian), else NA."""
    from minemap import vocabulary

    return vocabulary.normalise_values(values, column)


def _district_names(
    frame: pd.DataFrame,
    kind: str,
    report: _Report,
    districts: gpd.GeoDataFrame | None,
    gazetteer=None,
) -> pd.Series:
    """Canonical district names, checking unknown ones.

    Names are looked up in the gazetteer (``gazetteer``, or the active one: the
    built-in names and a ``--gazetteer`` file's), then in the districts layer's
    own name columns (:meth:`minemap.gazetteer.Gazetteer.from_layer`). A districts
    layer may come from anywhere (another country's boundaries must work), so its
    unknown names are kept, with a warning only when one looks like a typo of a
    known name. A hazard's district must be a known
    name or one of the districts layer's: anything else is an error listing the
    closest names.
    """
    from minemap import gazetteer as gz

    known = gazetteer if gazetteer is not None else gz.active()
    layer = (
        gz.Gazetteer.from_layer(districts, known=known) if districts is not None else gz.Gazetteer()
    )
    raw = frame[s.DISTRICT]
    names = raw.astype("string").str.strip().tolist()
    out = []
    keys = {}
    for name in dict.fromkeys(n for n in names if isinstance(n, str) and n):
        keys[name] = known.canonical(name) or layer.canonical(name)
    for i, name in enumerate(names):
        if not isinstance(name, str) or not name:
            out.append(None)
            continue
        key = keys[name]
        if key is not None:
            out.append(key)
            continue
        out.append(name)
        if kind == "districts":
            close = known.closest(name)
            close = [c for c in close if _similar(name, c) >= 0.8]
            if close:
                report.add_one(
                    i,
                    "unknown-district",
                    f"district {show(name)} is not a name minemap knows; did you mean "
                    f"{' or '.join(close)}? Kept as written",
                    WARNING,
                )
            continue
        close = known.closest(name, extra=layer.keys)
        hint = f"; closest known: {', '.join(close)}" if close else ""
        report.add_one(
            i,
            "unknown-district",
            f"district {show(name)} is not a known district name{hint} "
            "(use one of them, give a districts layer that has it, or add it to a "
            f"gazetteer: {argument('gazetteer')})",
        )
    return pd.Series(out, index=frame.index, dtype="string")


def _similar(a: str, b: str) -> float:
    import difflib

    return difflib.SequenceMatcher(None, s.fold_name(a), s.fold_name(b)).ratio()


def check_layer(
    frame: gpd.GeoDataFrame,
    kind: str,
    *,
    source: str = "<frame>",
    today: dt.date | None = None,
    districts: gpd.GeoDataFrame | None = None,
    hazards: gpd.GeoDataFrame | None = None,
    source_crs=None,
    max_segment_m: float | None = MAX_SEGMENT_M,
    overlap_share: float = OVERLAP_SHARE,
    settings: ReadSettings | None = None,
    gazetteer=None,
    date_order: str | None = None,
    decimal: str | None = None,
    unknown: Iterable[str] = (),
) -> tuple[gpd.GeoDataFrame, list[Problem], np.ndarray]:
    """Check every feature of a layer whose columns are already canonical.

    Parameters
    ----------
    frame
        The layer in EPSG:4326, with canonical column names (see
        :func:`minemap.io.normalise_columns`).
    kind
        ``hazards``, ``releases``, ``items`` or ``districts``.
    source
        The file name used in problem reports.
    today
        Dates after this day are errors (default: today).
    districts
        A districts layer: context for the lat/lon-swap check and the hazards'
        district names. Without it both are skipped.
    hazards
        The hazards: context for the "release outside every hazard" warning.
    source_crs
        The CRS the coordinates were given in (one, or one per row): features far
        outside its area of use are errors.
    max_segment_m
        Longest allowed distance between consecutive vertices of a hazard or a
        release; ``None`` turns the check off.
    overlap_share
        Two hazards overlapping by more than this share of the larger are errors.
    settings
        How the source writes values (a profile's :class:`~minemap.profile.ReadSettings`):
        its ``date_order``, ``decimal`` and ``unknown`` tokens (see below).
    gazetteer
        The district names known (default: :func:`minemap.gazetteer.active`).
    date_order
        ``"DMY"``, ``"MDY"`` or ``"YMD"``: how dates written with separators
        order day, month and year (``--date-order``; it wins over the
        settings'). Without either, each file's column must settle the order
        (see :func:`minemap.values.read_dates`).
    decimal
        ``","`` or ``"."``: the decimal separator of numbers written as text
        (``--decimal``; it wins over the settings'); without either, each
        file's column must settle two-way numbers such as ``1,157``.
    unknown
        Cell values meaning "not known", beside the settings' and the built-in
        ones (:func:`minemap.vocabulary.unknown_terms`).

    Returns
    -------
    cleaned, problems, rejected
        ``cleaned`` has the repairs applied and values typed (ids trimmed text,
        counts integers, NA where not known, dates as days, enums in canonical
        spelling, a release's ``area_ha`` a number);
        ``rejected`` marks the rows with an error. Nothing is dropped here.

    Examples
    --------
    >>> from minemap import datasets
    >>> _, problems, rejected = check_layer(datasets.hazards(), "hazards")
    >>> int(rejected.sum())
    0
    """
    if kind not in s.LAYER_KINDS:
        raise ValueError(f"kind must be one of {', '.join(s.LAYER_KINDS)}, not {kind!r}")
    today = today or dt.date.today()
    settings = settings or _PLAIN
    frame = frame.copy()
    if frame.crs is not None and not frame.crs.equals(s.CANONICAL_CRS):
        source_crs = frame.crs if source_crs is None else source_crs
        frame = frame.to_crs(s.CANONICAL_CRS)
    id_col = s.ID_COLUMN[kind]
    if id_col in frame.columns:
        frame[id_col] = frame[id_col].astype("string").str.strip()
    for column in (*s.REQUIRED[kind], *s.OPTIONAL[kind]):
        if column in frame.columns:
            # Cells that say "not known" are empty (a profile's unknown = [...]).
            frame[column] = settings.blank_unknown(frame[column])
    report = _Report(frame, kind, source)
    missing = [c for c in s.REQUIRED[kind] if c not in frame.columns]
    if missing and not len(frame):
        # An empty layer has nothing to reject (and a GeoJSON with no features has
        # no columns to look at): give it the required columns, empty.
        for column in missing:
            frame[column] = pd.Series([], dtype=object)
        missing = []
    if missing:
        report.problems.append(_missing_columns(frame, kind, source, missing))
        report.rejected[:] = True
        dropped = frame.drop(columns=[GEOMETRY_NOTE, TEXT_NOTE], errors="ignore")
        return dropped, report.problems, report.rejected

    # The command line wins over a profile; "not known" tokens add up.
    reading = dataclasses.replace(
        settings,
        date_order=_values.check_date_order(date_order or settings.date_order),
        decimal=_values.check_decimal(decimal or settings.decimal),
        unknown=(*settings.unknown, *unknown),
    )
    area_only = _area_only_rows(frame, kind, reading)
    geometry, ok = _check_geometry(
        frame,
        kind,
        report,
        source_crs=source_crs,
        max_segment_m=max_segment_m,
        area_only=area_only,
    )
    _check_text(frame, report)
    frame = frame.set_geometry(geometry).drop(columns=[GEOMETRY_NOTE, TEXT_NOTE], errors="ignore")
    geoms = geometry.to_numpy(dtype=object)
    if districts is not None and kind != "districts":
        ok &= ~_check_swapped(geoms, ok, districts, report)
    same = _find_copies(frame, kind, geoms, ok)
    copy = np.zeros(len(frame), dtype=bool)
    copy[list(same.copy_of)] = True
    if kind == "hazards":
        sources = (
            frame[s.SOURCE].astype("string").str.strip().to_numpy(dtype=object)
            if s.SOURCE in frame.columns
            else None
        )
        # A copy of a record is not a second record on the same ground.
        _check_duplicates(geoms, ok & ~report.rejected & ~copy, report, overlap_share, sources)
    if kind == "releases" and hazards is not None:
        _check_outside_hazards(geoms, ok & ~area_only, hazards, report)
    area = _check_area_only(frame, area_only, report, reading, hazards) if area_only.any() else None
    _check_ids(frame, kind, report, same)
    counts = _check_counts(frame, kind, report, reading)
    days = _check_dates(frame, kind, report, today, reading)
    _check_enums(frame, kind, report)
    if s.DISTRICT in frame.columns:
        frame[s.DISTRICT] = _district_names(frame, kind, report, districts, gazetteer)
    _store_values(frame, kind, counts, days, area, area_only, reading)
    return frame, report.problems, report.rejected


def _missing_columns(frame: pd.DataFrame, kind: str, source: str, missing: list[str]) -> Problem:
    """The error for a layer without a required column: which, the columns it has
    (up to 30, bookkeeping columns left out) and how to map one."""
    bookkeeping = (frame.geometry.name, GEOMETRY_NOTE, TEXT_NOTE, s.SOURCE_FILE, s.SOURCE_ROW)
    shown = [escape(c) for c in frame.columns if c not in bookkeeping]
    if len(shown) > 30:
        shown = [*shown[:30], f"... ({len(shown) - 30} more)"]
    return Problem(
        source,
        None,
        "",
        "missing-column",
        ERROR,
        f"no column {', '.join(missing)} for a {kind} layer ("
        + (f"columns: {', '.join(map(str, shown))}" if shown else "it has no columns")
        + "); rename it or map it explicitly "
        f"({argument('mapping', {missing[0]: 'COLUMN'})})",
    )


def _store_values(
    frame: pd.DataFrame,
    kind: str,
    counts: dict,
    days: dict,
    area: pd.Series | None,
    area_only: np.ndarray,
    reading: ReadSettings,
) -> None:
    """Put the values read into ``frame`` (in place): counts as integers, dates as
    days, a release's ``area_ha`` as a number, enums in canonical spelling."""
    for column, numbers in counts.items():
        frame[column] = numbers
    for column, parsed in days.items():
        frame[column] = parsed
    if kind == "releases" and s.AREA_HA in frame.columns:
        # Read on every release (a polygon's own area is what counts there).
        given = _values.read_numbers(frame[s.AREA_HA], decimal=reading.decimal).numbers
        frame[s.AREA_HA] = given if area is None else area.where(area_only, given)
    for column in s.ENUM_COLUMNS[kind]:
        if column in frame.columns:
            normalised = _normalise_enum(frame[column], column)
            frame[column] = frame[column].where(normalised.isna(), normalised)


def _area_only_rows(frame: pd.DataFrame, kind: str, reading: ReadSettings) -> np.ndarray:
    """Releases given as an area: no polygon (none, or a point), and ``area_ha`` given."""
    none = np.zeros(len(frame), dtype=bool)
    if kind != "releases" or s.AREA_HA not in frame.columns:
        return none
    geoms = frame.geometry.to_numpy(dtype=object)
    note = (
        frame[GEOMETRY_NOTE].to_numpy(dtype=object)
        if GEOMETRY_NOTE in frame.columns
        else np.full(len(frame), None, dtype=object)
    )
    present = ~pd.isna(geoms)
    no_polygon = ~present | shapely.is_empty(np.where(present, geoms, None))
    no_polygon |= present & (shapely.get_type_id(geoms) == shapely.GeometryType.POINT)
    no_polygon &= ~np.isin(note, ["unreadable", "too-deep"])
    return no_polygon & ~_values.unknown_mask(frame[s.AREA_HA], reading.unknown)


def _check_area_only(
    frame: pd.DataFrame,
    area_only: np.ndarray,
    report: _Report,
    reading: ReadSettings,
    hazards: gpd.GeoDataFrame | None,
) -> pd.Series:
    """An area-only release: a positive area in hectares, and a hazard that exists.

    Its ground is taken from that hazard's remaining ground (see
    :mod:`minemap.contamination`), so the hazard must be known: with the
    hazards as context, a ``hazard_id`` naming none of them is an error.
    Returns the areas (NaN where not read).
    """
    raw = frame[s.AREA_HA]
    area, ambiguous = _read_numbers(frame, s.AREA_HA, report, reading, rows=area_only)
    bad = area_only & ~ambiguous & ~(area.to_numpy() > 0)
    report.add(
        bad,
        "bad-area",
        lambda i: (
            f"area_ha {show(raw.iloc[i])} is not an area: write the hectares released as a "
            "number above 0 (0.75 or 0,75)"
        ),
    )
    named = (
        frame[s.HAZARD_ID].astype("string").str.strip()
        if s.HAZARD_ID in frame.columns
        else pd.Series(pd.NA, index=frame.index, dtype="string")
    )
    unnamed = area_only & (named.isna() | (named == "")).to_numpy()
    report.add(
        unnamed,
        "unknown-hazard",
        "a release without a polygon (area_ha only) must name the hazard it released ground "
        "of (hazard_id): its area is taken from that hazard's remaining ground",
    )
    if hazards is not None and s.HAZARD_ID in hazards.columns:
        known = set(hazards[s.HAZARD_ID].astype("string").str.strip().dropna())
        unknown = area_only & ~unnamed & ~named.isin(known).fillna(False).to_numpy(dtype=bool)
        report.add(
            unknown,
            "unknown-hazard",
            lambda i: (
                f"hazard_id {show(named.iloc[i])} names no hazard read (a release without a "
                "polygon takes its area from its hazard's remaining ground): check the id, "
                "or give the file that holds that hazard"
            ),
        )
    return area
