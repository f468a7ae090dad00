"""`minemap record`."""

from __future__ import annotations

from pathlib import Path

import click

from minemap import io as mio
from minemap import records
from minemap import schema as s
from minemap.commands._common import (
    LAYER_OUTPUTS,
    FiniteFloat,
    OutputFile,
    check_outputs,
    overwrite_option,
    verbosity,
)
from minemap.commands._options import output_option
from minemap.errors import SchemaError

#: Output formats: a GeoPackage takes every layer, the others the perimeter only.
_GPKG = ".gpkg"
_LAYERS = ("perimeter", "rows", "points")


@click.command()
@click.argument("record", type=click.Path(path_type=Path))
@output_option(
    OutputFile(LAYER_OUTPUTS, "a record's layers"),
    help="Output file. .gpkg holds three layers (perimeter, rows, points); any other format "
    "(.geojson, .shp, .fgb, .parquet, .csv...) holds the perimeter only. Without it, the "
    "perimeter is printed as GeoJSON to stdout.",
)
@click.option(
    "--warn-misclosure",
    type=FiniteFloat(min=0),
    default=records.WARN_MISCLOSURE_M,
    show_default=True,
    help="Warn when the closing leg misses the first perimeter point by more metres.",
)
@click.option(
    "--max-misclosure",
    type=FiniteFloat(min=0),
    default=records.MAX_MISCLOSURE_M,
    show_default=True,
    help="Refuse the record (exit 1) when the closing leg misses by more metres.",
)
@overwrite_option
@verbosity
def record(record, output, warn_misclosure, max_misclosure, overwrite):
    """Turn a minefield record (bearings and distances from reference points) into geometry.

    RECORD is a .json or .csv record (docs/records.md). The perimeter is a hazard
    with the record's id, mine counts and dates, ready to join the hazards layer.
    A summary goes to stderr.
    """
    check_outputs([output], overwrite)
    rec = records.read_record(record)
    result = records.traverse(
        rec, warn_misclosure_m=warn_misclosure, max_misclosure_m=max_misclosure
    )
    if output is None:
        click.echo(mio.writable(result.perimeter).to_json(drop_id=True))
    elif output.suffix.lower() == _GPKG:
        _write_gpkg(result, output, overwrite)
    else:
        if output.suffix.lower() not in mio.WRITE_FORMATS:
            raise SchemaError(
                f"{output}: unknown output format; use .gpkg (every layer) or one of "
                f"{', '.join(sorted(mio.WRITE_FORMATS))} (perimeter only)"
            )
        mio.write_layer(result.perimeter, output, overwrite=overwrite)
    misclosure = (
        "n/a (no closing leg)" if result.misclosure_m is None else f"{result.misclosure_m:.3f} m"
    )
    click.echo(
        f"record {rec.record_id}: {len(rec.points)} points, {len(result.rows)} row(s), "
        f"perimeter {result.area_ha:,.4f} ha (ellipsoid), misclosure {misclosure}, "
        f"{int(result.perimeter[s.MINES_AP].iloc[0])} AP / "
        f"{int(result.perimeter[s.MINES_AT].iloc[0])} AT mines"
        + (f" -> {output}" if output is not None else ""),
        err=True,
    )


def _write_gpkg(result: records.Traverse, path: Path, overwrite: bool) -> None:
    """Every layer in one GeoPackage, written atomically and read back."""
    mio.write_layers(dict(zip(_LAYERS, result, strict=True)), path, overwrite=overwrite)


command = record
