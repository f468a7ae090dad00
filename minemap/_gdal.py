"""GDAL as minemap uses it: a few drivers, no network, no reaching beyond the file.

GDAL opens a file with whichever of its ~60 vector drivers recognises the
content, and several drivers follow what a file says: an OGR VRT reads the local
file its ``<SrcDataSource>`` names (``CSV:/etc/passwd``), a GDALG file runs a
pipeline that may read ``/vsicurl/http://...``, a GML file fetches its WFS schema
and writes a ``.gfs`` beside itself, a GeoJSON ``"crs": {"type": "link"}`` makes
GDAL fetch the URL it gives. minemap's files come from the other side of a
conflict, so :func:`configure` (run once, when :mod:`minemap.io` is imported)
sets GDAL up as follows, for the whole process:

- **Only the drivers minemap reads and writes stay registered**
  (:data:`KEPT_DRIVERS`): every other vector driver is deregistered (and named
  in GDAL's own ``GDAL_SKIP`` setting, which keeps it out of later
  registrations), so no file can be opened by the OGR VRT, GDALG, GML, SQLite,
  WFS, GPSBabel... drivers whatever its content. Raster-only drivers
  (rasterio's GeoTIFF) are untouched. minemap then opens each file only with the
  driver its extension names (:data:`READ_DRIVERS`, checked by the readers).
- **No network**: ``CPL_VSIL_CURL_ALLOWED_FILENAME`` names no real file, so
  ``/vsicurl/`` and the cloud file systems built on it (``/vsis3/``,
  ``/vsigs/``, ``/vsiaz/``...) open nothing; GDAL's HTTP client
  (``CPLHTTPFetch``, which GeoJSON's link CRS, the geocoding SQL functions and
  the web-service drivers use) is replaced by one that refuses and remembers the
  URL (:func:`refused_requests`), through GDAL's ``CPLHTTPSetFetchCallback``:
  GDAL has no setting that turns that client off. PROJ's network access (grid
  downloads) is off too, in GDAL's PROJ and in pyproj's.
- **FlatGeobuf is read through GDAL's generic Arrow reader**
  (``OGR_FLATGEOBUF_STREAM_BASE_IMPL``): the driver's own one (GDAL 3.12) turns a
  feature without geometry (what minemap writes for a fully released record)
  into a damaged geometry column, which crashed Python when read.
- **GeoPackage SQL stays inside the file**: views and triggers may not call
  GDAL's SQL functions (``ALLOW_OGR_SQL_FUNCTIONS_FROM_TRIGGER_AND_VIEW``),
  ``gdal_get_pixel_value`` may not open other files
  (``OGR_SQLITE_ALLOW_EXTERNAL_ACCESS``), no SQLite extension is loaded
  (``OGR_SQLITE_LOAD_EXTENSIONS``). These are set even where the environment
  says otherwise.

pyogrio offers no way to choose the driver of a read nor to replace GDAL's HTTP
client, so these steps call GDAL's C API (``GDALDeregisterDriver``,
``CPLHTTPSetFetchCallback``, ``OSRSetPROJEnableNetwork``) with :mod:`ctypes`,
in the very library pyogrio loaded (checked by a round trip of a configuration
option). When that library
cannot be found, :func:`configure` raises rather than read files unconfined.
``SECURITY.md`` says what this protects against and how it is tested
(``tests/test_gdal.py``).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import glob
import os
import threading
import uuid
from collections.abc import Iterator

import pyogrio
import pyproj

__all__ = [
    "KEPT_DRIVERS",
    "NO_NETWORK_FILENAME",
    "READ_DRIVERS",
    "SETTINGS",
    "configure",
    "refused_requests",
    "thread_options",
]

#: The GDAL vector drivers that may open each extension minemap reads with GDAL.
READ_DRIVERS: dict[str, tuple[str, ...]] = {
    ".geojson": ("GeoJSON",),
    ".json": ("GeoJSON",),
    ".gpkg": ("GPKG",),
    ".shp": ("ESRI Shapefile",),
    ".kml": ("LIBKML", "KML"),
    ".kmz": ("LIBKML", "KML"),
    ".fgb": ("FlatGeobuf",),
}

#: Vector drivers kept registered: those minemap reads and writes with, and MEM (GDAL's
#: in-memory datasets, which rasterio uses when it shares this GDAL; it opens no file).
KEPT_DRIVERS = frozenset(
    {driver for drivers in READ_DRIVERS.values() for driver in drivers} | {"MEM"}
)

#: ``CPL_VSIL_CURL_ALLOWED_FILENAME``: the one URL /vsicurl/ may open. No file has it.
NO_NETWORK_FILENAME = "/vsicurl/minemap-reads-nothing-from-the-network"

#: GDAL configuration options minemap sets, whatever the environment says.
SETTINGS: dict[str, str] = {
    "CPL_VSIL_CURL_ALLOWED_FILENAME": NO_NETWORK_FILENAME,
    # GeoPackage views and triggers calling ogr_geocode() and friends.
    "ALLOW_OGR_SQL_FUNCTIONS_FROM_TRIGGER_AND_VIEW": "NO",
    # gdal_get_pixel_value() opening another file from SQL.
    "OGR_SQLITE_ALLOW_EXTERNAL_ACCESS": "NO",
    # No SQLite extension is loaded into a GeoPackage's connection.
    "OGR_SQLITE_LOAD_EXTENSIONS": "",
    # FlatGeobuf through GDAL's generic Arrow reader: the driver's own (GDAL 3.12) gives a
    # feature without geometry neither a null nor an offset, and hands over a geometry
    # column whose offsets run past its data (reading it aborts or crashes Python).
    "OGR_FLATGEOBUF_STREAM_BASE_IMPL": "YES",
}

_lock = threading.Lock()
_configured = False
_lib: ctypes.CDLL | None = None
_local = threading.local()
# The callback object must live as long as GDAL may call it: for the whole process.
_callback = None


class _HTTPResult(ctypes.Structure):
    """GDAL's ``CPLHTTPResult`` (cpl_http.h), unchanged since GDAL 1.x."""

    _fields_ = [
        ("nStatus", ctypes.c_int),
        ("pszContentType", ctypes.c_void_p),
        ("pszErrBuf", ctypes.c_void_p),
        ("nDataLen", ctypes.c_int),
        ("nDataAlloc", ctypes.c_int),
        ("pabyData", ctypes.c_void_p),
        ("papszHeaders", ctypes.c_void_p),
        ("nMimePartCount", ctypes.c_int),
        ("pasMimePart", ctypes.c_void_p),
    ]


# CPLHTTPResult *(*)(const char *pszURL, CSLConstList papszOptions, GDALProgressFunc,
#                    void *pProgressArg, CPLHTTPFetchWriteFunc, void *pWriteArg, void *pUser)
_FETCH_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_void_p,
    ctypes.c_char_p,
    ctypes.c_void_p,
    ctypes.c_void_p,
    ctypes.c_void_p,
    ctypes.c_void_p,
    ctypes.c_void_p,
    ctypes.c_void_p,
)


def configure() -> None:
    """Confine GDAL (see the module's description); safe to call more than once."""
    global _configured
    with _lock:
        if _configured:
            return
        global _lib
        lib = _libgdal()
        pyogrio.set_gdal_config_options(SETTINGS)
        _keep_only(lib, KEPT_DRIVERS)
        _refuse_http(lib)
        lib.OSRSetPROJEnableNetwork(0)
        pyproj.network.set_network_enabled(active=False)
        lib.CPLGetThreadLocalConfigOption.restype = ctypes.c_char_p
        lib.CPLGetThreadLocalConfigOption.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
        lib.CPLSetThreadLocalConfigOption.restype = None
        lib.CPLSetThreadLocalConfigOption.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
        _lib = lib
        _configured = True


@contextlib.contextmanager
def thread_options(options: dict[str, str]) -> Iterator[None]:
    """GDAL configuration options for this thread only, during the block.

    GDAL reads a thread's own options before the process's, so a read in this
    thread sees these while other threads keep :data:`SETTINGS`.

    Examples
    --------
    >>> with thread_options({"MINEMAP_EXAMPLE": "inside"}):
    ...     pyogrio.get_gdal_config_option("MINEMAP_EXAMPLE")
    'inside'
    >>> pyogrio.get_gdal_config_option("MINEMAP_EXAMPLE") is None
    True
    """
    configure()
    assert _lib is not None
    before = {name: _lib.CPLGetThreadLocalConfigOption(name.encode(), None) for name in options}
    try:
        for name, value in options.items():
            _lib.CPLSetThreadLocalConfigOption(name.encode(), value.encode())
        yield
    finally:
        for name, value in before.items():
            _lib.CPLSetThreadLocalConfigOption(name.encode(), value)


@contextlib.contextmanager
def refused_requests() -> Iterator[list[str]]:
    """The URLs GDAL asked for (and was refused) in this thread during the block.

    Examples
    --------
    >>> with refused_requests() as urls:
    ...     pass
    >>> urls
    []
    """
    seen: list[str] = []
    stack = _watchers()
    stack.append(seen)
    try:
        yield seen
    finally:
        stack.remove(seen)


def _watchers() -> list[list[str]]:
    if not hasattr(_local, "watchers"):
        _local.watchers = []
    return _local.watchers


def _keep_only(lib, kept: frozenset[str]) -> None:
    """Deregister every vector driver but ``kept``, and keep them out of later registrations."""
    skipped = sorted(set(pyogrio.list_drivers()) - kept)
    lib.GDALGetDriverByName.restype = ctypes.c_void_p
    lib.GDALGetDriverByName.argtypes = [ctypes.c_char_p]
    lib.GDALDeregisterDriver.restype = None
    lib.GDALDeregisterDriver.argtypes = [ctypes.c_void_p]
    for name in skipped:
        driver = lib.GDALGetDriverByName(name.encode())
        if driver:
            lib.GDALDeregisterDriver(driver)
    # GDAL_SKIP also keeps them out if anything calls GDALAllRegister again (its list is
    # split on spaces: "MapInfo File" cannot be named there, the rest can).
    pyogrio.set_gdal_config_options({"GDAL_SKIP": " ".join(n for n in skipped if " " not in n)})
    left = set(pyogrio.list_drivers()) - kept
    if left:
        raise RuntimeError(
            "minemap could not confine GDAL: these drivers are still registered: "
            + ", ".join(sorted(left))
        )


def _refuse_http(lib) -> None:
    """Replace GDAL's HTTP client by one that refuses every request."""
    global _callback
    lib.CPLCalloc.restype = ctypes.c_void_p
    lib.CPLCalloc.argtypes = [ctypes.c_size_t, ctypes.c_size_t]
    lib.CPLStrdup.restype = ctypes.c_void_p
    lib.CPLStrdup.argtypes = [ctypes.c_char_p]
    lib.CPLHTTPSetFetchCallback.restype = None
    lib.CPLHTTPSetFetchCallback.argtypes = [_FETCH_CALLBACK, ctypes.c_void_p]

    def refuse(url, options, progress, progress_arg, write, write_arg, user):
        text = (url or b"").decode("utf-8", "replace")
        for seen in _watchers():
            seen.append(text)
        # A result with an error status: GDAL treats the request as failed and frees it.
        address = lib.CPLCalloc(1, ctypes.sizeof(_HTTPResult))
        result = _HTTPResult.from_address(address)
        result.nStatus = 1
        result.pszErrBuf = lib.CPLStrdup(b"minemap reads nothing from the network")
        return address

    _callback = _FETCH_CALLBACK(refuse)
    lib.CPLHTTPSetFetchCallback(_callback, None)


def _libgdal() -> ctypes.CDLL:
    """The GDAL library pyogrio uses, or an error saying it could not be found."""
    from pyogrio import _ogr

    candidates = [_ogr.__file__]  # dlsym on the extension module searches its libraries
    package = os.path.dirname(os.path.dirname(_ogr.__file__))
    for pattern in ("pyogrio.libs/*gdal*", "pyogrio/.dylibs/*gdal*"):
        candidates += sorted(glob.glob(os.path.join(package, pattern)))
    system = ctypes.util.find_library("gdal")
    if system:
        candidates.append(system)
    probe = f"minemap-{uuid.uuid4().hex}"
    pyogrio.set_gdal_config_options({"MINEMAP_PROBE": probe})
    try:
        for candidate in candidates:
            try:
                lib = ctypes.CDLL(candidate)
                get = lib.CPLGetConfigOption
            except (OSError, AttributeError):
                continue
            get.restype = ctypes.c_char_p
            get.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
            if get(b"MINEMAP_PROBE", None) == probe.encode():
                return lib
    finally:
        pyogrio.set_gdal_config_options({"MINEMAP_PROBE": None})
    raise RuntimeError(
        "minemap could not find the GDAL library pyogrio uses, to switch its network "
        "access off; it reads no file until it can (tried: " + ", ".join(candidates) + ")"
    )
