"""The ``minemap`` command line (click).

stdout carries only data or the summary table; logs, warnings and progress bars
go to stderr. Exit status 0 on success, 1 on bad input, 2 on bad usage.

Each command lives in its own module in :mod:`minemap.commands` and is called
``command`` there; every public module of that package is registered here.
"""

from __future__ import annotations

import importlib
import pkgutil

import click

from minemap import __version__, commands


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="minemap")
def main() -> None:
    """Mine-action information management: remaining contamination, per district, offline maps.

    Start with `minemap demo -o DIR` to run the whole job on the bundled sample.
    """


for _info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
    if not _info.name.startswith("_"):
        main.add_command(importlib.import_module(f"{commands.__name__}.{_info.name}").command)


if __name__ == "__main__":  # pragma: no cover
    main()
