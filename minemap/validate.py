"""Feature checks for the canonical layers, batched: every problem at once.

Each check looks at the whole layer and reports every failing feature, so a
user fixes a file in one pass. Repairs (``make_valid``, dropping Z) are
warnings and the repaired feature is kept; anything else is an error and the
feature is rejected. The rules follow GICHD's checks for IMSMA data (DESIGN
§5); the full rule set grows with the import issue.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from minemap import schema as s

__all__ = ["ERROR", "WARNING", "Problem", "check_layer", "guess_kind"]

ERROR = "error"
WARNING = "warning"

_POLYGONAL = (shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON)


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
        id_col = s.ID_COLUMN[kind]
        ids = frame[id_col] if id_col in frame.columns else pd.Series([None] * len(frame))
        self.labels = [
            f"{id_col} {v!s}" if isinstance(v, str) and v else f"feature {i + 1}"
            for i, v in enumerate(ids.tolist())
        ]

    def add(self, mask, rule: str, message, severity: str = ERROR) -> None:
        """Record a problem for every row where ``mask`` is true.

        ``message`` is a string or a callable taking the row position.
        """
        for i in np.flatnonzero(np.asarray(mask, dtype=bool)):
            self.add_one(i, rule, message(i) if callable(message) else message, severity)

    def add_one(self, i: int, rule: str, message: str, severity: str = ERROR) -> None:
        """Record one problem for the row at position ``i``."""
        self.problems.append(Problem(self.source, int(i), self.labels[i], rule, severity, message))
        if severity == ERROR:
            self.rejected[i] = True


def _check_geometry(frame: gpd.GeoDataFrame, kind: str, report: _Report) -> gpd.GeoSeries:
    geoms = frame.geometry.to_numpy(dtype=object).copy()
    missing = pd.isna(geoms) | shapely.is_empty(geoms)
    report.add(missing, "missing-geometry", "the feature has no geometry")
    present = ~missing

    has_z = present & shapely.has_z(geoms)
    if has_z.any():
        report.add(has_z, "z-dropped", "Z coordinates were dropped", WARNING)
        geoms[has_z] = shapely.force_2d(geoms[has_z])

    allowed = s.GEOMETRY_TYPES[kind]
    kinds = np.array([g.geom_type if g is not None else "" for g in geoms], dtype=object)
    wrong = present & ~np.isin(kinds, allowed)
    report.add(
        wrong,
        "geometry-type",
        lambda i: f"a {kind} feature must be a {' or '.join(allowed)}, not a {kinds[i]}",
    )
    ok = present & ~wrong

    if frame.crs is not None and frame.crs.is_geographic:
        bounds = np.full((len(geoms), 4), np.nan)
        bounds[ok] = shapely.bounds(geoms[ok])
        outside = ok & (
            (np.abs(bounds[:, 0]) > 180)
            | (np.abs(bounds[:, 2]) > 180)
            | (np.abs(bounds[:, 1]) > 90)
            | (np.abs(bounds[:, 3]) > 90)
        )
        report.add(
            outside,
            "coordinates-out-of-range",
            lambda i: (
                "coordinates lie outside longitude ±180 / latitude ±90 "
                f"(bounds {np.round(bounds[i], 6).tolist()}); is the CRS right?"
            ),
        )
        ok &= ~outside

    if "Point" in allowed:
        return gpd.GeoSeries(geoms, index=frame.index, crs=frame.crs)

    invalid = ok & ~shapely.is_valid(geoms)
    for i in np.flatnonzero(invalid):
        reason = shapely.is_valid_reason(geoms[i])
        repaired = shapely.make_valid(geoms[i])
        parts = shapely.get_parts(repaired)
        while np.any(shapely.get_type_id(parts) == shapely.GeometryType.GEOMETRYCOLLECTION):
            parts = shapely.get_parts(parts)
        polys = shapely.get_parts(parts[np.isin(shapely.get_type_id(parts), _POLYGONAL)])
        if len(polys) == 0 or shapely.area(shapely.multipolygons(polys)) == 0:
            report.add_one(
                i, "invalid-geometry", f"invalid geometry ({reason}) that has no area once repaired"
            )
            ok[i] = False
            continue
        geoms[i] = polys[0] if len(polys) == 1 else shapely.multipolygons(polys)
        report.add_one(
            i, "invalid-geometry", f"invalid geometry ({reason}), repaired with make_valid", WARNING
        )

    flat = ok & ~(shapely.area(np.where(ok, geoms, None)) > 0)
    report.add(flat, "no-area", "the polygon has no area (fewer than 3 distinct vertices?)")
    return gpd.GeoSeries(geoms, index=frame.index, crs=frame.crs)


def _check_ids(frame: pd.DataFrame, kind: str, report: _Report) -> None:
    column = s.ID_COLUMN[kind]
    ids = frame[column]
    missing = ids.isna() | (ids.astype("string").str.strip() == "")
    report.add(missing, "missing-id", f"{column} is empty")
    if kind == "districts":
        return
    duplicated = ~missing & ids.duplicated(keep=False)
    report.add(
        duplicated,
        "duplicate-id",
        lambda i: f"{column} {ids.iloc[i]!s} occurs {int((ids == ids.iloc[i]).sum())} times",
    )


def _check_counts(frame: pd.DataFrame, kind: str, report: _Report) -> None:
    for column in s.COUNT_COLUMNS[kind]:
        if column not in frame.columns:
            continue
        raw = frame[column]
        numbers = pd.to_numeric(raw, errors="coerce")
        required = column in s.REQUIRED[kind]
        absent = raw.isna() | (raw.astype("string").str.strip() == "")
        if required:
            report.add(absent, "missing-count", f"{column} is empty")
        bad = ~absent & (numbers.isna() | (numbers < 0) | (numbers % 1 != 0))
        report.add(
            bad,
            "bad-count",
            lambda i, c=column, r=raw: f"{c} must be a whole number ≥ 0, not {r.iloc[i]!r}",
        )


def _check_dates(frame: pd.DataFrame, kind: str, report: _Report, today: dt.date) -> None:
    for column in s.DATE_COLUMNS[kind]:
        if column not in frame.columns:
            continue
        raw = frame[column]
        absent = raw.isna() | (raw.astype("string").str.strip() == "")
        parsed = _parse_dates(raw)
        if column in s.REQUIRED[kind]:
            report.add(absent, "missing-date", f"{column} is empty")
        report.add(
            ~absent & parsed.isna(),
            "bad-date",
            lambda i, c=column, r=raw: f"{c} {r.iloc[i]!r} is not a date (use YYYY-MM-DD)",
        )
        future = parsed.notna() & (parsed > pd.Timestamp(today))
        report.add(
            future,
            "future-date",
            lambda i, c=column, p=parsed: f"{c} {p.iloc[i].date()} is in the future",
        )


def _parse_dates(values: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(values):
        parsed = values
    else:
        text = values.astype("string").str.strip()
        parsed = pd.to_datetime(text, errors="coerce", format="ISO8601")
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_convert(None)
    return parsed.dt.normalize()


def _check_enums(frame: pd.DataFrame, kind: str, report: _Report) -> None:
    for column, allowed in s.ENUM_COLUMNS[kind].items():
        if column not in frame.columns:
            continue
        raw = frame[column]
        absent = raw.isna() | (raw.astype("string").str.strip() == "")
        if column in s.REQUIRED[kind]:
            report.add(absent, "missing-value", f"{column} is empty")
        value = _normalise_enum(raw, allowed)
        report.add(
            ~absent & ~value.isin(allowed),
            "unknown-value",
            lambda i, c=column, r=raw, a=allowed: f"{c} {r.iloc[i]!r} is not one of {', '.join(a)}",
        )


def _normalise_enum(values: pd.Series, allowed) -> pd.Series:
    text = values.astype("string").str.strip()
    lookup = {a.lower(): a for a in allowed}
    lookup.update({a.lower().replace("_", " "): a for a in allowed})
    return text.str.lower().map(lookup)


def check_layer(
    frame: gpd.GeoDataFrame,
    kind: str,
    *,
    source: str = "<frame>",
    today: dt.date | None = None,
) -> tuple[gpd.GeoDataFrame, list[Problem], np.ndarray]:
    """Check every feature of a layer whose columns are already canonical.

    Parameters
    ----------
    frame
        The layer, with canonical column names (see :func:`minemap.io.normalise_columns`).
    kind
        ``hazards``, ``releases``, ``items`` or ``districts``.
    source
        The file name used in problem reports.
    today
        Dates after this day are errors (default: today).

    Returns
    -------
    cleaned, problems, rejected
        ``cleaned`` has the repairs applied and values typed (ids trimmed text,
        counts integers, dates as days, enums in canonical spelling);
        ``rejected`` marks the rows with an error. Nothing is dropped here.
    """
    if kind not in s.LAYER_KINDS:
        raise ValueError(f"kind must be one of {', '.join(s.LAYER_KINDS)}, not {kind!r}")
    today = today or dt.date.today()
    frame = frame.copy()
    id_col = s.ID_COLUMN[kind]
    if id_col in frame.columns:
        frame[id_col] = frame[id_col].astype("string").str.strip()
    report = _Report(frame, kind, source)
    missing = [c for c in s.REQUIRED[kind] if c not in frame.columns]
    if missing:
        report.problems.append(
            Problem(
                source,
                None,
                "",
                "missing-column",
                ERROR,
                f"no column {', '.join(missing)} for a {kind} layer (columns: "
                f"{', '.join(c for c in frame.columns if c != frame.geometry.name)}); "
                "rename it or map it explicitly",
            )
        )
        report.rejected[:] = True
        return frame, report.problems, report.rejected

    frame = frame.set_geometry(_check_geometry(frame, kind, report))
    _check_ids(frame, kind, report)
    _check_counts(frame, kind, report)
    _check_dates(frame, kind, report, today)
    _check_enums(frame, kind, report)

    for column in s.COUNT_COLUMNS[kind]:
        if column in frame.columns:
            numbers = pd.to_numeric(frame[column], errors="coerce")
            whole = numbers.where((numbers >= 0) & (numbers % 1 == 0))
            frame[column] = whole.round().astype("Int64")
    for column in s.DATE_COLUMNS[kind]:
        if column in frame.columns:
            frame[column] = _parse_dates(frame[column])
    for column, allowed in s.ENUM_COLUMNS[kind].items():
        if column in frame.columns:
            normalised = _normalise_enum(frame[column], allowed)
            frame[column] = normalised.where(normalised.notna(), frame[column])
    if s.DISTRICT in frame.columns:
        names = frame[s.DISTRICT].astype("string").str.strip().tolist()
        frame[s.DISTRICT] = pd.Series(
            [s.canonical_district(n) or n if isinstance(n, str) else None for n in names],
            index=frame.index,
            dtype="string",
        )
    return frame, report.problems, report.rejected
