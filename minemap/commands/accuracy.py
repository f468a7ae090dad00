"""`minemap accuracy`: how well the submitted records match the devices found."""

from __future__ import annotations

from pathlib import Path

import click

from minemap import io as mio
from minemap.commands._common import (
    EXISTING,
    MAP_OUTPUTS,
    TABLE_OUTPUTS,
    FiniteFloat,
    OneOrMore,
    OutputFile,
    check_outputs,
    load_all,
    note,
    overwrite_option,
    read_options,
    rejects_option,
    require_inputs,
    verbosity,
    workspace_options,
)
from minemap.commands._engine import engine_options
from minemap.commands._options import output_option


def load_with_items(
    hazards, releases, districts, items, rejects: Path | None, overwrite: bool, *, required=()
):
    """Hazards, releases, districts and items (``None`` where neither given nor in the
    ``--workspace``); see ``load_all``. ``required`` must be in the workspace."""
    kept = load_all(
        hazards=hazards,
        releases=releases,
        districts=districts,
        items=items,
        rejects=rejects,
        overwrite=overwrite,
        from_workspace=("hazards", "releases", "districts", "items"),
        required=required,
    )
    return kept["hazards"], kept["releases"], kept["districts"], kept["items"]


def rollup_paths(output: Path) -> tuple[Path, Path]:
    """``OUT.csv`` -> ``OUT_by_district.csv``, ``OUT_by_source.csv`` beside it."""
    return (
        output.with_name(f"{output.stem}_by_district{output.suffix or '.csv'}"),
        output.with_name(f"{output.stem}_by_source{output.suffix or '.csv'}"),
    )


@click.command("accuracy")
@click.option(
    "--hazards",
    cls=OneOrMore,
    type=EXISTING,
    help="Submitted hazard records / minefield maps (one or more files) "
    "[required without --workspace].",
)
@click.option(
    "--items",
    cls=OneOrMore,
    type=EXISTING,
    help="Devices found (points) [required without --workspace].",
)
@click.option(
    "--releases",
    cls=OneOrMore,
    type=EXISTING,
    help="Released land: only devices near reduced/cleared ground count; adds searched_share.",
)
@click.option(
    "--tolerance",
    "tolerance_m",
    type=FiniteFloat(min=0),
    default=0.0,
    show_default=True,
    metavar="METRES",
    help="A device this close to a record counts as inside it.",
)
@click.option(
    "--search",
    "search_m",
    type=FiniteFloat(min=0, min_open=True),
    default=200.0,
    show_default=True,
    metavar="METRES",
    help="How far from a record a device may lie and still belong to it.",
)
@click.option(
    "--min-devices",
    type=click.IntRange(min=1),
    default=3,
    show_default=True,
    help="Devices a record needs for iou and for a shift estimate (which needs at least 8; "
    "see docs/accuracy.md).",
)
@output_option(
    OutputFile(TABLE_OUTPUTS, "a table"),
    required=True,
    help="Per-record table (.csv or .xlsx); OUT_by_district and OUT_by_source, in the same "
    "format, are written beside it.",
)
@click.option(
    "--html",
    "map_path",
    type=OutputFile(MAP_OUTPUTS, "a map"),
    help="Also write an offline HTML map with the accuracy layer (records by hit rate, "
    "arrows for shifts).",
)
@rejects_option
@workspace_options
@read_options
@engine_options
@overwrite_option
@verbosity
def accuracy(
    hazards,
    items,
    releases,
    tolerance_m,
    search_m,
    min_devices,
    output,
    map_path,
    rejects,
    overwrite,
    engine,
    scheduler,
    chunk_size,
):
    """Map accuracy: each submitted record against the devices found near it.

    Writes hit_rate, found_vs_recorded_ap/_at, offset_m, offset_bearing_deg and
    iou per record (see docs/accuracy.md), rolled up per district and per
    source map. Prints the per-source roll-up.
    """
    from minemap.accuracy import accuracy as measure
    from minemap.accuracy import rollup

    require_inputs(hazards=hazards, items=items)
    by_district, by_source = rollup_paths(output)
    check_outputs([output, by_district, by_source, map_path, rejects], overwrite)
    hz, rel, _, it = load_with_items(
        hazards, releases, None, items, rejects, overwrite, required=("hazards", "items")
    )
    table = measure(
        hz, rel, it, tolerance_m=tolerance_m, search_m=search_m, min_devices=min_devices
    )
    districts_table = rollup(table, by="district")
    sources_table = rollup(table, by="source")
    mio.write_table(table, output, overwrite=overwrite)
    mio.write_table(districts_table, by_district, overwrite=overwrite)
    mio.write_table(sources_table, by_source, overwrite=overwrite)
    if map_path is not None:
        from minemap.accuracy import assigned_devices

        devices = assigned_devices(hz, rel, it, tolerance_m=tolerance_m, search_m=search_m)
        engine_args = {"engine": engine, "scheduler": scheduler, "chunk_size": chunk_size}
        _write_map(hz, rel, table, devices, map_path, overwrite, engine_args)
    note(f"accuracy: {len(table)} record(s) written to {output}")
    click.echo(_format(sources_table))


def _write_map(hazards, releases, table, devices, path: Path, overwrite: bool, engine_args) -> None:
    import geopandas as gpd
    import pandas as pd

    from minemap import contamination
    from minemap import schema as s
    from minemap.render import render_map, write_map
    from minemap.render.accuracy_layer import accuracy_layer

    if releases is None:
        releases = gpd.GeoDataFrame(
            {s.RELEASE_ID: [], s.RELEASED_ON: pd.Series([], dtype="datetime64[ns]"), s.METHOD: []},
            geometry=[],
            crs=s.CANONICAL_CRS,
        )
    rem = contamination.remaining(hazards, releases, **engine_args)  # the map's ground
    m = render_map(
        rem,
        hazards=hazards,
        releases=releases if len(releases) else None,
        title="Map accuracy",
        extra_layers=[accuracy_layer(hazards, table, devices=devices)],
    )
    write_map(m, path, overwrite=overwrite)


def _format(table) -> str:
    from minemap import schema as s

    key = table.columns[0]
    head = f"{'source':<40} {'records':>7} {'devices':>7} {'hit rate':>8} "
    lines = [head + f"{'shift est.':>10} {'offset m':>8}"]
    for _, r in table.iterrows():
        hit = "" if r[s.HIT_RATE] != r[s.HIT_RATE] else f"{r[s.HIT_RATE]:.0%}"
        # The median over the records with an estimate; empty when none has one.
        off = "" if r[s.OFFSET_M] != r[s.OFFSET_M] else f"{r[s.OFFSET_M]:.0f}"
        lines.append(
            f"{str(r[key])[:40]:<40} {r[s.RECORDS]:>7} {r[s.DEVICES_NEAR]:>7} {hit:>8} "
            f"{r[s.RECORDS_WITH_OFFSET]:>10} {off:>8}"
        )
    return "\n".join(lines)


command = accuracy
