"""Built-in vocabularies: the words programmes write for minemap's values and columns.

Two data files beside this module hold them, one term a row, each with its
language and where it comes from (``docs/import.md`` lists the sources):

``values.csv``
    ``column,term,value,language,source``: a value as written (``açıq``,
    ``в работе``, ``ПТМ``) and the minemap value it means (``open``,
    ``worked_on``, ``AT``), for the enumerated columns (``classification``,
    ``status``, ``method``, ``item_type``).
``columns.csv``
    ``kind,column,name,language,source``: a column name seen in files
    (``Sahe_ID``, ``Статус``) and the minemap column it is, per layer kind.
``unknown.csv``
    ``term,language,source``: what a cell holds when its value is not known
    (``?``, ``naməlum``, ``неизвестно``): a count so written is not known,
    never 0 (:func:`unknown_terms`).

English is the canonical vocabulary itself (``schema.ENUM_COLUMNS`` and
``schema.COLUMN_ALIASES``); the files add other languages: Azerbaijani in
Latin (``az``) and Cyrillic (``az-Cyrl``) script, and Russian (``ru``).
Everything is matched after :func:`fold`: case, diacritics, the Azerbaijani
letters ə ı ş ç ğ ö ü, Cyrillic ё and separators do not matter.
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import unicodedata
from importlib import resources

import pandas as pd

from minemap import schema as s

__all__ = [
    "SOURCES",
    "Term",
    "column_names",
    "fold",
    "fold_words",
    "normalise_values",
    "terms",
    "unknown_terms",
    "value_lookup",
]

#: Where the terms come from, by the key in the files' ``source`` column.
SOURCES = {
    "imas": "IMAS 04.10, Glossary of mine action terms, definitions and abbreviations (English)",
    "anama": (
        "ANAMA's weekly clearance figures in their Azerbaijani and Russian editions (words "
        "such as 'piyada əleyhinə mina', 'partlamamış hərbi sursat (PHS)', 'противопехотные "
        "мины', 'очищено от мин')"
    ),
    "common": "the ordinary word of the language (a dictionary translation), not a glossary term",
    "own": (
        "minemap's own rendering: a term or abbreviation formed from the language's words, "
        "not checked against a published glossary; correct it in a profile if your "
        "programme writes it otherwise"
    ),
}

# Letters that Unicode does not decompose into a base letter and a mark. The Azerbaijani
# Latin alphabet of 1991-1992 wrote ä for ə, and code pages without ə (Windows-1254)
# force a stand-in: ä and e both fold like ə.
_FOLD_TABLE = str.maketrans(
    {"ə": "e", "Ə": "e", "ǝ": "e", "Ǝ": "e", "ä": "e", "Ä": "e"}
    | {"ı": "i", "İ": "i", "ş": "s", "Ş": "s", "ç": "c", "Ç": "c"}
    | {"ğ": "g", "Ğ": "g", "ö": "o", "Ö": "o", "ü": "u", "Ü": "u", "ё": "е", "Ё": "е"}
)


def fold_words(text: str) -> list[str]:
    """The words of a text, folded: lower case, no diacritics, no separators."""
    text = unicodedata.normalize("NFKC", text).translate(_FOLD_TABLE)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    return "".join(c if c.isalnum() else " " for c in text).split()


def fold(text: str) -> str:
    """Fold a term for matching: case, diacritics and separators do not matter.

    >>> fold("Açıq"), fold("В_работе"), fold("  TƏM "), fold("Ağdərə")
    ('aciq', 'в работе', 'tem', 'agdere')
    """
    return " ".join(fold_words(text))


@dataclasses.dataclass(frozen=True)
class Term:
    """One row of a vocabulary file."""

    what: str  # the minemap column (values.csv) or "<kind>.<column>" (columns.csv)
    term: str
    means: str
    language: str
    source: str


def _read(name: str) -> list[dict[str, str]]:
    text = resources.files(__package__).joinpath(name).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


@functools.cache
def terms() -> tuple[Term, ...]:
    """Every term of the built-in vocabularies (values, then columns)."""
    out = [
        Term(r["column"], r["term"], r["value"], r["language"], r["source"])
        for r in _read("values.csv")
    ]
    out += [
        Term(f"{r['kind']}.{r['column']}", r["name"], r["column"], r["language"], r["source"])
        for r in _read("columns.csv")
    ]
    return tuple(out)


@functools.cache
def unknown_terms() -> tuple[str, ...]:
    """What cells hold when their value is not known, in every language: built in.

    A profile's ``unknown`` adds the source's own (see :func:`minemap.values.unknown_mask`).

    >>> unknown_terms()[:3]
    ('?', 'unknown', 'n/a')
    """
    return tuple(r["term"] for r in _read("unknown.csv"))


def _allowed(column: str) -> tuple[str, ...]:
    for enums in s.ENUM_COLUMNS.values():
        if column in enums:
            return enums[column]
    return ()


@functools.cache
def value_lookup(column: str) -> dict[str, str]:
    """``{folded term: minemap value}`` for an enumerated column, every language.

    The minemap values themselves are in it (``worked_on``, ``worked on``).

    >>> value_lookup("status")["в работе"], value_lookup("method")["temizlenmis"]
    ('worked_on', 'cleared')
    """
    lookup = {}
    for value in _allowed(column):
        lookup[fold(value)] = value
        lookup[fold(value.replace("_", " "))] = value
    for term in terms():
        if term.what == column:
            lookup.setdefault(fold(term.term), term.means)
    return lookup


@functools.cache
def column_names(kind: str) -> dict[str, tuple[str, ...]]:
    """``{minemap column: names seen in files}`` of one layer kind, other languages than English.

    >>> column_names("hazards")["hazard_id"][0]
    'sahe_id'
    """
    out: dict[str, list[str]] = {}
    for term in terms():
        if term.what.startswith(f"{kind}."):
            out.setdefault(term.means, []).append(term.term)
    return {column: tuple(names) for column, names in out.items()}


def normalise_values(values: pd.Series, column: str) -> pd.Series:
    """Minemap's value for each entry of an enumerated column, ``None`` where unknown.

    >>> normalise_values(pd.Series(["Açıq", "в работе", "CLOSED", "?"]), "status").tolist()
    ['open', 'worked_on', 'closed', None]
    """
    lookup = value_lookup(column)
    text = values.astype("string").str.strip()
    distinct = text.dropna().unique()
    found = {v: lookup.get(fold(v)) for v in distinct}
    out = text.map(found).astype(object)
    return out.where(out.notna(), None)
