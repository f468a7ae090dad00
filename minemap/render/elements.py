"""The page elements of the map: layers and scripts that write their own JavaScript.

Each writes its script as a :class:`~minemap.render.offline.RawElement`, never
through folium's Jinja templates (which would evaluate ``{{ ... }}`` in data),
with its data as JSON made safe for a ``<script>`` element
(:func:`~minemap.render.offline.script_json`). Text that Leaflet inserts as
HTML (layer names, attributions) is escaped with :func:`html.escape`.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from urllib.parse import urlsplit

import folium
from branca.element import Element
from folium.map import Layer

from minemap.render.offline import RawElement, script_json
from minemap.render.protocol import LayerOptions, TimeKind

__all__ = [
    "TILE_URL_MAX_LENGTH",
    "GeoJsonLayer",
    "MapScript",
    "TileLayer",
    "check_tile_url",
    "layer_control_js",
    "layer_options",
    "map_call",
    "tiles_attribution",
]


def layer_options(
    styles: list[dict],
    labels: list[str],
    class_name: str,
    *,
    attribution: str | None = None,
    time: TimeKind | None = None,
) -> LayerOptions:
    """The options of ``minemap.geojson`` for one layer (``attribution`` escaped here)."""
    return LayerOptions(
        styles=styles,
        labels=list(labels),
        className=class_name,
        attribution=html.escape(attribution) if attribution else None,
        time=time,
    )


class GeoJsonLayer(Layer):
    """A GeoJSON overlay drawn by ``minemap.geojson`` (tooltips built with textContent).

    It is a folium ``Layer`` so that ``LayerControl`` lists it, but it writes
    its script itself as a :class:`RawElement`: folium's macro templates would
    parse the data as Jinja.

    Parameters
    ----------
    collection
        The FeatureCollection as script-safe JSON text
        (:func:`minemap.render.features.feature_collection`).
    options
        From :func:`layer_options`.
    name
        Name in the layer control (escaped where it reaches the page).
    show
        Drawn when the page opens.
    """

    def __init__(
        self, collection: str, options: LayerOptions, *, name: str, show: bool = True
    ) -> None:
        # The name is escaped where it reaches the page (see layer_control_js).
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "MinemapGeoJson"
        self.features = collection
        self.options = options

    def render(self, **kwargs) -> None:
        var = self.get_name()
        code = f"var {var} = minemap.geojson({self.features}, {script_json(self.options)});\n"
        if self.show:
            code += f"{var}.addTo({self._parent.get_name()});\n"
        self.get_root().script.add_child(RawElement(code), name=var)


class TileLayer(Layer):
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


def tiles_attribution(url: str) -> str:
    host = urlsplit(url).hostname or ""
    return f"Base map: {host.removeprefix('{s}.')}"


class MapScript(Element):
    """A script that runs once the map exists; ``make`` gets the map's variable name."""

    def __init__(self, make: Callable[[str], str]) -> None:
        super().__init__()
        self._name = "MinemapScript"
        self.make = make

    def render(self, **kwargs) -> None:
        code = self.make(self._parent.get_name())
        self.get_root().script.add_child(RawElement(code), name=self.get_name())


def map_call(function: str, *arguments: object) -> MapScript:
    """A script calling ``function(map, *arguments)``, each argument as script-safe JSON."""
    tail = "".join(f", {script_json(a)}" for a in arguments)
    return MapScript(lambda name: f"{function}({name}{tail});\n")


def layer_control_js(m: folium.Map, map_name: str) -> str:
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
