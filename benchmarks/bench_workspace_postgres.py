"""Benchmark: `minemap remaining --workspace` from PostgreSQL + PostGIS against a GeoPackage.

    python benchmarks/bench_workspace_postgres.py --hazards 1000000 --releases 500000

1. Builds a GeoPackage workspace of N hazards (octagons a few hundred metres across,
   text in Azerbaijani) and M releases (rectangles inside them), in two imports, and
   copies it into a throwaway PostgreSQL server started for the run (as
   tests/pgserver.py does: 127.0.0.1 only, a free port; PostgreSQL and PostGIS from
   Debian's packages, e.g. postgresql-15-postgis-3).
2. Times, in the same run, best of ``--repeat`` each, alternating the two:

   * ``read``: ``workspace.read_workspace_layers(W, ["hazards", "releases",
     "districts"])`` in this process: everything a command reads;
   * ``remaining``: the whole command ``minemap remaining --workspace W`` as its own
     process (read, compute, print the table).

3. Prints the times and the ratios PostgreSQL / GeoPackage (the target: within 1.5x).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))


def build(folder: Path, hazards: int, releases: int) -> Path:
    import geopandas as gpd
    import numpy as np
    import shapely

    from minemap import schema as s
    from minemap import workspace

    rng = np.random.default_rng(4)
    i = np.arange(hazards)
    x, y = 46.0 + (i % 1000) * 0.004, 39.0 + (i // 1000) * 0.004
    angles = np.linspace(0, 2 * np.pi, 9)[:-1]
    radius = 0.0012 + rng.random(hazards)[:, None] * 0.0005
    rings = np.stack(
        [x[:, None] + radius * np.cos(angles), y[:, None] + radius * np.sin(angles)], -1
    )
    gpd.GeoDataFrame(
        {
            s.HAZARD_ID: [f"AGM-{k:07d}" for k in i],
            s.MINES_AP: i % 50,
            s.MINES_AT: i % 7,
            s.STATUS: ["open"] * hazards,
            "note": [f"Ağdam rayonu, sahə {k}" for k in i],
        },
        geometry=shapely.polygons(rings),
        crs="EPSG:4326",
    ).to_file(folder / "hazards.gpkg", layer="hazards")
    j = rng.choice(hazards, size=releases, replace=False)
    gpd.GeoDataFrame(
        {
            s.RELEASE_ID: [f"R-{k:07d}" for k in range(releases)],
            s.RELEASED_ON: ["2024-01-05"] * releases,
            s.METHOD: ["cleared"] * releases,
        },
        geometry=shapely.box(x[j] - 5e-4, y[j] - 5e-4, x[j] + 5e-4, y[j] + 5e-4),
        crs="EPSG:4326",
    ).to_file(folder / "releases.gpkg", layer="releases")
    ws = workspace.create_workspace(folder / "ws.gpkg")
    for kind, source, day in (("hazards", "handover", "2024-01-01"), ("releases", "ANAMA", "")):
        started = time.perf_counter()
        done = workspace.add_file(
            ws, kind, folder / f"{kind}.gpkg", source=source, imported_at=day or "2024-01-02"
        )
        print(f"  added {done.kept:,} {kind} in {time.perf_counter() - started:.0f} s")
    return ws


def best(repeat: int, jobs: dict) -> dict[str, float]:
    """Each job's best time, the jobs alternating (so that load hits both alike)."""
    times: dict[str, list[float]] = {name: [] for name in jobs}
    for _ in range(repeat):
        for name, job in jobs.items():
            started = time.perf_counter()
            job()
            times[name].append(time.perf_counter() - started)
    return {name: min(values) for name, values in times.items()}


def command(location) -> None:
    subprocess.run(
        [sys.executable, "-m", "minemap.cli", "remaining", "--workspace", str(location), "-q"],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def main() -> None:
    from minemap import workspace
    from tests import pgserver

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hazards", type=int, default=1_000_000)
    parser.add_argument("--releases", type=int, default=500_000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--read-only", action="store_true", help="time the reads only")
    args = parser.parse_args()
    server = pgserver.Server().init().prepare()
    try:
        with tempfile.TemporaryDirectory() as folder:
            folder = Path(folder)
            started = time.perf_counter()
            print(f"building: {args.hazards:,} hazards, {args.releases:,} releases")
            gpkg = build(folder, args.hazards, args.releases)
            url = server.database("bench")
            copied = time.perf_counter()
            workspace.copy_workspace(gpkg, url)
            print(
                f"  copied into PostgreSQL in {time.perf_counter() - copied:.0f} s "
                f"(built in {time.perf_counter() - started:.0f} s; "
                f"GeoPackage {gpkg.stat().st_size / 1e6:.0f} MB)"
            )
            server.sql("VACUUM ANALYZE", database="bench")
            kinds = ["hazards", "releases", "districts"]
            reads = best(
                args.repeat,
                {
                    "gpkg": lambda: workspace.read_workspace_layers(gpkg, kinds),
                    "postgres": lambda: workspace.read_workspace_layers(url, kinds),
                },
            )
            print(f"read      GeoPackage {reads['gpkg']:7.1f} s")
            print(
                f"read      PostgreSQL {reads['postgres']:7.1f} s  "
                f"(ratio {reads['postgres'] / reads['gpkg']:.2f})"
            )
            if args.read_only:
                return
            os.environ.setdefault("PYTHONPATH", str(HERE.parent))
            runs = best(
                args.repeat, {"gpkg": lambda: command(gpkg), "postgres": lambda: command(url)}
            )
            print(f"remaining GeoPackage {runs['gpkg']:7.1f} s")
            print(
                f"remaining PostgreSQL {runs['postgres']:7.1f} s  "
                f"(ratio {runs['postgres'] / runs['gpkg']:.2f}; target within 1.5)"
            )
    finally:
        server.remove()


if __name__ == "__main__":
    main()
