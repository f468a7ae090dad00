"""Make data/items.geojson: SYNTHETIC devices found, for the map-accuracy demo.

Devices are placed in the reduced and cleared ground of ``data/releases.geojson``
that works on a recorded hazard: a share (``--share``, 20 % by default, 1 % for
UXO) of the AP, AT and UXO counts each release reports, to keep the file
small. Most devices lie inside their record, a few (5 %) a few metres to tens of
metres off it (GPS, hand-drawn edges). Two kinds of systematic error are built
in so that ``minemap accuracy`` has something to find:

* a *wrong reference point* for a whole source map: each source map is shifted,
  with probability 0.25, by one vector of 40-150 m at a fixed bearing: its
  minefields really lie that far off the records; for each release on such a
  record, its devices are found anywhere in the shifted minefield (having found
  mines off the record, teams clear the minefield where it really is);
* single records shifted the same way (5 % of the other records).

The true shifts come from :func:`shifts` (same seed, same result), so tests can
check what the measure recovers. The output is deterministic for a seed.

Usage (from the repository's root; ``--data`` is the folder holding the sample's
``hazards.geojson`` and ``releases.geojson``)::

    python tools/sample/make_items.py [--seed 7] [--share 0.2] [--data data/]
                                      [--out data/items.geojson]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pyproj
import shapely
import shapely.affinity

#: The repository's data/ folder: the bundled sample.
DATA = Path(__file__).resolve().parents[2] / "data"
#: The sample's working CRS (see data/README.md).
LAEA = "+proj=laea +lat_0=39.8 +lon_0=46.8 +ellps=WGS84 +units=m +no_defs"
MODELS = {
    "AP": ("PMN-2", "PMN", "OZM-72", "POMZ-2M", "PFM-1"),
    "AT": ("TM-62M", "TM-57", "TM-46", "TM-62P3"),
    "UXO": ("82 mm mortar", "120 mm mortar", "RPG-7 rocket", "F-1 grenade", "122 mm shell"),
}
_GEOD = pyproj.Geod(ellps="WGS84")


def _features(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["features"]


def _project(features: list[dict], transformer: pyproj.Transformer) -> np.ndarray:
    geoms = shapely.from_geojson([json.dumps(f["geometry"]) for f in features])
    return shapely.transform(geoms, lambda xy: np.column_stack(transformer.transform(*xy.T)))


def shifts(seed: int = 7, hazards_path: Path = DATA / "hazards.geojson") -> dict[str, tuple]:
    """The true shift of each shifted record: ``{hazard_id: (distance_m, bearing_deg)}``."""
    rng = np.random.default_rng(seed)
    hazards = _features(hazards_path)
    sources = sorted({h["properties"]["source"] for h in hazards})
    by_source = {}
    for source in sources:
        if rng.random() < 0.25:
            by_source[source] = (float(rng.uniform(40, 150)), float(rng.uniform(0, 360)))
    out = {}
    for h in hazards:
        p = h["properties"]
        if p["source"] in by_source:
            out[p["hazard_id"]] = by_source[p["source"]]
        elif rng.random() < 0.05:
            out[p["hazard_id"]] = (float(rng.uniform(40, 150)), float(rng.uniform(0, 360)))
    return out


def _sample_in(polygon, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` uniform points inside a polygon (rejection sampling on its bounds)."""
    if n == 0 or polygon.is_empty:
        return np.zeros((0, 2))
    minx, miny, maxx, maxy = polygon.bounds
    shapely.prepare(polygon)
    found = []
    while sum(len(f) for f in found) < n:
        xy = rng.uniform([minx, miny], [maxx, maxy], size=(max(4 * n, 16), 2))
        found.append(xy[shapely.contains_xy(polygon, xy[:, 0], xy[:, 1])])
    return np.concatenate(found)[:n]


def make(seed: int = 7, share: float = 0.2, uxo_share: float = 0.01, data: Path = DATA) -> dict:
    rng = np.random.default_rng(seed + 1)
    truth = shifts(seed, data / "hazards.geojson")
    to_m = pyproj.Transformer.from_crs("EPSG:4326", LAEA, always_xy=True)
    to_ll = pyproj.Transformer.from_crs(LAEA, "EPSG:4326", always_xy=True)
    hazards = _features(data / "hazards.geojson")
    releases = [
        r
        for r in _features(data / "releases.geojson")
        if r["properties"]["method"] in ("reduced", "cleared") and r["properties"]["hazard_id"]
    ]
    hz_geom = dict(
        zip((h["properties"]["hazard_id"] for h in hazards), _project(hazards, to_m), strict=True)
    )
    rel_geom = _project(releases, to_m)
    features = []
    for release, ground in zip(releases, rel_geom, strict=True):
        p = release["properties"]
        record = hz_geom[p["hazard_id"]]
        worked = shapely.intersection(ground, record)
        if worked.is_empty or worked.area < 1.0:
            continue
        if p["hazard_id"] in truth:
            # The minefield really is the record moved by the shift (the map's
            # reference point was wrong).
            distance, bearing = truth[p["hazard_id"]]
            dx = distance * np.sin(np.radians(bearing))
            dy = distance * np.cos(np.radians(bearing))
            # Having found mines off the record, teams clear the whole minefield
            # where it really is: the record moved by the shift.
            worked = shapely.affinity.translate(record, dx, dy)
            if worked.is_empty or worked.area < 1.0:
                continue
        for kind, column, fraction in (
            ("AP", "items_ap", share),
            ("AT", "items_at", share),
            ("UXO", "items_uxo", uxo_share),
        ):
            n = int(rng.binomial(int(p.get(column) or 0), fraction))
            xy = _sample_in(worked, n, rng)
            # A few devices are recorded off the record: GPS error, hand-drawn edges.
            stray = rng.random(len(xy)) < 0.05
            angle = rng.uniform(0, 2 * np.pi, stray.sum())
            reach = rng.uniform(5, 40, stray.sum())
            xy[stray] += np.column_stack([reach * np.cos(angle), reach * np.sin(angle)])
            lon, lat = to_ll.transform(xy[:, 0], xy[:, 1])
            for x, y in zip(lon, lat, strict=True):
                features.append(
                    {
                        "type": "Feature",
                        "properties": {
                            "item_id": None,
                            "found_on": p["released_on"],
                            "item_type": kind,
                            "model": str(rng.choice(MODELS[kind])),
                            "release_id": p["release_id"],
                        },
                        "geometry": {
                            "type": "Point",
                            "coordinates": [round(float(x), 6), round(float(y), 6)],
                        },
                    }
                )
    features.sort(key=lambda f: (f["properties"]["found_on"], f["properties"]["release_id"]))
    for i, f in enumerate(features, start=1):
        f["properties"]["item_id"] = f"I-{i:06d}"
    return {"type": "FeatureCollection", "name": "items", "features": features}


def _write(collection: dict, path: Path) -> None:
    lines = [
        json.dumps(f, ensure_ascii=False, separators=(",", ":")) for f in collection["features"]
    ]
    text = (
        '{"type":"FeatureCollection","name":"items",\n"features":[\n' + ",\n".join(lines) + "\n]}\n"
    )
    path.write_text(text, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--share", type=float, default=0.2)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--out", type=Path, default=DATA / "items.geojson")
    args = parser.parse_args()
    collection = make(args.seed, args.share, data=args.data)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    _write(collection, args.out)
    kinds = {}
    for f in collection["features"]:
        kinds[f["properties"]["item_type"]] = kinds.get(f["properties"]["item_type"], 0) + 1
    truth = shifts(args.seed, args.data / "hazards.geojson")
    print(f"{len(collection['features'])} SYNTHETIC items written to {args.out}: {kinds}")
    print(f"{len(truth)} records shifted (40-150 m): a wrong reference point")


if __name__ == "__main__":
    main()
