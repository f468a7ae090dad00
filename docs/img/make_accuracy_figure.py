"""Draw docs/img/accuracy-measures.png: a record, its devices and the measures (matplotlib).

Run: python docs/img/make_accuracy_figure.py (needs matplotlib; not a minemap dependency).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import shapely
import shapely.affinity

from minemap.accuracy import estimate_offset

HERE = Path(__file__).resolve().parent


def _outline(ax, geom, **kw):
    for part in shapely.get_parts(geom):
        x, y = part.exterior.xy
        ax.plot(x, y, **kw)


def main() -> None:
    rng = np.random.default_rng(3)
    record = shapely.affinity.rotate(shapely.box(0, 0, 400, 250), 20, origin="centroid")
    true_shift = np.array([90.0, 45.0])
    field = shapely.affinity.translate(record, *true_shift)
    minx, miny, maxx, maxy = field.bounds
    xy = rng.uniform([minx, miny], [maxx, maxy], size=(260, 2))
    xy = xy[shapely.contains_xy(field, xy[:, 0], xy[:, 1])][:70]
    strays = np.array([[-60.0, 330.0], [520.0, -40.0]])
    xy = np.vstack([xy, strays])
    fit = estimate_offset(xy, record)
    t = fit.shift
    inside = shapely.contains_xy(record, xy[:, 0], xy[:, 1])
    hull = shapely.buffer(shapely.convex_hull(shapely.multipoints(xy[:-2])), 10)

    fig, ax = plt.subplots(figsize=(8.5, 6.2), dpi=110)
    ax.fill(*record.exterior.xy, color="#fdae61", alpha=0.35, label="record (submitted polygon)")
    _outline(ax, record, color="#d7191c", lw=2)
    ax.fill(*hull.exterior.xy, color="#2b83ba", alpha=0.12, label="found area (buffered hull)")
    _outline(ax, shapely.affinity.translate(record, *t), color="#6a1b9a", lw=1.3, ls="--")
    ax.plot([], [], color="#6a1b9a", ls="--", label="record moved by the estimated shift")
    ax.scatter(*xy[inside].T, s=16, c="#1a9641", zorder=3, label="device inside (hit)")
    ax.scatter(*xy[~inside].T, s=16, c="#d7191c", marker="x", zorder=3, label="device outside")
    c = np.array(record.centroid.coords[0])
    circle = shapely.Point(c + t).buffer(fit.uncertainty_m)
    ax.fill(*circle.exterior.xy, color="#6a1b9a", alpha=0.15, lw=0)
    ax.plot([], [], color="#6a1b9a", alpha=0.3, lw=6, label="uncertainty (shifts that fit as well)")
    ax.annotate(
        "", xy=c + t, xytext=c, arrowprops={"arrowstyle": "-|>", "color": "#6a1b9a", "lw": 2.5}
    )
    bearing = np.degrees(np.arctan2(t[0], t[1])) % 360
    ax.text(
        *(c + t / 2 + [-10, 18]),
        f"offset_m = {np.hypot(*t):.0f} m\noffset_bearing_deg = {bearing:.0f}°\n"
        f"offset_uncertainty_m = {fit.uncertainty_m:.0f} m",
        color="#6a1b9a",
        fontsize=9,
        ha="right",
    )
    hit_rate = inside.mean()
    iou = record.intersection(hull).area / record.union(hull).area
    ax.set_title(
        f"hit_rate = {inside.sum()} / {len(xy)} = {hit_rate:.0%}    iou = {iou:.2f}    "
        f"(true shift {np.hypot(*true_shift):.0f} m)",
        fontsize=10,
    )
    ax.set_aspect("equal")
    ax.set_xlabel("metres east (equal-area projection)")
    ax.set_ylabel("metres north")
    ax.legend(loc="lower right", fontsize=8, framealpha=0.9)
    fig.tight_layout()
    fig.savefig(HERE / "accuracy-measures.png")
    print(f"offset {t} ± {fit.uncertainty_m:.1f} m, hit rate {hit_rate:.2f}, iou {iou:.2f}")


if __name__ == "__main__":
    main()
