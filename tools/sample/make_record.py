"""Make data/records/example_record.json and .csv (the same synthetic minefield).

The true corners are laid out around a reference point in Aghdam district; each
leg's bearing (magnetic, mils of 6000 to the circle, declination 6.4° E) and
distance are measured between the true corners and rounded as a field team
would (whole mils, 0.1 m), so the traverse misses its start by a few
centimetres.

Usage (from the repository's root)::

    python tools/sample/make_record.py [--out data/records/]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pyproj

from minemap import mgrs

#: The repository's data/records/ folder: the bundled example record.
RECORDS = Path(__file__).resolve().parents[2] / "data" / "records"
GEOD = pyproj.Geod(ellps="WGS84")
DECLINATION = 6.4
MILS = 6000
COLUMNS = (
    "id",
    "role",
    "frompoint",
    "bearing",
    "distance_m",
    "north",
    "lat",
    "lon",
    "utm_zone",
    "hemisphere",
    "easting",
    "northing",
    "mgrs",
    "closes",
    "row",
    "mines_ap",
    "mines_at",
    "mine_type",
)
HEADER_FIELDS = (
    "record_id",
    "source",
    "laid_on",
    "submitted_on",
    "district",
    "classification",
    "bearing_unit",
    "mils_per_circle",
    "north",
    "declination_deg",
)


def offset(lat: float, lon: float, azimuth: float, distance: float) -> tuple[float, float]:
    lon2, lat2, _ = GEOD.fwd(lon, lat, azimuth, distance)
    return lat2, lon2


def leg(a: tuple[float, float], b: tuple[float, float]) -> tuple[int, float]:
    """Magnetic bearing in whole mils and distance to 0.1 m from a to b (lat, lon)."""
    azimuth, _, distance = GEOD.inv(a[1], a[0], b[1], b[0])
    magnetic = (azimuth - DECLINATION) % 360
    return round(magnetic * MILS / 360), round(distance, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=RECORDS)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    reference = mgrs.latlon_to_mgrs(40.0205, 46.9230)
    rp = mgrs.mgrs_to_latlon(reference)
    zone, hemisphere, easting, northing = mgrs.latlon_to_utm(40.0224, 46.9277)
    landmark_utm = (zone, hemisphere, round(easting), round(northing))
    lm = mgrs.utm_to_latlon(*landmark_utm)
    true = {"TP1": offset(*rp, 52.0, 180.0)}
    for name, previous, azimuth, distance in (
        ("TP2", "TP1", 18.0, 240.0),
        ("TP3", "TP2", 97.0, 310.0),
        ("TP4", "TP3", 171.0, 280.0),
        ("TP5", "TP4", 255.0, 190.0),
        ("R1S", "TP1", 40.0, 25.0),
        ("R1E", "R1S", 97.0, 260.0),
    ):
        true[name] = offset(*true[previous], azimuth, distance)
    true["R2S"] = offset(*lm, 150.0, 230.0)
    true["R2E"] = offset(*true["R2S"], 100.0, 250.0)

    points: list[dict] = [
        {"id": "RP1", "role": "reference", "mgrs": reference},
        {
            "id": "LM1",
            "role": "landmark",
            **dict(
                zip(("utm_zone", "hemisphere", "easting", "northing"), landmark_utm, strict=True)
            ),
        },
    ]

    def add(name, start_name, start, end, **fields) -> None:
        bearing, distance = leg(start, end)
        point = {"id": name, **fields}
        if start_name:
            point["frompoint"] = start_name
        points.append({**point, "bearing": bearing, "distance_m": distance})

    add("TP1", "RP1", rp, true["TP1"], role="perimeter")
    add("TP2", None, true["TP1"], true["TP2"], role="perimeter")
    add("TP3", None, true["TP2"], true["TP3"], role="perimeter")
    add("TP4", None, true["TP3"], true["TP4"], role="perimeter")
    add("TP5", None, true["TP4"], true["TP5"], role="perimeter")
    add("TP6", None, true["TP5"], true["TP1"], role="perimeter", closes=True)
    add("R1S", "TP1", true["TP1"], true["R1S"], role="row", row="R1", mines_ap=120,
        mine_type="PMN-2")  # fmt: skip
    add("R1E", None, true["R1S"], true["R1E"], role="row", row="R1")
    add("R2S", "LM1", lm, true["R2S"], role="row", row="R2", mines_at=36, mine_type="TM-62M")
    add("R2E", None, true["R2S"], true["R2E"], role="row", row="R2")
    record = {
        "record_id": "AGD-MF-0417",
        "source": "Minefield record handed over 2021 (sample, synthetic)",
        "laid_on": "1994-03-12",
        "submitted_on": "2021-06-12",
        "district": "Aghdam",
        "classification": "CHA",
        "bearing_unit": "mils",
        "mils_per_circle": MILS,
        "north": "magnetic",
        "declination_deg": DECLINATION,
        "mines": [
            {"type": "PMN-2", "category": "AP", "count": 120},
            {"type": "TM-62M", "category": "AT", "count": 36},
        ],
        "points": points,
    }
    write_json(record, args.out / "example_record.json")
    write_csv(record, args.out / "example_record.csv")


def write_json(record: dict, path: Path) -> None:
    """One line per point and per mine type, for people reading the file."""
    lines = ["{"]
    items = list(record.items())
    for i, (key, value) in enumerate(items):
        comma = "," if i < len(items) - 1 else ""
        if isinstance(value, list):
            inner = ",\n".join("    " + json.dumps(v, ensure_ascii=False) for v in value)
            lines.append(f'  "{key}": [\n{inner}\n  ]{comma}')
        else:
            lines.append(f'  "{key}": {json.dumps(value, ensure_ascii=False)}{comma}')
    text = "\n".join([*lines, "}"]) + "\n"
    assert json.loads(text) == record
    path.write_text(text, encoding="utf-8")


def write_csv(record: dict, path: Path) -> None:
    points = record["points"]
    used = [c for c in COLUMNS if any(c in p for p in points)]
    lines = [
        "# Minefield record AGD-MF-0417, the same minefield as example_record.json.",
        "# Record fields are '# field: value' lines before the points table (see README.md).",
    ]
    lines += [f"# {key}: {record[key]}" for key in HEADER_FIELDS]
    mines = "; ".join(f"{m['type']} {m['category']} {m['count']}" for m in record["mines"])
    lines += [f"# mines: {mines}", ",".join(used)]
    for point in points:
        cells = ["" if c not in point else str(point[c]) for c in used]
        lines.append(",".join("true" if cell == "True" else cell for cell in cells))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
