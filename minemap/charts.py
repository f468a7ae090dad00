"""Charts of clearance progress: burn-down, weekly released area, items found.

Each chart function takes a progress table (:func:`minemap.progress.progress`)
and returns a matplotlib ``Figure`` drawn with the Agg backend (no display
needed). :func:`svg_text` turns a figure into SVG text that an HTML report can
inline, :func:`write_png` / :func:`write_svg` write it atomically, and
:func:`chart_svgs` gives every chart as ``{name: svg}`` for
``report.build_report(..., extra_charts=...)``.
"""

from __future__ import annotations

import io
import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import matplotlib.ticker as mticker
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from minemap import io as mio
from minemap import schema as s

__all__ = [
    "CHARTS",
    "burndown",
    "chart_svgs",
    "items_found",
    "released_per_period",
    "svg_text",
    "write_charts",
    "write_png",
    "write_svg",
]

#: Colours for methods and item types that read apart in print and for
#: colour-blind readers (Okabe-Ito).
_METHOD_COLOURS = {"cancelled": "#56B4E9", "reduced": "#E69F00", "cleared": "#009E73"}
_ITEM_COLOURS = {s.ITEMS_AP: "#D55E00", s.ITEMS_AT: "#0072B2", s.ITEMS_UXO: "#999999"}
_ITEM_LABELS = {s.ITEMS_AP: "anti-personnel mines", s.ITEMS_AT: "anti-tank mines",
                s.ITEMS_UXO: "UXO and other ordnance"}  # fmt: skip
_STYLE = {
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "font.size": 9,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "svg.fonttype": "none",  # text stays text in SVG: searchable and small
    "svg.hashsalt": "minemap",  # the same chart gives the same SVG
}


def _figure(rows: int = 1, height: float = 3.6) -> tuple[Figure, np.ndarray]:
    with plt.rc_context(_STYLE):
        fig = Figure(figsize=(9, height * rows), layout="constrained")
        axes = np.atleast_1d(fig.subplots(rows, 1, sharex=True))
    return fig, axes


def _dates_axis(*axes) -> None:
    for ax in axes:
        locator = mdates.AutoDateLocator(minticks=4, maxticks=10)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
        # Hectares and counts read better with thousands separators.
        ax.yaxis.set_major_formatter(mticker.StrMethodFormatter("{x:,.0f}"))


def _totals(table: pd.DataFrame) -> pd.DataFrame:
    rows = table[(table[s.DISTRICT] == s.ALL) & (table[s.METHOD] == s.ALL)]
    return rows.assign(**{s.PERIOD: pd.to_datetime(rows[s.PERIOD])}).sort_values(s.PERIOD)


def _plain(text: object) -> str:
    """Data text (a district name) shown as it is.

    matplotlib reads ``$...$`` as mathtext: a name such as ``$\\frac{1}$`` would
    be drawn as a formula or stop the drawing with a parse error. Escaped
    dollars are drawn as dollars.
    """
    return str(text).replace("$", r"\$")


def _unit(table: pd.DataFrame) -> str:
    return table.attrs.get("period", "week")


def _as_of(table: pd.DataFrame) -> str:
    as_of = table.attrs.get("as_of")
    return f" (to {as_of})" if as_of else ""


def _burndown_series(rows: pd.DataFrame, period: str, as_of) -> tuple[pd.DatetimeIndex, np.ndarray]:
    """One district's remaining ground: the mapped ground at the first period's start, then
    the ground left at the end of each period (the as-of day for a last, partial one)."""
    rows = rows.sort_values(s.PERIOD)
    starts = pd.DatetimeIndex(rows[s.PERIOD])
    ends = starts + (pd.Timedelta(days=6) if period == "week" else pd.offsets.MonthEnd(0))
    if as_of is not None:
        ends = ends.where(ends <= as_of, as_of)
    remaining = rows[s.REMAINING_HA].to_numpy(dtype=float)
    # Released + remaining is the mapped ground at every period (progress() keeps it so).
    released = rows[s.RELEASED_HA].to_numpy(dtype=float)
    mapped = remaining[0] + released[0] if len(rows) else np.nan
    return starts[:1].append(ends), np.concatenate([[mapped], remaining])


def _forecast_row(outlook: pd.DataFrame | None) -> tuple[pd.Series | None, str]:
    """The total's forecast row, or the pooled one (and why) when the total has no date."""
    from minemap.forecast import NOTE, POOLED

    if outlook is None or outlook.empty:
        return None, ""
    rows = outlook.set_index(s.DISTRICT)
    if s.ALL not in rows.index:
        return None, ""
    total = rows.loc[s.ALL]
    if not pd.isna(total[s.COMPLETION_CENTRAL]) or POOLED not in rows.index:
        return total, ""
    why = total.get(NOTE)
    return rows.loc[POOLED], "" if pd.isna(why) else str(why)


def _draw_range(ax, start, left: float, row: pd.Series, pooled_because: str) -> pd.Timestamp | None:
    """The forecast from the as-of point: the earliest-latest range filled, central dashed.

    Returns the last day drawn (for the axis), or None when there is nothing to draw.
    """
    earliest, central, latest = (
        pd.Timestamp(row[c]) if not pd.isna(row[c]) else None
        for c in (s.COMPLETION_EARLIEST, s.COMPLETION_CENTRAL, s.COMPLETION_LATEST)
    )
    if central is None or not left > 0:
        return None
    start = pd.Timestamp(start)
    # Open-ended when the slowest pace may stop: the range runs on past the central date.
    end = latest if latest is not None else central + (central - start)
    fastest = earliest or central

    def falling(x: pd.DatetimeIndex, finish) -> np.ndarray:
        if finish is None:
            return np.full(len(x), left)
        span = (finish - start) / pd.Timedelta(days=1)
        done = (x - start) / pd.Timedelta(days=1)
        return left * np.clip(1 - done / max(span, 1e-9), 0, 1)

    x = pd.DatetimeIndex(sorted({start, fastest, central, end}))
    label = "forecast range, earliest to latest"
    if pooled_because:
        label += " (pooled rate of all districts)"
    ax.fill_between(x, falling(x, fastest), falling(x, latest), color="#E69F00", alpha=0.25,
                    linewidth=0, label=label, gid="forecast-range")  # fmt: skip
    ax.plot([start, central], [left, 0.0], color="#E69F00", lw=1.6, ls="--",
            label=f"central: {central:%Y-%m-%d}", gid="forecast-central")  # fmt: skip
    if pooled_because:
        # Top right: the history runs along the top left, the range along the bottom right.
        text = textwrap.fill(f"The total has {pooled_because}.", width=60)
        ax.text(0.98, 0.96, _plain(text), transform=ax.transAxes, ha="right", va="top",
                fontsize=7)  # fmt: skip
    return end


def burndown(table: pd.DataFrame, forecast: pd.DataFrame | None = None) -> Figure:
    """Remaining hazard ground over time: the total above, each district below.

    Each line starts at the mapped ground on the first period's first day and has
    one point at the end of each period (the as-of day for a last, partial one).
    The total's completion forecast is drawn from the as-of point: the range
    from the earliest to the latest date filled, the central date dashed (when
    the total has no date because a district has none, the pooled range, so
    labelled, with the reason). ``forecast`` is :func:`minemap.forecast.forecast`'s
    table; by default it is made from ``table`` when that is weekly.
    """
    period = _unit(table)
    as_of = pd.Timestamp(table.attrs["as_of"]) if table.attrs.get("as_of") else None
    with plt.rc_context(_STYLE):
        fig, (top, bottom) = _figure(2, 3.2)
        rows = table[table[s.METHOD] == s.ALL].copy()
        rows[s.PERIOD] = pd.to_datetime(rows[s.PERIOD])
        if s.REMAINING_HA not in rows or rows[s.REMAINING_HA].isna().all():
            for ax in (top, bottom):
                ax.text(0.5, 0.5, "no hazards given: remaining ground unknown", ha="center",
                        va="center", transform=ax.transAxes)  # fmt: skip
        else:
            if forecast is None and period == "week":
                from minemap.forecast import forecast as make_forecast

                forecast = make_forecast(table)
            x, y = _burndown_series(rows[rows[s.DISTRICT] == s.ALL], period, as_of)
            top.plot(x, y, color="#333333", lw=2, label="remaining", gid="burndown-all")
            top.fill_between(x, y, color="#333333", alpha=0.08, linewidth=0)
            row, pooled_because = _forecast_row(forecast)
            end = None
            if row is not None and len(x):
                end = _draw_range(top, x[-1], float(y[-1]), row, pooled_because)
            top.set_ylim(bottom=0)
            top.set_title(f"Remaining hazardous ground, all districts{_as_of(table)}")
            top.set_ylabel("hectares")
            top.legend(frameon=False, fontsize=7, loc="lower left")
            districts = [d for d in rows[s.DISTRICT].unique() if d != s.ALL]
            # Largest districts first so that the legend reads in the order of the lines.
            last = rows.groupby(s.DISTRICT)[s.REMAINING_HA].first()
            colours = plt.get_cmap("tab20").colors
            handles, labels = [], []
            central = (
                forecast.set_index(s.DISTRICT)[s.COMPLETION_CENTRAL]
                if forecast is not None and len(forecast)
                else pd.Series(dtype="datetime64[ns]")
            )
            for i, district in enumerate(sorted(districts, key=lambda d: -last.get(d, 0))):
                dx, dy = _burndown_series(rows[rows[s.DISTRICT] == district], period, as_of)
                colour = colours[i % len(colours)]
                (drawn,) = bottom.plot(dx, dy, lw=1.4, color=colour, gid=f"burndown-{district}")
                handles.append(drawn)
                labels.append(_plain(district))
                done = central.get(district)
                if len(dx) and dy[-1] > 0 and done is not None and not pd.isna(done):
                    # Each district's central forecast, thin and dashed.
                    bottom.plot([dx[-1], pd.Timestamp(done)], [dy[-1], 0.0], lw=0.9, ls="--",
                                color=colour, gid=f"forecast-central-{district}")  # fmt: skip
            bottom.set_ylim(bottom=0)
            bottom.set_title("Remaining hazardous ground by district")
            bottom.set_ylabel("hectares")
            if districts:
                # Handles given explicitly: matplotlib would leave out a name starting "_".
                bottom.legend(handles, labels, fontsize=7, ncol=2, frameon=False,
                              loc="upper left", bbox_to_anchor=(1.0, 1.0))  # fmt: skip
            if end is not None and len(x):
                top.set_xlim(x[0], end)
        _dates_axis(top, bottom)
    return fig


def released_per_period(table: pd.DataFrame, *, rolling: int = 4) -> Figure:
    """Area released each period, stacked by method, with a rolling mean."""
    unit = _unit(table)
    with plt.rc_context(_STYLE):
        fig, (ax,) = _figure(1, 3.8)
        rows = table[table[s.DISTRICT] == s.ALL].copy()
        rows[s.PERIOD] = pd.to_datetime(rows[s.PERIOD])
        wide = rows.pivot_table(
            index=s.PERIOD, columns=s.METHOD, values=s.RELEASED_HA, aggfunc="sum"
        ).fillna(0.0)
        width = 6 if unit == "week" else 26
        base = np.zeros(len(wide))
        for method in [m for m in s.RELEASE_METHODS if m in wide] + [
            m for m in wide.columns if m not in s.RELEASE_METHODS and m != s.ALL
        ]:
            ax.bar(wide.index, wide[method], width=width, bottom=base, align="edge",
                   color=_METHOD_COLOURS.get(method, "#CC79A7"), label=method,
                   linewidth=0)  # fmt: skip
            base = base + wide[method].to_numpy()
        if s.ALL in wide:
            mean = wide[s.ALL].rolling(rolling, min_periods=1).mean()
            centre = wide.index + pd.Timedelta(days=width / 2)
            ax.plot(centre, mean, color="#222222", lw=1.6,
                    label=f"{rolling}-{unit} rolling mean")  # fmt: skip
        ax.set_title(f"Land released per {unit}, all districts{_as_of(table)}")
        ax.set_ylabel(f"hectares per {unit}")
        ax.set_ylim(bottom=0)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(frameon=False, ncol=4, loc="upper left")
        _dates_axis(ax)
    return fig


def items_found(table: pd.DataFrame) -> Figure:
    """Devices found each period by type (anti-personnel, anti-tank, UXO), stacked."""
    unit = _unit(table)
    with plt.rc_context(_STYLE):
        fig, (ax,) = _figure(1, 3.6)
        rows = _totals(table)
        width = 6 if unit == "week" else 26
        base = np.zeros(len(rows))
        for column in (s.ITEMS_AP, s.ITEMS_AT, s.ITEMS_UXO):
            values = rows[column].to_numpy(dtype=float)
            total = int(values.sum())
            ax.bar(rows[s.PERIOD], values, width=width, bottom=base, align="edge",
                   color=_ITEM_COLOURS[column], linewidth=0,
                   label=f"{_ITEM_LABELS[column]} ({total:,})")  # fmt: skip
            base = base + values
        ax.set_title(f"Items found per {unit}, all districts{_as_of(table)}")
        ax.set_ylabel(f"items per {unit}")
        ax.set_ylim(bottom=0)
        ax.legend(frameon=False, loc="upper left")
        _dates_axis(ax)
    return fig


#: Every chart, by the file name it is written under.
CHARTS = {
    "burndown": burndown,
    "released": released_per_period,
    "items": items_found,
}


def svg_text(fig: Figure) -> str:
    """The figure as SVG text (an ``<svg>`` document to inline in HTML)."""
    buffer = io.StringIO()
    with plt.rc_context(_STYLE):
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    return buffer.getvalue()


def write_svg(fig: Figure, path: str | Path, *, overwrite: bool = False) -> Path:
    """Write the figure as SVG atomically."""
    text = svg_text(fig)
    with mio.atomic_path(Path(path), overwrite) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_png(fig: Figure, path: str | Path, *, overwrite: bool = False, dpi: int = 150) -> Path:
    """Write the figure as PNG atomically."""
    with mio.atomic_path(Path(path), overwrite) as tmp, plt.rc_context(_STYLE):
        fig.savefig(tmp, format="png", dpi=dpi, metadata={"Software": None})
    return Path(path)


def _make(name: str, table: pd.DataFrame, forecast: pd.DataFrame | None) -> Figure:
    return burndown(table, forecast) if name == "burndown" else CHARTS[name](table)


def chart_svgs(table: pd.DataFrame, forecast: pd.DataFrame | None = None) -> dict[str, str]:
    """Every chart of a progress table as ``{name: svg_text}``, for HTML reports.

    ``forecast`` (:func:`minemap.forecast.forecast`) is drawn on the burn-down; by
    default it is made from a weekly ``table``.
    """
    return {name: svg_text(_make(name, table, forecast)) for name in CHARTS}


def chart_paths(folder: str | Path) -> list[Path]:
    """The files :func:`write_charts` writes into ``folder``."""
    folder = Path(folder)
    return [folder / f"{name}.{ext}" for name in CHARTS for ext in ("svg", "png")]


def write_charts(
    table: pd.DataFrame,
    folder: str | Path,
    *,
    overwrite: bool = False,
    forecast: pd.DataFrame | None = None,
) -> list[Path]:
    """Write every chart as ``NAME.svg`` and ``NAME.png`` into ``folder``.

    ``forecast`` is drawn on the burn-down (as in :func:`chart_svgs`).
    """
    folder = Path(folder)
    written = []
    for name in CHARTS:
        fig = _make(name, table, forecast)
        written.append(write_svg(fig, folder / f"{name}.svg", overwrite=overwrite))
        written.append(write_png(fig, folder / f"{name}.png", overwrite=overwrite))
    return written
