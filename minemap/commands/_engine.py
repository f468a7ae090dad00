"""The ``--engine``, ``--scheduler`` and ``--chunk-size`` options (see :mod:`minemap.engine`)."""

from __future__ import annotations

import click

from minemap import engine as _engine

__all__ = ["engine_options"]


def _check(ctx: click.Context, param: click.Parameter, value):
    if value is not None and ctx.params.get("engine", _engine.DEFAULT_ENGINE) != "dask":
        raise click.BadParameter("only used with --engine dask", ctx=ctx, param=param)
    return value


def engine_options(func):
    """Add ``--engine``, ``--scheduler`` and ``--chunk-size``; the command receives all three."""
    func = click.option(
        "--chunk-size",
        "chunk_size",
        type=click.IntRange(min=1),
        default=None,
        help=f"Hazards per spatial chunk (default {_engine.DEFAULT_CHUNK_SIZE:,}); "
        "bounds memory, never changes the figures.",
    )(func)
    func = click.option(
        "--scheduler",
        metavar="ADDRESS",
        default=None,
        callback=_check,
        help="Dask scheduler to run on (e.g. tcp://10.0.0.5:8786); default: a local "
        "cluster for this run. Only with --engine dask.",
    )(func)
    return click.option(
        "--engine",
        type=click.Choice(_engine.ENGINES),
        default=_engine.DEFAULT_ENGINE,
        show_default=True,
        is_eager=True,
        help="Where the geometry work runs: threads on this machine, or Dask "
        "(needs the 'dask' extra: pip install 'minemap[dask]').",
    )(func)
