"""The offline HTML map of remaining contamination.

:func:`render_map` draws, each as a layer that can be switched on and off:
districts shaded by remaining hectares, the remaining hazards (fill by
classification, outline by status), the released land by method and the
original submitted maps. :func:`write_map` saves it atomically.

Security (DESIGN §6): attribute text never reaches the page as HTML. Tooltips,
the title box and the legend are built in the browser with ``textContent``
from JSON that is escaped for a ``<script>`` element (see
:func:`minemap.render.offline.script_json`); the few strings Leaflet inserts as
HTML (layer names, attribution, page title) are escaped with
:func:`html.escape`. folium's ``GeoJsonTooltip``/``GeoJsonPopup`` (which run
``<img onerror=...>`` from a feature name) are not used, nor are folium
templates fed with data (they would evaluate ``{{ ... }}`` in it).
"""

from __future__ import annotations

import datetime as dt
import html
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element
from folium.map import Layer

from minemap import schema as s
from minemap.errors import OutputExistsError
from minemap.render import symbology as sym
from minemap.render.offline import OfflineMap, RawElement, script_json

__all__ = ["COORDINATE_DECIMALS", "SIMPLIFY_TOLERANCE", "render_map", "write_map"]

#: Display geometry is simplified by this many degrees (about 2 m here) with its
#: topology kept. Areas never come from display geometry.
SIMPLIFY_TOLERANCE = 2e-5
#: Coordinates in the page are rounded to this many decimals (0.1 m).
COORDINATE_DECIMALS = 6

_LAYER_DISTRICTS = "Districts: remaining hazardous area"
_LAYER_HAZARDS = "Remaining hazards"
_LAYER_RELEASES = "Released land"
_LAYER_SUBMITTED = "Submitted maps (as handed over)"

_TABLE_LABELS = {
    s.MAPPED_AREA_HA: "Mapped area",
    s.RELEASED_AREA_HA: "Released area",
    s.REMAINING_AREA_HA: "Remaining area",
    s.MAPPED_MINES: "Mines recorded",
    s.REMAINING_MINES_EST: "Remaining mines (est.)",
    s.HAZARDS: "Hazard records",
    s.SHARE_RELEASED: "Share released",
    s.MAPPED_MINES_AP: "Mines recorded AP",
    s.MAPPED_MINES_AT: "Mines recorded AT",
    s.REMAINING_MINES_AP_EST: "Remaining AP mines (est.)",
    s.REMAINING_MINES_AT_EST: "Remaining AT mines (est.)",
    **{col: f"Released: {method}" for method, col in s.RELEASED_AREA_BY_METHOD_HA.items()},
}

_CSS = """
.minemap-box { background: rgba(255,255,255,0.94); padding: 6px 9px; border-radius: 5px;
  box-shadow: 0 1px 5px rgba(0,0,0,0.4); font: 12px/1.35 "Helvetica Neue", Arial, sans-serif;
  color: #222; }
.minemap-title { max-width: 340px; }
.minemap-title-main { font-size: 16px; font-weight: bold; margin-bottom: 2px;
  overflow-wrap: break-word; }
.minemap-legend { max-height: 60vh; overflow-y: auto; }
.minemap-legend-head { font-weight: bold; margin: 5px 0 2px; }
.minemap-legend-head:first-child { margin-top: 0; }
.minemap-legend-row { display: flex; align-items: center; gap: 6px; white-space: nowrap; }
.minemap-swatch { flex: none; }
.minemap-tip { font: 12px/1.3 "Helvetica Neue", Arial, sans-serif; width: max-content;
  max-width: 380px; white-space: normal; }
.minemap-tip-head { font-weight: bold; font-size: 13px; margin-bottom: 3px;
  overflow-wrap: break-word; }
.minemap-tip table { border-collapse: collapse; }
.minemap-tip th { text-align: left; font-weight: normal; color: #555; padding: 0 8px 0 0;
  vertical-align: top; white-space: nowrap; }
.minemap-tip td { text-align: left; padding: 0; overflow-wrap: break-word; }
.leaflet-container { background: #e3e7ea; }
.leaflet-control-layers { font: 13px/1.5 "Helvetica Neue", Arial, sans-serif; }
"""

# Everything that turns data into page content goes through textContent or
# setAttribute, never innerHTML.
_JS = """
var minemap = (function () {
  "use strict";
  var SVG = "http://www.w3.org/2000/svg";
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }
  function tip(p) {
    var box = el("div", "minemap-tip");
    box.appendChild(el("div", "minemap-tip-head", p.h));
    var table = el("table");
    p.r.forEach(function (row) {
      var tr = table.insertRow();
      tr.appendChild(el("th", null, row[0]));
      tr.appendChild(el("td", null, row[1]));
    });
    box.appendChild(table);
    return box;
  }
  function geojson(data, o) {
    return L.geoJSON(data, {
      className: o.className,
      attribution: o.attribution || null,
      style: function (f) { return o.styles[f.properties.s]; },
      pointToLayer: function (f, latlng) { return L.circleMarker(latlng, {radius: 5}); },
      onEachFeature: function (f, layer) {
        layer.bindTooltip(function () { return tip(f.properties.t); },
                          {sticky: true, className: "minemap-tooltip"});
      }
    });
  }
  function swatch(st) {
    var svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("width", "24");
    svg.setAttribute("height", "14");
    svg.setAttribute("class", "minemap-swatch");
    var r = document.createElementNS(SVG, "rect");
    r.setAttribute("x", "1.5"); r.setAttribute("y", "1.5");
    r.setAttribute("width", "21"); r.setAttribute("height", "11");
    var filled = st.fill !== false && st.fillColor;
    r.setAttribute("fill", filled ? st.fillColor : "none");
    r.setAttribute("fill-opacity", filled ? String(st.fillOpacity) : "0");
    r.setAttribute("stroke", st.stroke === false ? "none" : (st.color || "#555"));
    r.setAttribute("stroke-width", String(Math.min(st.weight || 1, 2.5)));
    if (st.dashArray) { r.setAttribute("stroke-dasharray", st.dashArray); }
    svg.appendChild(r);
    return svg;
  }
  function control(map, position, cls, build, first) {
    var Box = L.Control.extend({
      onAdd: function () {
        var div = el("div", "minemap-box leaflet-control " + cls);
        build(div);
        L.DomEvent.disableClickPropagation(div);
        L.DomEvent.disableScrollPropagation(div);
        return div;
      }
    });
    var c = new Box({position: position}).addTo(map);
    if (first) {
      var node = c.getContainer();
      node.parentNode.insertBefore(node, node.parentNode.firstChild);
    }
    return c;
  }
  function title(map, spec) {
    return control(map, "topleft", "minemap-title", function (div) {
      div.appendChild(el("div", "minemap-title-main", spec.title));
      spec.lines.forEach(function (line) {
        div.appendChild(el("div", "minemap-title-line", line));
      });
    }, true);
  }
  function legend(map, spec) {
    return control(map, "bottomright", "minemap-legend", function (div) {
      spec.forEach(function (section) {
        div.appendChild(el("div", "minemap-legend-head", section.title));
        section.items.forEach(function (item) {
          var row = el("div", "minemap-legend-row");
          row.appendChild(swatch(item.style));
          row.appendChild(el("span", null, item.label));
          div.appendChild(row);
        });
      });
    }, false);
  }
  return {geojson: geojson, title: title, legend: legend};
})();
"""


# --- page elements ------------------------------------------------------------


class _GeoJsonLayer(Layer):
    """A GeoJSON overlay drawn by ``minemap.geojson`` (tooltips built with textContent).

    It is a folium ``Layer`` so that ``LayerControl`` lists it, but it writes
    its script itself as a :class:`RawElement`: folium's macro templates would
    parse the data as Jinja.
    """

    def __init__(
        self,
        features: str,
        styles: list[dict],
        *,
        name: str,
        class_name: str,
        show: bool = True,
        attribution: str | None = None,
    ) -> None:
        # Leaflet's layer control and attribution insert these as HTML.
        super().__init__(name=html.escape(name), overlay=True, control=True, show=show)
        self._name = "MinemapGeoJson"
        self.features = features
        self.options = {
            "styles": styles,
            "className": class_name,
            "attribution": html.escape(attribution) if attribution else None,
        }

    def render(self, **kwargs) -> None:
        var = self.get_name()
        code = f"var {var} = minemap.geojson({self.features}, {script_json(self.options)});\n"
        if self.show:
            code += f"{var}.addTo({self._parent.get_name()});\n"
        self.get_root().script.add_child(RawElement(code), name=var)


class _MapScript(Element):
    """A script that runs once the map exists; ``make`` gets the map's variable name."""

    def __init__(self, make: Callable[[str], str]) -> None:
        super().__init__()
        self._name = "MinemapScript"
        self.make = make

    def render(self, **kwargs) -> None:
        code = self.make(self._parent.get_name())
        self.get_root().script.add_child(RawElement(code), name=self.get_name())


# --- geometry for display -----------------------------------------------------


def _polygonal(geom):
    """Keep the polygons of a geometry collection (no Leaflet marker for stray points)."""
    parts = [
        p
        for p in shapely.get_parts(geom)
        if shapely.get_type_id(p) in (3, 6) and not shapely.is_empty(p)
    ]
    polys = [q for p in parts for q in shapely.get_parts(p)]
    return shapely.MultiPolygon(polys) if polys else None


def _display_geometries(geoms) -> np.ndarray:
    """GeoJSON text of each geometry simplified and rounded for display, ``None`` if empty."""
    arr = np.asarray(gpd.GeoSeries(geoms).to_numpy(), dtype=object)
    out = np.full(len(arr), None, dtype=object)
    present = np.array([g is not None for g in arr], dtype=bool)
    present[present] = ~shapely.is_empty(arr[present].astype(object))
    if not present.any():
        return out
    shown = arr[present]
    kinds = shapely.get_type_id(shown)
    odd = np.flatnonzero(kinds == 7)  # GeometryCollection
    for i in odd:
        shown[i] = _polygonal(shown[i])
    shown = shapely.simplify(shown, SIMPLIFY_TOLERANCE, preserve_topology=True)
    shown = shapely.transform(shown, lambda xy: np.round(xy, COORDINATE_DECIMALS))
    texts = shapely.to_geojson(shown)
    keep = ~shapely.is_empty(shown) & (shown != None)  # noqa: E711
    texts[~keep] = None
    out[present] = texts
    return out


def _feature_collection(geoms, props: list[dict]) -> tuple[str, int]:
    """A GeoJSON FeatureCollection as script-safe text, and how many features it has."""
    texts = _display_geometries(geoms)
    features = [
        f'{{"type":"Feature","geometry":{g},"properties":{script_json(p)}}}'
        for g, p in zip(texts, props, strict=True)
        if g is not None
    ]
    return '{"type":"FeatureCollection","features":[' + ",".join(features) + "]}", len(features)


class _Styles:
    """Numbers each distinct style so features carry an index, not a copy."""

    def __init__(self) -> None:
        self.styles: list[dict] = []
        self._index: dict[str, int] = {}

    def __call__(self, style: dict) -> int:
        key = script_json(style)
        if key not in self._index:
            self._index[key] = len(self.styles)
            self.styles.append(style)
        return self._index[key]


# --- tooltip content ----------------------------------------------------------


def _text(value: object) -> str:
    return "" if sym.is_missing(value) else str(value).strip()


def _rows(*pairs: tuple[str, str]) -> list[list[str]]:
    """Tooltip rows, leaving out the empty ones."""
    return [[label, value] for label, value in pairs if value]


def _mines_ap_at(record: dict) -> str:
    ap, at = record.get(s.MINES_AP), record.get(s.MINES_AT)
    if sym.is_missing(ap) and sym.is_missing(at):
        return ""
    return f"{sym.format_count(ap) or '?'} / {sym.format_count(at) or '?'}"


def _status_text(value: object) -> str:
    return _text(value).replace("_", " ")


def _hazard_tip(record: dict) -> dict:
    return {
        "h": f"Hazard {_text(record.get(s.HAZARD_ID))}",
        "r": _rows(
            ("District", _text(record.get(s.DISTRICT))),
            ("Classification", _text(record.get(s.CLASSIFICATION))),
            ("Status", _status_text(record.get(s.STATUS))),
            ("Mines recorded AP / AT", _mines_ap_at(record)),
            ("Mapped area", sym.format_area(record.get(s.MAPPED_AREA_HA))),
            ("Released area", sym.format_area(record.get(s.RELEASED_AREA_HA))),
            ("Remaining area", sym.format_area(record.get(s.REMAINING_AREA_HA))),
            ("Remaining mines (est.)", sym.format_count(record.get(s.REMAINING_MINES_EST))),
            ("Source", _text(record.get(s.SOURCE))),
            ("Submitted", sym.format_date(record.get(s.SUBMITTED_ON))),
        ),
    }


def _submitted_tip(record: dict) -> dict:
    return {
        "h": f"Submitted map {_text(record.get(s.HAZARD_ID))}",
        "r": _rows(
            ("District", _text(record.get(s.DISTRICT))),
            ("Classification", _text(record.get(s.CLASSIFICATION))),
            ("Status", _status_text(record.get(s.STATUS))),
            ("Mines recorded AP / AT", _mines_ap_at(record)),
            ("Source", _text(record.get(s.SOURCE))),
            ("Submitted", sym.format_date(record.get(s.SUBMITTED_ON))),
        ),
    }


def _items_found(record: dict) -> str:
    parts = [
        f"{label} {sym.format_count(record.get(col))}"
        for label, col in (("AP", s.ITEMS_AP), ("AT", s.ITEMS_AT), ("UXO", s.ITEMS_UXO))
        if not sym.is_missing(record.get(col))
    ]
    return " · ".join(parts)


def _release_tip(record: dict) -> dict:
    return {
        "h": f"Release {_text(record.get(s.RELEASE_ID))}",
        "r": _rows(
            ("Method", _text(record.get(s.METHOD))),
            ("Date", sym.format_date(record.get(s.RELEASED_ON))),
            ("Area", sym.format_area(record.get(s.RELEASED_AREA_HA))),
            ("Items found", _items_found(record)),
            ("Hazard", _text(record.get(s.HAZARD_ID))),
            ("Organisation", _text(record.get(s.ORGANISATION))),
        ),
    }


def _format_figure(column: str, value: object) -> str:
    if sym.is_missing(value):
        return ""
    if column.endswith("_ha"):
        return sym.format_area(value)
    if column.startswith("share"):
        return sym.format_share(value)
    if isinstance(value, int | float | np.integer | np.floating):
        return sym.format_count(value)
    return _text(value)


def _district_tip(name: str, record: dict, figures: dict | None) -> dict:
    rows = [
        ("Name (Azerbaijani)", _text(record.get(s.NAME_AZ))),
        ("ISO 3166-2", _text(record.get(s.ISO_3166_2))),
    ]
    if figures is None:
        rows.append(("Remaining area", "no hazard recorded"))
    else:
        rows += [
            (_TABLE_LABELS.get(col, col), _format_figure(col, value))
            for col, value in figures.items()
            if col != s.DISTRICT
        ]
    return {"h": name, "r": _rows(*rows)}


# --- figures per district -------------------------------------------------------


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


def _figure_lookup(table: pd.DataFrame | None, remaining: gpd.GeoDataFrame) -> dict:
    if table is None:
        if s.DISTRICT not in remaining.columns:
            return {}
        table = _figures_from_remaining(remaining)
    lookup = {}
    for record in table.to_dict("records"):
        name = _text(record.get(s.DISTRICT))
        lookup[name] = record
        key = s.canonical_district(name)
        if key is not None:
            lookup.setdefault(key, record)
    return lookup


# --- legend and title -----------------------------------------------------------


def _legend_item(label: str, style: dict) -> dict:
    return {"label": label, "style": style}


def _district_legend(breaks: list[float]) -> dict:
    colours = sym.ramp(len(breaks))
    items = []
    lower = 0.0
    for upper, colour in zip(breaks, colours, strict=True):
        label = f"{lower:,.0f} – {upper:,.0f} ha" if upper >= 10 else f"{lower:,g} – {upper:,g} ha"
        items.append(_legend_item(label, {**sym.DISTRICT_OUTLINE, "fillColor": colour}))
        lower = upper
    items.append(
        _legend_item("none recorded", {**sym.DISTRICT_OUTLINE, "fillColor": sym.DISTRICT_NO_DATA})
    )
    return {"title": "Remaining hazardous area by district", "items": items}


def _hazard_legend(remaining: gpd.GeoDataFrame) -> dict:
    outline = {"fill": False, "color": "#666666", "weight": 1}
    items = [
        _legend_item("CHA: confirmed hazardous area", {**outline, **_fill(sym.CHA_FILL)}),
        _legend_item("SHA: suspected hazardous area", {**outline, **_fill(sym.SHA_FILL)}),
    ]
    if s.CLASSIFICATION not in remaining.columns or any(
        _text(v).upper() not in sym.HAZARD_FILLS for v in remaining[s.CLASSIFICATION]
    ):
        items.append(_legend_item("not classified", {**outline, **_fill(sym.UNCLASSIFIED_FILL)}))
    items.extend(
        _legend_item(
            f"outline: {status.replace('_', ' ')}", {**sym.STATUS_OUTLINES[status], "fill": False}
        )
        for status in sym.HAZARD_STATUSES
    )
    return {"title": "Remaining hazards", "items": items}


def _fill(colour: str) -> dict:
    return {"fill": True, "fillColor": colour, "fillOpacity": sym.HAZARD_FILL_OPACITY}


def _as_of_date(as_of, remaining: gpd.GeoDataFrame, table) -> pd.Timestamp | None:
    for value in (as_of, remaining.attrs.get("as_of"), getattr(table, "attrs", {}).get("as_of")):
        if not sym.is_missing(value):
            try:
                return pd.Timestamp(value).tz_localize(None).normalize()
            except (TypeError, ValueError) as exc:
                raise ValueError(
                    f"as_of: {value!r} is not a date; give a datetime.date or 'YYYY-MM-DD'"
                ) from exc
    return None


def _title_lines(
    as_of: pd.Timestamp | None, releases: gpd.GeoDataFrame | None, table: pd.DataFrame | None
) -> list[str]:
    if as_of is not None:
        lines = [f"As of {as_of.date().isoformat()}"]
    elif releases is not None and len(releases) and s.RELEASED_ON in releases.columns:
        latest = pd.to_datetime(releases[s.RELEASED_ON], errors="coerce").max()
        lines = [
            f"As of {latest.date().isoformat()} (latest release)"
            if not pd.isna(latest)
            else f"Rendered {dt.date.today().isoformat()}"
        ]
    else:
        lines = [f"Rendered {dt.date.today().isoformat()}"]
    if table is not None and s.REMAINING_AREA_HA in table.columns:
        area = pd.to_numeric(table[s.REMAINING_AREA_HA], errors="coerce").sum()
        line = f"Remaining: {sym.format_area(area)}"
        if s.REMAINING_MINES_EST in table.columns:
            mines = pd.to_numeric(table[s.REMAINING_MINES_EST], errors="coerce").sum()
            line += f", about {sym.format_count(mines)} mines (est.)"
        lines.append(line)
        outside = table[table[s.DISTRICT].astype(str) == s.UNASSIGNED]
        if len(outside):
            out_area = pd.to_numeric(outside[s.REMAINING_AREA_HA], errors="coerce").sum()
            if out_area > 0:
                lines.append(f"of which outside every district: {sym.format_area(out_area)}")
    return lines


# --- the map ------------------------------------------------------------------


def _bounds(*frames) -> list[list[float]] | None:
    boxes = []
    for frame in frames:
        if frame is None or not len(frame):
            continue
        geoms = frame.geometry.to_numpy()
        geoms = geoms[~shapely.is_missing(geoms)]
        geoms = geoms[~shapely.is_empty(geoms)]
        if len(geoms):
            boxes.append(shapely.total_bounds(geoms))
    if not boxes:
        return None
    b = np.array(boxes)
    return [
        [float(b[:, 1].min()), float(b[:, 0].min())],
        [float(b[:, 3].max()), float(b[:, 2].max())],
    ]


def _released_by(releases: gpd.GeoDataFrame, as_of: pd.Timestamp | None) -> gpd.GeoDataFrame:
    if as_of is None or s.RELEASED_ON not in releases.columns:
        return releases
    dates = pd.to_datetime(releases[s.RELEASED_ON], errors="coerce")
    if getattr(dates.dt, "tz", None) is not None:
        dates = dates.dt.tz_localize(None)
    return releases[(dates <= as_of).to_numpy()]


def _records(frame: pd.DataFrame) -> list[dict]:
    return frame.drop(columns=frame.geometry.name).to_dict("records")


def _in_wgs84(frame: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame | None:
    if frame is None or frame.crs is None or frame.crs.equals(s.CANONICAL_CRS):
        return frame
    return frame.to_crs(s.CANONICAL_CRS)


def render_map(
    remaining: gpd.GeoDataFrame,
    table: pd.DataFrame | None = None,
    *,
    hazards: gpd.GeoDataFrame | None = None,
    releases: gpd.GeoDataFrame | None = None,
    districts: gpd.GeoDataFrame | None = None,
    as_of: dt.date | str | None = None,
    title: str = "minemap",
) -> folium.Map:
    """Draw remaining contamination on a self-contained, offline HTML map.

    Parameters
    ----------
    remaining
        Remaining hazard pieces as returned by :func:`minemap.remaining` (one
        row per hazard and district; empty geometries, fully released, are
        skipped).
    table
        Per-district table from :func:`minemap.by_district`; it shades the
        districts and fills their tooltips. Without it, the figures are summed
        from ``remaining``.
    hazards
        The original submitted maps, drawn as outlines (off at first).
    releases
        Released land, styled by method. With ``as_of``, later releases are
        not drawn.
    districts
        District polygons: the base of the map, shaded by remaining hectares.
    as_of
        The date the figures refer to, shown in the title box. By default the
        as-of date recorded on ``remaining`` or ``table``.
    title
        Text of the title box and of the page title.

    Returns
    -------
    folium.Map
        An :class:`~minemap.render.offline.OfflineMap` that loads nothing from
        the network; save it with :func:`write_map`.

    Examples
    --------
    >>> import minemap as mm
    >>> from minemap import datasets
    >>> from minemap.render import render_map
    >>> hz, rel, dist = datasets.hazards(), datasets.releases(), datasets.districts()
    >>> rem = mm.remaining(hz, rel, dist)
    >>> m = render_map(rem, mm.by_district(rem), hazards=hz, releases=rel, districts=dist)
    >>> "<script src=" in m.get_root().render()
    False
    """
    remaining, hazards, releases, districts = map(
        _in_wgs84, (remaining, hazards, releases, districts)
    )
    as_of_day = _as_of_date(as_of, remaining, table)
    if releases is not None:
        releases = _released_by(releases, as_of_day)

    m = OfflineMap(tiles=None, control_scale=True, extra_css=_CSS, extra_js=_JS)
    m.get_root().title = html.escape(str(title))
    legend: list[dict] = []

    if districts is not None:
        lookup = _figure_lookup(table, remaining)
        names = [_text(v) for v in districts[s.DISTRICT]]
        figures = [lookup.get(n, lookup.get(s.canonical_district(n) or "")) for n in names]
        values = [None if f is None else f.get(s.REMAINING_AREA_HA) for f in figures]
        breaks = sym.class_breaks(values)
        styles = _Styles()
        props = [
            {"s": styles(sym.district_style(v, breaks)), "t": _district_tip(n, rec, f)}
            for n, rec, f, v in zip(names, _records(districts), figures, values, strict=True)
        ]
        data, _ = _feature_collection(districts.geometry, props)
        _GeoJsonLayer(
            data,
            styles.styles,
            name=_LAYER_DISTRICTS,
            class_name="minemap-district",
            attribution=sym.DISTRICTS_ATTRIBUTION,
        ).add_to(m)
        legend.append(_district_legend(breaks))

    if releases is not None:
        styles = _Styles()
        props = [
            {"s": styles(sym.release_style(rec.get(s.METHOD))), "t": _release_tip(rec)}
            for rec in _records(releases)
        ]
        data, _ = _feature_collection(releases.geometry, props)
        _GeoJsonLayer(
            data, styles.styles, name=_LAYER_RELEASES, class_name="minemap-release"
        ).add_to(m)
        legend.append(
            {
                "title": "Released land",
                "items": [
                    _legend_item(sym.method_label(method), sym.release_style(method))
                    for method in sym.RELEASE_METHODS
                ],
            }
        )

    styles = _Styles()
    props = [
        {
            "s": styles(sym.hazard_style(rec.get(s.CLASSIFICATION), rec.get(s.STATUS))),
            "t": _hazard_tip(rec),
        }
        for rec in _records(remaining)
    ]
    data, _ = _feature_collection(remaining.geometry, props)
    _GeoJsonLayer(data, styles.styles, name=_LAYER_HAZARDS, class_name="minemap-hazard").add_to(m)
    legend.append(_hazard_legend(remaining))

    if hazards is not None:
        styles = _Styles()
        props = [
            {"s": styles(dict(sym.SUBMITTED_STYLE)), "t": _submitted_tip(rec)}
            for rec in _records(hazards)
        ]
        data, _ = _feature_collection(hazards.geometry, props)
        _GeoJsonLayer(
            data, styles.styles, name=_LAYER_SUBMITTED, class_name="minemap-submitted", show=False
        ).add_to(m)
        legend.append(
            {
                "title": "Submitted maps",
                "items": [_legend_item("as handed over (outline)", sym.SUBMITTED_STYLE)],
            }
        )

    folium.LayerControl(position="topright", collapsed=False).add_to(m)
    title_spec = {"title": str(title), "lines": _title_lines(as_of_day, releases, table)}
    m.add_child(_MapScript(lambda name: f"minemap.title({name}, {script_json(title_spec)});\n"))
    m.add_child(_MapScript(lambda name: f"minemap.legend({name}, {script_json(legend)});\n"))

    bounds = _bounds(remaining, releases, hazards) or _bounds(districts)
    if bounds is not None:
        m.fit_bounds(bounds, padding=(20, 20))
    return m


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_map(m: folium.Map, path, *, overwrite: bool = False) -> Path:
    """Save a map as one self-contained HTML file, atomically.

    The page is written to a temporary file in the same folder, then moved
    into place with :func:`os.replace`, so a crash never leaves half a file.

    Parameters
    ----------
    m
        The map from :func:`render_map`.
    path
        Where to write the HTML file.
    overwrite
        Replace an existing file.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    minemap.errors.OutputExistsError
        If ``path`` exists and ``overwrite`` is false.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import minemap as mm
    >>> from minemap import datasets
    >>> from minemap.render import render_map, write_map
    >>> rem = mm.remaining(datasets.hazards(), datasets.releases(), datasets.districts())
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "map.html"
    >>> write_map(render_map(rem), out).stat().st_size > 100_000
    True
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise OutputExistsError(
            f"{path}: file exists; pass overwrite=True (--overwrite on the command line) "
            "to replace it, or choose another output path"
        )
    page = m.get_root().render()
    folder = path.parent if str(path.parent) else Path()
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    try:
        # mkstemp makes the file private (0600); give it the usual permissions.
        os.chmod(tmp, 0o666 & ~_umask())
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(page)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
