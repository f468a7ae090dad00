"""minemap.bulletins: press figures read without guessing.

``tests/data/anama_reports.csv`` holds ANAMA's weekly, monthly and yearly figures
as reprinted by the press, with the source page of each row (see
``tests/data/anama_reports.md``).
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minemap import schema as s
from minemap.bulletins import MAX_HA_PER_DAY, parse_number, read_reports
from minemap.errors import InputFileError, SchemaError

DATA = Path(__file__).parent / "data"
REPORTS = DATA / "anama_reports.csv"


@pytest.fixture(scope="module")
def real():
    return read_reports(REPORTS)


def _row(table: pd.DataFrame, start: str | None, end: str | None) -> pd.Series:
    match = np.ones(len(table), dtype=bool)
    for column, value in ((s.PERIOD_START, start), (s.PERIOD_END, end)):
        match &= (
            table[column].isna().to_numpy()
            if value is None
            else (table[column] == pd.Timestamp(value)).to_numpy()
        )
    assert match.sum() == 1
    return table[match].iloc[0]


# --- the real bulletins -------------------------------------------------------------


def test_real_columns_and_rows(real):
    assert list(real.columns[:8]) == [
        s.PERIOD_START,
        s.PERIOD_END,
        s.MINES_AP,
        s.MINES_AT,
        s.UXO,
        s.AREA_HA,
        s.DISTRICT,
        s.SOURCE,
    ]
    assert len(real) == len(pd.read_csv(REPORTS))  # nothing dropped
    assert "problem" in real.columns


def test_real_square_metres_converted(real):
    row = _row(real, "2021-05-10", "2021-05-16")
    assert row[s.AREA_HA] == pytest.approx(139.5186)
    assert row["problem"] == ""
    assert row[s.MINES_AP] == 82
    assert row[s.MINES_AT] == 5
    assert row[s.UXO] == 24
    assert row[s.DISTRICT].split(";") == [
        "Tartar",
        "Aghdam",
        "Fuzuli",
        "Shusha",
        "Gubadli",
        "Jabrayil",
        "Zangilan",
    ]


def test_real_ambiguous_week_is_read_by_its_neighbours_and_says_so(real):
    """'453,900' with no convention given: 453,900 ha or 453.9 ha. The weeks around it
    released 46-126 ha a day; 453.9 ha is 65 ha a day, 453,900 ha 64,843: it is 453.9,
    and the row says how it was read."""
    row = _row(real, "2023-08-14", "2023-08-20")
    assert row[s.AREA_HA] == pytest.approx(453.9)
    assert "neighbouring bulletins" in row["area_reading"]
    assert not row["area_ambiguous"]
    assert row["problem"] == ""
    # The counts of the same row are kept.
    assert (row[s.MINES_AP], row[s.MINES_AT], row[s.UXO]) == (234, 103, 53)


def test_an_ambiguous_figure_with_nothing_to_settle_it_is_flagged_not_guessed():
    table = read_reports(_csv('period_start,period_end,area_ha\n2023-08-14,2023-08-20,"453,900"\n'))
    row = table.iloc[0]
    assert np.isnan(row[s.AREA_HA])
    assert row["area_ambiguous"]
    assert "ambiguous" in row["problem"]
    assert "453900" in row["problem"]
    assert "453.9" in row["problem"]


#: Four weeks of 500-1,000 ha, as the English-language press prints them.
WEEKS = (
    "period_start,period_end,hectares_as_printed,source_outlet,source_url\n"
    "2023-03-06,2023-03-12,754,Trend,https://en.trend.az/a\n"
    '2023-03-13,2023-03-19,"1,126",Trend,https://en.trend.az/b\n'
    "2023-03-20,2023-03-26,616.3,Trend,https://en.trend.az/c\n"
    "2023-04-03,2023-04-09,487.7,Trend,https://en.trend.az/d\n"
)


@pytest.mark.parametrize(
    ("outlet", "url", "language"),
    [
        ("El País (Spanish)", "https://elpais.com/x", "es"),
        ("Europa Press", "https://www.europapress.es/es/x", "es"),
        ("Report.az (Azerbaijani)", "https://report.az/x", "az"),
        ("Sputnik", "https://ru.sputnik.az/x", "ru"),
    ],
)
def test_a_dot_and_three_digits_is_read_by_the_source_language(outlet, url, language):
    """Issue 12: '1.157' from a Spanish-language outlet is 1,157 ha, not 1.157 ha, even when
    the other sources are English (--decimal .): the row's own language comes first."""
    text = WEEKS + f"2023-03-27,2023-04-02,1.157,{outlet},{url}\n"
    for decimal in (None, "."):
        row = read_reports(_csv(text), decimal=decimal).iloc[-1]
        assert row[s.AREA_HA] == 1157, decimal
        assert row["language"] == language
        assert "decimal comma" in row["area_reading"]
        assert row["problem"] == ""


def test_a_language_column_names_the_convention():
    text = "period_start,period_end,area_ha,language\n2023-03-27,2023-04-02,1.157,es-ES\n"
    row = read_reports(_csv(text)).iloc[0]
    assert row[s.AREA_HA] == 1157
    assert row["language"] == "es"


def test_without_a_language_the_neighbouring_weeks_settle_it():
    text = WEEKS + "2023-03-27,2023-04-02,1.157,Agencia EFE,https://efe.com/x\n"
    row = read_reports(_csv(text)).iloc[-1]
    assert row[s.AREA_HA] == 1157
    assert "neighbouring bulletins" in row["area_reading"]


def test_a_convention_the_neighbours_contradict_is_flagged_not_read_silently():
    """--decimal . says '1.157' is 1.157 ha; for a week among weeks of 500-1,000 ha that is
    a thousandth of its neighbours, and 1,157 ha would fit: flagged, left out."""
    text = WEEKS + "2023-03-27,2023-04-02,1.157,Agencia EFE,https://efe.com/x\n"
    row = read_reports(_csv(text), decimal=".").iloc[-1]
    assert np.isnan(row[s.AREA_HA])
    assert row["area_ambiguous"]
    assert "1157" in row["problem"]
    assert "neighbouring" in row["problem"]
    # The English weeks themselves are read as printed.
    table = read_reports(_csv(text), decimal=".")
    assert table[s.AREA_HA].iloc[:4].tolist() == [754, 1126, 616.3, 487.7]


def test_real_implausible_week_with_english_convention(real):
    table = read_reports(REPORTS, decimal=".")
    row = _row(table, "2023-08-14", "2023-08-20")
    assert np.isnan(row[s.AREA_HA])
    assert row["area_ambiguous"]
    assert "implausible" in row["problem"]
    assert "7-day week" in row["problem"]
    # The other reading is offered, not taken.
    assert "453.9 ha would fit the neighbouring bulletins" in row["problem"]
    # The English convention reads the rest as the collector did.
    assert _row(table, "2023-03-13", "2023-03-25")[s.AREA_HA] == 1126
    assert _row(table, "2022-12-01", "2022-12-30")[s.AREA_HA] == pytest.approx(2263.07)


def test_real_qualifiers_kept(real):
    year = _row(real, "2022-01-01", "2022-12-31")
    assert year[s.AREA_HA] == 41915
    assert year["area_qualifier"] == "about"
    assert year["period_type"] == "year"
    assert year["period_days"] == 365
    total = _row(real, None, "2023-03-06")
    assert total[s.AREA_HA] == 68900
    assert total["area_qualifier"] == "over"
    assert total["period_type"] == "cumulative"
    assert total["problem"] == ""


def test_real_missing_dates_and_blank_counts(real):
    undated = real[real[s.PERIOD_END].isna()]
    assert len(undated) == 1
    assert undated.iloc[0][s.AREA_HA] == 413
    assert "no dates" in undated.iloc[0]["problem"]
    garbled = _row(real, "2023-10-23", "2023-10-29")
    assert pd.isna(garbled[s.MINES_AP])
    assert garbled[s.UXO] == 2427
    no_area = _row(real, "2023-01-01", "2023-01-30")
    assert np.isnan(no_area[s.AREA_HA])
    assert no_area["problem"] == ""


def test_real_problems_are_exactly_the_one_known(real):
    """The undated week; '453,900' is read by its neighbours (and says so)."""
    flagged = real[real["problem"] != ""]
    assert len(flagged) == 1
    assert "no dates" in flagged.iloc[0]["problem"]
    assert real["area_ambiguous"].sum() == 0
    # Each figure that could be read two ways says how it was read: by its source's
    # language (Trend's English site, en.trend.az), or by the neighbouring weeks.
    readings = real.set_index(s.PERIOD_END)["area_reading"].dropna()
    assert len(readings) == 4
    for end in ("2023-03-25", "2022-12-31", "2023-03-06"):
        assert "English-language" in readings[pd.Timestamp(end)], end
        assert "thousands separator" in readings[pd.Timestamp(end)], end
    assert "neighbouring bulletins" in readings[pd.Timestamp("2023-08-20")]
    assert real.set_index(s.PERIOD_END).loc[pd.Timestamp("2023-03-25"), "language"] == "en"


# --- the number parser ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "decimal", "value", "qualifier"),
    [
        ("2.790,9", None, 2790.9, None),
        ("2,790.9", None, 2790.9, None),
        ("1 395 186 m²", None, 139.5186, None),
        ("1\u00a0395\u00a0186 m2", None, 139.5186, None),
        ("1 395 186 m² (139.5 hektar)", None, 139.5186, None),
        ("12,5 km²", None, 1250.0, None),
        ("139.5", None, 139.5, None),
        ("616,3", None, 616.3, None),
        ("1,234,567", None, 1234567.0, None),
        ("1.234.567,25", None, 1234567.25, None),
        ("1'234.5", None, 1234.5, None),
        ("about 41,915", ".", 41915.0, "about"),
        ("over 68,900 ha", ".", 68900.0, "over"),
        ("more than 5 hectares", None, 5.0, "over"),
        ("less than 2", None, 2.0, "under"),
        ("453,900", ",", 453.9, None),
        ("453,900", ".", 453900.0, None),
        ("2.790", ",", 2790.0, None),
        (41915, None, 41915.0, None),
    ],
)
def test_parse_known(text, decimal, value, qualifier):
    parsed = parse_number(text, decimal=decimal)
    assert parsed.problem == ""
    assert parsed.value == pytest.approx(value, rel=1e-12)
    assert parsed.qualifier == qualifier


@pytest.mark.parametrize(
    ("text", "unit", "fragment"),
    [
        ("453,900", "ha", "ambiguous"),
        ("2.790", "ha", "ambiguous"),
        ("12 34", "ha", "not thousands groups"),
        ("1,23,456", "ha", "not thousands groups"),
        ("1.234,5.6", "ha", "no convention"),
        ("twelve", "ha", "not a number"),
        ("12 acres", "ha", "unknown unit"),
        ("1 395 186 m² (200 ha)", "ha", "disagree"),
        ("12.5", "count", "not a whole count"),
        ("12 mines", "count", "not a plain count"),
    ],
)
def test_parse_refuses(text, unit, fragment):
    parsed = parse_number(text, unit=unit)
    assert parsed.value is None
    assert fragment in parsed.problem


def test_parse_parenthesis_settles_ambiguity():
    # The hectares in parentheses say which reading of the ambiguous main figure is meant.
    parsed = parse_number("453,900 ha (453.9 ha)")
    assert parsed.value == pytest.approx(453.9)
    assert parsed.problem == ""


def test_parse_empty_is_missing_without_problem():
    for empty in (None, "", "  ", float("nan")):
        parsed = parse_number(empty)
        assert parsed.value is None
        assert parsed.problem == ""


def test_parse_rejects_bad_decimal_option():
    with pytest.raises(ValueError, match="decimal"):
        parse_number("1", decimal=";")


def _group(digits: str, sep: str) -> str:
    head = len(digits) % 3 or 3
    return sep.join([digits[:head], *(digits[i : i + 3] for i in range(head, len(digits), 3))])


#: (thousands separator, decimal mark) of the styles the press uses.
STYLES = {
    "english": (",", "."),
    "continental": (".", ","),
    "azerbaijani": (" ", ","),
    "no-break space": ("\u00a0", ","),
    "swiss": ("'", "."),
    "plain": ("", "."),
}


@given(
    whole=st.integers(min_value=0, max_value=10**9),
    cents=st.one_of(st.none(), st.integers(min_value=0, max_value=99)),
    style=st.sampled_from(sorted(STYLES)),
    qualifier=st.sampled_from(["", "about ", "over "]),
)
def test_parse_round_trip(whole, cents, style, qualifier):
    """A number formatted in a locale style parses back to itself given that style's mark."""
    sep, mark = STYLES[style]
    text = _group(str(whole), sep)
    value = float(whole)
    if cents is not None:
        text += f"{mark}{cents:02d}"
        value += cents / 100
    parsed = parse_number(qualifier + text + " ha", decimal=mark)
    assert parsed.problem == ""
    assert parsed.value == pytest.approx(value, rel=1e-12, abs=1e-9)
    assert parsed.qualifier == (qualifier.strip() or None)
    # Without the convention, the parser reads it or says it is ambiguous, never wrong.
    blind = parse_number(text, decimal=None)
    if blind.value is None:
        assert "ambiguous" in blind.problem
        assert any(c == pytest.approx(value) for c in blind.candidates)
    else:
        assert blind.value == pytest.approx(value, rel=1e-12, abs=1e-9)


@given(m2=st.integers(min_value=1, max_value=10**9))
def test_square_metres_round_trip(m2):
    parsed = parse_number(_group(str(m2), " ") + " m²", decimal=",")
    assert parsed.value == pytest.approx(m2 / 10_000, rel=1e-12)


# --- plausibility and file errors -------------------------------------------------------


def _csv(text: str) -> io.StringIO:
    return io.StringIO(text)


def test_plausibility_bound_per_day():
    week_limit = MAX_HA_PER_DAY * 7
    table = read_reports(
        _csv(
            "period_start,period_end,mines_ap,mines_at,uxo,area_ha\n"
            f"2023-01-02,2023-01-08,1,1,1,{week_limit - 1:.0f}\n"
            f"2023-01-02,2023-01-08,1,1,1,{week_limit + 1:.0f}\n"
            f"2023-01-01,2023-01-31,1,1,1,{week_limit + 1:.0f}\n"
        ),
        decimal=".",
    )
    assert table[s.AREA_HA].iloc[0] == week_limit - 1
    assert np.isnan(table[s.AREA_HA].iloc[1])
    assert "implausible" in table["problem"].iloc[1]
    assert table[s.AREA_HA].iloc[2] == week_limit + 1  # a month may hold it


def test_bad_rows_are_flagged():
    table = read_reports(
        _csv(
            "period_start,period_end,ap,at,uxo,area_ha,district\n"
            "2023-01-08,2023-01-02,1,1,1,5,Aghdam\n"
            "2023-13-01,2023-01-02,1.5,1,1,5,Atlantis\n"
        )
    )
    assert "before period_start" in table["problem"].iloc[0]
    problem = table["problem"].iloc[1]
    assert "not a date" in problem
    assert "whole count" in problem
    assert "Atlantis" in problem
    assert pd.isna(table[s.MINES_AP].iloc[1])


def test_cleaned_figure_disagreeing_with_printed_is_flagged():
    table = read_reports(
        _csv(
            "period_start,period_end,hectares_cleared,hectares_as_printed\n2023-01-02,2023-01-08,50,60\n"
        )
    )
    assert np.isnan(table[s.AREA_HA].iloc[0])
    assert "disagrees" in table["problem"].iloc[0]


def test_semicolon_csv_from_a_decimal_comma_spreadsheet(tmp_path):
    path = tmp_path / "bulletins.csv"
    path.write_bytes(
        "\ufeffPeriod_Start;Period_End;AP_Mines;Hectares\n"
        "2022-01-01;2022-01-31;1 234;2.790,9\n"
        "2022-02-01;2022-02-28;12;1 395 186 m²\n".encode()
    )
    table = read_reports(path, decimal=",")
    assert table[s.AREA_HA].tolist() == [2790.9, 139.5186]
    assert table[s.MINES_AP].tolist() == [1234, 12]
    assert table["problem"].tolist() == ["", ""]


def test_a_period_in_the_future_is_flagged_not_dropped():
    table = read_reports(
        _csv(
            "period_start,period_end,area_ha\n2026-11-23,2026-11-29,50\n2026-11-16,2026-11-22,40\n"
        ),
        today=dt.date(2026, 11, 25),
    )
    assert table["problem"].tolist() == ["period_end 2026-11-29 is in the future", ""]
    assert table[s.AREA_HA].tolist() == [50.0, 40.0]


def test_a_bulletin_not_in_utf8_names_the_file(tmp_path):
    path = tmp_path / "cp1251.csv"
    path.write_bytes("period_end,area_ha,district\n2022-01-07,5,Агдам\n".encode("cp1251"))
    with pytest.raises(InputFileError, match=r"cp1251\.csv: is not UTF-8 text"):
        read_reports(path)


def test_missing_file(tmp_path):
    with pytest.raises(InputFileError, match="no such file"):
        read_reports(tmp_path / "none.csv")


def test_empty_file(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("")
    with pytest.raises(InputFileError, match="empty"):
        read_reports(path)


def test_no_area_column():
    with pytest.raises(SchemaError, match="no area column"):
        read_reports(_csv("period_start,period_end,uxo\n2023-01-02,2023-01-08,1\n"))


def test_input_not_modified(tmp_path):
    before = REPORTS.read_bytes()
    read_reports(REPORTS)
    assert REPORTS.read_bytes() == before
