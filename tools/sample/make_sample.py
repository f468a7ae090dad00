"""Make minemap's bundled sample data set.

Writes three GeoJSON files (EPSG:4326, RFC 7946, six decimals) to the output folder:

``districts.geojson``
    The 12 real district polygons (geoBoundaries, CC BY-SA 3.0; see ``ATTRIBUTION.md``).
``hazards.geojson``
    SYNTHETIC minefield records: straight-sided, mostly elongated polygons along belts
    (densest along the former line of contact), with the public mine totals per district.
``releases.geojson``
    SYNTHETIC land release (cancelled, reduced, cleared) from 2020-11-20 to 2026-11-15,
    at weekly rates of the order the ANAMA bulletins report.

Geometry is built in a local Lambert azimuthal equal-area CRS (metres) and converted to
longitude/latitude. The script is deterministic: the same seed and source give
byte-identical files.

Usage (from the repository's root)::

    python tools/sample/make_sample.py [--source data/districts.geojson] [--seed 2020] [--out data/]

``--source`` is a district GeoJSON with the fields ``district, name_az, iso_3166_2,
gb_shapeID`` (``attribution`` optional): by default the committed
``data/districts.geojson``, which the script writes back unchanged.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import shapely
from pyproj import Transformer
from shapely import affinity
from shapely.geometry import LineString, MultiPolygon, Point, Polygon, shape

#: The repository's data/ folder: the bundled sample.
DATA = Path(__file__).resolve().parents[2] / "data"
DEFAULT_SOURCE = DATA / "districts.geojson"

#: Local equal-area CRS used to build and measure all geometry.
LAEA = "+proj=laea +lat_0=39.8 +lon_0=46.8 +ellps=WGS84 +units=m"
_TO_LAEA = Transformer.from_crs("EPSG:4326", LAEA, always_xy=True)
_TO_LONLAT = Transformer.from_crs(LAEA, "EPSG:4326", always_xy=True)
DECIMALS = 6
#: How far (m) a strip's new corner is set outside the hazard's edge.
OUTSIDE_M = 1.0

FIRST_DAY = dt.date(2020, 11, 20)
LAST_DAY = dt.date(2026, 11, 15)
YEAR_2022_HA = 41_915.0

DISTRICT_FIELDS = ("district", "name_az", "iso_3166_2", "attribution", "gb_shapeID")
#: The boundaries' source and licence, carried by each district: minemap's map credits it.
ATTRIBUTION = (
    "Boundaries: geoBoundaries (www.geoboundaries.org), Azerbaijan ADM2, CC BY-SA 3.0, "
    "derived from Wikipedia; subset and renamed by minemap"
)


def _plan(**values):
    """One district's plan, as a dict."""
    return values


#: Per district: planned record area (ha), mine total, anti-tank share (exact where an
#: ``int`` is given), share of the records on the front-line and border belts, and the share
#: of its recorded area the teams aim to release by the end of the period.
PLAN = {
    "Aghdam": _plan(area=31_000, mines=97_000, at=54_000, front=0.55, border=0.05, done=0.35),
    "Fuzuli": _plan(area=37_000, mines=54_000, at=0.45, front=0.45, border=0.10, done=0.35),
    "Zangilan": _plan(area=24_000, mines=38_000, at=0.40, front=0.0, border=0.40, done=0.50),
    "Jabrayil": _plan(area=34_000, mines=2_900, at=0.30, front=0.45, border=0.12, done=0.65),
    "Tartar": _plan(area=30_000, mines=3_400, at=0.30, front=0.55, border=0.10, done=0.70),
    "Khojavend": _plan(area=33_000, mines=2_600, at=0.30, front=0.45, border=0.0, done=0.60),
    "Gubadli": _plan(area=11_000, mines=900, at=0.25, front=0.0, border=0.30, done=0.70),
    "Lachin": _plan(area=15_000, mines=1_200, at=0.25, front=0.0, border=0.30, done=0.65),
    "Kalbajar": _plan(area=20_000, mines=1_500, at=0.25, front=0.0, border=0.35, done=0.55),
    "Khojaly": _plan(area=8_000, mines=700, at=0.25, front=0.0, border=0.0, done=0.65),
    "Shusha": _plan(area=2_500, mines=350, at=0.20, front=0.0, border=0.0, done=0.85),
    "Khankandi": _plan(area=8, mines=6, at=0.0, front=0.0, border=0.0, done=1.0),
}
MEAN_RECORD_HA = 90.0

#: Former line of contact (lon, lat), north to south: Tartar, Aghdam, Khojavend, Fuzuli,
#: Jabrayil. Approximate, drawn for this sample only.
FRONT_LINE = [
    (46.60, 40.42),
    (46.80, 40.33),
    (46.95, 40.22),
    (47.02, 40.12),
    (47.08, 40.02),
    (47.05, 39.92),
    (47.02, 39.82),
    (47.10, 39.72),
    (47.20, 39.62),
    (47.20, 39.52),
    (47.15, 39.42),
    (47.12, 39.30),
    (47.20, 39.20),
]
#: Offsets (m) of the belts from the line of contact: positive east (the Azerbaijani
#: forward minefields), negative west (the echelons behind it); with a selection priority.
FRONT_ROWS = [(1500, 2), (0, 0), (-2200, 0), (-4800, 1), (-8000, 2), (-11500, 3)]

#: Source maps per district: (label, year, month, share of the records).
SOURCES = {
    "Aghdam": [
        ("Handover map", 2020, 12, 0.30),
        ("Handover map", 2021, 6, 0.60),
        ("Survey map", 2021, 9, 0.10),
    ],
    "Fuzuli": [
        ("Handover map", 2020, 11, 0.25),
        ("Handover map", 2021, 7, 0.65),
        ("Survey map", 2021, 10, 0.10),
    ],
    "Zangilan": [("Survey map", 2021, 5, 0.25), ("Handover map", 2021, 7, 0.75)],
    "Kalbajar": [("Handover map", 2020, 11, 0.7), ("Survey map", 2021, 8, 0.3)],
    "Lachin": [("Handover map", 2020, 12, 0.7), ("Survey map", 2021, 8, 0.3)],
}
DEFAULT_SOURCES = [("Handover map", 2020, 12, 0.55), ("Handover map", 2021, 4, 0.30),
                   ("Survey map", 2021, 9, 0.15)]  # fmt: skip

ORGANISATIONS = [f"ANAMA team {i}" for i in range(1, 13)] + [
    "Partner NGO A",
    "Partner NGO B",
    "Partner NGO C",
]


# --------------------------------------------------------------------------- geometry


def to_laea(geoms):
    """Project geometries from EPSG:4326 to the local LAEA CRS.

    Parameters
    ----------
    geoms : shapely geometry or array of geometries
        Longitude/latitude geometries.

    Returns
    -------
    shapely geometry or numpy.ndarray
        The same geometries in metres.
    """
    return shapely.transform(geoms, lambda xy: np.column_stack(_TO_LAEA.transform(*xy.T)))


def to_lonlat(geoms):
    """Project LAEA geometries to EPSG:4326 and round to six decimals.

    Parameters
    ----------
    geoms : shapely geometry or array of geometries
        Geometries in the local LAEA CRS.

    Returns
    -------
    shapely geometry or numpy.ndarray
        Longitude/latitude geometries on the 1e-6 degree grid.
    """

    def project(xy):
        lon, lat = _TO_LONLAT.transform(*xy.T)
        return np.round(np.column_stack([lon, lat]), DECIMALS)

    return shapely.transform(geoms, project)


def ccw(geom):
    """Orient polygon rings as RFC 7946 requires (exterior counter-clockwise).

    Parameters
    ----------
    geom : Polygon or MultiPolygon
        The geometry to orient.

    Returns
    -------
    Polygon or MultiPolygon
        The oriented geometry.
    """
    return shapely.orient_polygons(geom, exterior_cw=False)


def ha(geom) -> float:
    """Area in hectares of an LAEA geometry (equal-area, so true ellipsoidal area)."""
    return float(shapely.area(geom)) / 1e4


def record_shape(rng, centre, angle, length, width):
    """Build one minefield record: a straight-sided polygon with 4 to 12 vertices.

    Parameters
    ----------
    rng : numpy.random.Generator
        Random source.
    centre : tuple of float
        Centre (x, y) in metres.
    angle : float
        Direction of the long axis, radians.
    length, width : float
        Size of the record in metres.

    Returns
    -------
    shapely.Polygon
        A valid polygon in the LAEA CRS.
    """
    hl, hw = length / 2, width / 2
    kind = rng.choice(4, p=[0.40, 0.22, 0.20, 0.18])
    if kind == 3 and length > 3 * width:
        # A strip that bends once or twice, as records that follow a trench or a road.
        n = int(rng.integers(2, 4))
        us = np.linspace(-hl + hw, hl - hw, n + 1) if hl > hw else np.linspace(-hl, hl, n + 1)
        vs = np.concatenate([[0.0], np.cumsum(rng.normal(0, 0.12, n) * (us[1] - us[0]))])
        vs -= vs.mean()
        pts = np.column_stack([us, vs])
        poly = LineString(pts).buffer(hw, cap_style="flat", join_style="mitre", mitre_limit=4)
        if isinstance(poly, Polygon) and not poly.interiors:
            pts = np.asarray(poly.exterior.coords)[:-1] - np.asarray(poly.centroid.coords)
        else:
            pts = np.array([[-hl, -hw], [hl, -hw], [hl, hw], [-hl, hw]])
    else:
        pts = np.array([[-hl, -hw], [hl, -hw], [hl, hw], [-hl, hw]])
        if kind == 1:
            # An irregular quadrilateral: corners moved along the long sides and across.
            pts = pts + np.column_stack(
                [rng.uniform(-0.12, 0.12, 4) * length, rng.uniform(-0.15, 0.15, 4) * width]
            )
        elif kind == 2:
            # Extra turning points on the long sides, and a corner cut now and then.
            out = []
            for i in range(4):
                a, b = pts[i], pts[(i + 1) % 4]
                if i in (0, 2) and rng.random() < 0.5 and length > 3 * width:
                    out.append(a + (b - a) * rng.uniform(0.0, 0.08))
                else:
                    out.append(a)
                if i in (0, 2):
                    for t in np.sort(rng.uniform(0.2, 0.8, int(rng.integers(1, 4)))):
                        q = a + (b - a) * t
                        q[1] += rng.uniform(-0.15, 0.25) * width * (1 if i == 2 else -1)
                        out.append(q)
            pts = np.array(out)
    c, s = math.cos(angle), math.sin(angle)
    rot = np.array([[c, -s], [s, c]])
    poly = Polygon(pts @ rot.T + np.asarray(centre))
    if not poly.is_valid or len(poly.exterior.coords) - 1 > 12:
        pts = np.array([[-hl, -hw], [hl, -hw], [hl, hw], [-hl, hw]])
        poly = Polygon(pts @ rot.T + np.asarray(centre))
    return ccw(poly)


def record_size(rng, small=False):
    """Draw the length and width (m) of a record from a long-tailed area distribution."""
    area_ha = float(np.clip(rng.lognormal(math.log(80.0), 0.85), 1.0, 300.0))
    if small:
        area_ha = float(rng.uniform(2.0, 6.0))
    aspect = float(np.clip(rng.lognormal(math.log(2.6), 0.45), 1.4, 8.0))
    width = min(math.sqrt(area_ha * 1e4 / aspect), 750.0)
    length = min(area_ha * 1e4 / width, 3600.0)
    return length, width


@dataclass
class Candidate:
    """A possible hazard record, before selection."""

    geom: Polygon
    cat: str
    group: int
    seq: int
    priority: float


def walk(rng, line, offsets, cat, group0, priorities=None, small=False):
    """Lay records along a line, in rows parallel to it.

    Parameters
    ----------
    rng : numpy.random.Generator
        Random source.
    line : shapely.LineString
        The belt's axis, in metres.
    offsets : list of float
        Lateral offsets of the rows (m, positive to the left).
    cat : str
        Category of the candidates (front, border, line).
    group0 : int
        First group number; each row is a group.
    priorities : list of float, optional
        Selection priority of each row (lower first).
    small : bool
        Draw small records only.

    Returns
    -------
    list of Candidate
    """
    out = []
    total = line.length
    for r, off in enumerate(offsets):
        prio = (priorities[r] if priorities else 0.0) + rng.random()
        s = float(rng.uniform(0, 400))
        seq = 0
        while True:
            length, width = record_size(rng, small)
            if s + length > total:
                break
            a, b = line.interpolate(s), line.interpolate(s + length)
            angle = math.atan2(b.y - a.y, b.x - a.x) + rng.normal(0, 0.04)
            mid = line.interpolate(s + length / 2)
            lateral = off + rng.uniform(-1, 1) * max(0.0, (900 - width) / 2) * 0.6
            cx = mid.x - math.sin(angle) * lateral
            cy = mid.y + math.cos(angle) * lateral
            geom = record_shape(rng, (cx, cy), angle, length, width)
            out.append(Candidate(geom, cat, group0 + r, seq, prio))
            seq += 1
            s += length + length * rng.uniform(-0.12, 0.9) + rng.uniform(0, 300)
    return out


def random_line(rng, region, length, direction):
    """A gently turning polyline of about ``length`` metres starting inside ``region``."""
    minx, miny, maxx, maxy = region.bounds
    while True:
        x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if region.contains(Point(x, y)):
            break
    angle = direction + rng.normal(0, 0.2) + (math.pi if rng.random() < 0.5 else 0.0)
    pts = [(x, y)]
    n = int(rng.integers(2, 5))
    for _ in range(n):
        angle += rng.normal(0, 0.25)
        step = length / n
        x, y = x + step * math.cos(angle), y + step * math.sin(angle)
        pts.append((x, y))
    return LineString(pts)


# --------------------------------------------------------------------------- districts


def read_districts(path):
    """Read the district polygons and keep minemap's fields.

    Parameters
    ----------
    path : pathlib.Path
        A GeoJSON file with the fields ``district, name_az, iso_3166_2, gb_shapeID``
        (and ``attribution``, else :data:`ATTRIBUTION`).

    Returns
    -------
    list of dict
        One dict per district with its properties and lon/lat ``geometry``.
    """
    data = json.loads(path.read_text(encoding="utf-8"))
    out = []
    for feat in data["features"]:
        props = {"attribution": ATTRIBUTION, **feat["properties"]}
        props = {k: props[k] for k in DISTRICT_FIELDS}
        geom = ccw(shapely.transform(shape(feat["geometry"]), lambda xy: np.round(xy, DECIMALS)))
        out.append({**props, "geometry": geom})
    return out


# --------------------------------------------------------------------------- hazards


def classify(cands, dist_laea, union_laea):
    """Where each candidate lies: centroid district, crossing or sticking out.

    Returns
    -------
    tuple of numpy.ndarray
        Centroid district index (-1: none), kind (0 inside one district, 1 crosses a
        district boundary, 2 sticks out of every district, -1 ambiguous).
    """
    geoms = np.array([c.geom for c in cands])
    cent = shapely.centroid(geoms)
    dtree = shapely.STRtree(dist_laea)
    cidx = np.full(len(geoms), -1)
    gi, di = dtree.query(cent, predicate="within")
    cidx[gi] = di
    areas = shapely.area(geoms)
    out_share = 1 - shapely.area(shapely.intersection(geoms, union_laea)) / areas
    kind = np.full(len(geoms), -1)
    for i, g in enumerate(geoms):
        if cidx[i] < 0:
            continue
        own = dist_laea[cidx[i]]
        if out_share[i] > 0.02 and out_share[i] < 0.35:
            kind[i] = 2
        elif out_share[i] > 1e-9:
            continue
        elif own.contains(g.buffer(5.0)):
            kind[i] = 0
        elif (g.area - g.intersection(own).area) / g.area > 0.01:
            kind[i] = 1
    return cidx, kind


def conflicts(cands):
    """Pairs of candidates that overlap clearly, and pairs too close to call.

    Returns
    -------
    tuple of dict
        ``overlap[i]`` and ``clash[i]``: sets of candidate indices.
    """
    geoms = np.array([c.geom for c in cands])
    tree = shapely.STRtree(geoms)
    a, b = tree.query(geoms, predicate="dwithin", distance=5.0)
    keep = a < b
    a, b = a[keep], b[keep]
    inter = shapely.area(shapely.intersection(geoms[a], geoms[b]))
    smaller = np.minimum(shapely.area(geoms[a]), shapely.area(geoms[b]))
    overlap, clash = defaultdict(set), defaultdict(set)
    for i, j, x, m in zip(a, b, inter, smaller, strict=True):
        target = overlap if x > 0.005 * m else clash
        target[i].add(j)
        target[j].add(i)
    return overlap, clash


def make_candidates(rng, districts, dist_laea):
    """Lay candidate records along the front line, the outer border and random lines."""
    cands: list[Candidate] = []
    front = to_laea(LineString(FRONT_LINE))
    for k, (off, prio) in enumerate(FRONT_ROWS):
        line = front if off == 0 else front.offset_curve(off, join_style="mitre")
        line = shapely.simplify(line, 50.0)
        for part in getattr(line, "geoms", [line]):
            cands += walk(rng, part, [0.0], "front", 100 * k, [prio])
    union = shapely.union_all(dist_laea)
    outer = max(getattr(union, "geoms", [union]), key=lambda p: p.area)
    ring = shapely.simplify(LineString(outer.exterior.coords), 400.0)
    inward = ring.offset_curve(350.0)
    for part in getattr(inward, "geoms", [inward]):
        cands += walk(rng, part, [0.0, 950.0], "border", 1000)
    group = 2000
    for i, dist in enumerate(districts):
        plan = PLAN[dist["district"]]
        region = dist_laea[i]
        need = 4.0 * plan["area"] / MEAN_RECORD_HA
        small = dist["district"] == "Khankandi"
        direction = math.pi / 2 + 0.15 if plan["front"] else rng.uniform(0, math.pi)
        got = 0
        while got < need + 2:
            length = float(rng.uniform(1500, 3000) if small else rng.uniform(7000, 24000))
            line = random_line(rng, region, length, direction)
            rows = [0.0] if small else [0.0, 950.0, -950.0][: int(rng.integers(1, 4))]
            new = walk(rng, line, rows, f"line{i}", group, small=small)
            group += 10
            got += sum(region.contains(c.geom.centroid) for c in new)
            cands += new
    return cands, union


def select(rng, districts, cands, cidx, kind, overlap, clash):
    """Choose the records per district, with quotas of overlaps and boundary crossers."""
    chosen: list[int] = []
    taken: set[int] = set()
    out_quota = {"Zangilan": 4, "Jabrayil": 3, "Kalbajar": 3, "Lachin": 2, "Gubadli": 2,
                 "Tartar": 2, "Aghdam": 2}  # fmt: skip
    for di, dist in enumerate(districts):
        name = dist["district"]
        plan = PLAN[name]
        n_d = max(2, round(plan["area"] / MEAN_RECORD_HA))
        quota = {
            "overlap": round(0.016 * n_d),
            "cross": round(0.034 * n_d),
            "out": out_quota.get(name, 0),
        }
        wanted = {"front": round(plan["front"] * n_d), "border": round(plan["border"] * n_d)}
        wanted["line"] = n_d - wanted["front"] - wanted["border"]
        got = 0
        mine = [i for i in range(len(cands)) if cidx[i] == di and kind[i] >= 0]
        for cat in ("front", "border", "line", "any"):
            pool = [i for i in mine if cat in ("any", cands[i].cat.rstrip("0123456789"))]
            pool.sort(key=lambda i: (cands[i].priority, cands[i].group, cands[i].seq))
            target = got + wanted[cat] if cat in wanted and cat != "line" else n_d
            for i in pool:
                if got >= target:
                    break
                if i in taken or rng.random() > 0.85 or clash[i] & taken:
                    continue
                over = bool(overlap[i] & taken)
                k = ("cross", "out")[kind[i] - 1] if kind[i] > 0 else None
                if (over and quota["overlap"] <= 0) or (k and quota[k] <= 0):
                    continue
                if over:
                    quota["overlap"] -= 1
                if k:
                    quota[k] -= 1
                taken.add(i)
                chosen.append(i)
                got += 1
    return chosen


def allocate(total, weights):
    """Share an integer total in proportion to weights, exactly (largest remainder)."""
    weights = np.asarray(weights, dtype=float)
    raw = total * weights / weights.sum()
    out = np.floor(raw).astype(np.int64)
    rest = int(total - out.sum())
    order = np.argsort(-(raw - out), kind="stable")
    out[order[:rest]] += 1
    return out


def split_at(rng, totals, at_share):
    """Split mine totals into anti-tank counts: a mix of AT-heavy, AP-heavy and mixed records.

    Parameters
    ----------
    rng : numpy.random.Generator
        Random source.
    totals : numpy.ndarray
        Mines per record.
    at_share : int or float
        An exact anti-tank total (int) or a target share (float).

    Returns
    -------
    numpy.ndarray
        Anti-tank mines per record (the rest are anti-personnel).
    """
    n = len(totals)
    mix = rng.choice(3, size=n, p=[0.30, 0.35, 0.35])
    base = np.where(
        mix == 0, rng.beta(9, 2, n), np.where(mix == 1, rng.beta(2, 9, n), rng.beta(3, 3, n))
    )
    target = at_share if isinstance(at_share, int) else at_share * totals.sum()
    logit = np.log(base / (1 - base))
    lo, hi = -8.0, 8.0
    for _ in range(60):
        mid = (lo + hi) / 2
        share = 1 / (1 + np.exp(-(logit + mid)))
        if (share * totals).sum() < target:
            lo = mid
        else:
            hi = mid
    raw = totals / (1 + np.exp(-(logit + lo)))
    if not isinstance(at_share, int):
        return np.round(raw).astype(np.int64)
    at = np.floor(raw).astype(np.int64)
    rest = at_share - int(at.sum())
    room = np.flatnonzero(at < totals)
    order = room[np.argsort(-(raw - at)[room], kind="stable")]
    at[order[:rest]] += 1
    return at


@dataclass
class Hazard:
    """One synthetic minefield record."""

    laea: Polygon
    lonlat: Polygon
    district: str
    attrs: dict = field(default_factory=dict)


def make_hazards(rng, districts, dist_laea):
    """Build the synthetic hazard records.

    Returns
    -------
    list of Hazard
        Records sorted by district and identifier.
    """
    cands, _ = make_candidates(rng, districts, dist_laea)
    union = shapely.union_all(dist_laea)
    cidx, kind = classify(cands, dist_laea, union)
    overlap, clash = conflicts(cands)
    chosen = select(rng, districts, cands, cidx, kind, overlap, clash)
    records = []
    for i in chosen:
        lonlat = ccw(to_lonlat(cands[i].geom))
        if lonlat.is_valid:
            records.append((lonlat, int(cidx[i]), kind[i]))
    # A few minefields in two source maps that disagree on where it lies: the same
    # field drawn again, shifted along its length, sharing half to four fifths of its
    # ground (records sharing more than 90 % are rejected as the same record twice).
    plain = [k for k, r in enumerate(records) if r[2] == 0]
    n_orig = len(records)
    for k in rng.choice(plain, size=12, replace=False):
        geom, di, _ = records[k]
        original = to_laea(geom)
        shifted = affinity.rotate(original, rng.normal(0, 0.6), origin="centroid")
        box = shifted.minimum_rotated_rectangle.exterior.coords
        long_axis = max(
            (np.subtract(box[i + 1], box[i]) for i in range(4)), key=lambda v: np.hypot(*v)
        )
        shifted = affinity.translate(shifted, *(long_axis * rng.uniform(0.12, 0.3)))
        lonlat = ccw(to_lonlat(shifted))
        shared = original.intersection(shifted).area / max(original.area, shifted.area)
        if dist_laea[di].contains(shifted.buffer(5.0)) and lonlat.is_valid and shared < 0.85:
            records.append((lonlat, di, int(k)))
    hazards = []
    for n, (lonlat, di, extra) in enumerate(records):
        dup_of = extra if n >= n_orig else None
        hazards.append(
            Hazard(to_laea(lonlat), lonlat, districts[di]["district"], {"dup_of": dup_of})
        )
    assign_attributes(rng, hazards, districts)
    return hazards


def assign_attributes(rng, hazards, districts):
    """Give the records sources, dates, classes, mine counts and identifiers."""
    iso = {d["district"]: d["iso_3166_2"].split("-")[1] for d in districts}
    by_district = defaultdict(list)
    for k, h in enumerate(hazards):
        by_district[h.district].append(k)
    for name in sorted(by_district):
        ks = by_district[name]
        sources = SOURCES.get(name, DEFAULT_SOURCES)
        shares = np.array([s[3] for s in sources])
        pick = rng.choice(len(sources), size=len(ks), p=shares / shares.sum())
        for k, p in zip(ks, pick, strict=True):
            h = hazards[k]
            if h.attrs["dup_of"] is not None:
                orig = hazards[h.attrs["dup_of"]].attrs.get("src", 0)
                p = (orig + 1) % len(sources)
            label, year, month, _ = sources[p]
            start = max(dt.date(year, month, 1), dt.date(2020, 11, 20))
            day = start + dt.timedelta(days=int(rng.integers(0, 28)))
            h.attrs.update(
                src=int(p),
                source=f"{label} {year}-{month:02d} ({name})",
                submitted_on=day,
                classification="SHA" if rng.random() < (0.35 if label == "Survey map" else 0.06)
                else "CHA",
            )  # fmt: skip
        plan = PLAN[name]
        areas = np.array([ha(hazards[k].laea) for k in ks])
        weights = areas * rng.lognormal(0, 0.5, len(ks))
        weights *= np.array([0.3 if hazards[k].attrs["classification"] == "SHA" else 1 for k in ks])
        totals = allocate(plan["mines"], weights)
        at = split_at(rng, totals, plan["at"])
        for k, t, a in zip(ks, totals, at, strict=True):
            hazards[k].attrs.update(mines_ap=int(t - a), mines_at=int(a))
        order = sorted(
            ks,
            key=lambda k: (
                hazards[k].attrs["submitted_on"],
                -round(hazards[k].lonlat.centroid.y, 6),
                round(hazards[k].lonlat.centroid.x, 6),
            ),
        )
        for n, k in enumerate(order, start=1):
            hazards[k].attrs["hazard_id"] = f"{iso[name]}-{n:04d}"
    hazards.sort(key=lambda h: h.attrs["hazard_id"])


# --------------------------------------------------------------------------- releases


def weekly_targets(rng, mondays):
    """Released hectares planned per week: a ramp, seasons, noise and quiet winter weeks."""
    anchors = [
        ("2020-11-16", 15), ("2021-01-04", 25), ("2021-03-01", 80), ("2021-05-10", 145),
        ("2021-09-06", 125), ("2021-12-06", 170), ("2022-01-10", 60), ("2022-02-14", 200),
        ("2022-05-16", 520), ("2022-07-18", 900), ("2022-10-03", 950), ("2022-12-05", 420),
        ("2023-01-09", 300), ("2023-03-06", 780), ("2023-06-05", 950), ("2023-08-14", 560),
        ("2023-10-23", 640), ("2023-12-11", 400),
    ]  # fmt: skip
    season = [0.45, 0.6, 0.9, 1.05, 1.15, 1.15, 1.1, 1.1, 1.1, 1.05, 0.9, 0.6]
    anchors += [
        (f"{year}-{month:02d}-10", base * season[month - 1])
        for year, base in ((2024, 820), (2025, 870), (2026, 840))
        for month in range(1, 13)
    ]
    xs = np.array([dt.date.fromisoformat(d).toordinal() for d, _ in anchors], dtype=float)
    ys = np.array([v for _, v in anchors], dtype=float)
    days = np.array([m.toordinal() for m in mondays], dtype=float)
    target = np.interp(days, xs, ys) * rng.lognormal(0, 0.22, len(days))
    for i, m in enumerate(mondays):
        if (m.month == 1 and m.day <= 7) or (m.month == 12 and m.day >= 29):
            target[i] *= 0.1  # New Year
        elif m.month == 3 and 15 <= m.day <= 21:
            target[i] *= 0.5  # Novruz
        elif m.month in (1, 2) and rng.random() < 0.12:
            target[i] *= rng.uniform(0.0, 0.15)  # snow
    in_2022 = np.array([m.year == 2022 for m in mondays])
    target[in_2022] *= YEAR_2022_HA / target[in_2022].sum()
    return target


@dataclass
class Team:
    """A survey or clearance team working through hazards one strip at a time."""

    name: str
    home: str
    hazard: int = -1
    cursor: float = 0.0
    stop: float = 0.0
    last: Point | None = None


class StripCutter:
    """Cut successive strips across a hazard's long axis, as teams eat into it."""

    def __init__(self, hazard: Hazard):
        self.h = hazard
        rect = hazard.laea.minimum_rotated_rectangle
        pts = np.asarray(rect.exterior.coords)[:4]
        edges = [pts[1] - pts[0], pts[2] - pts[1]]
        axis = max(edges, key=lambda e: float(np.hypot(*e)))
        self.u = axis / np.hypot(*axis)
        self.v = np.array([-self.u[1], self.u[0]])
        xy = np.asarray(hazard.laea.exterior.coords)
        pu, pv = xy @ self.u, xy @ self.v
        self.umin, self.umax = float(pu.min()), float(pu.max())
        self.vmin, self.vmax = float(pv.min()) - 50, float(pv.max()) + 50
        self.vertices = {tuple(p) for p in np.asarray(hazard.lonlat.exterior.coords)}

    def band(self, a, b):
        """The band a <= u <= b across the hazard, in metres."""
        corners = [(a, self.vmin), (b, self.vmin), (b, self.vmax), (a, self.vmax)]
        return Polygon([tuple(u * self.u + v * self.v) for u, v in corners])

    def end_for(self, start, area_m2):
        """Where a strip starting at ``start`` must end to hold ``area_m2``."""
        lo, hi = start, self.umax
        if self.h.laea.intersection(self.band(start, hi)).area <= area_m2:
            return hi
        for _ in range(18):
            mid = (lo + hi) / 2
            if self.h.laea.intersection(self.band(start, mid)).area < area_m2:
                lo = mid
            else:
                hi = mid
        return hi

    def cut(self, a, b):
        """The hazard between u=a and u=b, in lon/lat, sharing the hazard's own vertices.

        New vertices on the hazard's edges are moved about a metre outside the edge, so that
        strips that meet at the same cut cover the hazard without a gap in any projection.
        """
        a = a - 200.0 if a <= self.umin else a
        b = b + 200.0 if b >= self.umax else b
        band = to_lonlat_exact(self.band(a, b))
        piece = shapely.intersection(self.h.lonlat, band)
        ring = np.asarray(self.h.lonlat.exterior.coords)
        parts = []
        for poly in getattr(piece, "geoms", [piece]):
            if not isinstance(poly, Polygon) or poly.is_empty:
                continue
            coords = [self.snap_out(p, ring) for p in np.asarray(poly.exterior.coords)[:-1]]
            poly = Polygon(coords)
            if poly.is_valid and poly.area > 0:
                parts.append(ccw(poly))
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else MultiPolygon(parts)

    def snap_out(self, p, ring):
        """Round a vertex to the grid; a new vertex on an edge goes to its outer side."""
        if tuple(p) in self.vertices:
            return tuple(p)
        a, b = ring[:-1], ring[1:]
        ab = b - a
        t = np.clip(((p - a) * ab).sum(1) / (ab * ab).sum(1), 0, 1)
        d = np.hypot(*(a + ab * t[:, None] - p).T)
        e = int(np.argmin(d))
        if d[e] > 1e-5:
            best = np.round(p, DECIMALS)
        else:
            normal = np.array([ab[e][1], -ab[e][0]]) / np.hypot(*ab[e])
            metre = np.array([1 / (111_320 * math.cos(math.radians(p[1]))), 1 / 110_950])
            best = np.round(p + OUTSIDE_M * normal * metre, DECIMALS)
        return (float(best[0]), float(best[1]))


def to_lonlat_exact(geom):
    """Project to lon/lat without rounding (for cutting bands)."""
    return shapely.transform(geom, lambda xy: np.column_stack(_TO_LONLAT.transform(*xy.T)))


def off_hazard_polygon(rng, hazards_tree, region, near, max_ha):
    """A release outside every recorded hazard, near one of them (battle area, SHA)."""
    for _ in range(40):
        area_ha = float(
            np.clip(rng.lognormal(math.log(45.0), 0.8), 2.0, max(2.0, min(280.0, max_ha)))
        )
        aspect = float(np.clip(rng.lognormal(math.log(2.0), 0.4), 1.0, 6.0))
        width = math.sqrt(area_ha * 1e4 / aspect)
        length = area_ha * 1e4 / width
        dist = rng.uniform(300, 3000)
        ang = rng.uniform(0, 2 * math.pi)
        centre = (near.x + dist * math.cos(ang), near.y + dist * math.sin(ang))
        geom = record_shape(rng, centre, rng.uniform(0, math.pi), length, width)
        if not region.contains(geom):
            continue
        if len(hazards_tree.query(geom.buffer(20.0), predicate="intersects")):
            continue
        return geom
    return None


def make_releases(rng, hazards, districts, dist_laea):
    """Simulate teams releasing land week by week.

    Returns
    -------
    list of dict
        Release features: properties and lon/lat ``geometry``.
    """
    mondays = []
    day = FIRST_DAY - dt.timedelta(days=FIRST_DAY.weekday())
    while day <= LAST_DAY:
        mondays.append(day)
        day += dt.timedelta(days=7)
    targets = weekly_targets(rng, mondays)
    names = [d["district"] for d in districts]
    area_d = defaultdict(float)
    for h in hazards:
        area_d[h.district] += ha(h.laea)
    goal = {n: PLAN[n]["done"] * area_d[n] for n in names}
    released_d = defaultdict(float)
    hazard_geoms = np.array([h.laea for h in hazards])
    tree = shapely.STRtree(hazard_geoms)
    union = shapely.union_all(dist_laea).buffer(-20.0)
    homes = ["Aghdam", "Aghdam", "Fuzuli", "Fuzuli", "Tartar", "Jabrayil", "Khojavend",
             "Zangilan", "Kalbajar", "Lachin", "Gubadli", "Khojaly", "Aghdam", "Fuzuli",
             "Jabrayil"]  # fmt: skip
    teams = [Team(n, h) for n, h in zip(ORGANISATIONS, homes, strict=True)]
    state = {}  # hazard index -> StripCutter
    done = np.zeros(len(hazards), dtype=bool)
    busy: set[int] = set()
    releases = []
    by_district = defaultdict(list)
    for k, h in enumerate(hazards):
        by_district[h.district].append(k)

    def pick(team, today):
        avail = {
            n: [k for k in by_district[n] if not done[k] and k not in busy
                and hazards[k].attrs["submitted_on"] <= today]
            for n in names
        }  # fmt: skip
        if rng.random() < 0.6 and released_d[team.home] < goal[team.home] and avail[team.home]:
            district = team.home
        else:
            weights = np.array(
                [max(goal[n] - released_d[n], 0.02 * goal[n]) * bool(avail[n]) for n in names]
            )
            if weights.sum() <= 0:
                return -1
            district = names[rng.choice(len(names), p=weights / weights.sum())]
        ok = avail[district]
        sample = rng.choice(ok, size=min(6, len(ok)), replace=False)
        if team.last is None:
            return int(sample[0])
        return int(min(sample, key=lambda k: hazards[k].laea.centroid.distance(team.last)))

    for w, monday in enumerate(mondays):
        budget = targets[w]
        share_on = float(np.clip(rng.normal(0.68, 0.08), 0.45, 0.9))
        n_active = int(np.clip(round(3 + 12 * min(1.0, (w + 1) / 70)), 3, len(teams)))
        active = [t for t in teams[:n_active] if rng.random() < 0.5] or teams[:1]
        split = rng.dirichlet(np.full(len(active), 4.0)) * budget * share_on
        on_hazard = 0.0
        for team, amount in zip(active, split, strict=True):
            day = monday + dt.timedelta(days=int(rng.integers(0, 6)))
            day = min(max(day, FIRST_DAY), LAST_DAY)
            left = amount * 1e4
            for _ in range(3):
                if left < 1.5e4:
                    break
                if team.hazard < 0:
                    team.hazard = pick(team, day)
                    if team.hazard < 0:
                        break
                    busy.add(team.hazard)
                    cutter = state[team.hazard] = StripCutter(hazards[team.hazard])
                    team.cursor = cutter.umin
                    # Most tasks release part of a record and leave the rest as hazard.
                    full = rng.random() < 0.42
                    frac = 1.0 if full else rng.uniform(0.2, 0.85)
                    team.stop = cutter.umin + frac * (cutter.umax - cutter.umin)
                k = team.hazard
                cutter = state[k]
                h = hazards[k]
                full = team.stop >= cutter.umax
                whole = full and team.cursor == cutter.umin and h.laea.area < 1.3 * left
                if whole and rng.random() < 0.7:
                    geom_ll, area = h.lonlat, h.laea.area
                    end = cutter.umax
                else:
                    start = team.cursor
                    if start > cutter.umin and rng.random() < 0.06:
                        start -= rng.uniform(5, 40)  # a strip surveyed again
                    end = min(cutter.end_for(start, left), team.stop)
                    if full and end >= cutter.umax - 1.0:
                        end = cutter.umax
                    geom_ll = cutter.cut(start, end)
                    area = 0.0 if geom_ll is None else to_laea(geom_ll).area
                team.cursor = end
                if geom_ll is not None:
                    releases.append(
                        {"day": day, "geometry": geom_ll, "hazard": k, "org": team.name,
                         "area": area / 1e4, "onh": True}
                    )  # fmt: skip
                    released_d[h.district] += area / 1e4
                    on_hazard += area
                    h.attrs["worked"] = True
                left -= area
                team.last = h.laea.centroid
                if end >= team.stop - 1.0 or geom_ll is None:
                    done[k] = True
                    busy.discard(k)
                    h.attrs["closed"] = full and end >= cutter.umax
                    team.hazard = -1
                else:
                    break
        # Released land outside the recorded hazards.
        left = budget * 1e4 - on_hazard
        while left > 1e4:
            name = names[rng.choice(len(names), p=_off_weights(names))]
            di = names.index(name)
            ks = by_district[name]
            near = hazards[int(rng.choice(ks))].laea.centroid if ks else dist_laea[di].centroid
            geom = off_hazard_polygon(rng, tree, union, near, left / 1e4 + 3)
            if geom is None:
                continue
            geom_ll = ccw(to_lonlat(geom))
            if not geom_ll.is_valid:
                continue
            area = to_laea(geom_ll).area
            day = monday + dt.timedelta(days=int(rng.integers(0, 6)))
            day = min(max(day, FIRST_DAY), LAST_DAY)
            org = ORGANISATIONS[int(rng.integers(0, n_active))]
            releases.append(
                {"day": day, "geometry": geom_ll, "hazard": -1, "org": org,
                 "area": area / 1e4, "onh": False}
            )  # fmt: skip
            left -= area
    for k, h in enumerate(hazards):
        if h.attrs.get("closed"):
            h.attrs["status"] = "closed"
        elif h.attrs.get("worked"):
            h.attrs["status"] = "worked_on"
        else:
            h.attrs["status"] = "open"
        del k
    finish_releases(rng, releases, hazards)
    return releases


def _off_weights(names):
    weights = np.array([PLAN[n]["area"] ** 0.7 for n in names], dtype=float)
    return weights / weights.sum()


def finish_releases(rng, releases, hazards):
    """Give releases a method, found items and an identifier."""
    releases.sort(key=lambda r: (r["day"], r["org"], r["area"]))
    dens = {}
    for k, h in enumerate(hazards):
        a = ha(h.laea)
        dens[k] = ((h.attrs["mines_ap"] + 0.5) / a, (h.attrs["mines_at"] + 0.5) / a)
    mean_ap = np.mean([d[0] for d in dens.values()])
    mean_at = np.mean([d[1] for d in dens.values()])
    lam = np.zeros((len(releases), 3))
    for i, r in enumerate(releases):
        if r["onh"]:
            method = rng.choice(["cancelled", "reduced", "cleared"], p=[0.46, 0.33, 0.21])
        else:
            method = rng.choice(["cancelled", "reduced", "cleared"], p=[0.5, 0.22, 0.28])
        r["method"] = str(method)
        if method == "cancelled":
            continue
        weight = r["area"] * (1.0 if method == "cleared" else 0.35)
        if r["onh"]:
            d_ap, d_at = dens[r["hazard"]]
            fac = (np.clip(d_ap / mean_ap, 0.2, 4), np.clip(d_at / mean_at, 0.2, 4), 1.0)
        else:
            fac = (0.3, 0.3, 1.8)
        lam[i] = weight * np.array(fac) * rng.gamma(0.8, 1 / 0.8, 3)
    total_area = sum(r["area"] for r in releases)
    rates = np.array([0.16, 0.075, 0.34])  # items per released hectare, ANAMA 2022
    lam *= rates * total_area / lam.sum(0)
    counts = rng.poisson(lam)
    per_year = defaultdict(int)
    for r, c in zip(releases, counts, strict=True):
        year = r["day"].year
        per_year[year] += 1
        r["release_id"] = f"R-{year}-{per_year[year]:05d}"
        r["items"] = [int(x) for x in c]


# --------------------------------------------------------------------------- output


def _coords(geom):
    if isinstance(geom, Polygon):
        return [[[float(x), float(y)] for x, y in ring.coords] for ring in _rings(geom)]
    return [_coords(p) for p in geom.geoms]


def _rings(poly):
    return [poly.exterior, *poly.interiors]


def write_geojson(path, name, features):
    """Write a FeatureCollection deterministically: one feature per line, six decimals.

    Parameters
    ----------
    path : pathlib.Path
        Output file.
    name : str
        Layer name.
    features : list of tuple
        ``(properties, geometry)`` pairs, geometry in lon/lat.
    """
    lines = []
    for props, geom in features:
        gtype = "Polygon" if isinstance(geom, Polygon) else "MultiPolygon"
        feat = {
            "type": "Feature",
            "properties": props,
            "geometry": {"type": gtype, "coordinates": _coords(geom)},
        }
        lines.append(json.dumps(feat, ensure_ascii=False, separators=(",", ":")))
    text = (
        '{"type":"FeatureCollection","name":' + json.dumps(name) + ",\n"
        '"features":[\n' + ",\n".join(lines) + "\n]}\n"
    )
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def summary(districts, hazards, releases, dist_laea):
    """Print records, mines and areas per district and released area per year."""
    print(f"{'district':<10} {'records':>7} {'mines':>7} {'AP':>7} {'AT':>7} {'area_ha':>9}")
    for d in districts:
        hs = [h for h in hazards if h.district == d["district"]]
        ap = sum(h.attrs["mines_ap"] for h in hs)
        at = sum(h.attrs["mines_at"] for h in hs)
        area = sum(ha(h.laea) for h in hs)
        print(f"{d['district']:<10} {len(hs):>7} {ap + at:>7} {ap:>7} {at:>7} {area:>9.0f}")
    hz_union = shapely.union_all([h.laea for h in hazards])
    rel_laea = to_laea(np.array([r["geometry"] for r in releases]))
    rel_union = shapely.union_all(rel_laea)
    hz_ha = ha(hz_union)
    on = ha(shapely.intersection(hz_union, rel_union))
    total_rel = ha(rel_union)
    print(f"records {len(hazards)}, recorded hazard area (union) {hz_ha:,.0f} ha")
    per_year = defaultdict(float)
    for r, g in zip(releases, rel_laea, strict=True):
        per_year[r["day"].year] += ha(g)
    print("released area per year (sum of polygons, ha):")
    for year in sorted(per_year):
        print(f"  {year}: {per_year[year]:>9,.0f}")
    methods = defaultdict(float)
    for r, g in zip(releases, rel_laea, strict=True):
        methods[r["method"]] += ha(g)
    print("by method (ha): " + ", ".join(f"{m} {v:,.0f}" for m, v in sorted(methods.items())))
    print(f"releases {len(releases)}, released area (union) {total_rel:,.0f} ha")
    print(f"released on recorded hazards {on:,.0f} ha = {100 * on / total_rel:.0f} % of released")
    print(f"share of recorded hazard area released {100 * on / hz_ha:.1f} %")
    status = defaultdict(int)
    for h in hazards:
        status[h.attrs["status"]] += 1
    print("status: " + ", ".join(f"{k} {v}" for k, v in sorted(status.items())))
    del dist_laea


def main(argv=None):
    """Run the script: parse arguments, build the layers, write the files."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--seed", type=int, default=2020)
    parser.add_argument("--out", type=Path, default=DATA)
    args = parser.parse_args(argv)
    out = args.out
    source = args.source
    if not source.is_file():
        sys.exit(f"make_sample.py: no district file at {source}; give one with --source FILE")
    out.mkdir(parents=True, exist_ok=True)
    print(f"districts from {source}", file=sys.stderr)
    rng = np.random.default_rng(args.seed)
    districts = read_districts(source)
    dist_laea = to_laea(np.array([d["geometry"] for d in districts]))
    hazards = make_hazards(rng, districts, dist_laea)
    releases = make_releases(rng, hazards, districts, dist_laea)

    write_geojson(
        out / "districts.geojson",
        "districts",
        [({k: d[k] for k in DISTRICT_FIELDS}, d["geometry"]) for d in districts],
    )
    hz_features = []
    for h in hazards:
        a = h.attrs
        props = {
            "hazard_id": a["hazard_id"],
            "mines_ap": a["mines_ap"],
            "mines_at": a["mines_at"],
            "classification": a["classification"],
            "status": a["status"],
            "district": h.district,
            "source": a["source"],
            "submitted_on": a["submitted_on"].isoformat(),
        }
        hz_features.append((props, h.lonlat))
    write_geojson(out / "hazards.geojson", "hazards", hz_features)
    rel_features = []
    for r in releases:
        props = {
            "release_id": r["release_id"],
            "released_on": r["day"].isoformat(),
            "method": r["method"],
            "items_ap": r["items"][0],
            "items_at": r["items"][1],
            "items_uxo": r["items"][2],
            "hazard_id": hazards[r["hazard"]].attrs["hazard_id"] if r["hazard"] >= 0 else None,
            "organisation": r["org"],
        }
        rel_features.append((props, r["geometry"]))
    write_geojson(out / "releases.geojson", "releases", rel_features)
    summary(districts, hazards, releases, dist_laea)


if __name__ == "__main__":
    main()
