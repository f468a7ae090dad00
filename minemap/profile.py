"""Import profiles: how one source's files map to minemap's layers, written once.

A profile is a TOML file (``docs/import.md`` describes it whole)::

    date_order = "DMY"          # DMY | MDY | YMD
    decimal = ","               # decimal separator of numbers written as text
    encoding = "cp1254"         # text encoding where a file says none (or says it wrongly)
    crs = "EPSG:32638"          # where a file says none
    unknown = ["?", "naməlum"]  # cell values that mean "not known"

    [hazards]                   # a kind may set the five again for itself
    crs = "EPSG:32639"
    [hazards.columns]           # minemap column = column in the file
    hazard_id = "Sahe_ID"
    [hazards.values.status]     # value as written = minemap value
    "qismən" = "worked_on"
    [releases.constants]        # minemap column = one value for every feature
    method = "cleared"

:func:`read_profile` checks it whole and raises :class:`ProfileError` naming
the file, the line and the key of the first problem. :class:`ReadSettings` is
what readers take from it: ``encoding`` reaches the file readers,
``date_order``, ``decimal`` and ``unknown`` the checks that parse dates, counts
and empty cells (:mod:`minemap.validate`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import re
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd

from minemap import schema as s
from minemap import vocabulary
from minemap.errors import ProfileError
from minemap.values import cpg_encoding, read_dates, read_numbers

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = [
    "DATE_ORDERS",
    "KindProfile",
    "Profile",
    "ProfileError",  # defined in minemap.errors, still importable from here
    "ReadSettings",
    "parse_profile",
    "read_profile",
]

#: How a date such as 03.04.2024 is read: day, month, year in this order.
DATE_ORDERS = ("DMY", "MDY", "YMD")
DECIMALS = (",", ".")
#: Keys of the top level that a ``[KIND]`` table may set again for its kind.
SETTING_KEYS = ("date_order", "decimal", "encoding", "crs", "unknown")
#: Tables of a ``[KIND]`` table.
KIND_TABLES = ("columns", "values", "constants")
#: Free text about the profile (whose files, who wrote it), at the top level.
DESCRIPTION = "description"
#: Largest profile read: a profile is a page of text.
MAX_PROFILE_BYTES = 1_000_000


# --- settings that reach the readers --------------------------------------------


@dataclasses.dataclass(frozen=True)
class ReadSettings:
    """How a source writes what it writes: the profile's settings for one kind.

    Attributes
    ----------
    date_order
        ``"DMY"``, ``"MDY"`` or ``"YMD"``: how to read dates written with
        separators (``03.04.2024``, ``03/04/24``). ``None``: ISO dates only.
    decimal
        ``","`` or ``"."``: the decimal separator of numbers written as text.
        With ``","``, ``1.234,5`` is 1234.5. ``None``: ``"."``.
    encoding
        Text encoding of files that say none (a Shapefile without ``.cpg``, a
        CSV that is not UTF-8), or that say a wrong one.
    unknown
        Cell values that mean "not known" (``?``, ``naməlum``): read as empty.
        Matched whatever the case, accents and surrounding spaces.
    """

    date_order: str | None = None
    decimal: str | None = None
    encoding: str | None = None
    unknown: tuple[str, ...] = ()

    def blank_unknown(self, values: pd.Series) -> pd.Series:
        """The values with every ``unknown`` token made empty (``<NA>``).

        >>> settings = ReadSettings(unknown=("?", "naməlum"))
        >>> settings.blank_unknown(pd.Series(["3", " ? ", "Naməlum"])).isna().tolist()
        [False, True, True]
        """
        if not self.unknown or values.dtype.kind in "biufcmM":
            return values
        tokens = {vocabulary.fold(t) for t in self.unknown} | {t.strip() for t in self.unknown}
        text = values.astype("string").str.strip()
        distinct = text.dropna().unique()
        hits = {v for v in distinct if v in tokens or vocabulary.fold(v) in tokens}
        if not hits:
            return values
        return values.where(~text.isin(hits).fillna(False).astype(bool), pd.NA)

    def to_numbers(self, values: pd.Series) -> pd.Series:
        """Numbers from values as written (text or numbers); ``NaN`` where not a number.

        With ``decimal=","``, text such as ``12,5`` and ``1.234,5`` is read; with a
        ``decimal`` either way, spaces between digit groups (``1 234``) are ignored
        (:func:`minemap.values.read_numbers`). Without one, values are read as
        :func:`pandas.to_numeric` reads them.

        >>> ReadSettings(decimal=",").to_numbers(pd.Series(["12,5", "1.234", "7"])).tolist()
        [12.5, 1234.0, 7.0]
        """
        if values.dtype.kind in "biuf" or self.decimal is None:
            return pd.to_numeric(values, errors="coerce")
        return read_numbers(values, decimal=self.decimal).numbers

    def parse_dates(self, text: pd.Series) -> pd.Series:
        """Days written with separators in :attr:`date_order` (``NaT`` elsewhere).

        Two-digit years are this century up to this year, the last one before it
        (:func:`minemap.values.read_dates`, which also reads ISO days). Without a
        ``date_order`` nothing is read here: :func:`minemap.values.read_dates`
        says what a column settles on its own.

        >>> ReadSettings(date_order="DMY").parse_dates(pd.Series(["22.02.2024", "3/4/24", "x"]))
        0   2024-02-22
        1   2024-04-03
        2          NaT
        dtype: datetime64[us]
        """
        if self.date_order is None:
            return pd.Series(pd.NaT, index=text.index, dtype="datetime64[us]")
        return read_dates(text.astype(object), date_order=self.date_order).days


# --- the profile ---------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class KindProfile:
    """What a profile says about one layer kind (top-level settings included)."""

    settings: ReadSettings = ReadSettings()
    crs: str | None = None
    columns: Mapping[str, str] = dataclasses.field(default_factory=dict)
    values: Mapping[str, Mapping[str, object]] = dataclasses.field(default_factory=dict)
    constants: Mapping[str, object] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class Profile:
    """A checked import profile (see :func:`read_profile`).

    ``name`` is the file it came from, ``text`` its TOML (a workspace stores it).
    """

    name: str
    text: str
    kinds: Mapping[str, KindProfile]
    description: str | None = None
    #: The top level's settings and CRS alone: for a file whose kind is not known yet.
    top: KindProfile = KindProfile()

    def __getitem__(self, kind: str) -> KindProfile:
        """What the profile says about a kind (the top level's settings for ``""``)."""
        return self.kinds.get(kind, self.top)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    def settings(self, kind: str) -> ReadSettings:
        return self[kind].settings

    def mapping(self, kind: str, over: Mapping[str, str] | None = None) -> dict[str, str]:
        """The profile's ``[KIND.columns]`` with ``over`` (``--map``) winning."""
        return {**self[kind].columns, **(over or {})}

    def crs(self, kind: str, over=None):
        """``over`` (``--crs``) if given, else the profile's CRS for the kind."""
        return over if over is not None else self[kind].crs

    def tables(self) -> list[str]:
        """The kinds the profile has a table for."""
        return [k for k, p in self.kinds.items() if p.columns or p.values or p.constants]

    def apply(self, frame: pd.DataFrame, kind: str, *, mapped: Iterable[str] = ()) -> pd.DataFrame:
        """Recode values, set constants and blank ``unknown`` tokens, on canonical columns.

        Run after :func:`minemap.io.normalise_columns`. ``mapped`` are the columns
        the command line mapped (``--map``): a constant for one of them is left out.
        A column of the file that a constant replaces is kept as ``<name>_unmapped``.
        """
        own = self[kind]
        mapped = set(mapped)
        geometry = frame.geometry.name if hasattr(frame, "geometry") else None
        frame = frame.copy()
        for column, table in own.values.items():
            if column in frame.columns:
                frame[column] = recode(frame[column], table)
        unknown = own.settings
        for column in frame.columns:
            if column != geometry:
                frame[column] = unknown.blank_unknown(frame[column])
        for column, value in own.constants.items():
            if column in mapped:
                continue
            if column in frame.columns:
                frame = frame.rename(columns={column: f"{column}_unmapped"})
            frame[column] = pd.Series([value] * len(frame), index=frame.index, dtype=object)
        return frame

    def as_dict(self) -> dict:
        """What the workspace's import log keeps: the file name, its SHA-256 and its text."""
        return {"name": self.name, "sha256": self.sha256, "text": self.text}


def recode(values: pd.Series, table: Mapping[str, object]) -> pd.Series:
    """Replace values as written by the ones a profile maps them to.

    Matched exactly (once trimmed), then whatever the case and accents; values
    not in the table stay as they are.
    """
    exact = {str(k).strip(): v for k, v in table.items()}
    folded = {vocabulary.fold(str(k)): v for k, v in table.items()}
    text = values.astype("string").str.strip()
    distinct = text.dropna().unique()
    found = {}
    for value in distinct:
        if value in exact:
            found[value] = exact[value]
        elif vocabulary.fold(value) in folded:
            found[value] = folded[vocabulary.fold(value)]
    if not found:
        return values
    hit = text.isin(list(found)).fillna(False).astype(bool).to_numpy()
    out = values.astype(object).copy()
    out[hit] = text[hit].map(found).to_numpy(dtype=object)
    return out


# --- reading and checking --------------------------------------------------------


def read_profile(path) -> Profile:
    """Read and check a profile file; raise :class:`ProfileError` at the first problem."""
    path = Path(path)
    if not path.is_file():
        raise ProfileError(path, None, "no such file")
    if path.stat().st_size > MAX_PROFILE_BYTES:
        raise ProfileError(
            path, None, f"is larger than {MAX_PROFILE_BYTES:,} bytes; is it a profile?"
        )
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise ProfileError(path, line, "is not UTF-8 text; save the profile as UTF-8") from None
    return parse_profile(text, name=str(path))


def toml_loads(text: str) -> dict:
    """TOML text as a dict; ``ValueError`` with ``line N: problem`` when malformed."""
    try:
        return tomllib.loads(text)
    except RecursionError:
        # Arrays or tables nested thousands deep: no profile looks like that.
        raise ValueError("line 1: not valid TOML: nested too deeply") from None
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        found = re.search(r"\(at line (\d+), column \d+\)", message)
        line = int(found.group(1)) if found else max(1, len(text.splitlines()))
        problem = re.sub(r"\s*\(at (line \d+, column \d+|end of document)\)", "", message)
        raise ValueError(f"line {line}: not valid TOML: {problem}") from None


def parse_profile(text: str, *, name: str = "<profile>") -> Profile:
    """Check a profile's TOML text and make a :class:`Profile` of it.

    Examples
    --------
    >>> p = parse_profile('crs = "EPSG:32638"\\n[hazards.columns]\\nhazard_id = "Sahe_ID"\\n')
    >>> p.mapping("hazards"), p.crs("hazards"), p.crs("releases", "EPSG:4326")
    ({'hazard_id': 'Sahe_ID'}, 'EPSG:32638', 'EPSG:4326')
    """
    try:
        data = toml_loads(text)
    except ValueError as exc:
        number, _, problem = str(exc).partition(": ")
        raise ProfileError(name, int(number.split()[1]), problem) from None
    checker = _Checker(name, text)
    top = {k: v for k, v in data.items() if k not in s.LAYER_KINDS}
    description = None
    for key, value in top.items():
        if key == DESCRIPTION:
            description = checker.string((), key, value)
        elif key not in SETTING_KEYS:
            checker.fail(
                (),
                key,
                f"unknown key {key!r}; a profile's top level has "
                f"{', '.join(SETTING_KEYS)}, {DESCRIPTION}, and a table per kind: "
                f"[{'], ['.join(s.LAYER_KINDS)}]",
            )
    general = checker.settings((), top)
    kinds = {}
    for kind in s.LAYER_KINDS:
        table = data.get(kind, {})
        if not isinstance(table, dict):
            checker.fail((), kind, f"{kind} must be a table ([{kind}]), not a {_type(table)}")
        kinds[kind] = checker.kind(kind, table, general)
    top = dict(general)
    crs = top.pop("crs", None)
    return Profile(
        name=name,
        text=text,
        kinds=kinds,
        description=description,
        top=KindProfile(settings=ReadSettings(**top), crs=crs),
    )


def _type(value) -> str:
    return {
        str: "string",
        int: "whole number",
        float: "number",
        bool: "true/false",
        list: "list",
        dict: "table",
    }.get(type(value), type(value).__name__)


class _Checker:
    """Checks a parsed profile, naming the key and its line in every message."""

    def __init__(self, name: str, text: str) -> None:
        self.name = name
        self.text = text

    def fail(self, table: tuple[str, ...], key: str | None, problem: str):
        line = toml_line(self.text, table, key)
        where = "".join(f"[{'.'.join(_quote_key(t) for t in table)}] " if table else "")
        raise ProfileError(self.name, line, f"{where}{problem}")

    def string(self, table, key, value) -> str:
        if not isinstance(value, str) or not value.strip():
            self.fail(table, key, f"{key} must be a text in quotes, not {_show(value)}")
        return value.strip()

    def settings(self, table: tuple[str, ...], data: dict, base: dict | None = None) -> dict:
        out = dict(base or {})
        if "date_order" in data:
            value = data["date_order"]
            if not isinstance(value, str) or value.strip().upper() not in DATE_ORDERS:
                self.fail(
                    table,
                    "date_order",
                    f"date_order must be one of {', '.join(map(repr, DATE_ORDERS))} "
                    f"(the order of day, month and year in 03.04.2024), not {_show(value)}",
                )
            out["date_order"] = value.strip().upper()
        if "decimal" in data:
            value = data["decimal"]
            if value not in DECIMALS:
                self.fail(table, "decimal", f'decimal must be "," or ".", not {_show(value)}')
            out["decimal"] = value
        if "encoding" in data:
            value = self.string(table, "encoding", data["encoding"])
            # Any name a .cpg may hold: cp1254, 1254, ANSI 1254, windows-1251, 88595...
            codec = cpg_encoding(value)
            if codec is None:
                self.fail(
                    table,
                    "encoding",
                    f"encoding {value!r} is not one Python knows; use e.g. cp1254 "
                    "(Azerbaijani Latin), cp1251 (Cyrillic), utf-8",
                )
            out["encoding"] = codec
        if "crs" in data:
            value = data["crs"]
            if not isinstance(value, str) or not value.strip():
                self.fail(
                    table, "crs", f'crs must be a text such as "EPSG:32638", not {_show(value)}'
                )
            import pyproj

            try:
                pyproj.CRS.from_user_input(value.strip())
            except pyproj.exceptions.CRSError:
                self.fail(
                    table,
                    "crs",
                    f"crs {value!r} is not a coordinate reference system; use e.g. EPSG:4326 "
                    "(longitude/latitude) or EPSG:32638 (UTM 38N)",
                )
            out["crs"] = value.strip()
        if "unknown" in data:
            value = data["unknown"]
            if not isinstance(value, list) or not all(
                isinstance(v, str) and v.strip() for v in value
            ):
                self.fail(
                    table,
                    "unknown",
                    'unknown must be a list of texts, e.g. ["?", "naməlum", "неизвестно"], '
                    f"not {_show(value)}",
                )
            out["unknown"] = tuple(v.strip() for v in value)
        return out

    def kind(self, kind: str, data: dict, general: dict) -> KindProfile:
        table = (kind,)
        for key in data:
            if key not in (*SETTING_KEYS, *KIND_TABLES):
                self.fail(
                    table,
                    key,
                    f"unknown key {key!r}; a [{kind}] table has "
                    f"{', '.join(SETTING_KEYS)} and the tables "
                    f"{', '.join(f'[{kind}.{t}]' for t in KIND_TABLES)}",
                )
        settings = self.settings(table, data, general)
        known = (*s.REQUIRED[kind], *s.OPTIONAL[kind])
        columns = self.columns(kind, data.get("columns", {}), known)
        values = self.values(kind, data.get("values", {}), known)
        constants = self.constants(kind, data.get("constants", {}), known)
        for column in constants:
            if column in columns:
                self.fail(
                    (kind, "constants"),
                    column,
                    f"{column} is both taken from a column ([{kind}.columns]) and set to one "
                    "value for every feature; keep one of the two",
                )
        crs = settings.pop("crs", None)
        return KindProfile(
            settings=ReadSettings(**settings),
            crs=crs,
            columns=columns,
            values=values,
            constants=constants,
        )

    def _table(self, table: tuple[str, ...], value, example: str) -> dict:
        if not isinstance(value, dict):
            self.fail(
                table[:-1],
                table[-1],
                f"{table[-1]} must be a table ({example}), not {_show(value)}",
            )
        return value

    def _column(self, kind: str, table: tuple[str, ...], column: str, known) -> None:
        if column not in known:
            close = _closest(column, known)
            self.fail(
                table,
                column,
                f"{column!r} is not a minemap column of {kind}"
                + (f" (did you mean {close}?)" if close else "")
                + f"; the {kind} columns are: {', '.join(known)}",
            )

    def columns(self, kind: str, data, known) -> dict[str, str]:
        table = (kind, "columns")
        data = self._table(table, data, 'hazard_id = "Sahe_ID"')
        out = {}
        for column, given in data.items():
            self._column(kind, table, column, known)
            if not isinstance(given, str) or not given.strip():
                self.fail(
                    table,
                    column,
                    f"{column} must name a column of the file in quotes "
                    f'(e.g. {column} = "COLUMN"), not {_show(given)}',
                )
            out[column] = given.strip()
        return out

    def values(self, kind: str, data, known) -> dict[str, dict[str, object]]:
        table = (kind, "values")
        data = self._table(table, data, '[hazards.values.status] "açıq" = "open"')
        out = {}
        for column, mapping in data.items():
            self._column(kind, table, column, known)
            mapping = self._table((*table, column), mapping, '"açıq" = "open"')
            out[column] = {
                written: self.value(kind, (*table, column), column, written, target)
                for written, target in mapping.items()
            }
        return out

    def constants(self, kind: str, data, known) -> dict[str, object]:
        table = (kind, "constants")
        data = self._table(table, data, 'method = "cleared"')
        out = {}
        for column, value in data.items():
            self._column(kind, table, column, known)
            out[column] = self.value(kind, table, column, column, value)
        return out

    def value(self, kind: str, table, column: str, key: str, value) -> object:
        """A minemap value for ``column``, checked and in canonical spelling."""
        allowed = s.ENUM_COLUMNS[kind].get(column)
        if allowed is not None:
            # The minemap value itself, whatever its case ("Open", "worked on").
            spellings = {vocabulary.fold(a): a for a in allowed}
            found = spellings.get(vocabulary.fold(value)) if isinstance(value, str) else None
            if found is None:
                self.fail(
                    table,
                    key,
                    f"{_show(value)} is not a value minemap knows for {column}; "
                    f"use one of {', '.join(allowed)}",
                )
            return found
        if column in s.COUNT_COLUMNS[kind]:
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                self.fail(table, key, f"{column} must be a whole number ≥ 0, not {_show(value)}")
            return value
        if column in s.DATE_COLUMNS[kind]:
            if isinstance(value, dt.datetime):
                value = value.date()
            if isinstance(value, dt.date):
                return value.isoformat()
            if not isinstance(value, str) or not value.strip():
                self.fail(table, key, f"{column} must be a date (2024-02-22), not {_show(value)}")
            return value.strip()
        if (
            isinstance(value, bool)
            or not isinstance(value, str | int | float)
            or (isinstance(value, str) and not value.strip())
        ):
            self.fail(table, key, f"{column} must be a text in quotes, not {_show(value)}")
        return value.strip() if isinstance(value, str) else str(value)


def _show(value) -> str:
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return f"a list ({json.dumps(value, ensure_ascii=False, default=str)[:60]})"
    return f"{_type(value)} {value!r}" if not isinstance(value, bool) else repr(value).lower()


def _closest(name: str, known) -> str | None:
    import difflib

    found = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return found[0] if found else None


# --- where a key is written ---------------------------------------------------------

_HEADER = re.compile(r"^\s*\[\[?\s*(.+?)\s*\]\]?\s*(?:#.*)?$")
_ASSIGN = re.compile(
    r"""^\s*((?:"(?:[^"\\]|\\.)*"|'[^']*'|[A-Za-z0-9_\-]+)(?:\s*\.\s*(?:"(?:[^"\\]|\\.)*"|'[^']*'|[A-Za-z0-9_\-]+))*)\s*="""
)
_KEY_PART = re.compile(r"""\s*("(?:[^"\\]|\\.)*"|'[^']*'|[A-Za-z0-9_\-]+)\s*(?:\.|$)""")


def _split_key(text: str) -> tuple[str, ...]:
    parts = []
    for match in _KEY_PART.finditer(text):
        part = match.group(1)
        if part.startswith('"'):
            try:
                part = json.loads(part)
            except ValueError:
                part = part[1:-1]
        elif part.startswith("'"):
            part = part[1:-1]
        parts.append(part)
    return tuple(parts)


def toml_line(text: str, table: tuple[str, ...], key: str | None) -> int | None:
    """The line (from 1) where ``key`` of ``table`` is written in TOML text.

    Tables are headers (``[hazards.columns]``), dotted keys (``columns.hazard_id
    = ...`` under ``[hazards]``) or inline tables; the line of the table itself is
    the answer when the key cannot be found, and ``None`` when neither can.

    >>> toml_line('[hazards.columns]\\nhazard_id = "X"\\n', ("hazards", "columns"), "hazard_id")
    2
    """
    target = (*table, key) if key is not None else tuple(table)
    header: tuple[str, ...] = ()
    table_line = None
    lines = text.splitlines()
    for number, line in enumerate(lines, start=1):
        found = _HEADER.match(line)
        if found and not _ASSIGN.match(line):
            header = _split_key(found.group(1))
            if header == tuple(table) and table_line is None:
                table_line = number
            if header[: len(target)] == target:
                return number  # the key is this table, or holds it: [hazards.values.colour]
            continue
        assign = _ASSIGN.match(line)
        if assign is None:
            continue
        path = (*header, *_split_key(assign.group(1)))
        if path == target:
            return number
        # An inline table: the key written on the same line, after the table's name.
        if key is not None and target[: len(path)] == path and len(path) < len(target):
            rest = line[assign.end() :]
            if re.search(rf"""(^|[{{,\s"'])({re.escape(key)}|"{re.escape(key)}")\s*=""", rest) or (
                _quote_key(key) in rest
            ):
                return number
            if table_line is None and path == tuple(table):
                table_line = number
    if table_line is not None:
        return table_line
    if table:
        return toml_line(text, table[:-1], table[-1])
    return None


def _quote_key(key: str) -> str:
    """A TOML key: bare when it can be, else a quoted string."""
    if re.fullmatch(r"[A-Za-z0-9_\-]+", key):
        return key
    return toml_string(key)


# Characters that reorder or hide text (bidirectional overrides and isolates, line and
# paragraph separators): written as escapes, which TOML reads back the same.
_HIDDEN = frozenset("\u2028\u2029\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def toml_string(text: str) -> str:
    """A TOML basic string (``"..."``) holding ``text`` exactly."""
    out = []
    for c in text:
        if c == '"':
            out.append('\\"')
        elif c == "\\":
            out.append("\\\\")
        elif c in "\n\t\r\b\f":
            out.append({"\n": "\\n", "\t": "\\t", "\r": "\\r", "\b": "\\b", "\f": "\\f"}[c])
        elif ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F or c in _HIDDEN:
            out.append(f"\\u{ord(c):04X}")  # nothing a terminal or an editor acts on
        else:
            out.append(c)
    return '"' + "".join(out) + '"'


# --- drafting a profile from files ---------------------------------------------------

#: Cell values that often mean "not known": the draft suggests those it finds.
UNKNOWN_WORDS = ("?", "??", "-", "n/a", "unknown", "naməlum", "неизвестно", "нет данных")
#: Distinct values listed per column in a draft (the rest are counted).
DRAFT_VALUES = 200


@dataclasses.dataclass
class DraftSource:
    """One file a draft is made from: its name, its attributes as read, what it lacks."""

    name: str
    frame: pd.DataFrame
    has_crs: bool = True
    crs_name: str | None = None
    lacks_cpg: bool = False


def draft_profile(sources: list[DraftSource], kind: str, *, encoding: str | None = None) -> str:
    """A starting profile for files of one kind, as TOML text with comments.

    Columns are matched to minemap's by their names (the aliases and the
    vocabularies), every distinct value of an enumerated column is listed
    (mapped where minemap knows the word, left commented for the user where it
    does not), and the settings the files call for (a CRS, an encoding, the
    order of day and month, ``unknown`` tokens) are written or suggested. The
    draft reads as it is (:func:`parse_profile`); so does it once the user has
    filled the commented lines in. ``encoding`` is the one the files were read in
    (``--encoding``): the draft keeps it.
    """
    from minemap import gazetteer
    from minemap.io import normalise_columns

    if kind not in s.LAYER_KINDS:
        raise ValueError(f"kind must be one of {', '.join(s.LAYER_KINDS)}, not {kind!r}")
    known = (*s.REQUIRED[kind], *s.OPTIONAL[kind])
    found: dict[str, list[tuple[str, str]]] = {}  # canonical -> [(file column, file name)]
    unused: dict[str, None] = {}
    frames = []
    for source in sources:
        geometry = source.frame.geometry.name if hasattr(source.frame, "geometry") else None
        raw = pd.DataFrame(source.frame.drop(columns=[c for c in (geometry,) if c]))
        raw = raw.drop(columns=[c for c in raw.columns if str(c).startswith("_")])
        canonical = normalise_columns(raw, kind)
        for before, after in zip(raw.columns, canonical.columns, strict=True):
            if after in known:
                found.setdefault(str(after), []).append((str(before), source.name))
            else:
                unused[str(before)] = None
        frames.append(canonical)
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    files = ", ".join(Path(x.name).name for x in sources)
    out = [
        f"# An import profile for minemap: {kind}, drafted by `minemap profile draft` from",
        *(f"#   {src.name}: {len(src.frame)} feature(s)" for src in sources),
        "# Read it through and put right what is wrong. Lines that begin with '# ' followed",
        '# by a key (# crs = "", # "qismen" = "") are for you to fill in: remove the "# ",',
        "# write the value, and the profile reads them. docs/import.md describes every key.",
        "# Use it with: minemap validate --profile THIS.toml FILE...",
        "",
        f"description = {toml_string(f'{kind} of ' + files)}",
        "",
    ]
    out += _draft_settings(sources, table, kind, encoding)
    out += ["", f"[{kind}.columns]", "# minemap column = column in the file"]
    for column in known:
        if column in found:
            names = list(dict.fromkeys(name for name, _ in found[column]))
            how = _how_matched(kind, column, names[0])
            others = f"; other files call it {', '.join(names[1:])}" if len(names) > 1 else ""
            out.append(f"{_quote_key(column)} = {toml_string(names[0])}  # {how}{others}")
        else:
            need = (
                "required: name the column that holds it"
                if column in s.REQUIRED[kind]
                else "not found (optional): name the column that holds it, or leave it out"
            )
            out.append(f'# {column} = ""  # {need}')
    if unused:
        out.append(f"# Columns minemap does not use: {', '.join(unused)}")
    for column, allowed in s.ENUM_COLUMNS[kind].items():
        if column in table.columns:
            out += ["", *_draft_values(kind, column, table[column], allowed)]
    if s.DISTRICT in table.columns and kind != "districts":
        out += _draft_districts(kind, table[s.DISTRICT], gazetteer.active())
    return "\n".join(out).rstrip() + "\n"


def _draft_settings(
    sources: list[DraftSource], table: pd.DataFrame, kind: str, encoding: str | None
) -> list[str]:
    out = []
    dates = [c for c in s.DATE_COLUMNS[kind] if c in table.columns]
    order, evidence = _date_order_of(_cells(table, dates))
    if order is not None:
        out += [
            f"# Dates are written with separators ({evidence}, the day).",
            f'date_order = "{order}"',
        ]
    elif evidence:
        out += [
            f"# Dates are written with separators ({evidence}): say the order of day, month",
            "# and year (DMY for 03.04.2024 = 3 April, MDY for April 3rd, YMD).",
            '# date_order = ""',
        ]
    counts = [c for c in s.COUNT_COLUMNS[kind] if c in table.columns]
    texts = _cells(table, counts).astype(str)
    if texts.str.fullmatch(r"\s*\d{1,3}(?:\.\d{3})*,\d+\s*").any():
        out += ["# Numbers are written with a decimal comma (12,5).", 'decimal = ","']
    lacking = [src.name for src in sources if src.lacks_cpg]
    if encoding is not None:
        out += [
            "# Text of files that say no encoding is in:",
            f"encoding = {toml_string(encoding)}",
        ]
    elif lacking:
        out += [
            f"# {', '.join(Path(n).name for n in lacking)}: a Shapefile without .cpg; write",
            "# the code page its text is in (cp1254 Azerbaijani Latin, cp1251 Cyrillic, utf-8).",
            '# encoding = ""',
        ]
    without = [src.name for src in sources if not src.has_crs]
    crs_names = {src.crs_name for src in sources if src.has_crs and src.crs_name}
    if without:
        out += [
            f"# {', '.join(Path(n).name for n in without)}: no CRS; write the one its",
            "# coordinates are in (EPSG:32638 for UTM zone 38N, EPSG:4326 for degrees).",
            '# crs = ""',
        ]
    elif crs_names:
        out.append(f"# The files say their CRS: {', '.join(sorted(crs_names))}.")
    seen = _unknown_tokens(table)
    if seen:
        out += [
            "# Cell values that mean 'not known' (read as empty):",
            f"unknown = [{', '.join(toml_string(t) for t in seen)}]",
        ]
    else:
        out.append('# unknown = ["?"]  # cell values that mean "not known", if any')
    return out


def _cells(table: pd.DataFrame, columns: list[str]) -> pd.Series:
    """Every value of some columns, as one series."""
    if not columns:
        return pd.Series([], dtype=object)
    return pd.concat([table[c].astype(object) for c in columns], ignore_index=True)


def _date_order_of(values: pd.Series) -> tuple[str | None, str]:
    """The order of day and month the values show, and why: (order, evidence)."""
    text = values.dropna().astype(str).str.strip()
    parts = text.str.extract(r"^(\d{1,2})[./\-](\d{1,2})[./\-](\d{2}|\d{4})$").dropna()
    if not len(parts):
        return None, ""
    first, second = parts[0].astype(int), parts[1].astype(int)
    example = text.loc[parts.index[0]]
    if (first > 12).any() and not (second > 12).any():
        shown = text.loc[first[first > 12].index[0]]
        return "DMY", f"in {shown} the first number goes past 12"
    if (second > 12).any() and not (first > 12).any():
        shown = text.loc[second[second > 12].index[0]]
        return "MDY", f"in {shown} the second number goes past 12"
    return None, f"e.g. {example}, which could be read either way"


def _unknown_tokens(table: pd.DataFrame) -> list[str]:
    words = {vocabulary.fold(w) or w for w in UNKNOWN_WORDS}
    seen: dict[str, str] = {}  # one spelling per folded word: tokens match folded
    for column in table.columns:
        values = table[column]
        if values.dtype.kind in "biufcmM":
            continue
        for value in values.dropna().astype(str).str.strip().unique():
            folded = vocabulary.fold(value) or value
            if folded in words:
                seen.setdefault(folded, value)
    return list(seen.values())


def _how_matched(kind: str, column: str, name: str) -> str:
    folded = vocabulary.fold(name)
    if folded in (vocabulary.fold(column), vocabulary.fold(column[:10])):
        return "minemap's own name"
    english = s.COLUMN_ALIASES.get(kind, {}).get(column, ())
    if folded in {vocabulary.fold(a) for a in english} | {vocabulary.fold(a[:10]) for a in english}:
        return "English name minemap knows"
    for term in vocabulary.terms():
        if term.what == f"{kind}.{column}" and folded in (
            vocabulary.fold(term.term),
            vocabulary.fold(term.term[:10]),
        ):
            return f"{_LANGUAGES.get(term.language, term.language)} name minemap knows"
    return "matched by name"


_LANGUAGES = {
    "en": "English",
    "az": "Azerbaijani",
    "az-Cyrl": "Azerbaijani (Cyrillic)",
    "ru": "Russian",
}


def _draft_values(kind: str, column: str, values: pd.Series, allowed) -> list[str]:
    text = values.dropna().astype(str).str.strip()
    text = text[text != ""]
    counts = text.value_counts(sort=False)
    out = [
        f"[{kind}.values.{column}]",
        f"# value as written = minemap value ({', '.join(allowed)})",
    ]
    known = vocabulary.value_lookup(column)
    unknown_words = {vocabulary.fold(w) for w in UNKNOWN_WORDS} | set(UNKNOWN_WORDS)
    shown = 0
    for value, count in counts.items():
        if shown >= DRAFT_VALUES:
            break
        shown += 1
        features = f"{count} feature{'s' if count != 1 else ''}"
        if value in unknown_words or vocabulary.fold(value) in unknown_words:
            out.append(f"# {toml_string(value)}: {features}; 'not known' (see unknown above)")
            continue
        meaning = known.get(vocabulary.fold(value))
        if meaning is not None:
            out.append(f"{toml_string(value)} = {toml_string(meaning)}  # {features}")
        else:
            out.append(
                f'# {toml_string(value)} = ""  # {features}; a word minemap does not know: '
                f"write one of {', '.join(allowed)}"
            )
    if len(counts) > shown:
        out.append(f"# ... and {len(counts) - shown} more distinct values")
    return out


def _draft_districts(kind: str, values: pd.Series, known) -> list[str]:
    text = values.dropna().astype(str).str.strip()
    text = text[text != ""]
    unknown = [v for v in text.unique() if known.canonical(v) is None]
    if not unknown:
        return []
    out = [
        "",
        f"[{kind}.values.district]",
        "# District names minemap does not know. Write minemap's name for each (the ones",
        "# it knows, or those of the districts layer you give), or add them to a gazetteer",
        "# (--gazetteer FILE).",
    ]
    for value in unknown[:DRAFT_VALUES]:
        close = known.closest(value)
        hint = f"; closest known: {', '.join(close)}" if close else ""
        out.append(f'# {toml_string(value)} = ""  # {int((text == value).sum())} feature(s){hint}')
    return out
