"""`minemap validate`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from minemap import io as mio
from minemap import schema as s
from minemap.commands._common import verbosity
from minemap.errors import MinemapError
from minemap.validate import ERROR, check_layer, guess_kind


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--kind",
    type=click.Choice(s.LAYER_KINDS),
    help="What the files hold; guessed from the columns when not given.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the problems as JSON.")
@verbosity
def validate(files, kind, as_json):
    """Check map layers and print every problem (file, feature, rule, message).

    Exits 1 if any problem is an error (the feature would be rejected).
    """
    problems, failed = [], False
    for path in files:
        try:
            raw = mio._read_raw(path, None)
        except MinemapError as exc:
            click.echo(f"Error: {exc}", err=True)
            failed = True
            continue
        layer_kind = kind
        if layer_kind is None:
            for candidate in s.LAYER_KINDS:
                guess = guess_kind(mio.normalise_columns(raw, candidate).columns)
                if guess == candidate:
                    layer_kind = candidate
                    break
        if layer_kind is None:
            click.echo(f"Error: {path}: cannot tell what layer this is; pass --kind", err=True)
            failed = True
            continue
        frame = mio.normalise_columns(raw, layer_kind)
        _, found, rejected = check_layer(frame, layer_kind, source=str(path))
        problems.extend(found)
        click.echo(
            f"{path}: {layer_kind}, {len(frame)} feature(s), {int(rejected.sum())} rejected, "
            f"{sum(p.severity != ERROR for p in found)} warning(s)",
            err=True,
        )
    if as_json:
        click.echo(json.dumps([p.as_dict() for p in problems], indent=2, ensure_ascii=False))
    else:
        for problem in problems:
            click.echo(str(problem))
    if failed or any(p.severity == ERROR for p in problems):
        sys.exit(1)


command = validate
