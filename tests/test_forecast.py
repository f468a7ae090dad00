"""minemap.forecast: completion dates with a range, computed by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minemap import schema as s
from minemap.errors import SchemaError
from minemap.forecast import POOLED, forecast
from minemap.progress import progress
from tests.common import box, districts, hazards, releases

DATES = (s.COMPLETION_EARLIEST, s.COMPLETION_CENTRAL, s.COMPLETION_LATEST)


def _day(value) -> str:
    """A completion cell as text: YYYY-MM-DD, or "" when empty."""
    return "" if pd.isna(value) else f"{pd.Timestamp(value):%Y-%m-%d}"


MONDAY = pd.Timestamp("2024-01-01")


def _table(series: dict[str, list[float]], remaining: dict[str, float], as_of=None):
    """A weekly progress table (method ``all`` rows) from weekly released hectares.

    Districts other than ``all`` get an ``all`` total as :func:`progress` writes it.
    """
    if set(series) != {s.ALL}:
        weeks = len(next(iter(series.values())))
        series = {**series, s.ALL: [sum(w[i] for w in series.values()) for i in range(weeks)]}
        remaining = {**remaining, s.ALL: sum(remaining.values())}
    rows = []
    for district, weekly in series.items():
        left = remaining[district] + sum(weekly)
        cumulative = 0.0
        for i, released in enumerate(weekly):
            cumulative += released
            rows.append(
                {
                    s.PERIOD: MONDAY + pd.Timedelta(weeks=i),
                    s.DISTRICT: district,
                    s.METHOD: s.ALL,
                    s.RELEASED_HA: released,
                    s.CUMULATIVE_RELEASED_HA: cumulative,
                    s.REMAINING_HA: left - cumulative,
                    s.ITEMS_AP: 0,
                    s.ITEMS_AT: 0,
                    s.ITEMS_UXO: 0,
                }
            )
    table = pd.DataFrame(rows, columns=list(s.PROGRESS_COLUMNS))
    table.attrs["period"] = "week"
    if as_of is not None:
        table.attrs["as_of"] = as_of
    return table


#: 39 weeks at 4 ha, 9 weeks at 10 ha, 4 weeks at 16 ha: 52 weeks ending Sunday 2024-12-29.
SERIES = [4.0] * 39 + [10.0] * 9 + [16.0] * 4


def test_known_answer():
    """Rates and dates worked out by hand.

    r4 = 16; r13 = (9*10 + 4*16)/13 = 154/13 = 11.846; r52 = (39*4 + 154)/52 = 310/52 = 5.9615.
    sd of the last 13 weeks = sqrt(99.6923/12) = 2.8823, so the 80 % interval of the mean is
    11.846 ± 1.2816*2.8823/sqrt(13) = [10.822, 12.871]. Rates range from 5.9615 to 16.
    1000 ha left on 2024-12-29: central 1000/11.846*7 = 590.9 days -> 591 -> 2026-08-12;
    earliest 1000/16*7 = 437.5 -> 438 days -> 2026-03-12;
    latest 1000/5.9615*7 = 1174.2 -> 1175 days -> 2028-03-18.
    """
    out = forecast(_table({"Aghdam": SERIES}, {"Aghdam": 1000.0}))
    assert tuple(out.columns[:6]) == s.FORECAST_COLUMNS
    row = out.iloc[0]
    assert row[s.DISTRICT] == "Aghdam"
    assert row[s.REMAINING_HA] == pytest.approx(1000.0)
    assert row[s.RATE_HA_PER_WEEK] == pytest.approx(154 / 13)
    assert row["rate_4w_ha_per_week"] == pytest.approx(16.0)
    assert row["rate_13w_ha_per_week"] == pytest.approx(154 / 13)
    assert row["rate_52w_ha_per_week"] == pytest.approx(310 / 52)
    assert row["rate_low_ha_per_week"] == pytest.approx(10.8216, abs=1e-3)
    assert row["rate_high_ha_per_week"] == pytest.approx(12.8707, abs=1e-3)
    assert _day(row[s.COMPLETION_CENTRAL]) == "2026-08-12"
    assert _day(row[s.COMPLETION_EARLIEST]) == "2026-03-12"
    assert _day(row[s.COMPLETION_LATEST]) == "2028-03-18"
    assert pd.isna(row["note"])
    assert row["weeks_of_history"] == 52
    assert out.attrs["as_of"] == "2024-12-29"


def test_constant_rate_gives_one_date():
    """10 ha a week for 52 weeks, 70 ha left: 7 weeks, 49 days after Sunday 2024-12-29."""
    out = forecast(_table({"Fuzuli": [10.0] * 52}, {"Fuzuli": 70.0}))
    row = out.iloc[0]
    assert row[s.COMPLETION_EARLIEST] == row[s.COMPLETION_CENTRAL] == row[s.COMPLETION_LATEST]
    assert _day(row[s.COMPLETION_CENTRAL]) == "2025-02-16"


def test_zero_rate_is_an_empty_date_with_a_note_and_done_is_the_day_it_finished():
    out = forecast(
        _table(
            {"Shusha": [5.0] * 10 + [0.0] * 13, "Lachin": [5.0] * 23},
            {"Shusha": 100.0, "Lachin": 0.0},
        )
    ).set_index(s.DISTRICT)
    assert out.loc["Shusha", s.RATE_HA_PER_WEEK] == 0
    for column in DATES:
        assert pd.isna(out.loc["Shusha", column])
        # Lachin released its last hectares in the week of Monday 3 June 2024 (week 23).
        assert _day(out.loc["Lachin", column]) == "2024-06-09"
    assert "no estimate" in out.loc["Shusha", "note"]
    assert "no ground released in the last 13 weeks" in out.loc["Shusha", "note"]
    assert out.loc["Lachin", "note"].startswith("done")
    assert np.isnan(out.loc["Shusha", "rate_52w_ha_per_week"])  # 23 weeks of history only


def test_slowest_rate_zero_leaves_latest_open():
    """The last 4 weeks released nothing: the pace may have stopped, so no latest date."""
    out = forecast(_table({"Kalbajar": [10.0] * 9 + [0.0] * 4}, {"Kalbajar": 50.0}))
    row = out.iloc[0]
    assert row["rate_4w_ha_per_week"] == 0
    assert pd.isna(row[s.COMPLETION_LATEST])
    assert not pd.isna(row[s.COMPLETION_CENTRAL])
    assert "latest" in row["note"]
    assert "may have stopped" in row["note"]


def test_partial_last_week_left_out():
    """As of Wednesday, the week begun on Monday is partial: its rate does not count."""
    series = [10.0] * 13 + [1.0]
    out = forecast(_table({"Tartar": series}, {"Tartar": 70.0}), as_of="2024-04-03")
    row = out.iloc[0]
    assert row["weeks_of_history"] == 13
    assert row[s.RATE_HA_PER_WEEK] == pytest.approx(10.0)
    # 70 ha left at 10 ha a week from Wednesday 3 April 2024: 49 days.
    assert _day(row[s.COMPLETION_CENTRAL]) == "2024-05-22"


def test_as_of_before_the_end_uses_earlier_weeks():
    table = _table({"Zangilan": [2.0] * 13 + [20.0] * 13}, {"Zangilan": 100.0})
    early = forecast(table, as_of="2024-03-31").iloc[0]  # Sunday of week 13
    assert early[s.RATE_HA_PER_WEEK] == pytest.approx(2.0)
    assert early[s.REMAINING_HA] == pytest.approx(100.0 + 13 * 20.0)


def test_no_hazards_no_estimate():
    table = _table({"all": [5.0] * 20}, {"all": 0.0})
    table[s.REMAINING_HA] = np.nan
    row = forecast(table).iloc[0]
    assert pd.isna(row[s.COMPLETION_CENTRAL])
    assert "no hazards" in row["note"]
    assert row[s.RATE_HA_PER_WEEK] == pytest.approx(5.0)


def test_refuses_monthly_tables():
    table = _table({"all": [5.0] * 4}, {"all": 10.0})
    table.attrs["period"] = "month"
    with pytest.raises(ValueError, match="weekly"):
        forecast(table)


def test_refuses_other_tables():
    with pytest.raises(SchemaError, match="missing column"):
        forecast(pd.DataFrame({"district": ["A"]}))


def test_end_to_end_from_polygons():
    """Two weeks releasing 1 ha then 3 ha of a 10 ha hazard: 6 ha left at 2 ha a week."""
    hz = hazards(box(0, 0, 1000, 100))
    rel = releases(
        box(0, 0, 100, 100),
        box(100, 0, 400, 100),
        dates=["2024-01-01", "2024-01-14"],
        methods=["cleared", "reduced"],
    )
    ds = districts(["Aghdam"], [box(-10, -10, 2000, 200)])
    weekly = progress(hz, rel, ds)
    out = forecast(weekly).set_index(s.DISTRICT)
    assert out.loc["Aghdam", s.REMAINING_HA] == pytest.approx(6.0, rel=1e-7)
    assert out.loc["Aghdam", s.RATE_HA_PER_WEEK] == pytest.approx(2.0, rel=1e-7)
    # 3 weeks after Sunday 14 January (rounded up to the day).
    assert _day(out.loc["Aghdam", s.COMPLETION_CENTRAL]) == "2024-02-04"
    assert list(out.index) == ["Aghdam", s.ALL, POOLED]
    assert out.loc[s.ALL, s.COMPLETION_CENTRAL] == out.loc["Aghdam", s.COMPLETION_CENTRAL]


# --- the total: never before one of its parts -------------------------------------------


def test_the_total_finishes_when_its_last_district_does():
    """Fuzuli releases 10 ha a week with 100 ha left, Tartar 1 ha a week with 100 ha left.

    Pooled, 200 ha at 11 ha a week would be done in 19 weeks; but Tartar alone needs 100
    weeks: the total is done when Tartar is. The pooled view has its own labelled row.
    """
    out = forecast(
        _table({"Fuzuli": [10.0] * 13, "Tartar": [1.0] * 13}, {"Fuzuli": 100.0, "Tartar": 100.0})
    ).set_index(s.DISTRICT)
    for column in DATES:
        assert out.loc[s.ALL, column] == out.loc["Tartar", column]
        assert out.loc[s.ALL, column] >= out.loc["Fuzuli", column]
    assert "Tartar" in out.loc[s.ALL, "note"]
    # Sunday 31 March 2024 + 200/11 weeks (127.3 days) -> 128 days.
    assert _day(out.loc[POOLED, s.COMPLETION_CENTRAL]) == "2024-08-06"
    assert out.loc[POOLED, s.REMAINING_HA] == pytest.approx(200.0)
    assert out.loc[POOLED, s.RATE_HA_PER_WEEK] == pytest.approx(11.0)
    assert "pooled" in out.loc[POOLED, "note"]


def test_the_total_is_unknown_when_a_district_is():
    out = forecast(
        _table(
            {"Fuzuli": [10.0] * 13, "Shusha": [0.0] * 13, "Lachin": [5.0] * 13},
            {"Fuzuli": 100.0, "Shusha": 50.0, "Lachin": 0.0},
        )
    ).set_index(s.DISTRICT)
    for column in DATES:
        assert pd.isna(out.loc[s.ALL, column])
    assert "Shusha" in out.loc[s.ALL, "note"]
    assert "Fuzuli" not in out.loc[s.ALL, "note"]
    assert not pd.isna(out.loc[POOLED, s.COMPLETION_CENTRAL])


@settings(max_examples=60, deadline=None)
@given(
    districts=st.dictionaries(
        st.sampled_from(["Aghdam", "Fuzuli", "Jabrayil", "Tartar", "(unassigned)"]),
        st.tuples(
            st.lists(st.sampled_from([0.0, 0.5, 2.0, 10.0, 40.0]), min_size=13, max_size=60),
            st.sampled_from([0.0, 1.0, 30.0, 400.0, 5000.0]),
        ),
        min_size=1,
        max_size=5,
    )
)
def test_the_total_never_finishes_before_a_part(districts):
    """Any districts, paces and remaining ground: the total's date is the last of its parts'
    (each of earliest, central, latest), or empty when any part's is. A district with no
    hazard ground mapped is no part of the total."""
    lengths = {len(w) for w, _ in districts.values()}
    weeks = min(lengths)
    table = _table(
        {d: w[-weeks:] for d, (w, _) in districts.items()},
        {d: left for d, (_, left) in districts.items()},
    )
    out = forecast(table).set_index(s.DISTRICT)
    assert set(out.index) == {*districts, s.ALL, POOLED}
    parts = out.drop(index=[s.ALL, POOLED])
    parts = parts[~parts["note"].fillna("").str.startswith("no hazard ground mapped")]
    for column in DATES:
        total = out.loc[s.ALL, column]
        if parts.empty:
            assert pd.isna(total)
        elif parts[column].isna().any():
            assert pd.isna(total)
            assert "no estimate" in out.loc[s.ALL, "note"]
        else:
            assert total == parts[column].max()
            assert (total >= parts[column]).all()
    # Every empty date says why.
    for district, row in out.iterrows():
        if row[list(DATES)].isna().any():
            assert isinstance(row["note"], str), district
            assert row["note"], district


def test_the_sample_total_is_not_before_its_districts():
    """Issue 12: on the sample the all row finished in 2029 while districts were still being
    cleared in 2043 or had no estimate."""
    from minemap import datasets

    weekly = progress(
        datasets.hazards(), datasets.releases(), datasets.districts(), as_of="2024-06-30"
    )
    out = forecast(weekly).set_index(s.DISTRICT)
    parts = out.drop(index=[s.ALL, POOLED])
    for column in DATES:
        known = parts[column].dropna()
        if parts.loc[parts[s.REMAINING_HA] > 0, column].isna().any():
            assert pd.isna(out.loc[s.ALL, column])
        else:
            assert out.loc[s.ALL, column] == known.max()
    assert "no estimate" in out.loc[s.ALL, "note"]
    assert not pd.isna(out.loc[POOLED, s.COMPLETION_CENTRAL])
