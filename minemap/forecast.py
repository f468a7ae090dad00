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

Dates are dates: where there is none the cell is empty (NaT) and the
``note`` column says why. A district with nothing left is done: its dates are
the last day of the week in which its last hazard ground was released. A
district whose central rate is zero, or with no hazards (nothing is known to
remain), has no estimate; when only the lowest rate is zero,
``completion_latest`` is empty (the pace may stop). A date more than
:data:`HORIZON_YEARS` away is no estimate either.

6. The total (district ``all``) finishes when its last district does: each of
   its three dates is the latest of the districts' (``(unassigned)`` ground
   included), and empty when any district with ground left has none. The
   pooled view, the total's remaining ground at the total's rates (as if
   teams moved to wherever ground is left), is a row of its own,
   :data:`POOLED`; it can finish before some districts do, and says so.
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

__all__ = ["DONE", "HORIZON_YEARS", "NOTE", "NO_ESTIMATE", "POOLED", "forecast"]

#: Words that start a note: no date can be given, or the district is done.
NO_ESTIMATE = "no estimate"
DONE = "done"
#: The column saying why a completion date is empty (or how the total's was found).
NOTE = s.NOTE
#: The row of the total's remaining ground at the total's pooled rates.
POOLED = "all (pooled rate)"
#: Completion dates further away than this are not dates anyone can plan with.
HORIZON_YEARS = 100

_RATE_LOW = "rate_low_ha_per_week"
_RATE_HIGH = "rate_high_ha_per_week"
_WEEKS = "weeks_of_history"
_NOTHING_MAPPED = "no hazard ground mapped"
_DATE_COLUMNS = (s.COMPLETION_EARLIEST, s.COMPLETION_CENTRAL, s.COMPLETION_LATEST)


def _window_column(weeks: int) -> str:
    return f"rate_{weeks}w_ha_per_week"


def _completion(as_of: pd.Timestamp, remaining: float, rate: float) -> pd.Timestamp:
    """The day ``remaining`` ha are released at ``rate`` ha a week from ``as_of`` (NaT: never)."""
    if not np.isfinite(rate) or rate <= 0:
        return pd.NaT
    # Rounded first so that float noise in areas (1e-9 ha) does not add a day.
    days = math.ceil(round(remaining / rate * 7, 6))
    if days > HORIZON_YEARS * 366:
        return pd.NaT
    return as_of + pd.Timedelta(days=days)


def _dates_and_note(as_of, remaining, central, fastest, slowest, weeks, central_window, upto):
    """The three completion dates of one district and the note explaining any gap."""
    if not np.isfinite(remaining):
        return [pd.NaT] * 3, f"{NO_ESTIMATE}: no hazards given, so the ground left is unknown"
    if remaining <= 1e-9:
        return _done(as_of, upto)
    if not np.isfinite(central):
        return [pd.NaT] * 3, f"{NO_ESTIMATE}: no complete week of releases by {as_of:%Y-%m-%d}"
    if central <= 0:
        window = min(weeks, central_window)
        return [pd.NaT] * 3, f"{NO_ESTIMATE}: no ground released in the last {window} weeks"
    dates = [_completion(as_of, remaining, r) for r in (fastest, central, slowest)]
    notes = []
    if pd.isna(dates[1]):
        notes.append(f"{NO_ESTIMATE}: over {HORIZON_YEARS} years at the central rate")
    elif pd.isna(dates[2]):
        notes.append(
            f"latest: {NO_ESTIMATE}, the slowest rate is "
            + ("0 (the work may have stopped)" if slowest <= 0 else f"over {HORIZON_YEARS} years")
        )
    return dates, "; ".join(notes) or None


def _done(as_of, upto):
    """A district with nothing left: the last day of the week its last ground was released."""
    history = upto[[s.PERIOD, s.REMAINING_HA]].to_numpy()
    left = history[:, 1].astype(float) > 1e-9
    cumulative = upto.get(s.CUMULATIVE_RELEASED_HA)
    if not left.any() and (cumulative is None or not (cumulative.to_numpy(float) > 1e-9).any()):
        return [pd.NaT] * 3, _NOTHING_MAPPED
    last = np.flatnonzero(left)
    week = pd.Timestamp(history[last[-1] + 1 if len(last) else 0, 0])
    day = min(week + pd.Timedelta(days=6), as_of)
    return [day] * 3, f"{DONE}: the last hazard ground was released in the week of {week:%Y-%m-%d}"


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
    >>> weekly = progress(datasets.hazards(), datasets.releases(), as_of="2023-12-31")
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
        dates, why = _dates_and_note(
            stamp, remaining, central, fastest, slowest, len(weekly), central_window, upto
        )
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
                NOTE: why,
            }
        )
    columns = [
        *s.FORECAST_COLUMNS,
        *(_window_column(w) for w in windows),
        _RATE_LOW,
        _RATE_HIGH,
        _WEEKS,
        NOTE,
    ]
    result = _total(pd.DataFrame(out, columns=columns))
    for column in _DATE_COLUMNS:
        result[column] = pd.to_datetime(result[column]).astype("datetime64[ns]")
    result[NOTE] = result[NOTE].astype("string")
    result.attrs["as_of"] = None if stamp is None else f"{stamp:%Y-%m-%d}"
    return result


def _total(table: pd.DataFrame) -> pd.DataFrame:
    """The ``all`` row finishes with its last district; the pooled view gets its own row.

    Districts with no hazard ground mapped are not parts of the total. Without
    districts (the table holds ``all`` only) the ``all`` row is the only
    estimate and stays as computed.
    """
    is_total = table[s.DISTRICT] == s.ALL
    parts = table[~is_total]
    if not is_total.any() or parts.empty:
        return table
    total = table[is_total].iloc[0].copy()
    pooled = total.copy()
    pooled[s.DISTRICT] = POOLED
    pooled[NOTE] = (
        "the total's remaining ground at the total's pooled rates, as if teams moved to "
        "wherever ground is left: it can finish before some districts do"
        + (f" ({pooled[NOTE]})" if isinstance(pooled[NOTE], str) else "")
    )
    notes = parts[NOTE].fillna("")
    with_ground = parts[~notes.str.startswith(_NOTHING_MAPPED)]
    if with_ground.empty:
        total[list(_DATE_COLUMNS)] = pd.NaT
        total[NOTE] = _NOTHING_MAPPED
    else:
        missing = {}
        for column in _DATE_COLUMNS:
            dates = pd.to_datetime(with_ground[column])
            unknown = with_ground.loc[dates.isna(), s.DISTRICT].astype(str).tolist()
            if unknown:
                total[column] = pd.NaT
                missing[column.removeprefix("completion_")] = unknown
            else:
                total[column] = dates.max()
        if missing:
            lists = {", ".join(v) for v in missing.values()}
            total[NOTE] = (
                f"{NO_ESTIMATE}: no date for {lists.pop()}"
                if len(missing) == 3 and len(lists) == 1
                else "; ".join(
                    f"{k}: {NO_ESTIMATE}, no date for {', '.join(v)}" for k, v in missing.items()
                )
            )
            known = pd.to_datetime(with_ground[s.COMPLETION_CENTRAL]).dropna()
            if "central" in missing and len(known):
                total[NOTE] += f" (the other districts by {known.max():%Y-%m-%d}, central)"
        elif with_ground[NOTE].fillna("").str.startswith(DONE).all():
            total[NOTE] = f"{DONE}: every district is done"
        else:
            central = pd.to_datetime(with_ground[s.COMPLETION_CENTRAL])
            last = with_ground.loc[central.idxmax(), s.DISTRICT]
            total[NOTE] = f"finishes when its last district does ({last}, central date)"
    rows = [r for _, r in parts.iterrows()] + [total, pooled]
    return pd.DataFrame(rows, columns=table.columns).reset_index(drop=True)
