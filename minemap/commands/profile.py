"""`minemap profile`: import profiles (`minemap profile draft`)."""

from __future__ import annotations

import codecs
from pathlib import Path

import click

from minemap import io as mio
from minemap import outputs
from minemap import schema as s
from minemap.commands._common import (
    OutputFile,
    check_outputs,
    note,
    overwrite_option,
    verbosity,
)
from minemap.commands._options import output_option
from minemap.errors import InputFileError
from minemap.profile import DraftSource, draft_profile, parse_profile

# A CRS to read a file that has none by: a draft looks only at its attributes.
_PLACEHOLDER_CRS = "EPSG:4326"


@click.group("profile")
def profile() -> None:
    """Import profiles: how one source's files map to minemap's columns and values."""


@profile.command("draft")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--kind", type=click.Choice(s.LAYER_KINDS), required=True, help="What the files hold."
)
@output_option(
    OutputFile((".toml",), "an import profile"),
    help="The profile to write (.toml). Without it, the draft is printed.",
)
@click.option(
    "--layer", metavar="NAME", help="Layer to read from multi-layer files (GeoPackage...)."
)
@click.option(
    "--encoding",
    metavar="CODEPAGE",
    help="Read Shapefiles without .cpg (and CSV that is not UTF-8) in this encoding, e.g. "
    "cp1254; the draft keeps it.",
)
@overwrite_option
@verbosity
def draft(files, kind, output, layer, encoding, overwrite) -> None:
    """Draft a profile from files of one source: their columns matched to minemap's,
    every value of a status, classification, method or item type column listed
    (mapped where minemap knows the word, left for you where not), and the CRS,
    encoding and date order they call for. Check it, fill in the gaps, and pass it
    to any command with --profile.
    """
    if encoding is not None:
        try:
            encoding = codecs.lookup(encoding).name
        except LookupError:
            raise click.BadParameter(
                f"{encoding!r} is not an encoding Python knows; use e.g. cp1254, cp1251",
                param_hint="--encoding",
            ) from None
    check_outputs([output], overwrite)
    sources = [_source(path, kind, layer, encoding) for path in files]
    text = draft_profile(sources, kind, encoding=encoding)
    parse_profile(text, name="the draft")  # what is written must read
    if output is None:
        click.echo(text, nl=False)
        return
    outputs.write_text(text, output, overwrite=overwrite)
    note(f"profile: drafted from {len(sources)} file(s), written to {output}")


def _source(path: Path, kind: str, layer, encoding) -> DraftSource:
    has_crs = True
    try:
        frame = mio.read_file(path, layer=layer, kind=kind, encoding=encoding)
    except InputFileError as exc:
        if "not valid" in exc.problem and encoding is None:
            raise InputFileError(
                path, f"{exc.problem}; or pass --encoding CODEPAGE to read it as it is"
            ) from None
        if "coordinate reference system" not in exc.problem:
            raise
        has_crs = False
        frame = mio.read_file(path, layer=layer, kind=kind, crs=_PLACEHOLDER_CRS, encoding=encoding)
    lacks_cpg = (
        path.suffix.lower() == ".shp"
        and encoding is None
        and not any(path.with_suffix(x).is_file() for x in (".cpg", ".CPG"))
    )
    return DraftSource(
        name=str(path),
        frame=frame,
        has_crs=has_crs,
        crs_name=frame.crs.name if has_crs and frame.crs is not None else None,
        lacks_cpg=lacks_cpg,
    )


command = profile
