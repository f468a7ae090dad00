"""Make data/settlements.geojson and data/roads.geojson: a SYNTHETIC context layer.

For the ``minemap priorities`` demo only: the places and roads are made up (named
"Synthetic settlement NN", "Synthetic road NN"), not real ones. Settlements are
random points inside the real district polygons of ``data/districts.geojson``
(3-6 per district); roads join each settlement to its nearest neighbour and to
the nearest settlement of the next district, as straight segments. Every feature
carries ``synthetic: true``. The output is deterministic for a seed.

Usage (from the repository's root; ``--data`` is the folder holding the sample's
``districts.geojson``)::

    python tools/sample/make_context.py [--seed 11] [--data data/] [--out data/]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pyproj
import shapely

#: The repository's data/ folder: the bundled sample.
DATA = Path(__file__).resolve().parents[2] / "data"
LAEA = "+proj=laea +lat_0=39.8 +lon_0=46.8 +ellps=WGS84 +units=m +no_defs"
NOTE = (
    "SYNTHETIC: made up by tools/sample/make_context.py for the priorities demo; not a real place"
)


def _points_in(polygon, n: int, rng: np.random.Generator) -> np.ndarray:
    minx, miny, maxx, maxy = polygon.bounds
    shapely.prepare(polygon)
    found = np.zeros((0, 2))
    while len(found) < n:
        xy = rng.uniform([minx, miny], [maxx, maxy], size=(64, 2))
        found = np.concatenate([found, xy[shapely.contains_xy(polygon, xy[:, 0], xy[:, 1])]])
    return found[:n]


def make(seed: int = 11, data: Path = DATA) -> tuple[dict, dict]:
    rng = np.random.default_rng(seed)
    to_m = pyproj.Transformer.from_crs("EPSG:4326", LAEA, always_xy=True)
    to_ll = pyproj.Transformer.from_crs(LAEA, "EPSG:4326", always_xy=True)
    districts = json.loads((data / "districts.geojson").read_text(encoding="utf-8"))["features"]
    names, points, owner = [], [], []
    for d in districts:
        geom = shapely.from_geojson(json.dumps(d["geometry"]))
        geom = shapely.transform(geom, lambda xy: np.column_stack(to_m.transform(*xy.T)))
        # Keep settlements off the boundary so each lies well inside its district.
        inner = shapely.buffer(geom, -1000)
        n = int(rng.integers(3, 7))
        xy = _points_in(inner if not inner.is_empty else geom, n, rng)
        points.append(xy)
        owner += [d["properties"]["district"]] * n
    xy = np.concatenate(points)
    names = [f"Synthetic settlement {i:02d}" for i in range(1, len(xy) + 1)]
    lon, lat = to_ll.transform(xy[:, 0], xy[:, 1])
    settlements = [
        {
            "type": "Feature",
            "properties": {"name": name, "district": d, "synthetic": True, "note": NOTE},
            "geometry": {"type": "Point", "coordinates": [round(x, 6), round(y, 6)]},
        }
        for name, d, x, y in zip(names, owner, lon.tolist(), lat.tolist(), strict=True)
    ]
    # Roads: each settlement to its nearest neighbour, and to the nearest one in another district.
    dist = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    np.fill_diagonal(dist, np.inf)
    owner_arr = np.array(owner)
    edges = set()
    for i in range(len(xy)):
        edges.add(tuple(sorted((i, int(np.argmin(dist[i]))))))
        other = np.where(owner_arr != owner_arr[i], dist[i], np.inf)
        edges.add(tuple(sorted((i, int(np.argmin(other))))))
    roads = []
    for k, (i, j) in enumerate(sorted(edges), start=1):
        coords = [[round(lon[i], 6), round(lat[i], 6)], [round(lon[j], 6), round(lat[j], 6)]]
        roads.append(
            {
                "type": "Feature",
                "properties": {"name": f"Synthetic road {k:02d}", "synthetic": True, "note": NOTE},
                "geometry": {"type": "LineString", "coordinates": coords},
            }
        )
    return (
        {"type": "FeatureCollection", "name": "settlements", "features": settlements},
        {"type": "FeatureCollection", "name": "roads", "features": roads},
    )


def _write(collection: dict, path: Path) -> None:
    lines = [
        json.dumps(f, ensure_ascii=False, separators=(",", ":")) for f in collection["features"]
    ]
    head = f'{{"type":"FeatureCollection","name":"{collection["name"]}",\n"features":[\n'
    path.write_text(head + ",\n".join(lines) + "\n]}\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--out", type=Path, default=DATA)
    args = parser.parse_args()
    settlements, roads = make(args.seed, args.data)
    args.out.mkdir(parents=True, exist_ok=True)
    _write(settlements, args.out / "settlements.geojson")
    _write(roads, args.out / "roads.geojson")
    print(
        f"SYNTHETIC context: {len(settlements['features'])} settlements, "
        f"{len(roads['features'])} roads written to {args.out}"
    )


if __name__ == "__main__":
    main()
