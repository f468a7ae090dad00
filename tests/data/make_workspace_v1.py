"""Make ``workspace_v1.gpkg``: a small workspace in the first workspace schema (version 1).

The file is frozen: it was written once, by the first version of minemap.store,
so that every later version is tested against it (``tests/test_store.py`` reads
it and migrates it). Do not remake it with a later minemap.

    python tests/data/make_workspace_v1.py
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from minemap import schema as s
from minemap import workspace as store

HERE = Path(__file__).parent


def main() -> None:
    target = HERE / "workspace_v1.gpkg"
    assert store.SCHEMA_VERSION == 1, "this file is the first schema's: do not remake it"
    store.create_workspace(target, overwrite=True)
    store.add_file(target, "districts", HERE / "small_districts.geojson", imported_at="2024-01-01")
    store.add_file(
        target,
        "hazards",
        HERE / "small_hazards.geojson",
        source="handover",
        imported_at="2024-01-01T12:00",
    )
    store.add_file(
        target,
        "releases",
        HERE / "small_releases.geojson",
        source="ANAMA",
        imported_at="2024-01-08",
    )
    with tempfile.TemporaryDirectory() as folder:
        corrected = gpd.read_file(HERE / "small_hazards.geojson")
        corrected.loc[corrected[s.HAZARD_ID] == "AGM-1", s.MINES_AP] += 5
        more = gpd.GeoDataFrame(
            {
                s.HAZARD_ID: ["NEW-1", "BAD-1"],
                s.MINES_AP: [4, -1],
                s.MINES_AT: [0, 0],
                s.SOURCE: ["Handover map A", "Handover map A"],
            },
            geometry=[
                shapely.box(46.90, 40.00, 46.91, 40.01),
                shapely.box(46.92, 40.00, 46.93, 40.01),
            ],
            crs=s.CANONICAL_CRS,
        )
        corrected = pd.concat([corrected, more], ignore_index=True)
        path = Path(folder) / "hazards_corrected.geojson"
        corrected.to_file(path)
        store.add_file(target, "hazards", path, source="handover", imported_at="2024-01-15")


if __name__ == "__main__":
    main()
