"""The ``minemap`` command line (click).

stdout carries only data or the summary table; logs, warnings and progress bars
go to stderr. Exit status 0 on success, 1 on bad input, 2 on bad usage.

Names, ids and sources come from files someone else wrote: nothing the command
line prints may act on the terminal. While a command runs, stdout and stderr
escape every control character (:func:`minemap._text.escape_controls`): a
district named ``ESC ] 0 ; title BEL`` is printed as ``\x1b]0;title\x07``.

Each command lives in its own module in :mod:`minemap.commands` and is called
``command`` there; every public module of that package is registered here.

The library's messages name the argument that fixes a problem as Python does
(``pass crs=...``); while a command runs they name its option instead
(``pass --crs``): :data:`OPTIONS` says which option stands for which parameter.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import pkgutil
import sys

import click

from minemap import __version__, commands
from minemap._arguments import spelled_as
from minemap._text import escape_controls
from minemap.commands._options import GROUP_QUIET, GROUP_VERBOSE, quiet_option, verbose_option

#: The option that stands for each parameter of the library a message may name as
#: the fix (:func:`minemap._arguments.argument`).
OPTIONS = {
    "crs": "--crs",
    "layer": "--layer",
    "mapping": lambda columns: " ".join(f"--map {k}={v}" for k, v in columns.items()),
    "gazetteer": "--gazetteer FILE",
    "overwrite": "--overwrite",
    "public": "--public",
    "max_misclosure_m": "--max-misclosure",
    "cell_size_m": "--cell-size",
    "encoding": lambda code: "--encoding" + ("" if code is ... else f" {code}"),
    "date_order": lambda order: "--date-order " + ("DMY|MDY|YMD" if order is ... else order),
    "decimal": lambda mark: "--decimal" + ("" if mark is ... else f" {mark}"),
}


class _Escaping(io.TextIOBase):
    """A text stream that writes control characters as visible escapes.

    One exception: a write that starts with a carriage return and holds no newline
    is a progress bar (tqdm) redrawing its line, and keeps that first character.
    Everything a command echoes ends with a newline (``click.echo``, logging), so
    text from a file never comes this way.
    """

    def __init__(self, stream) -> None:
        self._stream = stream

    @property
    def encoding(self):
        return getattr(self._stream, "encoding", "utf-8")

    @property
    def errors(self):
        return getattr(self._stream, "errors", "strict")

    def writable(self) -> bool:
        return True

    def write(self, text) -> int:
        if isinstance(text, bytes | bytearray):
            text = bytes(text).decode("utf-8", "replace")
        if text.startswith("\r") and "\n" not in text:
            shown = "\r" + escape_controls(text[1:])
        else:
            shown = escape_controls(text)
        try:
            self._stream.write(shown)
        except UnicodeEncodeError:  # a terminal that cannot show Azerbaijani or Cyrillic
            encoding = self.encoding or "ascii"
            self._stream.write(shown.encode(encoding, "replace").decode(encoding))
        return len(text)

    def flush(self) -> None:
        self._stream.flush()

    def isatty(self) -> bool:
        return self._stream.isatty()

    def fileno(self) -> int:
        return self._stream.fileno()


@contextlib.contextmanager
def _escaped_output():
    """stdout and stderr escape control characters (:class:`_Escaping`) within the block."""
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _Escaping(sys.stdout), _Escaping(sys.stderr)
    try:
        yield
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        sys.stdout, sys.stderr = saved


class _Main(click.Group):
    """The ``minemap`` group: every command's output, and click's, is escaped, and
    messages name the options of the command line (:data:`OPTIONS`)."""

    def main(self, *args, **kwargs):
        with _escaped_output(), spelled_as(OPTIONS):
            return super().main(*args, **kwargs)


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="minemap")
@verbose_option
@quiet_option
def main(verbose: int, quiet: bool) -> None:
    """Mine-action information management: remaining contamination, per district, offline maps.

    Start with `minemap demo --output-dir DIR` to run the whole job on the bundled sample.
    -v/-q go before the command or after it: `minemap -q report ...`.
    """
    meta = click.get_current_context().meta
    meta[GROUP_VERBOSE], meta[GROUP_QUIET] = verbose, quiet


for _info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
    if not _info.name.startswith("_"):
        main.add_command(importlib.import_module(f"{commands.__name__}.{_info.name}").command)


if __name__ == "__main__":  # pragma: no cover
    main()
