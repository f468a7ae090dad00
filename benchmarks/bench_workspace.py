"""Benchmark: what the workspace's checksums cost a reader, and a writer.

    python benchmarks/bench_workspace.py --records 100000

1. Builds a workspace of N hazards (octagons, a few hundred metres across, with
   text in Azerbaijani) and N/3 releases, in two imports.
2. Times, each the best of ``--repeat`` runs, in the same process:

   * ``read``: ``workspace.read_workspace_layers(ws, ["hazards", "releases"])``, all
     of it: every row read, every table's checksum and every geometry checked;
   * ``checksums``: the part of it that verifies the checksums (serialising the
     rows and hashing them), alone;
   * ``gdal``: ``pyogrio.read_dataframe`` of the same two layers (the views),
     with nothing checked: the alternative;
   * ``add``: adding a small file of districts (``integrity_check``, every
     checksum verified, the new rows' checksums made, ``quick_check``);
   * ``verify``: ``workspace.verify_workspace`` (what ``minemap log --check`` does).

3. Prints the times and the ratios: checksums / read, read / gdal.
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DISTRICTS = HERE.parent / "tests" / "data" / "small_districts.geojson"


def build(folder: Path, n: int):
    import geopandas as gpd
    import numpy as np
    import shapely

    from minemap import schema as s
    from minemap import workspace as store

    rng = np.random.default_rng(4)
    i = np.arange(n)
    x, y = 46.0 + (i % 400) * 0.004, 39.0 + (i // 400) * 0.004
    angles = np.linspace(0, 2 * np.pi, 9)[:-1]
    radius = 0.0012 + rng.random(n)[:, None] * 0.0005
    rings = np.stack(
        [x[:, None] + radius * np.cos(angles), y[:, None] + radius * np.sin(angles)], -1
    )
    hazards = gpd.GeoDataFrame(
        {
            s.HAZARD_ID: [f"AGM-{k:06d}" for k in i],
            s.MINES_AP: i % 50,
            s.MINES_AT: i % 7,
            s.STATUS: ["open"] * n,
            "note": [f"Ağdam rayonu, sahə {k}" for k in i],
        },
        geometry=shapely.polygons(rings),
        crs="EPSG:4326",
    )
    hazards.to_file(folder / "hazards.gpkg", layer="hazards")
    m = max(1, n // 3)
    releases = gpd.GeoDataFrame(
        {
            s.RELEASE_ID: [f"R-{k:06d}" for k in range(m)],
            s.RELEASED_ON: ["2024-01-05"] * m,
            s.METHOD: ["cleared"] * m,
        },
        geometry=shapely.box(x[:m] - 5e-4, y[:m] - 5e-4, x[:m] + 5e-4, y[:m] + 5e-4),
        crs="EPSG:4326",
    )
    releases.to_file(folder / "releases.gpkg", layer="releases")
    ws = store.create_workspace(folder / "ws.gpkg")
    store.add_file(
        ws, "hazards", folder / "hazards.gpkg", source="handover", imported_at="2024-01-01"
    )
    store.add_file(
        ws, "releases", folder / "releases.gpkg", source="ANAMA", imported_at="2024-01-02"
    )
    return ws


def best(repeat: int, job) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        job()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    import shutil

    import pyogrio

    from minemap import workspace as store
    from minemap.workspace import integrity

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        started = time.perf_counter()
        ws = build(folder, args.records)
        print(
            f"workspace: {args.records:,} hazards, {max(1, args.records // 3):,} releases, "
            f"{ws.stat().st_size / 1e6:.1f} MB (built in {time.perf_counter() - started:.1f} s)"
        )
        layers = ["hazards", "releases"]

        def checksums():
            with sqlite3.connect(ws) as con:
                for table in (store.history_table(k) for k in layers):
                    columns, rows, geoms = integrity.read_table(con, table)
                    started = time.perf_counter()
                    integrity.table_checksum(columns, rows, geoms)
                    spent.append(time.perf_counter() - started)

        spent: list[float] = []
        read = best(args.repeat, lambda: store.read_workspace_layers(ws, layers))
        for _ in range(args.repeat):
            checksums()
        hashing = min(sum(spent[i : i + 2]) for i in range(0, len(spent), 2))
        gdal = best(
            args.repeat,
            lambda: [pyogrio.read_dataframe(ws, layer=k, use_arrow=True) for k in layers],
        )

        def add():
            copy = folder / "copy.gpkg"
            shutil.copy(ws, copy)
            started = time.perf_counter()
            store.add_file(copy, "districts", DISTRICTS, imported_at="2024-01-03")
            spent_add.append(time.perf_counter() - started)
            copy.unlink()

        spent_add: list[float] = []
        for _ in range(args.repeat):
            add()
        verify = best(args.repeat, lambda: store.verify_workspace(ws))
        print(f"read (all checks)   {read:7.2f} s")
        print(f"  of which checksums {hashing:6.2f} s  ({hashing / read:.0%} of the read)")
        print(f"gdal (no checks)    {gdal:7.2f} s  (read / gdal = {read / gdal:.2f})")
        print(f"add a small file    {min(spent_add):7.2f} s")
        print(f"verify_workspace    {verify:7.2f} s")


if __name__ == "__main__":
    main()
