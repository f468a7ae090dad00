"""minemap.priorities: a hand-made ranking, the score's parts and the weights."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

import minemap as mm
from minemap import schema as s
from minemap.priorities import PARTS, contribution_column, part_column, priorities
from tests.common import LAEA, box, hazards, releases


def _points(*xy) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"name": [f"p{i}" for i in range(len(xy))]}, geometry=shapely.points(xy), crs=LAEA
    )


def _layout():
    # Three 100 x 100 m records (1 ha): A dense and by the village, B dense and far,
    # C sparse and by the village.
    hz = hazards(
        box(0, 0, 100, 100), box(10_000, 0, 10_100, 100), box(0, 300, 100, 400),
        ap=[50, 50, 2], ids=["A", "B", "C"],
    )  # fmt: skip
    village = _points((50, 200))
    road = gpd.GeoDataFrame(geometry=[shapely.LineString([(-500, 150), (500, 150)])], crs=LAEA)
    return hz, village, road


def test_hand_made_ranking_follows_density_and_distance():
    hz, village, road = _layout()
    ranked = priorities(hz, releases(), settlements=village, roads=road)
    assert ranked[s.HAZARD_ID].tolist() == ["A", "C", "B"]
    assert ranked[s.RANK].tolist() == [1, 2, 3]
    a = ranked.set_index(s.HAZARD_ID).loc["A"]
    assert a[s.DIST_SETTLEMENT_M] == pytest.approx(100, abs=0.01)
    assert a[s.DIST_ROAD_M] == pytest.approx(50, abs=0.01)
    assert a[s.MINES_PER_HA_EST] == pytest.approx(50, rel=1e-6)
    assert a[part_column("settlements")] == pytest.approx(np.exp(-100 / 2000), rel=1e-6)
    # With only density weighted, B (as dense as A) ties with A ahead of C.
    dense = priorities(
        hz,
        releases(),
        settlements=village,
        roads=road,
        weights={"settlements": 0, "roads": 0, "area": 0},
    )
    assert dense[s.HAZARD_ID].tolist()[-1] == "C"
    assert set(dense[s.HAZARD_ID].tolist()[:2]) == {"A", "B"}


def test_contributions_add_up_to_the_score_and_weights_are_normalised():
    hz, village, road = _layout()
    accidents = _points((9_990, 50), (10_050, 150), (0, 5_000))
    ranked = priorities(
        hz, releases(), settlements=village, roads=road, accidents=accidents, density=2.0
    )
    total = sum(ranked[contribution_column(p)] for p in PARTS)
    np.testing.assert_allclose(total, ranked[s.SCORE])
    assert ranked[s.SCORE].between(0, 1).all()
    assert ranked.set_index(s.HAZARD_ID).loc["B", s.ACCIDENTS_NEAR] == 2
    assert ranked.attrs["weights"]["density"] == 2.0
    assert ranked[s.SCORE].is_monotonic_decreasing


def test_missing_layers_are_left_out_of_the_score():
    hz, _, _ = _layout()
    ranked = priorities(hz, releases())
    assert set(ranked.attrs["weights"]) == {"density", "area"}
    assert ranked[part_column("roads")].isna().all()
    assert ranked[s.DIST_ROAD_M].isna().all()


def test_fully_released_records_are_not_ranked_and_inputs_unchanged():
    hz, village, _ = _layout()
    rel = releases(box(-10, -10, 110, 110))
    before = hz.copy()
    ranked = priorities(hz, rel, settlements=village)
    assert "A" not in ranked[s.HAZARD_ID].tolist()
    assert len(ranked) == 2
    assert hz.equals(before)


def test_bad_weights_are_refused():
    hz, _, _ = _layout()
    with pytest.raises(ValueError, match="unknown weight"):
        priorities(hz, releases(), weights={"beauty": 1})
    with pytest.raises(ValueError, match=">= 0"):
        priorities(hz, releases(), density=-1)
    with pytest.raises(ValueError, match="add up to 0"):
        priorities(hz, releases(), density=0, area=0)


def test_a_context_layer_without_crs_is_refused():
    hz, village, _ = _layout()
    with pytest.raises(mm.SchemaError, match="settlements"):
        priorities(hz, releases(), settlements=village.set_crs(None, allow_override=True))


def test_sample_ranking_has_a_score_for_every_remaining_record():
    from minemap import datasets

    folder = datasets.get_path("hazards").parent
    ranked = priorities(
        datasets.hazards(),
        datasets.releases(),
        settlements=gpd.read_file(folder / "settlements.geojson"),
        roads=gpd.read_file(folder / "roads.geojson"),
    )
    assert ranked[s.SCORE].notna().all()
    assert ranked[s.SCORE].is_monotonic_decreasing
    assert ranked[s.HAZARD_ID].is_unique
    assert ranked[s.DIST_SETTLEMENT_M].notna().all()
    settlements = gpd.read_file(folder / "settlements.geojson")
    assert settlements["synthetic"].all()
