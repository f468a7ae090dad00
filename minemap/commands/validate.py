"""`minemap validate`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
import pandas as pd

from minemap import io as mio
from minemap import schema as s
from minemap._text import escape
from minemap.commands._common import (
    FiniteFloat,
    layer_for,
    mapping_for,
    parse_map,
    quiet,
    read_options,
    reading,
    verbose,
    verbosity,
    warning_lines,
)
from minemap.errors import InputFileError, MinemapError
from minemap.validate import ERROR, Problem

#: Rule name for a file that cannot be read at all.
UNREADABLE = "unreadable-file"
#: Rule name for a ``--districts`` file that cannot serve as context.
UNUSABLE_CONTEXT = "unusable-context"

# Kinds are checked in this order so that each gives the next its context.
_ORDER = ("districts", "hazards", "releases", "items")


def _enum_matches(columns: pd.DataFrame, kind: str) -> int:
    """How many of the kind's enumerated columns hold only values of that kind."""
    matches = 0
    for column, allowed in s.ENUM_COLUMNS[kind].items():
        if column not in columns.columns:
            continue
        values = columns[column].dropna().astype(str).str.strip().str.lower()
        known = {a.lower() for a in allowed} | {a.lower().replace("_", " ") for a in allowed}
        values = values[values != ""]
        if len(values) and values.isin(known).all():
            matches += 1
    return matches


def _guess(raw, kind: str | None, maps) -> str | None:
    """The layer kind a file holds, from its columns (after aliases) and geometry.

    Each kind is scored by: does the geometry type fit, how many of its required
    columns are there, how many of its enumerated columns hold only its values
    (``method`` cleared/reduced/cancelled against ``classification`` SHA/CHA, both
    of which a ``type`` column may be), and how many optional columns match.
    """
    if kind is not None:
        return kind
    present = raw.geometry.dropna()
    geometry_types = set(present[~present.is_empty].geom_type)
    best, best_score = None, None
    for order, candidate in enumerate(s.LAYER_KINDS):
        try:
            columns = mio.normalise_columns(raw, candidate, mapping_for(candidate, maps))
        except MinemapError:
            continue
        required = sum(c in columns.columns for c in s.REQUIRED[candidate])
        if not required:
            continue
        fits = not geometry_types or bool(geometry_types & set(s.GEOMETRY_TYPES[candidate]))
        optional = sum(c in columns.columns for c in s.OPTIONAL[candidate])
        score = (fits, required, _enum_matches(columns, candidate), optional, -order)
        if best_score is None or score > best_score:
            best, best_score = candidate, score
    return best


def _read(
    path: Path, kind: str | None, crs, layers, maps, encoding=None
) -> list[tuple[str, object]]:
    """The layers of one file to check, with their kinds: ``[(kind, frame), ...]``.

    A multi-layer file (GeoPackage) without ``--layer`` has each of its layers
    named like a kind (``hazards``, ``releases``...) checked as that kind.
    """
    chosen = layer_for(kind or "", layers)
    if chosen is None and mio._suffix(path) not in (".kml", ".kmz"):
        names = mio.layer_names(path)
        named = [n for n in names if n in s.LAYER_KINDS and kind in (None, n)]
        if len(names) > 1 and named:
            return [
                (n, mio.read_file(path, layer=n, crs=crs, kind=n, encoding=encoding)) for n in named
            ]
    raw = mio.read_file(path, layer=chosen, crs=crs, kind=kind, encoding=encoding)
    layer_kind = _guess(raw, kind, maps)
    if layer_kind is None:
        names = [escape(c) for c in raw.columns if c != raw.geometry.name]
        columns = ", ".join(names[:30]) + (" ..." if len(names) > 30 else "")
        raise InputFileError(
            path,
            "cannot tell what layer this is ("
            + (f"columns: {columns}" if columns else "no features and no columns")
            + "); pass --kind hazards|releases|items|districts, or --map",
        )
    return [(layer_kind, raw)]


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
    type=FiniteFloat(min=0, min_open=True),
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
    settings = reading()
    problems: list[Problem] = []

    def unreadable(path, exc) -> None:
        click.echo(f"Error: {exc}", err=True)
        problems.append(Problem(str(path), None, "", UNREADABLE, ERROR, str(exc)))

    groups: dict[str, list] = {k: [] for k in _ORDER}
    for path in files:
        try:
            read = _read(path, kind, crs, layers, maps, settings["encoding"])
        except MinemapError as exc:
            unreadable(path, exc)
            continue
        for layer_kind, raw in read:
            groups[layer_kind].append((path, raw))

    context: dict[str, object] = {"districts": None, "hazards": None}
    if districts is not None:
        checked = any(Path(f).resolve() == districts.resolve() for f in files)
        context["districts"] = _districts_context(districts, maps, problems, report=not checked)
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
                date_order=settings["date_order"],
                decimal=settings["decimal"],
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
        # Every error on its own line (each is to be fixed); warnings one line per rule
        # unless -v: --json always lists them all.
        said = (UNREADABLE, UNUSABLE_CONTEXT)  # on stderr already
        for problem in problems:
            if problem.severity == ERROR and problem.rule not in said:
                click.echo(str(problem))
        warned = [p for p in problems if p.severity != ERROR]
        for line in warning_lines(warned, every=verbose() > 0, hint="-v or --json lists each one"):
            click.echo(line)
    if any(p.severity == ERROR for p in problems):
        sys.exit(1)


def _districts_context(path: Path, maps, problems: list[Problem], *, report: bool):
    """The ``--districts`` file read as districts (``--layer``, ``--crs``, ``--map``), or None.

    A file that cannot serve (unreadable, or not one district kept: a name column
    that is not mapped...) is an error that says so, rather than checks silently
    run without their context. Its own problems are reported too, unless the file
    is also among those validated (then they are reported once, from there).
    """
    meta = click.get_current_context().meta
    try:
        loaded = mio.load_layers(
            [path],
            "districts",
            layer=layer_for("districts", meta.get("minemap.layer")),
            crs=meta.get("minemap.crs"),
            mapping=mapping_for("districts", maps),
            **reading(),
        )
    except MinemapError as exc:
        message = f"cannot be used as districts ({exc}); checked without them"
        click.echo(f"Error: {path}: {message}", err=True)
        problems.append(Problem(str(path), None, "", UNUSABLE_CONTEXT, ERROR, message))
        return None
    if report:
        problems.extend(loaded.problems)
        if not quiet():
            click.echo(
                f"{path}: districts (context), {loaded.summary().split(': ', 1)[1]}", err=True
            )
    if len(loaded.kept):
        return loaded.kept
    missing = any(p.rule == "missing-column" for p in loaded.errors)
    reason = (
        f"it has no {s.DISTRICT} column; name its column with --map districts:district=COLUMN"
        if missing
        else f"all its {loaded.read} feature(s) are rejected"
    )
    message = (
        f"cannot be used as districts: {reason}. The lat/lon-swap check and the district names "
        "were checked without them"
    )
    click.echo(f"Error: {path}: {message}", err=True)
    problems.append(Problem(str(path), None, "", UNUSABLE_CONTEXT, ERROR, message))
    return None


def _summarise(raws, kind: str, loaded: mio.Loaded) -> None:
    if quiet():
        return
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
