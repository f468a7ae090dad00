"""The saved map in headless Chromium: offline, layers, tooltips, no script injection.

Screenshots are saved under ``test-output/browser/`` (or MINEMAP_TEST_OUTPUT) for
people to look at; set MINEMAP_SCREENSHOT=/some/file.png to keep one more copy of the
first one.
"""

from __future__ import annotations

import os
import shutil

import pandas as pd
import pytest

from minemap.render import render_map, write_map
from tests.test_render import (
    BREAKOUT,
    CREDIT,
    EVIL,
    EVIL_ID,
    TEMPLATE,
    make_scene,
    render_scene,
)

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
    page.wait_for_selector(_PATHS, state="attached")
    _drawn(page)
    yield page, seen
    context.close()


def _count(page, selector: str = _PATHS) -> int:
    return page.locator(selector).count()


_TWO_FRAMES = "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"


def _drawn(page) -> None:
    """Wait until the page has loaded, run its scripts and drawn a frame after that."""
    page.wait_for_load_state("load")
    page.evaluate(_TWO_FRAMES)


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


def _roomy(page, selector: str = "path.minemap-hazard", pixels: float = 12) -> int:
    """Index of the first path at least ``pixels`` wide and high (slivers draw as a dot)."""
    index = page.locator(selector).evaluate_all(
        "(els, px) => els.findIndex(e => { const r = e.getBoundingClientRect();"
        " return r.width >= px && r.height >= px; })",
        pixels,
    )
    assert index >= 0, f"no {selector} of {pixels} px"
    return index


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
    page.wait_for_function("() => !document.querySelector('.leaflet-tooltip')")
    page.mouse.move(x, y)  # one step: no other feature is crossed on the way
    tooltip.last.wait_for(state="visible")
    return tooltip.last.inner_text()


def test_map_offline_and_interactive(opened, shots):
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
    credit = page.locator(".leaflet-control-attribution").inner_text()
    assert f"{CREDIT}; {CREDIT} {EVIL}" in credit  # the districts' own, as text
    assert "geoBoundaries" not in credit

    shot = shots / "map.png"
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


# --- the demo map (the bundled sample, written by `minemap demo`) ------------------

_DEMO_LAYERS = {**_LAYERS, "Released later (hazardous before its release)": "minemap-pending"}


def _open_recorded(browser, url: str):
    """A page opened from ``url`` with every outside request recorded and aborted."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    seen = {"outside": [], "errors": [], "console": [], "dialogs": []}

    def _route(route):
        if route.request.url.startswith(_LOCAL_SCHEMES):
            route.continue_()
        else:
            seen["outside"].append(route.request.url)
            route.abort()

    def _dialog(dialog):
        seen["dialogs"].append(dialog.message)
        dialog.dismiss()

    page.route("**/*", _route)
    page.on("pageerror", lambda exc: seen["errors"].append(str(exc)))
    page.on("console", lambda msg: msg.type == "error" and seen["console"].append(msg.text))
    page.on("dialog", _dialog)
    page.goto(url)
    return context, page, seen


@pytest.fixture(scope="module")
def demo(browser, demo_outputs):
    context, page, seen = _open_recorded(browser, demo_outputs["map"].as_uri())
    page.wait_for_selector("path.minemap-hazard", state="attached")
    yield page, seen
    context.close()


def _slide(page, month: int) -> str:
    """Move the time slider to a month index (as a user dragging it) and read its label."""
    page.locator(".minemap-timeline-range").evaluate(
        "(el, m) => { el.value = String(m); el.dispatchEvent(new Event('input')); }", month
    )
    # the slider redraws on the next animation frame
    page.evaluate(_TWO_FRAMES)
    return page.locator(".minemap-timeline-out").inner_text()


def test_demo_map_size_is_small_enough_to_email(demo_outputs):
    size = demo_outputs["map"].stat().st_size
    assert size < 3.6e6, size  # 3.2 MB today (docs/map.md)


def test_demo_map_offline_no_errors(demo, shots):
    page, seen = demo
    assert seen["outside"] == []
    assert seen["errors"] == []
    assert seen["console"] == []
    for cls in ("minemap-district", "minemap-release", "minemap-hazard"):
        assert _count(page, f"path.{cls}") > 0, cls
    # the sample's every hazard piece and release is drawn at the last month
    assert _count(page, "path.minemap-hazard") > 1500
    assert _count(page, "path.minemap-release") > 5000
    for selector in (
        ".minemap-title",
        ".minemap-legend",
        ".leaflet-control-scale",
        ".minemap-fullscreen",
        ".minemap-measure",
        ".minemap-search",
        ".minemap-timeline",
        ".leaflet-control-layers",
    ):
        assert page.locator(selector).is_visible(), selector
    page.screenshot(path=str(shots / "demo-map.png"))
    assert (shots / "demo-map.png").stat().st_size > 10_000


def test_demo_legend_lists_every_symbol(demo):
    page, _seen = demo
    text = page.locator(".minemap-legend").inner_text()
    for expected in (
        "Remaining hazardous area by district",
        "cancelled",
        "reduced",
        "cleared",
        "CHA: confirmed hazardous area",
        "SHA: suspected hazardous area",
        "outline: open",
        "outline: worked on",
        "outline: closed",
        "none recorded",
    ):
        assert expected in text, expected
    assert page.locator(".minemap-legend svg.minemap-swatch").count() >= 12


def test_demo_layer_control_toggles_each_layer(demo):
    page, seen = demo
    control = page.locator(".leaflet-control-layers-overlays")
    for name, cls in _DEMO_LAYERS.items():
        box = control.locator("label", has_text=name).locator("input")
        before = _count(page, f"path.{cls}")
        was_on = box.is_checked()
        box.click()
        after = _count(page, f"path.{cls}")
        assert (after == 0) if was_on else (after > 0), name
        box.click()
        assert _count(page, f"path.{cls}") == before, name
    assert seen["errors"] == []


def test_demo_time_slider_changes_what_is_drawn(demo, shots):
    page, seen = demo
    last = int(page.locator(".minemap-timeline-range").get_attribute("max"))
    assert last > 12
    at_end = {c: _count(page, f"path.{c}") for c in ("minemap-release", "minemap-pending")}
    label_end = _slide(page, last)
    at_end_hazards = _count(page, "path.minemap-hazard")
    assert at_end["minemap-pending"] == 0  # nothing is released after the last month
    label_mid = _slide(page, last // 2)
    mid = {c: _count(page, f"path.{c}") for c in ("minemap-release", "minemap-pending")}
    page.screenshot(path=str(shots / "demo-map-mid.png"))
    label_start = _slide(page, 0)
    start = {c: _count(page, f"path.{c}") for c in ("minemap-release", "minemap-pending")}
    assert "End of 2020-" in label_start
    # fewer releases the further back we go
    assert start["minemap-release"] < mid["minemap-release"] < at_end["minemap-release"]
    # hazards submitted later are not drawn yet
    assert _count(page, "path.minemap-hazard") < at_end_hazards
    # once every hazard is known (the sample's last is 2021-10), more land is still
    # hazardous the further back we go
    label_early = _slide(page, 12)
    early = _count(page, "path.minemap-pending")
    assert early > mid["minemap-pending"] > 0
    figures = [
        float(t.split("remaining ")[1].split(" ha")[0].replace(",", ""))
        for t in (label_early, label_mid, label_end)
    ]
    assert figures[0] > figures[1] > figures[2]
    _slide(page, last)
    assert _count(page, "path.minemap-release") == at_end["minemap-release"]
    assert seen["errors"] == []


def test_demo_tooltip_and_popup(demo):
    page, seen = demo
    text = _hover_path(page, page.locator("path.minemap-hazard").nth(_roomy(page)))
    assert text.startswith("Hazard ")
    for label in ("District", "Mines recorded AP / AT", "Mapped area", "Remaining area", "Source"):
        assert label in text, label
    assert seen["errors"] == []


def test_demo_search_finds_a_hazard_and_a_district(demo):
    page, seen = demo
    box = page.locator(".minemap-search-input")
    options = page.locator("#minemap-search-list option")
    assert options.count() > 1000
    box.fill("AGM-0002")
    box.press("Enter")
    popup = page.locator(".leaflet-popup-content").filter(has_text="Hazard AGM-0002")
    popup.wait_for(state="visible")
    assert "Hazard AGM-0002" in popup.inner_text()
    box.fill("Shusha")
    box.press("Enter")
    page.wait_for_function(
        "() => document.querySelector('.leaflet-popup-content')"
        " && document.querySelector('.leaflet-popup-content').textContent.startsWith('Shusha')"
    )
    box.fill("no such hazard")
    box.press("Enter")
    assert "Not found" in page.locator(".minemap-search-out").inner_text()
    assert seen["errors"] == []


def test_demo_measure_distance_and_area(demo):
    page, seen = demo
    page.locator(".minemap-measure button").click()
    size = page.viewport_size
    drawn = "n => document.querySelectorAll('path[stroke=\"#0044AA\"]').length === n"
    for k, (dx, dy) in enumerate(((0, 0), (200, 0), (200, 150)), start=1):
        page.mouse.click(size["width"] / 2 - 300 + dx, size["height"] / 2 + dy)
        # Each click is a point before the next one: its marker, the line, the polygon.
        page.wait_for_function(drawn, arg=k + (k > 1) + (k > 2))
    out = page.locator(".minemap-measure-out").inner_text()
    assert "Distance" in out
    assert " km" in out
    assert "Area" in out
    assert " ha" in out
    page.locator(".minemap-measure button").click()  # Clear
    assert page.locator(".minemap-measure-out").inner_text() == ""
    assert seen["errors"] == []


def test_demo_fullscreen(demo):
    page, seen = demo
    page.locator(".minemap-fullscreen button").click()
    page.wait_for_function(
        "() => document.fullscreenElement !== null"
        " || document.querySelector('.minemap-fullwindow') !== null"
    )
    page.locator(".minemap-fullscreen button").click()
    page.wait_for_function(
        "() => document.fullscreenElement === null"
        " && document.querySelector('.minemap-fullwindow') === null"
    )
    assert seen["errors"] == []


# --- escaping on every path where text reaches the page -----------------------------


@pytest.fixture(scope="module")
def evil_page(browser, tmp_path_factory):
    import geopandas as gpd
    import shapely

    from minemap.render import MapLayer

    scene = make_scene()
    extra = MapLayer(
        f"Extra {EVIL}{TEMPLATE}",
        frame=gpd.GeoDataFrame(
            {"n": [3], "label": [f"{EVIL}{TEMPLATE}"]},
            geometry=[shapely.box(46.81, 39.86, 46.815, 39.865)],
            crs=4326,
        ),
        style={"color": "#000000"},
        tooltip={f"Count {EVIL}": "n"},
        heading="label",
        legend=[(f"legend {EVIL}{TEMPLATE}", {"color": "#000000"})],
    )
    remaining = scene["remaining"].copy()
    remaining.loc[0, "hazard_id"] = f"T-{TEMPLATE}"
    path = write_map(
        render_map(
            remaining,
            scene["table"],
            hazards=scene["hazards"],
            releases=scene["releases"],
            districts=scene["districts"],
            title=f"Escaping {TEMPLATE}",
            extra_layers=[extra],
        ),
        tmp_path_factory.mktemp("evil") / "evil.html",
    )
    context, page, seen = _open_recorded(browser, path.as_uri())
    page.wait_for_selector("path.minemap-hazard", state="attached")
    yield page, seen
    context.close()


def test_escaped_in_legend_layer_control_and_title(evil_page):
    page, seen = evil_page
    legend = page.locator(".minemap-legend").inner_text()
    assert f"legend {EVIL}{TEMPLATE}" in legend
    assert f"Extra {EVIL}{TEMPLATE}" in page.locator(".leaflet-control-layers").inner_text()
    assert f"Escaping {TEMPLATE}" in page.locator(".minemap-title").inner_text()
    assert "49" not in page.locator(".minemap-title").inner_text()
    assert _count(page, "img") == 0
    assert seen["dialogs"] == []
    assert seen["errors"] == []
    assert seen["outside"] == []


def test_escaped_in_search_and_popup(evil_page):
    page, seen = evil_page
    box = page.locator(".minemap-search-input")
    for key, head in ((EVIL_ID, f"Hazard {EVIL_ID}"), (f"T-{TEMPLATE}", f"Hazard T-{TEMPLATE}")):
        box.fill(key)
        box.press("Enter")
        page.wait_for_function(
            "h => Array.from(document.querySelectorAll('.leaflet-popup-content'))"
            ".some(p => p.textContent.startsWith(h))",
            arg=head,
        )
    values = page.locator("#minemap-search-list option").evaluate_all("os => os.map(o => o.value)")
    assert EVIL_ID in values
    assert f"T-{TEMPLATE}" in values
    assert EVIL in values
    assert _count(page, "img") == 0
    assert seen["dialogs"] == []
    assert seen["errors"] == []


def test_escaped_in_extra_layer_tooltip(evil_page):
    page, seen = evil_page
    text = _hover_path(page, page.locator("path.minemap-extra").first)
    assert f"{EVIL}{TEMPLATE}" in text
    assert f"Count {EVIL}" in text
    assert _count(page, "img") == 0
    assert seen["dialogs"] == []
    assert seen["errors"] == []


# Open every tooltip and popup of every drawn feature, as hovering and clicking would,
# and collect their text per layer (the path's class).
_OPEN_EVERY_TIP = """() => {
    const key = Object.keys(window).find(k => window[k] instanceof L.Map);
    const map = window[key], texts = {};
    map.eachLayer(layer => {
        if (!(layer instanceof L.Path) || !layer.getTooltip()) { return; }
        const where = layer.getBounds ? layer.getBounds().getCenter() : layer.getLatLng();
        const cls = (layer.options.className || "").split(" ").pop();
        layer.openTooltip(where);
        const tip = layer.getTooltip().getElement().textContent;
        layer.closeTooltip();
        let popup = "";
        if (layer.getPopup()) {
            layer.openPopup(where);
            popup = layer.getPopup().getElement().textContent;
            layer.closePopup();
        }
        (texts[cls] = texts[cls] || []).push(tip, popup);
    });
    return texts;
}"""


def test_every_tooltip_and_popup_of_every_layer_is_text(evil_page, shots):
    """Hazard, release, released-later, submitted, district and extra layers alike."""
    page, seen = evil_page
    control = page.locator(".leaflet-control-layers-overlays")
    box = control.locator("label", has_text="Submitted maps").locator("input")
    if not box.is_checked():
        box.click()
    texts = page.evaluate(_OPEN_EVERY_TIP)  # last month: every release drawn
    _slide(page, 0)  # first month: the released-later pieces drawn
    early = page.evaluate(_OPEN_EVERY_TIP)
    _slide(page, int(page.locator(".minemap-timeline-range").get_attribute("max")))
    texts["minemap-pending"] = early.get("minemap-pending", [])
    page.screenshot(path=str(shots / "escaping.png"))
    expected = {
        "minemap-hazard": f"Hazard {EVIL_ID}",  # id, and the source and district too
        "minemap-release": f"Organisation{EVIL}",
        "minemap-pending": f"Hazard {EVIL_ID} (released later)",
        "minemap-submitted": f"Submitted map {EVIL_ID}",
        "minemap-district": EVIL,
        "minemap-extra-0": f"{EVIL}{TEMPLATE}",
    }
    for cls, text in expected.items():
        assert texts.get(cls), cls
        assert any(text in t for t in texts[cls]), (cls, texts[cls][:4])
    hazard_text = " ".join(texts["minemap-hazard"])
    assert BREAKOUT in hazard_text  # the source map, as text
    assert "49" not in " ".join(texts["minemap-extra-0"])  # no template evaluated
    assert _count(page, "img") == 0
    assert page.evaluate("document.querySelectorAll('script:not([src])').length") >= 1
    assert seen["dialogs"] == []
    assert seen["errors"] == []
    assert seen["outside"] == []


def test_demo_tooltip_has_every_figure_a_manager_asks_for(demo, demo_outputs):
    """Id, district, mines recorded, areas mapped/released/remaining, dates, source map,
    and the figures are those of the written table (full geometry, not the drawing)."""
    import geopandas as gpd

    from minemap.render import symbology as sym

    page, seen = demo
    rows = gpd.read_file(demo_outputs["map"].parent / "remaining.gpkg")
    rows = rows[(rows["released_area_ha"] > 1) & (rows["remaining_area_ha"] > 1)]
    row = rows.iloc[len(rows) // 2]
    box = page.locator(".minemap-search-input")
    box.fill(str(row["hazard_id"]))
    box.press("Enter")
    # The popup of an earlier search fades out for a moment beside the new one.
    popup = page.locator(".leaflet-popup-content").filter(has_text=f"Hazard {row['hazard_id']}")
    popup.wait_for(state="visible")
    text = popup.inner_text()
    assert text.startswith(f"Hazard {row['hazard_id']}")
    for label, value in (
        ("District", row["district"]),
        ("Classification", row["classification"]),
        (
            "Mines recorded AP / AT",
            f"{sym.format_count(row['mines_ap'])} / {sym.format_count(row['mines_at'])}",
        ),
        ("Mapped area", sym.format_area(row["mapped_area_ha"])),
        ("Released area", sym.format_area(row["released_area_ha"])),
        ("Remaining area", sym.format_area(row["remaining_area_ha"])),
        ("Remaining mines (est.)", sym.format_count(row["remaining_mines_est"])),
        ("Source", row["source"]),
        ("Submitted", sym.format_date(row["submitted_on"])),
    ):
        assert f"{label}\t{value}" in text, (label, value, text)
    page.keyboard.press("Escape")
    assert seen["errors"] == []


def test_extra_layers_accuracy_and_density_in_the_browser(browser, tmp_path, shots):
    """The accuracy and density layers through render_map: drawn, named once, offline."""
    import geopandas as gpd
    import numpy as np
    import shapely

    from minemap import remaining
    from minemap.accuracy import accuracy
    from minemap.density import density
    from minemap.render.accuracy_layer import accuracy_layer
    from minemap.render.density_layer import density_layer
    from tests.common import LAEA, box, hazards, releases

    hz = hazards(box(0, 0, 400, 200), box(1000, 0, 1300, 300), ap=[300, 100], at=[5, 0])
    hz["source"] = [EVIL, "Map B"]
    rel = releases(box(0, 0, 400, 200), box(1000, 0, 1100, 300), methods=["cleared", "reduced"])
    # Devices every 20 m, 60 m east of the first record: a shift to find (dense enough to
    # measure it, see docs/accuracy.md); the second's inside.
    xy = np.array([[x, y] for x in range(70, 460, 20) for y in range(10, 200, 20)], float)
    pts = np.vstack([xy, [[1050, 150], [1060, 100], [1040, 200]]])
    items = gpd.GeoDataFrame(
        {
            "item_id": [f"I{i}" for i in range(len(pts))],
            "found_on": pd.Timestamp("2022-01-03"),
            "item_type": "AP",
        },
        geometry=shapely.points(pts),
        crs=LAEA,
    )
    table = accuracy(hz, rel, items)
    grid = density(hz, releases(box(5000, 0, 5001, 1)), cell_size_m=50)
    rem = remaining(hz, rel)
    layers = [
        accuracy_layer(hz, table, name="Accuracy & <shifts>"),
        density_layer(grid, name="Density & <mines per ha>", show=True),
    ]
    path = write_map(render_map(rem, hazards=hz, extra_layers=layers), tmp_path / "extra.html")
    context, page, seen = _open_recorded(browser, path.as_uri())
    page.wait_for_selector("path.minemap-accuracy", state="attached")
    page.screenshot(path=str(shots / "extra-layers.png"))
    names = page.locator(".leaflet-control-layers-overlays").inner_text()
    assert "Accuracy & <shifts>" in names
    assert "Density & <mines per ha>" in names
    assert "&amp;" not in names
    assert _count(page, "path.minemap-accuracy") == 2
    assert _count(page, "path.minemap-shift") >= 2  # an arrow for the shifted record
    image = page.locator("img.leaflet-image-layer")
    assert image.count() == 1
    assert image.get_attribute("src").startswith("data:image/png;base64,")
    tips = page.evaluate(_OPEN_EVERY_TIP)
    assert any(EVIL in t for t in tips["minemap-accuracy"])
    assert page.locator("img").count() == 1  # the density image, nothing from data
    assert "Density & <mines per ha>" in page.locator(".minemap-legend").inner_text()
    assert seen["outside"] == []
    assert seen["errors"] == []
    assert seen["dialogs"] == []
    context.close()


def test_tiles_add_a_base_layer_under_the_districts(browser, tmp_path, shots):
    """With --tiles the only requests are tiles of that server; the districts still draw."""
    url = "https://tile.example.org/{z}/{x}/{y}.png"
    path = write_map(render_scene(make_scene(), tiles=url), tmp_path / "tiles.html")
    context, page, seen = _open_recorded(browser, path.as_uri())
    page.wait_for_selector("path.minemap-district", state="attached")
    # An image is complete once its request has ended (here: recorded and aborted).
    page.wait_for_function(
        "() => { const t = document.querySelectorAll('.leaflet-tile-pane img');"
        " return t.length > 0 && [...t].every(i => i.complete); }"
    )
    page.screenshot(path=str(shots / "tiles.png"))
    assert seen["outside"], "no tile was asked for"
    assert all(u.startswith("https://tile.example.org/") for u in seen["outside"])
    assert page.locator(".leaflet-control-layers-base").inner_text().strip() == "Online base map"
    assert _count(page, ".leaflet-tile-pane img") > 0
    assert _count(page, "path.minemap-district") > 0
    assert seen["errors"] == []
    context.close()


def test_public_map_in_the_browser(browser, tmp_path, shots):
    """No perimeter, id or source on the page; the grid and the districts instead."""
    scene = make_scene()
    path = write_map(render_scene(scene, public=True), tmp_path / "public.html")
    context, page, seen = _open_recorded(browser, path.as_uri())
    page.wait_for_selector("path.minemap-grid", state="attached")
    page.screenshot(path=str(shots / "public-map.png"))
    for cls in ("minemap-hazard", "minemap-release", "minemap-pending", "minemap-submitted"):
        assert _count(page, f"path.{cls}") == 0, cls
    texts = page.evaluate(_OPEN_EVERY_TIP)
    assert set(texts) == {"minemap-district", "minemap-grid"}
    body = " ".join(texts["minemap-grid"]) + page.content()
    for secret in ("AGM-001", "Handover map A", "R-1", "Team 1"):
        assert secret not in body, secret
    assert any("Remaining area" in t for t in texts["minemap-grid"])
    options = page.locator("#minemap-search-list option").evaluate_all("os => os.map(o => o.value)")
    assert sorted(options) == sorted(scene["districts"]["district"])
    assert seen["outside"] == []
    assert seen["errors"] == []
    context.close()
