"""The map's layers and controls, one function each.

Each ``add_*`` function draws one layer on an
:class:`~minemap.render.offline.OfflineMap` (as a
:class:`~minemap.render.elements.GeoJsonLayer`, listed in the layer control)
and returns its legend section; :func:`add_controls` adds the title box, the
layer control, full screen, measure, search, the time slider and the legend.
:func:`minemap.render.map.render_map` calls them in the order the layers are
stacked.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from minemap import schema as s
from minemap.gazetteer import alternative_names
from minemap.render import _analysis
from minemap.render import content as c
from minemap.render import symbology as sym
from minemap.render.elements import (
    GeoJsonLayer,
    MapScript,
    layer_control_js,
    layer_options,
    map_call,
)
from minemap.render.features import Styles, feature_collection, in_wgs84, records
from minemap.render.offline import script_json
from minemap.render.protocol import FEATURE_KEYS as K
from minemap.render.protocol import LegendSection, SearchSpec, TimelineSpec, TitleSpec

__all__ = [
    "LAYER_DISTRICTS",
    "LAYER_GRID",
    "LAYER_HAZARDS",
    "LAYER_PENDING",
    "LAYER_RELEASES",
    "LAYER_SUBMITTED",
    "MapLayer",
    "TimeAxis",
    "add_controls",
    "add_districts",
    "add_extra_layers",
    "add_public_grid",
    "add_released_land",
    "add_released_later",
    "add_remaining_hazards",
    "add_submitted_maps",
    "time_axis",
    "timeline_spec",
]

LAYER_DISTRICTS = "Districts: remaining hazardous area"
LAYER_HAZARDS = "Remaining hazards"
LAYER_RELEASES = "Released land"
LAYER_SUBMITTED = "Submitted maps (as handed over)"
LAYER_PENDING = "Released later (hazardous before its release)"
LAYER_GRID = "Remaining contamination on a grid"


# --- time slider ----------------------------------------------------------------------


@dataclass(frozen=True)
class TimeAxis:
    """The time slider's months; features carry month indices into them."""

    months: pd.PeriodIndex

    @property
    def last(self) -> int:
        return len(self.months) - 1

    def known(self, frame: pd.DataFrame) -> np.ndarray:
        """Month each record was submitted (the first month where it has no date)."""
        if s.SUBMITTED_ON not in frame.columns:
            return np.zeros(len(frame), dtype=int)
        return _analysis.month_index(frame[s.SUBMITTED_ON], self.months, 0)

    def released(self, frame: pd.DataFrame) -> np.ndarray:
        """Month each release was made (the last month where it has no date)."""
        return _analysis.month_index(frame[s.RELEASED_ON], self.months, self.last)


def time_axis(
    releases: gpd.GeoDataFrame | None, hazards: gpd.GeoDataFrame | None, as_of
) -> TimeAxis | None:
    """The slider's months (:func:`minemap.render._analysis.slider_months`), or no slider."""
    months = _analysis.slider_months(releases, hazards, as_of)
    return None if months is None else TimeAxis(months)


def timeline_spec(
    axis: TimeAxis | None, hazards: gpd.GeoDataFrame | None, releases: gpd.GeoDataFrame | None
) -> TimelineSpec | None:
    """What the time slider shows at each month's end: hectares still hazardous, or releases.

    With the submitted hazards, the hectares still hazardous at each month's end,
    ground counted once (:func:`minemap.render._analysis.hazardous_by_month`);
    without them, how many releases had been made.
    """
    if axis is None:
        return None
    months = [str(p) for p in axis.months]
    if hazards is not None:
        per_month = _analysis.hazardous_by_month(hazards, releases, axis.months)
        return TimelineSpec(
            title="Time slider: still hazardous at the end of the month",
            months=months,
            figures=[f"remaining {sym.format_area(max(v, 0.0))}" for v in per_month],
        )
    counts = np.bincount(axis.released(releases), minlength=len(months)).cumsum()
    return TimelineSpec(
        title="Time slider: released land at the end of the month",
        months=months,
        figures=[f"{sym.format_count(n)} releases" for n in counts],
    )


def _known(axis: TimeAxis | None, frame: pd.DataFrame) -> np.ndarray:
    return np.zeros(len(frame), dtype=int) if axis is None else axis.known(frame)


# --- minemap's layers -------------------------------------------------------------------


def add_districts(
    m: folium.Map,
    districts: gpd.GeoDataFrame,
    table: pd.DataFrame | None,
    remaining: gpd.GeoDataFrame,
    *,
    credit: str,
) -> LegendSection:
    """Districts shaded by remaining hectares, each with its row of the table."""
    lookup = c.figure_lookup(table, remaining)
    names = [c.text(v) for v in districts[s.DISTRICT]]
    figures = [lookup.get(n, lookup.get(s.canonical_district(n) or "")) for n in names]
    values = [None if f is None else f.get(s.REMAINING_AREA_HA) for f in figures]
    columns = [col for col in next(iter(lookup.values()), {}) if col != s.DISTRICT]
    if s.REMAINING_AREA_HA not in columns:
        columns.insert(0, s.REMAINING_AREA_HA)
    breaks = sym.class_breaks(values)
    others = alternative_names(districts)  # the search finds a district by any of its names
    styles = Styles()
    props = [
        {
            K.style: styles(sym.district_style(v, breaks)),
            K.tooltip: c.district_tip(n, rec, f, columns),
            K.search: n,
            **({K.aliases: a} if a else {}),
        }
        for n, rec, f, v, a in zip(names, records(districts), figures, values, others, strict=True)
    ]
    options = layer_options(
        styles.styles, c.district_labels(columns), "minemap-district", attribution=credit or None
    )
    GeoJsonLayer(
        feature_collection(districts.geometry, props), options, name=LAYER_DISTRICTS
    ).add_to(m)
    return c.district_legend(breaks)


def add_public_grid(m: folium.Map, remaining: gpd.GeoDataFrame) -> LegendSection:
    """Remaining contamination summed on a grid (``--public``): no perimeter, id or source."""
    grid = _analysis.public_grid(remaining)
    breaks = sym.class_breaks(grid[s.REMAINING_AREA_HA].tolist())
    colours = sym.ramp_hazard(len(breaks))
    styles = Styles()
    props = []
    for rec in grid.drop(columns="geometry").to_dict("records"):
        k = sym.class_index(rec[s.REMAINING_AREA_HA], breaks)
        style = {
            "color": "#7F0000",
            "weight": 0.5,
            "fillOpacity": 0.75,
            "fillColor": colours[k if k is not None else -1],
        }
        props.append({K.style: styles(style), K.tooltip: c.grid_tip(rec, _analysis.PUBLIC_CELL_M)})
    options = layer_options(styles.styles, c.GRID_LABELS, "minemap-grid")
    GeoJsonLayer(feature_collection(grid.geometry, props), options, name=LAYER_GRID).add_to(m)
    return c.grid_legend(breaks)


def add_released_land(
    m: folium.Map, releases: gpd.GeoDataFrame, axis: TimeAxis | None
) -> LegendSection:
    """Every release, styled by method; with a slider, drawn from its month on."""
    styles = Styles()
    until = None if axis is None else axis.released(releases)
    props = []
    for k, rec in enumerate(records(releases)):
        prop = {
            K.style: styles(sym.release_style(rec.get(s.METHOD))),
            K.tooltip: c.release_tip(rec),
        }
        if until is not None:
            prop[K.released] = int(until[k])
        props.append(prop)
    options = layer_options(
        styles.styles,
        c.RELEASE_LABELS,
        "minemap-release",
        time="release" if axis is not None else None,
    )
    GeoJsonLayer(feature_collection(releases.geometry, props), options, name=LAYER_RELEASES).add_to(
        m
    )
    return c.release_legend()


def _hazard_style(rec: dict) -> dict:
    """Fill by classification, outline by status; dash-dot where reports without a polygon
    released part of it (where is not known)."""
    style = sym.hazard_style(rec.get(s.CLASSIFICATION), rec.get(s.STATUS))
    if c.released_by_area(rec):
        style = {**style, "dashArray": c.AREA_ONLY_DASH}
    return style


def add_remaining_hazards(
    m: folium.Map, remaining: gpd.GeoDataFrame, axis: TimeAxis | None
) -> LegendSection:
    """What is left of each hazard: fill by classification, outline by status."""
    known = _known(axis, remaining)
    styles = Styles()
    props = [
        {
            K.style: styles(_hazard_style(rec)),
            K.tooltip: c.hazard_tip(rec),
            K.search: c.text(rec.get(s.HAZARD_ID)),
            K.known: int(known[k]),
        }
        for k, rec in enumerate(records(remaining))
    ]
    options = layer_options(
        styles.styles,
        c.HAZARD_LABELS,
        "minemap-hazard",
        time="hazard" if axis is not None else None,
    )
    GeoJsonLayer(feature_collection(remaining.geometry, props), options, name=LAYER_HAZARDS).add_to(
        m
    )
    return c.hazard_legend(remaining)


def add_released_later(
    m: folium.Map,
    hazards: gpd.GeoDataFrame | None,
    releases: gpd.GeoDataFrame | None,
    axis: TimeAxis | None,
) -> None:
    """Each release's overlap with each hazard, drawn as that hazard until its release month.

    Only with a time slider (``axis``) and the submitted hazards: nothing otherwise.
    """
    if axis is None or hazards is None or releases is None:
        return
    pending = _analysis.pending_pieces(hazards, releases)
    known, until = axis.known(pending), axis.released(pending)
    styles = Styles()
    props = [
        {
            K.style: styles(sym.hazard_style(rec.get(s.CLASSIFICATION), rec.get(s.STATUS))),
            K.tooltip: c.pending_tip(rec),
            K.known: int(known[k]),
            K.released: int(until[k]),
        }
        for k, rec in enumerate(records(pending))
    ]
    options = layer_options(styles.styles, c.PENDING_LABELS[:3], "minemap-pending", time="pending")
    GeoJsonLayer(feature_collection(pending.geometry, props), options, name=LAYER_PENDING).add_to(m)


def add_submitted_maps(m: folium.Map, hazards: gpd.GeoDataFrame) -> LegendSection:
    """The hazards as handed over: outlines, off when the page opens."""
    styles = Styles()
    props = [
        {K.style: styles(dict(sym.SUBMITTED_STYLE)), K.tooltip: c.submitted_tip(rec)}
        for rec in records(hazards)
    ]
    options = layer_options(styles.styles, c.SUBMITTED_LABELS, "minemap-submitted")
    GeoJsonLayer(
        feature_collection(hazards.geometry, props), options, name=LAYER_SUBMITTED, show=False
    ).add_to(m)
    return c.submitted_legend()


# --- layers from other modules -------------------------------------------------------


@dataclass(frozen=True)
class MapLayer:
    """An additional overlay for :func:`render_map` (``extra_layers``).

    Give either ``frame`` (drawn like minemap's own layers: one ``style``,
    tooltips and popups built as text from ``tooltip`` columns, so attribute
    text is always escaped) or ``element`` (any folium element with its own
    ``add_to``; it must not put data into folium templates, see the module
    docstring).

    Parameters
    ----------
    name
        Name in the layer control (escaped).
    frame
        Polygons, lines or points in any CRS.
    style
        Leaflet path options of every feature (``color``, ``fillColor``...).
    tooltip
        ``{label: column}``: the rows of each feature's tooltip.
    heading
        Column whose value heads each tooltip.
    legend
        ``[(label, style), ...]`` listed in the legend under ``name``.
    element
        A folium element added to the map as it is.
    show
        Drawn when the page opens.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> cells = gpd.GeoDataFrame({"n": [3]}, geometry=[shapely.box(46, 39, 47, 40)], crs=4326)
    >>> layer = MapLayer("Density", frame=cells, style={"color": "#000"}, tooltip={"Mines": "n"})
    """

    name: str
    frame: gpd.GeoDataFrame | None = None
    style: dict = field(default_factory=lambda: {"color": "#333333", "weight": 1})
    tooltip: dict[str, str] = field(default_factory=dict)
    heading: str | None = None
    legend: list[tuple[str, dict]] = field(default_factory=list)
    element: object | None = None
    show: bool = True


def add_extra_layers(m: folium.Map, extra_layers: Sequence) -> list[LegendSection]:
    """Further overlays (:class:`MapLayer` or alike), in order; their legend sections."""
    legend = []
    for number, layer in enumerate(extra_layers):
        _add_extra_layer(m, layer, number)
        items = [c.legend_item(str(label), dict(st)) for label, st in getattr(layer, "legend", [])]
        if items:
            legend.append(LegendSection(title=str(layer.name), items=items))
    return legend


def _add_extra_layer(m: folium.Map, layer, number: int) -> None:
    element = getattr(layer, "element", None)
    if element is not None:
        element.add_to(m)
        return
    frame = in_wgs84(layer.frame)
    tooltip = dict(getattr(layer, "tooltip", {}) or {})
    heading = getattr(layer, "heading", None)
    props = []
    for rec in records(frame):
        head = c.text(rec.get(heading)) if heading else str(layer.name)
        values = [c.format_extra(col, rec.get(col)) for col in tooltip.values()]
        props.append({K.style: 0, K.tooltip: {K.heading: head, K.values: values}})
    options = layer_options(
        [dict(getattr(layer, "style", None) or {})],
        list(tooltip),
        f"minemap-extra minemap-extra-{number}",
    )
    GeoJsonLayer(
        feature_collection(frame.geometry, props),
        options,
        name=str(layer.name),
        show=getattr(layer, "show", True),
    ).add_to(m)


# --- controls -------------------------------------------------------------------------


def add_controls(
    m: folium.Map,
    *,
    title: TitleSpec,
    search: SearchSpec,
    timeline: TimelineSpec | None,
    legend: list[LegendSection],
    bounds: list[list[float]] | None,
    credit: str = "",
) -> None:
    """The layer control, title box, full screen, measure, search, time slider and legend.

    Add them after every layer (the layer control lists the layers added by
    then). ``credit`` goes to the map's own attribution box (for a credit no
    layer carries); ``bounds`` (``[[south, west], [north, east]]``) is the
    view fitted when the page opens, and again when its frame changes size
    (printing) unless the user has moved the map.
    """
    if credit:
        m.add_child(
            MapScript(
                lambda name: (
                    f"{name}.attributionControl.addAttribution("
                    f"{script_json(html.escape(credit))});\n"
                )
            )
        )
    # Leaflet's layer control, written here rather than by folium.LayerControl:
    # folium's template would evaluate "{{ ... }}" in a layer's name.
    m.add_child(MapScript(lambda name: layer_control_js(m, name)))
    m.add_child(map_call("minemap.title", title))
    m.add_child(MapScript(lambda name: f"minemap.fullscreen({name});\nminemap.measure({name});\n"))
    m.add_child(map_call("minemap.search", search))
    if timeline is not None:
        m.add_child(map_call("minemap.timeline", timeline))
    m.add_child(map_call("minemap.legend", legend))
    if bounds is not None:
        m.fit_bounds(bounds, padding=(20, 20))
        m.add_child(map_call("minemap.fitted", bounds))
