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


def burndown(table: pd.DataFrame) -> Figure:
    """Remaining hazard ground over time: the total above, each district below."""
    with plt.rc_context(_STYLE):
        fig, (top, bottom) = _figure(2, 3.2)
        rows = table[table[s.METHOD] == s.ALL].copy()
        rows[s.PERIOD] = pd.to_datetime(rows[s.PERIOD])
        if s.REMAINING_HA not in rows or rows[s.REMAINING_HA].isna().all():
            for ax in (top, bottom):
                ax.text(0.5, 0.5, "no hazards given: remaining ground unknown", ha="center",
                        va="center", transform=ax.transAxes)  # fmt: skip
        else:
            total = rows[rows[s.DISTRICT] == s.ALL]
            top.plot(total[s.PERIOD], total[s.REMAINING_HA], color="#333333", lw=2)
            top.fill_between(total[s.PERIOD], total[s.REMAINING_HA], color="#333333", alpha=0.08)
            top.set_ylim(bottom=0)
            top.set_title(f"Remaining hazardous ground, all districts{_as_of(table)}")
            top.set_ylabel("hectares")
            districts = [d for d in rows[s.DISTRICT].unique() if d != s.ALL]
            # Largest districts first so that the legend reads in the order of the lines.
            last = rows.groupby(s.DISTRICT)[s.REMAINING_HA].first()
            colours = plt.get_cmap("tab20").colors
            handles, labels = [], []
            for i, district in enumerate(sorted(districts, key=lambda d: -last.get(d, 0))):
                line = rows[rows[s.DISTRICT] == district]
                (drawn,) = bottom.plot(line[s.PERIOD], line[s.REMAINING_HA], lw=1.4,
                                       color=colours[i % len(colours)])  # fmt: skip
                handles.append(drawn)
                labels.append(_plain(district))
            bottom.set_ylim(bottom=0)
            bottom.set_title("Remaining hazardous ground by district")
            bottom.set_ylabel("hectares")
            if districts:
                # Handles given explicitly: matplotlib would leave out a name starting "_".
                bottom.legend(handles, labels, fontsize=7, ncol=2, frameon=False,
                              loc="upper left", bbox_to_anchor=(1.0, 1.0))  # fmt: skip
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


def chart_svgs(table: pd.DataFrame) -> dict[str, str]:
    """Every chart of a progress table as ``{name: svg_text}``, for HTML reports."""
    return {name: svg_text(make(table)) for name, make in CHARTS.items()}


def chart_paths(folder: str | Path) -> list[Path]:
    """The files :func:`write_charts` writes into ``folder``."""
    folder = Path(folder)
    return [folder / f"{name}.{ext}" for name in CHARTS for ext in ("svg", "png")]


def write_charts(table: pd.DataFrame, folder: str | Path, *, overwrite: bool = False) -> list[Path]:
    """Write every chart as ``NAME.svg`` and ``NAME.png`` into ``folder``."""
    folder = Path(folder)
    written = []
    for name, make in CHARTS.items():
        fig = make(table)
        written.append(write_svg(fig, folder / f"{name}.svg", overwrite=overwrite))
        written.append(write_png(fig, folder / f"{name}.png", overwrite=overwrite))
    return written
