"""The density raster as an image layer of the offline map.

:func:`density_layer` turns a :class:`~minemap.density.DensityGrid` (or a
GeoTIFF written by :func:`~minemap.density.write_density`) into a Leaflet
``imageOverlay`` whose PNG is inlined as a ``data:`` URI, so the map stays
self-contained. For display only, the band is resampled onto Web Mercator
(Leaflet's own CRS, so the image lines up): pixels of half a cell take the
value of the cell under them (nearest), so every colour is a real cell's; a
raster too large for that is averaged down. The figures themselves stay in the
equal-area raster.
"""

from __future__ import annotations

import base64
import dataclasses
import html
import itertools
import warnings
from pathlib import Path

import numpy as np
from affine import Affine
from folium.map import Layer

from minemap.density import NODATA, DensityGrid, read_density
from minemap.render.offline import RawElement, script_json

try:
    from minemap.render.map import MapLayer
except ImportError:  # pragma: no cover - a map.py without extra_layers

    @dataclasses.dataclass(frozen=True)
    class MapLayer:
        """What ``render_map(..., extra_layers=[...])`` takes (same attributes)."""

        name: str
        element: object | None = None
        legend: list = dataclasses.field(default_factory=list)
        show: bool = True
        frame: object | None = None


__all__ = ["COLOURS", "density_image", "density_layer"]

#: Colour ramp from low to high density (ColorBrewer YlOrRd, 6 classes).
COLOURS = ("#ffffb2", "#fed976", "#feb24c", "#fd8d3c", "#f03b20", "#bd0026")
#: Display grids are at most this many pixels on a side.
MAX_PIXELS = 2048


def _rgb(colour: str) -> tuple[int, int, int]:
    return tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))


def density_image(
    grid: DensityGrid | str | Path, *, band: int = 2, opacity: float = 0.75
) -> tuple[str, list[list[float]], list[float]]:
    """A PNG data URI of one band on Web Mercator, its lat/lon bounds and class breaks.

    Classes are quantiles of the cells with a value above 0 (band 2, mines per
    hectare, by default); nodata and zero cells are transparent.
    """
    import rasterio
    from rasterio.io import MemoryFile
    from rasterio.warp import Resampling, reproject, transform_bounds

    if not isinstance(grid, DensityGrid):
        grid = read_density(grid)
    source = grid.bands[band - 1].astype(np.float32)
    _, height, width = grid.bands.shape
    src_crs = rasterio.crs.CRS.from_wkt(grid.crs.to_wkt())
    left, top = grid.transform.c, grid.transform.f
    right, bottom = left + width * grid.transform.a, top + height * grid.transform.e
    # The display grid: the raster's extent on Web Mercator, cells about as large
    # on the ground as the raster's (Mercator stretches them by 1/cos(latitude)).
    west, south, east, north = transform_bounds(src_crs, "EPSG:3857", left, bottom, right, top)
    lat = np.radians(
        np.mean(transform_bounds(src_crs, "EPSG:4326", left, bottom, right, top)[1::2])
    )
    cell = grid.transform.a / np.cos(lat)
    # Pixels of half a cell, each showing the value of the cell under its centre:
    # every colour is a real cell's, placed to within half a pixel (averaging onto
    # a grid that does not line up would smear each cell into its neighbours).
    # A raster too large for that is averaged down.
    res = max(cell / 2, (east - west) / MAX_PIXELS, (north - south) / MAX_PIXELS)
    resampling = Resampling.nearest if res < cell else Resampling.average
    dst_w = max(int(np.ceil((east - west) / res - 1e-3)), 1)
    dst_h = max(int(np.ceil((north - south) / res - 1e-3)), 1)
    # Pixels fit the extent exactly (Leaflet stretches the image to its bounds).
    dst_transform = Affine((east - west) / dst_w, 0.0, west, 0.0, -(north - south) / dst_h, north)
    shown = np.full((dst_h, dst_w), NODATA, dtype=np.float32)
    reproject(
        source,
        shown,
        src_transform=grid.transform,
        src_crs=src_crs,
        src_nodata=NODATA,
        dst_transform=dst_transform,
        dst_crs="EPSG:3857",
        dst_nodata=NODATA,
        resampling=resampling,
    )
    valid = (shown != NODATA) & (shown > 0)
    values = shown[valid]
    breaks = (
        list(np.unique(np.quantile(values, np.linspace(0, 1, len(COLOURS) + 1)[1:-1])))
        if values.size
        else []
    )
    classes = np.digitize(shown, breaks)
    palette = np.array([_rgb(c) for c in COLOURS], dtype=np.uint8)
    rgba = np.zeros((4, dst_h, dst_w), dtype=np.uint8)
    rgba[:3] = np.moveaxis(palette[np.clip(classes, 0, len(COLOURS) - 1)], -1, 0)
    rgba[3] = np.where(valid, round(255 * opacity), 0)
    with MemoryFile() as memory, warnings.catch_warnings():
        # A PNG has no georeference: the bounds go to Leaflet instead.
        warnings.simplefilter("ignore", rasterio.errors.NotGeoreferencedWarning)
        with memory.open(driver="PNG", width=dst_w, height=dst_h, count=4, dtype="uint8") as png:
            png.write(rgba)
        data = memory.read()
    w, s_, e, n = transform_bounds("EPSG:3857", "EPSG:4326", west, south, east, north)
    uri = "data:image/png;base64," + base64.b64encode(data).decode("ascii")
    return uri, [[s_, w], [n, e]], [float(b) for b in breaks]


def density_layer(
    grid: DensityGrid | str | Path,
    *,
    band: int = 2,
    name: str = "Estimated mine density (mines per ha)",
    opacity: float = 0.75,
    show: bool = False,
) -> MapLayer:
    """An inlined image layer of a density band for ``render_map(..., extra_layers=[...])``.

    Returns a :class:`~minemap.render.map.MapLayer`: ``layer.element`` is the
    folium layer (``layer.element.add_to(m)`` works on any folium map) and
    ``layer.legend`` lists the colour classes as ``[(label, style), ...]``.
    """
    uri, bounds, breaks = density_image(grid, band=band, opacity=opacity)
    element = _ImageLayer(uri, bounds, name=name, show=show)
    edges = ["0", *(f"{b:,.2f}" for b in breaks)]
    labels = [f"{lo} - {hi}" for lo, hi in itertools.pairwise(edges)]
    labels.append(f"> {edges[-1]}")
    legend = [
        (label, {"fillColor": c, "fillOpacity": opacity, "stroke": False})
        for label, c in zip(labels, COLOURS, strict=False)
    ]
    return MapLayer(name=name, element=element, legend=legend, show=show)


class _ImageLayer(Layer):
    """A Leaflet imageOverlay written by its own script (no folium template)."""

    def __init__(self, uri: str, bounds: list[list[float]], *, name: str, show: bool) -> None:
        super().__init__(name=html.escape(name), overlay=True, control=True, show=show)
        #: The name is HTML already: minemap's layer control must not escape it again.
        self.name_is_html = True
        self._name = "MinemapDensity"
        self.uri = uri
        self.bounds = bounds

    def render(self, **kwargs) -> None:
        var = self.get_name()
        options = {"interactive": False, "className": "minemap-density"}
        code = (
            f"var {var} = L.imageOverlay({script_json(self.uri)}, {script_json(self.bounds)}, "
            f"{script_json(options)});\n"
        )
        if self.show:
            code += f"{var}.addTo({self._parent.get_name()});\n"
        self.get_root().script.add_child(RawElement(code), name=var)
