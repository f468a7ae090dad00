"""Unit tests of minemap.render (no browser): offline page, escaping, atomic writes."""

from __future__ import annotations

import datetime as dt
import json
import os
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from minemap import schema as s
from minemap.errors import OutputExistsError
from minemap.render import MapLayer, public_grid, render_map, write_map
from minemap.render import symbology as sym
from minemap.render.map import COORDINATE_DECIMALS
from minemap.render.offline import (
    OfflineMap,
    css_with_data_uris,
    leaflet_css,
    leaflet_js,
    script_json,
)

EVIL = "<img src=x onerror=alert(1)>"
BREAKOUT = "</script><script>alert(1)</script>"
TEMPLATE = "{{ 7*7 }}"
EVIL_ID = f"H-{EVIL}"
#: The scene's boundaries' credit (its districts' ``attribution`` column).
CREDIT = "Boundaries: made up for the tests, CC0"
WGS84 = s.CANONICAL_CRS


def _square(x: float, y: float, size: float = 0.01) -> shapely.Polygon:
    return shapely.box(x, y, x + size, y + size)


def make_scene(*, evil: bool = True) -> dict:
    """Districts, hazards, releases, remaining and table near 46.9E 39.9N.

    Three districts side by side; hazards of each classification and status;
    one hazard fully released (empty remaining geometry); one whose id,
    source and district carry HTML and a ``</script>`` break-out when ``evil``.
    """
    district_names = ["Aghdam", "Fuzuli", EVIL if evil else "Khojavend"]
    districts = gpd.GeoDataFrame(
        {
            s.DISTRICT: district_names,
            s.NAME_AZ: ["Ağdam", "Füzuli", "Xocavənd"],
            s.ISO_3166_2: ["AZ-AGM", "AZ-FUZ", "AZ-XVD"],
            s.ATTRIBUTION: [CREDIT, CREDIT, f"{CREDIT} {EVIL}" if evil else CREDIT],
        },
        geometry=[shapely.box(46.80 + 0.1 * i, 39.85, 46.90 + 0.1 * i, 39.95) for i in range(3)],
        crs=WGS84,
    )
    hz = [
        # id, x, y, size, class, status, district, AP, AT
        ("AGM-001", 46.82, 39.87, 0.02, "CHA", "open", 0, 1200, 300),
        ("AGM-002", 46.85, 39.91, 0.015, "SHA", "worked_on", 0, 40, 0),
        ("FUZ-001", 46.93, 39.88, 0.025, "CHA", "worked_on", 1, 800, 950),
        ("FUZ-002", 46.96, 39.92, 0.012, "SHA", "closed", 1, 15, 2),
        ("FUZ-003", 46.91, 39.925, 0.01, "CHA", "open", 1, 30, 0),  # fully released
        (EVIL_ID if evil else "XVD-001", 47.03, 39.89, 0.02, "CHA", "open", 2, 5000, 2500),
    ]
    hazards = gpd.GeoDataFrame(
        {
            s.HAZARD_ID: [h[0] for h in hz],
            s.MINES_AP: [h[7] for h in hz],
            s.MINES_AT: [h[8] for h in hz],
            s.CLASSIFICATION: [h[4] for h in hz],
            s.STATUS: [h[5] for h in hz],
            s.DISTRICT: [district_names[h[6]] for h in hz],
            s.SOURCE: ["Handover map A"] * 5 + [f"{BREAKOUT}{EVIL}" if evil else "Map B"],
            s.SUBMITTED_ON: pd.to_datetime(["2021-01-15"] * 6),
        },
        geometry=[_square(h[1], h[2], h[3]) for h in hz],
        crs=WGS84,
    )
    releases = gpd.GeoDataFrame(
        {
            s.RELEASE_ID: ["R-1", "R-2", "R-3", "R-4"],
            s.RELEASED_ON: pd.to_datetime(["2021-05-12", "2022-07-20", "2023-03-01", "2024-06-30"]),
            s.METHOD: ["cleared", "reduced", "cancelled", "cleared"],
            s.ITEMS_AP: [12, 0, 0, 3],
            s.ITEMS_AT: [3, 0, 0, 1],
            s.ITEMS_UXO: [4, 1, 0, 7],
            s.ORGANISATION: ["Team 1", "Team 2", "Team 3", EVIL if evil else "Team 4"],
        },
        geometry=[
            shapely.box(46.82, 39.87, 46.83, 39.89),
            shapely.box(46.93, 39.88, 46.945, 39.905),
            shapely.box(46.905, 39.92, 46.925, 39.94),  # covers FUZ-003 entirely
            shapely.box(47.03, 39.89, 47.035, 39.895),
        ],
        crs=WGS84,
    )
    cut = shapely.union_all(releases.geometry.to_numpy())
    left = shapely.difference(hazards.geometry.to_numpy(), cut)
    mapped = hazards.geometry.to_crs(3857).area.to_numpy() / 1e4 * 0.58
    remaining_ha = gpd.GeoSeries(left, crs=WGS84).to_crs(3857).area.to_numpy() / 1e4 * 0.58
    share = remaining_ha / mapped
    mines = (hazards[s.MINES_AP] + hazards[s.MINES_AT]).to_numpy(dtype=float)
    remaining = gpd.GeoDataFrame(
        hazards.drop(columns="geometry").assign(
            **{
                s.MINES: mines,
                s.MAPPED_AREA_HA: mapped,
                s.RELEASED_AREA_HA: mapped - remaining_ha,
                s.REMAINING_AREA_HA: remaining_ha,
                s.REMAINING_MINES_EST: mines * share,
            }
        ),
        geometry=left,
        crs=WGS84,
    )
    grouped = remaining.groupby(s.DISTRICT, sort=False)[
        [s.MAPPED_AREA_HA, s.RELEASED_AREA_HA, s.REMAINING_AREA_HA, s.MINES, s.REMAINING_MINES_EST]
    ].sum()
    table = grouped.reset_index().rename(columns={s.MINES: s.MAPPED_MINES})
    table = pd.concat(
        [
            table,
            pd.DataFrame({s.DISTRICT: [s.UNASSIGNED]}).assign(
                **dict.fromkeys(table.columns[1:], 0.0)
            ),
        ],
        ignore_index=True,
    )
    table[s.SHARE_RELEASED] = table[s.RELEASED_AREA_HA] / table[s.MAPPED_AREA_HA].replace(0, np.nan)
    return {
        "remaining": remaining,
        "table": table[[*s.TABLE_COLUMNS, s.SHARE_RELEASED]],
        "hazards": hazards,
        "releases": releases,
        "districts": districts,
    }


def render_scene(scene: dict, **kwargs):
    return render_map(
        scene["remaining"],
        scene["table"],
        hazards=scene["hazards"],
        releases=scene["releases"],
        districts=scene["districts"],
        **kwargs,
    )


@pytest.fixture(scope="module")
def scene() -> dict:
    return make_scene()


@pytest.fixture(scope="module")
def page(scene) -> str:
    return render_scene(scene, title=f"Demo {EVIL}{BREAKOUT}{TEMPLATE}").get_root().render()


def _ring(deltas: list[int], scale: float) -> list[list[float]]:
    xy = np.cumsum(np.asarray(deltas, dtype=np.int64).reshape(-1, 2), axis=0) / scale
    return xy.tolist()


def _decode(geometry: dict, scale: float) -> dict:
    """Turn a geometry's integer deltas (``d``) back into GeoJSON coordinates, as the page does."""
    kind, d = geometry["type"], geometry.pop("d")
    if kind == "Point":
        geometry["coordinates"] = _ring(d, scale)[0]
    elif kind in ("LineString", "MultiPoint"):
        geometry["coordinates"] = _ring(d, scale)
    elif kind in ("Polygon", "MultiLineString"):
        geometry["coordinates"] = [_ring(r, scale) for r in d]
    else:
        geometry["coordinates"] = [[_ring(r, scale) for r in poly] for poly in d]
    return geometry


def _layer_of(page: str, class_name: str) -> tuple[dict, dict]:
    """The FeatureCollection and options handed to ``minemap.geojson`` for one layer.

    Decoded as the page decodes it: coordinates from integer deltas, and each
    tooltip's values paired with the layer's labels into ``t["r"]`` rows
    (empty values left out, as the browser leaves them out).
    """
    for match in re.finditer(r"minemap\.geojson\((\{.*?\}), (\{.*?\})\);\n", page):
        options = json.loads(match.group(2))
        if options["className"] == class_name:
            data = json.loads(match.group(1))
            for f in data["features"]:
                _decode(f["geometry"], data["scale"])
                tip = f["properties"]["t"]
                tip["v"] = [data["strings"][v] if isinstance(v, int) else v for v in tip["v"]]
                tip["r"] = [
                    [label, value]
                    for label, value in zip(options["labels"], tip["v"], strict=True)
                    if value
                ]
            return data, options
    raise AssertionError(f"no layer {class_name}")


def _data_of(page: str, class_name: str) -> dict:
    return _layer_of(page, class_name)[0]


# --- offline -------------------------------------------------------------------


def test_no_external_resources(page):
    assert "<script src" not in page.lower()
    assert not re.search(r"<script[^>]*\bsrc\s*=", page, re.I)
    assert not re.search(r"<link\b", page, re.I)
    assert not re.search(r"""\bsrc\s*=\s*["']?(https?:)?//""", page, re.I)
    assert not re.search(r"@import", page, re.I)
    # Every CSS url() is inlined (or IE's VML behaviour, which loads nothing).
    for ref in re.findall(r"url\(\s*['\"]?([^'\")]*)", page):
        assert ref.startswith(("data:", "#")), ref
    for cdn in (
        "cdn.jsdelivr",
        "code.jquery",
        "bootstrapcdn",
        "cdnjs",
        "fontawesome",
        "openstreet",
    ):
        assert cdn not in page
    assert "sourceMappingURL" not in page
    assert "L.tileLayer(" not in page


def test_leaflet_is_inlined(page):
    assert leaflet_js()[:200] in page
    assert "window.L=t" in page or "window.L" in page
    assert "data:image/png;base64," in page
    assert "b'" not in page[:2000]  # branca's bytes-repr bug


def test_css_data_uris():
    css = css_with_data_uris(
        ".a{background:url(images/a.png)} .b{behavior:url(#default#VML)} .c{x:url('b.svg')}",
        lambda name: name.encode(),
    )
    assert 'url("data:image/png;base64,' in css
    assert "url(#default#VML)" in css
    assert 'url("data:image/svg+xml;base64,' in css
    assert "images/layers.png" not in leaflet_css()


def test_offline_map_loads_nothing():
    m = OfflineMap()
    html = m.get_root().render()
    assert not re.search(r"<script[^>]*\bsrc\s*=|<link\b", html, re.I)
    assert "L.tileLayer(" not in html


# --- escaping ------------------------------------------------------------------


def test_script_json_cannot_close_script():
    text = script_json({"a": BREAKOUT + "<!--" + "\u2028"})
    assert "<" not in text
    assert ">" not in text
    assert "\u2028" not in text
    assert json.loads(text) == {"a": BREAKOUT + "<!--" + "\u2028"}


def test_malicious_text_only_escaped(page):
    assert EVIL not in page
    assert "<img" not in page.lower()
    # The only </script> in the page end real script elements.
    assert page.lower().count("</script>") == page.lower().count("<script>")
    assert "alert(1)" in page  # it is there, but only inside escaped JSON/HTML
    assert "<script>alert" not in page
    assert "onerror=alert(1)>" not in page


def test_malicious_values_reach_tooltips_as_text(page):
    hazards = _data_of(page, "minemap-hazard")
    heads = [f["properties"]["t"]["h"] for f in hazards["features"]]
    assert f"Hazard {EVIL_ID}" in heads
    evil = next(f for f in hazards["features"] if EVIL in f["properties"]["t"]["h"])
    rows = dict(evil["properties"]["t"]["r"])
    assert rows["Source"] == f"{BREAKOUT}{EVIL}"
    assert rows["District"] == EVIL
    districts = _data_of(page, "minemap-district")
    assert EVIL in [f["properties"]["t"]["h"] for f in districts["features"]]


def test_title_escaped_everywhere(page):
    title = re.search(r"<title>(.*?)</title>", page, re.S).group(1)
    assert "<" not in title
    assert "&lt;img" in title
    spec = json.loads(re.search(r"minemap\.title\(\w+, (\{.*?\})\);", page).group(1))
    assert spec["title"] == f"Demo {EVIL}{BREAKOUT}{TEMPLATE}"


def test_template_syntax_in_data_is_not_evaluated(scene):
    remaining = scene["remaining"].copy()
    remaining.loc[0, s.HAZARD_ID] = TEMPLATE
    html = render_map(remaining, title=TEMPLATE).get_root().render()
    assert "{{ 7*7 }}" in html
    assert "Hazard 49" not in html


def _layer_control(page: str) -> str:
    """The script that adds the layer control and its layers."""
    return re.search(r"L\.control\.layers\(null, null, .*?\.addTo\(", page, re.S).group(0)


def test_layer_names_and_attribution_are_html_safe(page):
    control = _layer_control(page)
    assert ".addOverlay(minemap_geo_json_" in control
    assert ', "Remaining hazards")' in control


def test_layer_names_escaped_and_not_templated(scene):
    extra = MapLayer(
        f"{EVIL}{TEMPLATE}",
        frame=scene["districts"].iloc[:1],
        tooltip={"ISO": s.ISO_3166_2},
    )
    page = render_scene(scene, extra_layers=[extra]).get_root().render()
    control = _layer_control(page)
    # escaped for Leaflet's innerHTML, then made script-safe; never evaluated
    assert "&lt;img src=x onerror=alert(1)\\u0026gt;" not in control
    assert "\\u0026lt;img src=x onerror=alert(1)\\u0026gt;{{ 7*7 }}" in control
    assert "gt;49" not in control
    # the districts' credit, escaped for Leaflet's innerHTML
    assert _layer_of(page, "minemap-district")[1]["attribution"] == (
        f"{CREDIT}; {CREDIT} &lt;img src=x onerror=alert(1)&gt;"
    )
    assert "geoBoundaries" not in page


# --- content -------------------------------------------------------------------


def test_layers_and_legend(page):
    for cls in ("minemap-district", "minemap-hazard", "minemap-release", "minemap-submitted"):
        assert _data_of(page, cls)["features"]
    legend = json.loads(re.search(r"minemap\.legend\(\w+, (\[.*?\])\);\n", page).group(1))
    titles = [section["title"] for section in legend]
    assert titles == [
        "Remaining hazardous area by district",
        "Released land",
        "Remaining hazards",
        "Submitted maps",
    ]
    labels = " ".join(item["label"] for section in legend for item in section["items"])
    for method in s.RELEASE_METHODS:
        assert method in labels
    assert " ha" in legend[0]["items"][0]["label"]


def test_hazard_styles(page):
    data, options = _layer_of(page, "minemap-hazard")
    styles = options["styles"]
    by_id = {f["properties"]["t"]["h"]: styles[f["properties"]["s"]] for f in data["features"]}
    assert by_id["Hazard AGM-001"]["fillColor"] == sym.CHA_FILL
    assert by_id["Hazard AGM-002"]["fillColor"] == sym.SHA_FILL
    assert by_id["Hazard AGM-002"]["dashArray"]
    assert by_id["Hazard AGM-001"]["fillOpacity"] == 0.5
    assert by_id["Hazard FUZ-002"]["color"] == sym.STATUS_OUTLINES["closed"]["color"]


def test_empty_geometries_skipped(page, scene):
    assert scene["remaining"].geometry.is_empty.sum() == 1
    heads = [f["properties"]["t"]["h"] for f in _data_of(page, "minemap-hazard")["features"]]
    assert len(heads) == len(scene["remaining"]) - 1
    assert "Hazard FUZ-003" not in heads


def test_tooltip_figures_formatted(page):
    data = _data_of(page, "minemap-hazard")
    rows = {f["properties"]["t"]["h"]: dict(f["properties"]["t"]["r"]) for f in data["features"]}
    evil = rows[f"Hazard {EVIL_ID}"]
    assert evil["Mines recorded AP / AT"] == "5,000 / 2,500"
    assert evil["Submitted"] == "2021-01-15"
    assert evil["Remaining area"].endswith(" ha")
    assert re.fullmatch(r"[\d,]+", evil["Remaining mines (est.)"])
    releases = {
        f["properties"]["t"]["h"]: dict(f["properties"]["t"]["r"])
        for f in _data_of(page, "minemap-release")["features"]
    }
    assert releases["Release R-1"]["Items found"] == "AP 12 · AT 3 · UXO 4"
    assert releases["Release R-1"]["Date"] == "2021-05-12"
    assert releases["Release R-1"]["Method"] == "cleared"
    district = next(
        dict(f["properties"]["t"]["r"])
        for f in _data_of(page, "minemap-district")["features"]
        if f["properties"]["t"]["h"] == "Fuzuli"
    )
    assert district["Remaining area"].endswith(" ha")
    assert district["Name (Azerbaijani)"] == "Füzuli"
    assert district["Share released"].endswith(" %")


def test_coordinates_rounded(page):
    data = _data_of(page, "minemap-district")
    coords = np.array(data["features"][0]["geometry"]["coordinates"][0])
    assert np.allclose(coords, np.round(coords, COORDINATE_DECIMALS))


def test_display_geometry_simplified():
    ring = [(46.9 + 0.01 * np.cos(a), 39.9 + 0.01 * np.sin(a)) for a in np.linspace(0, 6.28, 2000)]
    remaining = gpd.GeoDataFrame(
        {s.HAZARD_ID: ["C"], s.MINES_AP: [1], s.MINES_AT: [0]},
        geometry=[shapely.Polygon(ring)],
        crs=WGS84,
    )
    page = render_map(remaining).get_root().render()
    coords = _data_of(page, "minemap-hazard")["features"][0]["geometry"]["coordinates"][0]
    assert 20 < len(coords) < 1000


def test_simplified_drawing_leaves_the_figures_alone():
    """Teeth 1.5 m deep along a 100 m square's edges (under the 2 m tolerance) are
    smoothed away in the drawing, but the tooltip's areas stay those of the full record."""
    from minemap import by_district, remaining
    from tests.common import LAEA

    teeth = [(x, -1.5 * (i % 2)) for i, x in enumerate(np.linspace(0, 100, 201))]
    ring = [*teeth, (100, 100), (0, 100)]
    hz = gpd.GeoDataFrame(
        {s.HAZARD_ID: ["Z"], s.MINES_AP: [10], s.MINES_AT: [0]},
        geometry=[shapely.Polygon(ring)],
        crs=LAEA,
    )
    rem = remaining(hz, hz.iloc[:0].assign(release_id=[], released_on=[], method=[]))
    full_ha = float(rem[s.MAPPED_AREA_HA].iloc[0])
    assert full_ha == pytest.approx((100 * 100 + 100 * 0.75) / 1e4, rel=1e-6)  # 1.0075 ha
    page = render_map(rem, by_district(rem)).get_root().render()
    feature = _data_of(page, "minemap-hazard")["features"][0]
    drawn = gpd.GeoSeries([shapely.geometry.shape(feature["geometry"])], crs=WGS84)
    drawn_ha = float(drawn.to_crs(LAEA).area.iloc[0]) / 1e4
    assert len(feature["geometry"]["coordinates"][0]) < 50  # the teeth are gone
    assert abs(drawn_ha - full_ha) > 0.004  # the drawing lost them...
    tip = dict(feature["properties"]["t"]["r"])
    assert tip["Mapped area"] == sym.format_area(full_ha) == "1.01 ha"  # ...the figures did not
    assert tip["Remaining area"] == "1.01 ha"


def test_only_remaining(scene):
    m = render_map(scene["remaining"])
    page = m.get_root().render()
    assert _data_of(page, "minemap-hazard")["features"]
    assert "minemap-district" not in page
    assert "geoBoundaries" not in page
    assert "fitBounds" in page


def test_districts_without_table(scene):
    page = render_map(scene["remaining"], districts=scene["districts"]).get_root().render()
    rows = [dict(f["properties"]["t"]["r"]) for f in _data_of(page, "minemap-district")["features"]]
    assert all("Remaining area" in r for r in rows)


def test_as_of_filters_releases_and_is_shown(scene):
    page = render_scene(scene, as_of=dt.date(2023, 1, 1)).get_root().render()
    heads = [f["properties"]["t"]["h"] for f in _data_of(page, "minemap-release")["features"]]
    assert heads == ["Release R-1", "Release R-2"]
    assert "As of 2023-01-01" in page


def test_release_dates_as_date_objects(scene):
    releases = scene["releases"].copy()
    releases[s.RELEASED_ON] = [d.date() for d in releases[s.RELEASED_ON]]
    page = render_map(scene["remaining"], releases=releases, as_of="2022-12-31")
    heads = [
        f["properties"]["t"]["h"]
        for f in _data_of(page.get_root().render(), "minemap-release")["features"]
    ]
    assert heads == ["Release R-1", "Release R-2"]


def test_bad_as_of(scene):
    with pytest.raises(ValueError, match="as_of"):
        render_map(scene["remaining"], as_of="not a date")


def test_nothing_to_draw(scene):
    remaining = scene["remaining"].iloc[[4]]  # fully released: empty geometry
    page = render_map(remaining).get_root().render()
    assert _data_of(page, "minemap-hazard")["features"] == []
    empty = scene["remaining"].iloc[[]]
    assert "minemap.legend" in render_map(empty).get_root().render()


def test_inputs_not_modified(scene):
    before = {k: v.copy() for k, v in scene.items()}
    render_scene(scene)
    for key, frame in scene.items():
        pd.testing.assert_frame_equal(frame, before[key])


def test_reprojects_other_crs(scene):
    remaining = scene["remaining"].to_crs(3857)
    page = render_map(remaining).get_root().render()
    x, y = _data_of(page, "minemap-hazard")["features"][0]["geometry"]["coordinates"][0][0]
    assert 46 < x < 48
    assert 39 < y < 41


def test_class_breaks():
    assert sym.class_breaks([]) == []
    assert sym.class_breaks([0, None, float("nan")]) == []
    breaks = sym.class_breaks([5.0, 50.0, 500.0, 5000.0, 50000.0, 0.0])
    assert breaks == sorted(breaks)
    assert breaks[-1] >= 50000
    assert sym.class_index(50000.0, breaks) == len(breaks) - 1
    assert sym.class_index(0, breaks) is None
    assert sym.format_area(12345.678) == "12,345.7 ha"
    assert sym.format_count(97000.4) == "97,000"


# --- write_map -----------------------------------------------------------------


def test_write_map_refuses_to_overwrite(tmp_path, scene):
    m = render_map(scene["remaining"])
    out = tmp_path / "map.html"
    assert write_map(m, out) == out
    first = out.read_text(encoding="utf-8")
    assert first.startswith("<!DOCTYPE html>")
    with pytest.raises(OutputExistsError, match="overwrite"):
        write_map(m, out)
    assert out.read_text(encoding="utf-8") == first
    write_map(render_map(scene["remaining"], title="second"), out, overwrite=True)
    assert "second" in out.read_text(encoding="utf-8")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["map.html"]


def test_write_map_is_atomic(tmp_path, scene, monkeypatch):
    out = tmp_path / "map.html"
    out.write_text("old", encoding="utf-8")

    def _crash(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", _crash)
    with pytest.raises(OSError, match="disk full"):
        write_map(render_map(scene["remaining"]), out, overwrite=True)
    assert out.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["map.html"]


def test_write_map_permissions(tmp_path, scene):
    out = write_map(render_map(scene["remaining"]), tmp_path / "map.html")
    assert out.stat().st_mode & 0o044  # readable by others, as open() would make it


def test_geometry_collections_drawn_as_polygons():
    mixed = shapely.GeometryCollection(
        [
            _square(46.9, 39.9),
            shapely.LineString([(46.9, 39.9), (47.0, 40.0)]),
            shapely.Point(47, 40),
        ]
    )
    remaining = gpd.GeoDataFrame(
        {s.HAZARD_ID: ["G", "L"], s.MINES_AP: [1, 1], s.MINES_AT: [0, 0]},
        geometry=[mixed, shapely.GeometryCollection([shapely.Point(47, 40)])],
        crs=WGS84,
    )
    features = _data_of(render_map(remaining).get_root().render(), "minemap-hazard")["features"]
    assert [f["geometry"]["type"] in ("Polygon", "MultiPolygon") for f in features] == [True]


# --- issue 5: time slider, public map, extra layers, tiles --------------------------


def _timeline_of(page: str) -> dict:
    return json.loads(re.search(r"minemap\.timeline\([^,]+, (\{.*?\})\);\n", page).group(1))


def test_timeline_months_and_remaining_figures(page):
    spec = _timeline_of(page)
    # from the first submission (2021-01) to the last release (2024-06)
    assert spec["months"][0] == "2021-01"
    assert spec["months"][-1] == "2024-06"
    assert len(spec["months"]) == len(spec["figures"]) == 42
    values = [
        float(f.split("remaining ")[1].split(" ha")[0].replace(",", "")) for f in spec["figures"]
    ]
    assert values == sorted(values, reverse=True)  # releases only ever take land away
    assert values[0] > values[-1]


def test_timeline_figures_count_overlaps_once_known_answer():
    """Overlapping records and overlapping releases: the monthly figure by hand.

    H1 (10 ha, January) and H2 (10 ha, March) share 5 ha. R1 clears 2 ha of H1 in
    February; R2 (April) 2 ha of which 1 ha R1 had released; R3 (April) 2 ha of the
    shared ground. End of January 10 ha, February 8, March 15 - 2 = 13, April
    15 - 5 = 10: the district table's total. Drawing the overlaps as pieces per
    release and record would give 16 ha in March.
    """
    from minemap import by_district, remaining
    from tests.common import LAEA, box, hazards, releases

    hz = hazards(box(0, 0, 1000, 100), box(500, 0, 1500, 100))
    hz[s.SUBMITTED_ON] = pd.to_datetime(["2021-01-10", "2021-03-05"])
    rel = releases(
        box(0, 0, 200, 100),
        box(100, 0, 300, 100),
        box(600, 0, 800, 100),
        dates=["2021-02-15", "2021-04-20", "2021-04-25"],
    )
    rem = remaining(hz, rel)
    table = by_district(rem)
    assert table[s.REMAINING_AREA_HA].sum() == pytest.approx(10.0, rel=1e-6)
    page = render_map(rem, table, hazards=hz, releases=rel).get_root().render()
    spec = _timeline_of(page)
    assert spec["months"] == ["2021-01", "2021-02", "2021-03", "2021-04"]
    values = [float(f.removeprefix("remaining ").removesuffix(" ha")) for f in spec["figures"]]
    assert values == pytest.approx([10.0, 8.0, 13.0, 10.0], abs=0.01)
    assert hz.crs.equals(LAEA)  # inputs untouched


def test_releases_and_pending_pieces_carry_their_month(page, scene):
    releases = _data_of(page, "minemap-release")
    by_head = {f["properties"]["t"]["h"]: f["properties"]["z"] for f in releases["features"]}
    # R-1 is 2021-05 (month 4 from 2021-01), R-4 2024-06 (the last, 41)
    assert by_head["Release R-1"] == 4
    assert by_head["Release R-4"] == 41
    pending = _data_of(page, "minemap-pending")
    heads = {f["properties"]["t"]["h"] for f in pending["features"]}
    assert "Hazard AGM-001 (released later)" in heads
    assert all(f["properties"]["a"] == 0 for f in pending["features"])
    # each piece lies inside its own hazard
    hz = scene["hazards"].set_index(s.HAZARD_ID).geometry
    for f in pending["features"]:
        hazard_id = (
            f["properties"]["t"]["h"].removeprefix("Hazard ").removesuffix(" (released later)")
        )
        piece = shapely.geometry.shape(f["geometry"])
        assert hz[hazard_id].buffer(1e-4).contains(piece)


def test_public_map_has_no_perimeters_ids_or_sources(scene):
    page = render_scene(scene, public=True).get_root().render()
    for cls in ("minemap-hazard", "minemap-release", "minemap-pending", "minemap-submitted"):
        assert f'"className":"{cls}"' not in page
    for text in ("AGM-001", "FUZ-002", "Handover map A", "R-1", "Team 1"):
        assert text not in page, text
    grid = _data_of(page, "minemap-grid")
    assert grid["features"]
    assert "Public map" in page
    assert "Find a district" in page


def test_public_grid_keeps_the_totals(scene):
    remaining = scene["remaining"]
    grid = public_grid(remaining, cell_m=2000)
    total = remaining[s.REMAINING_AREA_HA].sum()
    # the scene's remaining_area_ha is not ellipsoidal, so compare with the
    # geodesic area of the pieces themselves
    from minemap import geodesy

    exact = geodesy.geodesic_area_ha(remaining.geometry.to_numpy()).sum()
    assert grid[s.REMAINING_AREA_HA].sum() == pytest.approx(exact, rel=1e-6)
    assert grid[s.REMAINING_AREA_HA].sum() != pytest.approx(0.0)
    assert grid[s.REMAINING_MINES_EST].sum() == pytest.approx(
        remaining[s.REMAINING_MINES_EST].sum(), rel=1e-9
    )
    assert total > 0
    # no cell holds more than a cell's area (2 km x 2 km = 400 ha)
    assert grid[s.REMAINING_AREA_HA].max() <= 400 + 1e-6
    cells = geodesy.geodesic_area_ha(grid.geometry.to_numpy())
    assert cells == pytest.approx(np.full(len(grid), 400.0), rel=1e-3)


def test_public_grid_known_answer():
    # a 1 km x 1 km square (in an equal-area sense) split by no cell boundary or by some:
    # its area and mines are kept whatever the cells
    square = gpd.GeoDataFrame(
        {s.REMAINING_MINES_EST: [100.0]},
        geometry=[shapely.box(46.9, 39.9, 46.9117, 39.909)],
        crs=WGS84,
    )
    from minemap import geodesy

    area = geodesy.geodesic_area_ha(square.geometry.to_numpy())[0]
    for cell in (250.0, 700.0, 2000.0):
        grid = public_grid(square, cell_m=cell)
        assert grid[s.REMAINING_AREA_HA].sum() == pytest.approx(area, rel=1e-6)
        assert grid[s.REMAINING_MINES_EST].sum() == pytest.approx(100.0)
        shares = grid[s.REMAINING_MINES_EST] / grid[s.REMAINING_AREA_HA]
        assert np.allclose(shares, 100.0 / area)
    assert len(public_grid(square, cell_m=250.0)) > len(public_grid(square, cell_m=2000.0))
    with pytest.raises(ValueError, match="cell_m"):
        public_grid(square, cell_m=0)


def test_public_grid_empty():
    empty = gpd.GeoDataFrame({s.REMAINING_MINES_EST: []}, geometry=[], crs=WGS84)
    assert len(public_grid(empty)) == 0


def test_extra_layers_frame_and_element(scene):
    import folium

    cells = gpd.GeoDataFrame(
        {"density": [2.5], "name": [f"cell {EVIL}"]},
        geometry=[shapely.box(46.82, 39.87, 46.83, 39.88)],
        crs=WGS84,
    ).to_crs(3857)
    marker = folium.FeatureGroup(name="Their own element")
    page = (
        render_scene(
            scene,
            extra_layers=[
                MapLayer(
                    "Density",
                    frame=cells,
                    style={"color": "#123456"},
                    tooltip={"Mines per ha": "density"},
                    heading="name",
                    legend=[("dense", {"fillColor": "#123456"})],
                ),
                MapLayer("Their own element", element=marker),
            ],
        )
        .get_root()
        .render()
    )
    data, options = _layer_of(page, "minemap-extra minemap-extra-0")
    assert options["styles"] == [{"color": "#123456"}]
    (feature,) = data["features"]
    assert feature["properties"]["t"]["h"] == f"cell {EVIL}"
    assert feature["properties"]["t"]["r"] == [["Mines per ha", "2.5"]]
    # reprojected to WGS 84
    assert shapely.geometry.shape(feature["geometry"]).bounds[0] == pytest.approx(46.82)
    assert "dense" in page
    assert marker.get_name() in page
    control = _layer_control(page)
    assert f'.addOverlay({marker.get_name()}, "Their own element")' in control
    assert ', "Density")' in control


def test_tiles_adds_a_base_layer_only_when_asked(scene):
    url = "https://tile.example.org/{z}/{x}/{y}.png"
    with_tiles = render_scene(scene, tiles=url).get_root().render()
    without = render_scene(scene).get_root().render()
    assert url in with_tiles
    assert "tile.example.org" not in without
    assert "L.tileLayer" not in without
    assert re.search(r'\.addBaseLayer\(\w+, "Online base map"\)', _layer_control(with_tiles))
    with pytest.raises(ValueError, match="tile URL"):
        render_scene(scene, tiles="https://x/{{ 7*7 }}/{z}")


def test_controls_are_on_the_page(page):
    for call in ("minemap.fullscreen(", "minemap.measure(", "minemap.search(", "minemap.timeline("):
        assert call in page, call
    assert "L.control.scale" in page


def test_popups_and_search_keys(page):
    hazards = _data_of(page, "minemap-hazard")
    keys = {f["properties"]["i"] for f in hazards["features"]}
    assert {"AGM-001", EVIL_ID} <= keys
    districts = _data_of(page, "minemap-district")
    assert {f["properties"]["i"] for f in districts["features"]} == {"Aghdam", "Fuzuli", EVIL}


def test_public_grid_counts_shared_land_once(scene):
    from minemap import geodesy

    remaining = scene["remaining"].copy()
    remaining[s.NET_REMAINING_AREA_HA] = remaining[s.REMAINING_AREA_HA] * 0.5
    grid = public_grid(remaining)
    exact = geodesy.geodesic_area_ha(remaining.geometry.to_numpy()).sum()
    assert grid[s.REMAINING_AREA_HA].sum() == pytest.approx(0.5 * exact, rel=1e-6)
    assert s.NET_REMAINING_AREA_HA not in scene["remaining"].columns  # input untouched


def test_display_geometry_stays_valid_once_rounded():
    from minemap.render.features import display_geometries

    # Polygons a few metres across, as cut pieces and slivers can be: rounded to the
    # page's 5 decimals (about 1 m), their rings crossed themselves.
    rng = np.random.default_rng(0)
    corner = np.array([46.9, 39.98])
    given = [
        shapely.make_valid(shapely.Polygon(corner + rng.uniform(0, 6e-5, (6, 2))))
        for _ in range(300)
    ]
    texts = display_geometries(np.array(given, dtype=object))
    shown = shapely.from_geojson(texts[pd.notna(texts)])
    assert len(shown) > 100
    assert shapely.is_valid(shown).all()
    assert np.isin(shapely.get_type_id(shown), [3, 6]).all()
