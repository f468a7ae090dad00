"""minemap.accuracy: hit rates, found-vs-recorded, offsets and IoU on hand-made layouts."""

from __future__ import annotations

import importlib.util
import zlib
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
import shapely.affinity
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import minemap as mm
from minemap import schema as s
from minemap.accuracy import accuracy, assigned_devices, estimate_offset, rollup
from tests.common import LAEA, box, examples, hazards, releases

ROOT = Path(__file__).parent.parent


def items(xy, types=None) -> gpd.GeoDataFrame:
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    n = len(xy)
    frame = pd.DataFrame(
        {
            s.ITEM_ID: [f"I{i}" for i in range(n)],
            s.FOUND_ON: pd.to_datetime(["2022-05-01"] * n),
            s.ITEM_TYPE: types if types is not None else ["AP"] * n,
        }
    )
    return gpd.GeoDataFrame(frame, geometry=shapely.points(xy), crs=LAEA)


def _grid_in(polygon, step: float = 10.0) -> np.ndarray:
    """Points on a grid covering a polygon, edges included (a fully cleared minefield)."""
    minx, miny, maxx, maxy = polygon.bounds
    xs, ys = np.meshgrid(np.arange(minx, maxx + 1e-9, step), np.arange(miny, maxy + 1e-9, step))
    xy = np.column_stack([xs.ravel(), ys.ravel()])
    return xy[shapely.covers(polygon, shapely.points(xy))]


def _bearing_error(a: float, b: float) -> float:
    return abs((a - b + 180) % 360 - 180)


# --- the shift estimator on families of cases -----------------------------------------

#: Record shapes (metres): a field, a small one, an L and a long strip.
SHAPES = {
    "field": shapely.box(0, 0, 400, 250),
    "small": shapely.box(0, 0, 150, 100),
    "L": shapely.Polygon([(0, 0), (300, 0), (300, 100), (120, 100), (120, 260), (0, 260)]),
    "strip": shapely.box(0, 0, 600, 80),
}


def _vector(distance: float, bearing: float) -> np.ndarray:
    # Bearings are true bearings; near 0°N 0°E (tests.common.LAEA) grid north is true north.
    return distance * np.array([np.sin(np.radians(bearing)), np.cos(np.radians(bearing))])


def _uniform(region, n: int, rng) -> np.ndarray:
    minx, miny, maxx, maxy = region.bounds
    found = []
    while sum(map(len, found)) < n:
        xy = rng.uniform([minx, miny], [maxx, maxy], size=(4 * n + 16, 2))
        found.append(xy[shapely.contains_xy(region, xy[:, 0], xy[:, 1])])
    return np.concatenate(found)[:n]


def _rows(region, n: int, rng) -> np.ndarray:
    """About ``n`` devices in rows and columns (a laid minefield), at a random phase."""
    step = np.sqrt(region.area / n)
    minx, miny, maxx, maxy = region.bounds
    phase = rng.uniform(0, step, 2)
    xs, ys = np.meshgrid(
        np.arange(minx + phase[0], maxx, step), np.arange(miny + phase[1], maxy, step)
    )
    xy = np.column_stack([xs.ravel(), ys.ravel()])
    return xy[shapely.contains_xy(region, xy[:, 0], xy[:, 1])]


def _kept_share(field, share: float, angle: float):
    """The half-plane (a large polygon) keeping ``share`` of ``field`` on one side of a line."""
    centre = np.array(field.centroid.coords[0])

    def side(offset: float):
        half = shapely.affinity.rotate(shapely.box(-1e4, -1e4, offset, 1e4), angle, origin=(0, 0))
        return shapely.affinity.translate(half, *centre)

    lo, hi = -2000.0, 2000.0
    for _ in range(50):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if field.intersection(side(mid)).area < share * field.area else (lo, mid)
    return side(hi)


def _case(shape, distance, bearing, n, layout, searched, strays=0, angle=0.0, seed=0, scale=1.0):
    """A record drawn ``distance`` m off towards ``bearing``, and the devices clearance found.

    ``searched``: ``"all"`` (no releases: the whole minefield searched), ``"released"``
    (released ground: the minefield and a fade-out margin of four device spacings), or
    ``"part"`` (released ground covering 60-85 % of the minefield, cut by a straight
    line, with the same margin beyond the minefield's own edges). Returns the devices,
    the record, the released ground (or None) and the true shift.
    """
    rng = np.random.default_rng(seed)
    record = shapely.affinity.scale(SHAPES[shape], scale, scale, origin=(0, 0))
    record = shapely.affinity.rotate(record, angle, origin="centroid")
    truth = _vector(distance, bearing)
    field = shapely.affinity.translate(record, *truth)
    spacing = np.sqrt(field.area / n)
    margin = max(10.0, 4.0 * spacing)
    ground, region = None, field
    if searched == "released":
        ground = field.buffer(margin, join_style="mitre")
    elif searched == "part":
        kept = _kept_share(field, rng.uniform(0.6, 0.85), rng.uniform(0, 360))
        ground = field.buffer(margin, join_style="mitre").intersection(kept)
        region = field.intersection(kept)
    xy = (_uniform if layout == "uniform" else _rows)(region, n, rng)
    if strays:
        ring = field.buffer(100).difference(field.buffer(20))
        xy = np.vstack([xy, _uniform(ring, strays, rng)])
    return xy, record, ground, truth


def _bearing_of(shift) -> float:
    return float(np.degrees(np.arctan2(shift[0], shift[1])) % 360)


def _bearing_error(a: float, b: float) -> float:
    return abs((a - b + 180) % 360 - 180)


def _check_recovered(fit, truth) -> None:
    distance = float(np.hypot(*truth))
    assert fit.estimated, fit.note
    error = float(np.hypot(*(fit.shift - truth)))
    assert error <= max(5.0, 0.1 * distance), (error, fit)
    assert error <= fit.uncertainty_m
    if distance >= 50:
        # Shorter shifts: 5 m is more than 5° (a bearing to 5° needs the shift to 0.9 m
        # at 10 m, finer than the devices tell).
        assert _bearing_error(_bearing_of(fit.shift), _bearing_of(truth)) <= 5


@pytest.mark.parametrize("shape", ["field", "small", "L", "strip"])
@pytest.mark.parametrize("searched", ["all", "released", "part"])
@pytest.mark.parametrize("layout", ["uniform", "rows"])
@pytest.mark.parametrize(
    ("distance", "bearing"), [(10, 17), (40, 0), (83, 230), (150, 135), (200, 300)]
)
def test_known_shift_comes_back_where_the_devices_cover_the_record(
    shape, searched, layout, distance, bearing
):
    """Devices that cover the record: at least one per (5 m or 10 % of the shift)², 8 to
    200 of them (records scaled down to hold that), and two strays. The shift comes back
    within max(5 m, 10 %) and, from 50 m, 5°."""
    precision = max(5.0, 0.1 * distance)
    area = SHAPES[shape].area
    n = int(np.clip(np.ceil(area / precision**2), 8, 200))
    scale = min(1.0, np.sqrt(n * precision**2 / area))
    seed = zlib.crc32(f"{shape}{searched}{layout}{distance}".encode())
    xy, record, ground, truth = _case(
        shape, distance, bearing, n, layout, searched, strays=2, angle=25, seed=seed, scale=scale
    )
    _check_recovered(estimate_offset(xy, record, ground, max_shift_m=300), truth)


@settings(max_examples=examples(40), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    shape=st.sampled_from(sorted(SHAPES)),
    distance=st.floats(10, 200),
    bearing=st.floats(0, 360),
    n=st.integers(8, 200),
    layout=st.sampled_from(["uniform", "rows"]),
    searched=st.sampled_from(["all", "released", "part"]),
    strays=st.integers(0, 3),
    angle=st.floats(0, 90),
    seed=st.integers(0, 2**16),
)
def test_an_estimate_is_within_its_uncertainty_or_there_is_none(
    shape, distance, bearing, n, layout, searched, strays, angle, seed
):
    """Any record, any devices: the true shift lies within the uncertainty given, or no
    estimate is given and the note says why (never a 0 standing for "unknown")."""
    xy, record, ground, truth = _case(
        shape, distance, bearing, n, layout, searched, strays, angle, seed
    )
    fit = estimate_offset(xy, record, ground, max_shift_m=300)
    if fit.estimated:
        assert np.hypot(*(fit.shift - truth)) <= fit.uncertainty_m
        assert fit.uncertainty_m <= max(25.0, np.hypot(*fit.shift) / 3)
        assert fit.coverage >= 0.5
        assert fit.searched_share >= 0.5
        assert fit.devices >= 8
    else:
        assert fit.note
        assert fit.shift is None
        assert np.isnan(fit.dx)
        assert np.isnan(fit.uncertainty_m)


def _no_estimate(xy, record, ground=None, **kw):
    fit = estimate_offset(xy, record, ground, **kw)
    assert not fit.estimated
    assert np.isnan(fit.dx)
    assert np.isnan(fit.dy)
    return fit.note


def test_no_estimate_from_too_few_devices():
    record = shapely.box(0, 0, 100, 60)
    rng = np.random.default_rng(1)
    xy = _uniform(record, 5, rng) + np.array([30.0, 0.0])
    assert "too few devices (5" in _no_estimate(xy, record)


def test_no_estimate_when_the_devices_cover_a_corner_of_the_record():
    """200 devices in one corner: the record may be drawn too large, not shifted."""
    record = shapely.box(0, 0, 400, 250)
    xy = _uniform(shapely.box(250, 150, 400, 250), 200, np.random.default_rng(2))
    assert "the devices cover only" in _no_estimate(xy, record)


def test_no_estimate_when_the_searched_part_is_too_small():
    """Released ground over a third of the record: what was found says little about the rest."""
    record = shapely.box(0, 0, 400, 250)
    cleared = shapely.box(-20, -20, 130, 270)
    xy = _uniform(shapely.box(0, 0, 130, 250), 150, np.random.default_rng(3))
    assert "searched part too small" in _no_estimate(xy, record, cleared)


def test_no_estimate_when_the_devices_do_not_pin_the_record_down():
    """A band cleared across the middle, ending where the devices end: the record may slide
    along the band's length by most of the record without fitting worse."""
    record = shapely.box(0, 0, 400, 250)
    band = shapely.box(65, -20, 385, 270)  # the minefield (record + 25 m east) without its ends
    xy = _uniform(shapely.box(65, 0, 385, 250), 200, np.random.default_rng(4))
    note = _no_estimate(xy, record, band)
    assert "not measurable" in note or "do not pin" in note


def test_a_record_in_place_gets_an_estimate_near_0_not_an_empty_cell():
    record = shapely.box(0, 0, 200, 120)
    xy = _uniform(record, 200, np.random.default_rng(5))
    fit = estimate_offset(xy, record)
    assert fit.estimated
    assert np.hypot(*fit.shift) < 5
    assert fit.uncertainty_m < 10


def test_a_map_drawn_83_m_off_is_never_under_reported():
    """Issue 12: a source map drawn 83 m off showed 53 m and 65 m on two records, "0 m" on
    the rest, and 0 m per source (the median counted the zeros). Six records of one map,
    83 m off towards 230°: three cleared whole with 200 devices each, two with 10 and 20
    (the old estimator stopped at the first shift that fitted them: 40 m and 64 m), one
    with 2. Each is 83 m within its uncertainty, or empty with the reason."""
    geoms, xy = [], []
    for i, (n, seed) in enumerate([(200, 0), (200, 1), (200, 2), (10, 2), (20, 2), (2, 0)]):
        devices, record, _, _ = _case("field", 83, 230, n, "uniform", "all", seed=seed)
        geoms.append(shapely.affinity.translate(record, 2000 * i, 0))
        xy.append(devices + np.array([2000.0 * i, 0.0]))
    hz = hazards(*geoms)
    hz[s.SOURCE] = "Handover map 7"
    table = accuracy(hz, items=items(np.vstack(xy)), search_m=300)
    estimated = table[s.OFFSET_M].notna()
    for _, row in table[estimated].iterrows():
        assert abs(row[s.OFFSET_M] - 83) <= row[s.OFFSET_UNCERTAINTY_M]
    dense = table.iloc[:3]
    assert dense[s.OFFSET_M].between(83 - 8.3, 83 + 8.3).all()
    assert (dense[s.OFFSET_BEARING_DEG].map(lambda b: _bearing_error(b, 230)) <= 5).all()
    sparse = table.iloc[3:]
    assert sparse[s.OFFSET_M].isna().all()
    assert sparse[s.OFFSET_UNCERTAINTY_M].isna().all()
    assert sparse[s.OFFSET_NOTE].str.contains("not measurable|too few devices").all()
    by_source = rollup(table, by="source").iloc[0]
    assert by_source[s.RECORDS] == 6
    assert by_source[s.RECORDS_WITH_OFFSET] == 3
    assert by_source[s.OFFSET_M] == pytest.approx(83, abs=8.3)
    assert by_source[s.RECORDS_SHIFTED] == 3


def test_hit_rate_and_found_vs_recorded_on_a_hand_made_layout():
    a, b = box(0, 0, 100, 100), box(1000, 0, 1100, 100)
    xy = [
        (10, 10), (50, 50), (90, 90),  # inside A
        (105, 50),  # 5 m east of A: a miss, a hit with tolerance 5 m
        (150, 50),  # 50 m off A
        (2000, 2000),  # far from everything: no record's
        (1050, 50),  # inside B (AT)
        (1050, 130),  # 30 m off B (AT)
    ]  # fmt: skip
    types = ["AP", "AP", "AT", "AP", "AP", "AP", "AT", "AT"]
    hz = hazards(a, b, ap=[6, 0], at=[2, 4])
    table = accuracy(hz, items=items(xy, types)).set_index(s.HAZARD_ID)
    assert table.loc["H1", s.DEVICES_NEAR] == 5
    assert table.loc["H1", s.HIT_RATE] == pytest.approx(3 / 5)
    assert table.loc["H1", s.FOUND_VS_RECORDED_AP] == pytest.approx(2 / 6)
    assert table.loc["H1", s.FOUND_VS_RECORDED_AT] == pytest.approx(1 / 2)
    assert table.loc["H2", s.HIT_RATE] == pytest.approx(1 / 2)
    assert np.isnan(table.loc["H2", s.FOUND_VS_RECORDED_AP])  # no AP recorded
    assert table.loc["H2", s.FOUND_VS_RECORDED_AT] == pytest.approx(1 / 4)
    tolerant = accuracy(hz, items=items(xy, types), tolerance_m=5).set_index(s.HAZARD_ID)
    assert tolerant.loc["H1", s.HIT_RATE] == pytest.approx(4 / 5)
    narrow = accuracy(hz, items=items(xy, types), search_m=20).set_index(s.HAZARD_ID)
    assert narrow.loc["H1", s.DEVICES_NEAR] == 4


def test_a_device_belongs_to_the_nearest_record_only():
    a, b = box(0, 0, 100, 100), box(160, 0, 260, 100)
    table = accuracy(hazards(a, b), items=items([(110, 50), (150, 50)]))
    assert table[s.DEVICES_NEAR].tolist() == [1, 1]
    assert table[s.HIT_RATE].tolist() == [0.0, 0.0]


def test_uxo_is_not_counted_unless_asked():
    hz = hazards(box(0, 0, 100, 100))
    it = items([(10, 10), (20, 20)], ["UXO", "AP"])
    assert accuracy(hz, items=it).loc[0, s.DEVICES_NEAR] == 1
    assert accuracy(hz, items=it, item_types=("AP", "UXO")).loc[0, s.DEVICES_NEAR] == 2


def test_iou_of_devices_filling_the_record_is_high_and_of_shifted_lower():
    record = box(0, 0, 200, 200)
    full = accuracy(hazards(record), items=items(_grid_in(record, 10.0)), hull_buffer_m=0).iloc[0]
    assert full[s.IOU] == pytest.approx(1.0)
    half = _grid_in(shapely.affinity.translate(record, 100, 0), 10.0)
    shifted = accuracy(hazards(record), items=items(half), hull_buffer_m=0).iloc[0]
    assert shifted[s.IOU] == pytest.approx(1 / 3, abs=1e-6)  # 100x200 over 300x200


def test_releases_restrict_devices_to_searched_ground_and_give_searched_share():
    record = box(0, 0, 1000, 100)
    cleared = box(0, 0, 250, 100)
    xy = [(100, 50), (900, 50)]  # the second lies 650 m from any cleared ground
    hz = hazards(record)
    table = accuracy(hz, releases(cleared), items(xy), search_m=200)
    assert table.loc[0, s.DEVICES_NEAR] == 1
    assert table.loc[0, s.SEARCHED_SHARE] == pytest.approx(0.25)
    cancelled = accuracy(hz, releases(cleared, methods=["cancelled"]), items(xy))
    assert cancelled.loc[0, s.DEVICES_NEAR] == 0
    assert cancelled.loc[0, s.SEARCHED_SHARE] == 0.0


def test_rollups_are_device_weighted_and_keep_every_group():
    a, b, c = box(0, 0, 100, 100), box(1000, 0, 1100, 100), box(5000, 0, 5100, 100)
    hz = hazards(a, b, c, district=["Aghdam", "Aghdam", "Fuzuli"])
    hz[s.SOURCE] = ["map 1", "map 2", "map 2"]
    xy = [(10, 10), (20, 20), (30, 30), (150, 50), (1050, 150)]
    table = accuracy(hz, items=items(xy))
    d = rollup(table, by="district").set_index(s.DISTRICT)
    assert d.loc["Aghdam", s.HIT_RATE] == pytest.approx(3 / 5)
    assert d.loc["Aghdam", s.RECORDS] == 2
    assert d.loc["Fuzuli", s.RECORDS_WITH_DEVICES] == 0
    assert np.isnan(d.loc["Fuzuli", s.HIT_RATE])
    by_source = accuracy(hz, items=items(xy), level="source").set_index(s.SOURCE)
    assert by_source.loc["map 2", s.HIT_RATE] == 0.0
    assert by_source[s.RECORDS].sum() == 3


def test_inputs_are_not_modified_and_bad_arguments_raise():
    hz, it = hazards(box(0, 0, 100, 100)), items([(10, 10)])
    before = hz.copy(), it.copy()
    accuracy(hz, items=it)
    pd.testing.assert_frame_equal(hz, before[0])
    pd.testing.assert_frame_equal(it, before[1])
    with pytest.raises(ValueError, match="level"):
        accuracy(hz, items=it, level="country")
    with pytest.raises(mm.SchemaError, match="item_type"):
        accuracy(hz, items=it.drop(columns=s.ITEM_TYPE))


def _make_items():
    path = ROOT / "tools" / "sample" / "make_items.py"
    spec = importlib.util.spec_from_file_location("make_items", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("with_releases", [False, True])
def test_sample_shifts_are_within_their_uncertainty_and_unknowns_stay_empty(with_releases):
    it = mm.read_items(ROOT / "data" / "items.geojson")
    assert set(it[s.ITEM_TYPE]) <= {"AP", "AT", "UXO"}
    hz = mm.read_hazards(ROOT / "data" / "hazards.geojson")
    rel = mm.read_releases(ROOT / "data" / "releases.geojson") if with_releases else None
    table = accuracy(hz, rel, it).set_index(s.HAZARD_ID)
    truth = _make_items().shifts()
    shifted = [h for h in truth if table.loc[h, s.DEVICES_NEAR] >= 10]
    steady = table.index.difference(list(truth))
    assert len(shifted) >= 5
    # A wrong reference point shows: shifted records have lower hit rates.
    assert table.loc[shifted, s.HIT_RATE].mean() < table.loc[steady, s.HIT_RATE].mean()
    # Every estimate holds the true shift within its uncertainty. The sample's devices
    # are sparse (a fifth of the mines, over records of tens of hectares) and its
    # releases cover parts of records: most records get no estimate, and say why.
    estimated = table[table[s.OFFSET_M].notna()]
    assert len(estimated) >= (0 if with_releases else 4)
    for h, row in estimated.iterrows():
        true = _vector(*truth[h]) if h in truth else np.zeros(2)
        error = np.hypot(row[s.OFFSET_DX_M] - true[0], row[s.OFFSET_DY_M] - true[1])
        assert error <= row[s.OFFSET_UNCERTAINTY_M], h
    unknown = table[table[s.OFFSET_M].isna()]
    assert unknown[s.OFFSET_NOTE].notna().all()
    assert unknown[s.OFFSET_UNCERTAINTY_M].isna().all()
    assert estimated[s.OFFSET_NOTE].isna().all()
    if not with_releases:
        # The Aghdam source map (44 m towards 185°) is found on its densest records.
        aghdam = [h for h in estimated.index if h in truth and truth[h][0] == truth["AGM-0165"][0]]
        assert len(aghdam) >= 3
        by_source = rollup(table.reset_index(), by="source").set_index(s.SOURCE)
        source = hz.set_index(s.HAZARD_ID).loc["AGM-0165", s.SOURCE]
        assert by_source.loc[source, s.RECORDS_WITH_OFFSET] == len(aghdam)
        assert by_source.loc[source, s.OFFSET_M] == pytest.approx(truth["AGM-0165"][0], abs=10)


# --- the map layer ------------------------------------------------------------------

XSS = "<img src=x onerror=window.__xss=1>{{ 7*7 }}"


def _layered_map(tmp_path):
    from minemap.render.accuracy_layer import accuracy_layer
    from minemap.render.offline import OfflineMap

    a, b = box(0, 0, 300, 200), box(1000, 0, 1300, 200)
    hz = hazards(a, b, ids=[XSS, "H2"])
    hz[s.SOURCE] = ["</script><script>window.__xss=2</script>", "map"]
    xy = np.vstack([_grid_in(shapely.affinity.translate(a, 80, 0), 15.0), _grid_in(b, 50.0)])
    found = items(xy)
    found[s.ITEM_ID] = [f"{XSS}-{i}" for i in range(len(found))]
    table = accuracy(hz, items=found)
    layer = accuracy_layer(hz, table, min_shift_m=10, devices=assigned_devices(hz, items=found))
    m = OfflineMap(tiles=None)
    layer.element.add_to(m)
    m.fit_bounds([[-0.001, -0.001], [0.003, 0.013]])
    path = tmp_path / "acc.html"
    m.save(str(path))
    return path, layer, table


def test_accuracy_layer_escapes_text_and_draws_a_shift_arrow(tmp_path):
    path, layer, table = _layered_map(tmp_path)
    page = path.read_text(encoding="utf-8")
    # The devices found are drawn, each coloured by whether its record holds it.
    assert layer.element.device_count == table[s.DEVICES_NEAR].sum() > 0
    assert "<img src=x" not in page
    assert "</script><script>window.__xss" not in page
    assert "{{ 7*7 }}" in page.replace("\\u003c", "<")  # not evaluated as a template
    assert page.count('"from"') == 1  # one arrow: only the first record is shifted
    labels = [label for label, _ in layer.legend]
    assert "no device found near" in labels
    assert table.loc[0, s.OFFSET_M] > 70


@pytest.mark.browser
def test_accuracy_layer_in_the_browser_runs_no_script_from_data(tmp_path, browser):
    path, _, table = _layered_map(tmp_path)
    page = browser.new_page()
    errors, requests = [], []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.route("**/*", lambda r: (requests.append(r.request.url), r.abort())
               if not r.request.url.startswith("file:") else r.continue_())  # fmt: skip
    page.goto(path.as_uri())
    page.wait_for_selector("path.minemap-shift")
    assert page.locator("path.minemap-accuracy").count() == 2
    assert page.locator("path.minemap-shift").count() == 2  # shaft and head
    drawn = page.locator("path.minemap-device")
    assert drawn.count() == table[s.DEVICES_NEAR].sum()
    assert (
        page.locator("path.minemap-device-outside").count()
        == (table[s.DEVICES_NEAR] - table[s.DEVICES_INSIDE]).sum()
    )
    drawn.first.hover(force=True)
    page.wait_for_selector(".minemap-tip")
    page.locator("path.minemap-accuracy").first.hover(force=True)
    page.wait_for_selector(".minemap-tip")
    assert XSS in page.locator(".minemap-tip-head").first.text_content()
    assert page.evaluate("window.__xss") is None
    assert errors == []
    assert requests == []
    page.close()


def test_no_devices_gives_empty_measures_not_errors():
    hz = hazards(box(0, 0, 100, 100), ap=[10], at=[0])
    row = accuracy(hz, releases(box(0, 0, 50, 100)), items(np.zeros((0, 2)))).iloc[0]
    assert row[s.DEVICES_NEAR] == 0
    assert np.isnan(row[s.HIT_RATE])
    assert row[s.FOUND_VS_RECORDED_AP] == 0.0
    assert np.isnan(row[s.FOUND_VS_RECORDED_AT])
    assert np.isnan(row[s.OFFSET_M])
    assert row[s.SEARCHED_SHARE] == pytest.approx(0.5)


def test_accuracy_layer_draws_valid_polygons_once_rounded():
    import json

    import geopandas as gpd

    from minemap.render.accuracy_layer import accuracy_layer

    # Records a few metres across: rounded to 6 decimals (10 cm), their rings crossed.
    rng = np.random.default_rng(1)
    corner = np.array([46.9, 39.98])
    shapes = [
        shapely.make_valid(shapely.Polygon(corner + rng.uniform(0, 2e-5, (6, 2))))
        for _ in range(200)
    ]
    hz = gpd.GeoDataFrame(
        {s.HAZARD_ID: [f"H{i}" for i in range(200)], s.MINES_AP: 1, s.MINES_AT: 0},
        geometry=shapes,
        crs=4326,
    )
    table = accuracy(hz, items=items(np.empty((0, 2))).set_crs(4326, allow_override=True))
    layer = accuracy_layer(hz, table)
    found = json.loads(layer.element.data)
    geoms = shapely.from_geojson([json.dumps(f["geometry"]) for f in found["records"]["features"]])
    assert len(geoms) > 100
    assert shapely.is_valid(geoms).all()
