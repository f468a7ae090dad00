"""minemap.charts: the burn-down checked on the data behind it, not on pixels."""

from __future__ import annotations

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
import pytest

from minemap import schema as s
from minemap.charts import burndown, chart_svgs
from minemap.forecast import forecast
from minemap.progress import progress
from tests.common import box, districts, hazards, releases


@pytest.fixture
def table():
    """Two 10 ha hazards (districts A and B); 1 ha cleared in A on Tuesday 4 January 2022,
    2 ha in B on Monday 10 January, 1 ha in A on Wednesday 19 January; as of Friday 21."""
    hz = hazards(box(0, 0, 1000, 100), box(2000, 0, 3000, 100))
    rel = releases(
        box(0, 0, 100, 100),
        box(2000, 0, 2200, 100),
        box(100, 0, 200, 100),
        dates=["2022-01-04", "2022-01-10", "2022-01-19"],
    )
    ds = districts(["A", "B"], [box(-100, -100, 1500, 200), box(1500, -100, 6000, 200)])
    return progress(hz, rel, ds, as_of="2022-01-21")


def _line(ax, gid):
    (line,) = [a for a in ax.get_lines() if a.get_gid() == gid]
    x = pd.to_datetime(np.asarray(line.get_xdata()))
    return x, np.asarray(line.get_ydata(), dtype=float)


def _days(values) -> list[str]:
    return [f"{pd.Timestamp(v):%Y-%m-%d}" for v in values]


def test_the_burndown_starts_at_the_mapped_total_and_puts_each_week_at_its_end(table):
    fig = burndown(table)
    top, bottom = fig.axes[:2]
    x, y = _line(top, "burndown-all")
    # The mapped 20 ha on Monday 3 January, before anything was released; then the end of
    # each week (Sunday), the last week ending on the as-of day (Friday 21 January).
    assert _days(x) == ["2022-01-03", "2022-01-09", "2022-01-16", "2022-01-21"]
    assert y == pytest.approx([20.0, 19.0, 17.0, 16.0])
    x, y = _line(bottom, "burndown-A")
    assert _days(x) == ["2022-01-03", "2022-01-09", "2022-01-16", "2022-01-21"]
    assert y == pytest.approx([10.0, 9.0, 9.0, 8.0])


def test_a_monthly_burndown_puts_each_month_at_its_last_day(table):
    hz = hazards(box(0, 0, 1000, 100))
    rel = releases(box(0, 0, 100, 100), box(100, 0, 300, 100), dates=["2022-01-04", "2022-02-10"])
    monthly = progress(hz, rel, period="month", as_of="2022-02-20")
    x, y = _line(burndown(monthly).axes[0], "burndown-all")
    assert _days(x) == ["2022-01-01", "2022-01-31", "2022-02-20"]
    assert y == pytest.approx([10.0, 9.0, 7.0])


def test_the_burndown_draws_the_forecast_range():
    """The range computed (earliest to latest) is drawn from the as-of point, the central
    date dashed within it, and the bounds are the forecast's. 1, 1 and 1.2 ha in three
    weeks of a 10 ha hazard, as of Sunday 23 January 2022: 6.8 ha left."""
    hz = hazards(box(0, 0, 1000, 100))
    rel = releases(
        box(0, 0, 100, 100),
        box(100, 0, 200, 100),
        box(200, 0, 320, 100),
        dates=["2022-01-04", "2022-01-11", "2022-01-18"],
    )
    table = progress(hz, rel, as_of="2022-01-23")
    outlook = forecast(table).set_index(s.DISTRICT).loc[s.ALL]
    assert not pd.isna(outlook[s.COMPLETION_LATEST])
    top = burndown(table).axes[0]
    (fill,) = [c for c in top.collections if c.get_gid() == "forecast-range"]
    xy = np.vstack([p.vertices for p in fill.get_paths()])
    days = mdates.num2date(xy[:, 0])
    assert f"{min(days):%Y-%m-%d}" == "2022-01-23"  # from the as-of day
    assert f"{max(days):%Y-%m-%d}" == f"{outlook[s.COMPLETION_LATEST]:%Y-%m-%d}"
    assert xy[:, 1].max() == pytest.approx(6.8)  # from the remaining ground
    assert xy[:, 1].min() == pytest.approx(0.0)
    # The earliest bound reaches 0 on the earliest date.
    at_zero = [d for d, v in zip(days, xy[:, 1], strict=True) if v < 1e-9]
    assert f"{min(at_zero):%Y-%m-%d}" == f"{outlook[s.COMPLETION_EARLIEST]:%Y-%m-%d}"
    x, y = _line(top, "forecast-central")
    assert _days(x) == ["2022-01-23", f"{outlook[s.COMPLETION_CENTRAL]:%Y-%m-%d}"]
    assert y == pytest.approx([6.8, 0.0])


def test_a_total_without_an_estimate_shows_the_pooled_range_and_says_why(table):
    """District B released nothing in its last weeks: the total has no date; the chart draws
    the pooled range, labelled as such, and says the total has no estimate."""
    hz = hazards(box(0, 0, 1000, 100), box(2000, 0, 3000, 100))
    rel = releases(
        *[box(100 * i, 0, 100 * i + 100, 100) for i in range(6)],
        dates=[f"2022-01-{d:02d}" for d in (4, 11, 18, 25)] + ["2022-02-01", "2022-02-08"],
    )
    ds = districts(["A", "B"], [box(-100, -100, 1500, 200), box(1500, -100, 6000, 200)])
    weekly = progress(hz, rel, ds, as_of="2022-02-13")
    outlook = forecast(weekly).set_index(s.DISTRICT)
    assert pd.isna(outlook.loc[s.ALL, s.COMPLETION_CENTRAL])
    top = burndown(weekly).axes[0]
    (fill,) = [c for c in top.collections if c.get_gid() == "forecast-range"]
    assert "pooled" in fill.get_label()
    texts = " ".join(t.get_text() for t in top.texts)
    assert "no estimate" in texts
    assert "B" in texts


def test_the_svg_carries_the_range(table):
    svg = chart_svgs(table)["burndown"]
    assert 'id="forecast-range"' in svg
    assert 'id="burndown-all"' in svg
