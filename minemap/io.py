"""Reading and writing layers; the rejects report.

Readers take GeoJSON, GeoPackage (any layer), Shapefile (also zipped, in the
encoding its ``.cpg`` names), KML and KMZ, FlatGeobuf, GeoParquet and CSV (a
WKT column, or longitude/latitude columns). They read through pyogrio and
Arrow, map known column aliases to the canonical names, bring every layer to
EPSG:4326, and check each feature (:mod:`minemap.validate`). A file that cannot
be read raises :class:`~minemap.errors.InputFileError` naming the file and the
problem. Every file may be hostile: GDAL opens it only with the driver its
extension names and never reaches the network (:mod:`minemap._gdal`), and what
GDAL and GEOS would trust is checked first (:mod:`minemap._screen`: archives,
small side files, nesting depth, NUL characters). Writers take the same formats
and go through :func:`minemap.outputs.atomic_output`: written beside the target
under a temporary name, read back, fsynced, then renamed (never over an existing
file without ``overwrite``). ``docs/import.md`` describes it all.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import io as _io
import json
import logging
import mmap
import os
import warnings
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyogrio
import pyogrio.errors
import pyproj
import shapely

from minemap import _gdal, _screen, curves, geodesy, outputs, overlay, spreadsheet, vocabulary
from minemap import schema as s
from minemap._arguments import argument
from minemap._text import escape, escape_controls, show
from minemap.cells import features as cell_features
from minemap.cells import ids_as_written
from minemap.errors import (
    InputFileError,
    OutputFileError,
    SchemaError,
    ValidationError,
)
from minemap.gazetteer import Gazetteer
from minemap.profile import Profile
from minemap.validate import (
    COPY_RULE,
    ERROR,
    GEOMETRY_NOTE,
    MAX_SEGMENT_M,
    TEXT_NOTE,
    WARNING,
    Problem,
    check_layer,
)
from minemap.values import cpg_encoding

# Before any file is read: only the GDAL drivers minemap reads and writes, no network.
_gdal.configure()

log = logging.getLogger("minemap")

__all__ = [
    "READ_FORMATS",
    "TABLE_FORMATS",
    "WRITE_FORMATS",
    "Loaded",
    "layer_names",
    "load_layers",
    "normalise_columns",
    "read_districts",
    "read_file",
    "read_hazards",
    "read_items",
    "read_layer",
    "read_releases",
    "valid_geometries",
    "with_valid_geometry",
    "write_layer",
    "write_layers",
    "write_table",
]

#: Output formats by file extension (GDAL driver names); .parquet, .csv and .zip
#: (a zipped Shapefile) are written without a GDAL driver of their own.
DRIVERS = {
    ".gpkg": "GPKG",
    ".geojson": "GeoJSON",
    ".json": "GeoJSON",
    ".shp": "ESRI Shapefile",
    ".fgb": "FlatGeobuf",
    ".kml": "LIBKML",
    ".kmz": "LIBKML",
}
_PARQUET = (".parquet", ".geoparquet")
_CSV = (".csv", ".tsv", ".txt")
_ZIP = (".zip",)
_SHEETS = spreadsheet.SUFFIXES
#: Extensions minemap reads; a file with another extension is refused (GDAL is never
#: asked to guess a format from the content: see minemap._gdal).
READ_FORMATS = (*_gdal.READ_DRIVERS, *_PARQUET, *_CSV, *_ZIP, *_SHEETS)
#: Extensions :func:`write_layer` writes.
WRITE_FORMATS = (*DRIVERS, *_PARQUET, ".csv", ".zip", ".xlsx")
#: Extensions :func:`write_table` writes.
TABLE_FORMATS = (".csv", ".xlsx")

#: Name of the column that says why a feature was rejected.
PROBLEM = "problem"
SOURCE_FILE = s.SOURCE_FILE
SOURCE_ROW = s.SOURCE_ROW

#: Columns GDAL's KML drivers add to every layer (the placemark's own fields).
KML_EXTRA_COLUMNS = (
    "Name",
    "description",
    "timestamp",
    "begin",
    "end",
    "altitudeMode",
    "tessellate",
    "extrude",
    "visibility",
    "drawOrder",
    "icon",
)
#: The geometry column of a CSV (or spreadsheet) minemap writes.
_CSV_WKT = "wkt"


def normalise_columns(
    frame: pd.DataFrame, kind: str, mapping: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """Rename known aliases to canonical column names (case- and accent-insensitive).

    Parameters
    ----------
    frame
        The layer as read.
    kind
        ``hazards``, ``releases``, ``items`` or ``districts``.
    mapping
        Explicit ``{canonical: column_in_file}`` pairs (``--map``, a profile's
        ``[KIND.columns]``); they win over aliases. The file's column is matched
        exactly first, then case-insensitively. A mapped column the file lacks is
        an error (:class:`~minemap.errors.SchemaError`) only if the canonical
        column is required: files of one source need not all have every column.

    Notes
    -----
    Aliases are tried in order: the canonical name, its 10-character Shapefile
    cut, the English aliases of :data:`minemap.schema.COLUMN_ALIASES`, then the
    other languages' names of :func:`minemap.vocabulary.column_names`
    (``Sahe_ID``, ``Статус``), all compared after :func:`minemap.vocabulary.fold`.

    Examples
    --------
    >>> import pandas as pd
    >>> list(normalise_columns(pd.DataFrame(columns=["ID", "AP", "AT"]), "hazards").columns)
    ['hazard_id', 'mines_ap', 'mines_at']
    >>> list(normalise_columns(pd.DataFrame(columns=["Sahe_ID", "Статус"]), "hazards").columns)
    ['hazard_id', 'status']
    """
    renames: dict = {}
    taken = set()
    lower_all = {str(c).lower(): c for c in frame.columns}
    for canonical, given in (mapping or {}).items():
        column = given if given in frame.columns else lower_all.get(str(given).lower())
        if column is None:
            if canonical not in s.REQUIRED[kind]:
                continue  # an optional column this file does not have
            names = [escape(c) for c in frame.columns if c != _geometry_name(frame)]
            columns = ", ".join(names[:30]) + (
                f" ... ({len(names) - 30} more)" if len(names) > 30 else ""
            )
            raise SchemaError(
                f"column {show(given)} (mapped to {canonical}) is not in the layer; "
                f"its columns are: {columns}"
            )
        renames[column] = canonical
        taken.add(canonical)
    # A column that already has a name mapped onto it explicitly steps aside (kept).
    clashes = {c: f"{c}_unmapped" for c in frame.columns if c in taken and c not in renames}
    renames.update(clashes)
    folded: dict[str, object] = {}
    for column in frame.columns:
        if column not in renames:
            folded.setdefault(vocabulary.fold(str(column)), column)
    known = (*s.REQUIRED[kind], *s.OPTIONAL[kind])
    aliases = s.COLUMN_ALIASES.get(kind, {})
    local = vocabulary.column_names(kind)
    for canonical in known:
        if canonical in taken or canonical in frame.columns:
            continue
        # Shapefiles cut column names to 10 characters (released_on -> released_o,
        # Организация -> Организаци): each name is tried whole, then cut.
        names = (canonical, *aliases.get(canonical, ()), *local.get(canonical, ()))
        for name in (n for whole in names for n in dict.fromkeys((whole, whole[:10]))):
            column = folded.get(vocabulary.fold(name))
            if column is not None and column not in renames and column not in known:
                renames[column] = canonical
                break
    return frame.rename(columns=renames)


def _geometry_name(frame) -> str | None:
    return frame.geometry.name if isinstance(frame, gpd.GeoDataFrame) else None


# --- reading files --------------------------------------------------------------


def _suffix(path: Path) -> str:
    return path.suffix.lower()


def read_file(
    path,
    *,
    layer: str | None = None,
    crs=None,
    kind: str | None = None,
    encoding: str | None = None,
) -> gpd.GeoDataFrame:
    """Read one file as it is (no alias mapping, no checks); raise if it cannot be read.

    Parameters
    ----------
    path
        Any format in :data:`READ_FORMATS`, told by its extension; a file whose
        content is not what its extension says is refused, as is any other
        extension (``SECURITY.md`` says why).
    layer
        The layer of a multi-layer file (GeoPackage, KML...). Without it, a file
        with several layers gives its layer named like ``kind``, or an error
        listing the layers (KML folders are read together).
    crs
        The CRS of coordinates that come without one (CSV, a Shapefile without
        ``.prj``). A CSV with ``longitude``/``latitude`` columns needs none.
    kind
        The layer kind, to choose a layer named like it. A releases CSV may
        have no geometry at all (releases given as an area: ``hazard_id`` and
        ``area_ha``).
    encoding
        The text encoding of a file that says none, or says one its text is not
        in (``--encoding``, a profile's ``encoding``): a Shapefile without a
        ``.cpg`` (or whose ``.cpg`` says UTF-8 over another code page), a CSV
        that is not UTF-8. A ``.cpg`` naming a code page its text decodes in
        wins. See :func:`minemap.values.cpg_encoding`.

    Returns
    -------
    GeoDataFrame
        In the file's own CRS. A private ``_geometry_note`` column marks rings
        that were closed and geometries that could not be decoded or nest too
        deep; a private ``_text_note`` column names the columns whose text held
        a NUL character.
    """
    path = Path(path)
    if crs is not None:
        crs = _user_crs(crs)
    if not path.exists():
        raise InputFileError(path, "no such file")
    suffix = _suffix(path)
    if path.is_dir():
        hint = (
            "; a File Geodatabase: export its layer to a GeoPackage (ArcGIS: Export "
            "Features; QGIS: Export > Save Features As)"
            if suffix == ".gdb"
            else ""
        )
        raise InputFileError(path, f"is a folder, not a file{hint}")
    if path.stat().st_size == 0:
        raise InputFileError(path, "the file is empty")
    if suffix not in READ_FORMATS:
        raise InputFileError(path, _not_a_format(path))
    try:
        with warnings.catch_warnings():
            # GDAL warns about odd but readable content; the checks report what matters.
            warnings.simplefilter("ignore", RuntimeWarning)
            warnings.simplefilter("ignore", UserWarning)
            if suffix in _PARQUET:
                frame = _read_parquet(path)
            elif suffix in _CSV:
                frame = _read_csv(path, crs, kind=kind, encoding=encoding)
            elif suffix in _SHEETS:
                frame = _read_sheet(path, layer, crs, kind=kind)
            else:
                frame = _read_ogr(path, layer, kind, encoding)
    except InputFileError:
        raise
    except MemoryError:
        raise InputFileError(path, "is too large to read into memory") from None
    except Exception as exc:
        raise InputFileError(path, _describe(path, exc)) from None
    if frame.crs is None:
        if crs is None:
            raise InputFileError(
                path,
                f"has no coordinate reference system; pass {argument('crs')} with the one its "
                "coordinates are in (e.g. EPSG:4326 for longitude/latitude, EPSG:32638 for "
                "UTM 38N), or save it with one",
            )
        frame = frame.set_crs(crs)
    return frame


def _user_crs(crs) -> pyproj.CRS:
    """A CRS given by the user (``--crs``), or a clear error."""
    try:
        return pyproj.CRS.from_user_input(crs)
    except pyproj.exceptions.CRSError:
        raise SchemaError(
            f"{show(crs)} is not a coordinate reference system; use e.g. EPSG:4326 "
            "(longitude/latitude) or EPSG:32638 (UTM 38N)"
        ) from None


def _not_a_format(path: Path) -> str:
    return (
        f"{show(_suffix(path) or path.name)} is not a format minemap reads; use one of "
        f"{', '.join(READ_FORMATS)}"
    )


def _describe(path: Path, exc: BaseException) -> str:
    """One line saying why a file could not be read, with a hint where there is one."""
    text = _short(exc).replace(f"'{path}'", "the file").replace(str(path), "the file")
    suffix = _suffix(path)
    if "not recognized as being in a supported file format" in text or ("not recognised" in text):
        return f"is not a readable {suffix} file (truncated, corrupt, or not really {suffix}?)"
    if "Wrapping" in text or "codec" in text or "decode" in text.lower():
        return f"holds text that is not in the encoding it declares ({text})"
    return f"cannot be read as a map layer ({text})"


def _short(exc: BaseException) -> str:
    """An error's text on one line, cut short, its control characters escaped."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return escape_controls(text[:300], keep_newlines=False)


def _read_parquet(path: Path) -> gpd.GeoDataFrame:
    """A GeoParquet file, its WKB geometries checked before they are decoded."""
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    metadata = (table.schema.metadata or {}).get(b"geo")
    if metadata is None:
        raise InputFileError(
            path, "is a Parquet file without GeoParquet metadata (no geometry column)"
        )
    try:
        geo = json.loads(metadata)
        specs = geo["columns"]
        primary = geo["primary_column"]
        encodings = {name: str(spec.get("encoding", "")).upper() for name, spec in specs.items()}
    except (ValueError, KeyError, TypeError, AttributeError):
        raise InputFileError(path, "its GeoParquet metadata cannot be read") from None
    if primary not in table.column_names or any(c not in table.column_names for c in specs):
        raise InputFileError(path, "its GeoParquet metadata names a column it does not hold")
    if any(encoding != "WKB" for encoding in encodings.values()):
        # GeoArrow's own encodings (points, polygons...) cannot nest: geopandas reads them.
        return gpd.read_parquet(path)
    cells = _screen.nul_cells(table.drop_columns(list(specs)))
    attributes = table.drop_columns(list(specs)).to_pandas()
    frame = None
    notes = None
    for name, spec in specs.items():
        geoms, note = _decode_wkb(table[name])
        crs = spec.get("crs", "OGC:CRS84")
        series = gpd.GeoSeries(geoms, crs=_parquet_crs(path, crs))
        if name == primary:
            frame, notes = series, note
        attributes[name] = series
    frame = gpd.GeoDataFrame(attributes, geometry=primary, crs=frame.crs)
    frame = frame[table.column_names]
    return _with_notes(frame, notes, cells)


def _parquet_crs(path: Path, crs) -> pyproj.CRS | None:
    if crs is None:
        return None
    try:
        return pyproj.CRS.from_user_input(crs)
    except pyproj.exceptions.CRSError:
        raise InputFileError(path, "its GeoParquet metadata holds a CRS PROJ cannot read") from None


def _zip_member(path: Path) -> str:
    """The GDAL path of the one map layer inside a ZIP (a zipped Shapefile, usually).

    The archive's directory is checked first (nothing is decompressed): members'
    declared sizes and compression ratios (:func:`minemap._screen.archive_problem`).
    """
    try:
        with zipfile.ZipFile(path) as archive:
            problem = _screen.archive_problem(archive, path.stat().st_size)
            names = [n for n in archive.namelist() if not n.endswith("/")]
    except zipfile.BadZipFile:
        raise InputFileError(path, "is not a valid ZIP archive (truncated or corrupt?)") from None
    if problem is not None:
        raise InputFileError(path, problem)
    # A KMZ in a ZIP would be an archive in an archive: not taken.
    layers = (".shp", *(s_ for s_ in _gdal.READ_DRIVERS if s_ != ".kmz"), *_CSV)
    readable = [n for n in names if Path(n).suffix.lower() in layers]
    readable = [n for n in readable if not Path(n).name.startswith(("._", "."))]
    shapefiles = [n for n in readable if n.lower().endswith(".shp")]
    chosen = shapefiles or [n for n in readable if not n.lower().endswith(_CSV)]
    if len(chosen) != 1:
        listed = ", ".join(escape(n) for n in names[:10]) + (" ..." if len(names) > 10 else "")
        problem = (
            "holds no .shp (nor another map layer)"
            if not chosen
            else f"holds {len(chosen)} map layers ({', '.join(escape(n) for n in chosen)}); "
            "zip one per file"
        )
        raise InputFileError(path, f"the ZIP {problem}; it contains: {listed or 'nothing'}")
    return f"/vsizip/{path}/{chosen[0]}"


def _member(path: Path, target: str) -> str | None:
    """The archive member a GDAL path names, or None for a plain file."""
    return target.split(f"{path}/", 1)[1] if target.startswith("/vsizip/") else None


def _read_head(path: Path, target: str, size: int = 4096) -> bytes:
    """The first bytes of the file GDAL will open (inside the ZIP for a member)."""
    member = _member(path, target)
    if member is None:
        with path.open("rb") as handle:
            return handle.read(size)
    with zipfile.ZipFile(path) as archive, archive.open(member) as handle:
        return handle.read(size)


def _check_content(path: Path, target: str) -> str:
    """Refuse content that is not what the extension says; return the extension."""
    member = _member(path, target)
    suffix = _suffix(Path(member) if member is not None else path)
    kind = _screen.content_kind(_read_head(path, target))
    if kind in ("binary", "text"):  # no format at all: damaged, or not a map layer
        raise InputFileError(
            path, f"is not a readable {suffix} file (truncated, corrupt, or not really {suffix}?)"
        )
    if kind not in _screen.EXPECTED_CONTENT[suffix]:
        what = f"{escape(member)} in the ZIP" if member is not None else "the file"
        raise InputFileError(
            path,
            f"content does not match its extension: {what} should be "
            f"{_screen.describe_content(_screen.EXPECTED_CONTENT[suffix][0])} "
            f"({suffix}) but is {_screen.describe_content(kind)}; minemap reads each "
            "format only under its own extension",
        )
    return suffix


def _sidecars(path: Path, target: str) -> list[tuple[str, int, Path | None]]:
    """A Shapefile's .cpg/.prj beside its .shp: ``(name, size, path on disk or None)``."""
    if not target.lower().endswith(".shp"):
        return []
    member = _member(path, target)
    found = []
    if member is not None:
        stem = str(Path(member).with_suffix("")).lower()
        with zipfile.ZipFile(path) as archive:
            found.extend(
                (info.filename, info.file_size, None)
                for info in archive.infolist()
                if info.filename.lower() in (f"{stem}.cpg", f"{stem}.prj")
            )
        return found
    shp = Path(target)
    found.extend(
        (sibling.name, sibling.stat().st_size, sibling)
        for sibling in shp.parent.iterdir()
        if sibling.stem == shp.stem and sibling.suffix.lower() in (".cpg", ".prj")
    )
    return found


def _check_sidecars(path: Path, target: str) -> None:
    """A Shapefile's parts stay small where they are small by nature, and in its folder."""
    for name, size, on_disk in _sidecars(path, target):
        problem = _screen.sidecar_problem(name, size)
        if problem is not None:
            raise InputFileError(path, problem)
        if on_disk is not None and on_disk.resolve().parent != Path(target).resolve().parent:
            raise InputFileError(
                path,
                f"its {on_disk.suffix.lower()} is a link to a file in another folder; a "
                "Shapefile's parts must be files beside its .shp",
            )


def text_codec(encoding: str) -> str:
    """The Python codec of an encoding a user names (``--encoding``), or a clear error.

    Any name a ``.cpg`` may hold works (``cp1254``, ``1254``, ``ANSI 1254``,
    ``windows-1251``, ``88595``, ``UTF-8``).

    >>> text_codec("ANSI 1254"), text_codec("windows-1251")
    ('cp1254', 'cp1251')
    """
    codec = cpg_encoding(str(encoding))
    if codec is None:
        raise SchemaError(
            f"encoding {show(encoding)} is not one minemap knows; name a code page such as "
            "cp1254 (Azerbaijani Latin), cp1251 (Cyrillic), iso8859-5 or UTF-8"
        )
    return codec


def _cpg_codec(path: Path, target: str) -> str | None:
    """The codec a Shapefile's ``.cpg`` names (None without one); an unknown name is an error.

    GDAL would read text in an encoding it does not know as if it were UTF-8 (and
    ``ANSI 1254`` is one it does not know): garbled names, or none at all.
    """
    limit = _screen.SIDECAR_LIMITS[".cpg"]
    text = None
    for name, _, on_disk in _sidecars(path, target):
        if not name.lower().endswith(".cpg"):
            continue
        if on_disk is not None:
            with on_disk.open("rb") as handle:
                text = handle.read(limit).decode("ascii", "replace")
        else:
            with zipfile.ZipFile(path) as archive, archive.open(name) as handle:
                text = handle.read(limit).decode("ascii", "replace")
        break
    if text is None or not text.strip().strip("\x00").strip():
        return None
    codec = cpg_encoding(text)
    if codec is None:
        raise InputFileError(
            path,
            f"its .cpg names an unknown encoding {show(text.strip())}; write the real code page "
            "in it (e.g. UTF-8, 1251 for Cyrillic, 1254 for Azerbaijani Latin), or delete it "
            f"and say the encoding with {argument('encoding')}",
        )
    return codec


def _gdal_target(path: Path) -> tuple[str, str]:
    """What GDAL opens for ``path`` and the extension that names its format, all checked.

    Everything GDAL would trust is checked first: the archive's directory, a
    Shapefile's parts and their sizes, the ``.cpg``, and that the content is what
    the extension says.
    """
    target = _zip_member(path) if _suffix(path) in _ZIP else str(path)
    if _suffix(path) == ".kmz":
        try:
            with zipfile.ZipFile(path) as archive:
                problem = _screen.archive_problem(archive, path.stat().st_size)
        except zipfile.BadZipFile:
            problem = "is not a valid kmz file (a KMZ is a ZIP archive: truncated or corrupt?)"
        if problem is not None:
            raise InputFileError(path, problem)
    suffix = _check_content(path, target)
    _check_shapefile_parts(path, target)
    _check_sidecars(path, target)
    _cpg_codec(path, target)
    return target, suffix


@contextlib.contextmanager
def _offline(path: Path):
    """Refuse a file that made GDAL ask for a network resource (it was not fetched)."""
    with _gdal.refused_requests() as urls:
        try:
            yield
        except Exception:
            if urls:
                raise InputFileError(path, _network_problem(urls)) from None
            raise
    if urls:
        raise InputFileError(path, _network_problem(urls))


def _network_problem(urls: list[str]) -> str:
    return (
        f"refers to a network resource ({escape(urls[0], limit=80)}); minemap reads nothing "
        'from the network: save the file with everything in it (a GeoJSON "crs" link: '
        "name the CRS instead, or drop it for longitude/latitude)"
    )


def _list_layers(path: Path, target: str) -> list[str]:
    with _offline(path), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # GDAL's remarks on odd content
        try:
            return [str(n) for n in pyogrio.list_layers(target)[:, 0]]
        except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
            raise InputFileError(path, _describe(path, exc)) from None


def layer_names(path) -> list[str]:
    """The layers of a multi-layer file (GeoPackage, KML, a spreadsheet's sheets...).

    ``[]`` for CSV and Parquet.

    Raises :class:`~minemap.errors.InputFileError` when the file cannot be opened.
    """
    path = Path(path)
    if _suffix(path) in (*_PARQUET, *_CSV) or not path.is_file() or not path.stat().st_size:
        return []
    if _suffix(path) not in READ_FORMATS:
        raise InputFileError(path, _not_a_format(path))
    if _suffix(path) in _SHEETS:
        return spreadsheet.sheet_names(path)
    target, _ = _gdal_target(path)
    return _list_layers(path, target)


def _check_shapefile_parts(path: Path, target: str) -> None:
    """A Shapefile is several files: name the one that is missing (GDAL would not)."""
    if not target.lower().endswith(".shp"):
        return
    member = _member(path, target)
    if member is not None:
        inner = Path(member)
        with zipfile.ZipFile(path) as archive:
            names = {n.lower() for n in archive.namelist()}
        present = {s_ for s_ in (".shx", ".dbf") if str(inner.with_suffix(s_)).lower() in names}
    else:
        siblings = {p.name.lower() for p in Path(target).parent.iterdir()}
        stem = Path(target).stem.lower()
        present = {s_ for s_ in (".shx", ".dbf") if f"{stem}{s_}" in siblings}
    missing = [s_ for s_ in (".shx", ".dbf") if s_ not in present]
    if missing:
        what = {".shx": "its index", ".dbf": "its attributes"}
        raise InputFileError(
            path,
            "the Shapefile has no "
            + " and no ".join(f"{m} ({what[m]})" for m in missing)
            + " beside its .shp; a Shapefile is several files (.shp, .shx, .dbf, .prj, .cpg): "
            "copy or zip them together",
        )


def _read_ogr(
    path: Path, layer: str | None, kind: str | None, encoding: str | None = None
) -> gpd.GeoDataFrame:
    target, suffix = _gdal_target(path)
    layers = _list_layers(path, target)
    is_kml = suffix in (".kml", ".kmz")
    if layer is not None:
        if layer not in layers:
            raise InputFileError(
                path,
                f"has no layer {show(layer)}; its layers are: "
                + (", ".join(escape(n) for n in layers[:20]) or "none"),
            )
        names = [layer]
    elif len(layers) <= 1:
        names = layers[:1] or [None]
    elif kind is not None and kind in layers:
        names = [kind]
    elif is_kml:
        names = layers  # KML folders are parts of one map
    else:
        raise InputFileError(
            path,
            f"has {len(layers)} layers ({', '.join(escape(n) for n in layers[:20])}); "
            f"choose one with {argument('layer')}",
        )
    if encoding is not None and not target.lower().endswith(".shp"):
        encoding = None  # only Shapefiles (their .dbf) hold text in a code page
    with _offline(path):
        frames = [_read_ogr_layer(target, name, path, suffix, encoding) for name in names]
    frame = frames[0] if len(frames) == 1 else _concat(frames)
    if is_kml:
        frame = _normalise_kml(frame)
    return frame


def _read_ogr_layer(
    target: str, layer: str | None, path: Path, suffix: str, encoding: str | None = None
) -> gpd.GeoDataFrame:
    """One layer through GDAL; a Shapefile's text in the encoding its ``.cpg`` names.

    The ``.cpg`` is read here (:func:`minemap.values.cpg_encoding`), not by GDAL, which does not
    know all the names ArcGIS writes. ``encoding`` (``--encoding``) is used for a
    Shapefile without ``.cpg``, or whose text is not valid in the one it names.
    """
    kwargs: dict = {"layer": layer} if layer is not None else {}
    given = text_codec(encoding) if encoding is not None and suffix == ".shp" else None
    declared = _cpg_codec(path, target) if suffix == ".shp" else None
    if declared or given:
        kwargs["encoding"] = declared or given
    meta, table = pyogrio.read_arrow(target, **kwargs)
    if declared and given and given != declared and not _valid_text(table):
        # Its .cpg says a wrong one (UTF-8 over cp1254 bytes): the encoding given.
        log.warning(
            "%s: its .cpg says %s, which its text is not in: read as %s (%s)",
            path,
            declared.upper(),
            given.upper(),
            argument("encoding", given),
        )
        meta, table = pyogrio.read_arrow(target, **{**kwargs, "encoding": given})
    geometry = meta.get("geometry_name") or "wkb_geometry"
    if meta.get("geometry_type") is None or geometry not in table.column_names:
        raise InputFileError(path, "has no geometry column; is it a map layer?")
    attributes = table.drop_columns([geometry])
    # Nothing may touch a column before it is checked whole: a driver that hands over
    # offsets past the end of the data (GDAL 3.12's FlatGeobuf reader did, for features
    # without geometry) makes pyarrow read out of bounds, which aborts the process.
    try:
        table.column(geometry).validate(full=True)
    except pa.ArrowInvalid:
        raise InputFileError(
            path,
            f"its geometries came back damaged from GDAL's {suffix} reader; save it "
            "again as a GeoPackage (.gpkg) and read that",
        ) from None
    try:
        # GDAL hands text over as declared (a .cpg saying UTF-8 over CP1251 bytes passes
        # through): check it here, or it fails later, far from the file.
        attributes.validate(full=True)
    except pa.ArrowInvalid as exc:
        if "utf8" not in str(exc).lower():
            raise InputFileError(
                path,
                f"its attributes came back damaged from GDAL's {suffix} reader; save it "
                "again as a GeoPackage (.gpkg) and read that",
            ) from None
        said = str(kwargs.get("encoding") or meta.get("encoding") or "UTF-8").upper()
        raise InputFileError(
            path,
            f"holds text that is not valid {said}; give the file its real encoding "
            "(a .cpg with e.g. 1251 for Cyrillic, 1254 for Azerbaijani Latin, or "
            f"{argument('encoding', 'cp1254')})",
        ) from None
    cells = _screen.nul_cells(attributes)
    cut = _cut_at_nul(path, target, suffix, layer)
    if isinstance(cut, str):
        raise InputFileError(path, cut)
    for row, columns in cut.items():
        cells.setdefault(row, []).extend(c for c in columns if c not in cells.get(row, []))
    attributes = attributes.to_pandas()
    wkb, curved = table[geometry], None
    try:
        geoms, note = _decode_wkb(wkb)
    except NotImplementedError:  # curves (ArcGIS's arcs), which GEOS cannot hold
        wkb, curved = curves.linearised(target, layer, wkb.to_numpy(zero_copy_only=False))
        geoms, note = _decode_wkb(wkb)
    note = _curved_note(note, curved)
    frame = gpd.GeoDataFrame(attributes, geometry=geoms, crs=meta.get("crs"))
    return _with_notes(frame, note, cells)


def _valid_text(table: pa.Table) -> bool:
    """Whether every text value of a table is valid UTF-8 (Arrow's own check)."""
    try:
        table.validate(full=True)
    except pa.ArrowInvalid:
        return False
    return True


def _cut_at_nul(path: Path, target: str, suffix: str, layer: str | None):
    """Text values holding a NUL that GDAL cuts short there, found in the raw file.

    GeoJSON, GeoPackage and Shapefile (.dbf) text reaches GDAL's C strings, which
    end at the first NUL: "AG-1\\0x" would be read as "AG-1". Returns
    ``{row: [column, ...]}``, or a sentence when the whole file is refused.
    """
    member = _member(path, target)
    if suffix in (".geojson", ".json"):
        if member is not None:
            with zipfile.ZipFile(path) as archive:
                return _screen.geojson_nul_cells(archive.read(member)) or {}
        with (
            path.open("rb") as handle,
            mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as raw,
        ):
            return _screen.geojson_nul_cells(raw) or {}
    if suffix == ".gpkg" and member is None:
        names = [layer] if layer is not None else _list_layers(path, target)[:1]
        return _screen.gpkg_nul_cells(path, names[0]) if names else {}
    if suffix == ".fgb":
        return _fgb_nul_cells(path, target, layer)
    if suffix == ".shp":
        dbf = _dbf_of(path, target)
        if dbf is None:
            return {}
        if isinstance(dbf, Path):  # mapped, not read: a .dbf may be large
            with (
                dbf.open("rb") as handle,
                mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as m,
            ):
                return _screen.dbf_nul_cells(m)
        return _screen.dbf_nul_cells(dbf)
    return {}


def _fgb_nul_cells(path: Path, target: str, layer: str | None):
    """FlatGeobuf text holding a NUL, read by the driver's own Arrow reader.

    minemap reads FlatGeobuf through GDAL's generic Arrow reader (see
    :mod:`minemap._gdal`), whose text ends at a NUL; the driver's own reader keeps
    the whole value, and is safe once the geometries are left out.
    """
    kwargs = {"layer": layer} if layer is not None else {}
    with _gdal.thread_options({"OGR_FLATGEOBUF_STREAM_BASE_IMPL": "NO"}):
        _, table = pyogrio.read_arrow(target, read_geometry=False, **kwargs)
    try:
        table.validate(full=True)
    except pa.ArrowInvalid:
        return f"its attributes came back damaged from GDAL's {_suffix(path)} reader"
    return _screen.nul_cells(table)


def _dbf_of(path: Path, target: str) -> Path | bytes | None:
    """A Shapefile's .dbf: its path, or its bytes when it is in a ZIP."""
    member = _member(path, target)
    if member is None:
        shp = Path(target)
        found = [p for p in shp.parent.iterdir() if p.stem == shp.stem]
        dbf = next((p for p in found if p.suffix.lower() == ".dbf"), None)
        return dbf if dbf is not None and dbf.stat().st_size else None
    stem = str(Path(member).with_suffix("")).lower()
    with zipfile.ZipFile(path) as archive:
        name = next((n for n in archive.namelist() if n.lower() == f"{stem}.dbf"), None)
        return archive.read(name) if name is not None else None


def _with_notes(frame: gpd.GeoDataFrame, geometry_note, cells) -> gpd.GeoDataFrame:
    """The reader's notes as private columns: geometry repairs/refusals, NUL in text."""
    if geometry_note is not None:
        frame[GEOMETRY_NOTE] = geometry_note
    if cells:
        note = np.full(len(frame), None, dtype=object)
        for row, columns in cells.items():
            if 0 <= row < len(frame):
                note[row] = ", ".join(escape(c) for c in columns)
        frame[TEXT_NOTE] = note
    return frame


def _curved_note(note: np.ndarray | None, curved: np.ndarray | None) -> np.ndarray | None:
    """The geometry notes, with ``curved`` where arcs were stroked (and nothing else noted)."""
    if curved is None or not curved.any():
        return note
    note = np.full(len(curved), None, dtype=object) if note is None else note
    note[curved & pd.isna(note)] = curves.CURVED
    return note


def _decode_wkb(wkb) -> tuple[np.ndarray, np.ndarray | None]:
    """Geometries from WKB, and a note per row where decoding needed help.

    Unclosed rings are common in hand-made files: they are closed (``"unclosed"``,
    reported as a repair). What cannot be decoded at all is ``"unreadable"``;
    what nests deeper than :data:`minemap._screen.MAX_NESTING` is ``"too-deep"``
    and never reaches GEOS (whose recursive reader would crash on it).
    """
    deep = _screen.wkb_too_deep(wkb)
    if isinstance(wkb, pa.ChunkedArray | pa.Array):
        wkb = wkb.to_numpy(zero_copy_only=False)
    wkb = np.asarray(wkb, dtype=object)
    if deep.any():
        wkb = wkb.copy()
        wkb[deep] = None
    geoms = shapely.from_wkb(wkb, on_invalid="ignore")
    failed = pd.notna(wkb) & pd.isna(geoms)
    if not failed.any() and not deep.any():
        return geoms, None
    note = np.full(len(wkb), None, dtype=object)
    if failed.any():
        geoms[failed] = shapely.from_wkb(wkb[failed], on_invalid="fix")
        note[failed & pd.notna(geoms)] = "unclosed"
        note[failed & pd.isna(geoms)] = "unreadable"
    note[deep] = "too-deep"
    return geoms, note


def _concat(frames: list[gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    crs = frames[0].crs
    frames = [f.to_crs(crs) if f.crs is not None and crs is not None else f for f in frames]
    combined = pd.concat(frames, ignore_index=True)
    return gpd.GeoDataFrame(combined, geometry=frames[0].geometry.name, crs=crs)


def _normalise_kml(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Drop the placemark fields GDAL adds, keep the data's own columns.

    ``Name`` and ``description`` stay when they hold something. GDAL's KML
    writer stores a data column ``id`` as ``id2`` (``id`` is the placemark's):
    it gets its name back. KML altitudes of 0 are not data: they are dropped.
    """
    frame = frame.copy()
    drop = []
    for column in KML_EXTRA_COLUMNS:
        if column not in frame.columns:
            continue
        empty = _blank(frame[column])
        if column in ("Name", "description") and not empty.all():
            continue
        drop.append(column)
    frame = frame.drop(columns=drop)
    if "id2" in frame.columns and "id" in frame.columns:
        frame = frame.drop(columns="id").rename(columns={"id2": "id"})
    elif "id" in frame.columns and _blank(frame["id"]).all():
        # LIBKML's placemark id, empty unless the placemarks have an id attribute: left
        # in, the `id` alias would make it the hazard_id, and every feature "has no id".
        frame = frame.drop(columns="id")
    geoms = frame.geometry.to_numpy(dtype=object)
    with_z = pd.notna(geoms) & shapely.has_z(geoms)
    if with_z.any():
        coords = shapely.get_coordinates(geoms[with_z], include_z=True)
        if np.all(np.nan_to_num(coords[:, 2]) == 0):
            geoms = geoms.copy()
            geoms[with_z] = shapely.force_2d(geoms[with_z])
            frame = frame.set_geometry(gpd.GeoSeries(geoms, index=frame.index, crs=frame.crs))
    return frame


def _blank(values: pd.Series) -> pd.Series:
    return values.isna() | (values.astype("string").str.strip() == "")


def _read_csv(
    path: Path, crs, *, kind: str | None = None, encoding: str | None = None
) -> gpd.GeoDataFrame:
    raw = path.read_bytes()
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")) or raw[:200].count(b"\x00") > 20:
        raise InputFileError(
            path,
            "is UTF-16 text or binary data, not a UTF-8 CSV; save the CSV as UTF-8 "
            "(in Excel: CSV UTF-8)",
        )
    text = _csv_text(path, raw, encoding)
    if not text.strip():
        raise InputFileError(path, "the file is empty")
    header = text.splitlines()[0]
    sep = "\t" if "\t" in header else (";" if header.count(";") > header.count(",") else ",")
    # Everything as text: ids keep leading zeros, and the checks parse counts and dates.
    table = pd.read_csv(
        _io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, na_values=[""]
    )
    if any("\x00" in str(c) for c in table.columns):
        raise InputFileError(path, "a column name holds a NUL character; names may not")
    frame = cell_features(table, path, crs, kind=kind, area_list=_area_list(table, kind))
    return _with_notes(frame, None, _nul_cells(table) if "\x00" in text else {})


def _nul_cells(table: pd.DataFrame) -> dict[int, list[str]]:
    """``{row: [column, ...]}`` of the text cells that hold a NUL character."""
    found: dict[int, list[str]] = {}
    for column in table.columns:
        values = table[column]
        if values.dtype != object and not pd.api.types.is_string_dtype(values.dtype):
            continue
        hits = values.map(lambda v: isinstance(v, str) and "\x00" in v, na_action="ignore")
        for row in np.flatnonzero(hits.fillna(False).to_numpy(dtype=bool)):
            found.setdefault(int(row), []).append(str(column))
    return found


def _read_sheet(path: Path, sheet: str | None, crs, *, kind: str | None = None) -> gpd.GeoDataFrame:
    """One sheet of an .xlsx or .ods file: its cells as typed, its geometry as a CSV's."""
    table = spreadsheet.read_cells(path, sheet)
    info = table.attrs.get(spreadsheet.SHEET_ATTR)
    if not len(table.columns):
        raise InputFileError(path, f"sheet {show(info['sheet'])} is empty")
    if any("\x00" in str(c) for c in table.columns):
        raise InputFileError(path, "a column name holds a NUL character; names may not")
    frame = cell_features(
        table, path, crs, what="a spreadsheet", kind=kind, area_list=_area_list(table, kind)
    )
    frame = _with_notes(frame, None, _nul_cells(table))
    frame.attrs[spreadsheet.SHEET_ATTR] = info
    return frame


def _csv_text(path: Path, raw: bytes, encoding: str | None) -> str:
    """A CSV's text: UTF-8 (with or without BOM), or the ``encoding`` given where it is not."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if encoding is None:
            raise InputFileError(
                path,
                f"is not UTF-8 text (byte {exc.start}); save the CSV as UTF-8 (in Excel: CSV "
                f"UTF-8), or say its encoding ({argument('encoding', 'cp1251')}, or encoding in "
                "the profile)",
            ) from None
    codec = text_codec(encoding)
    try:
        return raw.decode(codec)
    except UnicodeDecodeError as exc:
        raise InputFileError(
            path, f"is neither UTF-8 nor {encoding} text (byte {exc.start}); check its encoding"
        ) from None


def _area_list(table: pd.DataFrame, kind: str | None) -> bool:
    """A table of releases given as areas (hazard and hectares), which needs no geometry.

    Read as releases, any table may be one (its rows then need ``hazard_id`` and
    ``area_ha``, under any name ``--map`` gives them); of unknown kind, one
    whose columns name them.
    """
    if kind == "releases":
        return True
    if kind is not None:
        return False
    columns = normalise_columns(pd.DataFrame(columns=table.columns), "releases").columns
    return s.AREA_HA in columns and s.HAZARD_ID in columns


# --- loading and checking layers --------------------------------------------------


def read_layer(
    path,
    kind: str,
    *,
    layer: str | None = None,
    mapping: Mapping[str, str] | None = None,
    crs=None,
    profile: Profile | None = None,
    **reading,
) -> gpd.GeoDataFrame:
    """Read one file as a canonical, checked layer; raise if any feature is rejected.

    Warnings (repairs) are kept in ``frame.attrs["problems"]``. ``reading``:
    ``date_order``, ``decimal``, ``unknown``, ``encoding`` (see :func:`load_layers`).
    """
    loaded = load_layers(
        [path], kind, layer=layer, mapping=mapping, crs=crs, profile=profile, **reading
    )
    loaded.raise_if_rejected()
    return loaded.kept


@dataclasses.dataclass
class Loaded:
    """What reading some files gave: kept features, rejected ones, and every problem.

    ``copies`` are features that are exact copies of kept ones with the same id
    in another file (rule ``duplicate-copy``): counted once. Always ``read ==
    len(kept) + len(rejected) + len(copies)``; one file alone has no copies.
    """

    kind: str
    kept: gpd.GeoDataFrame
    rejected: gpd.GeoDataFrame
    problems: list[Problem]
    read: int
    copies: pd.DataFrame = dataclasses.field(default_factory=pd.DataFrame)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == ERROR]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity != ERROR]

    def summary(self) -> str:
        """``kind: read N, kept K, rejected R (W warning(s))``; always N = K + R (+ copies).

        The area of the polygons rejected follows R (``rejected 2 (3.10 ha set
        aside)``), and exact copies counted once, if any, come after it.
        """
        rejected = f"rejected {len(self.rejected)}"
        area = self.rejected_area_ha()
        if area is not None:
            rejected += f" ({area:,.2f} ha set aside)"
        copies = f", {len(self.copies)} exact copies counted once" if len(self.copies) else ""
        return (
            f"{self.kind}: read {self.read}, kept {len(self.kept)}, {rejected}{copies}"
            f" ({len(self.warnings)} warning(s))"
        )

    def rejected_area_ha(self) -> float | None:
        """Area on the ellipsoid of the rejected polygons (ha), as read and repaired where
        invalid; ``None`` when none was rejected or the layer holds no polygons."""
        if not len(self.rejected) or not isinstance(self.rejected, gpd.GeoDataFrame):
            return None
        geoms = valid_geometries(self.rejected.geometry.to_numpy(dtype=object))
        areal = np.isin(shapely.get_type_id(geoms), _AREAL)
        if not areal.any():
            return None
        geoms = geoms[areal]
        # Rejected for being off the globe (swapped, in another CRS): no area to speak of.
        box = shapely.bounds(geoms)
        with np.errstate(invalid="ignore"):
            on_globe = (np.abs(box[:, [0, 2]]) <= 180).all(axis=1) & (
                np.abs(box[:, [1, 3]]) <= 90
            ).all(axis=1)
        geoms = geoms[on_globe]
        if not len(geoms):
            return 0.0
        crs = geodesy.equal_area_crs(shapely.total_bounds(geoms))
        return float(geodesy.area_ha(geodesy.project(geoms, s.CANONICAL_CRS, crs)).sum())

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
    mapping: Mapping[str, str] | None = None,
    crs=None,
    districts: gpd.GeoDataFrame | None = None,
    hazards: gpd.GeoDataFrame | None = None,
    max_segment_m: float | None = MAX_SEGMENT_M,
    today=None,
    profile: Profile | None = None,
    gazetteer: Gazetteer | None = None,
    date_order: str | None = None,
    decimal: str | None = None,
    unknown: Iterable[str] = (),
    encoding: str | None = None,
) -> Loaded:
    """Read, normalise and check files of one kind; keep what passes, set aside the rest.

    Every feature read ends up in ``kept`` or in ``rejected`` (with ``problem``,
    ``source_file`` and ``source_row`` columns): ``read == len(kept) + len(rejected)``.
    Ids must be unique across all the files.

    Parameters
    ----------
    paths
        One or more files (see :func:`read_file` for formats, ``layer`` and ``crs``).
    kind
        ``hazards``, ``releases``, ``items`` or ``districts``.
    mapping
        Explicit ``{canonical: column_in_file}`` pairs (over the aliases).
    districts, hazards
        Context layers for the checks (see :func:`minemap.validate.check_layer`).
    max_segment_m, today
        Passed to :func:`minemap.validate.check_layer`.
    profile
        An import profile (:func:`minemap.profile.read_profile`): its columns,
        values, constants and settings for this kind. ``mapping`` and ``crs``
        win over the profile's.
    gazetteer
        District names known beyond the active gazetteer's (see
        :mod:`minemap.gazetteer`).
    date_order, decimal, unknown
        How the files write dates, numbers and "not known"
        (``--date-order``, ``--decimal``; they win over the profile's): see
        :func:`minemap.validate.check_layer` and :mod:`minemap.values`.
    encoding
        The text encoding of files that say none, or a wrong one (see
        :func:`read_file`; ``--encoding``, over the profile's).
    """
    paths = [Path(p) for p in ([paths] if isinstance(paths, str | os.PathLike) else paths)]
    if not paths:
        raise SchemaError(f"no {kind} file given")
    if profile is not None:
        crs = profile.crs(kind, crs)
        encoding = encoding or profile.settings(kind).encoding
    if encoding is not None:
        text_codec(encoding)  # a name nobody knows: said before any file is read
    raws = [
        (path, read_file(path, layer=layer, crs=crs, kind=kind, encoding=encoding))
        for path in paths
    ]
    return _load_frames(
        raws,
        kind,
        mapping=mapping,
        districts=districts,
        hazards=hazards,
        max_segment_m=max_segment_m,
        today=today,
        profile=profile,
        gazetteer=gazetteer,
        date_order=date_order,
        decimal=decimal,
        unknown=unknown,
    )


def _load_frames(
    raws: list[tuple[Path, gpd.GeoDataFrame]],
    kind: str,
    *,
    mapping=None,
    districts=None,
    hazards=None,
    max_segment_m: float | None = MAX_SEGMENT_M,
    today=None,
    profile: Profile | None = None,
    gazetteer: Gazetteer | None = None,
    date_order: str | None = None,
    decimal: str | None = None,
    unknown: Iterable[str] = (),
) -> Loaded:
    """:func:`load_layers` on files already read (``minemap validate`` reads them first)."""
    explicit = dict(mapping or {})
    if profile is not None:
        mapping = profile.mapping(kind, explicit)
    frames, crs_rows, read, empty = [], [], 0, []
    for path, raw in raws:
        read += len(raw)
        if not len(raw):
            empty.append(
                Problem(str(path), None, "", "empty-layer", WARNING, f"has no {kind} features")
            )
        try:
            frame = normalise_columns(raw, kind, mapping)
        except SchemaError as exc:
            raise SchemaError(f"{path}: {exc}") from None
        if profile is not None:
            frame = profile.apply(frame, kind, mapped=explicit)
        frame = spreadsheet.excel_dates(frame, kind)  # day numbers in date columns
        frame = ids_as_written(frame, kind)  # 101, not 101.0
        source_crs = frame.crs.to_wkt() if frame.crs is not None else None
        if frame.crs is not None and not frame.crs.equals(s.CANONICAL_CRS):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # inf from out-of-domain points
                frame = frame.to_crs(s.CANONICAL_CRS)
        frame[SOURCE_FILE] = str(path)
        frame[SOURCE_ROW] = range(1, len(frame) + 1)
        # One reference to the same WKT text per row: a text column (or np.full, which
        # makes a copy of the text per row) costs seconds at a million features.
        rows_crs = np.empty(len(frame), dtype=object)
        rows_crs.fill(source_crs)
        crs_rows.append(rows_crs)
        frames.append(frame)
    frames = [f if f.geometry.name == s.GEOMETRY else f.rename_geometry(s.GEOMETRY) for f in frames]
    combined = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    combined = gpd.GeoDataFrame(combined, geometry=s.GEOMETRY, crs=s.CANONICAL_CRS)
    source = "+".join(dict.fromkeys(str(p) for p, _ in raws))
    source_crs = np.concatenate(crs_rows)
    cleaned, found, rejected_mask = check_layer(
        combined,
        kind,
        source=source,
        districts=districts,
        hazards=hazards,
        source_crs=source_crs,
        max_segment_m=max_segment_m,
        today=today,
        settings=profile.settings(kind) if profile is not None else None,
        gazetteer=gazetteer,
        date_order=date_order,
        decimal=decimal,
        unknown=unknown,
    )
    copy_mask = np.zeros(len(cleaned), dtype=bool)
    copy_mask[[p.row for p in found if p.rule == COPY_RULE and p.row is not None]] = True
    copy_mask &= ~rejected_mask
    problems = empty + [_locate(p, combined) for p in found]
    reasons = np.full(len(cleaned), "", dtype=object)
    whole_file = [q.message for q in problems if q.severity == ERROR and q.row is None]
    for p, q in zip(found, problems[len(empty) :], strict=True):
        if q.severity == ERROR and p.row is not None:
            reasons[p.row] = "; ".join(filter(None, [reasons[p.row], f"{q.rule}: {q.message}"]))
    if whole_file:
        reasons[:] = "; ".join(whole_file)
    raw_columns = combined.drop(columns=[GEOMETRY_NOTE, TEXT_NOTE], errors="ignore")
    rejected = raw_columns[rejected_mask].copy()
    rejected[PROBLEM] = reasons[rejected_mask]
    kept = cleaned[~rejected_mask & ~copy_mask]
    kept = kept.drop(columns=[SOURCE_FILE, SOURCE_ROW]).reset_index(drop=True)
    kept.attrs["problems"] = [p for p in problems if p.severity != ERROR]
    copies = raw_columns[copy_mask].reset_index(drop=True)
    return Loaded(kind, kept, rejected.reset_index(drop=True), problems, read, copies)


def _locate(problem: Problem, combined: pd.DataFrame) -> Problem:
    """Name a problem after the file and row its feature came from."""
    if problem.row is None:
        return problem
    origin = combined.iloc[problem.row]
    row = int(origin[SOURCE_ROW])
    feature = problem.feature if not problem.feature.startswith("feature ") else f"feature {row}"
    return dataclasses.replace(problem, file=origin[SOURCE_FILE], row=row, feature=feature)


def _reader(kind: str):
    def read(
        paths,
        *,
        layer: str | None = None,
        mapping: Mapping[str, str] | None = None,
        crs=None,
        districts: gpd.GeoDataFrame | None = None,
        hazards: gpd.GeoDataFrame | None = None,
        profile: Profile | None = None,
        **reading,
    ):
        loaded = load_layers(
            paths,
            kind,
            layer=layer,
            mapping=mapping,
            crs=crs,
            districts=districts,
            hazards=hazards,
            profile=profile,
            **reading,
        )
        loaded.raise_if_rejected()
        return loaded.kept

    read.__name__ = f"read_{kind}"
    read.__qualname__ = f"read_{kind}"
    read.__doc__ = f"""Read {kind} from one or more files (any format in ``READ_FORMATS``).

    Column aliases are mapped (``mapping={{canonical: column}}`` overrides them),
    the layer is brought to EPSG:4326 and every feature is checked. ``layer``
    picks a layer of a multi-layer file, ``crs`` is the CRS of files that have
    none (CSV); ``districts`` / ``hazards`` give the checks their context;
    ``profile`` is an import profile (:func:`minemap.profile.read_profile`);
    ``date_order``, ``decimal``, ``unknown`` and ``encoding`` say how the
    source writes, over the profile (see :func:`load_layers`).
    Raises :class:`~minemap.errors.ValidationError` listing every problem when
    any feature would be rejected, and :class:`~minemap.errors.InputFileError`
    when a file cannot be read. Use :func:`load_layers` to keep going with the
    rejected features set aside.
    """
    return read


read_hazards = _reader("hazards")
read_releases = _reader("releases")
read_items = _reader("items")
read_districts = _reader("districts")


# --- writing ------------------------------------------------------------------------

#: CSV outputs end lines with CRLF (RFC 4180): Python's writer then quotes a value
#: holding a lone CR, which would otherwise start a new row in a spreadsheet.
_CSV_LINE_END = "\r\n"


@contextlib.contextmanager
def atomic_path(path: Path, overwrite: bool, check=None):
    """:func:`minemap.outputs.atomic_output`, checking the result by its extension.

    Yields a temporary path to write (nothing is there yet); see
    :func:`~minemap.outputs.atomic_output` for what happens then. ``check``
    replaces the default check (``.gpkg``: SQLite's ``quick_check``; ``.svg``,
    ``.png``, ``.html``: whole; ``.zip``: every member's CRC).
    """
    path = Path(path)
    check = check if check is not None else outputs.check_for(path)
    with outputs.atomic_output(path, overwrite=overwrite, check=check) as tmp:
        yield tmp


def writable(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy ready for the writers: plain text columns, dates as YYYY-MM-DD, no attrs.

    ``attrs`` holds the readers' problems (objects geopandas' Parquet writer cannot
    serialise as JSON) and travels with every frame made from a read one.
    """
    frame = frame.copy()
    frame.attrs = {}
    for column in frame.columns:
        if isinstance(frame[column].dtype, pd.StringDtype):
            frame[column] = frame[column].astype(object)
        elif pd.api.types.is_datetime64_any_dtype(frame[column]):
            # Calendar days, written as YYYY-MM-DD.
            frame[column] = frame[column].dt.strftime("%Y-%m-%d").astype(object)
    return frame


def valid_geometries(geometries) -> np.ndarray:
    """Geometries as every writer writes them: valid (OGC) and of the kind they declare.

    Polygons, MultiPolygons and collections become valid Polygons or
    MultiPolygons (:func:`minemap.overlay.valid_polygonal`: repaired, their
    lines, points and parts of no area left out); a geometry with nothing left,
    or an empty one, becomes no geometry (a fully released record has no
    polygon; an empty one is refused by some formats and misread by others).
    Other geometries (points, lines) are kept if valid, and dropped otherwise, as
    are geometries with a coordinate that is not a finite number (or too large to
    measure). Valid geometries come back as the same objects.

    Examples
    --------
    >>> import shapely
    >>> bow_tie = shapely.Polygon([(0, 0), (2, 2), (2, 0), (0, 2)])
    >>> [g if g is None else g.geom_type for g in valid_geometries([bow_tie, shapely.Polygon()])]
    ['MultiPolygon', None]
    """
    geoms = np.asarray(geometries, dtype=object)
    out = geoms.copy()
    types = shapely.get_type_id(geoms)
    # Coordinates that are not finite numbers (a rejected feature from a damaged file):
    # GEOS cannot repair them (it raises), no format should hold them. Their length (all
    # vertices) is not finite then; nor is that of coordinates beyond about 1e154, whose
    # squares overflow: no map has those either.
    with np.errstate(all="ignore"):  # shapely's ufuncs warn on NaN and overflow
        unfit = (types >= 0) & ~(
            np.isfinite(shapely.length(geoms)) & np.isfinite(shapely.bounds(geoms)).all(axis=1)
        )
    unfit &= ~shapely.is_empty(geoms)
    out[unfit] = None
    types = np.where(unfit, -1, types)
    areal = np.isin(types, _AREAL)
    out[areal] = overlay.valid_polygonal(geoms[areal])
    other = np.flatnonzero(~areal & (types >= 0))
    out[other[~shapely.is_valid(geoms[other])]] = None
    out[~shapely.is_missing(out) & shapely.is_empty(out)] = None
    return out


def with_valid_geometry(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """A copy of rejected features whose geometry can be written, and that says what was read.

    The geometry is made valid (:func:`valid_geometries`); where that changed it,
    an ``as_read`` column holds the geometry as read, as WKT, so that
    the rejects report still shows what to fix at the source.
    """
    geoms = frame.geometry.to_numpy(dtype=object)
    valid = valid_geometries(geoms)
    changed = np.fromiter(
        (a is not b for a, b in zip(valid, geoms, strict=True)), dtype=bool, count=len(geoms)
    )
    changed &= ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)
    frame = frame.copy()
    if changed.any():
        as_read = np.full(len(geoms), None, dtype=object)
        as_read[changed] = shapely.to_wkt(geoms[changed], rounding_precision=-1)
        frame[s.GEOMETRY_AS_READ] = as_read
    return frame.set_geometry(gpd.GeoSeries(valid, index=frame.index, crs=frame.crs))


_AREAL = (
    shapely.GeometryType.POLYGON,
    shapely.GeometryType.MULTIPOLYGON,
    shapely.GeometryType.GEOMETRYCOLLECTION,
)


def write_layer(frame: gpd.GeoDataFrame, path, *, overwrite: bool = False) -> Path:
    """Write a layer atomically, in the format its extension names.

    ``.gpkg``, ``.geojson``/``.json``, ``.shp``, ``.zip`` (a zipped Shapefile),
    ``.fgb`` (FlatGeobuf), ``.kml``/``.kmz``, ``.parquet`` (GeoParquet),
    ``.csv`` (a ``wkt`` column, or ``longitude``/``latitude`` for points, in
    EPSG:4326, no text cell starting a spreadsheet formula) and ``.xlsx`` (the
    same table as a workbook, see :func:`minemap.spreadsheet.write_xlsx`).
    Dates are written as YYYY-MM-DD (as dates in ``.xlsx``). Every geometry
    written is valid and of its declared kind (see :func:`valid_geometries`).
    The file is read back before it takes its name, and an existing one (any
    part of a Shapefile) needs ``overwrite``; see
    :func:`minemap.outputs.atomic_output`.
    """
    path = Path(path)
    suffix = _suffix(path)
    if suffix not in WRITE_FORMATS:
        raise SchemaError(
            f"{path}: unknown output format; use one of {', '.join(sorted(WRITE_FORMATS))}"
        )
    valid = valid_geometries(frame.geometry.to_numpy(dtype=object))
    if suffix == ".xlsx":  # a workbook holds dates as dates: not made text first
        table = _csv_table(
            frame.set_geometry(gpd.GeoSeries(valid, index=frame.index, crs=frame.crs))
        )
        table.attrs = {}
        return spreadsheet.write_xlsx(table, path, overwrite=overwrite, rounded=False)
    frame = writable(frame)
    frame = frame.set_geometry(valid)
    try:
        return _write(frame, path, suffix, overwrite)
    except (
        pyogrio.errors.DataSourceError,
        pyogrio.errors.DataLayerError,
        pa.ArrowException,
    ) as exc:
        # What the format cannot hold (mixed geometry types or dimensions...): say so, and
        # which formats hold anything.
        raise OutputFileError(
            path,
            f"cannot be written as {suffix} ({_short(exc)}); write .gpkg or .geojson instead",
        ) from None


def write_layers(frames: Mapping[str, gpd.GeoDataFrame], path, *, overwrite: bool = False) -> Path:
    """Write several layers (``{name: frame}``) into one GeoPackage, atomically."""
    path = Path(path)
    if _suffix(path) != ".gpkg":
        raise SchemaError(f"{path}: several layers are written to a GeoPackage (.gpkg)")
    frames = {name: writable(frame) for name, frame in frames.items()}
    counts = {name: len(frame) for name, frame in frames.items()}
    check = functools.partial(_check_ogr, counts=counts)
    with atomic_path(path, overwrite, check=check) as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for i, (name, frame) in enumerate(frames.items()):
            pyogrio.write_dataframe(frame, tmp, driver="GPKG", layer=name, append=i > 0)
    return path


def _check_ogr(path: Path | str, counts: Mapping[str | None, int]) -> None:
    """Each layer of a file written through GDAL reads back with all its features."""
    for layer, count in counts.items():
        info = pyogrio.read_info(str(path), layer=layer, force_feature_count=True)
        if info["features"] != count:
            raise ValueError(f"{info['features']} features read back, {count} written")


def _check_parquet(path: Path, count: int) -> None:
    import pyarrow.parquet as pq

    rows = pq.read_metadata(path).num_rows
    if rows != count:
        raise ValueError(f"{rows} rows read back, {count} written")


def _write(frame: gpd.GeoDataFrame, path: Path, suffix: str, overwrite: bool) -> Path:
    if suffix == ".zip":
        return _write_zipped_shapefile(frame, path, overwrite)
    count = len(frame)
    if suffix in _PARQUET:
        with atomic_path(path, overwrite, check=lambda p: _check_parquet(p, count)) as tmp:
            frame.to_parquet(tmp, index=False)
        return path
    if suffix == ".csv":
        table = outputs.spreadsheet_safe(_csv_table(frame))
        columns = [str(c) for c in table.columns]
        with atomic_path(
            path, overwrite, check=lambda p: outputs.check_csv(p, columns, count)
        ) as tmp:
            table.to_csv(tmp, index=False, lineterminator=_CSV_LINE_END)
        return path
    with atomic_path(path, overwrite, check=lambda p: _check_ogr(p, {None: count})) as tmp:
        _write_ogr(frame, tmp, suffix)
    return path


def _write_ogr(frame: gpd.GeoDataFrame, tmp: Path, suffix: str) -> None:
    with warnings.catch_warnings():
        # Shapefile column names are cut to 10 characters, with a warning.
        warnings.simplefilter("ignore", RuntimeWarning)
        if suffix == ".shp":
            pyogrio.write_dataframe(frame, tmp, driver="ESRI Shapefile", encoding="UTF-8")
            return
        # FlatGeobuf's spatial index reorders features: keep the user's order.
        options = {"SPATIAL_INDEX": "NO"} if suffix == ".fgb" else {}
        if suffix == ".gpkg":
            options.update(_gpkg_names(frame))
        pyogrio.write_dataframe(
            frame,
            tmp,
            driver=DRIVERS[suffix],
            layer=tmp.stem,
            layer_options=options,
            use_arrow=True,  # a quarter faster than writing feature by feature
        )


def _gpkg_names(frame: gpd.GeoDataFrame) -> dict[str, str]:
    """GeoPackage layer options that keep the data's own columns named as they are.

    GDAL names a GeoPackage's feature id column ``fid`` and its geometry column
    ``geom``: a data column of either name (an attribute ``fid`` from a QGIS
    export, text) would clash, and the file could not be written. The
    GeoPackage's own columns then take other names; the data's keep theirs.
    """
    taken = {str(c).lower() for c in frame.columns if c != frame.geometry.name}
    options = {}
    for option, name in (("FID", "fid"), ("GEOMETRY_NAME", "geom")):
        if name in taken:
            candidate, n = f"gpkg_{name}", 2
            while candidate in taken:
                candidate, n = f"gpkg_{name}_{n}", n + 1
            options[option] = candidate
    return options


def _csv_table(frame: gpd.GeoDataFrame) -> pd.DataFrame:
    if frame.crs is not None and not frame.crs.equals(s.CANONICAL_CRS):
        frame = frame.to_crs(s.CANONICAL_CRS)
    geoms = frame.geometry.to_numpy(dtype=object)
    table = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    present = pd.notna(geoms)
    if present.any() and np.all(shapely.get_type_id(geoms[present]) == shapely.GeometryType.POINT):
        table["longitude"] = shapely.get_x(geoms)
        table["latitude"] = shapely.get_y(geoms)
    else:
        table[_CSV_WKT] = shapely.to_wkt(geoms, rounding_precision=-1)
    return table


def _write_zipped_shapefile(frame: gpd.GeoDataFrame, path: Path, overwrite: bool) -> Path:
    """A Shapefile's parts zipped into one file (one file: replaced in one rename)."""
    stem = path.name[: -len(".shp.zip")] if path.name.lower().endswith(".shp.zip") else path.stem
    count = len(frame)
    names: list[str] = []

    def check(tmp: Path) -> None:
        outputs.check_zip(tmp, names)
        _check_ogr(f"/vsizip/{tmp}/{stem}.shp", {None: count})

    with atomic_path(path, overwrite, check=check) as tmp:
        parts = tmp.parent / "parts"
        parts.mkdir()
        _write_ogr(frame, parts / f"{stem}.shp", ".shp")
        with zipfile.ZipFile(tmp, "x", zipfile.ZIP_DEFLATED) as out:
            for part in sorted(parts.iterdir()):
                if part.name.startswith(f"{stem}."):
                    out.write(part, part.name)
                    names.append(part.name)
    return path


def write_table(
    table: pd.DataFrame,
    path,
    *,
    overwrite: bool = False,
    rounded: bool = True,
    float_format: str | None = None,
) -> Path:
    """Write a table atomically as CSV or ``.xlsx`` (its extension says), safe in a spreadsheet.

    Figures are rounded to what they mean (:func:`minemap.outputs.round_figures`:
    hectares to 0.01, mine estimates to 0.1, counts whole; other decimals to 6
    places) unless ``rounded=False`` (values as read, e.g. the rejects). No text
    cell starts a spreadsheet formula (:func:`minemap.outputs.spreadsheet_safe`;
    in ``.xlsx``, text is text with Excel's quote prefix: see
    :func:`minemap.spreadsheet.write_xlsx`). The file is read back before it
    takes its name (see :func:`minemap.outputs.atomic_output`). Any other
    extension is a :class:`~minemap.errors.SchemaError`: nothing is written in
    a format its name does not say.
    """
    path = Path(path)
    suffix = _suffix(path)
    if suffix == ".xlsx":
        return spreadsheet.write_xlsx(table, path, overwrite=overwrite, rounded=rounded)
    if suffix != ".csv":
        raise SchemaError(
            f"{path}: {suffix or 'no extension'} is not a table format minemap writes; use "
            f"one of {', '.join(TABLE_FORMATS)}"
        )
    if rounded:
        table = outputs.round_figures(table, others=6)
    table = outputs.spreadsheet_safe(table)
    columns, count = [str(c) for c in table.columns], len(table)
    with atomic_path(path, overwrite, check=lambda p: outputs.check_csv(p, columns, count)) as tmp:
        table.to_csv(tmp, index=False, float_format=float_format, lineterminator=_CSV_LINE_END)
    return path
