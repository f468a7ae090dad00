"""Options and steps shared by the ``minemap`` commands."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import logging
import math
import warnings
from collections.abc import Iterable
from pathlib import Path

import click
import geopandas as gpd
import pandas as pd
import shapely

from minemap import contamination, gazetteer, outputs
from minemap import io as mio
from minemap import schema as s
from minemap import workspace as store
from minemap._text import escape_controls
from minemap.commands._options import GROUP_QUIET, GROUP_VERBOSE, quiet_option, verbose_option
from minemap.errors import MinemapError, WorkspaceError
from minemap.profile import Profile, ProfileError, read_profile
from minemap.validate import MAX_SEGMENT_M, RULES

log = logging.getLogger("minemap")


# --- shared options -------------------------------------------------------------


class OneOrMore(click.Option):
    """An option that takes one or more values: ``--hazards a.gpkg b.gpkg``.

    Repeating the option (``--hazards a.gpkg --hazards b.gpkg``) works too.
    """

    def __init__(self, *args, **kwargs) -> None:
        kwargs["multiple"] = True
        super().__init__(*args, **kwargs)

    def add_to_parser(self, parser, ctx) -> None:
        super().add_to_parser(parser, ctx)
        options = {**getattr(parser, "_long_opt", {}), **getattr(parser, "_short_opt", {})}
        for name in self.opts:
            option = options.get(name)
            if option is None:  # another click: the option can still be repeated
                continue
            original = option.process

            def process(value, state, original=original) -> None:
                values = [value]
                while state.rargs and not state.rargs[0].startswith("-"):
                    values.append(state.rargs.pop(0))
                for item in values:
                    original(item, state)

            option.process = process


EXISTING = click.Path(exists=False, dir_okay=False, path_type=Path)

#: What each kind of output option writes, by extension. A name with any other
#: extension is refused before any work (exit 2): nothing is ever written in a
#: format its name does not say.
LAYER_OUTPUTS = mio.WRITE_FORMATS
TABLE_OUTPUTS = mio.TABLE_FORMATS
#: Rejected features may mix geometry types (polygons, points, none): not a Shapefile,
#: which holds one geometry type.
REJECTS_OUTPUTS = tuple(f for f in mio.WRITE_FORMATS if f not in (".shp", ".zip"))
MAP_OUTPUTS = (".html", ".htm")
RASTER_OUTPUTS = (".tif", ".tiff")
_FORMAT_HINTS = {
    ".shp": "a Shapefile holds one geometry type, and rejected features may mix them "
    "(polygons, points, none)",
    ".zip": "a zipped Shapefile holds one geometry type, and rejected features may mix them "
    "(polygons, points, none)",
    ".ods": "minemap reads .ods but writes spreadsheets as .xlsx",
    ".xls": "write .xlsx",
}


class OutputFile(click.Path):
    """An output file whose extension must name a format minemap writes for it.

    Checked when the command line is parsed: a wrong extension is a usage error
    (exit 2) before anything is read or computed.
    """

    def __init__(self, formats, what: str) -> None:
        super().__init__(dir_okay=False, path_type=Path)
        self.formats = tuple(formats)
        self.what = what

    def convert(self, value, param, ctx):
        path = super().convert(value, param, ctx)
        suffix = Path(path).suffix.lower()
        if suffix not in self.formats:
            said = repr(suffix) if suffix else "a name without an extension"
            hint = _FORMAT_HINTS.get(suffix)
            self.fail(
                f"{path}: {said} is not a format minemap writes {self.what} in"
                + (f" ({hint})" if hint else "")
                + f"; use {', '.join(self.formats)}",
                param,
                ctx,
            )
        return path


class FiniteFloat(click.FloatRange):
    """A float option that refuses NaN and infinities, with an optional range.

    Every float option of every command uses it: ``float("nan")`` passes every
    range check (each comparison with NaN is false), so ``--max-misclosure nan``
    would turn a check off, and ``inf`` (or ``1e999``) would do the same from
    the other end. Takes :class:`click.FloatRange`'s arguments.
    """

    def convert(self, value, param, ctx):
        number = click.types.FloatParamType.convert(self, value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return super().convert(number, param, ctx)


def _remember(key: str):
    """A click callback that keeps an option's value in ``ctx.meta`` for :func:`load`.

    The reading options reach the loaders this way, so commands that use
    :func:`layer_options` need no new parameters.
    """

    def callback(ctx, param, value):
        ctx.meta[f"minemap.{key}"] = value
        return value

    return callback


def _remember_crs(ctx, param, value):
    """``--crs``: checked at once, so a typo is a usage error before any reading."""
    if value is not None:
        try:
            mio._user_crs(value)
        except MinemapError as exc:
            raise click.BadParameter(str(exc), ctx=ctx, param=param) from None
    return _remember("crs")(ctx, param, value)


def _remember_map(ctx, param, value):
    """``--map``: checked at once, so a malformed pair is a usage error."""
    parse_map(value)
    return _remember("map")(ctx, param, value)


def _remember_profile(ctx, param, value):
    """``--profile``: read and checked at once, so a bad profile is a usage error (exit 2)."""
    profile = None
    if value is not None:
        try:
            profile = read_profile(value)
        except ProfileError as exc:
            raise click.BadParameter(str(exc), ctx=ctx, param=param) from None
    return _remember("profile")(ctx, param, profile)


def _remember_gazetteer(ctx, param, value):
    """``--gazetteer``: read at once, and its names known while the command runs."""
    found = None
    if value is not None:
        try:
            found = gazetteer.read_gazetteer(value)
        except MinemapError as exc:
            raise click.BadParameter(str(exc), ctx=ctx, param=param) from None
        ctx.with_resource(gazetteer.using(found))
    return _remember("gazetteer")(ctx, param, found)


def current_profile() -> Profile | None:
    """The ``--profile`` given to the running command (``None`` without one)."""
    ctx = click.get_current_context(silent=True)
    return ctx.meta.get("minemap.profile") if ctx is not None else None


def _split_kind(text: str) -> tuple[str | None, str]:
    """``hazards:NAME`` -> (``hazards``, ``NAME``); ``NAME`` -> (None, ``NAME``)."""
    kind, sep, rest = text.partition(":")
    if sep and kind in s.LAYER_KINDS:
        return kind, rest
    return None, text


def parse_map(values) -> dict[str | None, dict[str, str]]:
    """``--map [KIND:]canonical=COLUMN`` values, by kind (None: every kind that has it)."""
    out: dict[str | None, dict[str, str]] = {}
    known = {c for kind in s.LAYER_KINDS for c in (*s.REQUIRED[kind], *s.OPTIONAL[kind])}
    for value in values or ():
        kind, text = _split_kind(value)
        canonical, sep, column = text.partition("=")
        canonical, column = canonical.strip(), column.strip()
        if not sep or not canonical or not column:
            raise click.BadParameter(
                f"{value!r}: write it as canonical=COLUMN, e.g. mines_ap=AP_COUNT",
                param_hint="--map",
            )
        if canonical not in known:
            raise click.BadParameter(
                f"{canonical!r} is not a minemap column; use one of {', '.join(sorted(known))}",
                param_hint="--map",
            )
        out.setdefault(kind, {})[canonical] = column
    return out


def mapping_for(kind: str, maps: dict[str | None, dict[str, str]]) -> dict[str, str]:
    """The explicit mapping for one layer kind: its own entries over the general ones."""
    own = (*s.REQUIRED[kind], *s.OPTIONAL[kind])
    general = {c: col for c, col in maps.get(None, {}).items() if c in own}
    return {**general, **maps.get(kind, {})}


def layer_for(kind: str, layers) -> str | None:
    """The ``--layer [KIND:]NAME`` that applies to one layer kind."""
    chosen = None
    for value in layers or ():
        which, name = _split_kind(value)
        if which == kind:
            return name
        if which is None:
            chosen = name
    return chosen


def _remember_encoding(ctx, param, value):
    """``--encoding``: an encoding nobody knows is a usage error before any reading."""
    if value is not None:
        try:
            mio.text_codec(value)
        except MinemapError as exc:
            raise click.BadParameter(str(exc), ctx=ctx, param=param) from None
    return _remember("encoding")(ctx, param, value)


def reading() -> dict:
    """How the inputs write dates, numbers and text (``--date-order``, ``--decimal``,
    ``--encoding``): keyword arguments for :func:`minemap.io.load_layers`."""
    ctx = click.get_current_context(silent=True)
    meta = ctx.meta if ctx is not None else {}
    return {
        "date_order": meta.get("minemap.date_order"),
        "decimal": meta.get("minemap.decimal"),
        "encoding": meta.get("minemap.encoding"),
    }


def _remember_segment_km(ctx, param, value):
    """``--max-segment-km`` (hidden, the earlier spelling): kept in metres."""
    if value is not None:
        ctx.meta["minemap.max_segment_km"] = value * 1000
    return value


def max_segment_m() -> float:
    """The longest segment allowed in hazards and releases, in metres (``--max-segment``)."""
    ctx = click.get_current_context(silent=True)
    meta = ctx.meta if ctx is not None else {}
    metres, km = meta.get("minemap.max_segment"), meta.get("minemap.max_segment_km")
    if metres is not None and km is not None and metres != km:
        raise click.UsageError("give --max-segment METRES (or --max-segment-km), not both")
    chosen = metres if metres is not None else km
    return MAX_SEGMENT_M if chosen is None else chosen


def read_options(func):
    """How to read the inputs: ``--layer``, ``--crs``, ``--map``, ``--profile``,
    ``--gazetteer``, ``--max-segment``, ``--date-order``, ``--decimal``, ``--encoding``.

    Kept in ``ctx.meta`` (see :func:`reading`, :func:`max_segment_m`); the command
    line wins over a profile.
    """
    func = click.option(
        "--max-segment-km",
        "max_segment_km",
        type=FiniteFloat(min=0, min_open=True),
        hidden=True,
        expose_value=False,
        callback=_remember_segment_km,
        help="--max-segment in kilometres (the earlier spelling).",
    )(func)
    func = click.option(
        "--max-segment",
        "max_segment",
        type=FiniteFloat(min=0, min_open=True),
        metavar="METRES",
        expose_value=False,
        callback=_remember("max_segment"),
        help=f"Longest distance between consecutive vertices of a hazard or a release "
        f"(default {MAX_SEGMENT_M:,.0f}); a longer one is taken for a mistyped coordinate. "
        "Districts and context layers are not checked.",
    )(func)
    func = click.option(
        "--gazetteer",
        "gazetteer_file",
        metavar="FILE",
        type=click.Path(dir_okay=False, path_type=Path),
        expose_value=False,
        callback=_remember_gazetteer,
        help="More district names: a CSV with district,name columns (one spelling a row) "
        "or a TOML of district = [names]. Added to those minemap knows.",
    )(func)
    func = click.option(
        "--profile",
        "profile_file",
        metavar="PROFILE.toml",
        type=click.Path(dir_okay=False, path_type=Path),
        expose_value=False,
        callback=_remember_profile,
        help="An import profile: how this source's files map to minemap's columns and "
        "values, their encoding, CRS, date order (see docs/import.md). --map and --crs win "
        "over it. Draft one with `minemap profile draft`.",
    )(func)
    func = click.option(
        "--encoding",
        metavar="ENCODING",
        expose_value=False,
        callback=_remember_encoding,
        help="Text encoding of inputs that say none or a wrong one: a Shapefile without .cpg "
        "(or whose .cpg says UTF-8 over another code page), a CSV that is not UTF-8; e.g. "
        "cp1254 (Azerbaijani Latin), cp1251 (Cyrillic). A .cpg naming a code page wins.",
    )(func)
    func = click.option(
        "--decimal",
        type=click.Choice([".", ","]),
        expose_value=False,
        callback=_remember("decimal"),
        help="Decimal separator of numbers written as text, in every input (0,75 with ','). "
        "Without it a column must settle two-way numbers such as 1,157 (or they are refused).",
    )(func)
    func = click.option(
        "--date-order",
        "date_order",
        type=click.Choice(["DMY", "MDY", "YMD"], case_sensitive=False),
        metavar="DMY|MDY|YMD",
        expose_value=False,
        callback=_remember("date_order"),
        help="How dates written with separators order day, month and year (22.02.2024 is "
        "DMY). Without it a column must settle the order (a day above 12), or its ambiguous "
        "dates are refused. Wins over a profile's date_order.",
    )(func)
    func = click.option(
        "--map",
        "column_map",
        multiple=True,
        metavar="[KIND:]COLUMN=NAME",
        expose_value=False,
        callback=_remember_map,
        help="Take a minemap column from a column of the file: --map mines_ap=AP_COUNT "
        "(repeatable; prefix with hazards:, releases:... to apply to one layer only).",
    )(func)
    func = click.option(
        "--crs",
        metavar="CRS",
        expose_value=False,
        callback=_remember_crs,
        help="CRS of inputs that declare none (CSV with WKT or x/y, Shapefile without "
        ".prj), e.g. EPSG:32638. Not needed for longitude/latitude columns.",
    )(func)
    return click.option(
        "--layer",
        "layer_name",
        multiple=True,
        metavar="[KIND:]NAME",
        expose_value=False,
        callback=_remember("layer"),
        help="Layer to read from multi-layer files (GeoPackage...). By default a layer named "
        "like the kind (hazards, releases, districts) is used.",
    )(func)


def _remember_known_on(ctx, param, value):
    """``--known-on``: checked at once, so a malformed day is a usage error."""
    if value is not None:
        try:
            value = store.parse_known_on(value)
        except ValueError as exc:
            raise click.BadParameter(str(exc), ctx=ctx, param=param) from None
    return _remember("known_on")(ctx, param, value)


class WorkspaceType(click.ParamType):
    """A workspace: a GeoPackage file (a Path), or a PostgreSQL URL (kept as text)."""

    name = "workspace"

    def convert(self, value, param, ctx):
        if isinstance(value, Path) or store.is_url(value):
            return value
        text = str(value)
        if "://" in text:
            self.fail(
                f"{store.shown_location(text)}: not a workspace; give a .gpkg file or "
                "postgresql://USER@HOST[:PORT]/DB",
                param,
                ctx,
            )
        return click.Path(dir_okay=False, path_type=Path).convert(value, param, ctx)


#: ``WORKSPACE`` arguments and ``--workspace``: a .gpkg file, or postgresql://USER@HOST/DB.
WORKSPACE = WorkspaceType()


def shown(workspace) -> str:
    """A workspace as messages show it (a URL without its password)."""
    return store.shown_location(workspace)


def workspace_options(func):
    """``--workspace`` and ``--known-on``: read the layers from a workspace (``minemap add``).

    Kept in ``ctx.meta`` like the reading options, for :func:`load_all`.
    """
    func = click.option(
        "--known-on",
        "known_on",
        metavar="DATE",
        expose_value=False,
        callback=_remember_known_on,
        help="With --workspace: the layers as they were known at the end of this day "
        "(YYYY-MM-DD, UTC) or at this moment (YYYY-MM-DDTHH:MM, UTC), before later imports "
        "and corrections. Not --as-of, which is the last release date counted.",
    )(func)
    func = click.option(
        "--include-pending",
        "include_pending",
        is_flag=True,
        expose_value=False,
        callback=_remember("include_pending"),
        help="With --workspace on PostgreSQL: count the imports waiting for a manager's "
        "review too (a preview); by default only accepted imports count.",
    )(func)
    return click.option(
        "--workspace",
        metavar="WORKSPACE",
        type=WORKSPACE,
        expose_value=False,
        callback=_remember("workspace"),
        help="Read the layers from this workspace (minemap init, minemap add): a .gpkg "
        "file or postgresql://USER@HOST[:PORT]/DB. A layer also given as files is read "
        "from the files instead.",
    )(func)


def require_inputs(**given) -> None:
    """A usage error for each required layer given neither as files nor by ``--workspace``.

    ``given`` maps the options' parameter names to their values. Also refuses
    ``--known-on`` without ``--workspace``.
    """
    ctx = click.get_current_context()
    workspace = ctx.meta.get("minemap.workspace")
    if workspace is None and ctx.meta.get("minemap.known_on") is not None:
        raise click.UsageError(
            "--known-on needs --workspace WORKSPACE: it says which state of a workspace "
            "to read (for a release-date cut-off, use --as-of)"
        )
    if workspace is not None:
        return
    for name, value in given.items():
        if not value:
            param = next(p for p in ctx.command.params if p.name == name)
            raise click.MissingParameter(
                ctx=ctx,
                param=param,
                message="Give one or more files, or read the layers from a workspace with "
                "--workspace WORKSPACE",
            )


def layer_options(require_releases: bool = True):
    def decorate(command):
        @functools.wraps(command)
        def checked(*args, **kwargs):
            required = {"hazards": kwargs.get("hazards")}
            if require_releases:
                required["releases"] = kwargs.get("releases")
            require_inputs(**required)
            return command(*args, **kwargs)

        func = workspace_options(checked)
        func = read_options(func)
        func = rejects_option(func)
        func = click.option(
            "--as-of",
            "as_of",
            type=click.DateTime(formats=["%Y-%m-%d"]),
            help="Count releases dated on or before this day (YYYY-MM-DD). Default: all.",
        )(func)
        func = click.option(
            "--districts", type=EXISTING, help="District polygons (with a 'district' column)."
        )(func)
        func = click.option(
            "--releases",
            cls=OneOrMore,
            type=EXISTING,
            help="Released land: cancelled, reduced, cleared (one or more files)"
            + (" [required without --workspace]." if require_releases else "."),
        )(func)
        return click.option(
            "--hazards",
            cls=OneOrMore,
            type=EXISTING,
            help="Submitted hazard records / minefield maps (one or more files) "
            "[required without --workspace].",
        )(func)

    return decorate


def rejects_option(func):
    """``--rejects FILE``: where rejected features go (the run goes on)."""
    return click.option(
        "--rejects",
        type=OutputFile(REJECTS_OUTPUTS, "rejected features"),
        help="Write rejected features here (.gpkg, .geojson, .csv, .xlsx..., with a "
        "'problem' column) and go on; without it, any rejected feature stops the run.",
    )(func)


def overwrite_option(func):
    return click.option(
        "--overwrite", is_flag=True, help="Replace output files that already exist."
    )(func)


class _EchoHandler(logging.Handler):
    """Log records to stderr through click, which tests and pipes can capture."""

    def emit(self, record: logging.LogRecord) -> None:
        click.echo(self.format(record), err=True)


#: Where the libraries' own warnings and log records go: minemap's log, at INFO
#: level, so they show with -v and never otherwise.
library_log = logging.getLogger("minemap.library")


class _LibraryHandler(logging.Handler):
    """Other libraries' log records (pyogrio's GDAL messages, rasterio...) into minemap's log.

    Python prints a record no handler takes (``logging.lastResort``) whatever -q
    says; this one takes them all and passes them on at INFO level.
    """

    def emit(self, record: logging.LogRecord) -> None:
        if record.name == "minemap" or record.name.startswith("minemap."):
            return
        library_log.info("%s: %s", record.name, record.getMessage())


def _log_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """``warnings.showwarning`` while a command runs: a library's warning is logged, not printed."""
    library_log.info("%s: %s (%s:%s)", category.__name__, message, Path(filename).name, lineno)


@contextlib.contextmanager
def library_messages_logged():
    """Route warnings and other libraries' log records into minemap's log (shown with -v).

    The one place the command line decides what reaches the terminal: with it,
    no library warning (GDAL through pyogrio, pandas, shapely...) is printed as
    is, and none is lost either: ``-v`` shows them.
    """
    handler = _LibraryHandler()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("default")
            warnings.showwarning = _log_warning
            yield
    finally:
        root.removeHandler(handler)


def verbosity(func):
    """``-v``/``-q`` on the command, added to those given on the group (``minemap -v CMD``)."""

    @verbose_option
    @quiet_option
    @functools.wraps(func)
    def wrapper(*args, verbose: int, quiet: bool, **kwargs):
        ctx = click.get_current_context()
        verbose += int(ctx.meta.get(GROUP_VERBOSE) or 0)
        quiet = quiet or bool(ctx.meta.get(GROUP_QUIET))
        level = (
            logging.ERROR
            if quiet
            else (logging.WARNING, logging.INFO, logging.DEBUG)[min(verbose, 2)]
        )
        # Log to stderr for this command only: the settings are put back afterwards, so
        # that calling a command from Python (or a test) leaves logging as it was.
        logger = logging.getLogger("minemap")
        handler = _EchoHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
        handler.setLevel(level)
        saved, propagate = logger.level, logger.propagate
        logger.addHandler(handler)
        logger.propagate = False  # our handler prints it; not Python's last-resort one too
        logger.setLevel(min(level, saved) if saved else level)
        ctx.meta["minemap.quiet"] = quiet
        ctx.meta["minemap.verbose"] = verbose
        try:
            with library_messages_logged():
                return func(*args, **kwargs)
        except MinemapError as exc:
            click.echo(f"Error: {exc}", err=True)
            ctx.exit(1)
        except BrokenPipeError:  # stdout closed early (`| head`): click exits quietly
            raise
        except OSError as exc:  # writing outputs: no space, no permission...
            name = getattr(exc, "filename", None)
            click.echo(f"Error: {name + ': ' if name else ''}{exc.strerror or exc}", err=True)
            ctx.exit(1)
        finally:
            logger.removeHandler(handler)
            logger.setLevel(saved)
            logger.propagate = propagate

    return wrapper


def quiet() -> bool:
    return bool(click.get_current_context().meta.get("minemap.quiet"))


def note(message: str) -> None:
    """A summary line on stderr (what was read, written, ranked), silenced by ``-q``.

    Problems with the input are not notes: they are shown whatever ``-q`` says.
    """
    if not quiet():
        click.echo(message, err=True)


# --- helpers --------------------------------------------------------------------


def load(paths, kind: str, *, districts=None, hazards=None) -> mio.Loaded:
    """Read files of one kind with the ``--layer``/``--crs``/``--map``/``--profile`` given.

    Warnings are logged (the first few of each rule, then a count).
    """
    meta = click.get_current_context().meta if click.get_current_context(silent=True) else {}
    maps = parse_map(meta.get("minemap.map"))
    loaded = mio.load_layers(
        list(paths),
        kind,
        layer=layer_for(kind, meta.get("minemap.layer")),
        mapping=mapping_for(kind, maps),
        crs=meta.get("minemap.crs"),
        districts=districts,
        hazards=hazards,
        max_segment_m=max_segment_m(),
        profile=meta.get("minemap.profile"),
        **reading(),
    )
    log_problems(loaded)
    return loaded


def verbose() -> int:
    """How many ``-v`` were given (0 outside a command)."""
    ctx = click.get_current_context(silent=True)
    return int(ctx.meta.get("minemap.verbose") or 0) if ctx is not None else 0


def warning_lines(problems, *, every: bool = False, hint: str = "-v lists each one") -> list[str]:
    """Warnings as lines to print: one per rule, or (``every``) one per warning.

    A rule with one warning gives that warning; a rule with more gives one line
    with their count, the rule's description, the first few features and
    ``hint`` (where to see them all). A sample's 2,162 releases outside every
    recorded hazard are one line, not a wall. A warning about a whole file (how
    its dates were read, file by file and column by column) is always its own line.
    """
    if every:
        return [str(p) for p in problems]
    by_rule: dict[str, list] = {}
    lines = []
    for problem in problems:
        if problem.row is None and problem.feature == "":
            lines.append(str(problem))
            continue
        by_rule.setdefault(problem.rule, []).append(problem)
    for rule, found in by_rule.items():
        if len(found) == 1:
            lines.append(str(found[0]))
            continue
        files = list(dict.fromkeys(p.file for p in found))
        where = ", ".join(files[:3]) + (
            f" and {len(files) - 3} more files" if len(files) > 3 else ""
        )
        named = [p.feature for p in found if p.feature]
        example = f" (e.g. {', '.join(named[:3])})" if named else ""
        what = RULES[rule][1] if rule in RULES else found[0].message
        count = f"{len(found):,} features"
        lines.append(f"{where}: {count}: {found[0].severity}: {rule}: {what}{example}; {hint}")
    return lines


def log_problems(loaded: mio.Loaded) -> None:
    """Log a layer's warnings: one line per rule (every one with ``-v``)."""
    hint = "-v lists each one, as does `minemap validate --json`"
    for line in warning_lines(loaded.warnings, every=verbose() > 0, hint=hint):
        log.warning("%s", line)


def load_all(
    *,
    hazards=None,
    releases=None,
    districts=None,
    items=None,
    rejects=None,
    overwrite=False,
    from_workspace=(),
    required=(),
) -> dict:
    """Read the layers given; refuse, or set aside, rejected features (nothing silently lost).

    Districts are read first and hazards next: each gives the next layer's
    checks their context (district names and lat/lon swaps, releases outside
    every hazard). Each layer's summary says ``read N, kept K, rejected R``
    with N = K + R. With ``--workspace``, the kinds in ``from_workspace`` that
    were given no files come from the workspace (as known on ``--known-on``);
    those in ``required`` must hold records there. Returns the kept features
    by kind (``None`` where no file and no record).
    """
    if rejects is not None and Path(rejects).suffix.lower() not in REJECTS_OUTPUTS:
        # Say so before reading anything, not after all the checks.
        OutputFile(REJECTS_OUTPUTS, "rejected features").convert(
            rejects, None, click.get_current_context(silent=True)
        )
    layers = {"districts": load([districts], "districts") if districts else None}
    files = {"hazards": hazards, "releases": releases, "districts": districts, "items": items}
    stored = _from_workspace([k for k in from_workspace if not files[k]], required)
    context = layers["districts"].kept if layers["districts"] is not None else None
    if context is None:
        context = stored.get("districts")
    layers["hazards"] = load(hazards, "hazards", districts=context) if hazards else None
    hazards_kept = layers["hazards"].kept if layers["hazards"] is not None else None
    if hazards_kept is None:
        hazards_kept = stored.get("hazards")
    layers["releases"] = (
        load(releases, "releases", hazards=hazards_kept, districts=context) if releases else None
    )
    layers["items"] = load(items, "items", districts=context) if items else None
    loaded = [
        layers[k] for k in ("hazards", "releases", "items", "districts") if layers[k] is not None
    ]
    errors = [p for item in loaded for p in item.errors]
    for item in loaded:
        if errors or not quiet():
            click.echo(item.summary(), err=True)
    if errors and rejects is None:
        for problem in errors[:30]:
            click.echo(f"  {problem}", err=True)
        if len(errors) > 30:
            click.echo(f"  ... and {len(errors) - 30} more", err=True)
        raise click.ClickException(
            f"{sum(len(i.rejected) for i in loaded)} feature(s) would be rejected; "
            "nothing was written. Fix them, or pass --rejects FILE to set them aside."
        )
    if rejects is not None:
        if loaded:
            write_rejects(loaded, rejects, overwrite)
        else:
            click.echo(f"rejects: no file was read, so {rejects} is not written", err=True)
    return {
        kind: item.kept if item is not None else stored.get(kind) for kind, item in layers.items()
    }


def known_on_text(known_on) -> str:
    """``2024-03-10`` for a day, ``2024-03-10 12:00 UTC`` for a moment."""
    if isinstance(known_on, dt.datetime):
        return f"{known_on:%Y-%m-%d %H:%M} UTC"
    return f"{known_on:%Y-%m-%d}"


def _from_workspace(kinds, required) -> dict:
    """The ``kinds`` layers from ``--workspace`` (none without it), as of ``--known-on``."""
    ctx = click.get_current_context(silent=True)
    meta = ctx.meta if ctx is not None else {}
    workspace = meta.get("minemap.workspace")
    if workspace is None or not kinds:
        return {}
    known_on = meta.get("minemap.known_on")
    pending = bool(meta.get("minemap.include_pending"))
    frames = store.read_workspace_layers(
        workspace, kinds, known_on=known_on, include_pending=pending
    )
    when = "" if known_on is None else f" as known on {known_on_text(known_on)}"
    when += " (with the imports pending review)" if pending else ""
    out = {}
    for kind in kinds:
        frame = frames[kind]
        note(f"{kind}: {len(frame)} record(s) from workspace {shown(workspace)}{when}")
        if len(frame):
            out[kind] = frame
        elif kind in required:
            raise WorkspaceError(
                shown(workspace),
                f"holds no {kind}{when}; add them with `minemap add {kind} "
                f"{shown(workspace)} FILE`",
            )
    return out


def load_inputs(hazards, releases, districts, rejects: Path | None, overwrite: bool):
    """Hazards, releases (an empty layer when none are given) and districts; see `load_all`."""
    kept = load_all(
        hazards=hazards,
        releases=releases,
        districts=districts,
        rejects=rejects,
        overwrite=overwrite,
        from_workspace=("hazards", "releases", "districts"),
        required=("hazards",),
    )
    releases = kept["releases"] if kept["releases"] is not None else no_releases()
    return kept["hazards"], releases, kept["districts"]


def no_releases() -> gpd.GeoDataFrame:
    """An empty releases layer (none given, or none in the workspace yet)."""
    return gpd.GeoDataFrame(
        {s.RELEASE_ID: [], s.RELEASED_ON: pd.Series([], dtype="datetime64[ns]"), s.METHOD: []},
        geometry=[],
        crs=s.CANONICAL_CRS,
    )


def _free_name(name: str, taken) -> str:
    """``name``, or ``name_2``, ``name_3``... whichever no column has yet."""
    taken = {str(c).lower() for c in taken}
    candidate, n = name, 2
    while candidate.lower() in taken:
        candidate, n = f"{name}_{n}", n + 1
    return candidate


def write_rejects(loaded, path: Path, overwrite: bool) -> None:
    """Write every rejected feature, with its layer and ``problem``, to one file.

    Any format of :data:`REJECTS_OUTPUTS` holds them whatever they are (a
    GeoPackage's own ``fid``/``geom`` columns step aside for data columns of
    those names). A data column that has the name of one this report adds
    (``layer``; ``wkt`` in a table) is kept under the name with ``_2``.
    """
    as_table = path.suffix.lower() in TABLE_OUTPUTS
    frames = []
    for item in loaded:
        frame = item.rejected.copy()
        if s.LAYER in frame.columns:
            frame = frame.rename(columns={s.LAYER: _free_name(s.LAYER, frame.columns)})
        frame.insert(0, s.LAYER, item.kind)
        frames.append(frame)
    # Only layers with rejects bring their columns (an empty frame would add its own).
    frames = [f for f in frames if len(f)] or frames[:1]
    rejected = pd.concat(frames, ignore_index=True)
    geometry = rejected.geometry.name if isinstance(rejected, gpd.GeoDataFrame) else s.GEOMETRY
    for column in rejected.columns:
        # Rejected values are as read: a column may mix numbers and text ("x", -5), which
        # the layer formats cannot hold (a table can: its numbers stay numbers).
        if column != geometry and rejected[column].dtype == object and not as_table:
            values = rejected[column]
            rejected[column] = values.where(values.isna(), values.astype(str))
    rejected = gpd.GeoDataFrame(rejected, geometry=geometry, crs=s.CANONICAL_CRS)
    rejected = mio.with_valid_geometry(rejected)
    geoms = rejected.geometry.to_numpy()
    with_z = pd.notna(geoms) & shapely.has_z(geoms)
    if path.suffix.lower() == ".fgb" and 0 < with_z.sum() < pd.notna(geoms).sum():
        # Rejected features keep their geometry as read, heights too; FlatGeobuf cannot
        # mix 2D and 3D features in one file.
        rejected = rejected.set_geometry(
            gpd.GeoSeries(shapely.force_2d(geoms), index=rejected.index, crs=rejected.crs)
        )
    if as_table:
        table = pd.DataFrame(rejected.drop(columns=geometry))
        if "wkt" in table.columns:
            table = table.rename(columns={"wkt": _free_name("wkt", table.columns)})
        table["wkt"] = rejected.geometry.to_wkt()
        mio.write_table(table, path, overwrite=overwrite, rounded=False)  # values as read
    else:
        mio.write_layer(rejected, path, overwrite=overwrite)
    note(f"rejects: {len(rejected)} feature(s) written to {path}")


def check_outputs(paths, overwrite: bool) -> None:
    """Refuse before any work when an output exists (rio's convention).

    Every part of a Shapefile counts (a lone ``.dbf`` too); interrupted writes of
    these outputs are finished or undone first (:func:`minemap.outputs.recover`).
    """
    outputs.refuse_existing(paths, overwrite)


def _mines_text(value) -> str:
    return "not known" if pd.isna(value) else f"{value:,.0f}"


def format_table(table: pd.DataFrame) -> str:
    """The per-district table as text, with a total line.

    Mine figures not known show as such (a district whose records all have
    counts not known); where some records' counts are not known, a last line
    says the totals are of the records with known counts.
    """
    columns = list(s.TABLE_COLUMNS)
    shown = table[columns].copy().astype(dict.fromkeys(columns[4:], object))
    total = [pd.to_numeric(shown[c], errors="coerce").sum() for c in columns[1:]]
    shown.loc[len(shown)] = ["TOTAL", *total]
    heads = [
        "district",
        "mapped ha",
        "released ha",
        "remaining ha",
        "mines",
        "remaining mines (est)",
    ]
    rows = [
        [
            # Escaped here too (the command line escapes all it prints), so columns align.
            escape_controls(str(r[s.DISTRICT]), keep_newlines=False),
            f"{r[s.MAPPED_AREA_HA]:,.1f}",
            f"{r[s.RELEASED_AREA_HA]:,.1f}",
            f"{r[s.REMAINING_AREA_HA]:,.1f}",
            _mines_text(r[s.MAPPED_MINES]),
            _mines_text(r[s.REMAINING_MINES_EST]),
        ]
        for _, r in shown.iterrows()
    ]
    widths = [max(len(x) for x in col) for col in zip(heads, *rows, strict=False)]

    def line(cells):
        first = cells[0].ljust(widths[0])
        return "  ".join([first, *(c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True))])

    rule = "  ".join("-" * w for w in widths)
    body = [line(r) for r in rows]
    return "\n".join([line(heads), rule, *body[:-1], rule, body[-1], *_known_counts_note(table)])


def _known_counts_note(table: pd.DataFrame) -> list[str]:
    """The footer saying the mine totals are of the records with known counts, if some are not."""
    from minemap.render.content import unknown_records

    unknown = unknown_records(table)
    if not unknown:
        return []
    records = table.attrs.get("records")
    known = f"of {records - unknown:,} records with known counts" if records is not None else ""
    return [
        (
            f"mines: {known}{'; ' if known else ''}{unknown:,} record(s) whose mine count is not "
            "known are not counted, and their remaining mines not estimated "
            "(hazards_unknown_mines per district)"
        )
    ]


def text_table(heads: list[str], rows: list[list[str]], *, right: Iterable[int] = ()) -> str:
    """Rows of text as an aligned table under a rule; columns numbered in ``right`` align right."""
    right = set(right)
    rows = [[escape_controls(str(c), keep_newlines=False) for c in row] for row in rows]
    widths = [max(len(x) for x in col) for col in zip(heads, *rows, strict=False)]

    def line(cells):
        return "  ".join(
            (c.rjust(w) if i in right else c.ljust(w))
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    return "\n".join([line(heads), "  ".join("-" * w for w in widths), *map(line, rows)])


def _known_on_note() -> str:
    """``; as known on DATE`` when the layers come from a workspace's earlier state."""
    ctx = click.get_current_context(silent=True)
    known_on = ctx.meta.get("minemap.known_on") if ctx is not None else None
    if known_on is None or ctx.meta.get("minemap.workspace") is None:
        return ""
    return f"; as known on {known_on_text(known_on)}"


def as_of_text(as_of) -> str:
    """Which releases count, and (from a workspace) as known on which day."""
    counted = "all releases" if as_of is None else f"releases up to {as_of:%Y-%m-%d}"
    return counted + _known_on_note()


# --- commands -------------------------------------------------------------------


def run_job(
    hazards,
    releases,
    districts,
    as_of,
    map_path,
    table_path,
    layer_path,
    *,
    overwrite,
    title="Remaining contamination",
    engine=None,
    scheduler=None,
    chunk_size=None,
):
    rem = contamination.remaining(
        hazards,
        releases,
        districts,
        as_of=as_of,
        progress=not quiet(),
        engine=engine,
        scheduler=scheduler,
        chunk_size=chunk_size,
    )
    table = contamination.by_district(rem, districts=districts)
    for warning in rem.attrs.get("warnings") or ():
        log.warning("releases: %s", warning)
    if layer_path is not None:
        mio.write_layer(rem, layer_path, overwrite=overwrite)
    if table_path is not None:
        # Rounded in the file only (ha to 0.01, mines to 0.1): `table` keeps every digit.
        mio.write_table(table, table_path, overwrite=overwrite)
    if map_path is not None:
        write_map_file(rem, table, hazards, releases, districts, as_of, map_path, overwrite, title)
    note(f"Remaining contamination ({as_of_text(as_of)}):")
    click.echo(format_table(table))
    return rem, table


def write_map_file(rem, table, hazards, releases, districts, as_of, path, overwrite, title) -> None:
    from minemap.render import render_map, write_map

    shown = contamination.released_by(releases, contamination.parse_as_of(as_of))
    m = render_map(
        rem, table, hazards=hazards, releases=shown, districts=districts, as_of=as_of, title=title
    )
    write_map(m, path, overwrite=overwrite)
