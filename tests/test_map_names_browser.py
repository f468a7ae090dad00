"""Ids and names that are JavaScript's own property names, in the browser.

A plain object used as a lookup table (``index[key]``) answers ``constructor``,
``__proto__``, ``toString``... with the prototype's own members: the page broke
(``index[key].push is not a function``) with no legend, layer control, search or
slider, and half the shapes missing. Every lookup table in the page is a ``Map``.
"""

from __future__ import annotations

import json

import geopandas as gpd
import pytest
import shapely
from click.testing import CliRunner

from minemap import schema as s
from minemap.cli import main
from tests.test_map_browser import _count, _drawn, _open_recorded, _slide

pytestmark = pytest.mark.browser

#: Names that a plain JavaScript object already "has".
PROTO_NAMES = ["constructor", "__proto__", "toString", "hasOwnProperty", "valueOf"]


def _files(folder):
    """Districts, hazards and releases whose ids, names and sources are PROTO_NAMES."""
    n = len(PROTO_NAMES)
    x0 = [46.80 + 0.1 * i for i in range(n)]
    districts = gpd.GeoDataFrame(
        {s.DISTRICT: PROTO_NAMES, s.NAME_AZ: PROTO_NAMES[::-1]},
        geometry=[shapely.box(x, 39.85, x + 0.1, 39.95) for x in x0],
        crs=4326,
    )
    hazards = gpd.GeoDataFrame(
        {
            s.HAZARD_ID: PROTO_NAMES,
            s.MINES_AP: [10, 20, 30, 40, 50],
            s.MINES_AT: [1, 2, 3, 4, 5],
            s.CLASSIFICATION: ["CHA", "SHA", "CHA", "SHA", "CHA"],
            s.STATUS: ["open"] * n,
            s.SOURCE: PROTO_NAMES[::-1],
            s.SUBMITTED_ON: ["2021-01-15"] * n,
        },
        geometry=[shapely.box(x + 0.02, 39.87, x + 0.05, 39.90) for x in x0],
        crs=4326,
    )
    releases = gpd.GeoDataFrame(
        {
            s.RELEASE_ID: PROTO_NAMES,
            s.RELEASED_ON: ["2021-05-12", "2022-07-20", "2023-03-01", "2024-06-30", "2024-08-01"],
            s.METHOD: ["cleared", "reduced", "cancelled", "cleared", "reduced"],
            s.HAZARD_ID: PROTO_NAMES,
            s.ORGANISATION: PROTO_NAMES,
        },
        geometry=[shapely.box(x + 0.02, 39.87, x + 0.03, 39.88) for x in x0],
        crs=4326,
    )
    paths = {}
    for name, frame in (("districts", districts), ("hazards", hazards), ("releases", releases)):
        paths[name] = folder / f"{name}.geojson"
        frame.to_file(paths[name])
    return paths


@pytest.fixture(scope="module", params=["districts", "no districts"])
def proto_map(request, tmp_path_factory):
    """``minemap map`` on those files; without districts, the search finds the hazards."""
    folder = tmp_path_factory.mktemp("proto")
    paths = _files(folder)
    out = folder / "map.html"
    args = ["map", "--hazards", str(paths["hazards"]), "--releases", str(paths["releases"])]
    if request.param == "districts":
        args += ["--districts", str(paths["districts"])]
    result = CliRunner().invoke(main, [*args, "-o", str(out)])
    assert result.exit_code == 0, result.output
    return out, request.param == "districts"


@pytest.fixture
def opened(browser, proto_map):
    path, with_districts = proto_map
    context, page, seen = _open_recorded(browser, path.as_uri())
    # Not a wait for a shape: on a broken page there is none, and the test says why.
    _drawn(page)
    yield page, seen, with_districts
    context.close()


def test_prototype_names_draw_every_shape_and_control(opened, shots):
    page, seen, with_districts = opened
    if with_districts:
        page.screenshot(path=str(shots / "prototype-names.png"))
    assert seen["errors"] == []
    assert seen["console"] == []
    assert seen["outside"] == []
    n = len(PROTO_NAMES)
    assert _count(page, "path.minemap-district") == (n if with_districts else 0)
    assert _count(page, "path.minemap-hazard") == n  # every hazard partly released
    assert _count(page, "path.minemap-release") == n  # the slider starts at the last month
    legend = page.locator(".minemap-legend")
    assert legend.is_visible()
    assert "Remaining hazards" in legend.inner_text()
    layers = page.locator(".leaflet-control-layers-overlays label").all_inner_texts()
    # districts, releases, hazards, released later, submitted
    assert len(layers) == (5 if with_districts else 4), layers
    assert page.locator(".minemap-timeline-range").count() == 1
    # At the end of May 2021 (month 4 from January) only the first release is made:
    # the other four are drawn as "released later" pieces of their hazards.
    assert "End of 2021-05" in _slide(page, 4)
    assert _count(page, "path.minemap-release") == 1
    assert _count(page, "path.minemap-pending") == n - 1
    last = int(page.locator(".minemap-timeline-range").get_attribute("max"))
    assert "End of 2024-08" in _slide(page, last)
    assert _count(page, "path.minemap-release") == n
    assert seen["errors"] == []


def test_search_finds_prototype_names(opened):
    page, seen, with_districts = opened
    options = page.locator("#minemap-search-list option").evaluate_all("os => os.map(o => o.value)")
    assert sorted(options) == sorted(PROTO_NAMES)
    box = page.locator(".minemap-search-input")
    for name in PROTO_NAMES:
        box.fill(name)
        box.press("Enter")
        # The district of that name comes first (its figures follow its name), else the hazard.
        head = f"{name}Name" if with_districts else f"Hazard {name}"
        page.wait_for_function(
            "h => Array.from(document.querySelectorAll('.leaflet-popup-content'))"
            ".some(p => p.textContent.startsWith(h))",
            arg=head,
        )
        assert page.locator(".minemap-search-out").inner_text() == ""
    # A name that is not there, but is a member of every JavaScript object.
    for missing in ("isPrototypeOf", "propertyIsEnumerable", "__defineGetter__"):
        box.fill(missing)
        box.press("Enter")
        assert page.locator(".minemap-search-out").inner_text() == f"Not found: {missing}"
    assert seen["errors"] == []


def test_prototype_names_reach_tooltips_as_given(opened):
    page, seen, _ = opened
    texts = page.evaluate(
        """() => {
        const key = Object.keys(window).find(k => window[k] instanceof L.Map);
        const out = [];
        window[key].eachLayer(layer => {
            if (!(layer instanceof L.Path) || !layer.getPopup()) { return; }
            layer.openPopup(layer.getBounds().getCenter());
            out.push(layer.getPopup().getElement().textContent);
            layer.closePopup();
        });
        return out;
    }"""
    )
    joined = json.dumps(texts)
    for name in PROTO_NAMES:
        assert f"Hazard {name}" in joined
        assert f"Release {name}" in joined
    assert seen["errors"] == []
