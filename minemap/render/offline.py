"""Self-contained HTML: vendored Leaflet inlined, nothing loaded from the network.

A plain :class:`folium.Map` loads about ten files from CDNs (Leaflet, jQuery,
Bootstrap, Font Awesome...), so with no internet the page is blank.
:class:`OfflineMap` loads nothing: it inlines the copy of Leaflet vendored in
``minemap/render/vendor/leaflet`` into ``<script>`` and ``<style>`` elements and
turns the stylesheet's image URLs into ``data:`` URIs. GeoJSON layers, tooltips
and the layer control need neither jQuery nor Bootstrap. minemap's own script
and stylesheet (``minemap/render/static/minemap.js`` and ``minemap.css``, the
map's controls and layers) are read and inlined the same way
(:func:`minemap_js`, :func:`minemap_css`).

Two folium/branca pitfalls are avoided here on purpose:

* branca's "embedded" links write a bytes repr (``b'...'``) into the page;
* a :class:`branca.element.MacroElement` wraps the text its macros produce in a
  new :class:`~branca.element.Element`, which parses that text as a Jinja
  template again, so data containing ``{{ ... }}`` would be evaluated. Page
  text built from data goes through :class:`RawElement`, which is never parsed.
"""

from __future__ import annotations

import base64
import functools
import json
import re
from importlib import resources

import folium
from branca.element import Element, Figure

__all__ = [
    "LEAFLET_VERSION",
    "OfflineMap",
    "RawElement",
    "css_with_data_uris",
    "leaflet_css",
    "leaflet_js",
    "minemap_css",
    "minemap_js",
    "script_json",
]

#: Version of the vendored Leaflet (see ``vendor/README.md``).
LEAFLET_VERSION = "1.9.4"

_VENDOR = "vendor/leaflet"
_STATIC = "static"
_MIME = {".png": "image/png", ".svg": "image/svg+xml", ".gif": "image/gif"}
# url(images/layers.png), url('images/x.png'): relative file references only;
# IE's "url(#default#VML)" and data: URIs are left alone.
_CSS_URL = re.compile(r"""url\(\s*(['"]?)(?!data:|#|[a-z]+://)([^'")\s]+)\1\s*\)""", re.I)
_SOURCE_MAP = re.compile(r"^\s*//[#@] sourceMappingURL=.*$", re.M)
# What would end or confuse a <script> element's content (HTML spec, "script data").
_SCRIPT_UNSAFE = re.compile(r"</script|<!--", re.I)
_JSON_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}
_JSON_UNSAFE = re.compile("[<>&\u2028\u2029]")


def _vendor_file(name: str):
    return resources.files("minemap.render").joinpath(f"{_VENDOR}/{name}")


def css_with_data_uris(css: str, read_bytes) -> str:
    """Replace relative ``url(...)`` references in a stylesheet by ``data:`` URIs.

    Parameters
    ----------
    css
        Stylesheet text.
    read_bytes
        Callable taking the relative path found in ``url(...)`` and returning
        the file's bytes.

    Returns
    -------
    str
        The stylesheet with every relative image reference inlined.

    Examples
    --------
    >>> css_with_data_uris("a{background:url(x.png)}", lambda name: b"PNG")
    'a{background:url("data:image/png;base64,UE5H")}'
    """

    def _inline(match: re.Match) -> str:
        name = match.group(2)
        suffix = name[name.rfind(".") :].lower()
        mime = _MIME.get(suffix, "application/octet-stream")
        data = base64.b64encode(read_bytes(name)).decode("ascii")
        return f'url("data:{mime};base64,{data}")'

    return _CSS_URL.sub(_inline, css)


def _script_text(code: str, name: str) -> str:
    """Script text ready to sit inside a ``<script>`` element, or an error naming the file."""
    code = _SOURCE_MAP.sub("", code)
    if _SCRIPT_UNSAFE.search(code):  # pragma: no cover - guards a future edit of the file
        raise RuntimeError(f"{name} contains '</script' or '<!--'; cannot inline it")
    return code


def _style_text(css: str, name: str, read_bytes) -> str:
    """Stylesheet text with its images inlined, ready to sit inside a ``<style>`` element."""
    css = css_with_data_uris(css, read_bytes)
    if "</style" in css.lower():  # pragma: no cover - guards a future edit of the file
        raise RuntimeError(f"{name} contains '</style'; cannot inline it")
    return css


@functools.lru_cache(maxsize=1)
def leaflet_js() -> str:
    """Vendored ``leaflet.js``, ready to sit inside a ``<script>`` element.

    Returns
    -------
    str
        The minified library without its source-map comment (which would make
        developer tools fetch a file that is not there).
    """
    return _script_text(_vendor_file("leaflet.js").read_text(encoding="utf-8"), "leaflet.js")


@functools.lru_cache(maxsize=1)
def leaflet_css() -> str:
    """Vendored ``leaflet.css`` with its images inlined as ``data:`` URIs.

    Returns
    -------
    str
        Stylesheet text that references no file.
    """
    css = _vendor_file("leaflet.css").read_text(encoding="utf-8")
    return _style_text(css, "leaflet.css", lambda name: _vendor_file(name).read_bytes())


def _static_file(name: str):
    return resources.files("minemap.render").joinpath(f"{_STATIC}/{name}")


@functools.lru_cache(maxsize=1)
def minemap_js() -> str:
    """minemap's own map script (``static/minemap.js``), ready for a ``<script>`` element.

    It defines the global ``minemap`` (layers, tooltips, legend, title box,
    full screen, measure, search, time slider) and reads the page's data with
    the keys of :mod:`minemap.render.protocol`.

    Returns
    -------
    str
        The script, as shipped in the package.
    """
    return _script_text(_static_file("minemap.js").read_text(encoding="utf-8"), "minemap.js")


@functools.lru_cache(maxsize=1)
def minemap_css() -> str:
    """minemap's own map stylesheet (``static/minemap.css``), ready for a ``<style>`` element.

    Returns
    -------
    str
        Stylesheet text that references no file.
    """
    css = _static_file("minemap.css").read_text(encoding="utf-8")
    return _style_text(css, "minemap.css", lambda name: _static_file(name).read_bytes())


def script_json(value: object) -> str:
    """JSON text that is safe inside a ``<script>`` element.

    ``<``, ``>`` and ``&`` become ``\\u003c``..., so ``</script>`` and ``<!--``
    in the data cannot end the element; U+2028/U+2029 are escaped for old
    JavaScript engines. Other non-ASCII text stays UTF-8 (the page declares it).

    Parameters
    ----------
    value
        Anything :func:`json.dumps` accepts.

    Returns
    -------
    str
        Compact JSON.

    Examples
    --------
    >>> script_json({"id": "</script>"})
    '{"id":"\\\\u003c/script\\\\u003e"}'
    """
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return _JSON_UNSAFE.sub(lambda m: _JSON_ESCAPES[m.group(0)], text)


class RawElement(Element):
    """A page fragment written verbatim: never parsed as a Jinja template.

    Parameters
    ----------
    text
        HTML, JavaScript or CSS, already made safe for where it goes.
    """

    def __init__(self, text: str) -> None:
        super().__init__()
        self._name = "RawElement"
        self.text = text

    def render(self, **kwargs) -> str:
        """Return the text as it is."""
        return self.text


class OfflineMap(folium.Map):
    """A :class:`folium.Map` whose page loads nothing from the network.

    Leaflet's JavaScript and CSS are inlined from the vendored copy; folium's
    CDN links (Leaflet, jQuery, Bootstrap, Font Awesome, awesome-markers) are
    not written. Use ``CircleMarker`` or ``DivIcon``: the default ``Marker``
    icon is found through a stylesheet URL that inlining removes.

    Parameters
    ----------
    *args, **kwargs
        As for :class:`folium.Map`; ``tiles`` defaults to ``None`` (no tile
        server).
    extra_css
        Further stylesheet text to inline after Leaflet's.
    extra_js
        Further script text to inline after Leaflet's (must not contain
        ``</script`` or ``<!--``).
    """

    default_js: list[tuple[str, str]] = []  # noqa: RUF012 - folium's own class attribute
    default_css: list[tuple[str, str]] = []  # noqa: RUF012 - folium's own class attribute

    def __init__(self, *args, extra_css: str = "", extra_js: str = "", **kwargs) -> None:
        kwargs.setdefault("tiles", None)
        super().__init__(*args, **kwargs)
        self._name = "Map"
        if _SCRIPT_UNSAFE.search(extra_js) or "</style" in extra_css.lower():
            raise ValueError("extra_js/extra_css would end their <script>/<style> element early")
        self.extra_css = extra_css
        self.extra_js = extra_js

    def render(self, **kwargs) -> None:
        """Add the inlined assets to the page header, then render as folium does."""
        figure = self.get_root()
        if not isinstance(figure, Figure):  # pragma: no cover - folium puts every Map in one
            raise TypeError("an OfflineMap must belong to a branca Figure to be rendered")
        assets = (
            f"<style>{leaflet_css()}</style>\n"
            f"<style>{self.extra_css}</style>\n"
            f"<script>{leaflet_js()}</script>\n"
            f"<script>{self.extra_js}</script>\n"
        )
        figure.header.add_child(RawElement(assets), name="minemap_offline_assets", index=0)
        super().render(**kwargs)
