"""What the map says: tooltips, row labels, legend sections, the title box, credits.

Everything here is text for the page's script to show with ``textContent``
(never as HTML); tooltips use the short keys of
:data:`minemap.render.protocol.FEATURE_KEYS`.
"""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import pandas as pd

from minemap import schema as s
from minemap.render import symbology as sym
from minemap.render.protocol import FEATURE_KEYS as K
from minemap.render.protocol import LegendItem, LegendSection

__all__ = [
    "GRID_LABELS",
    "HAZARD_LABELS",
    "PENDING_LABELS",
    "RELEASE_LABELS",
    "SUBMITTED_LABELS",
    "TABLE_LABELS",
    "as_of_date",
    "district_labels",
    "district_legend",
    "district_tip",
    "districts_attribution",
    "figure_lookup",
    "format_extra",
    "format_figure",
    "grid_legend",
    "grid_tip",
    "hazard_legend",
    "hazard_tip",
    "known_on_text",
    "legend_item",
    "pending_tip",
    "release_legend",
    "release_tip",
    "released_by_area",
    "submitted_legend",
    "submitted_tip",
    "text",
    "title_lines",
    "unknown_records",
]

TABLE_LABELS = {
    s.MAPPED_AREA_HA: "Mapped area",
    s.RELEASED_AREA_HA: "Released area",
    s.REMAINING_AREA_HA: "Remaining area",
    s.MAPPED_MINES: "Mines recorded",
    s.REMAINING_MINES_EST: "Remaining mines (est.)",
    s.HAZARDS: "Hazard records",
    s.HAZARDS_UNKNOWN_MINES: "Records with mine count not known",
    s.SHARE_RELEASED: "Share released",
    s.MAPPED_MINES_AP: "Mines recorded AP",
    s.MAPPED_MINES_AT: "Mines recorded AT",
    s.REMAINING_MINES_AP_EST: "Remaining AP mines (est.)",
    s.REMAINING_MINES_AT_EST: "Remaining AT mines (est.)",
    **{col: f"Released: {method}" for method, col in s.RELEASED_AREA_BY_METHOD_HA.items()},
    s.RELEASED_AREA_ONLY_HA: "Released by area-only reports",
}
#: Mine figures: empty means not known (a record's count was not known), never 0.
_MINE_FIGURES = (
    s.MAPPED_MINES,
    s.REMAINING_MINES_EST,
    s.MAPPED_MINES_AP,
    s.MAPPED_MINES_AT,
    s.REMAINING_MINES_AP_EST,
    s.REMAINING_MINES_AT_EST,
)
#: What the map says of a mine count that is not known (never 0).
NOT_KNOWN = "not known"
#: Outline of a hazard partly released by area-only reports (the share in its tooltip).
AREA_ONLY_DASH = "10 3 2 3"


def text(value: object) -> str:
    return "" if sym.is_missing(value) else str(value).strip()


def _mines_ap_at(record: dict) -> str:
    ap, at = record.get(s.MINES_AP), record.get(s.MINES_AT)
    if sym.is_missing(ap) and sym.is_missing(at):
        # A remaining piece always has both columns: missing there means not known.
        return NOT_KNOWN if s.MINES_AP in record else ""
    return f"{sym.format_count(ap) or NOT_KNOWN} / {sym.format_count(at) or NOT_KNOWN}"


def _remaining_mines(record: dict) -> str:
    value = record.get(s.REMAINING_MINES_EST)
    if sym.is_missing(value) and s.REMAINING_MINES_EST in record:
        return f"{NOT_KNOWN} (mine count not known)"
    return sym.format_count(value)


def released_by_area(record: dict) -> str:
    """``3.20 ha (40 %)``: a record's ground released by reports without a polygon."""
    area, mapped = record.get(s.RELEASED_AREA_ONLY_HA), record.get(s.MAPPED_AREA_HA)
    if sym.is_missing(area) or not float(area) > 0:
        return ""
    share = float(area) / float(mapped) if not sym.is_missing(mapped) and mapped else None
    return sym.format_area(area) + (f" ({100 * share:.0f} %)" if share is not None else "")


def unknown_records(table: pd.DataFrame) -> int:
    """Records whose mine count is not known (each once, though it crosses districts)."""
    if "records_unknown_mines" in table.attrs:
        return int(table.attrs["records_unknown_mines"])
    if s.HAZARDS_UNKNOWN_MINES not in table.columns:
        return 0
    return int(pd.to_numeric(table[s.HAZARDS_UNKNOWN_MINES], errors="coerce").sum())


def _status_text(value: object) -> str:
    return text(value).replace("_", " ")


# --- tooltips ---------------------------------------------------------------------
# A tooltip is {K.heading: heading, K.values: [values]}; the row labels are the
# layer's ``labels`` (sent once per layer, not once per feature) and empty values
# are left out in the browser.

HAZARD_LABELS = [
    "District",
    "Classification",
    "Status",
    "Mines recorded AP / AT",
    "Mapped area",
    "Released area",
    "Remaining area",
    "Remaining mines (est.)",
    "Source",
    "Submitted",
    "Released by area-only reports",
]


def hazard_tip(record: dict) -> dict:
    return {
        K.heading: f"Hazard {text(record.get(s.HAZARD_ID))}",
        K.values: [
            text(record.get(s.DISTRICT)),
            text(record.get(s.CLASSIFICATION)),
            _status_text(record.get(s.STATUS)),
            _mines_ap_at(record),
            sym.format_area(record.get(s.MAPPED_AREA_HA)),
            sym.format_area(record.get(s.RELEASED_AREA_HA)),
            sym.format_area(record.get(s.REMAINING_AREA_HA)),
            _remaining_mines(record),
            text(record.get(s.SOURCE)),
            sym.format_date(record.get(s.SUBMITTED_ON)),
            released_by_area(record),
        ],
    }


SUBMITTED_LABELS = [
    "District",
    "Classification",
    "Status",
    "Mines recorded AP / AT",
    "Source",
    "Submitted",
]


def submitted_tip(record: dict) -> dict:
    return {
        K.heading: f"Submitted map {text(record.get(s.HAZARD_ID))}",
        K.values: [
            text(record.get(s.DISTRICT)),
            text(record.get(s.CLASSIFICATION)),
            _status_text(record.get(s.STATUS)),
            _mines_ap_at(record),
            text(record.get(s.SOURCE)),
            sym.format_date(record.get(s.SUBMITTED_ON)),
        ],
    }


def _items_found(record: dict) -> str:
    parts = [
        f"{label} {sym.format_count(record.get(col))}"
        for label, col in (("AP", s.ITEMS_AP), ("AT", s.ITEMS_AT), ("UXO", s.ITEMS_UXO))
        if not sym.is_missing(record.get(col))
    ]
    return " · ".join(parts)


RELEASE_LABELS = ["Method", "Date", "Area", "Items found", "Hazard", "Organisation"]


def release_tip(record: dict) -> dict:
    return {
        K.heading: f"Release {text(record.get(s.RELEASE_ID))}",
        K.values: [
            text(record.get(s.METHOD)),
            sym.format_date(record.get(s.RELEASED_ON)),
            sym.format_area(record.get(s.RELEASED_AREA_HA)),
            _items_found(record),
            text(record.get(s.HAZARD_ID)),
            text(record.get(s.ORGANISATION)),
        ],
    }


PENDING_LABELS = ["Released on", "Method", "Release", "Area"]


def pending_tip(record: dict) -> dict:
    """Tooltip of a piece of hazard released later (labels: ``PENDING_LABELS[:3]``)."""
    return {
        K.heading: f"Hazard {text(record.get(s.HAZARD_ID))} (released later)",
        K.values: [
            sym.format_date(record.get(s.RELEASED_ON)),
            text(record.get(s.METHOD)),
            text(record.get(s.RELEASE_ID)),
        ],
    }


#: Rows of a public grid cell's tooltip.
GRID_LABELS = ["Remaining area", "Remaining mines (est.)"]


def grid_tip(record: dict, cell_m: float) -> dict:
    """Tooltip of a public grid cell of ``cell_m`` metres."""
    return {
        K.heading: f"{cell_m / 1000:g} km grid cell",
        K.values: [
            sym.format_area(record[s.REMAINING_AREA_HA]),
            sym.format_count(record.get(s.REMAINING_MINES_EST)),
        ],
    }


# --- figures per district -----------------------------------------------------------


def format_figure(column: str, value: object) -> str:
    if sym.is_missing(value):
        return NOT_KNOWN if column in _MINE_FIGURES else ""
    if column.endswith("_ha"):
        return sym.format_area(value)
    if column.startswith("share"):
        return sym.format_share(value)
    if isinstance(value, int | float | np.integer | np.floating):
        return sym.format_count(value)
    return text(value)


def format_extra(column: str, value: object) -> str:
    """A figure of another layer: areas and shares as ours, other numbers to 3 decimals."""
    ours = column.endswith("_ha") or column.startswith("share")
    if isinstance(value, float | np.floating) and not sym.is_missing(value) and not ours:
        return f"{value:,.3f}".rstrip("0").rstrip(".")
    return format_figure(column, value)


def district_labels(table_columns: list[str]) -> list[str]:
    return [
        "Name (Azerbaijani)",
        "ISO 3166-2",
        "Remaining area",
        *(TABLE_LABELS.get(c, c) for c in table_columns if c != s.REMAINING_AREA_HA),
    ]


def district_tip(name: str, record: dict, figures: dict | None, columns: list[str]) -> dict:
    values = [text(record.get(s.NAME_AZ)), text(record.get(s.ISO_3166_2))]
    if figures is None:
        values.append("no hazard recorded")
        values += [""] * (len(columns) - 1)
    else:
        values.append(format_figure(s.REMAINING_AREA_HA, figures.get(s.REMAINING_AREA_HA)))
        values += [format_figure(c, figures.get(c)) for c in columns if c != s.REMAINING_AREA_HA]
    return {K.heading: name, K.values: values}


def _figures_from_remaining(remaining: gpd.GeoDataFrame) -> pd.DataFrame:
    """The table's first columns summed from ``remaining`` (overlaps counted once if known)."""
    sources = {
        s.MAPPED_AREA_HA: (s.NET_MAPPED_AREA_HA, s.MAPPED_AREA_HA),
        s.RELEASED_AREA_HA: (s.NET_RELEASED_AREA_HA, s.RELEASED_AREA_HA),
        s.REMAINING_AREA_HA: (s.NET_REMAINING_AREA_HA, s.REMAINING_AREA_HA),
        s.MAPPED_MINES: (s.MINES,),
        s.REMAINING_MINES_EST: (s.REMAINING_MINES_EST,),
    }
    frame = pd.DataFrame({s.DISTRICT: remaining[s.DISTRICT].astype(str).to_numpy()})
    for target, candidates in sources.items():
        found = next((c for c in candidates if c in remaining.columns), None)
        if found is not None:
            frame[target] = pd.to_numeric(remaining[found], errors="coerce").to_numpy()
    return frame.groupby(s.DISTRICT, sort=False).sum().reset_index()


def figure_lookup(table: pd.DataFrame | None, remaining: gpd.GeoDataFrame) -> dict:
    if table is None:
        if s.DISTRICT not in remaining.columns:
            return {}
        table = _figures_from_remaining(remaining)
    lookup = {}
    for record in table.to_dict("records"):
        name = text(record.get(s.DISTRICT))
        lookup[name] = record
        key = s.canonical_district(name)
        if key is not None:
            lookup.setdefault(key, record)
    return lookup


# --- legend -------------------------------------------------------------------------


def legend_item(label: str, style: dict) -> LegendItem:
    return LegendItem(label=label, style=style)


def district_legend(breaks: list[float]) -> LegendSection:
    colours = sym.ramp(len(breaks))
    items = []
    lower = 0.0
    for upper, colour in zip(breaks, colours, strict=True):
        label = f"{lower:,.0f} – {upper:,.0f} ha" if upper >= 10 else f"{lower:,g} – {upper:,g} ha"
        items.append(legend_item(label, {**sym.DISTRICT_OUTLINE, "fillColor": colour}))
        lower = upper
    items.append(
        legend_item("none recorded", {**sym.DISTRICT_OUTLINE, "fillColor": sym.DISTRICT_NO_DATA})
    )
    return LegendSection(title="Remaining hazardous area by district", items=items)


def hazard_legend(remaining: gpd.GeoDataFrame) -> LegendSection:
    outline = {"fill": False, "color": "#666666", "weight": 1}
    items = [
        legend_item("CHA: confirmed hazardous area", {**outline, **_fill(sym.CHA_FILL)}),
        legend_item("SHA: suspected hazardous area", {**outline, **_fill(sym.SHA_FILL)}),
    ]
    if s.CLASSIFICATION not in remaining.columns or any(
        text(v).upper() not in sym.HAZARD_FILLS for v in remaining[s.CLASSIFICATION]
    ):
        items.append(legend_item("not classified", {**outline, **_fill(sym.UNCLASSIFIED_FILL)}))
    items.extend(
        legend_item(
            f"outline: {status.replace('_', ' ')}", {**sym.STATUS_OUTLINES[status], "fill": False}
        )
        for status in sym.HAZARD_STATUSES
    )
    released = remaining.get(s.RELEASED_AREA_ONLY_HA)
    if released is not None and (pd.to_numeric(released, errors="coerce") > 0).any():
        items.append(
            legend_item(
                "dash-dot outline: partly released by reports without a polygon "
                "(where is not known)",
                {**outline, "dashArray": AREA_ONLY_DASH},
            )
        )
    return LegendSection(title="Remaining hazards", items=items)


def _fill(colour: str) -> dict:
    return {"fill": True, "fillColor": colour, "fillOpacity": sym.HAZARD_FILL_OPACITY}


def grid_legend(breaks: list[float]) -> LegendSection:
    colours = sym.ramp_hazard(len(breaks))
    items = []
    lower = 0.0
    for upper, colour in zip(breaks, colours, strict=True):
        items.append(
            legend_item(
                f"{lower:,g} – {upper:,g} ha",
                {"color": "#7F0000", "weight": 0.5, "fillColor": colour, "fillOpacity": 0.75},
            )
        )
        lower = upper
    return LegendSection(title="Remaining hazardous area per grid cell", items=items)


def release_legend() -> LegendSection:
    return LegendSection(
        title="Released land",
        items=[
            legend_item(sym.method_label(method), sym.release_style(method))
            for method in sym.RELEASE_METHODS
        ],
    )


def submitted_legend() -> LegendSection:
    return LegendSection(
        title="Submitted maps",
        items=[legend_item("as handed over (outline)", sym.SUBMITTED_STYLE)],
    )


# --- title box and credits ----------------------------------------------------------


def as_of_date(as_of, remaining: gpd.GeoDataFrame, table) -> pd.Timestamp | None:
    for value in (as_of, remaining.attrs.get("as_of"), getattr(table, "attrs", {}).get("as_of")):
        if not sym.is_missing(value):
            try:
                return pd.Timestamp(value).tz_localize(None).normalize()
            except (TypeError, ValueError) as exc:
                raise ValueError(
                    f"as_of: {value!r} is not a date; give a datetime.date or 'YYYY-MM-DD'"
                ) from exc
    return None


def title_lines(
    as_of: pd.Timestamp | None,
    releases: gpd.GeoDataFrame | None,
    table: pd.DataFrame | None,
    known_on=None,
) -> list[str]:
    when = f"As of {dt.date.today().isoformat()} (no release recorded)"
    if as_of is not None:
        when = f"As of {as_of.date().isoformat()}"
    elif releases is not None and len(releases) and s.RELEASED_ON in releases.columns:
        latest = pd.to_datetime(releases[s.RELEASED_ON], errors="coerce").max()
        if not pd.isna(latest):
            when = f"As of {latest.date().isoformat()} (latest release)"
    if known_on is not None and not sym.is_missing(known_on):
        when += f", as known on {known_on_text(known_on)}"
    lines = [when]
    if table is not None and s.REMAINING_AREA_HA in table.columns:
        area = pd.to_numeric(table[s.REMAINING_AREA_HA], errors="coerce").sum()
        line = f"Remaining: {sym.format_area(area)}"
        if s.REMAINING_MINES_EST in table.columns:
            mines = pd.to_numeric(table[s.REMAINING_MINES_EST], errors="coerce").sum()
            line += f", about {sym.format_count(mines)} mines (est.)"
            unknown = unknown_records(table)
            if unknown:
                line += f" in the records with known counts; {unknown:,} record(s) not known"
        lines.append(line)
        outside = table[table[s.DISTRICT].astype(str) == s.UNASSIGNED]
        if len(outside):
            out_area = pd.to_numeric(outside[s.REMAINING_AREA_HA], errors="coerce").sum()
            if out_area > 0:
                lines.append(f"of which outside every district: {sym.format_area(out_area)}")
    return lines


def known_on_text(known_on) -> str:
    """``2024-03-10`` for a day, ``2024-03-10 12:00 UTC`` for a moment, text as it is."""
    if isinstance(known_on, dt.datetime):
        return f"{known_on:%Y-%m-%d %H:%M} UTC"
    if isinstance(known_on, dt.date):
        return known_on.isoformat()
    return str(known_on)


#: At most this many distinct attributions, of at most this many characters each.
_ATTRIBUTIONS_SHOWN = 5

_ATTRIBUTION_CHARS = 300


def districts_attribution(districts: gpd.GeoDataFrame | None) -> str:
    """The source and licence of district boundaries, from their ``attribution`` column.

    The distinct non-empty values, in order, joined with ``"; "`` (the first
    five, each cut to 300 characters: a file cannot fill the map with it); ``""``
    where the layer has none.

    Examples
    --------
    >>> from minemap import datasets
    >>> districts_attribution(datasets.districts())[:37]
    'Boundaries: geoBoundaries (www.geobou'
    """
    if districts is None or s.ATTRIBUTION not in districts.columns:
        return ""
    values = [text(v) for v in districts[s.ATTRIBUTION]]
    distinct = [v for v in dict.fromkeys(values) if v]
    shown = [
        v if len(v) <= _ATTRIBUTION_CHARS else v[: _ATTRIBUTION_CHARS - 1] + "…"
        for v in distinct[:_ATTRIBUTIONS_SHOWN]
    ]
    if len(distinct) > _ATTRIBUTIONS_SHOWN:
        shown.append(f"and {len(distinct) - _ATTRIBUTIONS_SHOWN} more sources")
    return "; ".join(shown)
