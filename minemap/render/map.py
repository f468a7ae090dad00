"""The offline HTML map of remaining contamination.

:func:`render_map` draws, each as a layer that can be switched on and off:
districts shaded by remaining hectares, the remaining hazards (fill by
classification, outline by status), the released land by method and the
original submitted maps. :func:`write_map` saves it atomically.

Security (SECURITY.md): attribute text never reaches the page as HTML. Tooltips,
the title box and the legend are built in the browser with ``textContent``
from JSON that is escaped for a ``<script>`` element (see
:func:`minemap.render.offline.script_json`); the few strings Leaflet inserts as
HTML (layer names, attribution, page title) are escaped with
:func:`html.escape`. folium's ``GeoJsonTooltip``/``GeoJsonPopup`` (which run
``<img onerror=...>`` from a feature name) are not used, nor are folium
templates fed with data (they would evaluate ``{{ ... }}`` in it). Every lookup
table the page's script keys by text from the data is a ``Map``: a plain object
already "has" ``constructor``, ``__proto__``, ``toString``... The tile URL is
checked by :func:`check_tile_url` and reaches the page as JSON data.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element
from folium.map import Layer

from minemap import geodesy, outputs, overlay
from minemap import schema as s
from minemap.contamination import area_only_releases, released_by
from minemap.render import symbology as sym
from minemap.render.offline import OfflineMap, RawElement, script_json

__all__ = [
    "COORDINATE_DECIMALS",
    "LARGE_MAP_BYTES",
    "PUBLIC_CELL_M",
    "SIMPLIFY_TOLERANCE",
    "MapLayer",
    "check_tile_url",
    "districts_attribution",
    "public_grid",
    "render_map",
    "write_map",
]

#: Display geometry is simplified by this many degrees (about 2 m here) with its
#: topology kept. Areas never come from display geometry.
SIMPLIFY_TOLERANCE = 2e-5
#: Coordinates in the page are rounded to this many decimals (about 1 m).
COORDINATE_DECIMALS = 5
#: A page larger than this (in bytes) is written with a warning: browsers open
#: it slowly or not at all (docs/map.md, "Size of the map").
LARGE_MAP_BYTES = 25_000_000

log = logging.getLogger(__name__)

_LAYER_DISTRICTS = "Districts: remaining hazardous area"
_LAYER_HAZARDS = "Remaining hazards"
_LAYER_RELEASES = "Released land"
_LAYER_SUBMITTED = "Submitted maps (as handed over)"
_LAYER_PENDING = "Released later (hazardous before its release)"
_LAYER_GRID = "Remaining contamination on a grid"

_TABLE_LABELS = {
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
.minemap-button { font: bold 14px/1 Arial, sans-serif; padding: 5px 8px; cursor: pointer;
  background: #fff; border: 1px solid #999; border-radius: 4px; }
.minemap-measure-out { margin-left: 6px; }
.minemap-measuring { cursor: crosshair; }
.minemap-measuring .leaflet-overlay-pane .leaflet-interactive { pointer-events: none; }
.minemap-fullwindow { position: fixed !important; inset: 0; width: 100vw !important;
  height: 100vh !important; z-index: 10000; }
.minemap-search-input { width: 210px; font-size: 13px; padding: 3px; }
.minemap-search-out { color: #A00; }
.minemap-search-out:empty { display: none; }
.minemap-timeline { min-width: 300px; }
.minemap-timeline-head { font-weight: bold; }
.minemap-timeline-range { width: 100%; }
@media print {
  /* On paper: the title, legend, scale and credits; none of the controls. */
  .leaflet-control-zoom, .leaflet-control-layers, .minemap-search, .minemap-timeline,
  .minemap-fullscreen, .minemap-measure { display: none !important; }
  .leaflet-container { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  .minemap-legend { max-height: none; }
  .leaflet-control-attribution { max-width: 65%; }
}
.leaflet-control-layers { font: 13px/1.5 "Helvetica Neue", Arial, sans-serif; }
.leaflet-image-layer.minemap-density { image-rendering: pixelated; }
"""

# Everything that turns data into page content goes through textContent,
# setAttribute or DOM properties, never innerHTML.
_JS = """
var minemap = (function () {
  "use strict";
  var SVG = "http://www.w3.org/2000/svg";
  // Lookup tables keyed by text from the data are Maps, never plain objects: a
  // plain object already "has" constructor, __proto__, toString...
  var index = new Map();  // search key -> [{layer, group}]
  var keys = [];
  var timed = [];      // layers filtered by the time slider
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }
  // A tooltip: p.h is the heading, p.v the values aligned with the layer's labels.
  // A number among the values is an index into the layer's shared strings.
  function tip(p, labels, strings) {
    var box = el("div", "minemap-tip");
    box.appendChild(el("div", "minemap-tip-head", p.h));
    var table = el("table");
    (p.v || []).forEach(function (value, i) {
      if (typeof value === "number") { value = strings[value]; }
      if (value === "" || value === null || value === undefined) { return; }
      var tr = table.insertRow();
      tr.appendChild(el("th", null, labels[i]));
      tr.appendChild(el("td", null, value));
    });
    box.appendChild(table);
    return box;
  }
  function remember(key, layer, group) {
    if (key === undefined || key === null || key === "") { return; }
    key = String(key);
    if (!index.has(key)) { index.set(key, []); keys.push(key); }
    index.get(key).push({layer: layer, group: group});
  }
  // Coordinates arrive as integer deltas (see _encode_geometry in map.py).
  function ring(d, scale) {
    var out = [], x = 0, y = 0;
    for (var i = 0; i < d.length; i += 2) {
      x += d[i]; y += d[i + 1];
      out.push([x / scale, y / scale]);
    }
    return out;
  }
  function decode(g, scale) {
    if (!g || g.d === undefined) { return; }
    var d = g.d;
    if (g.type === "Point") { g.coordinates = ring(d, scale)[0]; }
    else if (g.type === "LineString" || g.type === "MultiPoint") { g.coordinates = ring(d, scale); }
    else if (g.type === "Polygon" || g.type === "MultiLineString") {
      g.coordinates = d.map(function (r) { return ring(r, scale); });
    } else if (g.type === "MultiPolygon") {
      g.coordinates = d.map(function (p) {
        return p.map(function (r) { return ring(r, scale); });
      });
    }
    delete g.d;
  }
  function geojson(data, o) {
    var strings = data.strings || [];
    var group = L.geoJSON(null, {
      className: o.className,
      attribution: o.attribution || null,
      style: function (f) { return o.styles[f.properties.s]; },
      pointToLayer: function (f, latlng) { return L.circleMarker(latlng, {radius: 5}); },
      onEachFeature: function (f, layer) {
        var p = f.properties;
        layer.bindTooltip(function () { return tip(p.t, o.labels, strings); },
                          {sticky: true, className: "minemap-tooltip"});
        layer.bindPopup(function () { return tip(p.t, o.labels, strings); },
                        {className: "minemap-popup", maxWidth: 420});
        remember(p.i, layer, group);
      }
    });
    data.features.forEach(function (f) {
      f.type = "Feature";  // left out of the page to save bytes
      decode(f.geometry, data.scale);
    });
    group.addData(data);
    if (o.time) {
      var all = group.getLayers();
      timed.push({group: group, kind: o.time, layers: all});
    }
    return group;
  }
  // Which features are drawn at month m (index into the slider's months):
  // a = month first known (submitted), z = month released.
  function visibleAt(kind, p, m) {
    var known = p.a === undefined || p.a <= m;
    if (kind === "release") { return p.z <= m; }
    if (kind === "pending") { return known && m < p.z; }
    return known;
  }
  function showMonth(m) {
    timed.forEach(function (t) {
      t.layers.forEach(function (layer) {
        var want = visibleAt(t.kind, layer.feature.properties, m);
        var has = t.group.hasLayer(layer);
        if (want && !has) { t.group.addLayer(layer); }
        if (!want && has) { t.group.removeLayer(layer); }
      });
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
  function button(parent, text, label) {
    var b = el("button", "minemap-button", text);
    b.type = "button";
    b.title = label;
    b.setAttribute("aria-label", label);
    parent.appendChild(b);
    return b;
  }
  // Full screen with the Fullscreen API, or the whole window where it is refused.
  function fullscreen(map) {
    return control(map, "topleft", "minemap-fullscreen", function (div) {
      var b = button(div, "Full screen", "Full screen");
      var box = map.getContainer();
      b.addEventListener("click", function () {
        if (document.fullscreenElement) { document.exitFullscreen(); return; }
        var fallback = function () {
          box.classList.toggle("minemap-fullwindow");
          map.invalidateSize();
        };
        if (box.classList.contains("minemap-fullwindow") || !box.requestFullscreen) {
          fallback();
        } else {
          box.requestFullscreen().catch(fallback);
        }
      });
      document.addEventListener("fullscreenchange", function () { map.invalidateSize(); });
    }, false);
  }
  // Spherical polygon area (m^2), as Leaflet.draw's GeometryUtil.geodesicArea.
  function sphericalArea(latlngs) {
    var R = 6378137, d2r = Math.PI / 180, area = 0, n = latlngs.length;
    if (n < 3) { return 0; }
    for (var i = 0; i < n; i++) {
      var p1 = latlngs[i], p2 = latlngs[(i + 1) % n];
      area += (p2.lng - p1.lng) * d2r *
        (2 + Math.sin(p1.lat * d2r) + Math.sin(p2.lat * d2r));
    }
    return Math.abs(area * R * R / 2);
  }
  function fmtDistance(m) {
    return m >= 1000 ? (m / 1000).toFixed(2) + " km" : Math.round(m) + " m";
  }
  function fmtArea(m2) {
    return m2 >= 1e4 ? (m2 / 1e4).toFixed(2) + " ha" : Math.round(m2) + " m\\u00B2";
  }
  // Click points to measure a path and the area it encloses; Clear ends.
  function measure(map) {
    var points = [], drawn = L.layerGroup().addTo(map), on = false, out, b;
    function redraw() {
      drawn.clearLayers();
      var dist = 0;
      for (var i = 1; i < points.length; i++) { dist += map.distance(points[i - 1], points[i]); }
      points.forEach(function (p) {
        L.circleMarker(p, {radius: 3, color: "#0044AA", interactive: false}).addTo(drawn);
      });
      if (points.length > 1) {
        L.polyline(points, {color: "#0044AA", weight: 2, interactive: false}).addTo(drawn);
      }
      if (points.length > 2) {
        L.polygon(points, {color: "#0044AA", weight: 1, dashArray: "4 4", fillOpacity: 0.1,
                           interactive: false}).addTo(drawn);
      }
      out.textContent = on ? (points.length < 2 ? "Click points on the map" :
        "Distance " + fmtDistance(dist) +
        (points.length > 2 ? " \\u00B7 Area " + fmtArea(sphericalArea(points)) : "")) : "";
    }
    // While measuring, a click is a point: no popup opens to swallow the next one.
    map.on("popupopen", function () { if (on) { map.closePopup(); } });
    map.on("click", function (e) {
      if (!on) { return; }
      points.push(e.latlng);
      redraw();
    });
    return control(map, "topleft", "minemap-measure", function (div) {
      b = button(div, "Measure", "Measure distance and area");
      out = el("span", "minemap-measure-out");
      div.appendChild(out);
      b.addEventListener("click", function () {
        on = !on;
        points = [];
        map.closePopup();
        b.textContent = on ? "Clear" : "Measure";
        map.getContainer().classList.toggle("minemap-measuring", on);
        redraw();
      });
    }, false);
  }
  function search(map, spec) {
    return control(map, "topleft", "minemap-search", function (div) {
      var input = el("input", "minemap-search-input");
      input.type = "search";
      input.placeholder = spec.placeholder;
      input.setAttribute("aria-label", spec.placeholder);
      var listId = "minemap-search-list";
      var list = el("datalist");
      list.id = listId;
      keys.slice().sort().forEach(function (k) {
        var o = document.createElement("option");
        o.value = k;
        list.appendChild(o);
      });
      input.setAttribute("list", listId);
      var out = el("div", "minemap-search-out");
      div.appendChild(input);
      div.appendChild(list);
      div.appendChild(out);
      function go() {
        var q = input.value.trim();
        if (!q) { out.textContent = ""; return; }
        var hits = index.get(q);
        if (!hits) {
          var low = q.toLowerCase();
          var k = keys.filter(function (x) { return x.toLowerCase().indexOf(low) >= 0; });
          hits = k.length ? index.get(k[0]) : null;
          if (hits) { input.value = k[0]; }
        }
        if (!hits) { out.textContent = "Not found: " + q; return; }
        out.textContent = "";
        hits = hits.filter(function (h) { return h.group.hasLayer(h.layer); }).concat(hits);
        var hit = hits[0];
        if (!map.hasLayer(hit.group)) { map.addLayer(hit.group); }
        if (!hit.group.hasLayer(hit.layer)) {
          out.textContent = "Not drawn at the slider's month";
          return;
        }
        var bounds = hit.layer.getBounds ? hit.layer.getBounds() : null;
        if (bounds) { map.fitBounds(bounds, {maxZoom: 15, animate: false}); }
        hit.layer.openPopup(bounds ? bounds.getCenter() : undefined);
      }
      input.addEventListener("keydown", function (e) { if (e.key === "Enter") { go(); } });
      input.addEventListener("change", go);
    }, false);
  }
  function timeline(map, spec) {
    return control(map, "bottomleft", "minemap-timeline", function (div) {
      var head = el("div", "minemap-timeline-head", spec.title);
      var range = el("input", "minemap-timeline-range");
      range.type = "range";
      range.min = "0";
      range.max = String(spec.months.length - 1);
      range.step = "1";
      range.value = range.max;
      range.setAttribute("aria-label", spec.title);
      var out = el("div", "minemap-timeline-out");
      var pending = false;
      function update() {
        pending = false;
        var m = Number(range.value);
        showMonth(m);
        out.textContent = "End of " + spec.months[m] + ": " + spec.figures[m];
      }
      // While dragging, redraw once per frame at most, at the latest month reached.
      range.addEventListener("input", function () {
        var m = Number(range.value);
        out.textContent = "End of " + spec.months[m] + ": " + spec.figures[m];
        if (!pending) { pending = true; window.requestAnimationFrame(update); }
      });
      div.appendChild(head);
      div.appendChild(range);
      div.appendChild(out);
      update();
    }, false);
  }
  // The map's frame changes size when the page is printed (or the window
  // resized): unless the user has moved the map since, fit the data to the new
  // frame, as when the page opened.
  function fitted(map, bounds) {
    var bbox = L.latLngBounds(bounds);
    var done = null;  // the view we fitted: [centre, zoom]
    var waiting = false;
    // Leaflet keeps the centre through a resize to within a pixel (rounding).
    function untouched() {
      return map.getZoom() === done[1] &&
        map.project(map.getCenter()).distanceTo(map.project(done[0])) < 2;
    }
    function refit() {
      waiting = false;
      map.invalidateSize({animate: false});
      var size = map.getSize();
      // A frame hidden or too small for the padding has no view to fit.
      if (size.x > 60 && size.y > 60 && untouched()) {
        map.fitBounds(bbox, {padding: [20, 20], animate: false});
        done = [map.getCenter(), map.getZoom()];
      }
    }
    function soon() {
      if (!waiting) { waiting = true; window.requestAnimationFrame(refit); }
    }
    done = [map.getCenter(), map.getZoom()];
    window.addEventListener("resize", soon);
    window.addEventListener("beforeprint", refit);
    window.addEventListener("afterprint", soon);
    var printing = window.matchMedia ? window.matchMedia("print") : null;
    if (printing && printing.addEventListener) { printing.addEventListener("change", soon); }
  }
  return {geojson: geojson, title: title, legend: legend, fullscreen: fullscreen,
          measure: measure, search: search, timeline: timeline, showMonth: showMonth,
          fitted: fitted};
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
        labels: list[str] = (),
        time: str | None = None,
    ) -> None:
        # The name is escaped where it reaches the page (see _layer_control_js).
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "MinemapGeoJson"
        self.features = features
        self.options = {
            "styles": styles,
            "labels": list(labels),
            "className": class_name,
            "attribution": html.escape(attribution) if attribution else None,
            "time": time,
        }

    def render(self, **kwargs) -> None:
        var = self.get_name()
        code = f"var {var} = minemap.geojson({self.features}, {script_json(self.options)});\n"
        if self.show:
            code += f"{var}.addTo({self._parent.get_name()});\n"
        self.get_root().script.add_child(RawElement(code), name=var)


class _TileLayer(Layer):
    """An online base layer: ``L.tileLayer`` with its URL template passed as JSON data.

    folium's ``TileLayer`` renders its URL through a Jinja template, which
    strips ``{# ... #}`` and fails on a lone ``{#``; here the URL (checked by
    :func:`check_tile_url`) is only ever data.
    """

    def __init__(self, url: str, *, name: str, attribution: str) -> None:
        super().__init__(name=name, overlay=False, control=True, show=True)
        self._name = "MinemapTiles"
        self.url = check_tile_url(url)
        self.options = {"attribution": html.escape(attribution), "maxZoom": 19}

    def render(self, **kwargs) -> None:
        var = self.get_name()
        code = (
            f"var {var} = L.tileLayer({script_json(self.url)}, {script_json(self.options)});\n"
            f"{var}.addTo({self._parent.get_name()});\n"
        )
        self.get_root().script.add_child(RawElement(code), name=var)


#: The longest tile URL template taken (browsers and servers cut URLs near 2,000).
TILE_URL_MAX_LENGTH = 2000
_TILE_FIELDS = ("{z}", "{x}", "{y}")
_TILE_BRACES = re.compile(r"\{[zxys]\}")
# Characters a URL never holds unencoded (RFC 3986): they must be percent-encoded.
_URL_UNSAFE = re.compile(r'[\x00-\x20\x7f-\x9f"<>\\^`|]')
_TILE_EXAMPLE = "https://tile.example.org/{z}/{x}/{y}.png"


def check_tile_url(url: str) -> str:
    """Check a tile server's URL template (``--tiles``) and return it unchanged.

    A template is an ``http`` or ``https`` URL with a host, holding ``{z}``,
    ``{x}`` and ``{y}`` and optionally ``{s}`` (the server's subdomains), and
    no other braces: no other Leaflet placeholder, no template syntax
    (``{{ }}``, ``{% %}``, ``{# #}``), no spaces, quotes or control characters
    (percent-encode them), no user name or password (browsers refuse them in
    tile requests, and the page would publish them), at most
    :data:`TILE_URL_MAX_LENGTH` characters.

    Parameters
    ----------
    url
        The template, e.g. ``https://tile.example.org/{z}/{x}/{y}.png``.

    Returns
    -------
    str
        ``url``, as given.

    Raises
    ------
    ValueError
        Saying what is wrong, with an example of a good template.

    Examples
    --------
    >>> check_tile_url("https://{s}.tile.example.org/{z}/{x}/{y}.png")
    'https://{s}.tile.example.org/{z}/{x}/{y}.png'
    """
    text = str(url)
    shown = repr(text if len(text) <= 80 else text[:60] + "..." + text[-12:])

    def refuse(problem: str) -> ValueError:
        return ValueError(
            f"{shown} is not a tile URL template: {problem}; give one like {_TILE_EXAMPLE}"
        )

    if len(text) > TILE_URL_MAX_LENGTH:
        raise refuse(f"it is too long ({len(text):,} characters, at most {TILE_URL_MAX_LENGTH:,})")
    scheme = text.partition(":")[0].lower() if ":" in text else ""
    if scheme not in ("http", "https") or not text[len(scheme) :].startswith("://"):
        raise refuse("it must start with http:// or https://")
    rest = _TILE_BRACES.sub("", text)
    if "{" in rest or "}" in rest:
        raise refuse("only {z}, {x}, {y} and {s} may stand in braces")
    if _URL_UNSAFE.search(text):
        raise refuse("it holds a space, quote or control character (percent-encode it)")
    parts = urlsplit(text)
    if parts.username is not None or parts.password is not None:
        raise refuse("it holds a user name or password")
    if not parts.hostname:
        raise refuse("it names no host")
    try:
        parts.port  # noqa: B018 - raises on a port out of range
    except ValueError:
        raise refuse("its port is not a number from 0 to 65535") from None
    missing = [field for field in _TILE_FIELDS if field not in text]
    if missing:
        raise refuse(f"{', '.join(missing)} missing")
    return text


def _tiles_attribution(url: str) -> str:
    host = urlsplit(url).hostname or ""
    return f"Base map: {host.removeprefix('{s}.')}"


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
    # Snapped to the page's grid by GEOS, which keeps polygons valid (rounding alone
    # makes rings cross); parts under the grid's size go.
    shown = shapely.set_precision(shown, 10.0**-COORDINATE_DECIMALS)
    shown = shapely.transform(shown, lambda xy: np.round(xy, COORDINATE_DECIMALS))
    texts = shapely.to_geojson(shown)
    keep = ~shapely.is_empty(shown) & (shown != None)  # noqa: E711
    texts[~keep] = None
    out[present] = texts
    return out


def _delta_ring(ring: list, scale: float) -> list[int]:
    """A ring or line as flat integer deltas: ``[x0, y0, dx1, dy1, ...]`` in 1/scale degrees."""
    xy = np.rint(np.asarray(ring, dtype=float).reshape(-1, 2) * scale).astype(np.int64)
    xy[1:] -= xy[:-1].copy()
    return xy.ravel().tolist()


def _encode_geometry(text: str, scale: float) -> str:
    """GeoJSON geometry text with its coordinates as integer deltas (``d``), half the bytes.

    ``minemap.geojson`` in the page turns ``d`` back into ``coordinates``.
    """
    geom = json.loads(text)
    kind, coords = geom["type"], geom.get("coordinates")
    if kind == "Point":
        encoded = _delta_ring([coords], scale)
    elif kind in ("LineString", "MultiPoint"):
        encoded = _delta_ring(coords, scale)
    elif kind in ("Polygon", "MultiLineString"):
        encoded = [_delta_ring(r, scale) for r in coords]
    elif kind == "MultiPolygon":
        encoded = [[_delta_ring(r, scale) for r in poly] for poly in coords]
    else:  # pragma: no cover - _display_geometries keeps only the kinds above
        return text
    return json.dumps({"type": kind, "d": encoded}, separators=(",", ":"))


def _share_strings(props: list[dict]) -> tuple[list[dict], list[str]]:
    """Send a tooltip value that recurs (a district, a source map...) once per layer.

    Values seen more than once and longer than a few characters become their
    index in the returned table; the page looks them up (``minemap.geojson``).
    Tooltip values are otherwise always strings, so a number means an index.
    """
    counts: dict[str, int] = {}
    for p in props:
        for v in p["t"]["v"]:
            if len(v) > 4:
                counts[v] = counts.get(v, 0) + 1
    strings = [v for v, n in counts.items() if n > 1]
    index = {v: i for i, v in enumerate(strings)}
    shared = [{**p, "t": {**p["t"], "v": [index.get(v, v) for v in p["t"]["v"]]}} for p in props]
    return shared, strings


def _feature_collection(geoms, props: list[dict]) -> tuple[str, int]:
    """A GeoJSON FeatureCollection as script-safe text, and how many features it has.

    Coordinates are sent as integer deltas (see :func:`_encode_geometry`).
    """
    texts = _display_geometries(geoms)
    scale = 10.0**COORDINATE_DECIMALS
    props, strings = _share_strings(props)
    features = [
        f'{{"geometry":{_encode_geometry(g, scale)},"properties":{script_json(p)}}}'
        for g, p in zip(texts, props, strict=True)
        if g is not None
    ]
    return (
        '{"type":"FeatureCollection","scale":'
        + repr(scale)
        + ',"strings":'
        + script_json(strings)
        + ',"features":['
        + ",".join(features)
        + "]}",
        len(features),
    )


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
# A tooltip is {"h": heading, "v": [values]}; the row labels are the layer's
# ``labels`` (sent once per layer, not once per feature) and empty values are
# left out in the browser.


def _text(value: object) -> str:
    return "" if sym.is_missing(value) else str(value).strip()


#: What a tooltip says of a mine count that is not known (never 0).
NOT_KNOWN = "not known"


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


def _released_by_area(record: dict) -> str:
    """``3.20 ha (40 %)``: ground released by reports of an area without a polygon."""
    area, mapped = record.get(s.RELEASED_AREA_ONLY_HA), record.get(s.MAPPED_AREA_HA)
    if sym.is_missing(area) or not float(area) > 0:
        return ""
    share = float(area) / float(mapped) if not sym.is_missing(mapped) and mapped else None
    return sym.format_area(area) + (f" ({100 * share:.0f} %)" if share is not None else "")


def _status_text(value: object) -> str:
    return _text(value).replace("_", " ")


_HAZARD_LABELS = [
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


def _hazard_tip(record: dict) -> dict:
    return {
        "h": f"Hazard {_text(record.get(s.HAZARD_ID))}",
        "v": [
            _text(record.get(s.DISTRICT)),
            _text(record.get(s.CLASSIFICATION)),
            _status_text(record.get(s.STATUS)),
            _mines_ap_at(record),
            sym.format_area(record.get(s.MAPPED_AREA_HA)),
            sym.format_area(record.get(s.RELEASED_AREA_HA)),
            sym.format_area(record.get(s.REMAINING_AREA_HA)),
            _remaining_mines(record),
            _text(record.get(s.SOURCE)),
            sym.format_date(record.get(s.SUBMITTED_ON)),
            _released_by_area(record),
        ],
    }


_SUBMITTED_LABELS = [
    "District",
    "Classification",
    "Status",
    "Mines recorded AP / AT",
    "Source",
    "Submitted",
]


def _submitted_tip(record: dict) -> dict:
    return {
        "h": f"Submitted map {_text(record.get(s.HAZARD_ID))}",
        "v": [
            _text(record.get(s.DISTRICT)),
            _text(record.get(s.CLASSIFICATION)),
            _status_text(record.get(s.STATUS)),
            _mines_ap_at(record),
            _text(record.get(s.SOURCE)),
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


_RELEASE_LABELS = ["Method", "Date", "Area", "Items found", "Hazard", "Organisation"]


def _release_tip(record: dict) -> dict:
    return {
        "h": f"Release {_text(record.get(s.RELEASE_ID))}",
        "v": [
            _text(record.get(s.METHOD)),
            sym.format_date(record.get(s.RELEASED_ON)),
            sym.format_area(record.get(s.RELEASED_AREA_HA)),
            _items_found(record),
            _text(record.get(s.HAZARD_ID)),
            _text(record.get(s.ORGANISATION)),
        ],
    }


_PENDING_LABELS = ["Released on", "Method", "Release", "Area"]


def _format_figure(column: str, value: object) -> str:
    if sym.is_missing(value):
        return "not known" if column in _MINE_FIGURES else ""
    if column.endswith("_ha"):
        return sym.format_area(value)
    if column.startswith("share"):
        return sym.format_share(value)
    if isinstance(value, int | float | np.integer | np.floating):
        return sym.format_count(value)
    return _text(value)


def _district_labels(table_columns: list[str]) -> list[str]:
    return [
        "Name (Azerbaijani)",
        "ISO 3166-2",
        "Remaining area",
        *(_TABLE_LABELS.get(c, c) for c in table_columns if c != s.REMAINING_AREA_HA),
    ]


def _district_tip(name: str, record: dict, figures: dict | None, columns: list[str]) -> dict:
    values = [_text(record.get(s.NAME_AZ)), _text(record.get(s.ISO_3166_2))]
    if figures is None:
        values.append("no hazard recorded")
        values += [""] * (len(columns) - 1)
    else:
        values.append(_format_figure(s.REMAINING_AREA_HA, figures.get(s.REMAINING_AREA_HA)))
        values += [_format_figure(c, figures.get(c)) for c in columns if c != s.REMAINING_AREA_HA]
    return {"h": name, "v": values}


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
    released = remaining.get(s.RELEASED_AREA_ONLY_HA)
    if released is not None and (pd.to_numeric(released, errors="coerce") > 0).any():
        items.append(
            _legend_item(
                "dash-dot outline: partly released by reports without a polygon "
                "(where is not known)",
                {**outline, "dashArray": AREA_ONLY_DASH},
            )
        )
    return {"title": "Remaining hazards", "items": items}


#: Outline of a hazard partly released by area-only reports (the share in its tooltip).
AREA_ONLY_DASH = "10 3 2 3"


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
        when += f", as known on {_known_on_text(known_on)}"
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


def unknown_records(table: pd.DataFrame) -> int:
    """Records whose mine count is not known (each once, though it crosses districts)."""
    if "records_unknown_mines" in table.attrs:
        return int(table.attrs["records_unknown_mines"])
    if s.HAZARDS_UNKNOWN_MINES not in table.columns:
        return 0
    return int(pd.to_numeric(table[s.HAZARDS_UNKNOWN_MINES], errors="coerce").sum())


def _known_on_text(known_on) -> str:
    """``2024-03-10`` for a day, ``2024-03-10 12:00 UTC`` for a moment, text as it is."""
    if isinstance(known_on, dt.datetime):
        return f"{known_on:%Y-%m-%d %H:%M} UTC"
    if isinstance(known_on, dt.date):
        return known_on.isoformat()
    return str(known_on)


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
    return released_by(releases, as_of)


def _records(frame: pd.DataFrame) -> list[dict]:
    return frame.drop(columns=frame.geometry.name).to_dict("records")


def _in_wgs84(frame: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame | None:
    if frame is None or frame.crs is None or frame.crs.equals(s.CANONICAL_CRS):
        return frame
    return frame.to_crs(s.CANONICAL_CRS)


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


def _format_extra(column: str, value: object) -> str:
    """A figure of another layer: areas and shares as ours, other numbers to 3 decimals."""
    ours = column.endswith("_ha") or column.startswith("share")
    if isinstance(value, float | np.floating) and not sym.is_missing(value) and not ours:
        return f"{value:,.3f}".rstrip("0").rstrip(".")
    return _format_figure(column, value)


def _layer_control_js(m: folium.Map, map_name: str) -> str:
    """Script adding Leaflet's layer control for the map's controllable layers.

    Leaflet inserts layer names as HTML, so they are escaped here. Each layer is
    added by a call, not listed in an object literal keyed by its name (a name
    such as ``__proto__`` would set the literal's prototype instead).
    """
    calls = []
    for child in m._children.values():
        if isinstance(child, Layer) and child.control:
            name = str(child.layer_name)
            # Layers made to sit in folium's own LayerControl escape their name already.
            label = script_json(
                name if getattr(child, "name_is_html", False) else html.escape(name)
            )
            method = "addOverlay" if child.overlay else "addBaseLayer"
            calls.append(f".{method}({child.get_name()}, {label})")
    return (
        'L.control.layers(null, null, {"position": "topright", "collapsed": false})'
        + "".join(calls)
        + f".addTo({map_name});\n"
    )


def _add_extra_layer(m: folium.Map, layer, number: int, legend: list[dict]) -> None:
    element = getattr(layer, "element", None)
    if element is not None:
        element.add_to(m)
    else:
        frame = _in_wgs84(layer.frame)
        tooltip = dict(getattr(layer, "tooltip", {}) or {})
        heading = getattr(layer, "heading", None)
        props = []
        for rec in _records(frame):
            head = _text(rec.get(heading)) if heading else str(layer.name)
            values = [_format_extra(col, rec.get(col)) for col in tooltip.values()]
            props.append({"s": 0, "t": {"h": head, "v": values}})
        data, _ = _feature_collection(frame.geometry, props)
        _GeoJsonLayer(
            data,
            [dict(getattr(layer, "style", None) or {})],
            name=str(layer.name),
            class_name=f"minemap-extra minemap-extra-{number}",
            show=getattr(layer, "show", True),
            labels=list(tooltip),
        ).add_to(m)
    items = [_legend_item(str(label), dict(st)) for label, st in getattr(layer, "legend", [])]
    if items:
        legend.append({"title": str(layer.name), "items": items})


# --- time slider ------------------------------------------------------------------


def _months(*series) -> pd.PeriodIndex | None:
    dates = pd.concat([_naive_dates(x) for x in series if x is not None], ignore_index=True)
    dates = dates.dropna()
    if dates.empty:
        return None
    return pd.period_range(dates.min().to_period("M"), dates.max().to_period("M"), freq="M")


def _naive_dates(values) -> pd.Series:
    dates = pd.to_datetime(pd.Series(values), errors="coerce")
    if getattr(dates.dt, "tz", None) is not None:
        dates = dates.dt.tz_localize(None)
    return dates.reset_index(drop=True)


def _month_index(values, months: pd.PeriodIndex, missing: int) -> np.ndarray:
    """Position of each date's month in ``months``; ``missing`` where there is no date."""
    dates = _naive_dates(values)
    out = np.full(len(dates), missing, dtype=int)
    ok = dates.notna().to_numpy()
    if ok.any():
        ordinals = dates[ok].dt.to_period("M").map(lambda m: m.ordinal).to_numpy()
        out[ok] = np.clip(ordinals - months[0].ordinal, 0, len(months) - 1)
    return out


def _area_ha(geoms: np.ndarray) -> np.ndarray:
    if not len(geoms):
        return np.zeros(0)
    crs = geodesy.equal_area_crs(shapely.total_bounds(geoms))
    projected = gpd.GeoSeries(geoms, crs=s.CANONICAL_CRS).to_crs(crs).to_numpy()
    return geodesy.area_ha(projected)


def _pending_pieces(hazards: gpd.GeoDataFrame, releases: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Each release's overlap with each hazard: land hazardous until the release date.

    Releases cut hazards by place, as in :func:`minemap.remaining`, so a
    release that spills over two hazards gives a piece in each.
    """
    rel_geoms = releases.geometry.to_numpy()
    hz_geoms = hazards.geometry.to_numpy()
    ri, hi = overlay.candidate_pairs(rel_geoms, hz_geoms)
    pieces = overlay.polygonal(shapely.intersection(rel_geoms[ri], hz_geoms[hi]))
    keep = ~shapely.is_missing(pieces)
    keep[keep] = shapely.area(pieces[keep]) > 0
    ri, hi, pieces = ri[keep], hi[keep], pieces[keep]

    def _column(frame: pd.DataFrame, column: str, rows: np.ndarray):
        return frame[column].to_numpy()[rows] if column in frame.columns else None

    return gpd.GeoDataFrame(
        {
            s.HAZARD_ID: _column(hazards, s.HAZARD_ID, hi),
            s.CLASSIFICATION: _column(hazards, s.CLASSIFICATION, hi),
            s.STATUS: _column(hazards, s.STATUS, hi),
            s.SUBMITTED_ON: _column(hazards, s.SUBMITTED_ON, hi),
            s.RELEASE_ID: _column(releases, s.RELEASE_ID, ri),
            s.RELEASED_ON: _column(releases, s.RELEASED_ON, ri),
            s.METHOD: _column(releases, s.METHOD, ri),
        },
        geometry=pieces,
        crs=s.CANONICAL_CRS,
    )


def _hazardous_by_month(
    months: pd.PeriodIndex,
    hazards: gpd.GeoDataFrame,
    known: np.ndarray,
    releases: gpd.GeoDataFrame,
    released: np.ndarray,
) -> np.ndarray:
    """Hectares still hazardous at each month end, ground counted once.

    The ground of the hazards submitted by then (where records overlap, the
    shared ground is counted once, under the earliest submission) less the
    part of it released by then (where releases overlap, once, under the
    earliest release): at the last month, the district table's remaining total.
    The drawn pieces may show an overlap of two releases as hazardous until
    the later one; this figure does not.

    Parameters
    ----------
    months
        The slider's months.
    hazards, releases
        Submitted hazards and releases in WGS 84.
    known, released
        Month index (into ``months``) of each hazard's submission and of each
        release.
    """
    geoms = hazards.geometry.to_numpy()
    if not len(geoms):
        return np.zeros(len(months))
    crs = geodesy.equal_area_crs(shapely.total_bounds(geoms))

    def _disjoint(frame: gpd.GeoDataFrame, order: np.ndarray) -> np.ndarray:
        projected = gpd.GeoSeries(frame.geometry.to_numpy()[order], crs=s.CANONICAL_CRS)
        return overlay.polygonal(overlay.make_disjoint(projected.to_crs(crs).to_numpy()))

    # The earliest record (release) keeps shared ground: sort by date, stably.
    h_order = np.argsort(known, kind="stable")
    r_dates = _naive_dates(releases[s.RELEASED_ON]).to_numpy()
    r_order = np.argsort(r_dates, kind="stable")
    h_parts, r_parts = _disjoint(hazards, h_order), _disjoint(releases, r_order)
    h_month, r_month = known[h_order], released[r_order]
    n = len(months)
    ground = np.bincount(h_month, weights=geodesy.area_ha(h_parts), minlength=n)[:n]
    ri, hi = overlay.candidate_pairs(r_parts, h_parts)
    pieces = overlay.polygonal(shapely.intersection(r_parts[ri], h_parts[hi]))
    gone = np.bincount(
        np.maximum(r_month[ri], h_month[hi]), weights=geodesy.area_ha(pieces), minlength=n
    )[:n]
    return np.cumsum(ground) - np.cumsum(gone)


# --- public map -------------------------------------------------------------------

#: Side of the public map's grid cells, in metres on an equal-area projection.
PUBLIC_CELL_M = 2000.0


def public_grid(remaining: gpd.GeoDataFrame, *, cell_m: float = PUBLIC_CELL_M) -> gpd.GeoDataFrame:
    """Remaining contamination summed on a coarse equal-area grid (for a public map).

    Each remaining piece is cut along the cells of a square grid laid on a
    Lambert azimuthal equal-area projection centred on the data; a cell gets
    the hectares of the pieces inside it (land shared by overlapping hazards
    counted once, as in :func:`minemap.by_district`) and their estimated
    mines in proportion to area. Exact perimeters cannot be read back from
    the cells.

    Parameters
    ----------
    remaining
        Remaining hazard pieces from :func:`minemap.remaining`.
    cell_m
        Side of a cell in metres.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per cell holding contamination: ``remaining_area_ha``,
        ``remaining_mines_est`` (if ``remaining`` has it), cell polygons in
        WGS 84.

    Examples
    --------
    >>> import minemap as mm
    >>> from minemap import datasets
    >>> rem = mm.remaining(datasets.hazards(), datasets.releases(), datasets.districts())
    >>> grid = public_grid(rem)
    >>> total = mm.by_district(rem)["remaining_area_ha"].sum()
    >>> bool(abs(grid["remaining_area_ha"].sum() - total) < 1e-6 * total)
    True
    """
    if cell_m <= 0:
        raise ValueError(f"cell_m must be positive, got {cell_m}")
    frame = _in_wgs84(remaining)
    geoms = frame.geometry.to_numpy()
    present = ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)
    frame, geoms = frame[present], geoms[present]
    columns = [s.REMAINING_AREA_HA, s.REMAINING_MINES_EST]
    if not len(frame):
        return gpd.GeoDataFrame({key: [] for key in columns}, geometry=[], crs=s.CANONICAL_CRS)
    crs = geodesy.equal_area_crs(shapely.total_bounds(geoms))
    projected = gpd.GeoSeries(geoms, crs=s.CANONICAL_CRS).to_crs(crs).to_numpy()
    x0, y0, x1, y1 = shapely.total_bounds(projected)
    xs = np.arange(np.floor(x0 / cell_m) * cell_m, x1 + cell_m, cell_m)
    ys = np.arange(np.floor(y0 / cell_m) * cell_m, y1 + cell_m, cell_m)
    gx, gy = np.meshgrid(xs[:-1], ys[:-1])
    cells = shapely.box(gx.ravel(), gy.ravel(), gx.ravel() + cell_m, gy.ravel() + cell_m)
    piece_of, cell_of, pieces = overlay.split(projected, cells)
    piece_ha = geodesy.area_ha(pieces)
    whole_ha = geodesy.area_ha(projected)
    # Mines spread over a piece in proportion to area (as remaining() estimates them).
    share = np.divide(
        piece_ha, whole_ha[piece_of], out=np.zeros_like(piece_ha), where=whole_ha[piece_of] > 0
    )
    if s.NET_REMAINING_AREA_HA in frame.columns and s.REMAINING_AREA_HA in frame.columns:
        # Where hazards overlap, remaining() counts the shared land once (net);
        # scale each hazard's pieces the same way so the grid adds up to the table.
        net = pd.to_numeric(frame[s.NET_REMAINING_AREA_HA], errors="coerce").to_numpy()
        gross = pd.to_numeric(frame[s.REMAINING_AREA_HA], errors="coerce").to_numpy()
        ratio = np.divide(net, gross, out=np.ones_like(net), where=gross > 0)
        piece_ha = piece_ha * np.nan_to_num(ratio, nan=1.0)[piece_of]
    inside = cell_of >= 0
    out = pd.DataFrame({"cell": cell_of[inside], s.REMAINING_AREA_HA: piece_ha[inside]})
    if s.REMAINING_MINES_EST in frame.columns:
        mines = pd.to_numeric(frame[s.REMAINING_MINES_EST], errors="coerce").fillna(0).to_numpy()
        out[s.REMAINING_MINES_EST] = (mines[piece_of] * share)[inside]
    summed = out.groupby("cell").sum()
    summed = summed[summed[s.REMAINING_AREA_HA] > 0]
    return gpd.GeoDataFrame(
        summed.reset_index(drop=True),
        geometry=gpd.GeoSeries(cells[summed.index.to_numpy()], crs=crs).to_crs(s.CANONICAL_CRS),
        crs=s.CANONICAL_CRS,
    )


def _grid_legend(breaks: list[float]) -> dict:
    colours = sym.ramp_hazard(len(breaks))
    items = []
    lower = 0.0
    for upper, colour in zip(breaks, colours, strict=True):
        items.append(
            _legend_item(
                f"{lower:,g} – {upper:,g} ha",
                {"color": "#7F0000", "weight": 0.5, "fillColor": colour, "fillOpacity": 0.75},
            )
        )
        lower = upper
    return {"title": "Remaining hazardous area per grid cell", "items": items}


# --- the map ------------------------------------------------------------------


def render_map(
    remaining: gpd.GeoDataFrame,
    table: pd.DataFrame | None = None,
    *,
    hazards: gpd.GeoDataFrame | None = None,
    releases: gpd.GeoDataFrame | None = None,
    districts: gpd.GeoDataFrame | None = None,
    as_of: dt.date | str | None = None,
    title: str = "minemap",
    tiles: str | None = None,
    public: bool = False,
    extra_layers: Sequence | None = None,
    attribution: str | None = None,
    known_on: dt.date | dt.datetime | str | None = None,
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
        The original submitted maps, drawn as outlines (off at first); with
        ``releases`` they also let the time slider show land released later
        as still hazardous before its release date.
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
    tiles
        URL template of an online base layer (``https://.../{z}/{x}/{y}.png``),
        added under the districts. By default none: the page loads nothing.
    public
        A map safe to publish: no hazard perimeters, ids or sources; remaining
        contamination summed by district and on a coarse grid
        (:func:`public_grid`).
    extra_layers
        Further overlays: :class:`MapLayer` objects (or any object with the
        same attributes), added after minemap's own layers.
    attribution
        Source and licence of the district boundaries, shown in the map's
        attribution box (as text). By default the distinct values of the
        districts' ``attribution`` column (:func:`districts_attribution`); none
        if they have none. ``""`` shows none.
    known_on
        The day (or moment, UTC) the layers were read as known on, from a
        workspace: shown in the title box after the as-of day.

    Returns
    -------
    folium.Map
        An :class:`~minemap.render.offline.OfflineMap`; save it with
        :func:`write_map`.

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
        # Releases given as an area have no polygon to draw: their share is in the
        # hazards' tooltips.
        releases = _released_by(releases, as_of_day)
        releases = releases[~area_only_releases(releases)]
    counted_releases = releases
    if public:
        hazards = releases = None
    credit = districts_attribution(districts) if attribution is None else _text(attribution)

    m = OfflineMap(
        tiles=None, control_scale=True, prefer_canvas=False, extra_css=_CSS, extra_js=_JS
    )
    m.get_root().title = html.escape(str(title))
    if tiles:
        _TileLayer(
            str(tiles), name="Online base map", attribution=_tiles_attribution(str(tiles))
        ).add_to(m)
    legend: list[dict] = []

    if districts is not None:
        lookup = _figure_lookup(table, remaining)
        names = [_text(v) for v in districts[s.DISTRICT]]
        figures = [lookup.get(n, lookup.get(s.canonical_district(n) or "")) for n in names]
        values = [None if f is None else f.get(s.REMAINING_AREA_HA) for f in figures]
        columns = [c for c in next(iter(lookup.values()), {}) if c != s.DISTRICT]
        if s.REMAINING_AREA_HA not in columns:
            columns.insert(0, s.REMAINING_AREA_HA)
        breaks = sym.class_breaks(values)
        styles = _Styles()
        props = [
            {
                "s": styles(sym.district_style(v, breaks)),
                "t": _district_tip(n, rec, f, columns),
                "i": n,
            }
            for n, rec, f, v in zip(names, _records(districts), figures, values, strict=True)
        ]
        data, _ = _feature_collection(districts.geometry, props)
        _GeoJsonLayer(
            data,
            styles.styles,
            name=_LAYER_DISTRICTS,
            class_name="minemap-district",
            attribution=credit or None,
            labels=_district_labels(columns),
        ).add_to(m)
        legend.append(_district_legend(breaks))

    if public:
        grid = public_grid(remaining)
        breaks = sym.class_breaks(grid[s.REMAINING_AREA_HA].tolist())
        colours = sym.ramp_hazard(len(breaks))
        styles = _Styles()
        props = []
        for rec in grid.drop(columns="geometry").to_dict("records"):
            k = sym.class_index(rec[s.REMAINING_AREA_HA], breaks)
            style = {
                "color": "#7F0000",
                "weight": 0.5,
                "fillOpacity": 0.75,
                "fillColor": colours[k if k is not None else -1],
            }
            props.append(
                {
                    "s": styles(style),
                    "t": {
                        "h": f"{PUBLIC_CELL_M / 1000:g} km grid cell",
                        "v": [
                            sym.format_area(rec[s.REMAINING_AREA_HA]),
                            sym.format_count(rec.get(s.REMAINING_MINES_EST)),
                        ],
                    },
                }
            )
        data, _ = _feature_collection(grid.geometry, props)
        _GeoJsonLayer(
            data,
            styles.styles,
            name=_LAYER_GRID,
            class_name="minemap-grid",
            labels=["Remaining area", "Remaining mines (est.)"],
        ).add_to(m)
        legend.append(_grid_legend(breaks))

    months = None
    if releases is not None and len(releases) and s.RELEASED_ON in releases.columns:
        extra_dates = [as_of_day] if as_of_day is not None else []
        months = _months(releases[s.RELEASED_ON], extra_dates)
    if months is not None and hazards is not None and s.SUBMITTED_ON in hazards.columns:
        first = _naive_dates(hazards[s.SUBMITTED_ON]).min()
        if not pd.isna(first) and first.to_period("M") < months[0]:
            months = pd.period_range(first.to_period("M"), months[-1], freq="M")
    last = 0 if months is None else len(months) - 1

    def _known(frame) -> np.ndarray:
        if months is None or s.SUBMITTED_ON not in frame.columns:
            return np.zeros(len(frame), dtype=int)
        return _month_index(frame[s.SUBMITTED_ON], months, 0)

    if releases is not None:
        styles = _Styles()
        until = _month_index(releases[s.RELEASED_ON], months, last) if months is not None else None
        props = []
        for k, rec in enumerate(_records(releases)):
            prop = {"s": styles(sym.release_style(rec.get(s.METHOD))), "t": _release_tip(rec)}
            if until is not None:
                prop["z"] = int(until[k])
            props.append(prop)
        data, _ = _feature_collection(releases.geometry, props)
        _GeoJsonLayer(
            data,
            styles.styles,
            name=_LAYER_RELEASES,
            class_name="minemap-release",
            labels=_RELEASE_LABELS,
            time="release" if months is not None else None,
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

    if not public:
        rem_known = _known(remaining)
        styles = _Styles()
        props = []
        for k, rec in enumerate(_records(remaining)):
            style = sym.hazard_style(rec.get(s.CLASSIFICATION), rec.get(s.STATUS))
            if _released_by_area(rec):
                style = {**style, "dashArray": AREA_ONLY_DASH}
            props.append(
                {
                    "s": styles(style),
                    "t": _hazard_tip(rec),
                    "i": _text(rec.get(s.HAZARD_ID)),
                    "a": int(rem_known[k]),
                }
            )
        data, _ = _feature_collection(remaining.geometry, props)
        _GeoJsonLayer(
            data,
            styles.styles,
            name=_LAYER_HAZARDS,
            class_name="minemap-hazard",
            labels=_HAZARD_LABELS,
            time="hazard" if months is not None else None,
        ).add_to(m)
        legend.append(_hazard_legend(remaining))

    if months is not None and hazards is not None:
        pending = _pending_pieces(hazards, releases)
        p_known = _known(pending)
        p_until = _month_index(pending[s.RELEASED_ON], months, last)
        styles = _Styles()
        props = []
        for k, rec in enumerate(_records(pending)):
            props.append(
                {
                    "s": styles(sym.hazard_style(rec.get(s.CLASSIFICATION), rec.get(s.STATUS))),
                    "t": {
                        "h": f"Hazard {_text(rec.get(s.HAZARD_ID))} (released later)",
                        "v": [
                            sym.format_date(rec.get(s.RELEASED_ON)),
                            _text(rec.get(s.METHOD)),
                            _text(rec.get(s.RELEASE_ID)),
                        ],
                    },
                    "a": int(p_known[k]),
                    "z": int(p_until[k]),
                }
            )
        data, _ = _feature_collection(pending.geometry, props)
        _GeoJsonLayer(
            data,
            styles.styles,
            name=_LAYER_PENDING,
            class_name="minemap-pending",
            labels=_PENDING_LABELS[:3],
            time="pending",
        ).add_to(m)
        per_month = _hazardous_by_month(
            months,
            hazards,
            _known(hazards),
            releases,
            _month_index(releases[s.RELEASED_ON], months, last),
        )
        timeline_spec = {
            "title": "Time slider: still hazardous at the end of the month",
            "months": [str(p) for p in months],
            "figures": [f"remaining {sym.format_area(max(v, 0.0))}" for v in per_month],
        }
    elif months is not None:
        counts = np.bincount(
            _month_index(releases[s.RELEASED_ON], months, last), minlength=len(months)
        ).cumsum()
        timeline_spec = {
            "title": "Time slider: released land at the end of the month",
            "months": [str(p) for p in months],
            "figures": [f"{sym.format_count(c)} releases" for c in counts],
        }
    else:
        timeline_spec = None

    if hazards is not None:
        styles = _Styles()
        props = [
            {"s": styles(dict(sym.SUBMITTED_STYLE)), "t": _submitted_tip(rec)}
            for rec in _records(hazards)
        ]
        data, _ = _feature_collection(hazards.geometry, props)
        _GeoJsonLayer(
            data,
            styles.styles,
            name=_LAYER_SUBMITTED,
            class_name="minemap-submitted",
            show=False,
            labels=_SUBMITTED_LABELS,
        ).add_to(m)
        legend.append(
            {
                "title": "Submitted maps",
                "items": [_legend_item("as handed over (outline)", sym.SUBMITTED_STYLE)],
            }
        )

    for number, layer in enumerate(extra_layers or ()):
        _add_extra_layer(m, layer, number, legend)
    if credit and districts is None:
        # No district layer to carry it: the map's own attribution box does.
        m.add_child(
            _MapScript(
                lambda name: (
                    f"{name}.attributionControl.addAttribution("
                    f"{script_json(html.escape(credit))});\n"
                )
            )
        )

    # Leaflet's layer control, written here rather than by folium.LayerControl:
    # folium's template would evaluate "{{ ... }}" in a layer's name.
    m.add_child(_MapScript(lambda name: _layer_control_js(m, name)))
    title_lines = _title_lines(as_of_day, counted_releases, table, known_on)
    if public:
        title_lines.append(
            f"Public map: contamination summed by district and {PUBLIC_CELL_M / 1000:g} km cell"
        )
    title_spec = {"title": str(title), "lines": title_lines}
    search_hint = "Find a district" if public else "Find a hazard id or district"
    m.add_child(_MapScript(lambda name: f"minemap.title({name}, {script_json(title_spec)});\n"))
    m.add_child(_MapScript(lambda name: f"minemap.fullscreen({name});\nminemap.measure({name});\n"))
    m.add_child(
        _MapScript(
            lambda name: f"minemap.search({name}, {script_json({'placeholder': search_hint})});\n"
        )
    )
    if timeline_spec is not None:
        m.add_child(
            _MapScript(lambda name: f"minemap.timeline({name}, {script_json(timeline_spec)});\n")
        )
    m.add_child(_MapScript(lambda name: f"minemap.legend({name}, {script_json(legend)});\n"))

    frames = (districts,) if public else (remaining, releases, hazards)
    bounds = _bounds(*frames) or _bounds(districts)
    if bounds is not None:
        m.fit_bounds(bounds, padding=(20, 20))
        m.add_child(_MapScript(lambda name: f"minemap.fitted({name}, {script_json(bounds)});\n"))
    m.minemap_public = public  # for write_map's advice on a large page
    return m


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
    >>> districts_attribution(datasets.districts())[:38]
    'Boundaries: geoBoundaries (www.geobou'
    """
    if districts is None or s.ATTRIBUTION not in districts.columns:
        return ""
    values = [_text(v) for v in districts[s.ATTRIBUTION]]
    distinct = [v for v in dict.fromkeys(values) if v]
    shown = [
        v if len(v) <= _ATTRIBUTION_CHARS else v[: _ATTRIBUTION_CHARS - 1] + "…"
        for v in distinct[:_ATTRIBUTIONS_SHOWN]
    ]
    if len(distinct) > _ATTRIBUTIONS_SHOWN:
        shown.append(f"and {len(distinct) - _ATTRIBUTIONS_SHOWN} more sources")
    return "; ".join(shown)


def write_map(m: folium.Map, path, *, overwrite: bool = False) -> Path:
    """Save a map as one self-contained HTML file, atomically.

    The page is written under a temporary name in the same folder, read back,
    fsynced, then renamed (:func:`minemap.outputs.atomic_output`), so a crash or
    a full disk never leaves half a file.

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
    written = _write_text(m.get_root().render(), path, overwrite=overwrite)
    warn_if_large(written, public=getattr(m, "minemap_public", False))
    return written


def warn_if_large(path: Path, *, public: bool = False) -> None:
    """Log one warning when a written page is over :data:`LARGE_MAP_BYTES`.

    The warning gives the page's size and how to make it smaller.
    """
    size = Path(path).stat().st_size
    if size <= LARGE_MAP_BYTES:
        return
    remedy = "map fewer records at a time (e.g. one district's hazards and releases)"
    if not public:
        remedy = f"--public draws districts and a 2 km grid instead of every shape, or {remedy}"
    log.warning(
        "%s: the page is %s MB; browsers open pages over %s MB slowly or not at all. "
        "For a smaller page: %s",
        path,
        f"{size / 1e6:,.1f}",
        f"{LARGE_MAP_BYTES / 1e6:g}",
        remedy,
    )


def _write_text(page: str, path, *, overwrite: bool) -> Path:
    """Write a page atomically and read it back (:func:`minemap.outputs.write_text`)."""
    return outputs.write_text(page, path, overwrite=overwrite)
