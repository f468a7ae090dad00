"""Offline HTML maps of remaining contamination.

:func:`render_map` builds a :class:`folium.Map` that loads nothing from the
network (Leaflet is vendored and inlined, no tile server by default) and
:func:`write_map` saves it atomically; :class:`MapOptions` holds its options
(title, as-of day, ``public``...). :class:`MapLayer` adds further
overlays (``render_map(..., extra_layers=[...])``) and :func:`public_grid`
sums contamination on the coarse grid of a public map. See
:mod:`minemap.render.symbology` for colours and styles and
:mod:`minemap.render.offline` for the inlining.
"""

from __future__ import annotations

from minemap.render.map import MapLayer, MapOptions, public_grid, render_map, write_map

__all__ = ["MapLayer", "MapOptions", "public_grid", "render_map", "write_map"]
