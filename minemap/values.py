"""Values as people write them: dates, numbers and "not known", read without a guess.

Spreadsheets and hand-kept lists write ``22.02.2024``, ``03/04/24``, ``0,75``,
``2.790,9``, ``?`` and Excel day numbers; minemap reads each of them, and
refuses what could be read two ways unless the source says which (a profile's
``date_order`` / ``decimal``, or ``--date-order`` / ``--decimal``).

* :func:`read_dates`: ISO days (``2024-02-22``, ``20240222``) always; days
  written with separators (``22.02.2024``, ``02/22/2024``, ``22.02.24``) in
  the order given, or, without one, where the column settles it (a day above
  12, one separator); Excel day numbers where the reader says the cell held a
  number.
* :func:`read_numbers`: numbers written as text with a decimal comma or
  point, digit groups separated by a dot, comma or space; ``1,157`` (a
  thousand or one?) only where the separator is given or settled by the column.
* :func:`unknown_mask`: cells meaning "not known" (``?``, ``naməlum``,
  ``неизвестно``...).

Each function takes its settings as arguments (``date_order``, ``decimal``,
``unknown``): an import profile or a command-line option passes them.
``docs/import.md`` states the rules.
"""

from __future__ import annotations

import codecs
import dataclasses
import datetime as dt
import re
import unicodedata
from collections.abc import Iterable

import numpy as np
import pandas as pd

from minemap import vocabulary
from minemap._arguments import argument

__all__ = [
    "DATE_ORDERS",
    "DECIMAL_MARKS",
    "EXCEL_FIRST_DAY",
    "DateReading",
    "NumberReading",
    "check_date_order",
    "check_decimal",
    "cpg_encoding",
    "excel_day",
    "read_dates",
    "read_numbers",
    "unknown_mask",
]

#: How a date written with separators orders its parts (``date_order``).
DATE_ORDERS = ("DMY", "MDY", "YMD")
#: Decimal separators of numbers written as text (``decimal``).
DECIMAL_MARKS = (".", ",")

#: Excel's day 0 in its 1900 date system: day 1 is 1 January 1900, and Excel counts
#: a 29 February 1900 that never was (day 60), so from day 61 on the days are
#: counted from 30 December 1899.
_EXCEL_EPOCH = dt.date(1899, 12, 30)
#: Excel day numbers read as dates: 1 January 1950 (day 18,264) to 31 December 9999.
#: A smaller number in a date column is a count or a typo, not a day of a map.
EXCEL_FIRST_DAY = 18_264
_EXCEL_LAST_DAY = 2_958_465

_NAMES = {"D": "DD", "M": "MM", "Y": "YYYY"}
_ORDER_WORDS = {"DMY": "day-first", "MDY": "month-first", "YMD": "year-first"}

#: A time of day followed by a UTC offset ("T10:00:00+04:00", "T06:00Z").
_UTC_OFFSET = r"^(.*\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)\s*(?:Z|[+-]\d{2}(?::?\d{2})?)$"
#: Year, month and day (ISO 8601, extended or basic), perhaps with a time after.
_ISO_DATE = r"^(?:\d{4}[-/]\d{1,2}[-/]\d{1,2}|\d{8})(?:$|[T ])"
#: Three numbers and one separator used twice, perhaps a time of day after.
_SEPARATED = re.compile(
    r"^(\d{1,4})([./-])(\d{1,2})\2(\d{1,4})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?)?$"
)


def check_date_order(date_order: str | None) -> str | None:
    """``date_order`` in capitals, or a :class:`ValueError` naming the choices."""
    if date_order is None:
        return None
    order = str(date_order).strip().upper()
    if order not in DATE_ORDERS:
        raise ValueError(f"date_order {date_order!r}: use one of {', '.join(DATE_ORDERS)}")
    return order


def check_decimal(decimal: str | None) -> str | None:
    """``decimal`` as given, or a :class:`ValueError` naming the choices."""
    if decimal is None:
        return None
    if decimal not in DECIMAL_MARKS:
        raise ValueError(f"decimal {decimal!r}: use '.' or ','")
    return decimal


def written_as(order: str, separator: str = ".") -> str:
    """How a date in ``order`` looks: ``DD.MM.YYYY`` for ``DMY``."""
    return separator.join(_NAMES[c] for c in order)


# --- dates ------------------------------------------------------------------------


@dataclasses.dataclass
class DateReading:
    """What :func:`read_dates` made of a column.

    Attributes
    ----------
    days
        Calendar days (``datetime64[us]``, no time), ``NaT`` where none was read.
    ambiguous
        Values refused because day and month (or year) could be swapped: the
        column did not settle their order and none was given.
    order
        The order the dates written with separators were read in, given or
        settled by the column (``None`` when there were none, or they did not
        agree on one).
    inferred
        Whether some dates written with separators were read without an order
        being given (the summary says so).
    evidence
        A value that settles the order (``22.02.2024``: no month 22), when
        ``inferred``.
    why
        Why the ambiguous values could not be settled.
    """

    days: pd.Series
    ambiguous: np.ndarray
    order: str | None = None
    inferred: bool = False
    evidence: str | None = None
    why: str = ""
    separator: str = "."

    def note(self, column: str) -> str | None:
        """The summary line for an order taken from the column, or None."""
        if not self.inferred or self.order is None:
            return None
        settled = f", as {self.evidence!r} can only be read" if self.evidence else ""
        shape = written_as(self.order, self.separator)
        return (
            f"{column}: dates read {_ORDER_WORDS[self.order]} ({shape}){settled}; "
            f'say so with date_order = "{self.order}" in the profile or '
            f"{argument('date_order', self.order)}"
        )

    def ambiguity(self, column: str, value) -> str:
        """The message for an ambiguous value of ``column``."""
        readings = _readings_text(str(value).strip())
        return (
            f"{column} {value!r} could be {readings}: {self.why}; say how the source writes "
            'dates: date_order = "DMY" (or "MDY", "YMD") in the profile, or '
            f"{argument('date_order')}"
        )


def excel_day(number: float) -> dt.date | None:
    """The day an Excel day number (1900 date system) stands for, or None.

    Day 60 is Excel's 29 February 1900, which never was; a fraction is a time
    of day, dropped.

    >>> excel_day(45344), excel_day(45344.75), excel_day(60)
    (datetime.date(2024, 2, 22), datetime.date(2024, 2, 22), None)
    """
    if not np.isfinite(number):
        return None
    whole = int(np.floor(number))
    if whole == 60 or not 1 <= whole <= _EXCEL_LAST_DAY:
        return None
    if whole < 60:
        return dt.date(1899, 12, 31) + dt.timedelta(days=whole)
    return _EXCEL_EPOCH + dt.timedelta(days=whole)


def _day(year: int, month: int, day: int) -> pd.Timestamp | None:
    try:
        stamp = pd.Timestamp(year=year, month=month, day=day)
    except (ValueError, OverflowError, pd.errors.OutOfBoundsDatetime):
        return None
    return stamp


def _full_year(text: str, this_year: int) -> int:
    """A year as written: two digits are this century up to this year, else the last."""
    year = int(text)
    if len(text) == 2:
        return 2000 + year if year <= this_year % 100 else 1900 + year
    return year


def _candidates(text: str, this_year: int) -> tuple[str, dict[str, pd.Timestamp]] | None:
    """The separator of a date written with separators, and its day in each order that fits.

    None when the text is not three numbers with one separator.
    """
    found = _SEPARATED.match(text)
    if found is None:
        return None
    a, separator, b, c = found.groups()
    out: dict[str, pd.Timestamp] = {}
    if len(a) == 4:
        if len(c) <= 2:
            day = _day(int(a), int(b), int(c))
            if day is not None:
                out["YMD"] = day
        return separator, out
    if len(a) > 2 or len(c) not in (2, 4):
        return separator, out
    year = _full_year(c, this_year)
    for order, (d, m) in (("DMY", (a, b)), ("MDY", (b, a))):
        day = _day(year, int(m), int(d))
        if day is not None:
            out[order] = day
    if len(a) == 2 and len(c) == 2:
        day = _day(_full_year(a, this_year), int(b), int(c))
        if day is not None:
            out["YMD"] = day
    return separator, out


def _readings_text(text: str) -> str:
    """``22 February 2024 or 2 February 2022`` for the readings of an ambiguous date."""
    found = _candidates(text, dt.date.today().year)
    if found is None:
        return "read two ways"
    days = sorted(set(found[1].values()))
    return " or ".join(f"{d.day} {d:%B %Y}" for d in days)


def _iso_days(text: pd.Series) -> pd.Series:
    """ISO days (extended or basic, a time and UTC offset after them dropped), else NaT."""
    text = text.str.replace(_UTC_OFFSET, r"\1", regex=True)
    # A whole day, not "2022-07" or "2022": a month or a year is not a release date.
    iso = text.where(text.str.match(_ISO_DATE).fillna(False).astype(bool))
    return pd.to_datetime(iso, errors="coerce", format="ISO8601")


def _numeric_days(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Days of the cells that hold numbers (not text): ``YYYYMMDD`` or Excel day numbers.

    Returns the days (``NaT`` elsewhere) and which cells held a number.
    """
    numeric = np.fromiter(
        (
            isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool)
            for v in values
        ),
        dtype=bool,
        count=len(values),
    )
    days = np.full(len(values), np.datetime64("NaT"), dtype="datetime64[us]")
    for i in np.flatnonzero(numeric):
        number = float(values[i])
        if not np.isfinite(number):
            continue
        if number.is_integer() and 10_000_000 <= number <= 99_991_231:
            text = str(int(number))
            day = _day(int(text[:4]), int(text[4:6]), int(text[6:]))
        else:
            whole = excel_day(number)
            day = (
                pd.Timestamp(whole)
                if whole is not None and np.floor(number) >= EXCEL_FIRST_DAY
                else None
            )
        if day is not None:
            days[i] = day.to_datetime64()
    return days, numeric


def read_dates(values: pd.Series, *, date_order: str | None = None) -> DateReading:
    """Calendar days from a column of dates as written.

    Parameters
    ----------
    values
        Text as read (a CSV), dates (a GeoPackage, a spreadsheet's date cells)
        or numbers: a cell that holds a number (not text) is an Excel day
        number (1900 date system; from 1950 on) or ``YYYYMMDD``.
    date_order
        ``"DMY"``, ``"MDY"`` or ``"YMD"``: the order of dates written with
        separators. Without it, a date is read when only one order fits it
        (``22.02.2024``), or when the column settles the order for all its
        dates written with separators (one separator, and one order that fits
        every one of them); the others are :attr:`DateReading.ambiguous`.

    Returns
    -------
    DateReading
        The days and what was inferred. ISO days (``2024-02-22``,
        ``2024/2/22``, ``20240222``, a time and a UTC offset after them
        dropped: the day as written) are read whatever the order.

    Examples
    --------
    >>> reading = read_dates(pd.Series(["22.02.2024", "03.04.2024"]))
    >>> reading.days.dt.strftime("%Y-%m-%d").tolist(), reading.order
    (['2024-02-22', '2024-04-03'], 'DMY')
    >>> read_dates(pd.Series(["03.04.2024"])).ambiguous.tolist()
    [True]
    """
    order = check_date_order(date_order)
    index = values.index
    none = np.zeros(len(values), dtype=bool)
    if pd.api.types.is_datetime64_any_dtype(values):
        days = values
        if getattr(days.dt, "tz", None) is not None:
            days = days.dt.tz_localize(None)
        return DateReading(days.dt.normalize(), none)
    raw = values.to_numpy(dtype=object)
    out = np.full(len(values), np.datetime64("NaT"), dtype="datetime64[us]")
    reading = DateReading(pd.Series(out, index=index), none.copy(), order=order)
    if pd.api.types.infer_dtype(raw, skipna=True) in ("string", "empty"):
        is_text = ~pd.isna(raw)
    else:
        is_text = _typed_days(raw, out)
    if is_text.any():
        rows = np.flatnonzero(is_text)
        texts = pd.Series(raw[rows], dtype=object).str.strip()
        # Each distinct text once: a column holds few distinct days.
        distinct = pd.unique(texts.to_numpy(dtype=object))
        iso = _iso_days(pd.Series(distinct, dtype="string")).to_numpy(dtype="datetime64[us]")
        day_of = {t: d for t, d in zip(distinct, iso, strict=True) if not np.isnat(d)}
        rest = [t for t in distinct if t not in day_of]
        unsure = _read_separated(rest, day_of, reading, order) if rest else set()
        out[rows] = texts.map(day_of).to_numpy(
            dtype="datetime64[us]", na_value=np.datetime64("NaT")
        )
        reading.ambiguous[rows] = texts.isin(unsure).to_numpy()
    reading.days = pd.Series(out, index=index).dt.normalize()
    return reading


def _typed_days(raw: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Days of the cells holding dates or numbers, into ``out``; returns which hold text."""
    # Python dates and timestamps (an object column from a spreadsheet or a workspace).
    stamps = np.fromiter(
        (isinstance(v, dt.date | pd.Timestamp | np.datetime64) for v in raw),
        dtype=bool,
        count=len(raw),
    )
    for i in np.flatnonzero(stamps):
        stamp = pd.Timestamp(raw[i])
        if stamp.tzinfo is not None:
            stamp = stamp.tz_localize(None)
        out[i] = stamp.normalize().to_datetime64()
    numeric_days, numeric = _numeric_days(raw)
    out[numeric] = numeric_days[numeric]
    return np.fromiter((isinstance(v, str) for v in raw), dtype=bool, count=len(raw))


def _year_first(text: str) -> bool:
    """A date written year first with four digits (``2024.02.22``): only one order reads it."""
    found = _SEPARATED.match(text)
    return found is not None and len(found.group(1)) == 4


def _read_separated(texts: list, day_of: dict, reading: DateReading, order: str | None) -> set:
    """Distinct dates written with separators: their days into ``day_of``; the ambiguous ones.

    ``reading`` gets the order and what settled it (or why nothing did).
    """
    this_year = dt.date.today().year
    parsed = {t: _candidates(t, this_year) for t in texts}
    found = {t: f for t, f in parsed.items() if f is not None and f[1]}
    if order is not None:
        # Given: that order, or a four-digit year first (which only one order reads).
        for t, (_, readings) in found.items():
            if order in readings:
                day_of[t] = readings[order]
            elif _year_first(t):
                day_of[t] = readings["YMD"]
        return set()
    read: dict = {}
    _settle(found, read, reading)
    day_of.update(read)
    return {t for t in found if t not in read}


def _settle(found: dict, day_of: dict, reading: DateReading) -> None:
    """Without an order: the dates only one way fits, and those the column settles.

    A column settles the order when its dates (year-first ones aside) share one
    separator and the orders that fit every one of them give each date one day.
    """
    for t, (_, readings) in found.items():
        if len(set(readings.values())) == 1:
            day_of[t] = next(iter(readings.values()))
    column = {t: f for t, f in found.items() if not _year_first(t)}
    separators = {f[0] for f in column.values()}
    fits = [o for o in DATE_ORDERS if all(o in f[1] for f in column.values())]
    unsure = [t for t in column if t not in day_of]
    if unsure:
        if len(separators) > 1:
            reading.why = (
                "the column writes dates with different separators ("
                + " ".join(sorted(separators))
                + "), perhaps in different orders"
            )
        elif not fits:
            sure = [t for t in column if len(column[t][1]) == 1]
            shown = ", ".join(f"{t!r} {_ORDER_WORDS[next(iter(column[t][1]))]}" for t in sure[:2])
            reading.why = "the column holds dates that fit no one order" + (
                f" ({shown})" if shown else ""
            )
        elif all(len({column[t][1][o] for o in fits}) == 1 for t in unsure):
            for t in unsure:
                day_of[t] = column[t][1][fits[0]]
        else:
            reading.why = (
                "the column's dates fit "
                + " and ".join(written_as(o, next(iter(separators))) for o in fits)
                + " alike"
            )
    # The order the dates were read in, where one alone fits them all.
    read = [t for t in column if t in day_of]
    agreeing = [o for o in fits if all(column[t][1].get(o) == day_of[t] for t in read)]
    if read and len(agreeing) == 1:
        reading.order = agreeing[0]
        reading.inferred = True
        reading.evidence = next((t for t in read if len(column[t][1]) == 1), None)
        reading.separator = next(iter(separators))


# --- numbers ----------------------------------------------------------------------

#: Spaces that separate groups of three digits (``12 345,6``): space, no-break space,
#: narrow no-break space, thin space, and the apostrophe Swiss writers use.
_GROUP_SPACE = re.compile(r"(?<=\d)[ \u00a0\u202f\u2009'](?=\d{3}(?:\D|$))")
_PLAIN = re.compile(r"^[+-]?\d+$")
_ONE_MARK = re.compile(r"^([+-]?)(\d+)([.,])(\d+)$")
_GROUPED = re.compile(r"^([+-]?)(\d{1,3})([.,])(\d{3}(?:\3\d{3})*)(?:([.,])(\d*))?$")


@dataclasses.dataclass
class NumberReading:
    """What :func:`read_numbers` made of a column.

    Attributes
    ----------
    numbers
        The numbers (float), NaN where none was read.
    ambiguous
        Text values refused because their mark could be a decimal or a
        thousands separator (``1,157``) and neither the setting nor the
        column settled it.
    decimal
        The decimal separator used for text values: given, or settled by the
        column (``None`` when nothing needed one).
    inferred
        Whether a decimal comma was read without being given (the summary
        says so).
    evidence
        A value that settles it (``0,75``), when ``inferred``.
    """

    numbers: pd.Series
    ambiguous: np.ndarray
    decimal: str | None = None
    inferred: bool = False
    evidence: str | None = None
    why: str = ""

    def note(self, column: str) -> str | None:
        """The summary line for a decimal comma taken from the column, or None."""
        if not self.inferred or self.decimal != ",":
            return None
        settled = f", as {self.evidence!r} can only be read" if self.evidence else ""
        return (
            f"{column}: numbers read with a decimal comma{settled}; say so with "
            f'decimal = "," in the profile or {argument("decimal", ",")}'
        )

    def ambiguity(self, column: str, value) -> str:
        text = str(value).strip()
        mark = "," if "," in text else "."
        other = "." if mark == "," else ","
        return (
            f"{column} {value!r} could be {text.replace(mark, '')} or {text.replace(mark, '.')} "
            f"({mark!r} a thousands separator or a decimal one): {self.why}; say which: "
            f'decimal = "{mark}" (or "{other}") in the profile, or {argument("decimal", mark)} '
            f"(or {argument('decimal', other)})"
        )


def _number_readings(text: str) -> dict[str, float]:
    """The value of a number written as text with each decimal mark that fits it."""
    text = _GROUP_SPACE.sub("", text)
    if _PLAIN.match(text):
        value = float(text)
        return {".": value, ",": value}
    one = _ONE_MARK.match(text)
    if one is not None:
        sign, whole, mark, rest = one.groups()
        decimal = float(f"{sign}{whole}.{rest}")
        out = {mark: decimal}
        # A thousands separator follows 1-3 digits (not a leading 0) and heads 3 digits.
        if len(rest) == 3 and len(whole) <= 3 and not whole.startswith("0"):
            out["," if mark == "." else "."] = float(f"{sign}{whole}{rest}")
        return out
    grouped = _GROUPED.match(text)
    if grouped is not None:
        sign, head, group, tail, mark, rest = grouped.groups()
        if head.startswith("0"):
            return {}
        whole = head + tail.replace(group, "")
        if mark is None:
            return {"," if group == "." else ".": float(f"{sign}{whole}")}
        if mark == group:
            return {}
        return {mark: float(f"{sign}{whole}.{rest or '0'}")}
    return {}


def read_numbers(values: pd.Series, *, decimal: str | None = None) -> NumberReading:
    """Numbers from a column of numbers, or of numbers written as text.

    Parameters
    ----------
    values
        Numbers (kept) or text: ``12``, ``0,75``, ``1.5``, ``2.790,9``,
        ``2,790.9``, ``12 345,6`` (digit groups separated by a space, a dot or
        a comma; the decimal separator last).
    decimal
        ``","`` or ``"."``: the decimal separator of the text. Without it, a
        value is read when only one separator fits it (``0,75``, ``2.790,9``:
        a decimal comma; ``1.5``: a point), and a value that fits both
        (``1,157``: 1157 or 1.157) when the column's other values settle it
        (they all fit one separator, and one alone); else it is
        :attr:`NumberReading.ambiguous`.

    Examples
    --------
    >>> reading = read_numbers(pd.Series(["0,75", "2.790,9", "1,157", "12 345,6"]))
    >>> reading.numbers.tolist(), reading.decimal
    ([0.75, 2790.9, 1.157, 12345.6], ',')
    >>> read_numbers(pd.Series(["1,157"])).ambiguous.tolist()
    [True]
    >>> read_numbers(pd.Series(["1,157"]), decimal=".").numbers.tolist()
    [1157.0]
    """
    decimal = check_decimal(decimal)
    none = np.zeros(len(values), dtype=bool)
    if values.dtype.kind in "biuf":
        return NumberReading(values.astype(float), none)
    raw = values.to_numpy(dtype=object)
    out = np.full(len(raw), np.nan)
    is_text = np.fromiter((isinstance(v, str) for v in raw), dtype=bool, count=len(raw))
    for i in np.flatnonzero(~is_text):
        value = raw[i]
        if isinstance(value, int | float | np.integer | np.floating) and not isinstance(
            value, bool
        ):
            out[i] = float(value)
    reading = NumberReading(pd.Series(out, index=values.index), none.copy(), decimal=decimal)
    rows = np.flatnonzero(is_text)
    if not len(rows):
        return reading
    texts = pd.Series(raw[rows], dtype=object).str.strip().tolist()
    readings = {t: _number_readings(t) for t in dict.fromkeys(texts)}
    chosen = decimal
    if chosen is None:
        # Values only one separator fits say which the column uses.
        sure = {t: next(iter(r)) for t, r in readings.items() if len(r) == 1}
        marks = set(sure.values())
        if len(marks) == 1:
            chosen = marks.pop()
            reading.decimal = chosen
            reading.inferred = True
            reading.evidence = next(t for t, m in sure.items() if m == chosen)
        elif marks:
            reading.why = "the column holds numbers with a decimal comma and with a decimal point"
        else:
            reading.why = "no number in the column settles it"
    value_of, unsure = {}, set()
    for t, found in readings.items():
        values_read = set(found.values())
        if chosen is not None and chosen in found:
            value_of[t] = found[chosen]
        elif decimal is None and len(values_read) == 1:
            value_of[t] = values_read.pop()
        elif decimal is None and len(found) == 2:
            unsure.add(t)
    written = pd.Series(texts, dtype=object)
    out[rows] = written.map(value_of).to_numpy(dtype=float, na_value=np.nan)
    reading.ambiguous[rows] = written.isin(unsure).to_numpy()
    reading.numbers = pd.Series(out, index=values.index)
    return reading


# --- text encodings ---------------------------------------------------------------


def cpg_encoding(text: str) -> str | None:
    """The Python codec a Shapefile's ``.cpg`` names, or None when nobody knows it.

    The names are read as GDAL's Shapefile driver reads them (``GetEncodingFromCPG``):
    a number from 437 to 950 or 1250 to 1258 is that Windows/DOS code page
    (``1251``), ``8859...`` an ISO 8859 part (``88595``, ``8859-5``), ``UTF-8``
    or ``UTF8`` is UTF-8, anything else the encoding's own name (``Big5``,
    ``KOI8-R``, ``windows-1254``). Beyond GDAL, which knows ``ANSI 1251`` only,
    ArcGIS's ``ANSI 1250`` ... ``ANSI 1258`` are those code pages (``ANSI 1254``:
    Turkish, which Azerbaijani Latin files use), and ``65001`` is UTF-8.

    Examples
    --------
    >>> [cpg_encoding(t) for t in ("88595", "ANSI 1254", "1251", "UTF-8", "CP1254", "FOO-42")]
    ['iso8859-5', 'cp1254', 'cp1251', 'utf-8', 'cp1254', None]
    """
    name = text.strip().strip("\x00").strip()
    if not name:
        return None
    upper = name.upper()
    leading = re.match(r"^\s*[+-]?(\d+)", name)  # C's atoi, as GDAL reads it
    number = int(leading.group(1)) if leading else 0
    candidates = []
    if 437 <= number <= 950 or 1250 <= number <= 1258:
        candidates.append(f"cp{number}")
    elif upper.startswith("8859"):
        candidates.append(f"iso8859-{name[5:] if name[4:5] == '-' else name[4:]}")
    elif upper.startswith(("UTF-8", "UTF8")) or upper == "65001":
        candidates.append("utf-8")
    else:
        ansi = re.match(r"^(?:ANSI|OEM)\s*(\d+)$", upper)
        if ansi:
            candidates.append(f"cp{ansi.group(1)}")
        candidates.append(name)
    for candidate in candidates:
        codec = _codec(candidate)
        if codec is not None:
            return codec
    return None


def _codec(name: str) -> str | None:
    try:
        return codecs.lookup(name).name
    except (LookupError, ValueError):
        return None


# --- not known --------------------------------------------------------------------


def _fold(text: str) -> str:
    """Text compared without case, accents or the Azerbaijani schwa's and dotless i's form."""
    text = unicodedata.normalize("NFKD", text.strip().casefold())
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = text.replace("ə", "e").replace("ı", "i").replace("ё", "е")
    return " ".join(text.split())


def unknown_mask(values: pd.Series, unknown: Iterable[str] = ()) -> np.ndarray:
    """Cells that say "not known": empty, or a token of ``unknown`` or the built-in ones.

    The built-in tokens are :func:`minemap.vocabulary.unknown_terms` (``?``,
    ``unknown``, ``n/a``, ``naməlum``, ``неизвестно``, ``нет данных``), matched
    whatever the case, accents and surrounding spaces.

    >>> unknown_mask(pd.Series(["3", " ? ", "Naməlum", None, "", "N/A"])).tolist()
    [False, True, True, True, True, True]
    """
    tokens = {_fold(t) for t in (*vocabulary.unknown_terms(), *unknown) if str(t).strip()}
    out = pd.isna(values).to_numpy().copy()
    text = values[~out]
    text = text[[isinstance(v, str) for v in text.to_numpy(dtype=object)]]
    if len(text):
        said = {
            t for t in pd.unique(text.to_numpy(dtype=object)) if not t.strip() or _fold(t) in tokens
        }
        out[values.index.get_indexer(text.index[text.isin(said)])] = True
    return out
