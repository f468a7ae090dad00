"""Benchmark: remaining ground per district on many as-of dates, against one ``remaining``.

    python benchmarks/bench_over_time.py --workdir bench-work --dates 52

Reads the inputs that ``bench_remaining.py`` wrote into ``--workdir``
(``hazards.gpkg``, ``releases.gpkg``, ``districts.gpkg``; generate them with
``bench_remaining.py --only floor`` if needed) and times, in one process:

* ``one remaining``: ``by_district(remaining(hazards, releases, districts))``,
  the figure for one day (all releases);
* ``over time``: ``remaining_over_time(...)`` on ``--dates`` weekly days ending
  on the last release (what ``minemap progress`` and the map's time slider
  need), from one partition;
* ``per date`` (with ``--per-date K``): ``by_district(remaining(..., as_of=day))``
  on K of those days, the way each date used to be a new computation; its
  cost for every date is extrapolated (K runs × dates ÷ K) and labelled so.

It checks that the over-time figures equal ``remaining`` as of the same days
within 1e-9 relative (on the last day, and on every day run per date) and
prints the ratios. Each contender runs once after a warm-up on a tenth of the
inputs, so imports and first-call costs are not counted.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def _check(table, day, expected, problems: list[str]) -> None:
    got = table[table["as_of"] == day.date()].set_index("district")["remaining_area_ha"]
    want = expected.set_index("district")["remaining_area_ha"]
    for district, value in want.items():
        other = float(got.get(district, 0.0))
        if abs(other - value) > 1e-9 * max(abs(value), 1.0):
            problems.append(f"{day.date()} {district}: over time {other!r}, remaining {value!r}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=Path("bench-work"))
    parser.add_argument("--dates", type=int, default=52, help="Weekly as-of days.")
    parser.add_argument(
        "--per-date", type=int, default=0, metavar="K", help="Also run remaining() on K days."
    )
    args = parser.parse_args(argv)

    import geopandas as gpd
    import pandas as pd

    import minemap as mm

    folder = args.workdir.resolve()
    hz, rel, ds = (
        gpd.read_file(folder / f"{n}.gpkg", engine="pyogrio", use_arrow=True)
        for n in ("hazards", "releases", "districts")
    )
    last = pd.to_datetime(rel["released_on"]).max().normalize()
    days = [last - pd.Timedelta(weeks=w) for w in range(args.dates - 1, -1, -1)]
    print(f"{len(hz):,} hazards, {len(rel):,} releases; {len(days)} weekly days to {last.date()}")

    # Warm-up: imports, projections, thread pool.
    small = len(hz) // 10
    mm.by_district(mm.remaining(hz.iloc[:small], rel.iloc[: len(rel) // 10], ds))
    mm.remaining_over_time(hz.iloc[:small], rel.iloc[: len(rel) // 10], ds, days[-2:])

    start = time.perf_counter()
    one = mm.by_district(mm.remaining(hz, rel, ds, as_of=last))
    t_one = time.perf_counter() - start

    start = time.perf_counter()
    table = mm.remaining_over_time(hz, rel, ds, days)
    t_many = time.perf_counter() - start

    problems: list[str] = []
    _check(table, last, one, problems)
    t_per = None
    if args.per_date:
        step = max(1, len(days) // args.per_date)
        chosen = days[::step][: args.per_date]
        start = time.perf_counter()
        for day in chosen:
            _check(table, day, mm.by_district(mm.remaining(hz, rel, ds, as_of=day)), problems)
        t_per = (time.perf_counter() - start) / len(chosen) * len(days)

    for problem in problems[:20]:
        print(f"DISAGREE {problem}")
    print("figures agree within 1e-9" if not problems else "figures DISAGREE")
    print(f"\n{'contender':<26} {'seconds':>9} {'vs one remaining':>17}")
    print(f"{'one remaining':<26} {t_one:>9.2f} {1:>16.2f}x")
    print(f"{f'over time, {len(days)} dates':<26} {t_many:>9.2f} {t_many / t_one:>16.2f}x")
    if t_per is not None:
        label = f"per date x{len(days)} (extrap.)"
        print(f"{label:<26} {t_per:>9.2f} {t_per / t_one:>16.2f}x")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
