"""The saved map in headless Chromium: offline, layers, tooltips, no script injection.

Set MINEMAP_SCREENSHOT=/some/file.png to keep a copy of the screenshot.
"""

from __future__ import annotations

import os
import shutil

import pytest

from minemap.render import write_map
from tests.test_render import EVIL, EVIL_ID, make_scene, render_scene

pytestmark = pytest.mark.browser

_LOCAL_SCHEMES = ("file:", "data:", "about:", "blob:")
_LAYERS = {
    "Districts: remaining hazardous area": "minemap-district",
    "Released land": "minemap-release",
    "Remaining hazards": "minemap-hazard",
    "Submitted maps (as handed over)": "minemap-submitted",
}
_PATHS = "path.leaflet-interactive"


@pytest.fixture(scope="module")
def map_file(tmp_path_factory):
    scene = make_scene()
    folder = tmp_path_factory.mktemp("map")
    return write_map(
        render_scene(scene, title="Karabakh demo", as_of="2024-12-31"), folder / "m.html"
    )


@pytest.fixture
def opened(browser, map_file):
    """The map opened from file:// with every outside request recorded and aborted."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    seen = {"outside": [], "errors": [], "console": [], "dialogs": []}

    def _route(route):
        url = route.request.url
        if url.startswith(_LOCAL_SCHEMES):
            route.continue_()
        else:
            seen["outside"].append(url)
            route.abort()

    def _dialog(dialog):
        seen["dialogs"].append(dialog.message)
        dialog.dismiss()

    page.route("**/*", _route)
    page.on("pageerror", lambda exc: seen["errors"].append(str(exc)))
    page.on("console", lambda msg: msg.type == "error" and seen["console"].append(msg.text))
    page.on("dialog", _dialog)
    page.goto(map_file.as_uri())
    page.wait_for_selector(_PATHS)
    page.wait_for_timeout(200)
    yield page, seen
    context.close()


def _count(page, selector: str = _PATHS) -> int:
    return page.locator(selector).count()


_FIND_SPOT = """el => {
    const r = el.getBoundingClientRect();
    for (let i = 1; i < 12; i++) {
        for (let j = 1; j < 12; j++) {
            const x = r.left + (r.width * i) / 12, y = r.top + (r.height * j) / 12;
            if (document.elementFromPoint(x, y) === el) { return [x, y]; }
        }
    }
    return null;
}"""
_PAN_TO_MIDDLE = """el => {
    const r = el.getBoundingClientRect();
    const key = Object.keys(window).find(k => window[k] instanceof L.Map);
    const map = window[key], size = map.getSize();
    map.panBy([r.left + r.width / 2 - size.x / 2, r.top + r.height / 2 - size.y / 2],
              {animate: false});
}"""


def _hover_path(page, path) -> str:
    """Move the mouse onto a visible spot of a drawn path and read its tooltip."""
    spot = path.evaluate(_FIND_SPOT)
    if spot is None:  # under a corner control: bring it to the middle of the map
        path.evaluate(_PAN_TO_MIDDLE)
        spot = path.evaluate(_FIND_SPOT)
    assert spot is not None, "no visible spot on the path"
    x, y = spot
    tooltip = page.locator(".leaflet-tooltip")
    # Park the mouse on the title box (no tooltip there) and, as Leaflet fades a
    # closed tooltip out for 200 ms, wait until the last one is gone.
    parking = page.locator(".minemap-title").bounding_box()
    page.mouse.move(parking["x"] + 5, parking["y"] + 5)
    page.wait_for_function("() => !document.querySelector('.leaflet-tooltip')", timeout=3000)
    page.mouse.move(x, y)  # one step: no other feature is crossed on the way
    tooltip.last.wait_for(state="visible", timeout=3000)
    return tooltip.last.inner_text()


def test_map_offline_and_interactive(opened, tmp_path):
    page, seen = opened
    assert seen["outside"] == []
    assert seen["errors"] == []
    assert seen["console"] == []
    assert _count(page) > 0
    for cls in ("minemap-district", "minemap-release", "minemap-hazard"):
        assert _count(page, f"path.{cls}") > 0, cls
    assert _count(page, "path.minemap-submitted") == 0  # off at first

    legend = page.locator(".minemap-legend")
    assert legend.is_visible()
    assert "Remaining hazards" in legend.inner_text()
    assert "cleared" in legend.inner_text()
    title = page.locator(".minemap-title")
    assert title.is_visible()
    assert "Karabakh demo" in title.inner_text()
    assert "As of 2024-12-31" in title.inner_text()
    assert "geoBoundaries" in page.locator(".leaflet-control-attribution").inner_text()

    out = tmp_path / "test-output"
    out.mkdir()
    shot = out / "map.png"
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000
    keep = os.environ.get("MINEMAP_SCREENSHOT")
    if keep:
        shutil.copyfile(shot, keep)


def test_layer_control_toggles_each_layer(opened):
    page, seen = opened
    control = page.locator(".leaflet-control-layers-overlays")
    assert control.is_visible()
    for name, cls in _LAYERS.items():
        box = control.locator("label", has_text=name).locator("input")
        before_all, _before = _count(page), _count(page, f"path.{cls}")
        was_on = box.is_checked()
        box.click()
        after_all, after = _count(page), _count(page, f"path.{cls}")
        assert after_all != before_all, name
        assert (after == 0) if was_on else (after > 0), name
        box.click()
        assert _count(page) == before_all, name
    assert seen["errors"] == []


def test_hazard_tooltip_shows_text(opened):
    page, seen = opened
    paths = page.locator("path.minemap-hazard")
    texts = [_hover_path(page, paths.nth(i)) for i in range(paths.count())]
    assert any("AGM-001" in t for t in texts)
    agm = next(t for t in texts if "AGM-001" in t)
    assert "1,200 / 300" in agm
    assert "Remaining area" in agm
    assert " ha" in agm
    evil = [t for t in texts if EVIL in t]
    assert evil, texts  # the malicious id is shown literally, as text
    assert f"Hazard {EVIL_ID}" in evil[0]
    assert "<img" in evil[0]
    assert _count(page, "img[onerror]") == 0
    assert page.evaluate("document.querySelectorAll('img').length") == 0
    assert seen["dialogs"] == []
    assert seen["errors"] == []


def test_district_tooltip_escaped(opened):
    page, seen = opened
    paths = page.locator("path.minemap-district")
    texts = [_hover_path(page, paths.nth(i)) for i in range(paths.count())]
    assert any("Remaining area" in t and "ha" in t for t in texts)
    assert any(EVIL in t for t in texts)
    assert _count(page, "img[onerror]") == 0
    assert seen["dialogs"] == []
