"""Telling what kind of layer a file holds, and saying why.

``minemap validate`` without ``--kind`` looks at each file's columns (after the
aliases, a profile's columns and constants), its geometry and its values. It
names the kind only when the evidence points at one: a file that could be two
kinds, or whose only clue is a ``Name`` column, is refused with a request for
``--kind``. A KML or KMZ is never taken for districts: Google Earth gives every
placemark a ``Name``, which is no sign of a boundary file.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping

import geopandas as gpd
import pandas as pd

from minemap import schema as s
from minemap import vocabulary
from minemap._text import escape
from minemap.errors import MinemapError
from minemap.profile import Profile

__all__ = ["Guess", "guess_layer_kind"]

#: Formats whose files are never guessed to be districts.
_NOT_DISTRICTS = (".kml", ".kmz")


@dataclasses.dataclass(frozen=True)
class Guess:
    """A kind (``None`` when it cannot be told) and the reason, in words."""

    kind: str | None
    reason: str


@dataclasses.dataclass(frozen=True)
class _Evidence:
    kind: str
    fits: bool
    required: tuple[tuple[str, str], ...]  # (minemap column, where it came from)
    enums: tuple[str, ...]
    optional: int
    names_known: bool

    @property
    def score(self) -> tuple:
        return (self.fits, len(self.required), len(self.enums), self.optional)

    @property
    def strength(self) -> tuple:
        """What must differ between two kinds for one to be told from the other."""
        return (self.fits, len(self.required), len(self.enums))


def guess_layer_kind(
    raw: gpd.GeoDataFrame,
    suffix: str = "",
    *,
    mapping: Callable[[str], Mapping[str, str]] = lambda kind: {},
    profile: Profile | None = None,
) -> Guess:
    """The kind of layer a file holds, from its columns, geometry and values.

    Parameters
    ----------
    raw
        The file as read (:func:`minemap.io.read_file`).
    suffix
        The file's extension (``.kml`` files are never districts).
    mapping
        The explicit ``{minemap column: file column}`` of each kind (``--map``).
    profile
        An import profile: its columns and constants count as the file's.
    """
    from minemap import io as mio

    present = raw.geometry.dropna()
    geometry_types = set(present[~present.is_empty].geom_type)
    found = []
    for candidate in s.LAYER_KINDS:
        if candidate == "districts" and suffix.lower() in _NOT_DISTRICTS:
            continue
        explicit = dict(mapping(candidate))
        mapped = profile.mapping(candidate, explicit) if profile is not None else explicit
        try:
            columns = mio.normalise_columns(raw, candidate, mapped)
        except MinemapError:
            continue
        origin = _origins(raw, columns)
        if profile is not None:
            columns = profile.apply(columns, candidate, mapped=explicit)
            for column in profile[candidate].constants:
                if column not in explicit:
                    origin[column] = f"the profile's [{candidate}.constants]"
        required = tuple((c, origin.get(c, c)) for c in s.REQUIRED[candidate] if c in columns)
        if not required:
            continue
        fits = not geometry_types or bool(geometry_types & set(s.GEOMETRY_TYPES[candidate]))
        optional = sum(c in columns.columns for c in s.OPTIONAL[candidate])
        names_known = candidate == "districts" and _names_known(columns)
        if candidate == "districts" and not names_known:
            continue  # a Name column alone is no sign of districts
        found.append(
            _Evidence(
                candidate, fits, required, _enum_matches(columns, candidate), optional, names_known
            )
        )
    if not found:
        return Guess(None, "no column, value or geometry says which kind")
    found.sort(key=lambda e: e.score, reverse=True)
    best = found[0]
    if len(found) > 1 and found[1].strength == best.strength:
        return Guess(
            None,
            f"it could be {best.kind} or {found[1].kind} ("
            + "; ".join(_describe(e) for e in found[:2])
            + ")",
        )
    return Guess(best.kind, _describe(best))


def _origins(raw: pd.DataFrame, columns: pd.DataFrame) -> dict[str, str]:
    """``{minemap column: 'column <- file column'}`` for the columns renamed."""
    out = {}
    for before, after in zip(raw.columns, columns.columns, strict=True):
        if before != after:
            out[str(after)] = f"{after} ← {escape(before)}"
    return out


def _describe(evidence: _Evidence) -> str:
    parts = [
        f"{len(evidence.required)} of {len(s.REQUIRED[evidence.kind])} required "
        f"{evidence.kind} columns: " + ", ".join(where for _, where in evidence.required)
    ]
    kinds = {"hazards": "polygons", "releases": "polygons", "districts": "polygons"}
    shape = kinds.get(evidence.kind, "points")
    parts.append(shape if evidence.fits else f"but not {shape}")
    if evidence.enums:
        parts.append(f"{', '.join(evidence.enums)} values of {evidence.kind}")
    if evidence.names_known:
        parts.append("district names minemap knows")
    return "; ".join(parts)


def _enum_matches(columns: pd.DataFrame, kind: str) -> tuple[str, ...]:
    """The kind's enumerated columns that hold only values of that kind (any language)."""
    matches = []
    for column in s.ENUM_COLUMNS[kind]:
        if column not in columns.columns:
            continue
        values = columns[column].dropna().astype(str).str.strip()
        values = values[values != ""]
        if len(values) and vocabulary.normalise_values(values, column).notna().all():
            matches.append(column)
    return tuple(matches)


def _names_known(columns: pd.DataFrame) -> bool:
    """Whether a would-be districts layer looks like one: ISO codes, names in several
    languages, or mostly names the gazetteer knows."""
    from minemap import gazetteer

    if s.ISO_3166_2 in columns.columns or s.NAME_AZ in columns.columns:
        return True
    names = columns[s.DISTRICT].dropna().astype(str).str.strip()
    names = names[names != ""]
    if not len(names):
        return False
    known = gazetteer.active()
    hits = sum(known.canonical(n) is not None for n in names.unique())
    return hits * 2 >= names.nunique()
