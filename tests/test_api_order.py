"""One layer order in the public API: ``hazards, releases, districts, ...`` then options.

The old orders (``progress(releases, hazards)``, ``accuracy(hazards, items, releases)``)
keep working for one release with a DeprecationWarning that shows the new order.
"""

from __future__ import annotations

import inspect
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import minemap as mm
from minemap import schema as s
from minemap._layers import layer_kind
from minemap.accuracy import assigned_devices
from minemap.errors import SchemaError
from tests.common import LAEA, box, districts, hazards, releases

THIS_FILE = str(Path(__file__))


@pytest.fixture
def layers():
    """Two hazards in districts A and B, three releases and a few devices found."""
    hz = hazards(box(0, 0, 1000, 100), box(2000, 0, 3000, 100), ap=[10, 20])
    rel = releases(
        box(0, 0, 100, 100),
        box(50, 0, 250, 100),
        box(2000, 0, 2200, 100),
        dates=["2022-01-03", "2022-01-09", "2022-01-10"],
        methods=["cleared", "cleared", "reduced"],
    )
    ds = districts(["A", "B"], [box(-100, -100, 1500, 200), box(1500, -100, 6000, 200)])
    xy = np.array([(20.0, 50.0), (60.0, 40.0), (90.0, 60.0), (2100.0, 50.0), (2150.0, 20.0)])
    found = gpd.GeoDataFrame(
        {
            s.ITEM_ID: [f"I{i}" for i in range(len(xy))],
            s.FOUND_ON: pd.to_datetime(["2022-01-05"] * len(xy)),
            s.ITEM_TYPE: ["AP", "AP", "AT", "AP", "AT"],
        },
        geometry=shapely.points(xy),
        crs=LAEA,
    )
    return hz, rel, ds, found


def _no_warning(call):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return call()


def _deprecated(call):
    """Run ``call``; return its result and the one DeprecationWarning it gave."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = call()
    deprecations = [w for w in caught if issubclass(w.category, DeprecationWarning)]
    assert len(deprecations) == 1, [str(w.message) for w in caught]
    return result, deprecations[0]


def test_signatures_name_the_new_order():
    progress = list(inspect.signature(mm.progress).parameters)
    accuracy = list(inspect.signature(mm.accuracy).parameters)
    devices = list(inspect.signature(assigned_devices).parameters)
    assert progress[:3] == ["hazards", "releases", "districts"]
    assert accuracy[:3] == ["hazards", "releases", "items"]
    assert devices[:3] == ["hazards", "releases", "items"]
    # Options are keyword-only.
    for func in (mm.progress, mm.accuracy, assigned_devices):
        kinds = [p.kind for p in list(inspect.signature(func).parameters.values())[3:]]
        assert set(kinds) == {inspect.Parameter.KEYWORD_ONLY}


def test_layer_kind_from_columns(layers):
    hz, rel, ds, found = layers
    assert layer_kind(hz) == "hazards"
    assert layer_kind(rel) == "releases"
    assert layer_kind(found) == "items"
    # Items may name their release and releases their hazard: still told apart.
    assert layer_kind(found.assign(**{s.RELEASE_ID: "R1"})) == "items"
    assert layer_kind(rel.assign(**{s.HAZARD_ID: "H1"})) == "releases"
    assert layer_kind(ds) is None
    assert layer_kind(None) is None


# --- progress -----------------------------------------------------------------------


def test_progress_new_order_and_keywords_agree_without_warning(layers):
    hz, rel, ds, found = layers
    new = _no_warning(lambda: mm.progress(hz, rel, ds, as_of="2022-01-16", items=found))
    named = _no_warning(
        lambda: mm.progress(releases=rel, districts=ds, hazards=hz, as_of="2022-01-16", items=found)
    )
    pd.testing.assert_frame_equal(new, named)
    assert new[s.REMAINING_HA].notna().any()  # hazards were used
    assert set(new[s.DISTRICT]) == {"A", "B", s.ALL}  # districts were used


def test_progress_without_hazards(layers):
    _, rel, ds, _ = layers
    none_first = _no_warning(lambda: mm.progress(None, rel, ds, as_of="2022-01-16"))
    named = _no_warning(lambda: mm.progress(releases=rel, districts=ds, as_of="2022-01-16"))
    pd.testing.assert_frame_equal(none_first, named)
    assert none_first[s.REMAINING_HA].isna().all()


@pytest.mark.parametrize(
    "old_call",
    [
        lambda hz, rel, ds: mm.progress(rel, hz, ds, as_of="2022-01-16"),
        lambda hz, rel, ds: mm.progress(rel, hz, districts=ds, as_of="2022-01-16"),
        lambda hz, rel, ds: mm.progress(rel, hazards=hz, districts=ds, as_of="2022-01-16"),
    ],
    ids=["positional", "districts-keyword", "hazards-keyword"],
)
def test_progress_old_order_same_result_and_warns(layers, old_call):
    hz, rel, ds, _ = layers
    new = _no_warning(lambda: mm.progress(hz, rel, ds, as_of="2022-01-16"))
    old, warning = _deprecated(lambda: old_call(hz, rel, ds))
    pd.testing.assert_frame_equal(old, new)
    message = str(warning.message)
    assert "progress(hazards, releases, districts, ...)" in message
    assert "deprecated" in message
    # The warning points at the caller, not at minemap.
    assert warning.filename == THIS_FILE


def test_progress_old_order_releases_alone(layers):
    _, rel, _, _ = layers
    new = _no_warning(lambda: mm.progress(releases=rel, as_of="2022-01-16"))
    old, warning = _deprecated(lambda: mm.progress(rel, as_of="2022-01-16"))
    pd.testing.assert_frame_equal(old, new)
    assert warning.filename == THIS_FILE


def test_progress_wrong_kind_in_both_places_is_a_clear_error(layers):
    hz, rel, _, found = layers
    with pytest.raises(SchemaError, match=r"hazards looks like releases.*released_on") as info:
        mm.progress(rel, rel)
    assert "progress(hazards, releases, districts, ...)" in str(info.value)
    with pytest.raises(SchemaError, match=r"hazards looks like items.*found_on"):
        mm.progress(found, rel)
    with pytest.raises(SchemaError, match=r"releases looks like items"):
        mm.progress(hazards=hz, releases=found)
    with pytest.raises(SchemaError, match=r"items looks like releases"):
        mm.progress(hz, rel, items=rel)


def test_progress_needs_releases(layers):
    hz, *_ = layers
    with pytest.raises(TypeError, match="needs releases"):
        mm.progress(hz)


# --- accuracy -----------------------------------------------------------------------


def test_accuracy_new_order_and_keywords_agree_without_warning(layers):
    hz, rel, _, found = layers
    new = _no_warning(lambda: mm.accuracy(hz, rel, found, search_m=300))
    named = _no_warning(lambda: mm.accuracy(items=found, hazards=hz, releases=rel, search_m=300))
    pd.testing.assert_frame_equal(new, named)
    assert new[s.SEARCHED_SHARE].notna().all()  # releases were used
    without = _no_warning(lambda: mm.accuracy(hz, None, found, search_m=300))
    pd.testing.assert_frame_equal(
        without, _no_warning(lambda: mm.accuracy(hz, items=found, search_m=300))
    )
    assert without[s.SEARCHED_SHARE].isna().all()


@pytest.mark.parametrize(
    "old_call",
    [
        lambda hz, rel, it: mm.accuracy(hz, it, rel, search_m=300),
        lambda hz, rel, it: mm.accuracy(hz, it, releases=rel, search_m=300),
    ],
    ids=["positional", "releases-keyword"],
)
def test_accuracy_old_order_same_result_and_warns(layers, old_call):
    hz, rel, _, found = layers
    new = _no_warning(lambda: mm.accuracy(hz, rel, found, search_m=300))
    old, warning = _deprecated(lambda: old_call(hz, rel, found))
    pd.testing.assert_frame_equal(old, new)
    assert "accuracy(hazards, releases, items, ...)" in str(warning.message)
    assert warning.filename == THIS_FILE


def test_accuracy_old_order_without_releases(layers):
    hz, _, _, found = layers
    new = _no_warning(lambda: mm.accuracy(hz, items=found))
    old, warning = _deprecated(lambda: mm.accuracy(hz, found))
    pd.testing.assert_frame_equal(old, new)
    assert warning.filename == THIS_FILE


def test_assigned_devices_old_order(layers):
    hz, rel, _, found = layers
    new = _no_warning(lambda: assigned_devices(hz, rel, found, search_m=300))
    old, _ = _deprecated(lambda: assigned_devices(hz, found, rel, search_m=300))
    pd.testing.assert_frame_equal(pd.DataFrame(old), pd.DataFrame(new))


def test_accuracy_wrong_kind_in_both_places_is_a_clear_error(layers):
    hz, rel, _, found = layers
    with pytest.raises(SchemaError, match=r"releases looks like hazards") as info:
        mm.accuracy(hz, hz, found)
    assert "accuracy(hazards, releases, items, ...)" in str(info.value)
    with pytest.raises(SchemaError, match=r"hazards looks like items"):
        mm.accuracy(found, rel, found)
    with pytest.raises(SchemaError, match=r"items looks like releases"):
        mm.accuracy(hz, items=rel)
    with pytest.raises(TypeError, match="needs items"):
        mm.accuracy(hz, rel)


def test_a_layer_given_twice_is_still_a_type_error(layers):
    hz, rel, _, found = layers
    with pytest.raises(TypeError, match="multiple values"):
        mm.accuracy(hz, rel, found, hazards=hz)
