"""Benchmark: remaining contamination per district, four ways, in one run.

    python benchmarks/bench_remaining.py --hazards 100000 --releases 50000

1. Generates seeded synthetic inputs shaped like the bundled sample (hazards a
   few hundred metres to a few km across, releases overlapping a third to a
   half of them, the real district polygons) and writes them as GeoPackage.
2. Runs, each as its own process, timed from start to exit, with its peak
   memory taken from ``os.wait4``'s rusage of that process:

   * ``minemap``: the whole ``minemap remaining ... --by-district`` command
     (read, validate, subtract, split, areas on the ellipsoid, write);
   * ``geopandas``: the usual way (``read_file``, ``overlay(how="difference")``,
     ``overlay`` with the districts, ``dissolve``, area in an equal-area CRS);
   * ``duckdb``: the same job in DuckDB spatial (``duckdb==1.5.5`` with the
     ``duckdb-extension-spatial`` package; see README.md);
   * ``floor``: reading the same inputs with pyogrio and Arrow and computing
     their areas.

3. Checks that the remaining area of every district agrees within 0.005 %
   and prints times, peak memory and ratios.

Each contender writes the per-district remaining area (counted once) to a CSV
in the work folder; those files are what is compared.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DISTRICTS = HERE.parent / "data" / "districts.geojson"
UNASSIGNED = "(unassigned)"
TOLERANCE = 5e-5  # 0.005 %


# --- inputs ------------------------------------------------------------------------


#: Layouts of the synthetic hazards. ``sample``: as in the bundled sample, where records
#: rarely overlap (about 4 % of them share ground with another; ground counted once is
#: 0.8 % less than the sum of the records' areas) and cover about a sixth of the land.
#: ``dense``: ground about twice covered, every record overlapping about three others
#: (a stress case for counting ground once, unlike any real national database).
LAYOUTS = ("sample", "dense")


def generate(n_hazards: int, n_releases: int, seed: int, folder: Path, layout: str = "sample"):
    """Write hazards.gpkg, releases.gpkg and districts.gpkg into ``folder``."""
    import geopandas as gpd
    import numpy as np
    import pandas as pd
    import pyproj
    import shapely

    rng = np.random.default_rng(seed)
    districts = gpd.read_file(DISTRICTS)[["district", "geometry"]]
    lon0, lat0 = districts.union_all().centroid.coords[0]
    laea = pyproj.CRS.from_proj4(
        f"+proj=laea +lat_0={lat0:.4f} +lon_0={lon0:.4f} +ellps=WGS84 +units=m +no_defs"
    )
    land = districts.to_crs(laea)
    minx, miny, maxx, maxy = land.total_bounds

    # Hazards: irregular octagons 200 m to 3 km across (log-uniform), elongated.
    span = np.exp(rng.uniform(np.log(200), np.log(3000), n_hazards))
    mean_area = float(np.mean(0.6 * span**2 * 0.65))
    # Hazards lie in and around the districts; beyond the density the layout asks
    # for, the region grows with the count.
    fill = 0.15 if layout == "sample" else 2.0
    side = max(maxx - minx, maxy - miny, np.sqrt(n_hazards * mean_area / fill))
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    x = cx + rng.uniform(-side / 2, side / 2, n_hazards)
    y = cy + rng.uniform(-side / 2, side / 2, n_hazards)
    k = 8
    angles = np.linspace(0, 2 * np.pi, k, endpoint=False)[None, :] + rng.uniform(
        0, 2 * np.pi, (n_hazards, 1)
    )
    aspect = rng.uniform(0.4, 1.0, (n_hazards, 1))
    radius = span[:, None] / 2 * rng.uniform(0.75, 1.0, (n_hazards, k))
    theta = rng.uniform(0, np.pi, (n_hazards, 1))
    u, v = radius * np.cos(angles), radius * np.sin(angles) * aspect
    dx = u * np.cos(theta) - v * np.sin(theta)
    dy = u * np.sin(theta) + v * np.cos(theta)

    def build(rows=None):
        rows = slice(None) if rows is None else rows
        ring = np.stack([x[rows, None] + dx[rows], y[rows, None] + dy[rows]], axis=-1)
        return shapely.polygons(np.concatenate([ring, ring[:, :1]], axis=1))

    # At a million records the region spans some 2,000 km: records whose lon/lat,
    # exchanged, fall near the districts would be (rightly) rejected as swapped.
    to_lonlat = pyproj.Transformer.from_crs(laea, "EPSG:4326", always_xy=True)
    west, south, east, north = districts.total_bounds + np.array([-0.5, -0.5, 0.5, 0.5])

    def mirrored(rows):
        lon, lat = to_lonlat.transform(x[rows], y[rows])
        return rows[(lat >= west) & (lat <= east) & (lon >= south) & (lon <= north)]

    hz_geoms = build()
    moved = np.arange(n_hazards)
    for _ in range(200):
        if layout == "sample":
            # Records apart from each other (moved until none overlaps)...
            near, other = shapely.STRtree(hz_geoms).query(hz_geoms[moved], predicate="intersects")
            crowded = moved[near[moved[near] != other]]
        else:
            crowded = np.empty(0, dtype=np.intp)
        moved = np.unique(np.r_[crowded, mirrored(moved)])
        if len(moved) == 0:
            break
        x[moved] = cx + rng.uniform(-side / 2, side / 2, len(moved))
        y[moved] = cy + rng.uniform(-side / 2, side / 2, len(moved))
        hz_geoms[moved] = build(moved)
    if layout == "sample":
        # ...then 2 % of them moved onto a neighbour, sharing part of its ground.
        over = np.flatnonzero(rng.random(n_hazards) < 0.02)
        partner = rng.integers(0, n_hazards, len(over))
        bearing = rng.uniform(0, 2 * np.pi, len(over))
        gap = rng.uniform(0.35, 0.6, len(over)) * (span[over] + span[partner]) / 2
        x[over] = x[partner] + gap * np.cos(bearing)
        y[over] = y[partner] + gap * np.sin(bearing)
        hz_geoms[over] = build(over)
    hz_geoms = _no_near_duplicates(hz_geoms, span, rng)
    hazards = gpd.GeoDataFrame(
        {
            "hazard_id": [f"H{i:07d}" for i in range(n_hazards)],
            "mines_ap": rng.integers(0, 200, n_hazards),
            "mines_at": rng.integers(0, 50, n_hazards),
            "classification": rng.choice(["SHA", "CHA"], n_hazards),
        },
        geometry=hz_geoms,
        crs=laea,
    )

    # Releases: rectangles over part of a hazard (a third to a half of hazards get some).
    touched = rng.choice(n_hazards, size=max(1, int(n_hazards * 0.42)), replace=False)
    target = rng.choice(touched, size=n_releases)
    bounds = shapely.bounds(hz_geoms[target])
    w, h = bounds[:, 2] - bounds[:, 0], bounds[:, 3] - bounds[:, 1]
    fx = rng.uniform(0.3, 0.9, n_releases)
    fy = rng.uniform(0.3, 0.9, n_releases)
    x0 = bounds[:, 0] + rng.uniform(-0.1, 1.0, n_releases) * w * (1 - fx)
    y0 = bounds[:, 1] + rng.uniform(-0.1, 1.0, n_releases) * h * (1 - fy)
    rel_geoms = shapely.box(x0, y0, x0 + fx * w, y0 + fy * h)
    days = rng.integers(0, 1500, n_releases)
    releases = gpd.GeoDataFrame(
        {
            "release_id": [f"R{i:07d}" for i in range(n_releases)],
            "released_on": pd.Timestamp("2021-01-01") + pd.to_timedelta(days, unit="D"),
            "method": rng.choice(["cancelled", "reduced", "cleared"], n_releases),
        },
        geometry=rel_geoms,
        crs=laea,
    )
    paths = {}
    for name, frame in (("hazards", hazards), ("releases", releases), ("districts", districts)):
        paths[name] = folder / f"{name}.gpkg"
        frame.to_crs("EPSG:4326").to_file(paths[name], engine="pyogrio", use_arrow=True)
    return paths


def _no_near_duplicates(geoms, span, rng):
    """Move records that would be near-copies of another (minemap validate rejects those)."""
    import numpy as np
    import shapely
    import shapely.affinity

    for _ in range(10):
        a, b = shapely.STRtree(geoms).query(geoms)
        keep = a < b
        a, b = a[keep], b[keep]
        # Only records whose centres are close can share half their ground.
        centre = shapely.get_coordinates(shapely.centroid(geoms))
        gap = np.hypot(*(centre[a] - centre[b]).T)
        close = gap < 0.5 * np.maximum(span[a], span[b])
        a, b = a[close], b[close]
        shared = shapely.area(shapely.intersection(geoms[a], geoms[b]))
        larger = np.maximum(shapely.area(geoms[a]), shapely.area(geoms[b]))
        moved = np.unique(b[shared > 0.5 * larger])
        if len(moved) == 0:
            return geoms
        shift = span[moved] * rng.uniform(1.0, 2.0, len(moved))
        geoms = geoms.copy()
        for i, d in zip(moved, shift, strict=True):
            geoms[i] = shapely.affinity.translate(geoms[i], xoff=d)
    return geoms


# --- the contenders (each runs in its own process) ---------------------------------


def _equal_area(folder: Path) -> str:
    """Lambert azimuthal equal-area on WGS84 centred on the hazards, as a careful user picks.

    Every contender measures in this one CRS. Different equal-area CRSs give
    the same area for a polygon, but not for the same list of vertices: an
    edge straight in one projection is a slightly different line in another,
    and along hundreds of kilometres of district boundary that moves more than
    0.005 % of a district's hazards across the line.
    """
    import pyogrio

    minx, miny, maxx, maxy = pyogrio.read_info(folder / "hazards.gpkg", force_total_bounds=True)[
        "total_bounds"
    ]
    lon0, lat0 = round((minx + maxx) / 2, 6), round((miny + maxy) / 2, 6)
    return (
        f"+proj=laea +lat_0={lat0:g} +lon_0={lon0:g} +x_0=0 +y_0=0 +ellps=WGS84 +units=m +no_defs"
    )


def _write_table(areas: dict, path: Path) -> None:
    path.write_text(json.dumps({str(k): float(v) for k, v in areas.items()}))


def run_geopandas(folder: Path) -> None:
    import geopandas as gpd

    hazards = gpd.read_file(folder / "hazards.gpkg", engine="pyogrio", use_arrow=True)
    releases = gpd.read_file(folder / "releases.gpkg", engine="pyogrio", use_arrow=True)
    districts = gpd.read_file(folder / "districts.gpkg", engine="pyogrio", use_arrow=True)
    crs = _equal_area(folder)
    hazards, releases, districts = (f.to_crs(crs) for f in (hazards, releases, districts))
    left = gpd.overlay(hazards, releases[["geometry"]], how="difference")
    pieces = gpd.overlay(left, districts, how="identity", keep_geom_type=True)
    pieces["district"] = pieces["district"].fillna(UNASSIGNED)
    per_district = pieces.dissolve(by="district")
    areas = per_district.area / 10_000.0
    pieces.to_crs("EPSG:4326").to_file(folder / "geopandas_remaining.gpkg", engine="pyogrio")
    areas.rename("remaining_area_ha").to_csv(folder / "geopandas_table.csv")
    _write_table(areas.to_dict(), folder / "geopandas.json")


_DUCKDB_SQL = """
CREATE TABLE h AS SELECT hazard_id, ST_Transform(geom, 'EPSG:4326', '{crs}', always_xy := true)
    AS geom FROM ST_Read('{folder}/hazards.gpkg');
CREATE TABLE r AS SELECT ST_Transform(geom, 'EPSG:4326', '{crs}', always_xy := true)
    AS geom FROM ST_Read('{folder}/releases.gpkg');
CREATE TABLE d AS SELECT district, ST_Transform(geom, 'EPSG:4326', '{crs}', always_xy := true)
    AS geom FROM ST_Read('{folder}/districts.gpkg');
CREATE TABLE rem AS
    WITH cut AS (
        SELECT h.hazard_id, ANY_VALUE(h.geom) AS geom, ST_Union_Agg(r.geom) AS cutter
        FROM h LEFT JOIN r ON ST_Intersects(h.geom, r.geom)
        GROUP BY h.hazard_id
    )
    SELECT hazard_id,
        CASE WHEN cutter IS NULL THEN geom ELSE ST_Difference(geom, cutter) END AS geom
    FROM cut;
CREATE TABLE pieces AS
    SELECT d.district, ST_Intersection(rem.geom, d.geom) AS geom
    FROM rem JOIN d ON ST_Intersects(rem.geom, d.geom)
    UNION ALL
    SELECT '{unassigned}' AS district,
        CASE WHEN ANY_VALUE(d.geom) IS NULL THEN ANY_VALUE(rem.geom)
             ELSE ST_Difference(ANY_VALUE(rem.geom), ST_Union_Agg(d.geom)) END AS geom
    FROM rem LEFT JOIN d ON ST_Intersects(rem.geom, d.geom)
    GROUP BY rem.hazard_id;
CREATE TABLE per_district AS
    SELECT district, ST_Area(ST_Union_Agg(geom)) / 10000.0 AS remaining_area_ha
    FROM pieces WHERE NOT ST_IsEmpty(geom) GROUP BY district;
"""


def run_duckdb(folder: Path) -> None:
    import duckdb
    import duckdb_extension_spatial

    extension = next(Path(duckdb_extension_spatial.__path__[0]).rglob("spatial.duckdb_extension"))
    con = duckdb.connect()
    con.execute(f"LOAD '{extension}'")
    con.execute(
        _DUCKDB_SQL.format(folder=folder.as_posix(), crs=_equal_area(folder), unassigned=UNASSIGNED)
    )
    con.execute(
        f"COPY (SELECT * FROM per_district) TO '{folder.as_posix()}/duckdb_table.csv' (HEADER)"
    )
    crs, where = _equal_area(folder), folder.as_posix()
    con.execute(
        f"COPY (SELECT district, ST_Transform(geom, '{crs}', 'EPSG:4326', always_xy := true) "
        f"AS geom FROM pieces) TO '{where}/duckdb_remaining.gpkg' "
        "WITH (FORMAT GDAL, DRIVER 'GPKG')"
    )
    rows = con.execute("SELECT district, remaining_area_ha FROM per_district").fetchall()
    _write_table(dict(rows), folder / "duckdb.json")


def run_floor(folder: Path) -> None:
    import geopandas as gpd

    total = 0.0
    for name in ("hazards", "releases", "districts"):
        frame = gpd.read_file(folder / f"{name}.gpkg", engine="pyogrio", use_arrow=True)
        total += float(frame.geometry.to_crs(_equal_area(folder)).area.sum())
    _write_table({"total": total}, folder / "floor.json")


def minemap_table(folder: Path) -> None:
    import pandas as pd

    table = pd.read_csv(folder / "minemap_table.csv")
    _write_table(
        dict(zip(table["district"], table["remaining_area_ha"], strict=True)),
        folder / "minemap.json",
    )


# --- the harness -------------------------------------------------------------------


def _measure(argv: list[str]) -> tuple[float, float, int]:
    """Run a process; wall seconds, peak resident memory in GiB, exit status."""
    start = time.perf_counter()
    # Contenders print their tables; only the figures here matter.
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    return seconds, usage.ru_maxrss / 2**20, process.returncode  # ru_maxrss is in KiB


def _compare(folder: Path, names: list[str]) -> list[str]:
    problems = []
    reference = json.loads((folder / "minemap.json").read_text())
    for name in names:
        other = json.loads((folder / f"{name}.json").read_text())
        for district in set(reference) | set(other):
            a, b = reference.get(district, 0.0), other.get(district, 0.0)
            if abs(a - b) > TOLERANCE * max(abs(a), abs(b)) and max(abs(a), abs(b)) > 1e-6:
                problems.append(f"{name}: {district}: {b:,.3f} ha vs minemap {a:,.3f} ha")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hazards", type=int, default=100_000)
    parser.add_argument("--releases", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument(
        "--layout",
        choices=LAYOUTS,
        default="sample",
        help="sample: records rarely overlap, as in the bundled sample; dense: ground twice "
        "covered (a stress case).",
    )
    parser.add_argument("--workdir", type=Path, default=Path("bench-work"))
    parser.add_argument(
        "--only",
        nargs="+",
        choices=["minemap", "geopandas", "duckdb", "floor"],
        default=["floor", "minemap", "geopandas", "duckdb"],
    )
    parser.add_argument(
        "--duckdb-python",
        default=sys.executable,
        help="Python of the environment that has duckdb==1.5.5 and duckdb-extension-spatial.",
    )
    parser.add_argument("--engine", default="local", help="minemap's --engine.")
    parser.add_argument(
        "--reuse", action="store_true", help="Use the inputs already in --workdir, if any."
    )
    parser.add_argument("--run", choices=["geopandas", "duckdb", "floor"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    folder = args.workdir.resolve()
    if args.run:
        {"geopandas": run_geopandas, "duckdb": run_duckdb, "floor": run_floor}[args.run](folder)
        return 0

    folder.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    names = ("hazards", "releases", "districts")
    if not (args.reuse and all((folder / f"{n}.gpkg").exists() for n in names)):
        generate(args.hazards, args.releases, args.seed, folder, args.layout)
    print(
        f"inputs ({args.layout} layout): {args.hazards:,} hazards, {args.releases:,} releases, "
        "12 district polygons "
        f"({time.perf_counter() - start:.1f} s to generate)",
        flush=True,
    )
    minemap_exe = shutil.which("minemap", path=str(Path(sys.executable).parent)) or "minemap"
    me = [sys.executable, str(Path(__file__).resolve()), "--workdir", str(folder), "--run"]
    commands = {
        "floor": [*me, "floor"],
        "minemap": [
            minemap_exe,
            "remaining",
            "--hazards",
            str(folder / "hazards.gpkg"),
            "--releases",
            str(folder / "releases.gpkg"),
            "--districts",
            str(folder / "districts.gpkg"),
            "-o",
            str(folder / "minemap_remaining.gpkg"),
            "--by-district",
            str(folder / "minemap_table.csv"),
            "--engine",
            args.engine,
            "--overwrite",
            "-q",
        ],
        "geopandas": [*me, "geopandas"],
        "duckdb": [args.duckdb_python, *me[1:], "duckdb"],
    }
    results = {}
    for name in args.only:
        print(f"running {name}...", file=sys.stderr, flush=True)
        seconds, gib, status = _measure(commands[name])
        if status != 0:
            print(f"{name} failed with exit status {status}", file=sys.stderr)
            return 1
        results[name] = (seconds, gib)
    ok = True
    others = [n for n in ("geopandas", "duckdb") if n in results]
    if "minemap" in results and others:
        minemap_table(folder)
        problems = _compare(folder, others)
        for problem in problems:
            print(f"DISAGREE {problem}")
        ok = not problems
        print(
            "answers agree within 0.005 % per district" if ok else "answers DISAGREE beyond 0.005 %"
        )

    print(f"\n{'contender':<10} {'seconds':>9} {'peak GiB':>9} {'vs minemap':>11}")
    for name, (seconds, gib) in results.items():
        ratio = seconds / results["minemap"][0] if "minemap" in results else float("nan")
        print(f"{name:<10} {seconds:>9.2f} {gib:>9.2f} {ratio:>10.2f}x")
    if "minemap" in results:
        per = results["minemap"][0] / args.hazards * 1e6
        print(f"\nminemap: {per:.1f} µs per hazard")
        if "floor" in results:
            print(f"minemap / floor: {results['minemap'][0] / results['floor'][0]:.2f}x")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
