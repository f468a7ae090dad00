"""The offline HTML map of remaining contamination.

:func:`render_map` draws, each as a layer that can be switched on and off:
districts shaded by remaining hectares, the remaining hazards (fill by
classification, outline by status), the released land by method and the
original submitted maps. :func:`write_map` saves it atomically.

The map is built from small parts: :mod:`~minemap.render.layers` (one function
per layer, and the controls), :mod:`~minemap.render.content` (tooltips, legend,
title), :mod:`~minemap.render.features` (geometry for display),
:mod:`~minemap.render.elements` (page elements writing their own script),
:mod:`~minemap.render.protocol` (the JSON keys the page's script reads) and the
page's script and stylesheet, ``static/minemap.js`` and ``static/minemap.css``.

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

import dataclasses
import datetime as dt
import html
import inspect
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import folium
import geopandas as gpd
import pandas as pd

from minemap import outputs
from minemap import schema as s
from minemap._arguments import argument
from minemap.contamination import area_only_releases, released_by
from minemap.render import content as c
from minemap.render import layers
from minemap.render._analysis import PUBLIC_CELL_M, public_grid
from minemap.render.content import districts_attribution
from minemap.render.elements import (
    TILE_URL_MAX_LENGTH,
    TileLayer,
    check_tile_url,
    tiles_attribution,
)
from minemap.render.features import COORDINATE_DECIMALS, SIMPLIFY_TOLERANCE, bounds, in_wgs84
from minemap.render.layers import MapLayer
from minemap.render.offline import OfflineMap, minemap_css
from minemap.render.protocol import SearchSpec, TitleSpec, page_script

__all__ = [
    "COORDINATE_DECIMALS",
    "LARGE_MAP_BYTES",
    "PUBLIC_CELL_M",
    "SIMPLIFY_TOLERANCE",
    "TILE_URL_MAX_LENGTH",
    "MapLayer",
    "MapOptions",
    "check_tile_url",
    "districts_attribution",
    "public_grid",
    "render_map",
    "warn_if_large",
    "write_map",
]

#: A page larger than this (in bytes) is written with a warning: browsers open
#: it slowly or not at all (docs/map.md, "Size of the map").
LARGE_MAP_BYTES = 25_000_000

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class MapOptions:
    """How :func:`render_map` draws its layers (everything but the layers themselves).

    Each field can also be given to :func:`render_map` as a keyword of its own
    (``render_map(rem, title="...")``), which wins over ``options``.

    Parameters
    ----------
    as_of
        The date the figures refer to, shown in the title box; releases after
        it are not drawn. By default the as-of date recorded on ``remaining``
        or ``table``.
    title
        Text of the title box and of the page title.
    tiles
        URL template of an online base layer (``https://.../{z}/{x}/{y}.png``,
        checked by :func:`check_tile_url`), added under the districts. By
        default none: the page loads nothing.
    public
        A map safe to publish: no hazard perimeters, ids or sources; remaining
        contamination summed by district and on a coarse grid
        (:func:`public_grid`).
    attribution
        Source and licence of the district boundaries, shown in the map's
        attribution box (as text). By default the distinct values of the
        districts' ``attribution`` column (:func:`districts_attribution`); none
        if they have none. ``""`` shows none.
    known_on
        The day (or moment, UTC) the layers were read as known on, from a
        workspace: shown in the title box after the as-of day.

    Examples
    --------
    >>> MapOptions(title="Weekly map", public=True).public
    True
    """

    as_of: dt.date | str | None = None
    title: str = "minemap"
    tiles: str | None = None
    public: bool = False
    attribution: str | None = None
    known_on: dt.date | dt.datetime | str | None = None


_FIND_ANY = "Find a hazard id or district"
_OPTION_NAMES = tuple(f.name for f in dataclasses.fields(MapOptions))


def _options(options: MapOptions | None, keywords: dict) -> MapOptions:
    """``options`` with the keywords given to :func:`render_map` put in."""
    for name in keywords:
        if name not in _OPTION_NAMES:
            raise TypeError(f"render_map() got an unexpected keyword argument {name!r}")
    if options is not None and not isinstance(options, MapOptions):
        raise TypeError(f"options must be a MapOptions, not {type(options).__name__}")
    return dataclasses.replace(options or MapOptions(), **keywords)


def render_map(
    remaining: gpd.GeoDataFrame,
    table: pd.DataFrame | None = None,
    *,
    hazards: gpd.GeoDataFrame | None = None,
    releases: gpd.GeoDataFrame | None = None,
    districts: gpd.GeoDataFrame | None = None,
    extra_layers: Sequence | None = None,
    options: MapOptions | None = None,
    **keywords,
) -> folium.Map:
    """Draw remaining contamination on a self-contained, offline HTML map.

    Parameters
    ----------
    remaining
        Remaining hazard pieces from :func:`minemap.remaining`.
    table
        Per-district table from :func:`minemap.by_district`; by default summed from ``remaining``.
    hazards, releases
        The submitted maps (outlines, off at first) and the released land (by
        method); together they show land released later as hazardous until then.
    districts
        District polygons, shaded by remaining hectares.
    extra_layers
        Further overlays: :class:`MapLayer` objects or alike.
    options, **keywords
        :class:`MapOptions` (``as_of``, ``title``, ``tiles``, ``public``,
        ``attribution``, ``known_on``), or any of them as a keyword.

    Returns
    -------
    folium.Map
        An :class:`~minemap.render.offline.OfflineMap`; save it with :func:`write_map`.

    Examples
    --------
    >>> from minemap import by_district, datasets, remaining
    >>> hz, rel, dist = datasets.hazards(), datasets.releases(), datasets.districts()
    >>> rem = remaining(hz, rel, dist)
    >>> m = render_map(rem, by_district(rem), hazards=hz, releases=rel, districts=dist)
    >>> "<script src=" in m.get_root().render()
    False
    """
    opts = _options(options, keywords)
    given = (remaining, hazards, releases, districts)
    remaining, hazards, releases, districts = (in_wgs84(frame) for frame in given)
    as_of = c.as_of_date(opts.as_of, remaining, table)
    counted = releases = None if releases is None else _released_by(releases, as_of)
    if opts.public:
        hazards = releases = None
    credit = _credit(opts, districts)
    m = _new_map(opts)
    legend = []
    if districts is not None:
        legend.append(layers.add_districts(m, districts, table, remaining, credit=credit))
    if opts.public:
        legend.append(layers.add_public_grid(m, remaining))
    axis = layers.time_axis(releases, hazards, as_of)
    if releases is not None:
        legend.append(layers.add_released_land(m, releases, axis))
    if not opts.public:
        legend.append(layers.add_remaining_hazards(m, remaining, axis))
    layers.add_released_later(m, hazards, releases, axis)
    if hazards is not None:
        legend.append(layers.add_submitted_maps(m, hazards))
    legend += layers.add_extra_layers(m, extra_layers or ())
    frames = (districts,) if opts.public else (remaining, releases, hazards)
    layers.add_controls(
        m,
        title=_title(opts, as_of, counted, table),
        search=SearchSpec(placeholder="Find a district" if opts.public else _FIND_ANY),
        timeline=layers.timeline_spec(axis, hazards, releases),
        legend=legend,
        bounds=bounds(*frames) or bounds(districts),
        credit=credit if districts is None else "",
    )
    m.minemap_public = opts.public  # for write_map's advice on a large page
    return m


# The whole signature, options included, for help() and editors.
render_map.__signature__ = inspect.signature(render_map).replace(
    parameters=[
        *(p for p in inspect.signature(render_map).parameters.values() if p.name != "keywords"),
        *(
            inspect.Parameter(
                f.name, inspect.Parameter.KEYWORD_ONLY, default=f.default, annotation=f.type
            )
            for f in dataclasses.fields(MapOptions)
        ),
    ]
)


def _new_map(opts: MapOptions) -> OfflineMap:
    """An empty offline map with minemap's script and style, its title and base map."""
    m = OfflineMap(
        tiles=None,
        control_scale=True,
        prefer_canvas=False,
        extra_css=minemap_css(),
        extra_js=page_script(),
    )
    m.get_root().title = html.escape(str(opts.title))
    if opts.tiles:
        url = str(opts.tiles)
        TileLayer(url, name="Online base map", attribution=tiles_attribution(url)).add_to(m)
    return m


def _credit(opts: MapOptions, districts: gpd.GeoDataFrame | None) -> str:
    """The boundaries' credit: the option, else the districts' attribution column."""
    if opts.attribution is None:
        return c.districts_attribution(districts)
    return c.text(opts.attribution)


def _title(opts: MapOptions, as_of, releases, table) -> TitleSpec:
    lines = c.title_lines(as_of, releases, table, opts.known_on)
    if opts.public:
        lines.append(
            f"Public map: contamination summed by district and {PUBLIC_CELL_M / 1000:g} km cell"
        )
    return TitleSpec(title=str(opts.title), lines=lines)


def _released_by(releases: gpd.GeoDataFrame, as_of: pd.Timestamp | None) -> gpd.GeoDataFrame:
    """The releases counted as of the day, with a polygon to draw.

    Releases given as an area have none: their share is in their hazard's tooltip.
    """
    releases = releases[~area_only_releases(releases)]
    if as_of is None or s.RELEASED_ON not in releases.columns:
        return releases
    return released_by(releases, as_of)


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
        remedy = (
            f"{argument('public', True)} draws districts and a 2 km grid instead of every "
            f"shape, or {remedy}"
        )
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
