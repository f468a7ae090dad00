"""Weekly and monthly bulletins: figures as the press prints them.

ANAMA's bulletins reach information managers as news items: "1 395 186 m²
(139.5 hektar)", "2,263.07 hectares", "about 41,915 ha", "over 68,900 ha", and
once "453,900 hectares" for a week that released about 453.9 ha. This module
reads such a table into the canonical reports layer
(``period_start, period_end, mines_ap, mines_at, uxo, area_ha``, then
``district`` and ``source``) and never reads a number silently one way when it
could be read another:

* :func:`parse_number` reads one printed figure: thousands separators (comma,
  dot, space, no-break space, apostrophe), decimal commas ("2.790,9" is
  2790.9), units (ha, hektar, m², km²) converted to hectares, and qualifiers
  ("about", "over", "less than") kept as a flag. A figure whose separator could
  be either a thousands separator or a decimal comma ("453,900") is
  *ambiguous* unless the caller says which convention the source uses.
* :func:`read_reports` applies it to every row. A figure that reads two ways
  (one mark and three digits: "1.157", "453,900") is read by the source's
  language (a ``language`` column, a language named after the outlet, a
  language code in the source address), else by ``decimal``, else by the
  cleaned figure beside it, else by the bulletins nearest in time (the reading
  whose hectares a day come within a factor of ten of theirs); a reading by a
  convention that the neighbours contradict, and a figure nothing settles, are
  flagged (``area_ambiguous``) and left empty. ``area_reading`` says how each
  two-way figure was read. Each area is checked against a plausibility bound
  per day of the period (:data:`MAX_HA_PER_DAY`), and the reason for every
  figure it could not take is in the ``problem`` column, the figure left empty.
  Nothing is dropped: a row with a bad area keeps its mine counts.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from minemap import schema as s
from minemap._text import show
from minemap.errors import InputFileError, SchemaError

__all__ = [
    "CONFLICT_END",
    "MAX_HA_PER_DAY",
    "PERIOD_TYPES",
    "ParsedNumber",
    "parse_number",
    "read_reports",
]

#: Most hectares a bulletin may plausibly report per day of its period. ANAMA's
#: busiest published weeks are near 1,000 ha (about 140 ha a day) and the 2022
#: total is about 41,915 ha (115 ha a day); 1,000 ha a day leaves a margin of
#: seven over the busiest week and still rejects a "453,900 ha" week (64,843 a day).
MAX_HA_PER_DAY = 1_000.0

#: Start of land release in the region (the ceasefire of 10 November 2020):
#: the start assumed for a cumulative figure that states none, for plausibility.
CONFLICT_END = pd.Timestamp("2020-11-10")

#: Kinds of period a bulletin covers, with their nominal length in days (used
#: when a row gives no dates).
PERIOD_TYPES = {"week": 7, "month": 31, "year": 366, "cumulative": None}

# Column names of the reports layer that only this module adds.
_PERIOD_TYPE = "period_type"
_PERIOD_DAYS = "period_days"
_AREA_QUALIFIER = "area_qualifier"
_AREA_AS_PRINTED = "area_as_printed"
_PROBLEM = s.PROBLEM
_LANGUAGE = "language"
_OUTLET = "source_outlet"
_AREA_READING = "area_reading"
_AREA_AMBIGUOUS = "area_ambiguous"

#: Aliases of the reports columns (case-insensitive), the canonical name first.
_ALIASES = {
    s.PERIOD_START: ("period_start", "start", "from", "date_from", "week_start"),
    s.PERIOD_END: ("period_end", "end", "to", "date_to", "week_end"),
    s.MINES_AP: ("mines_ap", "ap_mines", "ap", "anti_personnel"),
    s.MINES_AT: ("mines_at", "at_mines", "at", "anti_tank"),
    s.UXO: ("uxo", "items_uxo", "unexploded_ordnance"),
    _AREA_AS_PRINTED: ("hectares_as_printed", "area_as_printed", "area_printed"),
    s.AREA_HA: ("area_ha", "hectares_cleared", "hectares", "area", "ha"),
    s.DISTRICT: ("district", "districts", "districts_reported"),
    s.SOURCE: ("source", "source_url", "url"),
    _PERIOD_TYPE: ("period_type", "period", "type"),
    _LANGUAGE: ("language", "lang", "locale", "source_language"),
    _OUTLET: ("source_outlet", "outlet", "publisher"),
}

_QUALIFIERS = (
    ("more than", "over"),
    ("over", "over"),
    ("above", "over"),
    ("at least", "over"),
    ("less than", "under"),
    ("under", "under"),
    ("nearly", "about"),
    ("almost", "about"),
    ("approximately", "about"),
    ("approx.", "about"),
    ("approx", "about"),
    ("around", "about"),
    ("about", "about"),
    ("some", "about"),
    ("~", "about"),
    ("təxminən", "about"),
    ("около", "about"),
)

#: Units and how many hectares one of them is.
_UNITS = (
    (re.compile(r"^(m²|m2|sq\.? ?m|square met(re|er)s?|kv\.? ?m|kvadrat metr)(?!\w)"), 1 / 10_000),
    (re.compile(r"^(km²|km2|sq\.? ?km|square kilomet(re|er)s?)(?!\w)"), 100.0),
    (re.compile(r"^(ha|hectares?|hektar|hektara|га|гектар\w*)(?!\w)"), 1.0),
)

# Characters printed between digit groups: space, no-break and thin spaces, apostrophes.
_SPACES = "\u0020\u00a0\u2009\u202f\u2007'\u2019"
_NUMBER = re.compile(rf"\d[\d.,{_SPACES}]*")


@dataclass(frozen=True)
class ParsedNumber:
    """One figure read from press text.

    Attributes
    ----------
    value
        The number in the unit asked for (hectares for areas), or ``None``
        when it could not be read unambiguously.
    qualifier
        ``"about"``, ``"over"`` or ``"under"`` when the text says so, else ``None``.
    problem
        Why ``value`` is ``None`` (empty when it is not).
    candidates
        The readings an ambiguous figure allows (for the message and for
        cross-checks), in the unit asked for.
    """

    value: float | None
    qualifier: str | None = None
    problem: str = ""
    candidates: tuple[float, ...] = ()


def _strip_qualifier(text: str) -> tuple[str, str | None]:
    low = text.lower()
    for word, kind in _QUALIFIERS:
        if low.startswith(word) and (
            not word[-1].isalpha() or not low[len(word) : len(word) + 1].isalpha()
        ):
            return text[len(word) :].strip(), kind
    return text, None


def _digits(text: str, decimal: str | None) -> tuple[float | None, tuple[float, ...], str]:
    """Read the digits and separators of one number: (value, candidates, problem)."""
    body = re.sub(rf"[{_SPACES}]", " ", text).strip()
    if " " in body:
        groups = body.split(" ")
        # Spaces group thousands: every group after the first has three digits
        # (a decimal part may follow the last group).
        last = groups[-1]
        tail = ""
        match = re.fullmatch(r"(\d{3})([.,]\d+)?", last)
        if match and match.group(2):
            tail, groups[-1] = match.group(2), match.group(1)
        if not (
            re.fullmatch(r"\d{1,3}", groups[0])
            and all(re.fullmatch(r"\d{3}", g) for g in groups[1:])
        ):
            return None, (), f"digit groups {show(text)} are not thousands groups"
        body = "".join(groups) + (("." + tail[1:]) if tail else "")
        return float(body), (), ""
    dots, commas = body.count("."), body.count(",")
    if dots and commas:
        # Both: the last one is the decimal mark, the other groups thousands.
        dec = "." if body.rfind(".") > body.rfind(",") else ","
        sep = "," if dec == "." else "."
        whole, _, frac = body.rpartition(dec)
        if dec in whole or not frac.isdigit() or not _grouped(whole, sep):
            return None, (), f"{show(text)} mixes separators in a way no convention writes"
        return float(whole.replace(sep, "") + "." + frac), (), ""
    if not dots and not commas:
        return float(body), (), ""
    mark = "." if dots else ","
    parts = body.split(mark)
    if len(parts) > 2:
        if not _grouped(body, mark):
            return None, (), f"{show(text)} has separators that are not thousands groups"
        return float(body.replace(mark, "")), (), ""
    whole, frac = parts
    if not whole.isdigit() or not frac.isdigit():
        return None, (), f"{show(text)} is not a number"
    if len(frac) != 3 or len(whole) > 3:
        # Not three digits after the mark (or more than three before it): a
        # thousands separator cannot stand there, so the mark is decimal.
        if len(frac) == 3 and len(whole) > 3:
            return float(f"{whole}.{frac}"), (), ""
        return float(f"{whole}.{frac}"), (), ""
    as_thousands = float(whole + frac)
    as_decimal = float(f"{whole}.{frac}")
    if decimal == mark:
        return as_decimal, (), ""
    if decimal is not None:
        return as_thousands, (), ""
    return (
        None,
        (as_thousands, as_decimal),
        (
            f"{show(text)} is ambiguous: {show(mark)} may group thousands ({as_thousands:g}) or "
            f"mark decimals ({as_decimal:g}); say which with decimal='.' or decimal=','"
        ),
    )


def _grouped(text: str, sep: str) -> bool:
    groups = text.split(sep)
    return bool(re.fullmatch(r"\d{1,3}", groups[0])) and all(
        re.fullmatch(r"\d{3}", g) for g in groups[1:]
    )


def parse_number(text: object, *, unit: str = "ha", decimal: str | None = None) -> ParsedNumber:
    """Read one figure as the press prints it.

    Parameters
    ----------
    text
        The printed figure: ``"2.790,9"``, ``"1 395 186 m² (139.5 hektar)"``,
        ``"about 41,915"``... Numbers (int, float) pass through.
    unit
        ``"ha"`` to convert areas to hectares (m² and km² are converted, a
        figure with no unit is taken as hectares) or ``"count"`` for whole
        numbers of items (a fraction is a problem).
    decimal
        The decimal mark of the source (``"."`` for English-language outlets,
        ``","`` for Azerbaijani or Russian), or ``None`` to flag figures that
        could be read either way (``"453,900"``) as ambiguous instead of guessing.

    Returns
    -------
    ParsedNumber
        ``value`` is ``None`` with a ``problem`` when the figure cannot be read.
        A text in parentheses after the figure ("(139.5 hektar)") is read too and
        must agree within 0.1 %; it also settles an ambiguous main figure.

    Examples
    --------
    >>> parse_number("2.790,9").value
    2790.9
    >>> parse_number("1 395 186 m² (139.5 hektar)").value
    139.5186
    >>> parse_number("about 41,915", decimal=".")
    ParsedNumber(value=41915.0, qualifier='about', problem='', candidates=())
    >>> parse_number("453,900").problem.split(":")[0]
    "'453,900' is ambiguous"
    """
    if decimal not in (None, ".", ","):
        raise ValueError(f"decimal must be '.', ',' or None, not {show(decimal)}")
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return ParsedNumber(None)
    if isinstance(text, int | float | np.integer | np.floating) and not isinstance(text, bool):
        return _check_count(ParsedNumber(float(text)), unit)
    raw = str(text).strip()
    if not raw:
        return ParsedNumber(None)
    main, aside = raw, ""
    paren = re.search(r"\(([^)]*)\)", raw)
    if paren:
        main = (raw[: paren.start()] + raw[paren.end() :]).strip()
        aside = paren.group(1).strip()
    first = _read_one(main, unit, decimal)
    if not aside:
        return _check_count(first, unit)
    second = _read_one(aside, unit, decimal)
    if second.value is None:
        return _check_count(first, unit)  # a remark in parentheses, not a figure
    if first.value is None:
        # The parenthesised figure settles an ambiguous main figure if it matches a reading.
        for candidate in first.candidates:
            if _agree(candidate, second.value):
                return _check_count(ParsedNumber(candidate, first.qualifier), unit)
        return first
    if not _agree(first.value, second.value):
        return ParsedNumber(
            None,
            first.qualifier,
            f"{show(raw)} gives two figures that disagree: {first.value:g} and {second.value:g}",
        )
    return _check_count(first, unit)


def _agree(a: float, b: float) -> bool:
    # Press conversions round ("1 395 186 m² (139.5 hektar)"): agree to 0.1 %.
    return abs(a - b) <= 1e-3 * max(abs(a), abs(b)) + 1e-9


def _read_one(text: str, unit: str, decimal: str | None) -> ParsedNumber:
    rest, qualifier = _strip_qualifier(text.strip())
    match = _NUMBER.search(rest)
    if match is None or rest[: match.start()].strip(" +"):
        return ParsedNumber(None, qualifier, f"{show(text)} is not a number")
    number = match.group(0).rstrip(f".,{_SPACES}")
    after = rest[match.start() + len(number) :].strip().lower()
    factor = 1.0
    if unit == "ha" and after:
        for pattern, to_ha in _UNITS:
            if pattern.match(after):
                factor = to_ha
                break
        else:
            return ParsedNumber(None, qualifier, f"{show(text)} has an unknown unit {show(after)}")
    elif unit != "ha" and after:
        return ParsedNumber(None, qualifier, f"{show(text)} is not a plain count")
    value, candidates, problem = _digits(number, decimal)
    if value is None:
        return ParsedNumber(None, qualifier, problem, tuple(c * factor for c in candidates))
    # Divide for m² so that 1 395 186 m² is exactly 139.5186 ha, not 139.51860000000002.
    return ParsedNumber(value / (1 / factor) if factor < 1 else value * factor, qualifier)


# --- whose convention: the source's language, then neighbouring periods --------------------

#: ISO 639-1 languages whose decimal mark is a comma, and those whose mark is a point.
_DECIMAL_COMMA = frozenset(
    {
        "az", "ru", "es", "fr", "de", "tr", "it", "pt", "uk", "ka", "hy", "nl", "pl", "cs",
        "sk", "sv", "fi", "da", "nb", "nn", "no", "ro", "hu", "el", "bg", "sr", "hr", "bs",
        "sl", "id", "vi", "kk", "uz", "be", "lt", "lv", "et", "ky", "tk", "mn",
    }
)  # fmt: skip
_DECIMAL_POINT = frozenset({"en", "zh", "ja", "ko", "he", "th", "hi", "ms"})
#: Regional exceptions (CLDR): language-REGION with the other mark.
_REGIONAL = {"es-mx": ".", "es-us": ".", "de-ch": ".", "fr-ch": ".", "it-ch": ".", "en-za": ","}
#: Language names as sources and collectors write them.
_LANGUAGE_NAMES = {
    "english": "en", "spanish": "es", "español": "es", "espanol": "es", "castellano": "es",
    "russian": "ru", "русский": "ru", "azerbaijani": "az", "azeri": "az", "azərbaycan": "az",
    "azərbaycanca": "az", "turkish": "tr", "türkçe": "tr", "french": "fr", "français": "fr",
    "german": "de", "deutsch": "de", "italian": "it", "italiano": "it", "portuguese": "pt",
    "português": "pt", "ukrainian": "uk", "українська": "uk", "georgian": "ka", "armenian": "hy",
    "polish": "pl", "dutch": "nl", "romanian": "ro", "chinese": "zh", "japanese": "ja",
    "korean": "ko", "hebrew": "he",
}  # fmt: skip
_LANGUAGE_NAMES_ADJ = {"en": "English", "es": "Spanish", "ru": "Russian", "az": "Azerbaijani"}
#: Per-day rates of the neighbouring bulletins a reading must come within (either way).
_NEIGHBOUR_FACTOR = 10.0
_NEIGHBOURS = 6
_MIN_NEIGHBOURS = 3


def _language(given: object, outlet: object, url: object) -> tuple[str, str, str] | None:
    """(language code, decimal mark, how it is known) of a row's source, or None.

    From a ``language``/``locale`` column ("es", "es-ES", "Spanish"), else a language named in
    parentheses after the outlet ("Report.az (Azerbaijani)"), else a language code as the
    first label of the URL's host ("en.trend.az") or its first path segment ("/es/...").
    """

    def known(text: str) -> tuple[str, str] | None:
        text = text.strip().lower().replace("_", "-")
        if not text:
            return None
        code = _LANGUAGE_NAMES.get(text, text.split("-")[0])
        mark = _REGIONAL.get(text)
        if mark is None:
            mark = "," if code in _DECIMAL_COMMA else "." if code in _DECIMAL_POINT else None
        return (code, mark) if mark else None

    if isinstance(given, str) and (found := known(given)):
        return (*found, "the row's language")
    if isinstance(outlet, str):
        for inner in re.findall(r"\(([^)]*)\)", outlet):
            name = inner.strip().lower()
            if name in _LANGUAGE_NAMES and (found := known(name)):
                return (*found, "the outlet's language")
    if isinstance(url, str):
        match = re.match(r"^[a-z][a-z0-9+.-]*://([^/?#]+)(/[^/?#]*)?", url.strip().lower())
        if match:
            host, path = match.group(1), (match.group(2) or "/")[1:]
            for label in (host.split(".")[0], path):
                if len(label) == 2 and (found := known(label)):
                    return (*found, "the source address")
    return None


@dataclass
class _Area:
    """One row's area through the reading steps."""

    value: float | None
    qualifier: str | None = None
    printed: str | None = None
    reading: str | None = None
    problem: str = ""
    candidates: tuple[float, ...] = ()
    #: Read without a convention or a neighbour's help: fit to judge other rows by.
    settled: bool = False
    #: Read by a convention that chose between two readings (checked against neighbours).
    by_convention: bool = False
    #: Rejected by the bound with another reading possible.
    rejected: bool = False
    pending: bool = False
    text: str = ""
    span: float | None = None
    ambiguous: bool = False


def _mark_reading(text: str, value: float, candidates: tuple[float, ...], why: str) -> str:
    """How a dot-or-comma figure was read, e.g. "'.' read as a thousands separator: ..."."""
    mark = "." if "." in text else ","
    role = "a thousands separator" if value == max(candidates) else "the decimal mark"
    return f"{show(mark)} read as {role}: {why}"


def _first_reading(text, cleaned_text, language, decimal, span, kind, max_ha_per_day) -> _Area:
    has_text = isinstance(text, str) and text.strip() != ""
    raw = text if has_text else cleaned_text
    shown = raw.strip() if isinstance(raw, str) else raw
    # The collector's cleaned figure beside a printed one is a plain number.
    cleaned = parse_number(cleaned_text, decimal=decimal or ".") if has_text else ParsedNumber(None)
    blind = parse_number(raw)
    area = _Area(None, blind.qualifier, text.strip() if has_text else None, text=str(shown))
    area.span = span
    if blind.value is None and blind.candidates:
        area.candidates = blind.candidates
        mark = language[1] if language else decimal
        if mark is not None:
            parsed = parse_number(raw, decimal=mark)
            area.value, area.qualifier, area.by_convention = parsed.value, parsed.qualifier, True
            style = "decimal comma" if mark == "," else "decimal point"
            why = (
                f"the source is {_LANGUAGE_NAMES_ADJ.get(language[0], language[0])}-language "
                f"({language[2]}: {style})"
                if language
                else f"decimal {show(mark)} given for the sources ({style})"
            )
            area.reading = _mark_reading(str(raw), parsed.value, blind.candidates, why)
        else:
            matched = [
                c
                for c in blind.candidates
                if cleaned.value is not None and _agree(c, cleaned.value)
            ]
            if matched:
                area.value, area.settled = matched[0], True
                area.reading = f"as the cleaned figure beside it reads it ({cleaned.value:g} ha)"
            else:
                area.pending = True
                area.problem = blind.problem
                return area
    else:
        parsed = parse_number(raw, decimal=(language[1] if language else decimal))
        area.value, area.problem = parsed.value, parsed.problem
        area.qualifier = parsed.qualifier
        area.settled = area.value is not None
    disagree = area.value is not None and cleaned.value is not None
    if has_text and disagree and not _agree(area.value, cleaned.value):
        area.problem = (
            f"area as printed {show(text)} ({area.value:g} ha) disagrees with the cleaned "
            f"figure {cleaned.value:g} ha"
        )
        area.value, area.settled, area.by_convention = None, False, False
    if area.value is not None and span is not None and area.value > max_ha_per_day * span:
        area.problem = (
            f"area {show(area.text)} read as {area.value:,.0f} ha is implausible for a "
            f"{span:.0f}-day {kind} (more than {max_ha_per_day:,.0f} ha a day)"
        )
        if area.candidates or (isinstance(raw, str) and ("," in raw or "." in raw)):
            area.problem += "; a decimal comma may have been read as a thousands separator"
        area.rejected = bool(area.candidates)
        area.ambiguous = area.rejected
        area.value, area.settled, area.by_convention = None, False, False
    return area


def _settle_by_neighbours(areas: list[_Area], spans, ends, max_ha_per_day: float) -> None:
    """Resolve or check the two-way figures against the bulletins nearest in time.

    The neighbours are the (up to six) rows nearest by end date whose area was read
    without help; their median hectares a day is the pace a reading must come within
    a factor of ten of. Two readings differ a thousandfold, so at most one can.
    """
    known = [
        (j, ends.iloc[j], a.value / spans[j])
        for j, a in enumerate(areas)
        if a.settled and spans[j] and not pd.isna(ends.iloc[j])
    ]

    def pace(i: int) -> float | None:
        if pd.isna(ends.iloc[i]) or not spans[i]:
            return None
        nearest = sorted((abs((end - ends.iloc[i]).days), rate) for j, end, rate in known if j != i)
        if len(nearest) < _MIN_NEIGHBOURS:
            return None
        return float(np.median([rate for _, rate in nearest[:_NEIGHBOURS]]))

    def fits(value: float, i: int, median: float) -> bool:
        rate = value / spans[i]
        return median / _NEIGHBOUR_FACTOR <= rate <= median * _NEIGHBOUR_FACTOR and (
            rate <= max_ha_per_day
        )

    for i, area in enumerate(areas):
        if not (area.pending or area.by_convention or area.rejected):
            continue
        median = pace(i)
        fitting = [c for c in area.candidates if fits(c, i, median)] if median is not None else []
        if area.pending:
            if len(fitting) == 1:
                value = fitting[0]
                area.value, area.problem, area.pending = value, "", False
                area.reading = _mark_reading(
                    area.text,
                    value,
                    area.candidates,
                    f"by the neighbouring bulletins ({value / spans[i]:,.0f} ha a day; "
                    f"the nearest in time released a median {median:,.0f} ha a day)",
                )
            else:
                area.ambiguous = True
                area.problem += (
                    "; the neighbouring bulletins do not settle it"
                    if median is not None
                    else "; too few dated bulletins near it to settle it"
                )
        elif area.by_convention and median is not None and area.value is not None:
            others = [c for c in fitting if c != area.value]
            if not fits(area.value, i, median) and others:
                area.problem = (
                    f"area {show(area.text)} read as {area.value:g} ha ({area.reading}) is "
                    f"{area.value / spans[i]:,.2f} ha a day, against a median "
                    f"{median:,.0f} ha a day in the neighbouring bulletins; {others[0]:g} ha "
                    "would fit them: check the source's convention"
                )
                area.value, area.reading, area.ambiguous = None, None, True
        elif area.rejected and fitting:
            area.problem += f"; {fitting[0]:g} ha would fit the neighbouring bulletins"


def _check_count(parsed: ParsedNumber, unit: str) -> ParsedNumber:
    if unit != "count" or parsed.value is None:
        return parsed
    if parsed.value < 0 or parsed.value != int(parsed.value):
        return ParsedNumber(None, parsed.qualifier, f"{parsed.value:g} is not a whole count")
    return parsed


# --- reading a bulletins table ----------------------------------------------------


def _find_columns(frame: pd.DataFrame) -> dict[str, str]:
    lower = {str(c).strip().lower(): c for c in frame.columns}
    found: dict[str, str] = {}
    for canonical, aliases in _ALIASES.items():
        for alias in aliases:
            if alias in lower and lower[alias] not in found.values():
                found[canonical] = lower[alias]
                break
    return found


def _dates(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parsed days and, per row, whether a non-empty value failed to parse."""
    text = values.astype("string").str.strip()
    parsed = pd.to_datetime(text, errors="coerce", format="%Y-%m-%d")
    bad = text.notna() & (text != "") & parsed.isna()
    return parsed.dt.normalize(), bad


def _districts(value: object) -> tuple[str, list[str]]:
    """Canonical district names joined by ';', and the names not recognised."""
    if not isinstance(value, str) or not value.strip():
        return "", []
    names, unknown = [], []
    for part in re.split(r"[;,/]", value):
        part = part.strip()
        if not part:
            continue
        key = s.canonical_district(part)
        if key is None:
            unknown.append(part)
        elif key not in names:
            names.append(key)
    return ";".join(names), unknown


def _period_type(start, end, given) -> str:
    if isinstance(given, str) and given.strip().lower() in PERIOD_TYPES:
        return given.strip().lower()
    if pd.isna(start):
        return "cumulative" if not pd.isna(end) else "week"
    days = (end - start).days + 1 if not pd.isna(end) else None
    if days is None or days <= 14:
        return "week"
    return "month" if days <= 45 else "year" if days <= 400 else "cumulative"


def read_reports(
    path: str | Path,
    *,
    decimal: str | None = None,
    max_ha_per_day: float = MAX_HA_PER_DAY,
    today=None,
) -> pd.DataFrame:
    """Read a bulletins CSV into the canonical reports layer.

    Parameters
    ----------
    path
        A CSV with one row per bulletin. Columns are matched case-insensitively:
        ``period_start``, ``period_end``, ``mines_ap`` (``ap_mines``),
        ``mines_at`` (``at_mines``), ``uxo``, ``area_ha`` (``hectares_cleared``),
        ``hectares_as_printed`` (the figure as printed, read in preference to a
        cleaned ``area_ha``/``hectares_cleared`` figure and checked against it),
        ``district`` (``districts_reported``, names separated by ``;``),
        ``source`` (``source_url``), ``source_outlet``, ``language``
        (``locale``), ``period_type`` (week, month, year, cumulative).
    decimal
        The decimal mark of the sources whose language is not known (``"."`` or
        ``","``), or ``None``. A row's own language (``language`` column, the
        language in parentheses after ``source_outlet``, a language code in the
        source address) comes first. Without either, a cleaned ``area_ha``
        column beside the printed figure, or else the neighbouring bulletins,
        settle a figure such as "453,900"; otherwise it is flagged.
    max_ha_per_day
        Plausibility bound: an area above this many hectares per day of the
        period is rejected (its reason in ``problem``). A period without dates
        uses its type's nominal length; a cumulative figure without a start
        counts from :data:`CONFLICT_END`.
    today
        A period that ends after this day (default: today) is flagged: a bulletin
        reports the past, so its dates are wrong.

    Returns
    -------
    pandas.DataFrame
        One row per input row, in order: ``period_start, period_end, mines_ap,
        mines_at, uxo, area_ha, district, source``, then ``period_type``,
        ``period_days``, ``area_qualifier`` (about/over/under), ``area_as_printed``,
        ``problem`` (empty when every figure of the row was read), ``language``
        (of the source, when known), ``area_reading`` (how a two-way figure was
        read) and ``area_ambiguous`` (a two-way figure left out). A figure that
        could not be read is left empty, never guessed.

    Raises
    ------
    InputFileError
        The file cannot be read as CSV.
    SchemaError
        A required column (period end, area or a count) is missing.

    Examples
    --------
    >>> import io
    >>> csv = io.StringIO("period_start,period_end,ap_mines,at_mines,uxo,hectares_as_printed\\n"
    ...                   "2023-08-14,2023-08-20,234,103,53,\\"453,900\\"\\n")
    >>> table = read_reports(csv, decimal=".")
    >>> bool(table["area_ha"].isna()[0]), table.loc[0, "problem"][:40]
    (True, "area '453,900' read as 453,900 ha is imp")
    """
    frame = _read_csv(path)
    name = getattr(path, "name", None) or str(path)
    columns = _find_columns(frame)
    _require_columns(frame, columns, name)

    def column(key: str) -> pd.Series:
        if key in columns:
            return frame[columns[key]]
        return pd.Series([None] * len(frame), index=frame.index, dtype=object)

    starts, bad_start = _dates(column(s.PERIOD_START))
    ends, bad_end = _dates(column(s.PERIOD_END))
    problems: list[list[str]] = [[] for _ in range(len(frame))]
    for i in np.flatnonzero(bad_start.to_numpy()):
        problems[i].append(f"period_start {show(column(s.PERIOD_START).iloc[i])} is not a date")
    for i in np.flatnonzero(bad_end.to_numpy()):
        problems[i].append(f"period_end {show(column(s.PERIOD_END).iloc[i])} is not a date")

    out = pd.DataFrame(index=range(len(frame)))
    out[s.PERIOD_START] = starts.to_numpy()
    out[s.PERIOD_END] = ends.to_numpy()
    types, days = _periods(starts, ends, bad_end, column(_PERIOD_TYPE), problems)

    last_day = pd.Timestamp(today or pd.Timestamp.now().date()).normalize()
    for i in np.flatnonzero((ends > last_day).to_numpy()):
        problems[i].append(f"period_end {ends.iloc[i]:%Y-%m-%d} is in the future")

    for key in (s.MINES_AP, s.MINES_AT, s.UXO):
        out[key] = _counts(column(key), key, decimal, problems)

    languages = [
        _language(column(_LANGUAGE).iloc[i], column(_OUTLET).iloc[i], column(s.SOURCE).iloc[i])
        for i in range(len(frame))
    ]
    spans = [
        days[i] if not np.isnan(days[i]) else PERIOD_TYPES[types[i]] for i in range(len(frame))
    ]
    areas = [
        _first_reading(
            column(_AREA_AS_PRINTED).iloc[i],
            column(s.AREA_HA).iloc[i],
            languages[i],
            decimal,
            spans[i],
            types[i],
            max_ha_per_day,
        )
        for i in range(len(frame))
    ]
    _settle_by_neighbours(areas, spans, ends, max_ha_per_day)
    for i, area in enumerate(areas):
        if area.problem:
            problem = area.problem
            problems[i].append(problem if problem.startswith("area") else f"area {problem}")
    out[s.AREA_HA] = np.asarray([np.nan if a.value is None else a.value for a in areas], float)
    qualifiers = [a.qualifier for a in areas]
    printed = [a.printed for a in areas]

    out[s.DISTRICT] = _district_lists(column(s.DISTRICT), problems)
    out[s.SOURCE] = pd.array(
        [v.strip() if isinstance(v, str) and v.strip() else None for v in column(s.SOURCE)],
        dtype="string",
    )
    out[_PERIOD_TYPE] = types
    out[_PERIOD_DAYS] = days
    out[_AREA_QUALIFIER] = pd.array(qualifiers, dtype="string")
    out[_AREA_AS_PRINTED] = pd.array(printed, dtype="string")
    out[_PROBLEM] = ["; ".join(p) for p in problems]
    out[_LANGUAGE] = pd.array([lang[0] if lang else None for lang in languages], dtype="string")
    out[_AREA_READING] = pd.array([a.reading for a in areas], dtype="string")
    out[_AREA_AMBIGUOUS] = [a.ambiguous for a in areas]
    return out


def _require_columns(frame: pd.DataFrame, columns: dict, name: str) -> None:
    """Raise :class:`SchemaError` if the bulletins have no area or no period_end column."""
    present = ", ".join(map(str, frame.columns))
    if s.AREA_HA not in columns and _AREA_AS_PRINTED not in columns:
        raise SchemaError(
            f"{name}: no area column; expected one of area_ha, hectares_cleared, "
            f"hectares_as_printed (columns present: {present})"
        )
    if s.PERIOD_END not in columns:
        raise SchemaError(f"{name}: no period_end column (columns present: {present})")


def _periods(
    starts: pd.Series,
    ends: pd.Series,
    bad_end: pd.Series,
    given_types: pd.Series,
    problems: list[list[str]],
) -> tuple[list[str], list[float]]:
    """``(period types, period days)`` of every bulletin.

    A period's days count both ends; a cumulative figure without a start counts
    from :data:`CONFLICT_END`. A period ending before it starts, or without
    dates, has no length (NaN) and a problem.
    """
    types, days = [], []
    for i in range(len(starts)):
        start, end = starts.iloc[i], ends.iloc[i]
        kind = _period_type(start, end, given_types.iloc[i])
        types.append(kind)
        if not pd.isna(start) and not pd.isna(end):
            if end < start:
                problems[i].append(f"period_end {end:%Y-%m-%d} is before period_start")
                days.append(np.nan)
            else:
                days.append(float((end - start).days + 1))
        elif pd.isna(end):
            if not bad_end.iloc[i]:
                problems[i].append(f"no dates for this {kind} figure")
            days.append(np.nan)
        else:
            days.append(float((end - CONFLICT_END).days + 1) if kind == "cumulative" else np.nan)
    return types, days


def _counts(
    texts: pd.Series, key: str, decimal: str | None, problems: list[list[str]]
) -> pd.arrays.IntegerArray:
    """A count column (mines or UXO) read as integers; a figure not read is empty."""
    values = []
    for i, text in enumerate(texts):
        parsed = parse_number(text, unit="count", decimal=decimal or ".")
        if parsed.problem:
            problems[i].append(f"{key} {parsed.problem}")
        values.append(parsed.value)
    return pd.array([None if v is None else int(v) for v in values], dtype="Int64")


def _district_lists(values: pd.Series, problems: list[list[str]]) -> pd.arrays.StringArray:
    """The district column: the known names of each bulletin, unknown ones a problem."""
    district_names = []
    for i, value in enumerate(values):
        names, unknown = _districts(value)
        if unknown:
            problems[i].append(f"unknown district name(s): {', '.join(unknown)}")
        district_names.append(names or None)
    return pd.array(district_names, dtype="string")


def _read_csv(path) -> pd.DataFrame:
    name = getattr(path, "name", None) or str(path)
    if isinstance(path, str | Path) and not Path(path).is_file():
        raise InputFileError(name, "no such file")
    try:
        raw = Path(path).read_bytes() if isinstance(path, str | Path) else path.read()
        text = raw.decode("utf-8-sig") if isinstance(raw, bytes) else raw.lstrip("\ufeff")
    except UnicodeDecodeError as exc:
        raise InputFileError(
            name, f"is not UTF-8 text (byte {exc.start}); save the CSV as UTF-8"
        ) from None
    if not text.strip():
        raise InputFileError(name, "the file is empty; expected a CSV of bulletins")
    # Spreadsheets set to a decimal comma (Azerbaijani, Russian) save with semicolons.
    header = text.splitlines()[0]
    sep = "\t" if "\t" in header else (";" if header.count(";") > header.count(",") else ",")
    try:
        return pd.read_csv(
            io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, na_values=[""]
        )
    except pd.errors.EmptyDataError:
        raise InputFileError(name, "the file is empty; expected a CSV of bulletins") from None
    except (pd.errors.ParserError, ValueError) as exc:
        raise InputFileError(name, f"not a readable CSV ({str(exc).splitlines()[0]})") from None
