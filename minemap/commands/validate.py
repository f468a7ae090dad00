"""`minemap validate`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from minemap import io as mio
from minemap import schema as s
from minemap._text import escape
from minemap.commands._common import (
    layer_for,
    mapping_for,
    max_segment_m,
    parse_map,
    quiet,
    read_options,
    reading,
    verbose,
    verbosity,
    warning_lines,
)
from minemap.errors import InputFileError, MinemapError
from minemap.guess import guess_layer_kind
from minemap.validate import ERROR, Problem

#: Rule name for a file that cannot be read at all.
UNREADABLE = "unreadable-file"
#: Rule name for a ``--districts`` file that cannot serve as context.
UNUSABLE_CONTEXT = "unusable-context"

# Kinds are checked in this order so that each gives the next its context.
_ORDER = ("districts", "hazards", "releases", "items")


def _read(path: Path, kind: str | None, crs, layers, maps, profile=None, encoding=None) -> list:
    """The layers of one file to check, with their kinds: ``[(kind, frame), ...]``.

    A multi-layer file (GeoPackage) without ``--layer`` has each of its layers
    named like a kind (``hazards``, ``releases``...) checked as that kind.
    Without ``--kind``, the kind is guessed (:func:`minemap.guess.guess_layer_kind`)
    and the guess said on stderr, with its reason.
    """

    given = encoding

    def read(layer, as_kind):
        # --crs and --encoding win; else the profile's, for the kind when it is known.
        chosen_crs = crs if profile is None else profile.crs(as_kind or "", crs)
        chosen = given or (None if profile is None else profile.settings(as_kind or "").encoding)
        return mio.read_file(path, layer=layer, crs=chosen_crs, kind=as_kind, encoding=chosen)

    chosen = layer_for(kind or "", layers)
    if chosen is None and mio._suffix(path) not in (".kml", ".kmz"):
        names = mio.layer_names(path)
        named = [n for n in names if n in s.LAYER_KINDS and kind in (None, n)]
        if len(names) > 1 and named:
            return [(n, read(n, n)) for n in named]
    raw = read(chosen, kind)
    if kind is not None:
        return [(kind, raw)]
    guess = guess_layer_kind(
        raw, mio._suffix(path), mapping=lambda k: mapping_for(k, maps), profile=profile
    )
    if guess.kind is None:
        names = [escape(c) for c in raw.columns if c != raw.geometry.name]
        columns = ", ".join(names[:30]) + (" ..." if len(names) > 30 else "")
        raise InputFileError(
            path,
            f"cannot tell what kind of layer {path} is: give --kind "
            "hazards|releases|items|districts ("
            + guess.reason
            + "; "
            + (f"columns: {columns}" if columns else "no features and no columns")
            + ")",
        )
    if not quiet():
        click.echo(
            f"{path}: guessed {guess.kind} ({guess.reason}); give --kind to say otherwise",
            err=True,
        )
    if profile is not None and (
        profile.crs(guess.kind, crs) != profile.crs("", crs)
        or profile.settings(guess.kind).encoding != profile.settings("").encoding
    ):
        raw = read(chosen, guess.kind)  # the profile reads this kind's files otherwise
    return [(guess.kind, raw)]


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
@click.option("--json", "as_json", is_flag=True, help="Print the problems as JSON.")
@read_options
@verbosity
def validate(files, kind, districts, as_json):
    """Check map layers and print every problem (file, feature, rule, message).

    Several files of one kind are checked together (ids must be unique across
    them); districts give hazards and releases their context, hazards give
    releases theirs. Exits 1 if any problem is an error (the feature would be
    rejected) or any file cannot be read.
    """
    meta = click.get_current_context().meta
    maps = parse_map(meta.get("minemap.map"))
    crs, layers = meta.get("minemap.crs"), meta.get("minemap.layer")
    profile = meta.get("minemap.profile")
    settings = reading()
    problems: list[Problem] = []

    def unreadable(path, exc) -> None:
        click.echo(f"Error: {exc}", err=True)
        problems.append(Problem(str(path), None, "", UNREADABLE, ERROR, str(exc)))

    groups: dict[str, list] = {k: [] for k in _ORDER}
    for path in files:
        try:
            read = _read(path, kind, crs, layers, maps, profile, settings["encoding"])
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
                max_segment_m=max_segment_m(),
                profile=profile,
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

    _print_problems(problems, as_json=as_json)
    if any(p.severity == ERROR for p in problems):
        sys.exit(1)


def _print_problems(problems: list[Problem], *, as_json: bool) -> None:
    """Print the problems: all of them as JSON, or every error on its own line
    (each is to be fixed) and warnings one line per rule unless ``-v``.

    Unreadable files and unusable context were said on stderr already, so their
    errors are not repeated here (``--json`` always lists them all).
    """
    if as_json:
        click.echo(json.dumps([p.as_dict() for p in problems], indent=2, ensure_ascii=False))
        return
    said = (UNREADABLE, UNUSABLE_CONTEXT)  # on stderr already
    for problem in problems:
        if problem.severity == ERROR and problem.rule not in said:
            click.echo(str(problem))
    warned = [p for p in problems if p.severity != ERROR]
    for line in warning_lines(warned, every=verbose() > 0, hint="-v or --json lists each one"):
        click.echo(line)


def _districts_context(path: Path, maps, problems: list[Problem], *, report: bool):
    """The ``--districts`` file read as districts (``--layer``, ``--crs``, ``--map``,
    ``--profile``), or None.

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
            profile=meta.get("minemap.profile"),
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
