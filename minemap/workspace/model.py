"""What every kind of workspace shares: the import record, the layers' columns and
their types, values between pandas and the databases, moments in UTC, the log's
identity of a file (SHA-256 and reading options).

The *canonical* form of a stored value is what a GeoPackage holds: ``int``,
``float``, ``str`` or ``None``; days as ``YYYY-MM-DD``, moments as
``YYYY-MM-DDTHH:MM:SS.sssZ``, booleans as 0 and 1. Each backend stores values its
own way and gives them back in this form, so that the import rules
(:mod:`minemap.workspace.imports`) and the readers (:mod:`minemap.workspace.readers`)
are written once, and both kinds of workspace behave the same.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import math
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from minemap import io as mio
from minemap import schema as s
from minemap.errors import InputFileError
from minemap.profile import Profile, parse_profile
from minemap.validate import MAX_SEGMENT_M

META_TABLE = "minemap_meta"
IMPORTS_TABLE = "minemap_imports"
REJECTS_TABLE = "minemap_rejects"
#: Feature id and geometry columns of the tables (GDAL's names).
FID = "fid"
GEOM = "geom"
#: Bookkeeping columns of the history tables (see :func:`minemap.workspace.read_history`).
BOOKKEEPING = (s.IMPORT_ID, s.SUPERSEDED_BY, s.IMPORT_SOURCE)
#: Checksum of each row's values (GeoPackage workspaces).
ROW_CHECKSUM = "row_checksum"
RESERVED = {c.lower() for c in (FID, GEOM, *BOOKKEEPING, ROW_CHECKSUM)}
#: Every layer of a workspace is in WGS84 longitude/latitude.
SRS_ID = 4326

#: The status of an import: counted, waiting for a manager's review, or refused by one.
ACCEPTED, PENDING, REJECTED = "accepted", "pending", "rejected"
STATUSES = (ACCEPTED, PENDING, REJECTED)

TEXT, INTEGER, REAL, DATE, DATETIME, BOOLEAN = (
    "TEXT",
    "INTEGER",
    "REAL",
    "DATE",
    "DATETIME",
    "BOOLEAN",
)
COLUMN_TYPES = (TEXT, INTEGER, REAL, DATE, DATETIME, BOOLEAN)
#: Geometry type of each layer: polygons are stored as MultiPolygons.
GEOMETRY_TYPES = {
    "hazards": "MULTIPOLYGON",
    "releases": "MULTIPOLYGON",
    "items": "POINT",
    "districts": "MULTIPOLYGON",
}
#: The layers each kind's checks take as context (see ``commands._common.load_all``).
CONTEXT = {
    "hazards": ("districts",),
    "releases": ("districts", "hazards"),
    "items": (),
    "districts": (),
}
#: Timestamps are kept as fixed-width UTC text, so they sort as they compare.
STAMP = "%Y-%m-%dT%H:%M:%S.%fZ"
#: Files that make up a Shapefile, hashed together with the .shp.
_SHAPEFILE_PARTS = (".shx", ".dbf", ".prj", ".cpg")


def history_table(kind: str) -> str:
    """Name of the table that holds every version of a layer's records."""
    check_kind(kind)
    return f"{kind}_history"


def check_kind(kind: str) -> None:
    if kind not in s.LAYER_KINDS:
        raise ValueError(f"kind must be one of {', '.join(s.LAYER_KINDS)}, not {kind!r}")


def q(name: str) -> str:
    """An SQL identifier, quoted (column names come from users' files)."""
    return '"' + str(name).replace('"', '""') + '"'


def canonical_columns(kind: str) -> dict[str, str]:
    """The type of every column minemap knows for a layer, in order."""
    columns = {}
    for column in (*s.REQUIRED[kind], *s.OPTIONAL[kind]):
        if column in s.COUNT_COLUMNS[kind]:
            columns[column] = INTEGER
        elif column in s.DATE_COLUMNS[kind]:
            columns[column] = DATE
        elif column in (s.DEPTH_CM, s.AREA_HA):
            columns[column] = REAL
        else:
            columns[column] = TEXT
    return columns


def free_name(name: str, taken: Iterable[str]) -> str:
    taken = {t.lower() for t in taken}
    number = 1
    while f"{name}_{number}".lower() in taken:
        number += 1
    return f"{name}_{number}"


def shown(value, limit: int = 40) -> str:
    """A value for a message: cut short, control characters and damaged text escaped."""
    text = str(value)
    if len(text) > limit:
        text = text[:limit] + "…"
    return "".join(
        c if c.isprintable() else (f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}")
        for c in text
    )


# --- the import record -------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Import:
    """One import of the log; ``already`` when the file had been imported before.

    ``read == kept + rejected``; ``kept == new + superseded + unchanged``.
    ``loaded`` holds what reading the file gave (None when ``already``);
    ``notes`` what the workspace had to do (a column stored under another name).
    ``status`` is ``accepted``, or ``pending`` for a submitter's import on a
    PostgreSQL workspace until a manager reviews it (or ``rejected`` by one).
    """

    import_id: int
    kind: str
    file: str
    sha256: str
    imported_at: pd.Timestamp
    source: str | None
    read: int
    kept: int
    rejected: int
    new: int
    superseded: int
    unchanged: int
    already: bool = False
    loaded: mio.Loaded | None = dataclasses.field(default=None, repr=False, compare=False)
    notes: tuple[str, ...] = ()
    status: str = ACCEPTED
    #: With ``reuse_profile``: the stored profile the file was read with, and the import
    #: it was stored with (``None`` when none was reused).
    reused_profile: tuple[Profile, int] | None = dataclasses.field(default=None, compare=False)

    @property
    def wholly_rejected(self) -> bool:
        """Every feature of the file was rejected: nothing was added.

        Such an import stays in the log with its rejects, but does not count as
        imported: the same file can be added again (read another way, or with
        another ``source``).
        """
        return self.kept == 0 and self.rejected > 0

    def summary(self) -> str:
        """One line saying what the import did."""
        name = Path(self.file).name
        if self.already:
            return (
                f"{name}: already imported on {self.imported_at:%Y-%m-%d %H:%M} UTC as import "
                f"#{self.import_id}; nothing changed"
            )
        notes = [
            *(["the earlier versions stay in the history"] if self.superseded else []),
            *(["the rejected features are stored with their reasons"] if self.rejected else []),
            *(
                ["pending: it counts once a manager accepts it (minemap review)"]
                if self.status == PENDING and not self.wholly_rejected
                else []
            ),
        ]
        return (
            f"import #{self.import_id}: {self.kind} from {name}: {self.new} new, "
            f"{self.superseded} superseded, {self.unchanged} unchanged, {self.rejected} rejected"
            + "".join(f"; {n}" for n in notes)
        )

    @classmethod
    def from_record(cls, record: dict, **extra) -> Import:
        """An import from a row of the log (canonical values)."""
        return cls(
            import_id=int(record[s.IMPORT_ID]),
            kind=record[s.KIND],
            file=record[s.FILE],
            sha256=record[s.SHA256],
            imported_at=pd.Timestamp(record[s.IMPORTED_AT]),
            source=record[s.SOURCE],
            read=int(record[s.READ]),
            kept=int(record[s.KEPT]),
            rejected=int(record[s.REJECTED]),
            new=int(record[s.NEW]),
            superseded=int(record[s.SUPERSEDED]),
            unchanged=int(record[s.UNCHANGED]),
            status=record.get(s.IMPORT_STATUS) or ACCEPTED,
            **extra,
        )


def counted(record) -> bool:
    """Whether an import holds its file: not when every feature was rejected, nor when a
    manager rejected it (the same file can then be added again)."""
    wholly = int(record[s.KEPT]) == 0 and int(record[s.REJECTED]) > 0
    return not wholly and (record.get(s.IMPORT_STATUS) or ACCEPTED) != REJECTED


# --- values between pandas and the databases ------------------------------------------


def sql_type(values: pd.Series) -> str:
    """The column type for a column of values of a file."""
    dtype = values.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return BOOLEAN
    if pd.api.types.is_integer_dtype(dtype):
        return INTEGER
    if pd.api.types.is_float_dtype(dtype):
        return REAL
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return DATETIME
    inferred = pd.api.types.infer_dtype(values, skipna=True)
    return {
        "integer": INTEGER,
        "floating": REAL,
        "mixed-integer-float": REAL,
        "boolean": BOOLEAN,
        "date": DATE,
        "datetime": DATETIME,
        "datetime64": DATETIME,
    }.get(inferred, TEXT)


def fits(column_type: str, values_type: str) -> bool:
    """Whether values of one type can be stored in a column of another without loss."""
    if column_type in (values_type, TEXT):
        return True
    return (column_type, values_type) in {
        (REAL, INTEGER),
        (REAL, BOOLEAN),
        (INTEGER, BOOLEAN),
        (DATETIME, DATE),
    }


def text(value) -> str:
    if isinstance(value, dt.date | pd.Timestamp):
        return value.isoformat()
    return str(value)


def to_sql(values: pd.Series, column_type: str) -> list:
    """Canonical values for a column of a given type (None for missing)."""
    present = np.asarray(values.notna(), dtype=bool)
    out = np.full(len(values), None, dtype=object)
    if not present.any():
        return out.tolist()
    given = values[present]
    if column_type in (INTEGER, BOOLEAN):
        out[present] = [int(v) for v in given.astype(object)]
    elif column_type == REAL:
        out[present] = [float(v) for v in given.astype(object)]
    elif column_type in (DATE, DATETIME):
        stamps = pd.to_datetime(given.astype(object), utc=True)
        if column_type == DATE:
            out[present] = stamps.dt.strftime("%Y-%m-%d").tolist()
        else:  # ISO 8601 in UTC, to the millisecond (GeoPackage DATETIME)
            out[present] = [t[:-3] + "Z" for t in stamps.dt.strftime("%Y-%m-%dT%H:%M:%S.%f")]
    else:
        out[present] = [v if isinstance(v, str) else text(v) for v in given.astype(object)]
    return out.tolist()


def from_sql(values, column_type: str, column: str, kind: str) -> pd.Series:
    """A column as the readers give it (ids and districts as ``string``, counts ``Int64``...)."""
    raw = pd.Series(values, dtype=object)
    try:
        if column_type == INTEGER:
            series = raw.astype("Int64")
            if column not in s.COUNT_COLUMNS[kind] and not series.isna().any():
                series = series.astype("int64")
            return series
        if column_type == BOOLEAN:
            series = raw.astype("boolean")
            return series if series.isna().any() else series.astype(bool)
        if column_type in (REAL, "FLOAT", "DOUBLE"):
            return raw.astype("float64")
        # Days of minemap's date columns as the checks give them; other dates and
        # times as GDAL does (to the millisecond).
        unit = "datetime64[us]" if column in s.DATE_COLUMNS[kind] else "datetime64[ms]"
        if column_type == DATE:
            return pd.to_datetime(raw, format="%Y-%m-%d").astype(unit)
        if column_type == DATETIME:
            stamps = pd.to_datetime(raw, format="ISO8601", utc=True)
            return stamps.dt.tz_convert(None).astype(unit)
    except (TypeError, ValueError):  # a value of another type, written by another program
        return raw
    if column in (s.ID_COLUMN[kind], s.DISTRICT):
        return raw.astype("string")
    return raw.infer_objects()


def promote(geoms) -> np.ndarray:
    """Polygons as single-part MultiPolygons (the layers' geometry type)."""
    geoms = np.asarray(geoms, dtype=object).copy()
    single = shapely.get_type_id(geoms) == shapely.GeometryType.POLYGON
    if single.any():
        geoms[single] = shapely.multipolygons(geoms[single], indices=np.arange(single.sum()))
    return geoms


def to_wkb(geoms) -> list[bytes | None]:
    """ISO WKB, little-endian, of each geometry (None for missing): how geometries are
    compared and exchanged between the kinds of workspace."""
    geoms = np.asarray(geoms, dtype=object)
    out = np.full(len(geoms), None, dtype=object)
    present = ~shapely.is_missing(geoms)
    if present.any():
        out[present] = shapely.to_wkb(
            geoms[present], byte_order=1, flavor="iso", output_dimension=3
        )
    return out.tolist()


def json_value(value):
    """A rejected feature's value as JSON can hold it (text for what it cannot)."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, list | dict | tuple | np.ndarray):
        return None if value is None else str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else str(value)
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, bool | int | float | str):
        return value
    return text(value)


# --- time ---------------------------------------------------------------------------


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).strftime(STAMP)


def utc(value) -> dt.datetime:
    """A moment in UTC from a datetime, date or ISO text (naive times are UTC)."""
    moment = pd.Timestamp(value)
    if pd.isna(moment):
        raise ValueError(f"{value!r} is not a date or time")
    moment = moment.tz_localize("UTC") if moment.tzinfo is None else moment.tz_convert("UTC")
    return moment.to_pydatetime()


def parse_known_on(value) -> dt.date | dt.datetime:
    """A ``known_on`` value: a day (``YYYY-MM-DD``) or a moment (``YYYY-MM-DDTHH:MM``, UTC).

    A day means "as known at the end of that day (UTC)"; a moment includes the
    imports made at it.

    >>> parse_known_on("2024-03-10")
    datetime.date(2024, 3, 10)
    >>> parse_known_on("2024-03-10T12:00")
    datetime.datetime(2024, 3, 10, 12, 0, tzinfo=datetime.timezone.utc)
    """
    if isinstance(value, dt.datetime | pd.Timestamp):
        return utc(value)
    if isinstance(value, dt.date):
        return value
    given = str(value).strip()
    try:
        if len(given) == 10:
            return dt.date.fromisoformat(given)
        return utc(dt.datetime.fromisoformat(given.replace("Z", "+00:00")))
    except ValueError:
        raise ValueError(
            f"{value!r} is not a day or a moment; use YYYY-MM-DD or YYYY-MM-DDTHH:MM (UTC)"
        ) from None


def cutoff(known_on) -> str:
    """The stamp before which an import is known (``imported_at < cutoff``)."""
    known_on = parse_known_on(known_on)
    if isinstance(known_on, dt.datetime):
        return stamp(known_on + dt.timedelta(microseconds=1))
    end = dt.datetime.combine(known_on + dt.timedelta(days=1), dt.time(), dt.timezone.utc)
    return stamp(end)


# --- a file's identity ----------------------------------------------------------------


def file_sha256(path) -> str:
    """SHA-256 of a file's bytes (a Shapefile's: of its .shp, .shx, .dbf, .prj, .cpg)."""
    path = Path(path)
    if not path.exists():
        raise InputFileError(path, "no such file")
    if path.is_dir():
        raise InputFileError(path, "is a folder, not a file")
    parts = [path]
    if path.suffix.lower() == ".shp":
        siblings = {p.suffix.lower(): p for p in path.parent.glob(f"{path.stem}.*")}
        parts += [siblings[x] for x in _SHAPEFILE_PARTS if x in siblings]
    digest = hashlib.sha256()
    for part in parts:
        with part.open("rb") as handle:
            for block in iter(lambda handle=handle: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


#: The key of the import log's ``read_options`` that holds the profile a file was read with.
PROFILE = "profile"


def read_options(
    layer,
    mapping,
    crs,
    profile: Profile | None = None,
    max_segment_m: float = MAX_SEGMENT_M,
    reading=None,
) -> str:
    """How a file was read, as canonical JSON (part of what makes an import the same).

    With a profile, its file name, SHA-256 and whole text are kept (``"profile"``):
    the log says how the file was read, and a later import from the source reuses it.
    A longest segment other than the default is kept too (``"max_segment_m"``).
    ``reading`` (``--date-order``, ``--decimal``, ``--encoding``) is kept where given.
    """
    options = {
        "layer": layer,
        "mapping": dict(sorted((mapping or {}).items())),
        "crs": None if crs is None else str(crs),
    }
    if profile is not None:
        options[PROFILE] = profile.as_dict()
    if max_segment_m != MAX_SEGMENT_M:  # the default is left out: earlier logs stay the same
        options["max_segment_m"] = max_segment_m
    for key, value in (reading or {}).items():
        if value is not None and value != ():
            options[key] = list(value) if isinstance(value, tuple) else value
    return json.dumps(options, sort_keys=True)


def stored_profile(log: pd.DataFrame, source: str) -> tuple[Profile, int] | None:
    """The profile the last import from ``source`` in ``log`` was read with, and that
    import's number (``None`` when none had one)."""
    if not source or not len(log):
        return None
    mine = log[log[s.SOURCE] == source].sort_values(s.IMPORT_ID, ascending=False)
    for import_id, options in zip(mine[s.IMPORT_ID], mine[s.READ_OPTIONS], strict=True):
        try:
            stored = json.loads(options).get(PROFILE)
        except (TypeError, ValueError, AttributeError):
            continue
        if isinstance(stored, dict) and isinstance(stored.get("text"), str):
            name = str(stored.get("name") or f"the profile of import #{import_id}")
            return parse_profile(stored["text"], name=name), int(import_id)
    return None
