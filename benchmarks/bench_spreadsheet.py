"""Benchmark: reading a device list from an .xlsx workbook against the same rows as CSV.

    python benchmarks/bench_spreadsheet.py --rows 100000

1. Writes N found devices (points) twice, with the same values: as an .xlsx
   workbook shaped like an Excel export (numbers as numbers, dates as formatted
   dates, shared strings, Azerbaijani text) and as a UTF-8 CSV.
2. Times, each the best of ``--repeat`` runs, in the same process:

   * ``file``: ``minemap.io.read_file``, from the file to features (cells read,
     geometry made; for the workbook also its archive, member sizes and sheet
     extent checked first);
   * ``checked``: ``minemap.io.load_layers(..., "items")``, what a command does
     with a file: read, columns mapped, every feature checked.

3. Checks that both formats gave the same features, and prints the times and
   the ratios .xlsx / CSV. The target (issue 13): reading the .xlsx within 3x of
   the CSV.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path


def build(folder: Path, n: int) -> tuple[Path, Path]:
    import datetime as dt

    import numpy as np
    from openpyxl import Workbook

    rng = np.random.default_rng(13)
    lon = np.round(46.5 + rng.random(n) * 1.0, 6)
    lat = np.round(39.5 + rng.random(n) * 0.8, 6)
    days = rng.integers(0, 700, n)
    kinds = np.array(["AP", "AT", "UXO"])[rng.integers(0, 3, n)]
    models = np.array(["PMN-2", "TM-62M", "OZM-72", "Minaatan mərmisi 82 mm"])[
        rng.integers(0, 4, n)
    ]
    depth = rng.integers(0, 40, n)
    start = dt.date(2023, 1, 2)
    header = ["item_id", "found_on", "item_type", "longitude", "latitude", "model", "depth_cm"]
    xlsx, csv = folder / "items.xlsx", folder / "items.csv"
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Tapılanlar")
    sheet.append(header)
    from openpyxl.cell import WriteOnlyCell

    lines = [",".join(header)]
    for i in range(n):
        found = start + dt.timedelta(days=int(days[i]))
        date_cell = WriteOnlyCell(sheet, value=found)
        date_cell.number_format = "dd.mm.yyyy"
        sheet.append(
            [
                f"IT-{i + 1:06d}",
                date_cell,
                str(kinds[i]),
                float(lon[i]),
                float(lat[i]),
                str(models[i]),
                int(depth[i]),
            ]
        )
        lines.append(
            f"IT-{i + 1:06d},{found:%Y-%m-%d},{kinds[i]},{float(lon[i])!r},{float(lat[i])!r},"
            f"{models[i]},{depth[i]}"
        )
    workbook.save(xlsx)
    csv.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return xlsx, csv


def best(repeat: int, work) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - t)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workdir", type=Path, help="keep the files here (default: a temp dir)")
    args = parser.parse_args()

    from minemap import io as mio

    folder = args.workdir or Path(tempfile.mkdtemp(prefix="bench-sheet-"))
    folder.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    xlsx, csv = build(folder, args.rows)
    print(
        f"{args.rows:,} rows written in {time.perf_counter() - t:.1f} s: {xlsx} "
        f"({xlsx.stat().st_size / 1e6:.1f} MB), {csv} ({csv.stat().st_size / 1e6:.1f} MB)"
    )
    mio.read_file(csv)  # imports and caches warmed for both
    rows = []
    for name, work in (
        ("file", lambda p: mio.read_file(p)),
        ("checked", lambda p: mio.load_layers([p], "items")),
    ):
        seconds_csv, from_csv = best(args.repeat, lambda w=work: w(csv))
        seconds_xlsx, from_xlsx = best(args.repeat, lambda w=work: w(xlsx))
        rows.append((name, seconds_csv, seconds_xlsx))
        if name == "checked":
            a, b = from_csv.kept, from_xlsx.kept
            assert len(a) == len(b) == args.rows, (len(a), len(b))
            assert (a["item_id"] == b["item_id"]).all()
            assert (a["found_on"] == b["found_on"]).all()
            assert a.geometry.geom_equals_exact(b.geometry, 0).all()
    print("same features from both files\n")
    print(f"{'read':<10}{'csv s':>9}{'xlsx s':>9}{'xlsx / csv':>12}")
    for name, seconds_csv, seconds_xlsx in rows:
        print(
            f"{name:<10}{seconds_csv:>9.2f}{seconds_xlsx:>9.2f}{seconds_xlsx / seconds_csv:>11.2f}x"
        )
    ratio = rows[0][2] / rows[0][1]
    print(
        f"\ntarget (issue 13): the .xlsx read within 3x of the CSV: {ratio:.2f}x, "
        + ("met" if ratio <= 3 else "NOT met")
    )


if __name__ == "__main__":
    main()
