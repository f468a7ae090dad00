"""`minemap progress`: released ground over time, items found, completion forecast."""

from __future__ import annotations

from pathlib import Path

import click
import pandas as pd

from minemap import io as mio
from minemap import schema as s
from minemap._text import show
from minemap.commands._common import (
    EXISTING,
    OneOrMore,
    check_outputs,
    load_all,
    note,
    overwrite_option,
    read_options,
    reading,
    rejects_option,
    require_inputs,
    verbosity,
    workspace_options,
)
from minemap.commands._options import output_dir_option

PROGRESS_CSV = "progress.csv"
FORECAST_CSV = "forecast.csv"
COMPARISON_CSV = "comparison.csv"
#: The tables' formats (``--table-format``): their files' extension.
TABLE_FORMATS = ("csv", "xlsx")


def table_paths(folder: Path, reports: bool, table_format: str = "csv") -> list[Path]:
    """progress, forecast (and comparison) tables in ``folder``, in ``table_format``."""
    names = [PROGRESS_CSV, FORECAST_CSV, *([COMPARISON_CSV] if reports else [])]
    return [folder / Path(n).with_suffix(f".{table_format}") for n in names]


def output_paths(folder: Path, reports: bool, table_format: str = "csv") -> list[Path]:
    """Every file the command writes into ``folder``."""
    from minemap.charts import chart_paths

    return table_paths(folder, reports, table_format) + chart_paths(folder)


def format_forecast(table: pd.DataFrame) -> str:
    """The forecast table as aligned text (an empty date reads "-"; the note says why)."""
    from minemap.forecast import NOTE

    def day(value) -> str:
        return "-" if pd.isna(value) else f"{pd.Timestamp(value):%Y-%m-%d}"

    heads = ["district", "remaining ha", "ha/week", "earliest", "central", "latest", "note"]
    rows = [
        [
            str(r[s.DISTRICT]),
            "" if pd.isna(r[s.REMAINING_HA]) else f"{r[s.REMAINING_HA]:,.1f}",
            "" if pd.isna(r[s.RATE_HA_PER_WEEK]) else f"{r[s.RATE_HA_PER_WEEK]:,.1f}",
            day(r[s.COMPLETION_EARLIEST]),
            day(r[s.COMPLETION_CENTRAL]),
            day(r[s.COMPLETION_LATEST]),
            "" if pd.isna(r.get(NOTE)) else str(r[NOTE]),
        ]
        for _, r in table.iterrows()
    ]
    widths = [max(len(x) for x in col) for col in zip(heads, *rows, strict=False)]

    def line(cells):
        first = cells[0].ljust(widths[0])
        middle = [c.rjust(w) for c, w in zip(cells[1:-1], widths[1:-1], strict=True)]
        return "  ".join([first, *middle, cells[-1]]).rstrip()

    return "\n".join([line(heads), "  ".join("-" * w for w in widths[:-1]), *map(line, rows)])


@click.command("progress")
@click.option(
    "--releases",
    cls=OneOrMore,
    type=EXISTING,
    help="Released land with released_on and method (one or more files) "
    "[required without --workspace].",
)
@click.option(
    "--hazards",
    cls=OneOrMore,
    type=EXISTING,
    help="Submitted hazards: adds remaining_ha and the completion forecast.",
)
@click.option("--districts", type=EXISTING, help="District polygons (with a 'district' column).")
@click.option(
    "--reports",
    type=EXISTING,
    help="Bulletins CSV (weekly/monthly figures as printed): compared with the polygons "
    "in comparison.csv, never added to them.",
)
@click.option(
    "--items",
    cls=OneOrMore,
    type=EXISTING,
    help="Devices found (points); replaces the items counts on the releases.",
)
@click.option(
    "--as-of",
    "as_of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Last day counted (YYYY-MM-DD). Default: the last release date.",
)
@click.option(
    "--period",
    type=click.Choice(["week", "month"]),
    default="week",
    show_default=True,
    help="Rows of progress.csv and bars of the charts: weeks (from Monday) or months.",
)
@output_dir_option(
    required=True,
    help="Folder for progress.csv, forecast.csv, comparison.csv and the charts (SVG, PNG).",
)
@click.option(
    "--table-format",
    "table_format",
    type=click.Choice(TABLE_FORMATS),
    default="csv",
    show_default=True,
    help="Write the tables as .csv or as .xlsx workbooks (progress.xlsx, forecast.xlsx...).",
)
@rejects_option
@workspace_options
@read_options
@overwrite_option
@verbosity
def progress(
    releases,
    hazards,
    districts,
    reports,
    items,
    as_of,
    period,
    output,
    table_format,
    rejects,
    overwrite,
):
    """Clearance progress: released area per week or month, items found, forecast.

    Writes progress.csv (per period, district and method), forecast.csv (per
    district: remaining, rate and a completion range, see docs/progress.md)
    and burn-down, released-area and items charts as SVG and PNG (with
    --table-format xlsx, the tables as .xlsx workbooks). Prints the forecast
    table.
    """
    from minemap.bulletins import read_reports
    from minemap.charts import write_charts
    from minemap.forecast import forecast
    from minemap.progress import compare_reports
    from minemap.progress import progress as measure

    require_inputs(releases=releases)
    check_outputs([*output_paths(output, reports is not None, table_format), rejects], overwrite)
    bulletins = None
    if reports is not None:
        # --decimal (a reading option) is the decimal separator of every input's numbers
        # written as text, the bulletins' included.
        bulletins = read_reports(reports, decimal=reading()["decimal"])
        flagged = bulletins[bulletins[s.PROBLEM] != ""]
        for index, problem in flagged[s.PROBLEM].items():
            click.echo(f"{reports}: row {index + 2}: {problem}", err=True)
        # A figure settled by its neighbours rather than its source is worth a look.
        guessed = bulletins["area_reading"].fillna("").str.contains("neighbouring bulletins")
        for index, row in bulletins[guessed].iterrows():
            click.echo(
                f"{reports}: row {index + 2}: area {show(row['area_as_printed'])} read as "
                f"{row[s.AREA_HA]:g} ha: {row['area_reading']}",
                err=True,
            )
        note(
            f"reports: read {len(bulletins)}, with a problem {len(flagged)} "
            "(their unreadable figures are left empty)"
        )
    kept = load_all(
        hazards=hazards,
        releases=releases,
        districts=districts,
        items=items,
        rejects=rejects,
        overwrite=overwrite,
        from_workspace=("hazards", "releases", "districts", "items"),
        required=("releases",),
    )
    rel, hz, ds, it = (kept[k] for k in ("releases", "hazards", "districts", "items"))
    table = measure(hz, rel, ds, as_of=as_of, period=period, reports=bulletins, items=it)
    weekly = (
        table if period == "week" else measure(hz, rel, ds, as_of=as_of, period="week", items=it)
    )
    outlook = forecast(weekly)
    output.mkdir(parents=True, exist_ok=True)
    paths = table_paths(output, bulletins is not None, table_format)
    mio.write_table(table, paths[0], overwrite=overwrite)
    mio.write_table(outlook, paths[1], overwrite=overwrite)
    if bulletins is not None:
        comparison = compare_reports(rel, bulletins, districts=ds, as_of=as_of)
        mio.write_table(comparison, paths[2], overwrite=overwrite)
    write_charts(table, output, overwrite=overwrite, forecast=outlook)
    note(
        f"progress: {table[s.PERIOD].nunique()} {period}(s) to {table.attrs.get('as_of')} "
        f"written to {output}"
    )
    note(f"Completion forecast (as of {outlook.attrs.get('as_of')}):")
    click.echo(format_forecast(outlook))


command = progress
