"""Writing output files: one atomic writer for every file minemap writes.

Every output (layers in every format, tables, maps, reports, rasters, charts,
workspaces, rejects) goes through :func:`atomic_output`, which

1. refuses an existing output (every part of a Shapefile counts) unless
   ``overwrite`` is given;
2. has the file written under its own name in a private temporary folder beside
   the target (``.NAME.minemap-XXXXXXXX``, mode 0700), so a writer that picks
   its format or layer name from the file name sees the real one;
3. checks the result by opening it again with the reader for its format;
4. gives it the permissions of any new file (``0666 & ~umask``) and fsyncs it;
5. moves it into place: without ``overwrite`` by a hard link or
   ``renameat2(RENAME_NOREPLACE)``, which fail if a file of that name appeared
   meanwhile (that file is left alone); with ``overwrite`` by :func:`os.replace`;
6. fsyncs the folder, so the new name survives a power cut.

Any failure (a full disk, an I/O error, a result that does not read back)
removes the temporary folder and leaves the target as it was: nothing under
the final name, or the old file unchanged. Disk errors become
:class:`~minemap.errors.OutputFileError` naming the target, whatever library
raised them (GDAL, SQLite, Arrow, libtiff, matplotlib).

A Shapefile is a set of files (``.shp .shx .dbf .prj .cpg``); see
:func:`atomic_output` for how the set is replaced, and :func:`recover` for what
happens after a writer is killed in the middle.

Tables that people open in spreadsheets go through :func:`spreadsheet_safe`
(no text cell starts a formula) and :func:`round_figures` (figures rounded to
what they mean) at write time only.
"""

from __future__ import annotations

import contextlib
import csv
import ctypes
import errno
import logging
import os
import re
import secrets
import shutil
import sqlite3
import sys
import tempfile
import threading
import zipfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from minemap import schema as s
from minemap._arguments import argument
from minemap.errors import MinemapError, OutputExistsError, OutputFileError

__all__ = [
    "FORMULA_STARTS",
    "SHAPEFILE_PARTS",
    "atomic_output",
    "check_csv",
    "check_for",
    "check_html",
    "check_png",
    "check_sqlite",
    "check_svg",
    "check_zip",
    "decimals",
    "default_mode",
    "existing_outputs",
    "recover",
    "refuse_existing",
    "round_figures",
    "spreadsheet_safe",
    "starts_formula",
    "write_bytes",
    "write_text",
]

log = logging.getLogger("minemap")

#: The files a Shapefile ``NAME.shp`` is made of or indexed by, as ``NAME`` + suffix
#: (matched without regard to case): its data (.shp .shx .dbf), projection and code
#: page (.prj .cpg), and the spatial and attribute indexes other programs add
#: (QGIS/MapServer .qix, ArcGIS .sbn .sbx .fbn .fbx .ain .aih .atx .ixs .mxs, GDAL
#: .fix) and ArcGIS's metadata (.shp.xml). Each counts as an existing output; on
#: ``overwrite`` all are replaced or removed, since indexes of the old geometry
#: would be wrong for the new one. A style file (.qml, .sld) is the user's: kept.
SHAPEFILE_PARTS = (
    ".shp",
    ".shx",
    ".dbf",
    ".prj",
    ".cpg",
    ".qix",
    ".sbn",
    ".sbx",
    ".fbn",
    ".fbx",
    ".ain",
    ".aih",
    ".atx",
    ".ixs",
    ".mxs",
    ".fix",
    ".shp.xml",
)

_STAGE = ".minemap-"  # NAME's temporary folder: .NAME.minemap-XXXXXXXX
_NEW_STAGE = ".minemap-new-"  # before it is locked and given NAME
_OLD = "old"  # the previous Shapefile set, inside the temporary folder
_MOVING_IN = ".moving-in"  # the new set is complete, checked and being moved in

#: errno values for "this file system has no hard links" (FAT, exFAT, some shares).
_NO_HARD_LINKS = {
    errno.EPERM,
    errno.EOPNOTSUPP,
    getattr(errno, "ENOTSUP", errno.EOPNOTSUPP),
    errno.EMLINK,
    errno.ENOSYS,
    errno.EXDEV,
    errno.EINVAL,
}

#: What a disk error means for someone writing a file, by errno.
_DISK_ERRORS = {
    errno.ENOSPC: "the disk is full (no space left on device)",
    getattr(errno, "EDQUOT", errno.ENOSPC): "the disk quota is exceeded",
    errno.EIO: "input/output error (a failing disk, a removed drive or a lost network share?)",
    errno.EFBIG: "the file is too large for this file system (FAT32 holds 4 GiB at most)",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
}
#: The same, as libraries that do not keep errno say it (GDAL, SQLite, libtiff, Arrow).
_DISK_MESSAGES = (
    (re.compile(r"no space left|disk is full|\[errno 28\]|not enough space", re.I), errno.ENOSPC),
    (re.compile(r"quota exceeded|\[errno 122\]", re.I), getattr(errno, "EDQUOT", errno.ENOSPC)),
    (re.compile(r"input/output error|disk i/o error|\[errno 5\]", re.I), errno.EIO),
    (re.compile(r"file too large|\[errno 27\]", re.I), errno.EFBIG),
    (re.compile(r"read-only file system|\[errno 30\]", re.I), errno.EROFS),
)
#: Below this much free space, a write that failed is taken to have filled the disk
#: (GDAL's GeoPackage driver says "no such table" when SQLite could not create it).
_NEARLY_FULL = 1 << 20


class _CheckError(Exception):
    """The file written does not read back."""


# --- permissions ------------------------------------------------------------------

_umask_lock = threading.Lock()


def _umask() -> int:
    """The process's umask, read without changing it where the system allows."""
    with contextlib.suppress(OSError, ValueError), open("/proc/self/status", "rb") as f:
        for line in f:
            if line.startswith(b"Umask:"):
                return int(line.split()[1], 8)
    with _umask_lock:
        # The only portable way to read it is to set it: set the strictest value
        # meanwhile, so a file another thread creates in between is private, not open.
        mask = os.umask(0o077)
        os.umask(mask)
    return mask


def default_mode() -> int:
    """The mode a new file gets from ``open()``: ``0o666 & ~umask``."""
    return 0o666 & ~_umask()


# --- durability -------------------------------------------------------------------


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDWR if os.name == "nt" else os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(folder: Path) -> None:
    """Make a folder's entries (a rename) durable; POSIX only."""
    if os.name == "nt":
        return
    fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    except OSError as exc:
        # Some file systems cannot fsync a folder (EINVAL); a failed write (EIO) is real.
        if exc.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EBADF):
            raise
    finally:
        os.close(fd)


# --- renames that never replace ---------------------------------------------------


def _renameat2_function():
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        function = libc.renameat2
    except (OSError, AttributeError):  # glibc < 2.28, musl < 1.2.4...
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p]
    function.argtypes.append(ctypes.c_uint)
    function.restype = ctypes.c_int
    return function


_renameat2 = _renameat2_function()
_AT_FDCWD = -100
_RENAME_NOREPLACE = 1


def _rename_exclusive(src: Path, dst: Path) -> None:
    """Rename ``src`` to ``dst`` unless ``dst`` exists, on a file system without hard links."""
    if _renameat2 is not None:
        if _renameat2(_AT_FDCWD, os.fsencode(src), _AT_FDCWD, os.fsencode(dst), _RENAME_NOREPLACE):
            code = ctypes.get_errno()
            if code not in (errno.EINVAL, errno.ENOSYS):  # not supported here: fall through
                raise OSError(code, os.strerror(code), str(dst))
        else:
            return
    if os.name == "nt":
        os.rename(src, dst)  # Windows' rename refuses an existing target
        return
    # Last resort (no hard links, no renameat2): a check, then a rename. A file created
    # in the moment between the two would be replaced; docs say so.
    if os.path.lexists(dst):
        raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(dst))
    os.rename(src, dst)


def _link_or_rename(src: Path, dst: Path) -> bool:
    """Give ``src`` the name ``dst`` unless ``dst`` exists (``FileExistsError``).

    Returns True when ``src`` was linked (it still exists and must be unlinked),
    False when it was renamed.
    """
    try:
        # A symbolic link (an old part) is linked as itself, where the platform can.
        os.link(src, dst, follow_symlinks=os.link not in os.supports_follow_symlinks)
    except FileExistsError:
        raise
    except OSError as exc:
        if exc.errno not in _NO_HARD_LINKS:
            raise
        _rename_exclusive(src, dst)
        return False
    return True


def _move_part(src: Path, dst: Path, *, replace: bool) -> None:
    """Move one file into place, never over an existing one unless ``replace``."""
    if replace:
        os.replace(src, dst)
    elif _link_or_rename(src, dst):
        os.unlink(src)


# --- existing outputs -------------------------------------------------------------


def _is_shapefile(path: Path) -> bool:
    return path.suffix.lower() == ".shp"


def _part_suffix(name: str, stem: str) -> str | None:
    """``.dbf`` for ``stem.dbf`` (any case), None for another file."""
    if not name.startswith(f"{stem}."):
        return None
    suffix = name[len(stem) :].lower()
    return suffix if suffix in SHAPEFILE_PARTS else None


def _shapefile_parts(path: Path) -> list[Path]:
    """Every file of the Shapefile ``path`` present in its folder, the .shp first."""
    folder, stem = path.parent, path.stem
    try:
        names = os.listdir(folder if str(folder) else ".")
    except FileNotFoundError:
        return []
    parts = [folder / n for n in names if _part_suffix(n, stem) is not None]
    return sorted(parts, key=lambda p: (p.suffix.lower() != ".shp", p.name))


def existing_outputs(path) -> list[Path]:
    """The files that writing ``path`` would replace: every part of a Shapefile."""
    path = Path(path)
    if _is_shapefile(path):
        return _shapefile_parts(path)
    return [path] if os.path.lexists(path) else []


def _exists_error(path: Path, found: Sequence[Path]) -> OutputExistsError:
    if list(found) == [path]:
        return OutputExistsError(f"{path} exists; pass {argument('overwrite', True)} to replace it")
    names = ", ".join(p.name for p in found)
    return OutputExistsError(
        f"{path}: {names} exist(s) (part of the Shapefile {path.name}); pass "
        f"{argument('overwrite', True)} to replace the whole set"
    )


def refuse_existing(paths, overwrite: bool) -> None:
    """Refuse before any work when an output exists (every part of a Shapefile counts).

    Interrupted writes of these outputs are finished or undone first (:func:`recover`).
    """
    for path in paths:
        if path is None:
            continue
        path = Path(path)
        recover(path)
        if path.is_dir():
            raise OutputFileError(path, "is a folder; give a file name")
        found = existing_outputs(path)
        if found and not overwrite:
            raise _exists_error(path, found)


# --- the temporary folder ---------------------------------------------------------


def _lock(fd: int | None, *, wait: bool) -> bool:
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks, so no recovery of other writers
        return wait
    if fd is None:
        return wait
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
    except BlockingIOError:
        return False
    return True


class _Stage:
    """The private folder an output is written in, locked while its writer lives."""

    def __init__(self, target: Path) -> None:
        self.target = target
        self.keep = False  # True when it holds an old set that could not be put back
        self.folder = _folder_of(target)
        new = Path(tempfile.mkdtemp(prefix=_NEW_STAGE, dir=self.folder))
        self.fd = _open_folder(new)
        try:
            _lock(self.fd, wait=True)
            # Named after the target only once locked: recover() never takes a live
            # writer's folder for the leftover of a killed one.
            self.path = self.folder / f".{target.name}{_STAGE}{secrets.token_hex(4)}"
            os.rename(new, self.path)
        except BaseException:
            _close(self.fd)
            shutil.rmtree(new, ignore_errors=True)
            raise

    def files(self) -> list[Path]:
        return _staged_parts(self.path)

    def remove(self) -> None:
        try:
            if not self.keep:
                shutil.rmtree(self.path, ignore_errors=True)
        finally:
            _close(self.fd)


def _open_folder(folder: Path) -> int | None:
    """A descriptor to lock a folder by (None on Windows, which cannot open folders)."""
    return None if os.name == "nt" else os.open(folder, os.O_RDONLY)


def _close(fd: int | None) -> None:
    if fd is not None:
        os.close(fd)


def _stages_of(path: Path) -> list[Path]:
    folder = path.parent if str(path.parent) else Path()
    prefix = f".{path.name}{_STAGE}"
    try:
        names = os.listdir(folder)
    except FileNotFoundError:
        return []
    return [folder / n for n in names if n.startswith(prefix) and (folder / n).is_dir()]


def recover(path) -> list[str]:
    """Finish or undo writes of ``path`` that were killed; return what was done.

    A killed single-file write leaves only its temporary folder (the target was
    never touched, or is already whole): it is removed. A killed Shapefile write
    is finished when the new set was complete and checked before its parts began
    to move in (the remaining parts are moved in), and undone otherwise (the old
    parts set aside are moved back). Folders of writers still running are left.
    Every write calls this first for its target.
    """
    path = Path(path)
    done = []
    for stage in _stages_of(path):
        try:
            fd = _open_folder(stage)
        except FileNotFoundError:
            continue
        try:
            if not _lock(fd, wait=False):
                continue  # its writer is alive
            if (stage / _ROLLING_BACK).exists() or not (stage / _MOVING_IN).exists():
                if _roll_back(stage, path):
                    done.append(f"{path}: undid an interrupted write (the previous set is back)")
            else:
                _move_set_in(stage, path, replace=True)
                done.append(f"{path}: finished an interrupted write (the new set is complete)")
            shutil.rmtree(stage, ignore_errors=True)
        finally:
            _close(fd)
    for message in done:
        log.warning("%s", message)
    return done


# A Shapefile set is replaced through these states of its temporary folder T (each
# step fsynced before the next), so that a reader of the target's folder F sees the
# old set, no .shp, or the new set, and recover() knows from T alone what to do:
#   writing:      the new set is written and checked in T.
#   setting aside: the old parts move from F to T/old, the .shp first.   -> undo
#   T/.moving-in:  the new parts move from T to F, the .shp last.         -> finish
#   T/.rolling-back (a failure while moving in): the new parts in F are
#                  removed, then the marker; then as "setting aside".      -> undo
# Undo moves T/old back into F. Finish moves the rest of T into F.
_ROLLING_BACK = ".rolling-back"


def _by_shp_last(parts: list[Path]) -> list[Path]:
    return sorted(parts, key=lambda p: (p.suffix.lower() == ".shp", p.name))


def _folder_of(path: Path) -> Path:
    return path.parent if str(path.parent) else Path()


def _staged_parts(stage: Path) -> list[Path]:
    return [p for p in stage.iterdir() if p.is_file() and not p.name.startswith(".")]


def _mark(stage: Path, name: str) -> None:
    marker = stage / name
    marker.write_bytes(b"")
    _fsync_file(marker)
    _fsync_dir(stage)


def _unmark(stage: Path, name: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(stage / name)
    _fsync_dir(stage)


def _move_set_in(stage: Path, target: Path, *, replace: bool) -> None:
    """Move the staged set into place, the .shp last: until it lands, no dataset is there."""
    folder = _folder_of(target)
    placed: list[Path] = []
    try:
        for part in _by_shp_last(_staged_parts(stage)):
            _move_part(part, folder / part.name, replace=replace)
            placed.append(folder / part.name)
    except BaseException as exc:
        # Take ours back out: no part of an incomplete set stays under the target's name
        # (and a part another program created meanwhile is theirs: it stays).
        for mine in reversed(placed):
            with contextlib.suppress(OSError):
                os.replace(mine, stage / mine.name)
        if isinstance(exc, FileExistsError):
            raise _exists_error(target, [Path(exc.filename or folder / "?")]) from None
        raise
    _fsync_dir(folder)


def _set_old_aside(stage: Path, old: list[Path]) -> None:
    """Move the previous set into the temporary folder, the .shp first."""
    if not old:
        return
    aside = stage / _OLD
    aside.mkdir(exist_ok=True)
    for part in old:  # .shp first: from the first move on, no dataset is there
        _move_part(part, aside / part.name, replace=False)
    _fsync_dir(aside)
    _fsync_dir(_folder_of(old[0]))


def _roll_back(stage: Path, target: Path) -> bool:
    """Put the old set back (see the states above); True if there was one to put back.

    Safe to run again after a kill at any point of it.
    """
    folder = _folder_of(target)
    if (stage / _MOVING_IN).exists() or (stage / _ROLLING_BACK).exists():
        _mark(stage, _ROLLING_BACK)
        _unmark(stage, _MOVING_IN)
        # Every part of the target in F is a new one: the old ones are all in T/old.
        for part in _shapefile_parts(target):
            os.unlink(part)
        _fsync_dir(folder)
        _unmark(stage, _ROLLING_BACK)
    aside = stage / _OLD
    old = list(aside.iterdir()) if aside.is_dir() else []
    for part in _by_shp_last(old):
        os.replace(part, folder / part.name)
    if old:
        _fsync_dir(folder)
    return bool(old)


def _replace_set(stage: _Stage, target: Path, *, overwrite: bool) -> None:
    """Move a checked Shapefile set into place (see the states above)."""
    if not overwrite:
        _mark(stage.path, _MOVING_IN)
        _move_set_in(stage.path, target, replace=False)
        return
    try:
        _set_old_aside(stage.path, existing_outputs(target))
        _mark(stage.path, _MOVING_IN)
        _move_set_in(stage.path, target, replace=True)
    except BaseException:
        try:
            _roll_back(stage.path, target)
        except BaseException:
            # The old set stays in the temporary folder; the next write or recover()
            # puts it back.
            stage.keep = True
            log.error(
                "%s: the previous set could not be put back yet; it is kept in %s and "
                "the next write of %s puts it back",
                target,
                stage.path,
                target.name,
            )
        raise


# --- the writer -------------------------------------------------------------------


def _free_bytes(folder: Path) -> int | None:
    try:
        stat = os.statvfs(folder)
    except (AttributeError, OSError):
        return None
    return stat.f_bavail * stat.f_frsize


def disk_problem(exc: BaseException, folder: Path) -> str | None:
    """What a failed write says about the disk, or None when it says nothing."""
    free = _free_bytes(folder)
    full = free is not None and free < _NEARLY_FULL
    code = _disk_errno(exc)
    if code == errno.EIO and full:
        code = errno.ENOSPC  # SQLite calls a write that found no space "disk I/O error"
    if code is None and full:
        code = errno.ENOSPC
    return None if code is None else _DISK_ERRORS[code]


def _disk_errno(exc: BaseException) -> int | None:
    """The errno of a disk error in an exception or its causes (from errno or text)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in _DISK_ERRORS:
            return current.errno
        text = str(current)
        for pattern, code in _DISK_MESSAGES:
            if pattern.search(text):
                return code
        current = current.__cause__ or current.__context__
    return None


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 200 else text[:200] + "..."


@contextlib.contextmanager
def atomic_output(
    path,
    *,
    overwrite: bool = False,
    check: Callable[[Path], object] | None = None,
) -> Iterator[Path]:
    """Write one output atomically: yield a temporary path to write, then check and place it.

    Parameters
    ----------
    path
        The output. Its folder is created if needed. A ``.shp`` is written as a
        set: every file the writer puts beside the temporary ``.shp`` is a part.
    overwrite
        Replace an existing output. Without it, an existing one is refused
        before anything is written, and one created while the file is being
        written is left alone (:class:`~minemap.errors.OutputExistsError`).
    check
        Called with the temporary path once it is written; raises if the file
        does not read back. (It may return anything.)

    Yields
    ------
    Path
        Where to write: ``path``'s name inside a private temporary folder beside
        it. Nothing is there yet (GDAL and SQLite want to create files themselves).

    Raises
    ------
    minemap.errors.OutputExistsError
        The output exists, or appeared while it was written.
    minemap.errors.OutputFileError
        The disk is full, an I/O error, permissions, or the result does not read
        back. Nothing is left under ``path`` (an old file is unchanged) and no
        temporary file is left behind.

    Notes
    -----
    A Shapefile set is replaced in three steps: (1) the new set is written and
    checked in the temporary folder; (2) the old set (every part in
    :data:`SHAPEFILE_PARTS`, the ``.shp`` first) is moved into that folder, then
    a marker records that the new set is complete; (3) the new parts are moved
    in, the ``.shp`` last. At no moment does the folder hold a ``.shp`` with
    parts of another set: a reader sees the old set, no ``.shp``, or the new
    set. A failure during (2) or (3) puts the old set back at once. A kill
    during (2) or (3) leaves the old set (or the rest of the new one) in
    ``.NAME.shp.minemap-*``; the next write of that output, or :func:`recover`,
    undoes (2) or finishes (3).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "note.txt"
    >>> with atomic_output(out) as tmp:
    ...     _ = tmp.write_text("hello", encoding="utf-8")
    >>> out.read_text(encoding="utf-8")
    'hello'
    """
    path = Path(path)
    existed = False
    stage: _Stage | None = None
    checking = False
    try:
        folder = path.parent if str(path.parent) else Path()
        folder.mkdir(parents=True, exist_ok=True)
        refuse_existing([path], overwrite)
        existed = bool(existing_outputs(path))
        stage = _Stage(path)
        tmp = stage.path / path.name
        yield tmp
        if not tmp.is_file():
            raise _CheckError("the writer produced no file")
        if check is not None:
            checking = True
            try:
                check(tmp)
            except Exception as exc:
                raise _CheckError(_short(exc)) from exc
            checking = False
        mode = default_mode()
        files = stage.files()
        for part in files:
            os.chmod(part, mode)
            _fsync_file(part)
        _fsync_dir(stage.path)
        if _is_shapefile(path):
            _replace_set(stage, path, overwrite=overwrite)
        else:
            try:
                _move_part(tmp, path, replace=overwrite)
            except FileExistsError:
                raise _exists_error(path, [path]) from None
            _fsync_dir(folder)
    except MinemapError:
        raise
    except BaseException as exc:
        problem = None
        if not isinstance(exc, KeyboardInterrupt | SystemExit | GeneratorExit):
            problem = disk_problem(exc, stage.path if stage is not None else path.parent)
            if problem is None and (checking or isinstance(exc, _CheckError)):
                problem = f"the file written does not read back ({_short(exc)})"
        if problem is None:
            raise
        kept = "nothing was written under this name"
        if stage is not None and stage.keep:
            kept += (
                f"; the previous files are kept in {stage.path} and the next write of "
                f"{path.name} puts them back"
            )
        elif existed:
            kept += "; the existing file is unchanged"
        raise OutputFileError(path, f"not written: {problem}; {kept}") from exc
    finally:
        if stage is not None:
            stage.remove()


def write_bytes(data: bytes, path, *, overwrite: bool = False, check=None) -> Path:
    """Write bytes atomically (see :func:`atomic_output`); return ``path``."""
    path = Path(path)
    with atomic_output(path, overwrite=overwrite, check=check) as tmp, open(tmp, "xb") as f:
        f.write(data)
    return path


def write_text(text: str, path, *, overwrite: bool = False, check=None) -> Path:
    """Write UTF-8 text with ``\\n`` line ends atomically (see :func:`atomic_output`)."""
    data = text.encode("utf-8")
    if check is None:
        check = check_for(Path(path), len(data))
    return write_bytes(data, path, overwrite=overwrite, check=check)


# --- checks: open the result again --------------------------------------------------


def _tail(path: Path, size: int = 4096) -> bytes:
    with open(path, "rb") as f:
        f.seek(max(0, path.stat().st_size - size))
        return f.read()


def check_html(path: Path, size: int | None = None) -> None:
    """An HTML page: all of it (``size`` bytes) and its closing tag."""
    if size is not None and path.stat().st_size != size:
        raise ValueError(f"{path.stat().st_size} bytes on disk, {size} written")
    if b"</html>" not in _tail(path).lower():
        raise ValueError("no closing </html> tag")


def check_svg(path: Path, size: int | None = None) -> None:
    """An SVG drawing: all of it and its closing tag."""
    if size is not None and path.stat().st_size != size:
        raise ValueError(f"{path.stat().st_size} bytes on disk, {size} written")
    if not _tail(path).rstrip().endswith(b"</svg>"):
        raise ValueError("no closing </svg> tag")


def check_png(path: Path) -> None:
    """A PNG image: its signature and its closing IEND chunk."""
    with open(path, "rb") as f:
        head = f.read(8)
    if head != b"\x89PNG\r\n\x1a\n" or not _tail(path, 12).endswith(b"IEND\xaeB`\x82"):
        raise ValueError("not a whole PNG image")


def check_pdf(path: Path) -> None:
    """A PDF document: its header and its end-of-file marker."""
    with open(path, "rb") as f:
        head = f.read(5)
    if head != b"%PDF-" or b"%%EOF" not in _tail(path, 1024):
        raise ValueError("not a whole PDF document")


def check_zip(path: Path, names: Sequence[str] = ()) -> None:
    """A ZIP archive whose every member reads back (CRC), holding ``names``."""
    with zipfile.ZipFile(path) as archive:
        bad = archive.testzip()
        if bad is not None:
            raise ValueError(f"member {bad} is damaged")
        missing = set(names) - set(archive.namelist())
    if missing:
        raise ValueError(f"members missing: {', '.join(sorted(missing))}")


def check_sqlite(path: Path) -> None:
    """An SQLite database (a GeoPackage) that passes ``PRAGMA quick_check``."""
    uri = f"{path.resolve().as_uri()}?mode=ro"
    with contextlib.closing(sqlite3.connect(uri, uri=True)) as con:
        result = con.execute("PRAGMA quick_check").fetchone()
    if not result or result[0] != "ok":
        raise ValueError(f"quick_check: {result[0] if result else 'no answer'}")


def check_csv(path: Path, columns: Sequence[str], rows: int) -> None:
    """A CSV with this header and this many records (quoted line breaks allowed)."""
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        count = sum(1 for _ in reader)
    if header != list(columns):
        raise ValueError("its header is not the one written")
    if count != rows:
        raise ValueError(f"{count} rows read back, {rows} written")


def check_for(path: Path, size: int | None = None):
    """The check for a file by its extension (None when there is none).

    ``size``: the bytes written, for formats checked by their size and end.
    """
    suffix = path.suffix.lower()
    if suffix in (".html", ".htm"):
        return lambda p: check_html(p, size)
    if suffix == ".svg":
        return lambda p: check_svg(p, size)
    if suffix == ".png":
        return check_png
    if suffix == ".pdf":
        return check_pdf
    if suffix in (".gpkg", ".sqlite", ".db"):
        return check_sqlite
    if suffix == ".zip":
        return check_zip
    if size is not None:
        return lambda p: _check_size(p, size)
    return None


def _check_size(path: Path, size: int) -> None:
    if path.stat().st_size != size:
        raise ValueError(f"{path.stat().st_size} bytes on disk, {size} written")


# --- tables people open in spreadsheets --------------------------------------------

#: A text cell starting with one of these is a formula to Excel, LibreOffice or Google
#: Sheets: OWASP's CSV-injection list (= + - @ tab CR), NUL (OWASP ASVS 1.2.10), and the
#: full-width forms some Excel locales read as the same signs.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\0", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def starts_formula(value) -> bool:
    """Whether a spreadsheet would take this text for a formula (:data:`FORMULA_STARTS`).

    Spaces before the sign count too: LibreOffice's "trim spaces" import option
    drops them.

    >>> starts_formula("=1+1"), starts_formula("  -2"), starts_formula("A-1"), starts_formula(-1)
    (True, True, False, False)
    """
    return isinstance(value, str) and value.lstrip(" \u00a0").startswith(FORMULA_STARTS)


def _safe_text(value):
    if starts_formula(value):
        return "'" + value
    return value


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy where no text cell (nor column name) can start a spreadsheet formula.

    Text that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
    gets a leading ``'`` (OWASP's CSV-injection rule), which spreadsheets show
    as text; so does text starting with NUL or a full-width ``＝ ＋ － ＠``, or
    with one of these after spaces (:data:`FORMULA_STARTS`). Numbers, negative
    ones included, dates and missing values are not touched; only Python
    strings are. Every CSV (and spreadsheet) minemap writes goes through this.

    Examples
    --------
    >>> import pandas as pd
    >>> spreadsheet_safe(pd.DataFrame({"id": ["=1+1", "A-1"], "n": [-1, 2]})).to_dict("list")
    {'id': ["'=1+1", 'A-1'], 'n': [-1, 2]}
    """
    out = frame.copy()
    out.attrs = {}
    for column in out.columns:
        values = out[column]
        if isinstance(values.dtype, pd.CategoricalDtype):
            values = values.astype(object)
        if values.dtype == object or isinstance(values.dtype, pd.StringDtype):
            out[column] = values.map(_safe_text, na_action="ignore")
    out.columns = [_safe_text(c) if isinstance(c, str) else c for c in out.columns]
    return out


def decimals(column: str) -> int | None:
    """How many decimals a figure in ``column`` is written with (None: as it is).

    Areas in hectares to 0.01 ha, mine estimates to 0.1, counts as whole
    numbers, shares and scores to 0.001, metres and degrees to 0.1; the rules
    are :data:`minemap.schema.DECIMALS` (by name), then
    :data:`~minemap.schema.DECIMALS_BY_SUFFIX` and
    :data:`~minemap.schema.DECIMALS_BY_PREFIX`.

    >>> decimals("remaining_area_ha"), decimals("remaining_mines_est"), decimals("hazards")
    (2, 1, 0)
    """
    if column in s.DECIMALS:
        return s.DECIMALS[column]
    for suffix, places in s.DECIMALS_BY_SUFFIX:
        if column.endswith(suffix):
            return places
    for prefix, places in s.DECIMALS_BY_PREFIX:
        if column.startswith(prefix):
            return places
    return None


def round_figures(frame: pd.DataFrame, *, others: int | None = None) -> pd.DataFrame:
    """A copy with every figure rounded to what it means (see :func:`decimals`).

    Only at write time: the frames minemap computes with keep every digit. Float
    columns of counts (a count column with gaps) become whole-number columns.
    Float columns no rule names are rounded to ``others`` decimals (None: left
    as they are).
    """
    out = frame.copy()
    out.attrs = {}
    for column in out.columns:
        values = out[column]
        if not pd.api.types.is_float_dtype(values.dtype):
            continue
        places = decimals(str(column))
        places = others if places is None else places
        if places is None:
            continue
        rounded = values.round(places)
        if places == 0 and not np.isinf(rounded).any() and (rounded.abs().fillna(0) < 2**53).all():
            rounded = rounded.astype("Int64")
        out[column] = rounded
    return out
