"""Dates, numbers and "not known" as people write them (minemap.values)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minemap._arguments import spelled_as
from minemap.cli import OPTIONS
from minemap.values import (
    excel_day,
    read_dates,
    read_numbers,
    unknown_mask,
)


def _days(reading) -> list:
    return [None if pd.isna(d) else d.strftime("%Y-%m-%d") for d in reading.days]


# --- dates ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "day"),
    [
        ("22.02.2024", "2024-02-22"),
        ("22/02/2024", "2024-02-22"),
        ("22-02-2024", "2024-02-22"),
        ("2024-02-22", "2024-02-22"),
        ("2024.02.22", "2024-02-22"),
        ("22.02.2024 14:30", "2024-02-22"),
        ("02/22/2024", "2024-02-22"),  # month first: only one order fits
        ("31.12.99", "1999-12-31"),
    ],
)
def test_a_date_only_one_order_fits_is_read(written, day):
    assert _days(read_dates(pd.Series([written]))) == [day]


def test_a_day_first_column_settles_its_ambiguous_dates():
    reading = read_dates(pd.Series(["22.02.2024", "03.04.2024", "2024-05-01", None]))
    assert _days(reading) == ["2024-02-22", "2024-04-03", "2024-05-01", None]
    assert reading.order == "DMY"
    assert reading.inferred
    note = reading.note("released_on")
    assert "released_on" in note
    assert "day-first (DD.MM.YYYY)" in note
    assert "date_order" in note
    assert "date_order='DMY'" in note  # the library's own argument
    assert "--" not in note
    with spelled_as(OPTIONS):  # while a command runs: its option
        assert "--date-order DMY" in reading.note("released_on")


def test_a_month_first_column_is_read_month_first():
    reading = read_dates(pd.Series(["02/22/2024", "03/04/2024"]))
    assert _days(reading) == ["2024-02-22", "2024-03-04"]
    assert reading.order == "MDY"


@pytest.mark.parametrize(
    ("column", "why"),
    [
        (["03.04.2024", "05.06.2024"], "fit DD.MM.YYYY and MM.DD.YYYY alike"),
        (["22.02.2024", "03/04/2024"], "different separators"),
        (["22.02.2024", "02.23.2024", "03.04.2024"], "fit no one order"),
        (["22.02.24", "13.05.24", "03.04.24"], "alike"),  # 22 Feb 2024 or 2022-02-24
    ],
)
def test_a_column_that_does_not_settle_the_order_is_refused(column, why):
    reading = read_dates(pd.Series(column))
    assert reading.ambiguous[-1]
    assert pd.isna(reading.days.iloc[-1])
    message = reading.ambiguity("released_on", column[-1])
    assert why in message
    assert "date_order" in message
    assert "date_order=..." in message
    with spelled_as(OPTIONS):
        assert "--date-order DMY|MDY|YMD" in reading.ambiguity("released_on", column[-1])


def test_a_given_order_wins_and_refuses_what_does_not_fit_it():
    reading = read_dates(pd.Series(["03.04.2024", "22.02.2024", "2024.02.22"]), date_order="MDY")
    assert _days(reading) == ["2024-03-04", None, "2024-02-22"]
    assert not reading.ambiguous.any()
    assert _days(read_dates(pd.Series(["24.02.22"]), date_order="YMD")) == ["2024-02-22"]
    with pytest.raises(ValueError, match="DMY, MDY, YMD"):
        read_dates(pd.Series(["1.2.2024"]), date_order="DYM")


def test_excel_day_numbers_only_where_the_cell_held_a_number():
    reading = read_dates(pd.Series([45344, 45344.75, 20220718, 60, 1000, "45344"], dtype=object))
    assert _days(reading) == ["2024-02-22", "2024-02-22", "2022-07-18", None, None, None]
    # A whole numeric column (a spreadsheet's number cells).
    assert _days(read_dates(pd.Series([45344.0, np.nan]))) == ["2024-02-22", None]


def test_excel_1900_leap_year_bug():
    # Excel counts a 29 February 1900 (day 60): day 59 is the 28th, day 61 1 March.
    assert excel_day(59) == dt.date(1900, 2, 28)
    assert excel_day(60) is None
    assert excel_day(61) == dt.date(1900, 3, 1)
    assert excel_day(1) == dt.date(1900, 1, 1)


_ORDERS = {"DMY": "%d{s}%m{s}%Y", "MDY": "%m{s}%d{s}%Y", "YMD": "%Y{s}%m{s}%d"}


@settings(max_examples=300, deadline=None)
@given(
    days=st.lists(st.dates(dt.date(1950, 1, 1), dt.date(2049, 12, 31)), min_size=1, max_size=12),
    order=st.sampled_from(["DMY", "MDY", "YMD"]),
    separator=st.sampled_from([".", "/", "-"]),
    short_year=st.booleans(),
)
def test_inference_never_swaps_day_and_month(days, order, separator, short_year):
    # True dates written in one order: each comes back as itself, or is refused.
    pattern = _ORDERS[order].format(s=separator)
    if short_year:
        pattern = pattern.replace("%Y", "%y")
        this_year = dt.date.today().year % 100
        # Two-digit years mean this century up to this year: keep to those.
        days = [d for d in days if (d.year >= 2000) == (d.year % 100 <= this_year)]
        if not days:
            return
    written = [d.strftime(pattern) for d in days]
    reading = read_dates(pd.Series(written))
    for day, read, refused in zip(days, reading.days, reading.ambiguous, strict=True):
        if pd.isna(read):
            assert refused
        else:
            assert read.date() == day
    if reading.inferred:
        assert reading.order == order


# --- numbers ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "number"),
    [
        ("0,75", 0.75),
        ("1,5", 1.5),
        ("2.790,9", 2790.9),
        ("2,790.9", 2790.9),
        ("12 345,6", 12345.6),
        ("12\u00a0345,6", 12345.6),
        ("1.234.567", 1234567.0),
        ("0.157", 0.157),
        ("-3,25", -3.25),
        ("42", 42.0),
    ],
)
def test_a_number_only_one_separator_fits_is_read(written, number):
    assert read_numbers(pd.Series([written])).numbers.tolist() == [number]


def test_a_decimal_comma_column_is_read_so_with_a_note():
    reading = read_numbers(pd.Series(["0,75", "1,157", "3"]))
    assert reading.numbers.tolist() == [0.75, 1.157, 3.0]
    assert reading.decimal == ","
    assert reading.inferred
    note = reading.note("area_ha")
    assert "area_ha" in note
    assert "decimal comma" in note
    assert "decimal=','" in note
    with spelled_as(OPTIONS):
        assert "--decimal ," in reading.note("area_ha")


def test_a_two_way_number_is_refused_naming_the_option():
    reading = read_numbers(pd.Series(["1,157", "12"]))
    assert reading.ambiguous.tolist() == [True, False]
    message = reading.ambiguity("area_ha", "1,157")
    assert "1157 or 1.157" in message
    assert "decimal=','" in message
    assert "(or decimal='.')" in message
    with spelled_as(OPTIONS):
        assert "--decimal , (or --decimal .)" in reading.ambiguity("area_ha", "1,157")
    assert "decimal =" in message


def test_a_given_decimal_decides():
    comma = read_numbers(pd.Series(["1,157", "1.157", "1.5"]), decimal=",")
    assert comma.numbers.tolist()[:2] == [1.157, 1157.0]
    assert np.isnan(comma.numbers.iloc[2])  # "1.5" is no number with a decimal comma
    point = read_numbers(pd.Series(["1,157", "1.157"]), decimal=".")
    assert point.numbers.tolist() == [1157.0, 1.157]


def test_typed_numbers_are_kept():
    assert read_numbers(pd.Series([1.5, 2.0])).numbers.tolist() == [1.5, 2.0]
    mixed = read_numbers(pd.Series([1.5, "2,5"], dtype=object))
    assert mixed.numbers.tolist() == [1.5, 2.5]


@settings(max_examples=300, deadline=None)
@given(
    numbers=st.lists(
        st.decimals(min_value=0, max_value=10**7, places=3, allow_nan=False), min_size=1
    ),
    comma=st.booleans(),
    grouped=st.booleans(),
)
def test_numbers_are_never_misread(numbers, comma, grouped):
    # Numbers written with one convention come back as themselves, or are refused.
    def write(n) -> str:
        text = f"{n:,.3f}".rstrip("0").rstrip(".") if grouped else f"{n:.3f}".rstrip("0")
        text = text.rstrip(".")
        if comma:
            text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
        return text

    reading = read_numbers(pd.Series([write(n) for n in numbers]))
    for n, read, refused in zip(numbers, reading.numbers, reading.ambiguous, strict=True):
        assert refused or read == pytest.approx(float(n), rel=1e-12, abs=1e-9)


# --- not known --------------------------------------------------------------------


def test_unknown_tokens():
    values = pd.Series(["?", "Naməlum", "NAMƏLUM", "неизвестно", "Нет данных", "n/a", "x", "0"])
    assert unknown_mask(values).tolist() == [True] * 6 + [False, False]
    assert unknown_mask(pd.Series(["x", "-"]), unknown=["x"]).tolist() == [True, False]
