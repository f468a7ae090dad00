"""Reading and writing layers; the rejects report.

Readers go through pyogrio (with Arrow when available), map known column
aliases to the canonical names, bring every layer to EPSG:4326, and check each
feature (:mod:`minemap.validate`). A file that cannot be read raises
:class:`~minemap.errors.InputFileError` naming the file and the problem.
Writers are atomic: they write a temporary file beside the target and rename it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import tempfile
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pyogrio.errors

from minemap import schema as s
from minemap.errors import InputFileError, OutputExistsError, SchemaError, ValidationError
from minemap.validate import ERROR, Problem, check_layer

__all__ = [
    "Loaded",
    "load_layers",
    "normalise_columns",
    "read_districts",
    "read_hazards",
    "read_items",
    "read_layer",
    "read_releases",
    "write_layer",
    "write_table",
]

#: Output formats by file extension (GDAL driver names).
DRIVERS = {".gpkg": "GPKG", ".geojson": "GeoJSON", ".json": "GeoJSON", ".shp": "ESRI Shapefile"}

#: Name of the column that says why a feature was rejected.
PROBLEM = "problem"
SOURCE_FILE = "source_file"
SOURCE_ROW = "source_row"


def normalise_columns(frame: pd.DataFrame, kind: str, mapping: dict | None = None) -> pd.DataFrame:
    """Rename known aliases to canonical column names (case-insensitive).

    Parameters
    ----------
    frame
        The layer as read.
    kind
        ``hazards``, ``releases`` or ``districts``.
    mapping
        Explicit ``{canonical: column_in_file}`` pairs; they win over aliases.

    Examples
    --------
    >>> import pandas as pd
    >>> list(normalise_columns(pd.DataFrame(columns=["ID", "AP", "AT"]), "hazards").columns)
    ['hazard_id', 'mines_ap', 'mines_at']
    """
    renames: dict = {}
    taken = set()
    for canonical, given in (mapping or {}).items():
        if given not in frame.columns:
            raise SchemaError(f"column {given!r} (mapped to {canonical}) is not in the layer")
        renames[given] = canonical
        taken.add(canonical)
    lower = {str(c).lower(): c for c in frame.columns if c not in renames}
    known = (*s.REQUIRED[kind], *s.OPTIONAL[kind])
    aliases = s.COLUMN_ALIASES.get(kind, {})
    for canonical in known:
        if canonical in taken or canonical in frame.columns:
            continue
        # Shapefiles cut column names to 10 characters (released_on -> released_o).
        for name in (canonical, canonical[:10], *aliases.get(canonical, ())):
            column = lower.get(name.lower())
            if column is not None and column not in renames:
                renames[column] = canonical
                break
    return frame.rename(columns=renames)


def _read_raw(path: Path, layer: str | None) -> gpd.GeoDataFrame:
    if not path.exists():
        raise InputFileError(path, "no such file")
    if path.is_dir() and path.suffix.lower() not in (".gdb",):
        raise InputFileError(path, "is a folder, not a file")
    if path.is_file() and path.stat().st_size == 0:
        raise InputFileError(path, "the file is empty")
    kwargs = {"layer": layer} if layer else {}
    try:
        with warnings.catch_warnings():
            # GDAL warns about odd but readable content; the checks report what matters.
            warnings.simplefilter("ignore", RuntimeWarning)
            frame = pyogrio.read_dataframe(path, use_arrow=_has_arrow(), **kwargs)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise InputFileError(path, f"cannot be read as a map layer ({_short(exc)})") from None
    except (pyogrio.errors.GeometryError, pyogrio.errors.FieldError, ValueError) as exc:
        raise InputFileError(path, f"cannot be read ({_short(exc)})") from None
    if not isinstance(frame, gpd.GeoDataFrame) or frame.geometry.name not in frame.columns:
        raise InputFileError(path, "has no geometry column; is it a map layer?")
    if frame.crs is None:
        raise InputFileError(
            path, "has no coordinate reference system; save it with one (e.g. EPSG:4326)"
        )
    return frame


def _has_arrow() -> bool:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return False
    return True


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:300]


def read_layer(path, kind: str, *, layer: str | None = None, mapping: dict | None = None):
    """Read one file as a canonical, checked layer; raise if any feature is rejected.

    Warnings (repairs) are kept in ``frame.attrs["problems"]``.
    """
    loaded = load_layers([path], kind, layer=layer, mapping=mapping)
    loaded.raise_if_rejected()
    return loaded.kept


@dataclasses.dataclass
class Loaded:
    """What reading some files gave: kept features, rejected ones, and every problem."""

    kind: str
    kept: gpd.GeoDataFrame
    rejected: gpd.GeoDataFrame
    problems: list[Problem]
    read: int

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == ERROR]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity != ERROR]

    def summary(self) -> str:
        return (
            f"{self.kind}: read {self.read}, kept {len(self.kept)}, rejected {len(self.rejected)}"
            f" ({len(self.warnings)} warning(s))"
        )

    def raise_if_rejected(self) -> None:
        if len(self.rejected) or self.errors:
            shown = "\n".join(f"  {p}" for p in self.errors[:20])
            more = len(self.errors) - 20
            raise ValidationError(
                f"{self.kind}: {len(self.rejected)} of {self.read} feature(s) rejected:\n{shown}"
                + (f"\n  ... and {more} more" if more > 0 else ""),
                self.errors,
            )


def load_layers(
    paths: Iterable,
    kind: str,
    *,
    layer: str | None = None,
    mapping: dict | None = None,
) -> Loaded:
    """Read, normalise and check files of one kind; keep what passes, set aside the rest.

    Every feature read ends up in ``kept`` or in ``rejected`` (with ``problem``,
    ``source_file`` and ``source_row`` columns): ``read == len(kept) + len(rejected)``.
    Ids must be unique across all the files.
    """
    frames, problems, read = [], [], 0
    for path in map(Path, paths):
        raw = _read_raw(path, layer)
        read += len(raw)
        frame = normalise_columns(raw, kind, mapping)
        if frame.crs is not None and not frame.crs.equals(s.CANONICAL_CRS):
            frame = frame.to_crs(s.CANONICAL_CRS)
        frame[SOURCE_FILE] = str(path)
        frame[SOURCE_ROW] = range(1, len(frame) + 1)
        frames.append(frame)
    if not frames:
        raise SchemaError(f"no {kind} file given")
    combined = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    combined = gpd.GeoDataFrame(combined, geometry=combined.geometry.name, crs=s.CANONICAL_CRS)
    source = (
        str(paths[0])
        if isinstance(paths, Sequence) and len(paths) == 1
        else "+".join(dict.fromkeys(combined[SOURCE_FILE]))
    )
    cleaned, found, rejected_mask = check_layer(combined, kind, source=source)
    # Name each problem after the file the feature came from.
    for p in found:
        if p.row is None:
            problems.append(p)
            continue
        origin = combined.iloc[p.row]
        problems.append(
            dataclasses.replace(
                p,
                file=origin[SOURCE_FILE],
                row=int(origin[SOURCE_ROW]),
                feature=p.feature
                if not p.feature.startswith("feature ")
                else f"feature {int(origin[SOURCE_ROW])}",
            )
        )
    reasons = pd.Series("", index=range(len(cleaned)), dtype=object)
    for p, q in zip(found, problems, strict=True):
        if q.severity == ERROR and p.row is not None:
            reasons.iloc[p.row] = "; ".join(filter(None, [reasons.iloc[p.row], q.message]))
        elif q.severity == ERROR:
            reasons[:] = q.message
    rejected = combined[rejected_mask].copy()
    rejected[PROBLEM] = reasons[rejected_mask].to_numpy()
    kept = cleaned[~rejected_mask].drop(columns=[SOURCE_FILE, SOURCE_ROW]).reset_index(drop=True)
    kept.attrs["problems"] = [p for p in problems if p.severity != ERROR]
    return Loaded(kind, kept, rejected.reset_index(drop=True), problems, read)


def _reader(kind: str):
    def read(paths, *, layer: str | None = None, mapping: dict | None = None):
        if isinstance(paths, (str, os.PathLike)):
            paths = [paths]
        loaded = load_layers(list(paths), kind, layer=layer, mapping=mapping)
        loaded.raise_if_rejected()
        return loaded.kept

    read.__name__ = f"read_{kind}"
    read.__doc__ = f"""Read {kind} from one or more files (any format GDAL reads).

    Column aliases are mapped, the layer is brought to EPSG:4326 and every
    feature is checked. Raises :class:`~minemap.errors.ValidationError` listing
    every problem when any feature would be rejected, and
    :class:`~minemap.errors.InputFileError` when a file cannot be read. Use
    :func:`load_layers` to keep going with the rejected features set aside.
    """
    return read


read_hazards = _reader("hazards")
read_releases = _reader("releases")
read_items = _reader("items")
read_districts = _reader("districts")


@contextlib.contextmanager
def _atomic_path(path: Path, overwrite: bool):
    path = Path(path)
    if path.exists() and not overwrite:
        raise OutputExistsError(f"{path} exists; pass --overwrite (overwrite=True) to replace it")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    os.unlink(tmp)  # GDAL wants to create the file itself
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def _writable(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    for column in frame.columns:
        if isinstance(frame[column].dtype, pd.StringDtype):
            frame[column] = frame[column].astype(object)
        elif pd.api.types.is_datetime64_any_dtype(frame[column]):
            # Calendar days, written as YYYY-MM-DD.
            frame[column] = frame[column].dt.strftime("%Y-%m-%d").astype(object)
    return frame


def write_layer(frame: gpd.GeoDataFrame, path, *, overwrite: bool = False) -> Path:
    """Write a layer to GeoPackage, GeoJSON or Shapefile (chosen by extension), atomically."""
    path = Path(path)
    driver = DRIVERS.get(path.suffix.lower())
    if driver is None:
        raise SchemaError(f"{path}: unknown output format; use one of {', '.join(sorted(DRIVERS))}")
    frame = _writable(frame)
    if driver == "ESRI Shapefile":
        return _write_shapefile(frame, path, overwrite)
    with _atomic_path(path, overwrite) as tmp:
        pyogrio.write_dataframe(frame, tmp, driver=driver, layer=path.stem)
    return path


def _write_shapefile(frame: gpd.GeoDataFrame, path: Path, overwrite: bool) -> Path:
    if path.exists() and not overwrite:
        raise OutputExistsError(f"{path} exists; pass --overwrite (overwrite=True) to replace it")
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".shp-") as tmp:
        target = Path(tmp) / path.name
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # column names cut to 10 characters
            pyogrio.write_dataframe(frame, target, driver="ESRI Shapefile", encoding="UTF-8")
        for part in sorted(Path(tmp).iterdir()):
            os.replace(part, path.parent / part.name)
    return path


def write_table(table: pd.DataFrame, path, *, overwrite: bool = False) -> Path:
    """Write a table to CSV atomically."""
    path = Path(path)
    with _atomic_path(path, overwrite) as tmp:
        table.to_csv(tmp, index=False, float_format="%.6f")
    return path
