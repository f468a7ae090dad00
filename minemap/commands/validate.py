"""`minemap validate`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from minemap import io as mio
from minemap import schema as s
from minemap.commands._common import layer_for, mapping_for, parse_map, read_options, verbosity
from minemap.errors import MinemapError
from minemap.validate import ERROR, Problem, guess_kind

#: Rule name for a file that cannot be read at all.
UNREADABLE = "unreadable-file"

# Kinds are checked in this order so that each gives the next its context.
_ORDER = ("districts", "hazards", "releases", "items")


def _guess(raw, kind: str | None, maps) -> str | None:
    if kind is not None:
        return kind
    for candidate in s.LAYER_KINDS:
        try:
            columns = mio.normalise_columns(raw, candidate, mapping_for(candidate, maps)).columns
        except MinemapError:
            continue
        if guess_kind(columns) == candidate:
            return candidate
    return None


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--kind",
    type=click.Choice(s.LAYER_KINDS),
    help="What the files hold; guessed from the columns when not given.",
)
@click.option(
    "--districts",
    type=click.Path(dir_okay=False, path_type=Path),
    help="District polygons: context for the lat/lon-swap check and hazards' district names.",
)
@click.option(
    "--max-segment-km",
    type=click.FloatRange(min=0, min_open=True),
    default=5.0,
    show_default=True,
    help="Longest allowed distance between consecutive vertices of a hazard or release.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the problems as JSON.")
@read_options
@verbosity
def validate(files, kind, districts, max_segment_km, as_json):
    """Check map layers and print every problem (file, feature, rule, message).

    Several files of one kind are checked together (ids must be unique across
    them); districts give hazards and releases their context, hazards give
    releases theirs. Exits 1 if any problem is an error (the feature would be
    rejected) or any file cannot be read.
    """
    meta = click.get_current_context().meta
    maps = parse_map(meta.get("minemap.map"))
    crs, layers = meta.get("minemap.crs"), meta.get("minemap.layer")
    problems: list[Problem] = []

    def unreadable(path, exc) -> None:
        click.echo(f"Error: {exc}", err=True)
        problems.append(Problem(str(path), None, "", UNREADABLE, ERROR, str(exc)))

    groups: dict[str, list] = {k: [] for k in _ORDER}
    for path in files:
        try:
            raw = mio.read_file(path, layer=layer_for(kind or "", layers), crs=crs, kind=kind)
        except MinemapError as exc:
            if "layers (" in str(exc) and kind is None:
                # Several layers and no kind yet: try each kind's layer name.
                raw = _first_named_layer(path, crs, layers)
                if raw is None:
                    unreadable(path, exc)
                    continue
            else:
                unreadable(path, exc)
                continue
        layer_kind = _guess(raw, kind, maps)
        if layer_kind is None:
            columns = ", ".join(str(c) for c in raw.columns if c != raw.geometry.name)
            unreadable(
                path,
                MinemapError(
                    f"{path}: cannot tell what layer this is (columns: {columns}); "
                    "pass --kind or --map"
                ),
            )
            continue
        groups[layer_kind].append((path, raw))

    context: dict[str, object] = {"districts": None, "hazards": None}
    if districts is not None:
        try:
            context["districts"] = mio.load_layers(
                [districts], "districts", layer=layer_for("districts", layers), crs=crs
            ).kept
        except MinemapError as exc:
            unreadable(districts, exc)
    for layer_kind in _ORDER:
        raws = groups[layer_kind]
        if not raws:
            continue
        try:
            loaded = mio._load_frames(
                raws,
                layer_kind,
                mapping=mapping_for(layer_kind, maps),
                districts=context["districts"] if layer_kind != "districts" else None,
                hazards=context["hazards"] if layer_kind == "releases" else None,
                max_segment_m=max_segment_km * 1000,
            )
        except MinemapError as exc:
            for path, _ in raws:
                unreadable(path, exc)
            continue
        if layer_kind in context and context[layer_kind] is None:
            context[layer_kind] = loaded.kept
        problems.extend(loaded.problems)
        _summarise(raws, layer_kind, loaded)

    if as_json:
        click.echo(json.dumps([p.as_dict() for p in problems], indent=2, ensure_ascii=False))
    else:
        for problem in problems:
            if problem.rule != UNREADABLE:
                click.echo(str(problem))
    if any(p.severity == ERROR for p in problems):
        sys.exit(1)


def _first_named_layer(path, crs, layers):
    for candidate in s.LAYER_KINDS:
        try:
            return mio.read_file(path, layer=layer_for(candidate, layers), crs=crs, kind=candidate)
        except MinemapError:
            continue
    return None


def _summarise(raws, kind: str, loaded: mio.Loaded) -> None:
    rejected_by_file = loaded.rejected[mio.SOURCE_FILE].value_counts().to_dict()
    for path, raw in raws:
        warnings = sum(1 for p in loaded.warnings if p.file == str(path))
        click.echo(
            f"{path}: {kind}, {len(raw)} feature(s), {rejected_by_file.get(str(path), 0)} "
            f"rejected, {warnings} warning(s)",
            err=True,
        )
    click.echo(loaded.summary(), err=True)


command = validate
