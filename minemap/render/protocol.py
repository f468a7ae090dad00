"""What Python hands the map's script (``static/minemap.js``): every JSON key, by name.

The page's script is data-driven: Python writes calls such as
``minemap.geojson(collection, options)`` and ``minemap.title(map, spec)`` with
JSON arguments, and the script builds the layers and controls from them. This
module is the one place that names the keys of that JSON; the comment block at
the top of ``minemap.js`` describes the same keys (a test checks that the two
agree).

Each feature's own properties are sent once per feature (about 15,000 in the
demo map), so their keys are one letter each to keep the page small; they are
named in one table, :data:`FEATURE_KEYS`, which Python uses to build the
properties and which the page receives as ``MINEMAP_FEATURE_KEYS`` (the script
reads ``p[K.tooltip]``, never a bare letter). Everything sent once per layer or
per map has plain named keys, listed here as :class:`typing.TypedDict` types.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Literal, TypedDict

from minemap.render.offline import minemap_js, script_json

__all__ = [
    "FEATURE_KEYS",
    "TIME_KINDS",
    "FeatureKeys",
    "LayerOptions",
    "LegendItem",
    "LegendSection",
    "SearchSpec",
    "TimeKind",
    "TimelineSpec",
    "TitleSpec",
    "page_script",
]


@dataclass(frozen=True)
class FeatureKeys:
    """The short keys of each feature's properties (and of its geometry's deltas).

    Attributes
    ----------
    style
        Index of the feature's style in its layer's ``styles``.
    tooltip
        The feature's tooltip and popup: ``{heading: ..., values: [...]}``.
    heading
        The tooltip's heading (text).
    values
        The tooltip's values, aligned with the layer's ``labels``: text, or a
        number that is an index into the collection's ``strings``; empty
        values are left out in the page.
    search
        Text the search box finds the feature by (a hazard id, a district).
    aliases
        Other names the search box finds the feature by, not listed (a
        district's names in other languages and spellings, from the gazetteer).
    known
        Month (index into the time slider's months) the feature was first
        known: its hazard's submission.
    released
        Month the feature was released.
    deltas
        In a geometry, in place of ``coordinates``: integer deltas of
        ``round(coordinate * scale)``, flat ``[x0, y0, dx1, dy1, ...]`` per
        ring or line.
    """

    style: str = "s"
    tooltip: str = "t"
    heading: str = "h"
    values: str = "v"
    search: str = "i"
    aliases: str = "n"
    known: str = "a"
    released: str = "z"
    deltas: str = "d"

    def as_json(self) -> dict[str, str]:
        """``{name: key}`` as the page's script reads it."""
        return dataclasses.asdict(self)


#: The one table of per-feature keys, used by Python and (as
#: ``MINEMAP_FEATURE_KEYS``) by the page's script.
FEATURE_KEYS = FeatureKeys()

#: How a layer follows the time slider (``LayerOptions["time"]``): a hazard is
#: drawn from the month it is known, a release from the month it is made, a
#: piece of hazard released later from the month it is known until the month
#: of its release.
TIME_KINDS = ("hazard", "release", "pending")

TimeKind = Literal["hazard", "release", "pending"]


class LayerOptions(TypedDict):
    """Second argument of ``minemap.geojson(collection, options)``.

    The first is a GeoJSON FeatureCollection without each feature's ``type``,
    with ``scale`` (coordinates are integer deltas in 1/scale degrees) and
    ``strings`` (values shared by the layer's tooltips).
    """

    styles: list[dict]  # Leaflet path options, indexed by each feature's style key
    labels: list[str]  # row labels of the tooltips, aligned with their values
    className: str  # CSS class of the layer's shapes (minemap-hazard...)
    attribution: str | None  # credit shown while the layer is on, HTML-escaped
    time: TimeKind | None  # how the layer follows the time slider; None: it does not


class LegendItem(TypedDict):
    """One row of the legend: a swatch drawn with ``style`` and its ``label``."""

    label: str
    style: dict


class LegendSection(TypedDict):
    """One section of ``minemap.legend(map, [sections])``."""

    title: str
    items: list[LegendItem]


class TitleSpec(TypedDict):
    """``minemap.title(map, spec)``: the title box."""

    title: str
    lines: list[str]


class SearchSpec(TypedDict):
    """``minemap.search(map, spec)``: the search box."""

    placeholder: str


class TimelineSpec(TypedDict):
    """``minemap.timeline(map, spec)``: the time slider.

    ``months`` are ``YYYY-MM`` labels; ``figures`` the text shown at each
    month's end, aligned with them.
    """

    title: str
    months: list[str]
    figures: list[str]


def page_script() -> str:
    """The map's script as inlined in the page: the key table, then ``minemap.js``."""
    return f"var MINEMAP_FEATURE_KEYS = {script_json(FEATURE_KEYS.as_json())};\n{minemap_js()}"
