"""Where the geometry work runs: a local thread pool, or Dask.

Both engines run the same kernels from :mod:`minemap.overlay` on spatially
ordered chunks of the hazards (``docs/design.md#engines``):

1. **Order.** Hazards are sorted by the Hilbert code of their bounding-box
   centres and cut into chunks of ``chunk_size``; each chunk covers a compact
   patch of ground, so it touches few releases and few other chunks.
2. **Split.** Each chunk is cut along district boundaries
   (:func:`minemap.overlay.split`). Every piece gets a key
   (:func:`minemap.overlay.piece_keys`) that orders pieces as the whole layer
   would.
3. **Subtract and count once.** Each chunk runs
   :func:`minemap.overlay.subtract_and_count_once` against its neighbours:
   every release, and every hazard of any chunk, that may touch it. A hazard
   loses what hazards earlier in the layer cover, whichever chunk they are in,
   so the result does not depend on the chunking.

The local engine runs the chunks on a :class:`~concurrent.futures.ThreadPoolExecutor`
(shapely releases the GIL) and queries neighbours from STRtrees built once over
the whole layer. The Dask engine holds the chunks as dask-geopandas partitions;
each partition's third step depends only on the partitions whose bounding
boxes meet its own, so it runs on any Dask cluster.

Settings are module attributes, read when :func:`minemap.remaining` is called
with ``engine``, ``scheduler`` or ``chunk_size`` left at ``None``:

``DEFAULT_ENGINE``
    ``"local"`` or ``"dask"``.
``DEFAULT_SCHEDULER``
    Address of a Dask scheduler (``"tcp://host:8786"``) or a
    ``distributed.Client``; ``None`` uses the current client, or starts a
    LocalCluster for the call.
``DEFAULT_CHUNK_SIZE``
    Hazards per chunk (and per Dask partition).
``WORKERS``
    Threads of the local engine and of a LocalCluster; ``None`` means one per
    core.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from minemap import overlay
from minemap.errors import MinemapError

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "DEFAULT_ENGINE",
    "DEFAULT_SCHEDULER",
    "ENGINES",
    "WORKERS",
    "Pieces",
    "chunks",
    "hilbert_order",
    "run",
]

ENGINES = ("local", "dask")

DEFAULT_ENGINE = "local"
DEFAULT_SCHEDULER = None
DEFAULT_CHUNK_SIZE = 10_000
WORKERS: int | None = None

# Hilbert curve level: 2**16 cells a side is finer than any hazard at national scale.
_HILBERT_LEVEL = 16

# Column names private to the Dask partitions (never written out).
_HAZARD, _ZONE, _KEY, _RELEASE = "_hazard", "_zone", "_key", "_release"


@dataclass(frozen=True)
class Pieces:
    """Per piece (a hazard's part in one district), in key order.

    Attributes
    ----------
    hazard, zone
        The hazard's row and the zone's row (-1: outside every zone).
    pieces
        The piece's ground.
    left, net, net_left
        See :func:`minemap.overlay.subtract_and_count_once`.
    """

    hazard: np.ndarray
    zone: np.ndarray
    pieces: np.ndarray
    left: np.ndarray
    net: np.ndarray
    net_left: np.ndarray


def _workers() -> int:
    return max(1, WORKERS or os.cpu_count() or 1)


def resolve(engine: str | None, scheduler, chunk_size: int | None):
    """Fill in defaults and check the engine options; ``ValueError`` names a bad one."""
    engine = DEFAULT_ENGINE if engine is None else engine
    if engine not in ENGINES:
        raise ValueError(f"engine {engine!r} is not one of {', '.join(ENGINES)}")
    scheduler = DEFAULT_SCHEDULER if scheduler is None else scheduler
    if scheduler is not None and engine != "dask":
        raise ValueError("a scheduler is only used with engine='dask'")
    chunk_size = DEFAULT_CHUNK_SIZE if chunk_size is None else chunk_size
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, (int, np.integer)):
        raise ValueError(f"chunk_size must be a whole number, not {chunk_size!r}")
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be at least 1, not {chunk_size}")
    return engine, scheduler, int(chunk_size)


def hilbert_order(geometries) -> np.ndarray:
    """Positions that sort geometries along a Hilbert curve through their bounding boxes."""
    geoms = np.asarray(geometries, dtype=object)
    if len(geoms) < 2:
        return np.arange(len(geoms))
    series = gpd.GeoSeries(geoms)
    bounds = shapely.total_bounds(geoms)
    # A layer that is a line or a point in one direction still needs a square to map.
    span = max(bounds[2] - bounds[0], bounds[3] - bounds[1], 1.0)
    square = (bounds[0], bounds[1], bounds[0] + span, bounds[1] + span)
    codes = series.hilbert_distance(total_bounds=square, level=_HILBERT_LEVEL).to_numpy()
    return np.argsort(codes, kind="stable")


def chunks(geometries, chunk_size: int) -> list[np.ndarray]:
    """Row numbers of spatially compact chunks, each sorted, together covering every row once."""
    order = hilbert_order(geometries)
    # No hazards is one empty chunk, so that every step still gets arrays to join.
    return [np.sort(order[i : i + chunk_size]) for i in range(0, len(order), chunk_size)] or [
        order[:0]
    ]


def run(
    hazards: np.ndarray,
    zones: np.ndarray | None,
    releases: np.ndarray,
    *,
    engine: str = "local",
    scheduler=None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> Pieces:
    """Split hazards by zones, subtract releases and count overlaps once, chunk by chunk.

    Parameters
    ----------
    hazards, zones, releases
        Geometries in one equal-area CRS. ``zones`` must not overlap
        (:func:`minemap.overlay.make_disjoint`); ``None`` keeps hazards whole.
    engine, scheduler, chunk_size
        See :func:`minemap.remaining`.
    """
    hazards = np.asarray(hazards, dtype=object)
    releases = np.asarray(releases, dtype=object)
    zones = None if zones is None else np.asarray(zones, dtype=object)
    groups = chunks(hazards, chunk_size)
    if engine == "dask":
        try:
            import dask_geopandas  # noqa: F401
            import distributed  # noqa: F401
        except ImportError as exc:
            raise MinemapError(
                f"engine 'dask' needs dask-geopandas and distributed ({exc}); install them "
                "with: pip install 'minemap[dask]'"
            ) from exc
        return _run_dask(hazards, zones, releases, groups, scheduler)
    return _run_local(hazards, zones, releases, groups)


# --- the chunk steps both engines share ---------------------------------------------


def _split_chunk(hazards: np.ndarray, rows: np.ndarray, zones, zone_tree):
    """Step 2 on one chunk: hazard rows, zone rows, pieces and their keys."""
    if zones is None:
        return rows, np.full(len(rows), -1, dtype=np.intp), hazards[rows], rows.astype(np.int64)
    t, z, pieces = overlay.split(hazards[rows], zones, tree=zone_tree)
    h = rows[t]
    return h, z, pieces, overlay.piece_keys(h, z, len(zones))


def _map(function: Callable, items: Sequence, pool: ThreadPoolExecutor | None) -> list:
    if pool is None or len(items) < 2:
        return [function(item) for item in items]
    return list(pool.map(function, items))


def _run_local(hazards, zones, releases, groups) -> Pieces:
    workers = _workers()
    pool = ThreadPoolExecutor(workers, thread_name_prefix="minemap") if workers > 1 else None
    try:
        zone_tree = overlay.tree(zones) if zones is not None and len(zones) else None
        parts = _map(lambda rows: _split_chunk(hazards, rows, zones, zone_tree), groups, pool)
        hazard = np.concatenate([p[0] for p in parts])
        zone = np.concatenate([p[1] for p in parts])
        pieces = np.concatenate([p[2] for p in parts])
        keys = np.concatenate([p[3] for p in parts])
        label = np.repeat(np.arange(len(parts)), [len(p[0]) for p in parts])
        order = np.argsort(keys, kind="stable")
        hazard, zone, pieces, keys, label = (a[order] for a in (hazard, zone, pieces, keys, label))

        # Neighbours from the whole layer: a chunk's records meet records and
        # releases of other chunks.
        hazard_tree = overlay.tree(hazards)
        release_tree = overlay.tree(releases)
        rows_all = np.arange(len(hazards))
        by_chunk = np.argsort(label, kind="stable")
        positions = np.split(by_chunk, np.cumsum(np.bincount(label, minlength=len(parts)))[:-1])

        def count_once(k: int):
            rows, where = groups[k], positions[k]
            return overlay.subtract_and_count_once(
                pieces[where],
                np.searchsorted(rows, hazard[where]),
                zone[where],
                hazards[rows],
                rows,
                hazards,
                rows_all,
                releases,
                zones,
                neighbour_tree=hazard_tree,
                cutter_tree=release_tree,
                zone_tree=zone_tree,
            )

        results = _map(count_once, range(len(groups)), pool)
    finally:
        if pool is not None:
            pool.shutdown()
    out = [np.empty(len(pieces), dtype=object) for _ in range(3)]
    for rows, result in zip(positions, results, strict=True):
        for column, values in zip(out, result, strict=True):
            column[rows] = values
    return Pieces(hazard, zone, pieces, *out)


# --- Dask ------------------------------------------------------------------------------


def _split_partition(frame: gpd.GeoDataFrame, zones) -> gpd.GeoDataFrame:
    """Step 2 on one Dask partition of hazards (column ``_hazard``: their rows)."""
    rows = frame[_HAZARD].to_numpy()
    geoms = frame.geometry.to_numpy(dtype=object)
    zone_tree = overlay.tree(zones) if zones is not None and len(zones) else None
    # _split_chunk picks rows out of the partition's own geometries, then names them.
    t, z, pieces, _ = _split_chunk(geoms, np.arange(len(rows)), zones, zone_tree)
    h = rows[t].astype(np.int64)
    keys = overlay.piece_keys(h, z, len(zones)) if zones is not None else h
    return gpd.GeoDataFrame(
        {_HAZARD: h, _ZONE: np.asarray(z, dtype=np.int64), _KEY: keys}, geometry=pieces
    )


def _count_once_partition(own, own_hazards, neighbours: list, releases: list, zones) -> dict:
    """Step 3 on one Dask partition: its pieces, its hazards, and those of its neighbours."""
    near = pd.concat(neighbours, ignore_index=True)
    cutters = pd.concat(releases, ignore_index=True).sort_values(_RELEASE, kind="stable")
    rows = own_hazards[_HAZARD].to_numpy()
    order = np.argsort(rows, kind="stable")
    rows, records = rows[order], own_hazards.geometry.to_numpy(dtype=object)[order]
    left, net, net_left = overlay.subtract_and_count_once(
        own.geometry.to_numpy(dtype=object),
        np.searchsorted(rows, own[_HAZARD].to_numpy()),
        own[_ZONE].to_numpy(),
        records,
        rows,
        near.geometry.to_numpy(dtype=object),
        near[_HAZARD].to_numpy(),
        cutters.geometry.to_numpy(dtype=object),
        zones,
    )
    return {
        _HAZARD: own[_HAZARD].to_numpy(),
        _ZONE: own[_ZONE].to_numpy(),
        _KEY: own[_KEY].to_numpy(),
        "pieces": own.geometry.to_numpy(dtype=object),
        "left": left,
        "net": net,
        "net_left": net_left,
    }


def _partition_bounds(geoms: np.ndarray, divisions: Sequence[int]) -> np.ndarray:
    """Bounding box of each partition of rows cut at ``divisions`` (dask's row labels)."""
    boxes = shapely.bounds(geoms)
    stops = [*divisions[1:-1], len(geoms)]
    out = np.empty((len(stops), 4))
    for k, (start, stop) in enumerate(zip(divisions[:-1], stops, strict=True)):
        part = boxes[start:stop]
        if len(part) == 0:
            out[k] = (np.inf, np.inf, -np.inf, -np.inf)
        else:
            out[k] = (*part[:, :2].min(axis=0), *part[:, 2:].max(axis=0))
    return out


def _meeting(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``[i, j]`` is true where box ``a[i]`` meets box ``b[j]`` (touching counts)."""
    return (
        (a[:, None, 0] <= b[None, :, 2])
        & (b[None, :, 0] <= a[:, None, 2])
        & (a[:, None, 1] <= b[None, :, 3])
        & (b[None, :, 1] <= a[:, None, 3])
    )


def _partitioned(geoms: np.ndarray, rows: np.ndarray, column: str, chunk_size: int):
    """A dask-geopandas frame of ``geoms[rows]`` in that order, and its partitions' boxes."""
    import dask_geopandas

    frame = gpd.GeoDataFrame({column: rows.astype(np.int64)}, geometry=geoms[rows])
    ddf = dask_geopandas.from_geopandas(frame, chunksize=chunk_size, sort=False)
    boxes = _partition_bounds(geoms[rows], list(ddf.divisions))
    ddf.spatial_partitions = gpd.GeoSeries(shapely.box(*boxes.T))
    return ddf, boxes


@contextlib.contextmanager
def _client(scheduler) -> Iterator:
    from distributed import Client, LocalCluster, default_client

    if isinstance(scheduler, Client):
        yield scheduler
        return
    if scheduler is not None:
        with Client(scheduler) as client:
            yield client
        return
    try:
        current = default_client()
    except ValueError:  # no client in this process: start a LocalCluster for this call
        current = None
    if current is not None:
        yield current
        return
    # Threads, not processes: geometries would be copied between processes, 3-5x slower
    # (docs/scale.md, "Where it runs").
    with (
        LocalCluster(
            processes=False,
            n_workers=1,
            threads_per_worker=_workers(),
            # Dask's web servers listen on every interface by default, with no
            # authentication (and dashboard_address=None means port 8787 on all of
            # them): bind them to the loopback on a free port, and turn the
            # scheduler's dashboard off. Someone who wants a dashboard runs their own
            # cluster and passes --scheduler.
            dashboard_address="127.0.0.1:0",
            worker_dashboard_address="127.0.0.1:0",
            scheduler_kwargs={"dashboard": False},
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


def _run_dask(hazards, zones, releases, groups, scheduler) -> Pieces:
    import dask

    chunk_size = max(len(g) for g in groups) if groups else 1
    rows = np.concatenate(groups) if groups else np.empty(0, dtype=np.intp)
    if len(rows) == 0:
        empty = np.empty(0, dtype=object)
        none = np.empty(0, dtype=np.intp)
        return Pieces(none, none.copy(), *(empty.copy() for _ in range(4)))
    hz, hz_boxes = _partitioned(hazards, rows, _HAZARD, chunk_size)
    meta = gpd.GeoDataFrame(
        {_HAZARD: np.empty(0, np.int64), _ZONE: np.empty(0, np.int64), _KEY: np.empty(0, np.int64)},
        geometry=gpd.GeoSeries([]),
    )
    pieces = hz.map_partitions(_split_partition, zones, meta=meta)
    piece_parts = pieces.to_delayed()
    hazard_parts = hz.to_delayed()

    if len(releases):
        rel_rows = hilbert_order(releases)
        rel, rel_boxes = _partitioned(releases, rel_rows, _RELEASE, chunk_size)
        release_parts = rel.to_delayed()
    else:
        rel_boxes = np.empty((0, 4))
        release_parts = []
    empty_releases = gpd.GeoDataFrame({_RELEASE: np.empty(0, np.int64)}, geometry=[])

    near_hazards = _meeting(hz_boxes, hz_boxes)
    near_releases = _meeting(hz_boxes, rel_boxes)
    tasks = []
    for k, own in enumerate(piece_parts):
        neighbours = [hazard_parts[j] for j in np.flatnonzero(near_hazards[k])]
        cutters = [release_parts[j] for j in np.flatnonzero(near_releases[k])]
        cutters = cutters or [empty_releases]
        task = dask.delayed(_count_once_partition)(own, hazard_parts[k], neighbours, cutters, zones)
        tasks.append(task)
    with _client(scheduler) as client:
        results = client.gather(client.compute(tasks))

    def column(name):
        return np.concatenate([r[name] for r in results])

    keys = column(_KEY)
    order = np.argsort(keys, kind="stable")
    return Pieces(
        column(_HAZARD)[order].astype(np.intp),
        column(_ZONE)[order].astype(np.intp),
        *(column(name)[order] for name in ("pieces", "left", "net", "net_left")),
    )
