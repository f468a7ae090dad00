"""The chunked local engine and the Dask engine give the unchunked figures."""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pytest
import shapely
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import minemap as mm
from minemap import datasets, engine
from minemap import schema as s
from minemap.cli import main
from tests import test_contamination
from tests.common import box, districts, hazards, releases

RTOL = 1e-9


def _figures(frame):
    return frame.select_dtypes("number").to_numpy(dtype=float)


def assert_same(a, b) -> None:
    """Same rows in the same order, figures within 1e-9 relative, same remaining ground.

    Relative to the row's largest figure: a record's counted-once remaining
    ground may be nothing, give or take the rounding of sums of its larger
    parts.
    """
    assert a[s.HAZARD_ID].tolist() == b[s.HAZARD_ID].tolist()
    assert a[s.DISTRICT].tolist() == b[s.DISTRICT].tolist()
    fa, fb = _figures(a), _figures(b)
    scale = np.maximum(np.abs(fa).max(axis=1, initial=0.0), np.abs(fb).max(axis=1, initial=0.0))
    off = np.abs(fa - fb) > RTOL * scale[:, None] + 1e-12
    rows, cols = np.nonzero(off)
    assert not off.any(), f"rows {rows[:5]}, columns {cols[:5]}: {fa[off][:5]} vs {fb[off][:5]}"
    # The same vertices (to ~1 mm), not just the same areas. (No overlay here:
    # GEOS can raise on two nearly equal polygons.)
    same = shapely.equals_exact(
        shapely.normalize(a.geometry.to_numpy()), shapely.normalize(b.geometry.to_numpy()), 1e-8
    )
    assert same.all()


@pytest.fixture(scope="module")
def sample():
    hz = datasets.hazards()
    # Every third record: the sample's overlaps and boundary crossings, in a second or so.
    return hz.iloc[::3].reset_index(drop=True), datasets.releases(), datasets.districts()


@pytest.fixture(scope="module")
def unchunked(sample):
    hz, rel, ds = sample
    return mm.remaining(hz, rel, ds, engine="local", chunk_size=len(hz))


@pytest.fixture(scope="module")
def dask_client():
    distributed = pytest.importorskip("distributed")
    with warnings.catch_warnings():
        # Starting a cluster may warn about ports and event loops; none of it is ours.
        warnings.simplefilter("ignore")
        cluster = distributed.LocalCluster(
            processes=False, n_workers=1, threads_per_worker=2, dashboard_address=":0"
        )
        client = distributed.Client(cluster)
    yield client
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        client.close()
        cluster.close()


# --- chunks --------------------------------------------------------------------


@pytest.mark.parametrize("size", [1, 7, 100])
def test_chunks_cover_every_row_once(size):
    geoms = np.array([box(x, y, x + 5, y + 5) for x in range(0, 90, 10) for y in range(0, 50, 10)])
    parts = engine.chunks(geoms, size)
    rows = np.concatenate(parts)
    assert sorted(rows.tolist()) == list(range(len(geoms)))
    assert all(len(p) <= size for p in parts)
    assert all((np.diff(p) > 0).all() for p in parts)


def test_hilbert_chunks_are_spatially_compact():
    geoms = np.array([box(x, y, x + 1, y + 1) for x in range(64) for y in range(64)])
    parts = engine.chunks(geoms, 64)
    # A Hilbert chunk of 64 unit cells is an 8 x 8 block, far smaller than a row of 64.
    spans = [np.ptp([g.centroid.x for g in geoms[p]]) for p in parts]
    assert max(spans) <= 8


@pytest.mark.parametrize("size", [1, 7])
def test_chunked_equals_unchunked_on_the_sample(sample, unchunked, size):
    hz, rel, ds = sample
    assert_same(mm.remaining(hz, rel, ds, chunk_size=size), unchunked)


def test_single_thread_equals_two_threads(sample, unchunked, monkeypatch):
    hz, rel, ds = sample
    monkeypatch.setattr(engine, "WORKERS", 1)
    assert_same(mm.remaining(hz, rel, ds, chunk_size=50), unchunked)


@st.composite
def overlapping_scenes(draw):
    coords = st.integers(0, 24).map(lambda v: v * 40.0)
    sizes = st.integers(1, 12).map(lambda v: v * 40.0)

    def rect():
        return st.builds(lambda x, y, w, h: box(x, y, x + w, y + h), coords, coords, sizes, sizes)

    hz = draw(st.lists(rect(), min_size=1, max_size=14))
    rel = draw(st.lists(rect(), max_size=10))
    split_x = draw(coords) + 20.0
    ds = districts(["W", "E"], [box(-10, -10, split_x, 1500), box(split_x, -10, 1500, 1500)])
    return hazards(*hz), releases(*rel), ds, draw(st.integers(1, len(hz)))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(overlapping_scenes())
def test_chunking_never_changes_the_figures(scene):
    hz, rel, ds, size = scene
    whole = mm.remaining(hz, rel, ds, chunk_size=len(hz))
    assert_same(mm.remaining(hz, rel, ds, chunk_size=size), whole)
    plain = mm.by_district(hz, rel, chunk_size=len(hz))
    chunked = mm.by_district(hz, rel, chunk_size=size)
    np.testing.assert_allclose(_figures(chunked), _figures(plain), rtol=RTOL, atol=1e-12)


def test_counted_once_sees_earlier_records_in_other_chunks():
    # Far-apart records put H1 and H3 in different chunks; H3 repeats H1's ground.
    hz = hazards(box(0, 0, 100, 100), box(5000, 0, 5100, 100), box(0, 0, 100, 100))
    table = mm.by_district(hz, releases(), chunk_size=1)
    assert table[s.MAPPED_AREA_HA].sum() == pytest.approx(2.0, rel=1e-7)


# --- the exact and property tests of the core, on other engines ----------------

CORE_TESTS = sorted(name for name in vars(test_contamination) if name.startswith("test_"))


@pytest.mark.slow
@pytest.mark.parametrize("name", CORE_TESTS)
def test_core_tests_pass_with_one_hazard_per_chunk(name, monkeypatch):
    monkeypatch.setattr(engine, "DEFAULT_CHUNK_SIZE", 1)
    getattr(test_contamination, name)()


@pytest.mark.slow
@pytest.mark.parametrize("name", CORE_TESTS)
def test_core_tests_pass_on_dask(name, monkeypatch, dask_client):
    monkeypatch.setattr(engine, "DEFAULT_ENGINE", "dask")
    monkeypatch.setattr(engine, "DEFAULT_SCHEDULER", dask_client)
    monkeypatch.setattr(engine, "DEFAULT_CHUNK_SIZE", 2)
    getattr(test_contamination, name)()


# --- Dask ----------------------------------------------------------------------


@pytest.mark.parametrize("size", [60, 10_000])
def test_dask_equals_local(sample, unchunked, dask_client, size):
    hz, rel, ds = sample
    out = mm.remaining(hz, rel, ds, engine="dask", scheduler=dask_client, chunk_size=size)
    assert_same(out, unchunked)


def test_dask_by_scheduler_address(sample, unchunked, dask_client):
    hz, rel, ds = sample
    address = dask_client.scheduler.address
    out = mm.remaining(hz, rel, ds, engine="dask", scheduler=address, chunk_size=300)
    assert_same(out, unchunked)


@pytest.mark.slow
def test_dask_without_a_scheduler_starts_and_stops_a_local_cluster():
    pytest.importorskip("distributed")
    # In a fresh process: this module's client would otherwise be found and used.
    code = """
import warnings
warnings.simplefilter("error")
import distributed
import minemap as mm
from tests.common import box, hazards, releases
hz = hazards(box(0, 0, 200, 100), box(100, 0, 300, 100), ap=[10, 30])
out = mm.by_district(hz, releases(box(150, 0, 250, 100)), engine="dask", chunk_size=1)
print(round(out["mapped_area_ha"].sum(), 6), round(out["released_area_ha"].sum(), 6))
try:
    distributed.default_client()
except ValueError:
    print("closed")
"""
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=120
    )
    assert out.stdout.split() == ["3.0", "1.0", "closed"], out.stderr


def test_dask_with_no_releases(dask_client):
    hz = hazards(box(0, 0, 100, 100))
    rem = mm.remaining(hz, releases(), engine="dask", scheduler=dask_client)
    assert rem[s.REMAINING_AREA_HA].iloc[0] == pytest.approx(1.0, rel=1e-7)


# --- options -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"engine": "spark"}, "not one of local, dask"),
        ({"scheduler": "tcp://127.0.0.1:1"}, "only used with engine='dask'"),
        ({"chunk_size": 0}, "at least 1"),
        ({"chunk_size": 2.5}, "whole number"),
    ],
)
def test_bad_engine_options_are_refused(options, message):
    with pytest.raises(ValueError, match=message):
        mm.remaining(hazards(box(0, 0, 1, 1)), releases(), **options)


def test_importing_minemap_does_not_import_dask():
    code = "import sys, minemap; print(any(m.startswith('dask') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def _sample_args(tmp_path):
    return [
        "remaining",
        "--hazards",
        str(datasets.get_path("hazards")),
        "--releases",
        str(datasets.get_path("releases")),
        "--districts",
        str(datasets.get_path("districts")),
        "-q",
        "--by-district",
    ]


def test_cli_dask_engine_writes_the_same_table(tmp_path, dask_client, monkeypatch):
    import pandas as pd

    runner = CliRunner()
    local = runner.invoke(main, [*_sample_args(tmp_path), str(tmp_path / "local.csv")])
    assert local.exit_code == 0, local.output
    # The CLI takes an address; the module's client stands in for a cluster here.
    address = dask_client.scheduler.address
    args = [*_sample_args(tmp_path), str(tmp_path / "dask.csv")]
    far = runner.invoke(main, [*args, "--engine", "dask", "--scheduler", address])
    assert far.exit_code == 0, far.output
    a, b = pd.read_csv(tmp_path / "local.csv"), pd.read_csv(tmp_path / "dask.csv")
    assert a[s.DISTRICT].tolist() == b[s.DISTRICT].tolist()
    np.testing.assert_allclose(_figures(a), _figures(b), rtol=RTOL)


def test_cli_scheduler_needs_the_dask_engine(tmp_path):
    result = CliRunner().invoke(
        main, [*_sample_args(tmp_path), str(tmp_path / "t.csv"), "--scheduler", "tcp://x:1"]
    )
    assert result.exit_code == 2
    assert "only used with --engine dask" in result.output
    assert not (tmp_path / "t.csv").exists()


def test_cli_chunk_size_must_be_positive(tmp_path):
    result = CliRunner().invoke(
        main, [*_sample_args(tmp_path), str(tmp_path / "t.csv"), "--chunk-size", "0"]
    )
    assert result.exit_code == 2
    assert "--chunk-size" in result.output


def test_dask_engine_without_dask_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "dask_geopandas", None)  # import fails as if missing
    with pytest.raises(mm.MinemapError, match=r"pip install 'minemap\[dask\]'"):
        mm.remaining(hazards(box(0, 0, 1, 1)), releases(), engine="dask")


def test_cells_on_dask_equal_the_local_threads(dask_client, monkeypatch):
    from minemap import contamination

    hz, rel, ds = datasets.hazards(), datasets.releases(), datasets.districts()
    monkeypatch.setattr(engine, "WORKERS", 2)
    local = contamination.ground(hz, rel, ds, chunk_size=40).cells
    on_dask = contamination.ground(hz, rel, ds, chunk_size=40, engine="dask").cells
    assert local["hazard"].tolist() == on_dask["hazard"].tolist()
    assert local["release"].tolist() == on_dask["release"].tolist()
    # The same kernel on the same polygons: the same figures, to the last digit.
    assert local["area_ha"].tolist() == on_dask["area_ha"].tolist()


def test_dask_and_local_threads_give_the_very_same_figures(sample, dask_client):
    hz, rel, ds = sample
    local = mm.remaining(hz, rel, ds, chunk_size=60)
    on_dask = mm.remaining(hz, rel, ds, engine="dask", scheduler=dask_client, chunk_size=60)
    # Each chunk's kernel gets the same pieces and releases in the same order.
    assert _figures(local).tolist() == _figures(on_dask).tolist()
    assert shapely.equals_exact(local.geometry.to_numpy(), on_dask.geometry.to_numpy(), 0).all()
