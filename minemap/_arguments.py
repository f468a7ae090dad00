"""The argument that fixes a problem, named in the caller's words.

A message that says how to fix a problem names an argument: ``pass crs=...``
to :func:`minemap.read_hazards`, ``--crs`` to ``minemap remaining``. The
library names its own keyword arguments (:func:`argument`); while a command
runs, the command line gives the option of each (:func:`spelled_as`, with the
table ``minemap.cli.OPTIONS``), so the same message says ``pass --crs``.

Messages are built once, already in the caller's words: nothing rewords them
afterwards, so the file names and values they quote are never touched, and a
rejects file, a log line and an error all say the same thing.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Iterator, Mapping
from typing import Any

__all__ = ["argument", "spelled_as"]

#: An option: its text (``"--crs"``), or a function of the value the message gives
#: (``{"mines_ap": "COLUMN"}`` -> ``"--map mines_ap=COLUMN"``).
Option = str | Callable[[Any], str]

_OPTIONS: contextvars.ContextVar[Mapping[str, Option] | None] = contextvars.ContextVar(
    "minemap_options", default=None
)


def argument(name: str, value: Any = ...) -> str:
    """How a message names the argument ``name`` that fixes a problem.

    Parameters
    ----------
    name
        A keyword argument of the library function that raised or reported the
        problem (``crs``, ``overwrite``, ``mapping``...).
    value
        The value to suggest, as Python writes it (``...``: any value).

    Returns
    -------
    str
        ``name=value`` in Python; the command line's option while a command runs
        (see :func:`spelled_as`), or ``name=value`` where it has none.

    Examples
    --------
    >>> argument("crs")
    'crs=...'
    >>> argument("overwrite", True)
    'overwrite=True'
    >>> with spelled_as({"crs": "--crs"}):
    ...     argument("crs")
    '--crs'
    """
    options = _OPTIONS.get()
    option = options.get(name) if options is not None else None
    if callable(option):
        return option(value)
    if option is not None:
        return option
    return f"{name}={'...' if value is ... else repr(value)}"


@contextlib.contextmanager
def spelled_as(options: Mapping[str, Option]) -> Iterator[None]:
    """Within the block, :func:`argument` names each parameter by its option in ``options``."""
    token = _OPTIONS.set(dict(options))
    try:
        yield
    finally:
        _OPTIONS.reset(token)
