/*
 * minemap.js: the layers and controls of minemap's offline HTML map.
 *
 * Read from the package and inlined into every page after Leaflet
 * (minemap/render/offline.py); it defines the global `minemap`. Python
 * (minemap/render/) writes calls to it with JSON arguments, made safe for a
 * script element. Everything that turns data into page content goes through
 * textContent, setAttribute or DOM properties, never innerHTML; every lookup
 * table keyed by text from the data is a Map (a plain object already "has"
 * constructor, __proto__, toString...).
 *
 * The data, key by key (named in Python in minemap/render/protocol.py):
 *
 * Per feature, one-letter keys to keep the page small, named in one table
 * that the page receives as MINEMAP_FEATURE_KEYS (K below, FEATURE_KEYS in
 * Python); the script reads them only through that table:
 *   K.style     index of the feature's style in its layer's options.styles
 *   K.tooltip   the tooltip and popup: {K.heading: text, K.values: [...]}
 *   K.heading   the tooltip's heading
 *   K.values    the values, aligned with options.labels: text, or a number
 *               that indexes the collection's strings; empty ones left out
 *   K.search    text the search box finds the feature by (hazard id, district)
 *   K.aliases   other names the search finds it by, not listed (a district's
 *               names in other languages and spellings)
 *   K.known     month (index into the slider's months) first known: submitted
 *   K.released  month released
 *   K.deltas    in a geometry, in place of coordinates: integer deltas of
 *               round(coordinate * scale), flat [x0, y0, dx1, dy1, ...] per
 *               ring or line
 *
 * Once per layer or map, named keys:
 *   minemap.geojson(collection, options): a GeoJSON FeatureCollection with
 *     collection.scale, collection.strings (tooltip values shared by the
 *     layer) and collection.features (each without its "type"); options:
 *     options.styles       Leaflet path options, indexed by K.style
 *     options.labels       the tooltips' row labels
 *     options.className    CSS class of the layer's shapes
 *     options.attribution  credit shown while the layer is on (HTML-escaped)
 *     options.time         "hazard", "release", "pending" or null: how the
 *                          layer follows the time slider
 *   minemap.title(map, {title, lines})
 *   minemap.legend(map, [{title, items: [{label, style}]}])
 *   minemap.search(map, {placeholder})
 *   minemap.timeline(map, {title, months, figures})
 *   minemap.fitted(map, [[south, west], [north, east]])
 *   minemap.fullscreen(map), minemap.measure(map), minemap.showMonth(month)
 */
window.minemap = (function (K) {
  "use strict";
  var SVG = "http://www.w3.org/2000/svg";
  // Lookup tables keyed by text from the data are Maps, never plain objects: a
  // plain object already "has" constructor, __proto__, toString...
  var index = new Map();  // search key -> [{layer, group}]
  var keys = [];
  var aliases = [];  // other names of districts: searched, not listed
  var timed = [];      // layers filtered by the time slider
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }
  // A tooltip: its heading, then its values aligned with the layer's labels.
  // A number among the values is an index into the layer's shared strings.
  function tip(t, labels, strings) {
    var box = el("div", "minemap-tip");
    box.appendChild(el("div", "minemap-tip-head", t[K.heading]));
    var table = el("table");
    (t[K.values] || []).forEach(function (value, i) {
      if (typeof value === "number") { value = strings[value]; }
      if (value === "" || value === null || value === undefined) { return; }
      var tr = table.insertRow();
      tr.appendChild(el("th", null, labels[i]));
      tr.appendChild(el("td", null, value));
    });
    box.appendChild(table);
    return box;
  }
  // An alias (another name of a district) is searched but not listed, and comes
  // after the features that have the key as their own name or id.
  function remember(key, layer, group, alias) {
    if (key === undefined || key === null || key === "") { return; }
    key = String(key);
    if (!index.has(key)) { index.set(key, []); (alias ? aliases : keys).push(key); }
    var list = index.get(key), hit = {layer: layer, group: group, alias: Boolean(alias)};
    if (alias) { list.push(hit); return; }
    var at = aliases.indexOf(key);
    if (at >= 0) { aliases.splice(at, 1); keys.push(key); }
    at = 0;
    while (at < list.length && !list[at].alias) { at++; }
    list.splice(at, 0, hit);
  }
  // Case and accents do not matter in a search: Fuzuli finds Füzuli, agdere Ağdərə.
  function fold(text) {
    return String(text).normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase()
      .replace(/[\u0259\u00e4]/g, "e").replace(/\u0131/g, "i");
  }
  // Coordinates arrive as integer deltas (K.deltas).
  function ring(d, scale) {
    var out = [], x = 0, y = 0;
    for (var i = 0; i < d.length; i += 2) {
      x += d[i]; y += d[i + 1];
      out.push([x / scale, y / scale]);
    }
    return out;
  }
  function decode(g, scale) {
    if (!g || g[K.deltas] === undefined) { return; }
    var d = g[K.deltas];
    if (g.type === "Point") { g.coordinates = ring(d, scale)[0]; }
    else if (g.type === "LineString" || g.type === "MultiPoint") { g.coordinates = ring(d, scale); }
    else if (g.type === "Polygon" || g.type === "MultiLineString") {
      g.coordinates = d.map(function (r) { return ring(r, scale); });
    } else if (g.type === "MultiPolygon") {
      g.coordinates = d.map(function (p) {
        return p.map(function (r) { return ring(r, scale); });
      });
    }
    delete g[K.deltas];
  }
  function geojson(data, options) {
    var strings = data.strings || [];
    var group = L.geoJSON(null, {
      className: options.className,
      attribution: options.attribution || null,
      style: function (f) { return options.styles[f.properties[K.style]]; },
      pointToLayer: function (f, latlng) { return L.circleMarker(latlng, {radius: 5}); },
      onEachFeature: function (f, layer) {
        var p = f.properties;
        layer.bindTooltip(function () { return tip(p[K.tooltip], options.labels, strings); },
                          {sticky: true, className: "minemap-tooltip"});
        layer.bindPopup(function () { return tip(p[K.tooltip], options.labels, strings); },
                        {className: "minemap-popup", maxWidth: 420});
        remember(p[K.search], layer, group);
        (p[K.aliases] || []).forEach(function (k) { remember(k, layer, group, true); });
      }
    });
    data.features.forEach(function (f) {
      f.type = "Feature";  // left out of the page to save bytes
      decode(f.geometry, data.scale);
    });
    group.addData(data);
    if (options.time) {
      var all = group.getLayers();
      timed.push({group: group, kind: options.time, layers: all});
    }
    return group;
  }
  // Which features are drawn at month m (index into the slider's months).
  function visibleAt(kind, p, m) {
    var known = p[K.known] === undefined || p[K.known] <= m;
    if (kind === "release") { return p[K.released] <= m; }
    if (kind === "pending") { return known && m < p[K.released]; }
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
  function legend(map, sections) {
    return control(map, "bottomright", "minemap-legend", function (div) {
      sections.forEach(function (section) {
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
    return m2 >= 1e4 ? (m2 / 1e4).toFixed(2) + " ha" : Math.round(m2) + " m\u00B2";
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
      out.textContent = readout(dist);
    }
    function readout(dist) {
      if (!on) { return ""; }
      if (points.length < 2) { return "Click points on the map"; }
      var text = "Distance " + fmtDistance(dist);
      if (points.length > 2) { text += " \u00B7 Area " + fmtArea(sphericalArea(points)); }
      return text;
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
        var option = document.createElement("option");
        option.value = k;
        list.appendChild(option);
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
          var low = fold(q);
          var k = keys.concat(aliases).filter(function (x) { return fold(x).indexOf(low) >= 0; });
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
})(MINEMAP_FEATURE_KEYS);
