"""Mine density rasters: estimated remaining mines per cell on an equal-area grid.

The grid is a Lambert azimuthal equal-area projection on WGS84 centred on the
hazards (:func:`minemap.geodesy.equal_area_crs`, the CRS
:func:`minemap.remaining` measures in), with square cells of ``cell_size_m``
metres, aligned to multiples of the cell size. Every cell has the same true
area.

Band 1 holds the estimated remaining mines in each cell: each remaining piece
of :func:`minemap.remaining` spreads its ``remaining_mines_est`` uniformly over
its remaining area, and a cell receives the piece's mines times the share of
the piece's area that falls in the cell. The shares are exact (vectorised
shapely intersections of each piece with the cells its bounds touch) and are
normalised per piece, so band 1 adds up to ``remaining_mines_est`` (to float32
rounding). Band 2 is band 1 per hectare of cell; band 3, when items are given,
counts the devices found in each cell. Cells with no remaining ground (less
than a millionth of the cell) are nodata in bands 1 and 2. Records whose mine
count is not known have no estimate: their ground is left out (a cell holding
only such ground is nodata, never 0) and counted in ``unknown_records``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from affine import Affine

from minemap import contamination, geodesy, outputs
from minemap import schema as s
from minemap._arguments import argument
from minemap.errors import SchemaError

__all__ = ["NODATA", "DensityGrid", "density", "read_density", "write_density", "zonal_sums"]

#: Nodata value of the float bands.
NODATA = -9999.0
#: Cells whose pairs with pieces are intersected at once (bounds memory).
_CHUNK = 200_000
#: The largest grid :func:`density` makes (cells); a finer grid is refused.
MAX_CELLS = 50_000_000

BAND_MINES = "remaining_mines_est"
BAND_PER_HA = "remaining_mines_per_ha_est"
BAND_DEVICES = "devices_found"


@dataclasses.dataclass
class DensityGrid:
    """A density raster in memory: ``bands`` is ``(count, height, width)`` float32."""

    bands: np.ndarray
    transform: Affine
    crs: pyproj.CRS
    names: tuple[str, ...]
    total_mines_est: float
    #: Records left out because their mine count is not known.
    unknown_records: int = 0

    @property
    def cell_size_m(self) -> float:
        return float(self.transform.a)

    @property
    def mines(self) -> np.ndarray:
        """Band 1 with nodata as 0."""
        band = self.bands[0]
        return np.where(band == NODATA, 0.0, band)


def _grid(bounds: np.ndarray, cell: float) -> tuple[Affine, int, int]:
    minx, miny, maxx, maxy = bounds
    # A micrometre-scale tolerance: reprojection noise must not add a row of cells.
    x0, y0 = np.floor(minx / cell + 1e-6) * cell, np.floor(miny / cell + 1e-6) * cell
    x1, y1 = np.ceil(maxx / cell - 1e-6) * cell, np.ceil(maxy / cell - 1e-6) * cell
    width = max(round((x1 - x0) / cell), 1)
    height = max(round((y1 - y0) / cell), 1)
    return Affine(cell, 0.0, x0, 0.0, -cell, y0 + height * cell), width, height


def spread(
    geoms: np.ndarray, values: np.ndarray, transform: Affine, width: int, height: int
) -> tuple[np.ndarray, np.ndarray]:
    """Spread each polygon's value over the grid by exact area share.

    Returns the per-cell sum of values and the per-cell covered area (m²; a
    cell covered by two overlapping pieces counts both).
    """
    cell = transform.a
    x0, y_top = transform.c, transform.f
    out = np.zeros(height * width)
    cover = np.zeros(height * width)
    keep = ~shapely.is_empty(geoms) & (shapely.area(geoms) > 0)
    geoms, values = geoms[keep], values[keep]
    if len(geoms) == 0:
        return out.reshape(height, width), cover.reshape(height, width)
    b = shapely.bounds(geoms)
    c0 = np.clip(np.floor((b[:, 0] - x0) / cell).astype(int), 0, width - 1)
    c1 = np.clip(np.ceil((b[:, 2] - x0) / cell).astype(int) - 1, 0, width - 1)
    r0 = np.clip(np.floor((y_top - b[:, 3]) / cell).astype(int), 0, height - 1)
    r1 = np.clip(np.ceil((y_top - b[:, 1]) / cell).astype(int) - 1, 0, height - 1)
    ncols, nrows = c1 - c0 + 1, r1 - r0 + 1
    counts = ncols * nrows
    piece = np.repeat(np.arange(len(geoms)), counts)
    # Position of each pair within its piece's block of cells, row-major.
    offset = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    col = c0[piece] + offset % ncols[piece]
    row = r0[piece] + offset // ncols[piece]
    area = np.empty(len(piece))
    for start in range(0, len(piece), _CHUNK):
        sl = slice(start, start + _CHUNK)
        cells = shapely.box(
            x0 + col[sl] * cell,
            y_top - (row[sl] + 1) * cell,
            x0 + (col[sl] + 1) * cell,
            y_top - row[sl] * cell,
        )
        area[sl] = shapely.area(shapely.intersection(geoms[piece[sl]], cells))
    # Normalise per piece by the summed pieces (not the polygon's own area) so
    # each piece's value is conserved exactly whatever the rounding.
    total = np.bincount(piece, weights=area, minlength=len(geoms))
    weight = np.divide(area, total[piece], out=np.zeros_like(area), where=total[piece] > 0)
    flat = row * width + col
    out += np.bincount(flat, weights=weight * values[piece], minlength=height * width)
    cover += np.bincount(flat, weights=area, minlength=height * width)
    return out.reshape(height, width), cover.reshape(height, width)


def density(
    hazards: gpd.GeoDataFrame,
    releases: gpd.GeoDataFrame,
    districts: gpd.GeoDataFrame | None = None,
    *,
    cell_size_m: float,
    as_of: dt.date | str | None = None,
    items: gpd.GeoDataFrame | None = None,
    remaining: gpd.GeoDataFrame | None = None,
    crs=None,
) -> DensityGrid:
    """Estimated remaining mines per cell of an equal-area grid.

    Parameters
    ----------
    hazards, releases, districts, as_of
        As for :func:`minemap.remaining`.
    cell_size_m
        Cell size in metres (square cells).
    items
        Devices found; band 3 counts them per cell (only those found on or
        before ``as_of``).
    remaining
        The frame :func:`minemap.remaining` returned for the same arguments,
        to skip computing it again.
    crs
        The grid's CRS: an equal-area CRS in metres. Default: the Lambert
        azimuthal equal-area CRS centred on the hazards
        (:func:`minemap.geodesy.equal_area_crs`).

    Returns
    -------
    DensityGrid
        Bands ``remaining_mines_est``, ``remaining_mines_per_ha_est`` and, with
        items, ``devices_found``; see the module docstring.

    Examples
    --------
    >>> from minemap import datasets
    >>> from minemap.density import density
    >>> grid = density(datasets.hazards(), datasets.releases(), cell_size_m=2000)
    >>> round(float(grid.mines.sum()) / grid.total_mines_est, 4)
    1.0
    """
    if not cell_size_m > 0:
        raise ValueError(f"cell size {cell_size_m!r} m: give a positive number of metres")
    rem = remaining
    if rem is None:
        rem = contamination.remaining(hazards, releases, districts, as_of=as_of)
    if crs is None:
        crs = geodesy.equal_area_crs(hazards.geometry.to_crs(s.CANONICAL_CRS).total_bounds)
    crs = pyproj.CRS(crs)
    pieces = rem.geometry.to_crs(crs).to_numpy(dtype=object)
    values = pd.to_numeric(rem[s.REMAINING_MINES_EST], errors="coerce").to_numpy(
        dtype=float, na_value=np.nan
    )
    # Ground whose mine count is not known holds no estimate: left out, so a cell with
    # nothing else is nodata, not 0.
    known = np.isfinite(values)
    unknown = int(rem.loc[~known, s.HAZARD_ID].nunique()) if s.HAZARD_ID in rem else 0
    pieces, values = pieces[known], values[known]
    hz = hazards.geometry.to_crs(crs).to_numpy(dtype=object)
    transform, width, height = _grid(shapely.total_bounds(hz), float(cell_size_m))
    if width * height > MAX_CELLS:
        raise ValueError(
            f"a {cell_size_m:g} m grid over the hazards has {width * height:,} cells (more than "
            f"{MAX_CELLS:,}); choose a larger cell size ({argument('cell_size_m')})"
        )
    mines, cover = spread(pieces, values, transform, width, height)
    cell_ha = float(cell_size_m) ** 2 / geodesy.M2_PER_HA
    # Slivers from reprojection (a millionth of a cell, at most a square metre) are not
    # remaining ground; a small record in a large cell is.
    nodata = cover <= min(float(cell_size_m) ** 2 * 1e-6, 1.0)
    bands = [np.where(nodata, NODATA, mines), np.where(nodata, NODATA, mines / cell_ha)]
    names = [BAND_MINES, BAND_PER_HA]
    if items is not None:
        bands.append(_count_points(items, crs, transform, width, height, as_of))
        names.append(BAND_DEVICES)
    return DensityGrid(
        bands=np.stack(bands).astype(np.float32),
        transform=transform,
        crs=crs,
        names=tuple(names),
        total_mines_est=float(values.sum()),
        unknown_records=unknown,
    )


def _count_points(items, crs, transform: Affine, width: int, height: int, as_of) -> np.ndarray:
    if s.FOUND_ON in items.columns and as_of is not None:
        found = pd.to_datetime(items[s.FOUND_ON], errors="coerce")
        items = items[~(found.dt.normalize() > contamination.parse_as_of(as_of))]
    xy = shapely.get_coordinates(items.geometry.to_crs(crs).to_numpy(dtype=object))
    col = np.floor((xy[:, 0] - transform.c) / transform.a).astype(int)
    row = np.floor((transform.f - xy[:, 1]) / transform.a).astype(int)
    inside = (col >= 0) & (col < width) & (row >= 0) & (row < height)
    flat = row[inside] * width + col[inside]
    return np.bincount(flat, minlength=width * height).reshape(height, width).astype(float)


def write_density(grid: DensityGrid, path, *, overwrite: bool = False) -> Path:
    """Write a density grid as a tiled, DEFLATE-compressed GeoTIFF, atomically.

    The file is read back (every band equal to the grid's) before it takes its
    name; see :func:`minemap.outputs.atomic_output`.
    """
    import rasterio

    path = Path(path)
    count, height, width = grid.bands.shape
    profile = {
        "driver": "GTiff",
        "width": width,
        "height": height,
        "count": count,
        "dtype": "float32",
        "crs": rasterio.crs.CRS.from_wkt(grid.crs.to_wkt()),
        "transform": grid.transform,
        "nodata": NODATA,
        "tiled": True,
        "blockxsize": 256,
        "blockysize": 256,
        "compress": "deflate",
        "predictor": 3,
    }

    def check(tmp: Path) -> None:
        with rasterio.open(tmp) as src:
            if not np.array_equal(src.read(), grid.bands, equal_nan=True):
                raise ValueError("its bands differ from the grid written")

    with (
        outputs.atomic_output(path, overwrite=overwrite, check=check) as tmp,
        rasterio.open(tmp, "w", **profile) as dst,
    ):
        dst.write(grid.bands)
        for i, name in enumerate(grid.names, start=1):
            dst.set_band_description(i, name)
        dst.update_tags(
            total_remaining_mines_est=f"{grid.total_mines_est:.6f}",
            cell_size_m=f"{grid.cell_size_m:g}",
            software="minemap",
        )
    return path


def read_density(path) -> DensityGrid:
    """Read a GeoTIFF written by :func:`write_density`.

    Opened with GDAL's GeoTIFF driver only: a raster VRT (which reads the files it
    names) or any other format under the name is refused.
    """
    import rasterio

    from minemap.errors import InputFileError

    try:
        with rasterio.open(path, driver="GTiff") as src:
            bands = src.read()
            names = tuple(d or f"band_{i}" for i, d in enumerate(src.descriptions, start=1))
            total = float(src.tags().get("total_remaining_mines_est", "nan"))
            return DensityGrid(bands, src.transform, pyproj.CRS(src.crs.to_wkt()), names, total)
    except rasterio.errors.RasterioIOError as exc:
        raise InputFileError(path, f"cannot read the raster ({exc})") from None


def zonal_sums(grid: DensityGrid, districts: gpd.GeoDataFrame) -> pd.DataFrame:
    """Remaining mines per district read back from band 1 (cells by their centre).

    Cells whose centre lies in no district go to ``(unassigned)``; the rows
    add up to the raster's total.
    """
    from rasterio.features import rasterize

    if s.DISTRICT not in districts.columns:
        raise SchemaError("districts: a 'district' column is needed for zonal sums")
    _, height, width = grid.bands.shape
    geoms = districts.geometry.to_crs(grid.crs).to_numpy(dtype=object)
    names = districts[s.DISTRICT].astype(str).to_numpy(dtype=object)
    # Later polygons would overwrite earlier ones: burn in reverse so the first wins.
    shapes = [(g, i + 1) for i, g in reversed(list(enumerate(geoms))) if g is not None]
    zone = rasterize(
        shapes, out_shape=(height, width), transform=grid.transform, fill=0, dtype="int32"
    )
    sums = np.bincount(zone.ravel(), weights=grid.mines.ravel(), minlength=len(names) + 1)
    return pd.DataFrame(
        {
            s.DISTRICT: [*names, s.UNASSIGNED],
            s.REMAINING_MINES_EST: [*sums[1:], sums[0]],
        }
    )
