"""The minemap error tree.

Every error minemap raises on purpose derives from :class:`MinemapError`. Each
subclass also inherits the matching built-in (``ValueError`` or ``OSError``) so
callers can catch either, as rasterio does with ``RasterioIOError``.
"""

from __future__ import annotations

__all__ = [
    "InputFileError",
    "MGRSError",
    "MinemapError",
    "MisclosureError",
    "NotAWorkspaceError",
    "OutputExistsError",
    "OutputFileError",
    "PrintUnavailableError",
    "ProfileError",
    "RecordError",
    "SchemaError",
    "ValidationError",
    "WorkspaceBusyError",
    "WorkspaceDamagedError",
    "WorkspaceError",
    "WorkspacePermissionError",
]


class MinemapError(Exception):
    """Root of every error minemap raises on purpose."""


class _FileProblem:
    """A problem with one file, said as ``path: problem`` (``.path``, ``.problem``)."""

    def __init__(self, path: object, problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")

    def __str__(self) -> str:
        return f"{self.path}: {self.problem}"


class InputFileError(_FileProblem, MinemapError, OSError):
    """A file cannot be read: missing, empty, corrupt, unknown format or no CRS."""


class WorkspaceError(InputFileError):
    """A workspace cannot be used: missing, not a workspace, damaged, or of a newer schema."""


class NotAWorkspaceError(WorkspaceError):
    """The file is not a minemap workspace (and does not look like a damaged one)."""


class WorkspaceBusyError(WorkspaceError):
    """Another process is writing to the workspace (an import is under way)."""

    def __init__(self, path: object) -> None:
        super().__init__(
            path, "is busy: another import is under way; try again when it has finished"
        )

    def __str__(self) -> str:
        return f"workspace {self.path} {self.problem}"


class WorkspaceDamagedError(WorkspaceError):
    """A workspace is damaged (cut off, a changed byte...): nothing is read from it or written.

    The message says what is damaged (the record, where it can tell) and how to recover.
    """


class WorkspacePermissionError(WorkspaceError):
    """The database refused: the user's role may not do this (PostgreSQL roles and grants)."""


class SchemaError(MinemapError, ValueError):
    """A layer lacks a required column or has one of the wrong kind."""


class ProfileError(SchemaError):
    """A profile that cannot be used: malformed TOML, an unknown key or value, a wrong type.

    ``str()`` is ``FILE, line N: problem``; ``.path``, ``.line`` and ``.problem`` give the parts.
    """

    def __init__(self, path: object, line: int | None, problem: str) -> None:
        self.path = str(path)
        self.line = line
        self.problem = problem
        where = f"{self.path}, line {line}" if line else self.path
        super().__init__(f"{where}: {problem}")


class ValidationError(MinemapError, ValueError):
    """Features fail validation; ``problems`` lists every one of them."""

    def __init__(self, message: str, problems: list | None = None) -> None:
        self.problems = list(problems or [])
        super().__init__(message)


class OutputExistsError(MinemapError, OSError):
    """An output file exists and ``--overwrite`` was not given."""


class OutputFileError(_FileProblem, MinemapError, OSError):
    """An output cannot be written in the format asked for (e.g. what the format cannot hold)."""


class PrintUnavailableError(MinemapError, RuntimeError):
    """A PDF cannot be printed here: no Chromium, or no playwright to drive it."""


class MGRSError(MinemapError, ValueError):
    """An MGRS reference or a UTM coordinate that cannot be converted."""


class RecordError(MinemapError, ValueError):
    """A minefield record cannot be read or is inconsistent; ``problems`` lists each one."""

    def __init__(self, path: object, problems: list[str]) -> None:
        self.path = str(path)
        self.problems = list(problems)
        shown = "; ".join(self.problems[:20])
        more = f"; ... and {len(self.problems) - 20} more" if len(self.problems) > 20 else ""
        super().__init__(f"{self.path}: {shown}{more}")


class MisclosureError(RecordError):
    """A closed traverse misses its first point by more than the allowed distance."""
