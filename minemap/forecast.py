"""When will each district be done? A completion forecast with a range.

The method, in full (docs/progress.md says the same with an example):

1. Take the weekly progress table (:func:`minemap.progress.progress`, method
   ``all``) and keep the *complete* weeks up to the as-of day: a week counts
   once its Sunday is on or before the as-of day, so a partial last week does
   not drag the rate down.
2. Rolling-window rates: the mean hectares released per week over the last 4,
   13 and 52 complete weeks (``rate_4w_ha_per_week``...; empty when the
   history is shorter than the window).
3. The central rate ``rate_ha_per_week`` is the mean over the last 13 weeks
   (all the weeks there are when fewer). Its uncertainty is a normal
   interval for that mean at ``level`` (80 % by default): mean ± z·sd/√n,
   with sd the standard deviation of those weekly figures
   (``rate_low_ha_per_week``, ``rate_high_ha_per_week``).
4. The range of rates is the widest of the two: from the lowest to the
   highest of the window rates and the interval bounds. This covers both a
   pace that changed (the windows disagree) and a pace that is noisy (a wide
   interval).
5. ``completion_central`` = as-of day + remaining / central rate;
   ``completion_earliest`` uses the highest rate, ``completion_latest`` the
   lowest. Dates are ``YYYY-MM-DD``, rounded up to whole days.

A district with nothing left reads ``done``. A district whose central rate is
zero (or that has no hazards, so nothing is known to remain) reads
``no estimate`` in all three columns; when only the lowest rate is zero or
below, ``completion_latest`` reads ``no estimate`` (the pace may stop). A
date more than :data:`HORIZON_YEARS` away also reads ``no estimate``.
"""

from __future__ import annotations

import datetime as dt
import math
from statistics import NormalDist

import numpy as np
import pandas as pd

from minemap import schema as s
from minemap.contamination import parse_as_of
from minemap.errors import SchemaError

__all__ = ["DONE", "HORIZON_YEARS", "NO_ESTIMATE", "forecast"]

NO_ESTIMATE = "no estimate"
DONE = "done"
#: Completion dates further away than this are not dates anyone can plan with.
HORIZON_YEARS = 100

_RATE_LOW = "rate_low_ha_per_week"
_RATE_HIGH = "rate_high_ha_per_week"
_WEEKS = "weeks_of_history"


def _window_column(weeks: int) -> str:
    return f"rate_{weeks}w_ha_per_week"


def _completion(as_of: pd.Timestamp, remaining: float, rate: float) -> str:
    if not np.isfinite(rate) or rate <= 0:
        return NO_ESTIMATE
    # Rounded first so that float noise in areas (1e-9 ha) does not add a day.
    days = math.ceil(round(remaining / rate * 7, 6))
    if days > HORIZON_YEARS * 366:
        return NO_ESTIMATE
    return f"{as_of + pd.Timedelta(days=days):%Y-%m-%d}"


def forecast(
    table: pd.DataFrame,
    *,
    as_of: dt.date | str | None = None,
    windows: tuple[int, ...] = (4, 13, 52),
    central_window: int = 13,
    level: float = 0.8,
) -> pd.DataFrame:
    """Per-district completion forecast from a weekly progress table.

    Parameters
    ----------
    table
        The output of :func:`minemap.progress.progress` with ``period="week"``.
    as_of
        The day the forecast is made; default: the table's ``as_of``
        (``table.attrs``), else the last day of its last week.
    windows
        Rolling windows in weeks, one ``rate_<n>w_ha_per_week`` column each.
    central_window
        Weeks whose mean rate gives ``completion_central``.
    level
        Confidence level of the interval of the central rate.

    Returns
    -------
    pandas.DataFrame
        One row per district (and ``all``) with exactly ``district,
        remaining_ha, rate_ha_per_week, completion_earliest,
        completion_central, completion_latest`` first, then one rate column per
        window, ``rate_low_ha_per_week``, ``rate_high_ha_per_week`` and
        ``weeks_of_history``. See the module docstring for the method.

    Examples
    --------
    >>> from minemap import datasets
    >>> from minemap.progress import progress
    >>> weekly = progress(datasets.releases(), datasets.hazards(), as_of="2023-12-31")
    >>> list(forecast(weekly).columns[:3])
    ['district', 'remaining_ha', 'rate_ha_per_week']
    """
    if not 0 < level < 1:
        raise ValueError(f"level must be between 0 and 1, not {level}")
    missing = [c for c in (s.PERIOD, s.DISTRICT, s.METHOD, s.RELEASED_HA) if c not in table]
    if missing:
        raise SchemaError(
            f"progress table: missing column(s) {', '.join(missing)}; "
            "make it with minemap.progress.progress()"
        )
    if table.attrs.get("period", "week") != "week":
        raise ValueError("forecast needs a weekly progress table: progress(..., period='week')")
    rows = table[table[s.METHOD] == s.ALL]
    periods = pd.DatetimeIndex(pd.to_datetime(rows[s.PERIOD]))
    if len(periods) and (periods.day_of_week != 0).any():
        raise ValueError("forecast needs weeks that start on Monday: progress(..., period='week')")
    stamp = parse_as_of(as_of)
    if stamp is None:
        given = table.attrs.get("as_of")
        stamp = (
            parse_as_of(given)
            if given
            else (periods.max() + pd.Timedelta(days=6) if len(periods) else None)
        )
    z = NormalDist().inv_cdf(0.5 + level / 2)
    out = []
    for district, group in rows.groupby(s.DISTRICT, sort=False):
        group = group.assign(**{s.PERIOD: pd.to_datetime(group[s.PERIOD])}).sort_values(s.PERIOD)
        upto = group[group[s.PERIOD] <= stamp] if stamp is not None else group.iloc[:0]
        complete = upto[upto[s.PERIOD] + pd.Timedelta(days=6) <= stamp]
        weekly = complete[s.RELEASED_HA].to_numpy(dtype=float)
        remaining = (
            float(upto[s.REMAINING_HA].iloc[-1]) if len(upto) and s.REMAINING_HA in upto else np.nan
        )
        rates = {w: float(weekly[-w:].mean()) if len(weekly) >= w else np.nan for w in windows}
        recent = weekly[-central_window:]
        central = float(recent.mean()) if len(recent) else np.nan
        if len(recent) >= 2:
            half = z * float(recent.std(ddof=1)) / math.sqrt(len(recent))
            low, high = central - half, central + half
        else:
            low = high = np.nan
        spread = [r for r in (*rates.values(), central, low, high) if np.isfinite(r)]
        fastest = max(spread) if spread else np.nan
        slowest = min(spread) if spread else np.nan
        if np.isfinite(remaining) and remaining <= 1e-9:
            dates = [DONE] * 3
        elif not np.isfinite(remaining) or not np.isfinite(central) or central <= 0:
            dates = [NO_ESTIMATE] * 3
        else:
            dates = [
                _completion(stamp, remaining, fastest),
                _completion(stamp, remaining, central),
                _completion(stamp, remaining, slowest),
            ]
        out.append(
            {
                s.DISTRICT: district,
                s.REMAINING_HA: remaining,
                s.RATE_HA_PER_WEEK: central,
                s.COMPLETION_EARLIEST: dates[0],
                s.COMPLETION_CENTRAL: dates[1],
                s.COMPLETION_LATEST: dates[2],
                **{_window_column(w): r for w, r in rates.items()},
                _RATE_LOW: low,
                _RATE_HIGH: high,
                _WEEKS: len(weekly),
            }
        )
    columns = [
        *s.FORECAST_COLUMNS,
        *(_window_column(w) for w in windows),
        _RATE_LOW,
        _RATE_HIGH,
        _WEEKS,
    ]
    result = pd.DataFrame(out, columns=columns)
    result.attrs["as_of"] = None if stamp is None else f"{stamp:%Y-%m-%d}"
    return result
