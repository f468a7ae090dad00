"""The command line's shared options, each defined once (as rasterio's ``rio/options.py``).

Every command takes these from here, so an option means the same thing and is
spelled the same way in each:

``-o/--output FILE``
    The one file a command writes (a layer, a table, a map, a report...).
``--output-dir DIR``
    The folder a command writes several files into (``demo``, ``progress``);
    ``-o/--output`` is its earlier spelling there, still accepted, not shown.
``-v/--verbose``, ``-q/--quiet``
    On the ``minemap`` group (``minemap -v validate ...``) and on every command
    (``minemap validate -v ...``); both places add up.

An earlier spelling stays accepted as a hidden alias: :class:`Option` takes it
in ``old=`` and leaves it out of ``--help`` and out of error messages.
"""

from __future__ import annotations

from pathlib import Path

import click

__all__ = [
    "GROUP_QUIET",
    "GROUP_VERBOSE",
    "Option",
    "output_dir_option",
    "output_option",
    "quiet_option",
    "verbose_option",
]

#: ``ctx.meta`` keys of the ``-v``/``-q`` given before the command (``minemap -v validate``).
GROUP_VERBOSE = "minemap.group_verbose"
GROUP_QUIET = "minemap.group_quiet"


class Option(click.Option):
    """A click option with earlier spellings that still work but are not shown.

    Parameters
    ----------
    param_decls
        The option's spellings and name, as for :class:`click.Option`.
    old
        Earlier spellings (``("--rejects",)``): accepted on the command line,
        left out of ``--help`` and out of the option's name in error messages.
    **attrs
        As for :class:`click.Option`.
    """

    def __init__(self, param_decls=None, *, old=(), **attrs) -> None:
        self.old_spellings = tuple(old)
        super().__init__([*(param_decls or ()), *self.old_spellings], **attrs)

    def _shown(self):
        """The spellings shown: ``opts`` and ``secondary_opts`` without the old ones."""
        old = set(self.old_spellings)
        return [o for o in self.opts if o not in old], [
            o for o in self.secondary_opts if o not in old
        ]

    def get_help_record(self, ctx):
        saved = self.opts, self.secondary_opts
        self.opts, self.secondary_opts = self._shown()
        try:
            return super().get_help_record(ctx)
        finally:
            self.opts, self.secondary_opts = saved

    def get_error_hint(self, ctx) -> str:
        shown, _ = self._shown()
        return " / ".join(f"'{o}'" for o in shown) or super().get_error_hint(ctx)


def output_option(type_: click.ParamType, help: str, **attrs):
    """``-o/--output FILE``: the one file the command writes.

    Parameters
    ----------
    type_
        What the file may be (``OutputFile(formats, what)``: its extension is
        checked when the command line is parsed).
    help
        What is written there.
    **attrs
        More for :func:`click.option` (``required=True``, ``default=...``).
    """
    return click.option("-o", "--output", "output", cls=Option, type=type_, help=help, **attrs)


def output_dir_option(help: str, **attrs):
    """``--output-dir DIR``: the folder the command writes its files into.

    ``-o/--output`` was its spelling in ``demo`` and ``progress``: still accepted
    there, not shown (``-o`` now always names a file).
    """
    return click.option(
        "--output-dir",
        "output",
        cls=Option,
        old=("-o", "--output"),
        metavar="DIR",
        type=click.Path(file_okay=False, path_type=Path),
        help=help,
        **attrs,
    )


def verbose_option(func):
    """``-v/--verbose``, repeatable."""
    return click.option("-v", "--verbose", count=True, help="More log output (repeat for more).")(
        func
    )


def quiet_option(func):
    """``-q/--quiet``."""
    return click.option("-q", "--quiet", is_flag=True, help="Only errors; no progress bars.")(func)
