"""Map layer of record accuracy: records by hit rate, arrows for shifts, devices found.

:func:`accuracy_layer` returns a folium ``Layer`` for
``render_map(..., extra_layers=[...])`` (or ``layer.add_to(m)`` on any
folium map). Like the layers of :mod:`minemap.render.map`, it writes its own
script as a :class:`~minemap.render.offline.RawElement` (never through a
folium template, which would evaluate ``{{ ... }}`` in the data) and builds
its tooltips in the browser with ``textContent`` from JSON made safe for a
``<script>`` element by :func:`~minemap.render.offline.script_json`.
"""

from __future__ import annotations

import html

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from folium.map import Layer

from minemap import geodesy
from minemap import schema as s
from minemap.render.offline import RawElement, script_json

try:
    from minemap.render.map import MapLayer
except ImportError:  # pragma: no cover - a map.py without extra_layers
    from minemap.render.density_layer import MapLayer

__all__ = ["HIT_RATE_CLASSES", "accuracy_layer"]

#: Hit-rate classes: (lower bound, colour, label); records with no device are grey.
HIT_RATE_CLASSES = (
    (0.95, "#1a9641", "hit rate ≥ 95 %"),
    (0.80, "#a6d96a", "80-95 %"),
    (0.50, "#fdae61", "50-80 %"),
    (0.00, "#d7191c", "< 50 %"),
)
_NO_DEVICES = ("#9e9e9e", "no device found near")
_ARROW = "#6a1b9a"
#: Devices found: inside their record (a hit), or outside it (or near no record).
_DEVICE_INSIDE = ("#00441b", "device found inside its record")
_DEVICE_OUTSIDE = ("#b2182b", "device found outside its record")

# Self-contained: draws polygons and arrows and builds tooltips with textContent only.
_JS = """
(function (map, data, show, layerVar) {
  "use strict";
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
  var group = layerVar;
  L.geoJSON(data.records, {
    className: "minemap-accuracy",
    style: function (f) { return data.styles[f.properties.s]; },
    onEachFeature: function (f, layer) {
      layer.bindTooltip(function () { return tip(f.properties.t); },
                        {sticky: true, className: "minemap-tooltip"});
    }
  }).addTo(group);
  data.arrows.forEach(function (a) {
    var line = L.polyline([a.from, a.to], {color: data.arrow, weight: 2.5,
                                          className: "minemap-shift"});
    var head = L.polyline([a.left, a.to, a.right], {color: data.arrow, weight: 2.5,
                                                   className: "minemap-shift"});
    [line, head].forEach(function (l) {
      l.bindTooltip(function () { return tip(a.t); }, {sticky: true,
                                                       className: "minemap-tooltip"});
      l.addTo(group);
    });
  });
  var kinds = [
    {cls: "minemap-device minemap-device-outside", colour: data.outside},
    {cls: "minemap-device minemap-device-inside", colour: data.inside}
  ];
  data.devices.forEach(function (d) {
    var kind = kinds[d[2]];
    var marker = L.circleMarker([d[0], d[1]], {radius: 3, weight: 1, color: kind.colour,
                                               fillColor: kind.colour, fillOpacity: 0.9,
                                               className: kind.cls});
    marker.bindTooltip(function () { return tip(data.tips[d[3]]); },
                       {sticky: true, className: "minemap-tooltip"});
    marker.addTo(group);
  });
  if (show) { group.addTo(map); }
})
"""


def _percent(value: object) -> str:
    return "" if pd.isna(value) else f"{100 * float(value):.0f} %"


def _number(value: object, unit: str = "", digits: int = 0) -> str:
    return "" if pd.isna(value) else f"{float(value):,.{digits}f}{unit}"


def _style(hit_rate: float) -> tuple[dict, str]:
    colour, label = _NO_DEVICES
    if not pd.isna(hit_rate):
        for bound, c, text in HIT_RATE_CLASSES:
            if hit_rate >= bound:
                colour, label = c, text
                break
    return {"color": colour, "weight": 1.5, "fillColor": colour, "fillOpacity": 0.45}, label


def _tip(row: pd.Series) -> dict:
    rows = [
        ["Source map", "" if pd.isna(row.get(s.SOURCE)) else str(row.get(s.SOURCE))],
        ["Devices near / inside", f"{int(row[s.DEVICES_NEAR])} / {int(row[s.DEVICES_INSIDE])}"],
        ["Hit rate", _percent(row[s.HIT_RATE])],
        ["Found ÷ recorded AP", _percent(row.get(s.FOUND_VS_RECORDED_AP))],
        ["Found ÷ recorded AT", _percent(row.get(s.FOUND_VS_RECORDED_AT))],
        [
            "Shift",
            ""
            if pd.isna(row[s.OFFSET_M])
            else f"{row[s.OFFSET_M]:.0f} m"
            + (
                ""
                if pd.isna(row.get(s.OFFSET_UNCERTAINTY_M))
                else f" ± {row[s.OFFSET_UNCERTAINTY_M]:.0f} m"
            )
            + (
                ""
                if pd.isna(row[s.OFFSET_BEARING_DEG])
                else f" towards {row[s.OFFSET_BEARING_DEG]:.0f}°"
            ),
        ],
        ["No shift estimate", "" if pd.isna(row.get(s.OFFSET_NOTE)) else str(row[s.OFFSET_NOTE])],
        ["Hit rate after shift", _percent(row.get(s.HIT_RATE_SHIFTED))],
        ["IoU with found area", _number(row.get(s.IOU), digits=2)],
    ]
    return {"h": str(row[s.HAZARD_ID]), "r": [r for r in rows if r[1]]}


def accuracy_layer(
    hazards: gpd.GeoDataFrame,
    table: pd.DataFrame,
    *,
    devices: gpd.GeoDataFrame | None = None,
    name: str = "Map accuracy (hit rate, shifts, devices)",
    min_shift_m: float = 10.0,
    show: bool = True,
) -> MapLayer:
    """A map layer of records coloured by hit rate, an arrow for each shift, the devices.

    Parameters
    ----------
    hazards
        The submitted records (``hazard_id``, polygons).
    table
        The per-record frame of :func:`minemap.accuracy.accuracy`.
    devices
        The devices found, as :func:`minemap.accuracy.assigned_devices` gives
        them (points with ``inside``, ``hazard_id``, ``item_type`` and
        ``item_id``): each drawn as a dot, dark green inside its record, red
        outside it, with a tooltip.
    name
        Layer name in the layer control (escaped).
    min_shift_m
        Shifts shorter than this get no arrow.
    show
        Whether the layer is on when the map opens.

    Returns
    -------
    MapLayer
        For ``render_map(..., extra_layers=[layer])``: ``layer.element`` is the
        folium layer (``layer.element.add_to(m)`` on any folium map) and
        ``layer.legend`` the colour classes as ``[(label, style), ...]``.
    """
    records = hazards.to_crs(s.CANONICAL_CRS)[[s.HAZARD_ID, hazards.geometry.name]]
    merged = records.merge(
        table.drop(columns=[c for c in (s.GEOMETRY,) if c in table]), on=s.HAZARD_ID, how="inner"
    )
    merged = gpd.GeoDataFrame(merged, geometry=records.geometry.name, crs=s.CANONICAL_CRS)
    styles: list[dict] = []
    index: dict[str, int] = {}
    features = []
    shown = shapely.simplify(merged.geometry.to_numpy(dtype=object), 2e-5, preserve_topology=True)
    shown = shapely.set_precision(shown, 1e-6)  # GEOS keeps polygons valid; rounding alone did not
    shown = shapely.transform(shown, lambda xy: np.round(xy, 6))
    for geom, (_, row) in zip(shown, merged.iterrows(), strict=True):
        if geom is None or shapely.is_empty(geom):
            continue
        style, _ = _style(row[s.HIT_RATE])
        key = script_json(style)
        if key not in index:
            index[key] = len(styles)
            styles.append(style)
        features.append(
            f'{{"type":"Feature","geometry":{shapely.to_geojson(geom)},'
            f'"properties":{script_json({"s": index[key], "t": _tip(row)})}}}'
        )
    arrows = _arrows(merged, min_shift_m)
    points, tips = _devices(devices)
    data = (
        '{"records":{"type":"FeatureCollection","features":['
        + ",".join(features)
        + ']},"styles":'
        + script_json(styles)
        + ',"arrows":'
        + script_json(arrows)
        + ',"arrow":'
        + script_json(_ARROW)
        + ',"devices":'
        + script_json(points)
        + ',"tips":'
        + script_json(tips)
        + ',"inside":'
        + script_json(_DEVICE_INSIDE[0])
        + ',"outside":'
        + script_json(_DEVICE_OUTSIDE[0])
        + "}"
    )
    element = _AccuracyLayer(data, name=name, show=show)
    element.device_count = len(points)
    legend = [(label, _style(bound)[0]) for bound, _, label in HIT_RATE_CLASSES]
    legend.append((_NO_DEVICES[1], _style(np.nan)[0]))
    legend.append(("shift (arrow)", {"color": _ARROW, "weight": 2.5, "fill": False}))
    if points:
        for colour, label in (_DEVICE_INSIDE, _DEVICE_OUTSIDE):
            legend.append((label, {"color": colour, "fillColor": colour, "fillOpacity": 0.9,
                                   "weight": 1, "radius": 3}))  # fmt: skip
    return MapLayer(name=name, element=element, legend=legend, show=show)


def _devices(devices: gpd.GeoDataFrame | None) -> tuple[list, list]:
    """``[[lat, lon, inside, tip], ...]`` and the distinct tooltips they point to."""
    if devices is None or len(devices) == 0:
        return [], []
    frame = devices.to_crs(s.CANONICAL_CRS)
    xy = shapely.get_coordinates(frame.geometry.to_numpy(dtype=object))
    inside = (
        frame["inside"].fillna(False).astype(bool).to_numpy()
        if "inside" in frame
        else np.zeros(len(frame), dtype=bool)
    )

    def text(column: str) -> list[str]:
        if column not in frame:
            return [""] * len(frame)
        return ["" if pd.isna(v) else str(v) for v in frame[column]]

    ids, kinds, records = text(s.ITEM_ID), text(s.ITEM_TYPE), text(s.HAZARD_ID)
    tips, index, points = [], {}, []
    for i in range(len(frame)):
        where = (
            f"{'inside' if inside[i] else 'outside'} {records[i]}"
            if records[i]
            else "near no record"
        )
        tip = {
            "h": ids[i] or "device",
            "r": [r for r in (["Type", kinds[i]], ["Found", where]) if r[1]],
        }
        key = script_json(tip)
        if key not in index:
            index[key] = len(tips)
            tips.append(tip)
        points.append(
            [round(float(xy[i, 1]), 6), round(float(xy[i, 0]), 6), int(inside[i]), index[key]]
        )
    return points, tips


def _arrows(records: gpd.GeoDataFrame, min_shift_m: float) -> list[dict]:
    """Arrows from each shifted record's centroid along its shift, with a head."""
    shifted = records[records[s.OFFSET_M] >= min_shift_m]
    if shifted.empty:
        return []
    crs = geodesy.equal_area_crs(records.total_bounds)
    to_m = pyproj.Transformer.from_crs(s.CANONICAL_CRS, crs, always_xy=True)
    to_ll = pyproj.Transformer.from_crs(crs, s.CANONICAL_CRS, always_xy=True)
    c = shapely.get_coordinates(shapely.centroid(shifted.geometry.to_numpy(dtype=object)))
    x, y = to_m.transform(c[:, 0], c[:, 1])
    # The accuracy table's shift is in its own equal-area CRS; over a few hundred
    # metres it is the same vector in this one (both LAEA on WGS84, nearby centres).
    dx = shifted[s.OFFSET_DX_M].to_numpy(float)
    dy = shifted[s.OFFSET_DY_M].to_numpy(float)
    tx, ty = x + dx, y + dy
    length = np.hypot(dx, dy)
    ux, uy = dx / length, dy / length
    head = np.minimum(0.3 * length, 40.0)
    lx = tx - head * (ux * np.cos(0.5) - uy * np.sin(0.5))
    ly = ty - head * (uy * np.cos(0.5) + ux * np.sin(0.5))
    rx = tx - head * (ux * np.cos(-0.5) - uy * np.sin(-0.5))
    ry = ty - head * (uy * np.cos(-0.5) + ux * np.sin(-0.5))
    out = []
    for i, (_, row) in enumerate(shifted.iterrows()):
        pts = [
            to_ll.transform(px, py)
            for px, py in ((x[i], y[i]), (tx[i], ty[i]), (lx[i], ly[i]), (rx[i], ry[i]))
        ]
        lat_lon = [[round(lat, 6), round(lon, 6)] for lon, lat in pts]
        out.append(
            {"from": lat_lon[0], "to": lat_lon[1], "left": lat_lon[2], "right": lat_lon[3],
             "t": _tip(row)}
        )  # fmt: skip
    return out


class _AccuracyLayer(Layer):
    """A feature group drawn by its own script (listed by ``LayerControl``)."""

    def __init__(self, data: str, *, name: str, show: bool) -> None:
        # Leaflet's layer control inserts the name as HTML.
        super().__init__(name=html.escape(name), overlay=True, control=True, show=show)
        #: The name is HTML already: minemap's layer control must not escape it again.
        self.name_is_html = True
        self._name = "MinemapAccuracy"
        self.data = data
        #: How many devices the layer draws.
        self.device_count = 0

    def render(self, **kwargs) -> None:
        var = self.get_name()
        parent, show = self._parent.get_name(), script_json(bool(self.show))
        code = f"var {var} = L.featureGroup();\n{_JS}({parent}, {self.data}, {show}, {var});\n"
        self.get_root().script.add_child(RawElement(code), name=var)
