"""The gazetteer: every name a district goes by, and the key minemap gives it.

Place names are data, not code. The package ships one file per country
(``AZ.csv``: Azerbaijan's districts in English, Azerbaijani in Latin and
Cyrillic script, Russian with the adjective forms ``Агдамский``, the names
used before 2020, and ISO 3166-2 codes), and ``unit_words.csv`` (the words
that name the kind of unit, ``rayonu``, ``район``, ``District``, which do not
matter). A country file has the columns ``district,name,language,source``:
``district`` is minemap's key, ``name`` one spelling of it.

Three more sources add names:

- a districts layer's own name columns (``name_*``, ``adm2_*``, ISO codes...):
  :meth:`Gazetteer.from_layer`, so another country's boundaries work;
- a file given with ``--gazetteer FILE`` (:func:`read_gazetteer`): CSV with
  ``district,name`` columns, or TOML of ``district = ["name", ...]``;
- :func:`using`, which makes a gazetteer the active one for a block of code
  (the command line does so for ``--gazetteer``).

Names match after folding: case, diacritics, separators and unit words do not
matter, so ``Qubadlı rayonu``, ``QUBADLI`` and ``Gubadli District`` are one.
"""

from __future__ import annotations

import contextlib
import contextvars
import csv
import difflib
import functools
import re
from collections.abc import Iterable, Iterator, Mapping
from importlib import resources
from pathlib import Path

import pandas as pd

from minemap import schema as s
from minemap.errors import InputFileError
from minemap.vocabulary import fold_words

__all__ = [
    "Gazetteer",
    "active",
    "alternative_names",
    "builtin",
    "fold_place",
    "read_gazetteer",
    "using",
]

#: Where the shipped names come from, by the key in the files' ``source`` column.
SOURCES = {
    "iso": "ISO 3166-2:AZ (the subdivision list in pycountry's ISO data)",
    "anama": "the spelling ANAMA's bulletins use in that language",
    "common": "another spelling seen in maps, the press and transliterations",
    "former": "a name used before 2020 or in Soviet times",
}

#: Largest --gazetteer file read (a list of names is small).
MAX_FILE_BYTES = 20_000_000


@functools.cache
def _unit_words() -> tuple[tuple[tuple[str, ...], ...], tuple[tuple[str, ...], ...]]:
    """(phrases after the name, phrases before it), folded, longest first."""
    text = resources.files(__package__).joinpath("unit_words.csv").read_text(encoding="utf-8")
    after, before = set(), set()
    for row in csv.DictReader(text.splitlines()):
        words = tuple(fold_words(row["word"]))
        if words:
            (before if row["position"] == "before" else after).add(words)
    return (
        tuple(sorted(after, key=len, reverse=True)),
        tuple(sorted(before, key=len, reverse=True)),
    )


def fold_place(text: str) -> str:
    """Fold a place name for matching: lower case, no diacritics, separators or unit words.

    >>> fold_place("Ağdam rayonu"), fold_place("Xankəndi şəhəri"), fold_place("Gubadli District")
    ('agdam', 'xankendi', 'gubadli')
    >>> fold_place("Физулинский р-н"), fold_place("г. Шуша")
    ('физулинскии', 'шуша')
    """
    words = fold_words(text)
    after, before = _unit_words()
    stripped = True
    while stripped:
        stripped = False
        for phrase in after:
            n = len(phrase)
            if len(words) > n and tuple(words[-n:]) == phrase:
                del words[-n:]
                stripped = True
                break
        for phrase in before:
            n = len(phrase)
            if len(words) > n and tuple(words[:n]) == phrase:
                del words[:n]
                stripped = True
                break
    return "".join(words)


class Gazetteer:
    """Names of places: each spelling leads to one key.

    Parameters
    ----------
    names
        ``{key: [spelling, ...]}`` or ``(key, spelling)`` pairs. The key is a
        spelling of itself. Where two keys claim one spelling, the first wins.

    Examples
    --------
    >>> g = Gazetteer({"Syunik": ["Սյունիք", "AM-SU"]})
    >>> g.canonical("syunik province"), g.canonical("AM-SU"), g.canonical("Tavush")
    ('Syunik', 'Syunik', None)
    """

    def __init__(self, names: Mapping[str, Iterable[str]] | Iterable[tuple[str, str]] = ()):
        pairs = (
            [(k, n) for k, spellings in names.items() for n in spellings]
            if isinstance(names, Mapping)
            else list(names)
        )
        self._lookup: dict[str, str] = {}
        self._names: dict[str, list[str]] = {}
        for key, name in pairs:
            self._add(key, name)

    def _add(self, key: str, name: str) -> None:
        key, name = str(key).strip(), str(name).strip()
        if not key:
            return
        spellings = self._names.setdefault(key, [])
        for spelling in (key, name):
            folded = fold_place(spelling)
            if not folded:
                continue
            self._lookup.setdefault(folded, key)
            if spelling and spelling not in spellings:
                spellings.append(spelling)

    def __len__(self) -> int:
        return len(self._names)

    def __contains__(self, name: object) -> bool:
        return self.canonical(name) is not None

    def __or__(self, other: Gazetteer) -> Gazetteer:
        """Both gazetteers; where they disagree about a spelling, ``other`` wins."""
        merged = Gazetteer()
        for source in (other, self):
            for key, spellings in source._names.items():
                for name in spellings:
                    merged._add(key, name)
        return merged

    @property
    def keys(self) -> tuple[str, ...]:
        """Every key, in the order they came."""
        return tuple(self._names)

    def canonical(self, name: object) -> str | None:
        """The key of a spelling, or ``None`` when the gazetteer does not know it."""
        if not isinstance(name, str) or not name.strip():
            return None
        return self._lookup.get(fold_place(name.strip()))

    def names(self, key: str) -> tuple[str, ...]:
        """Every spelling of a key (the key first); ``()`` for a key it does not have."""
        return tuple(self._names.get(key, ()))

    def closest(self, name: str, n: int = 3, *, extra: Iterable[str] = ()) -> list[str]:
        """The keys whose spellings are closest to an unknown one (for messages).

        ``extra`` adds names known only from the data (a districts layer's names).
        """
        candidates = dict(self._lookup)
        candidates.update({fold_place(e): e for e in extra if isinstance(e, str) and e.strip()})
        candidates.pop("", None)
        matches = difflib.get_close_matches(fold_place(name), list(candidates), n=n * 4, cutoff=0.6)
        return list(dict.fromkeys(candidates[m] for m in matches))[:n]

    @classmethod
    def from_layer(cls, districts: pd.DataFrame, *, known: Gazetteer | None = None) -> Gazetteer:
        """The names a districts layer gives its districts: one gazetteer for any country.

        The key of each row is its ``district``; its spellings are that and the
        values of its other name columns: ``name_az``, ``iso_3166_2``, and any
        column named ``name_*``/``name:*`` (OpenStreetMap, Natural Earth),
        ``nl_name_*``/``varname_*`` (GADM, variants split on ``|``), ``adm1_*`` ..
        ``adm4_*`` (HDX COD-AB, ``ADM2_RU``, ``ADM2_PCODE``), ``shapeName``/
        ``shapeISO`` (geoBoundaries), ``alt_name``/``official_name``/``old_name``.
        A code ISO 3166-2 knows also brings its official name (pycountry).
        """
        if s.DISTRICT not in districts.columns:
            return cls()
        columns = [c for c in districts.columns if c != s.DISTRICT and _is_name_column(c)]
        pairs = []
        for record in pd.DataFrame(districts[[s.DISTRICT, *columns]]).to_dict("records"):
            key = record[s.DISTRICT]
            if not isinstance(key, str) or not key.strip():
                continue
            if known is not None:
                key = known.canonical(key) or key
            pairs.append((key, key))
            for column in columns:
                for name in _split_names(record[column]):
                    pairs.append((key, name))
                    official = _iso_name(name)
                    if official is not None:
                        pairs.append((key, official))
        # Every row's own name first: a name column cannot take another row's key.
        return cls([(k, k) for k in dict.fromkeys(k for k, _ in pairs)] + pairs)

    def __repr__(self) -> str:
        return f"Gazetteer({len(self)} places)"


_NAME_COLUMN = re.compile(
    r"^(?:name|nl_name|varname|alt_name|official_name|old_name|int_name|loc_name)(?:[_:].+)?$"
    r"|^adm[1-4]_(?:[a-z]{2}|pcode|ref|alt\w*)$|^shape(?:name|iso)$|^iso(?:_?3166(?:_?2)?)?$"
    r"|^iso_code$|^" + re.escape(s.NAME_AZ) + "$|^" + re.escape(s.ISO_3166_2) + "$",
    re.IGNORECASE,
)


def _is_name_column(column: object) -> bool:
    return isinstance(column, str) and bool(_NAME_COLUMN.match(column))


def _split_names(value: object) -> list[str]:
    if not isinstance(value, str):
        return []
    return [part.strip() for part in re.split(r"[|;]", value) if part.strip()]


_ISO_CODE = re.compile(r"^[A-Z]{2}-[A-Z0-9]{1,3}$")


def _iso_name(code: str) -> str | None:
    """The official name of an ISO 3166-2 code (``AM-SU`` -> ``Syunik``), or ``None``."""
    if not _ISO_CODE.match(code.strip().upper()):
        return None
    try:
        import pycountry
    except ImportError:  # pragma: no cover - pycountry is a dependency
        return None
    found = pycountry.subdivisions.get(code=code.strip().upper())
    return None if found is None else found.name


def alternative_names(districts: pd.DataFrame, *, limit: int = 40) -> list[list[str]]:
    """Every other name of each district row: the gazetteer's and the row's own columns.

    For the map's search, which finds a district by any of its names. At most
    ``limit`` names a row (a boundary file's columns may be long lists).

    >>> alternative_names(pd.DataFrame({"district": ["Aghdam"]}))[0][:4]
    ['Agdam', 'Ağdam', 'Ағдам', 'Агдам']
    """
    if s.DISTRICT not in districts.columns:
        return [[] for _ in range(len(districts))]
    known = active()
    own = Gazetteer.from_layer(districts)
    # Another row's own name is no alias of this one: it would lead the search astray.
    rows = {n for n in districts[s.DISTRICT] if isinstance(n, str)}
    out = []
    for name in districts[s.DISTRICT]:
        if not isinstance(name, str) or not name.strip():
            out.append([])
            continue
        key = known.canonical(name) or name
        names = dict.fromkeys((*known.names(key), *own.names(name), key))
        out.append([n for n in names if n and n != name and n not in rows][:limit])
    return out


@functools.cache
def builtin() -> Gazetteer:
    """The gazetteer minemap ships: every country file in this package (``AZ.csv``...).

    >>> builtin().canonical("Агдамский район"), builtin().canonical("Ağdam rayonu")
    ('Aghdam', 'Aghdam')
    """
    pairs = []
    folder = resources.files(__package__)
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".csv") or entry.name == "unit_words.csv":
            continue
        rows = csv.DictReader(entry.read_text(encoding="utf-8").splitlines())
        pairs += [(row["district"], row["name"]) for row in rows]
    return Gazetteer(pairs)


_ACTIVE: contextvars.ContextVar[Gazetteer | None] = contextvars.ContextVar(
    "minemap_gazetteer", default=None
)


def active() -> Gazetteer:
    """The gazetteer in use: the built-in one, with what :func:`using` added."""
    return _ACTIVE.get() or builtin()


@contextlib.contextmanager
def using(extra: Gazetteer | None) -> Iterator[Gazetteer]:
    """Add names to the active gazetteer for the duration of a ``with`` block.

    Where ``extra`` and the built-in names disagree about a spelling, ``extra`` wins.
    """
    if extra is None:
        yield active()
        return
    merged = active() | extra
    token = _ACTIVE.set(merged)
    try:
        yield merged
    finally:
        _ACTIVE.reset(token)


def read_gazetteer(path) -> Gazetteer:
    """Read a gazetteer file: CSV with ``district,name`` columns, or TOML.

    CSV (UTF-8): one spelling a row under a header with ``district`` and
    ``name`` (other columns, such as ``language`` and ``source``, are ignored).
    TOML: ``district = ["name", ...]`` (or one string) at the top level, or
    under a ``[districts]`` table.

    Raises :class:`~minemap.errors.InputFileError` naming the file and the line.
    """
    path = Path(path)
    if not path.is_file():
        raise InputFileError(path, "no such file")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise InputFileError(path, f"is larger than {MAX_FILE_BYTES:,} bytes; is it a gazetteer?")
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputFileError(path, f"is not UTF-8 text (byte {exc.start})") from None
    if path.suffix.lower() == ".toml":
        return _gazetteer_toml(path, text)
    return _gazetteer_csv(path, text)


def _gazetteer_csv(path: Path, text: str) -> Gazetteer:
    lines = text.splitlines()
    if not lines:
        raise InputFileError(path, "the file is empty")
    sep = ";" if lines[0].count(";") > lines[0].count(",") else ","
    rows = csv.reader(lines, delimiter=sep)
    header = [h.strip().lower() for h in next(rows)]
    if "district" not in header or "name" not in header:
        raise InputFileError(
            path,
            "line 1: a gazetteer CSV needs the columns district,name (one spelling a row: "
            f"district is minemap's key, name one of its spellings); it has {', '.join(header)}",
        )
    d, n = header.index("district"), header.index("name")
    pairs = []
    for number, row in enumerate(rows, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) <= max(d, n) or not row[d].strip():
            raise InputFileError(path, f"line {number}: no district in {sep.join(row)!r}")
        pairs.append((row[d].strip(), row[n].strip() or row[d].strip()))
    return Gazetteer(pairs)


def _gazetteer_toml(path: Path, text: str) -> Gazetteer:
    from minemap.profile import toml_line, toml_loads

    try:
        data = toml_loads(text)
    except ValueError as exc:
        raise InputFileError(path, str(exc)) from None
    table = data.get("districts", data) if isinstance(data.get("districts"), dict) else data
    pairs = []
    for key, value in table.items():
        spellings = [value] if isinstance(value, str) else value
        if not isinstance(spellings, list) or not all(isinstance(v, str) for v in spellings):
            line = toml_line(text, (), key)
            raise InputFileError(
                path,
                f"line {line}: {key!r} must be a name or a list of names "
                '(e.g. Syunik = ["Սյունիք", "AM-SU"])',
            )
        pairs += [(key, key)] + [(key, v) for v in spellings]
    return Gazetteer(pairs)
