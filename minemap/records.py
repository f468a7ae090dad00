"""Minefield records (CCW Amended Protocol II, Technical Annex) turned into geometry.

A minefield record locates a minefield the way it was surveyed: from one or
more reference points, each turning point is given by a bearing and a
distance from another point (IMSMA keeps the same ``bearing``, ``distance``
and ``frompoint``). :func:`read_record` reads and checks a record (JSON or
CSV, described in ``docs/records.md`` and ``data/records/README.md``);
:func:`traverse` computes every point on the WGS84 ellipsoid with
:meth:`pyproj.Geod.fwd` (the geodesic direct problem) from true azimuths and
returns the perimeter polygon (a hazard, ready to join the hazards layer), the
mine rows as lines and the points.

Bearings may be degrees or mils (6400 or 6000 to the circle), referred to true,
grid (UTM; the meridian convergence at the point turns them into true
azimuths) or magnetic north (the record's declination, east positive, turns
them into true azimuths). Reference points may be longitude/latitude, UTM or
MGRS.

Examples
--------
>>> from minemap import records
>>> record = records.read_record(records.EXAMPLE_JSON)
>>> result = records.traverse(record)
>>> result.perimeter[["hazard_id", "mines_ap", "mines_at"]].to_numpy().tolist()
[['AGD-MF-0417', 120, 36]]
>>> round(result.misclosure_m, 2)
0.05
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import json
import logging
import math
import re
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from minemap import geodesy
from minemap import mgrs as _mgrs
from minemap import schema as s
from minemap._arguments import argument
from minemap._text import escape, show
from minemap.errors import InputFileError, MisclosureError, RecordError

__all__ = [
    "BEARING_UNITS",
    "EXAMPLE_CSV",
    "EXAMPLE_JSON",
    "MAX_MISCLOSURE_M",
    "MILS_PER_CIRCLE",
    "NORTH_REFERENCES",
    "ROLES",
    "WARN_MISCLOSURE_M",
    "MineCount",
    "MisclosureError",  # defined in minemap.errors, still importable from here
    "Record",
    "RecordError",  # defined in minemap.errors, still importable from here
    "RecordPoint",
    "Traverse",
    "read_record",
    "traverse",
]

log = logging.getLogger("minemap")


def _names(values, *, quote: bool = True, limit: int = 10) -> str:
    """Names or ids from a file for a message: each quoted short (or escaped), at most ``limit``."""
    shown = [show(v) if quote else escape(v) for v in values[:limit]]
    more = f" and {len(values) - limit:,} more" if len(values) > limit else ""
    return ", ".join(shown) + more


def _examples_folder() -> Path:
    # Wheels carry data/ inside the package as _sample/ (see pyproject.toml and datasets.py).
    packaged = Path(str(resources.files("minemap"))) / "_sample" / "records"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "data" / "records"


_DATA = _examples_folder()
#: The bundled example record, the same minefield in both formats.
EXAMPLE_JSON = _DATA / "example_record.json"
EXAMPLE_CSV = _DATA / "example_record.csv"

BEARING_UNITS = ("degrees", "mils")
#: Mils to the full circle: NATO (6400) and the former Warsaw Pact / Soviet artillery (6000).
MILS_PER_CIRCLE = (6400, 6000)
NORTH_REFERENCES = ("true", "grid", "magnetic")
#: reference and landmark points only place others; perimeter points make the polygon
#: (in file order); row points make the mine rows (in file order, grouped by ``row``).
ROLES = ("reference", "landmark", "perimeter", "row")
MINE_CATEGORIES = ("AP", "AT")

#: A closing misclosure above this many metres is logged as a warning.
WARN_MISCLOSURE_M = 1.0
#: A closing misclosure above this many metres makes the record an error.
MAX_MISCLOSURE_M = 10.0

# Field names of the record format (the point fields double as output columns).
RECORD_ID = "record_id"
MINES = "mines"
POINTS = "points"
DECLINATION_DEG = "declination_deg"
MILS = "mils_per_circle"
GRID_ZONE = "grid_zone"
CATEGORY = "category"
COUNT = "count"
TYPE = "type"
ID = "id"
ROW = "row"
CLOSES = "closes"
LAT, LON = "lat", "lon"
UTM_ZONE, HEMISPHERE, EASTING, NORTHING = "utm_zone", "hemisphere", "easting", "northing"
MGRS = "mgrs"
_UTM_FIELDS = (UTM_ZONE, HEMISPHERE, EASTING, NORTHING)
_RECORD_FIELDS = (
    RECORD_ID,
    s.SOURCE,
    s.LAID_ON,
    s.SUBMITTED_ON,
    s.DISTRICT,
    s.CLASSIFICATION,
    s.BEARING_UNIT,
    MILS,
    s.NORTH,
    DECLINATION_DEG,
    GRID_ZONE,
    MINES,
    POINTS,
)
_POINT_FIELDS = (
    ID,
    s.ROLE,
    s.FROMPOINT,
    s.BEARING,
    s.DISTANCE_M,
    s.NORTH,
    LAT,
    LON,
    *_UTM_FIELDS,
    MGRS,
    CLOSES,
    ROW,
    s.MINES_AP,
    s.MINES_AT,
    s.MINE_TYPE,
)
_UNIT_ALIASES = {"degrees": "degrees", "degree": "degrees", "deg": "degrees", "mils": "mils"}
_UNIT_ALIASES |= {"mil": "mils", "mils": "mils"}

_GEOD = pyproj.Geod(ellps="WGS84")
#: "1,200": a thousands separator or a decimal comma, no way to tell.
_THOUSANDS = re.compile(r"[-+]?\d{1,3}(,\d{3})+")


@dataclasses.dataclass(frozen=True)
class MineCount:
    """Mines of one type laid in the minefield."""

    type: str
    category: str
    count: int


@dataclasses.dataclass(frozen=True)
class RecordPoint:
    """One point of a record: fixed by coordinates, or a leg from another point."""

    id: str
    role: str
    where: str
    lat: float | None = None
    lon: float | None = None
    given_as: str | None = None
    zone: tuple[int, str] | None = None
    frompoint: str | None = None
    bearing: float | None = None
    distance_m: float | None = None
    north: str | None = None
    closes: bool = False
    row: str | None = None
    mines_ap: int | None = None
    mines_at: int | None = None
    mine_type: str | None = None

    @property
    def is_leg(self) -> bool:
        return self.bearing is not None


@dataclasses.dataclass(frozen=True)
class Record:
    """A checked minefield record (see :func:`read_record`)."""

    path: str
    record_id: str
    north: str
    bearing_unit: str
    points: tuple[RecordPoint, ...]
    mils_per_circle: int | None = None
    declination_deg: float | None = None
    grid_zone: tuple[int, str] | None = None
    mines: tuple[MineCount, ...] = ()
    source: str | None = None
    laid_on: dt.date | None = None
    submitted_on: dt.date | None = None
    district: str | None = None
    classification: str | None = None


@dataclasses.dataclass(frozen=True)
class Traverse:
    """What :func:`traverse` computes; unpacks as ``perimeter, rows, points``."""

    perimeter: gpd.GeoDataFrame
    rows: gpd.GeoDataFrame
    points: gpd.GeoDataFrame
    #: Metres between the closing point and the first perimeter point (None: no closing leg).
    misclosure_m: float | None
    area_ha: float

    def __iter__(self) -> Iterator[gpd.GeoDataFrame]:
        return iter((self.perimeter, self.rows, self.points))


# --- reading ----------------------------------------------------------------------


def read_record(path) -> Record:
    """Read and check a minefield record (``.json`` or ``.csv``).

    Every problem is collected, then one :class:`RecordError` names the file,
    each point (id and position) and what is wrong.

    Parameters
    ----------
    path
        A record in the format of ``docs/records.md``.

    Examples
    --------
    >>> record = read_record(EXAMPLE_CSV)
    >>> record.record_id, record.bearing_unit, record.mils_per_circle, record.north
    ('AGD-MF-0417', 'mils', 6000, 'magnetic')
    """
    path = Path(path)
    if not path.exists():
        raise InputFileError(path, "no such file")
    if path.is_dir():
        raise InputFileError(path, "is a directory, not a record file")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise InputFileError(path, "is not UTF-8 text; save the record as UTF-8") from None
    if not text.strip():
        raise InputFileError(path, "is empty")
    suffix = path.suffix.lower()
    if suffix == ".json":
        data = _parse_json(text, path)
    elif suffix in (".csv", ".txt"):
        data = _parse_csv(text, path)
    else:
        raise InputFileError(path, f"unknown record format {show(suffix)}; use .json or .csv")
    return _build(data, path)


def _parse_json(text: str, path: Path) -> dict:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputFileError(path, f"is not valid JSON ({exc.msg}, line {exc.lineno})") from None
    if not isinstance(data, dict):
        raise RecordError(path, ["a JSON record is an object with record_id, points..."])
    points = data.get(POINTS)
    if points is not None and not (
        isinstance(points, list) and all(isinstance(p, dict) for p in points)
    ):
        raise RecordError(path, ["'points' must be a list of objects, one per point"])
    where = [f"points[{i}]" for i in range(len(points or []))]
    return {**data, "_where": where}


def _parse_csv(text: str, path: Path) -> dict:
    """Leading ``# field: value`` lines are the record's fields; the table holds the points."""
    data: dict = {}
    lines = text.splitlines()
    first = 0
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if not stripped:
            first = number
            continue
        if not stripped.startswith("#"):
            break
        first = number
        key, sep, value = stripped.lstrip("#").partition(":")
        key = key.strip().lower()
        if not sep or not key.replace("_", "").isalnum():
            continue  # a plain comment ("# Surveyed by ...: ...")
        data[key] = value.strip()
    table = list(csv.reader(io.StringIO("\n".join(lines[first:]))))
    if not table:
        raise RecordError(path, ["no points table after the '# field: value' lines"])
    header = [h.strip().lower() for h in table[0]]
    unknown = [h for h in header if h not in _POINT_FIELDS]
    if unknown:
        raise RecordError(
            path,
            [
                (
                    f"line {first + 1}: unknown column(s) {_names(unknown)}; "
                    f"the point columns are {', '.join(_POINT_FIELDS)}"
                )
            ],
        )
    points, where = [], []
    for offset, cells in enumerate(table[1:], start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) > len(header):
            raise RecordError(
                path, [f"line {first + offset}: {len(cells)} cells but {len(header)} columns"]
            )
        points.append({h: c.strip() for h, c in zip(header, cells, strict=False) if c.strip()})
        where.append(f"line {first + offset}")
    if MINES in data:
        data[MINES] = _parse_mines_text(data[MINES], path)
    return {**data, POINTS: points, "_where": where}


def _parse_mines_text(text: str, path: Path) -> list[dict]:
    """``PMN-2 AP 120; TM-62M AT 36`` -> the JSON form of ``mines``."""
    out = []
    for part in (p.strip() for p in text.split(";")):
        if not part:
            continue
        words = part.split()
        if len(words) < 3:
            raise RecordError(
                path, [f"mines: {show(part)} should be 'TYPE CATEGORY COUNT', e.g. 'PMN-2 AP 120'"]
            )
        out.append({TYPE: " ".join(words[:-2]), CATEGORY: words[-2], COUNT: words[-1]})
    return out


# --- checking ---------------------------------------------------------------------


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _number(value, what: str, problems: list[str]) -> float | None:
    if _blank(value):
        return None
    if isinstance(value, bool):
        problems.append(f"{what} {show(value)} is not a number")
        return None
    if isinstance(value, str) and _THOUSANDS.fullmatch(value.strip()):
        problems.append(
            f"{what} {show(value)} is ambiguous (a thousands separator or a decimal comma?); "
            "write it without the comma, or with a decimal point"
        )
        return None
    try:
        # A decimal comma ("12,5") is how many records are written here.
        number = float(value.strip().replace(",", ".")) if isinstance(value, str) else value
        number = float(number)
    except (TypeError, ValueError):
        problems.append(f"{what} {show(value)} is not a number")
        return None
    if not math.isfinite(number):
        problems.append(f"{what} {show(value)} is not a finite number")
        return None
    return number


def _count(value, what: str, problems: list[str]) -> int | None:
    number = _number(value, what, problems)
    if number is None:
        return None
    if number < 0 or number != int(number):
        problems.append(f"{what} {show(value)} must be a whole number >= 0")
        return None
    return int(number)


def _date(value, what: str, problems: list[str]) -> dt.date | None:
    if _blank(value):
        return None
    try:
        day = dt.date.fromisoformat(str(value).strip())
    except ValueError:
        problems.append(f"{what} {show(value)} is not a date written YYYY-MM-DD")
        return None
    if day > dt.date.today():
        problems.append(f"{what} {day} is in the future")
        return None
    return day


def _text(value) -> str | None:
    return None if _blank(value) else str(value).strip()


def _flag(value, what: str, problems: list[str]) -> bool:
    if _blank(value) or value is False:
        return False
    if value is True or str(value).strip().lower() in ("true", "yes", "1", "y"):
        return True
    if str(value).strip().lower() in ("false", "no", "0", "n"):
        return False
    problems.append(f"{what} {show(value)} should be true or false")
    return False


def _zone(value, hemisphere, what: str, problems: list[str]) -> tuple[int, str] | None:
    """``38`` with ``N``, or ``38N``/``38 S`` alone."""
    text = str(value).strip().upper().replace(" ", "")
    if text[-1:] in ("N", "S") and hemisphere is None:
        text, hemisphere = text[:-1], text[-1]
    if hemisphere is None:
        problems.append(f"{what}: zone {show(value)} needs a hemisphere, N or S (e.g. 38N)")
        return None
    try:
        return _mgrs._check_zone(text, hemisphere)
    except _mgrs.MGRSError as exc:
        problems.append(f"{what}: {exc}")
        return None


def _build(data: dict, path: Path) -> Record:
    problems: list[str] = []
    unknown = sorted(k for k in data if k not in _RECORD_FIELDS and k != "_where")
    if unknown:
        problems.append(
            f"unknown record field(s) {_names(unknown)}; the fields are {', '.join(_RECORD_FIELDS)}"
        )
    record_id = _text(data.get(RECORD_ID))
    if record_id is None:
        problems.append("record_id is missing: every record needs its id")

    unit, mils, full_circle = _bearing_unit(data, problems)
    north = _record_north(data, problems)
    declination = _number(data.get(DECLINATION_DEG), DECLINATION_DEG, problems)
    if declination is not None and not -90.0 <= declination <= 90.0:
        problems.append(
            f"declination_deg {declination:g} is out of range -90 to 90 (east positive)"
        )
        declination = None
    grid_zone = None
    if not _blank(data.get(GRID_ZONE)):
        grid_zone = _zone(data.get(GRID_ZONE), None, GRID_ZONE, problems)

    mines = _build_mines(data.get(MINES), problems)
    laid_on = _date(data.get(s.LAID_ON), s.LAID_ON, problems)
    submitted_on = _date(data.get(s.SUBMITTED_ON), s.SUBMITTED_ON, problems)
    district = _record_district(data, problems)
    classification = _record_classification(data, problems)

    raw_points = data.get(POINTS) or []
    if not raw_points:
        problems.append("the record has no points")
    points = _build_points(
        raw_points,
        data.get("_where") or [],
        full_circle=full_circle,
        unit=unit or "degrees",
        north=north,
        declination=declination,
        problems=problems,
    )
    if problems:
        raise RecordError(path, problems)
    return Record(
        path=str(path),
        record_id=record_id,  # type: ignore[arg-type]
        north=north,  # type: ignore[arg-type]
        bearing_unit=unit,  # type: ignore[arg-type]
        points=tuple(points),
        mils_per_circle=mils,
        declination_deg=declination,
        grid_zone=grid_zone,
        mines=tuple(mines),
        source=_text(data.get(s.SOURCE)),
        laid_on=laid_on,
        submitted_on=submitted_on,
        district=district,
        classification=classification,
    )


def _bearing_unit(data: dict, problems: list[str]) -> tuple[str | None, int | None, float]:
    """``(unit, mils_per_circle, full_circle)`` of a record's bearings.

    The unit is ``"degrees"`` (the default) or ``"mils"``, None if not known; mils
    need a ``mils_per_circle`` of 6400 or 6000. Without a (valid) one, bearings are
    checked against the larger circle rather than 360: the missing field is the
    problem, not every bearing.
    """
    unit_text = _text(data.get(s.BEARING_UNIT)) or "degrees"
    unit = _UNIT_ALIASES.get(unit_text.lower())
    if unit is None:
        problems.append(f"bearing_unit {show(unit_text)} is neither degrees nor mils")
    mils = None
    if unit == "mils":
        given = _number(data.get(MILS), MILS, problems)
        if given is None:
            if _blank(data.get(MILS)):
                problems.append(
                    "bearings are in mils but mils_per_circle is missing; "
                    "say 6400 (NATO) or 6000 (Warsaw Pact)"
                )
        elif given not in MILS_PER_CIRCLE:
            problems.append(f"mils_per_circle {given:g} must be 6400 or 6000")
        else:
            mils = int(given)
    full_circle = float(mils or max(MILS_PER_CIRCLE)) if unit == "mils" else 360.0
    return unit, mils, full_circle


def _record_north(data: dict, problems: list[str]) -> str | None:
    """The record's north reference in lower case (required), None if missing or unknown."""
    north = _text(data.get(s.NORTH))
    if north is None:
        problems.append("north is missing: say which north the bearings use (true, grid, magnetic)")
        return None
    if north.lower() not in NORTH_REFERENCES:
        problems.append(f"north {show(north)} is not one of {', '.join(NORTH_REFERENCES)}")
        return None
    return north.lower()


def _record_district(data: dict, problems: list[str]) -> str | None:
    """The record's district by its canonical name, None if not given or not known."""
    district = _text(data.get(s.DISTRICT))
    if district is None:
        return None
    known = s.canonical_district(district)
    if known is None:
        close = ", ".join(s.closest_districts(district))
        problems.append(f"district {show(district)} is not known; did you mean {close}?")
    return known


def _record_classification(data: dict, problems: list[str]) -> str | None:
    """The record's hazard classification in upper case (checked), None if not given."""
    classification = _text(data.get(s.CLASSIFICATION))
    if classification is None:
        return None
    if classification.upper() not in s.HAZARD_CLASSIFICATIONS:
        problems.append(
            f"classification {show(classification)} is not one of "
            f"{', '.join(s.HAZARD_CLASSIFICATIONS)}"
        )
    return classification.upper()


def _build_mines(raw, problems: list[str]) -> list[MineCount]:
    if _blank(raw):
        return []
    if not isinstance(raw, list):
        problems.append("mines must be a list of {type, category, count}")
        return []
    out = []
    for i, item in enumerate(raw):
        what = f"mines[{i}]"
        if not isinstance(item, dict):
            problems.append(f"{what} must be an object with type, category and count")
            continue
        kind = _text(item.get(TYPE)) or "unknown"
        what = f"{what} ({escape(kind)})"
        category = (_text(item.get(CATEGORY)) or "").upper()
        if category not in MINE_CATEGORIES:
            shown = show(item.get(CATEGORY))
            problems.append(f"{what}: category {shown} must be AP or AT")
        count = _count(item.get(COUNT), f"{what}: count", problems)
        if count is None and _blank(item.get(COUNT)):
            problems.append(f"{what}: count is missing")
        if category in MINE_CATEGORIES and count is not None:
            out.append(MineCount(kind, category, count))
    return out


def _build_points(
    raw: list[dict],
    wheres: list[str],
    *,
    full_circle: float,
    unit: str,
    north: str | None,
    declination: float | None,
    problems: list[str],
) -> list[RecordPoint]:
    points: list[RecordPoint] = []
    seen: dict[str, str] = {}
    later = {
        str(p.get(ID)).strip(): (wheres[i] if i < len(wheres) else f"points[{i}]")
        for i, p in enumerate(raw)
        if not _blank(p.get(ID))
    }
    for i, item in enumerate(raw):
        where = wheres[i] if i < len(wheres) else f"points[{i}]"
        pid = _text(item.get(ID))
        label = f"point {escape(pid)} ({where})" if pid else f"point at {where}"
        own: list[str] = []
        role = _point_role(item, pid, seen, own)

        fixed, lat, lon, given_as, zone = _coordinates(item, own)
        bearing = _number(item.get(s.BEARING), "bearing", own)
        distance = _number(item.get(s.DISTANCE_M), "distance_m", own)
        has_leg = not (_blank(item.get(s.BEARING)) and _blank(item.get(s.DISTANCE_M)))
        frompoint = _text(item.get(s.FROMPOINT))
        point_north = _point_north(item, own)
        if fixed and has_leg:
            own.append("has both coordinates and a bearing/distance; give one or the other")
        elif not fixed and not has_leg:
            own.append(
                "has neither coordinates (lat/lon, UTM or MGRS) nor a leg (bearing and distance_m)"
            )
        elif has_leg:
            _check_leg(item, bearing, distance, full_circle=full_circle, unit=unit, own=own)
            frompoint = _leg_origin(frompoint, pid, points, seen, later, own)
            leg_north = point_north or north
            if leg_north == "magnetic" and declination is None:
                own.append(
                    "bearing is magnetic but the record has no declination_deg "
                    "(east positive, e.g. 6.2 or -1.5)"
                )
        elif frompoint is not None:
            own.append("has a frompoint but no bearing and distance_m")
        closes = _flag(item.get(CLOSES), "closes", own)
        if closes and (not has_leg or role != "perimeter"):
            own.append("closes is only for a perimeter point computed by a leg")
        row, ap, at, mine_type = _point_row(item, role, own)
        problems.extend(f"{label}: {p}" for p in own)
        if pid is not None and pid not in seen:
            seen[pid] = where
        points.append(
            RecordPoint(
                id=pid or f"#{i}",
                role=role,
                where=where,
                lat=lat,
                lon=lon,
                given_as=given_as,
                zone=zone,
                frompoint=frompoint if has_leg else None,
                bearing=bearing if has_leg else None,
                distance_m=distance if has_leg else None,
                north=point_north,
                closes=closes,
                row=row,
                mines_ap=ap,
                mines_at=at,
                mine_type=mine_type,
            )
        )
    _check_structure(points, problems)
    return points


def _point_role(item: dict, pid: str | None, seen: dict[str, str], own: list[str]) -> str:
    """The point's role in lower case (default perimeter), after checking its field
    names, its id (present, not used by an earlier point) and the role itself."""
    unknown = sorted(k for k in item if k not in _POINT_FIELDS)
    if unknown:
        own.append(
            f"unknown field(s) {_names(unknown)}; the point fields are {', '.join(_POINT_FIELDS)}"
        )
    if pid is None:
        own.append("id is missing")
    elif pid in seen:
        own.append(f"id {show(pid)} is already used by the point at {seen[pid]}")
    role = (_text(item.get(s.ROLE)) or "perimeter").lower()
    if role not in ROLES:
        own.append(f"role {show(item.get(s.ROLE))} is not one of {', '.join(ROLES)}")
    return role


def _point_north(item: dict, own: list[str]) -> str | None:
    """The point's own north reference in lower case (checked), None if not given."""
    point_north = _text(item.get(s.NORTH))
    if point_north is None:
        return None
    if point_north.lower() not in NORTH_REFERENCES:
        own.append(f"north {show(point_north)} is not one of {', '.join(NORTH_REFERENCES)}")
    return point_north.lower()


def _check_leg(
    item: dict,
    bearing: float | None,
    distance: float | None,
    *,
    full_circle: float,
    unit: str,
    own: list[str],
) -> None:
    """Check a leg's bearing (present, within the circle) and distance (present, positive)."""
    if _blank(item.get(s.BEARING)):
        own.append("has a distance_m but no bearing")
    elif bearing is not None and not 0.0 <= bearing <= full_circle:
        own.append(
            f"bearing {bearing:g} is out of range 0 to {full_circle:g} {unit}"
            + (f" ({full_circle:g} mils to the circle)" if unit == "mils" else "")
        )
    if _blank(item.get(s.DISTANCE_M)):
        own.append("has a bearing but no distance_m")
    elif distance is not None and distance <= 0:
        own.append(f"distance_m {distance:g} must be more than 0 metres")


def _leg_origin(
    frompoint: str | None,
    pid: str | None,
    points: list[RecordPoint],
    seen: dict[str, str],
    later: dict[str, str],
    own: list[str],
) -> str | None:
    """The point a leg is measured from: its ``frompoint``, checked to be an earlier
    point other than itself, or else the previous point (the first point has none)."""
    if frompoint is None:
        if not points:
            own.append(
                "is the first point but has no coordinates; the first point must be a "
                "reference point given as lat/lon, UTM or MGRS"
            )
            return None
        return points[-1].id  # chained from the previous point
    if frompoint == pid:
        own.append("frompoint is the point itself")
    elif frompoint not in seen:
        if frompoint in later:
            own.append(
                f"frompoint {show(frompoint)} is defined later ({later[frompoint]}); "
                "list each point after the point it is measured from"
            )
        else:
            own.append(f"unknown frompoint {show(frompoint)}")
    return frompoint


def _point_row(item: dict, role: str, own: list[str]):
    """``(row, mines_ap, mines_at, mine_type)`` of a point: a row point names its
    row, and only row points carry mine counts and types."""
    row = _text(item.get(ROW))
    if role == "row" and row is None:
        own.append("is a row point but names no row")
    elif row is not None and role != "row":
        own.append(f"names row {show(row)} but its role is {role}, not row")
    ap = _count(item.get(s.MINES_AP), "mines_ap", own)
    at = _count(item.get(s.MINES_AT), "mines_at", own)
    mine_type = _text(item.get(s.MINE_TYPE))
    if (ap is not None or at is not None or mine_type) and role != "row":
        own.append("mine counts and types go on row points (or the record's mines)")
    return row, ap, at, mine_type


def _coordinates(item: dict, own: list[str]):
    """``(fixed, lat, lon, given_as, zone)`` from lat/lon, UTM or MGRS fields."""
    has_latlon = any(not _blank(item.get(k)) for k in (LAT, LON))
    has_utm = any(not _blank(item.get(k)) for k in _UTM_FIELDS)
    has_mgrs = not _blank(item.get(MGRS))
    given = [n for n, v in (("lat/lon", has_latlon), ("UTM", has_utm), ("MGRS", has_mgrs)) if v]
    if len(given) > 1:
        own.append(f"coordinates are given as {' and '.join(given)}; give one")
        return True, None, None, None, None
    if has_latlon:
        lat = _number(item.get(LAT), "lat", own)
        lon = _number(item.get(LON), "lon", own)
        if _blank(item.get(LAT)) or _blank(item.get(LON)):
            own.append("give both lat and lon (decimal degrees, WGS84)")
        elif lat is not None and lon is not None:
            if not -90.0 <= lat <= 90.0:
                own.append(f"lat {lat:g} is out of range -90 to 90")
            elif not -180.0 <= lon <= 180.0:
                own.append(f"lon {lon:g} is out of range -180 to 180")
            else:
                return True, lat, lon, "latlon", None
        return True, None, None, "latlon", None
    if has_utm:
        missing = [k for k in _UTM_FIELDS if _blank(item.get(k))]
        zone_value = item.get(UTM_ZONE)
        if missing == [HEMISPHERE] and str(zone_value).strip()[-1:].upper() in ("N", "S"):
            missing = []  # "38N" says both
        if missing:
            own.append(f"UTM coordinates need {', '.join(missing)} too")
            return True, None, None, "utm", None
        zone = _zone(zone_value, _text(item.get(HEMISPHERE)), "utm_zone", own)
        easting = _number(item.get(EASTING), "easting", own)
        northing = _number(item.get(NORTHING), "northing", own)
        if zone is None or easting is None or northing is None:
            return True, None, None, "utm", None
        try:
            lat, lon = _mgrs.utm_to_latlon(*zone, easting, northing)
        except _mgrs.MGRSError as exc:
            own.append(str(exc))
            return True, None, None, "utm", None
        return True, lat, lon, "utm", zone
    if has_mgrs:
        try:
            zone_n, hemisphere, easting, northing = _mgrs.mgrs_to_utm(str(item.get(MGRS)))
            lat, lon = _mgrs.utm_to_latlon(zone_n, hemisphere, easting, northing)
        except _mgrs.MGRSError as exc:
            own.append(str(exc))
            return True, None, None, "mgrs", None
        return True, lat, lon, "mgrs", (zone_n, hemisphere)
    return False, None, None, None, None


def _check_structure(points: list[RecordPoint], problems: list[str]) -> None:
    perimeter = [p for p in points if p.role == "perimeter"]
    problems.extend(
        f"point {escape(p.id)} ({p.where}): closes is only for the last perimeter point "
        f"(the last is {escape(perimeter[-1].id)})"
        for p in perimeter[:-1]
        if p.closes
    )
    corners = len(perimeter) - (1 if perimeter and perimeter[-1].closes else 0)
    if points and corners < 3:
        problems.append(
            f"the perimeter has {corners} point(s); a minefield perimeter needs at least 3 "
            "(points with role perimeter, in order)"
        )
    rows: dict[str, list[RecordPoint]] = {}
    for p in points:
        if p.role == "row" and p.row is not None:
            rows.setdefault(p.row, []).append(p)
    for row, members in rows.items():
        if len(members) < 2:
            problems.append(
                f"row {show(row)} has {len(members)} point; a row needs a start and an end point"
            )
        for field in (s.MINES_AP, s.MINES_AT, s.MINE_TYPE):
            given = [p.id for p in members if getattr(p, field) is not None]
            if len(given) > 1:
                problems.append(
                    f"row {show(row)}: {field} is given on points {_names(given, quote=False)}; "
                    "give it once"
                )


# --- traversing -------------------------------------------------------------------


def _grid_zone(record: Record) -> tuple[int, str]:
    if record.grid_zone is not None:
        return record.grid_zone
    for p in record.points:
        if p.zone is not None:
            return p.zone
    first = next(p for p in record.points if not p.is_leg)
    return _mgrs.utm_zone_for(first.lon, first.lat), "N" if first.lat >= 0 else "S"


def _convergence(zone: tuple[int, str], lon: float, lat: float) -> float:
    """Degrees from true north clockwise to grid north at the point."""
    proj = pyproj.Proj(_mgrs.utm_crs(*zone))
    return float(proj.get_factors(lon, lat).meridian_convergence)


def _azimuth(record: Record, point: RecordPoint, lon: float, lat: float) -> float:
    """True azimuth in degrees of a leg measured from (lon, lat)."""
    bearing = (
        point.bearing * 360.0 / record.mils_per_circle if record.mils_per_circle else point.bearing
    )
    north = point.north or record.north
    if north == "magnetic":
        bearing += record.declination_deg
    elif north == "grid":
        bearing += _convergence(_grid_zone(record), lon, lat)
    return bearing % 360.0


def traverse(
    record: Record,
    *,
    warn_misclosure_m: float = WARN_MISCLOSURE_M,
    max_misclosure_m: float | None = MAX_MISCLOSURE_M,
) -> Traverse:
    """Compute a record's points on the ellipsoid; build its perimeter, rows and points.

    Each leg is solved with :meth:`pyproj.Geod.fwd` from its true azimuth and
    its distance (ground distance, metres) on WGS84.

    Parameters
    ----------
    record
        From :func:`read_record`.
    warn_misclosure_m
        A closing leg that misses the first perimeter point by more than this is logged.
    max_misclosure_m
        ... and by more than this is a :class:`MisclosureError` (None: never).

    Returns
    -------
    Traverse
        ``perimeter`` (one hazard, canonical columns plus ``laid_on``,
        ``mine_types`` and ``misclosure_m``), ``rows`` (LineStrings with their
        counts), ``points`` (every point, how it was given and its true
        azimuth), ``misclosure_m`` and ``area_ha`` (on the ellipsoid).
        Unpacks as ``perimeter, rows, points``.

    Examples
    --------
    >>> perimeter, rows, points = traverse(read_record(EXAMPLE_JSON))
    >>> len(points), list(rows[s.ROW_ID])
    (12, ['R1', 'R2'])
    """
    coords: dict[str, tuple[float, float]] = {}
    azimuths: dict[str, float] = {}
    for p in record.points:
        if p.is_leg:
            lon, lat = coords[p.frompoint]  # type: ignore[index]
            azimuth = _azimuth(record, p, lon, lat)
            lon2, lat2, _ = _GEOD.fwd(lon, lat, azimuth, p.distance_m)
            coords[p.id] = (float(lon2), float(lat2))
            azimuths[p.id] = azimuth
        else:
            coords[p.id] = (p.lon, p.lat)  # type: ignore[assignment]

    perimeter_pts = [p for p in record.points if p.role == "perimeter"]
    misclosure = None
    if perimeter_pts[-1].closes:
        last, first = perimeter_pts[-1], perimeter_pts[0]
        _, _, misclosure = _GEOD.inv(*coords[last.id], *coords[first.id])
        misclosure = float(misclosure)
        perimeter_pts = perimeter_pts[:-1]
        message = (
            f"record {escape(record.record_id)}: the closing point {escape(last.id)} misses "
            f"the first point {escape(first.id)} by {misclosure:.2f} m"
        )
        if max_misclosure_m is not None and misclosure > max_misclosure_m:
            advice = (
                f"{message} (more than {max_misclosure_m:g} m); check the bearings, "
                "distances and north reference, or raise the limit "
                f"({argument('max_misclosure_m')})"
            )
            raise MisclosureError(record.path, [advice])
        if misclosure > warn_misclosure_m:
            log.warning("%s: %s (more than %g m)", record.path, message, warn_misclosure_m)
    ring = [coords[p.id] for p in perimeter_pts]
    polygon = shapely.Polygon(ring)
    if not polygon.is_valid:
        raise RecordError(
            record.path,
            [
                (
                    f"record {escape(record.record_id)}: the perimeter "
                    f"({_names([p.id for p in perimeter_pts], quote=False)}) is not a valid "
                    f"polygon: {shapely.is_valid_reason(polygon)}; check the order of the "
                    "perimeter points and their bearings"
                )
            ],
        )
    polygon = shapely.geometry.polygon.orient(polygon, sign=1.0)
    area = float(geodesy.geodesic_area_ha([polygon])[0])

    perimeter = gpd.GeoDataFrame(
        _attributes(record, misclosure), geometry=[polygon], crs=s.CANONICAL_CRS
    )
    rows = _rows(record, coords)
    points = gpd.GeoDataFrame(
        {
            s.POINT_ID: [p.id for p in record.points],
            s.HAZARD_ID: record.record_id,
            s.ROLE: [p.role for p in record.points],
            s.GIVEN_AS: [p.given_as or "leg" for p in record.points],
            s.FROMPOINT: [p.frompoint for p in record.points],
            s.BEARING: [p.bearing for p in record.points],
            s.BEARING_UNIT: [record.bearing_unit if p.is_leg else None for p in record.points],
            s.NORTH: [(p.north or record.north) if p.is_leg else None for p in record.points],
            s.AZIMUTH_DEG: [azimuths.get(p.id) for p in record.points],
            s.DISTANCE_M: [p.distance_m for p in record.points],
        },
        geometry=shapely.points([coords[p.id] for p in record.points]),
        crs=s.CANONICAL_CRS,
    )
    for column in (s.BEARING, s.AZIMUTH_DEG, s.DISTANCE_M):
        points[column] = points[column].astype(float)
    return Traverse(perimeter, rows, points, misclosure, area)


def _mine_totals(record: Record) -> tuple[int, int, str]:
    row_ap = sum(p.mines_ap or 0 for p in record.points)
    row_at = sum(p.mines_at or 0 for p in record.points)
    if not record.mines:
        types = sorted({p.mine_type for p in record.points if p.mine_type})
        return row_ap, row_at, "; ".join(types)
    ap = sum(m.count for m in record.mines if m.category == "AP")
    at = sum(m.count for m in record.mines if m.category == "AT")
    if (row_ap or row_at) and (row_ap, row_at) != (ap, at):
        # Rows often list only part of a minefield: the record's totals stand.
        log.warning(
            "%s: record %s: its rows hold %d AP and %d AT mines, its totals %d AP and %d AT; "
            "the totals are used",
            record.path,
            record.record_id,
            row_ap,
            row_at,
            ap,
            at,
        )
    types = "; ".join(f"{m.type} ({m.category}) {m.count}" for m in record.mines)
    return ap, at, types


def _attributes(record: Record, misclosure: float | None) -> dict:
    ap, at, types = _mine_totals(record)
    out: dict = {s.HAZARD_ID: [record.record_id], s.MINES_AP: [ap], s.MINES_AT: [at]}
    if record.classification is not None:
        out[s.CLASSIFICATION] = [record.classification]
    if record.district is not None:
        out[s.DISTRICT] = [record.district]
    out[s.SOURCE] = [record.source or Path(record.path).name]
    out[s.SUBMITTED_ON] = pd.to_datetime([record.submitted_on])
    out[s.LAID_ON] = pd.to_datetime([record.laid_on])
    out[s.MINE_TYPES] = [types]
    out[s.MISCLOSURE_M] = [np.nan if misclosure is None else misclosure]
    return out


def _rows(record: Record, coords: dict[str, tuple[float, float]]) -> gpd.GeoDataFrame:
    members: dict[str, list[RecordPoint]] = {}
    for p in record.points:
        if p.role == "row":
            members.setdefault(p.row, []).append(p)  # type: ignore[arg-type]
    names = list(members)
    lines = [shapely.LineString([coords[p.id] for p in members[n]]) for n in names]

    def first(name: str, field: str):
        return next(
            (getattr(p, field) for p in members[name] if getattr(p, field) is not None), None
        )

    return gpd.GeoDataFrame(
        {
            s.ROW_ID: pd.Series(names, dtype=object),
            s.HAZARD_ID: record.record_id,
            s.MINES_AP: pd.Series([first(n, s.MINES_AP) or 0 for n in names], dtype="int64"),
            s.MINES_AT: pd.Series([first(n, s.MINES_AT) or 0 for n in names], dtype="int64"),
            s.MINE_TYPE: pd.Series([first(n, s.MINE_TYPE) for n in names], dtype=object),
            s.LENGTH_M: pd.Series(
                [float(_GEOD.geometry_length(line)) for line in lines], dtype=float
            ),
        },
        geometry=gpd.GeoSeries(lines, crs=s.CANONICAL_CRS),
        crs=s.CANONICAL_CRS,
    )
