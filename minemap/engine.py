"""Where the geometry work runs: a local thread pool, or Dask.

Both engines run the same kernels on spatially ordered chunks of the hazards
(``docs/design.md#engines``):

1. **Order.** Hazards are sorted by the Hilbert code of their bounding-box
   centres and cut into chunks of ``chunk_size``; each chunk covers a compact
   patch of ground, so it touches few releases and few other chunks.
2. **Split.** Each chunk is cut along district boundaries
   (:func:`minemap.overlay.split`). Every piece gets a key
   (:func:`minemap.overlay.piece_keys`) that orders pieces as the whole layer
   would.
3. **Partition.** Each chunk runs :func:`minemap.partition.remaining_pieces`
   on its pieces and their neighbours: every piece of any chunk, and every
   release, whose box meets one of the chunk's pieces. Their boundaries are
   cut at every crossing; each piece's remaining ground, and its ground
   counted once (pieces earlier in key order keep shared ground), are sums
   over the stretches of boundary in and around it, all of which the chunk
   holds. So no figure depends on the chunking, and the two engines, giving
   the kernel the same neighbours in the same order, give the same figures.

The local engine runs the chunks on a :class:`~concurrent.futures.ThreadPoolExecutor`
(shapely and numpy release the GIL) and finds neighbours in STRtrees built
once over the whole layer. The Dask engine holds the chunks as
dask-geopandas partitions; each partition's third step depends only on the
partitions whose bounding boxes meet its own, so it runs on any Dask cluster.

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

from minemap import overlay, partition
from minemap.errors import MinemapError

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "DEFAULT_ENGINE",
    "DEFAULT_SCHEDULER",
    "ENGINES",
    "WORKERS",
    "Cells",
    "Pieces",
    "cells",
    "chunks",
    "hilbert_order",
    "run",
    "split",
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
#: A piece that is its hazard, uncut (Dask copies geometries: identity does not travel).
_WHOLE = "_whole"


@dataclass(frozen=True)
class Pieces:
    """Per piece (a hazard's part in one district), in key order.

    Attributes
    ----------
    hazard, zone
        The hazard's row and the zone's row (-1: outside every zone).
    pieces
        The piece's ground.
    left
        The piece minus the releases (the piece itself where no release
        takes ground from it).
    net, net_left
        Square metres: the piece's ground counted once (pieces earlier in key
        order keep ground they share with it), and that minus the releases.
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
    # Empty geometries (a release given only as an area holds none) have no place: first.
    present = ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)
    if present.sum() < 2:
        return np.argsort(present, kind="stable")
    series = gpd.GeoSeries(geoms[present])
    bounds = shapely.total_bounds(geoms)
    # A layer that is a line or a point in one direction still needs a square to map.
    span = max(bounds[2] - bounds[0], bounds[3] - bounds[1], 1.0)
    square = (bounds[0], bounds[1], bounds[0] + span, bounds[1] + span)
    codes = np.zeros(len(geoms), dtype=np.int64)
    codes[present] = series.hilbert_distance(total_bounds=square, level=_HILBERT_LEVEL).to_numpy()
    codes[~present] = -1
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


def _split_chunk(hazards: np.ndarray, rows: np.ndarray, zones):
    """Step 2 on one chunk: hazard rows, zone rows, pieces and their keys."""
    if zones is None:
        return rows, np.full(len(rows), -1, dtype=np.intp), hazards[rows], rows.astype(np.int64)
    t, z, pieces = overlay.split(hazards[rows], zones)
    h = rows[t]
    return h, z, pieces, overlay.piece_keys(h, z, len(zones))


def _map(function: Callable, items: Sequence, pool: ThreadPoolExecutor | None) -> list:
    if pool is None or len(items) < 2:
        return [function(item) for item in items]
    return list(pool.map(function, items))


def _release_ids(rows: np.ndarray) -> np.ndarray:
    """Ids of releases for simulation of simplicity: negative, never a piece's key."""
    return -1 - np.asarray(rows, dtype=np.int64)


def _count_once_chunk(own, keys, pieces, piece_tree, releases, release_rows, release_tree):
    """Step 3 on one chunk: the same neighbours, in the same order, in both engines.

    Parameters
    ----------
    own
        Positions (in ``pieces``, ascending) of the chunk's pieces.
    keys, pieces, piece_tree
        Pieces that include every neighbour of the chunk's, sorted by key, and
        an STRtree over them.
    releases, release_rows, release_tree
        Releases that include every one near the chunk, their rows in the
        layer (ascending), and an STRtree over them.
    """
    if len(own) == 0:
        empty = np.empty(0)
        return np.empty(0, dtype=object), empty, empty.copy()
    near = np.unique(piece_tree.query(pieces[own])[1])
    rel = (
        np.unique(release_tree.query(pieces[own])[1])
        if len(releases)
        else np.empty(0, dtype=np.intp)
    )
    return partition.remaining_pieces(
        pieces[near],
        keys[near],
        np.isin(near, own),
        releases[rel],
        _release_ids(release_rows[rel]),
    )


def _run_local(hazards, zones, releases, groups) -> Pieces:
    workers = _workers()
    pool = ThreadPoolExecutor(workers, thread_name_prefix="minemap") if workers > 1 else None
    try:
        parts = _map(lambda rows: _split_chunk(hazards, rows, zones), groups, pool)
        hazard = np.concatenate([p[0] for p in parts])
        zone = np.concatenate([p[1] for p in parts])
        pieces = np.concatenate([p[2] for p in parts])
        keys = np.concatenate([p[3] for p in parts])
        label = np.repeat(np.arange(len(parts)), [len(p[0]) for p in parts])
        order = np.argsort(keys, kind="stable")
        hazard, zone, pieces, keys, label = (a[order] for a in (hazard, zone, pieces, keys, label))

        # Neighbours from the whole layer: a chunk's pieces meet pieces and
        # releases of other chunks.
        piece_tree = overlay.tree(pieces)
        release_tree = overlay.tree(releases)
        release_rows = np.arange(len(releases))
        by_chunk = np.argsort(label, kind="stable")
        positions = np.split(by_chunk, np.cumsum(np.bincount(label, minlength=len(parts)))[:-1])

        def count_once(k: int):
            return _count_once_chunk(
                positions[k], keys, pieces, piece_tree, releases, release_rows, release_tree
            )

        results = _map(count_once, range(len(groups)), pool)
    finally:
        if pool is not None:
            pool.shutdown()
    left = np.empty(len(pieces), dtype=object)
    net, net_left = np.zeros(len(pieces)), np.zeros(len(pieces))
    for rows, result in zip(positions, results, strict=True):
        left[rows], net[rows], net_left[rows] = result
    return Pieces(hazard, zone, pieces, left, net, net_left)


# --- cells: the partition for as-of figures ------------------------------------------


@dataclass(frozen=True)
class Cells:
    """Ground cut by its earliest hazard piece and its earliest release.

    Attributes
    ----------
    piece, release
        Positions in the pieces and releases given to :func:`cells` (-1:
        none covers the cell).
    area
        Area of the cell in the CRS's units (square metres).
    """

    piece: np.ndarray
    release: np.ndarray
    area: np.ndarray


def split(hazards, zones, *, chunk_size: int = DEFAULT_CHUNK_SIZE):
    """Hazards cut along zones, chunk by chunk on the local threads: rows, zones, pieces.

    Pieces in key order (:func:`minemap.overlay.piece_keys`): by hazard, then
    zone, the part outside every zone last. ``zones=None`` keeps hazards whole.
    """
    hazards = np.asarray(hazards, dtype=object)
    groups = chunks(hazards, chunk_size)
    workers = _workers()
    pool = ThreadPoolExecutor(workers, thread_name_prefix="minemap") if workers > 1 else None
    try:
        parts = _map(lambda rows: _split_chunk(hazards, rows, zones), groups, pool)
    finally:
        if pool is not None:
            pool.shutdown()
    hazard = np.concatenate([p[0] for p in parts])
    zone = np.concatenate([p[1] for p in parts])
    pieces = np.concatenate([p[2] for p in parts])
    order = np.argsort(np.concatenate([p[3] for p in parts]), kind="stable")
    return hazard[order], zone[order], pieces[order]


def _cells_inputs(rows, pieces, releases, piece_tree, release_tree):
    """The kernel's inputs for one chunk of :func:`cells` (rows of pieces, then releases)."""
    n_p = len(pieces)
    own = np.concatenate([pieces, releases])[rows]
    near_p = np.unique(piece_tree.query(own)[1]) if n_p else np.empty(0, dtype=np.intp)
    near_r = np.unique(release_tree.query(own)[1]) if len(releases) else np.empty(0, np.intp)
    arguments = (
        pieces[near_p],
        near_p,
        np.isin(near_p, rows[rows < n_p]),
        releases[near_r],
        _release_ids(near_r),
        np.isin(near_r, rows[rows >= n_p] - n_p),
    )
    return near_p, near_r, arguments


def cells(
    pieces,
    releases,
    *,
    engine: str = "local",
    scheduler=None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> Cells:
    """Cut ground into cells by earliest piece and earliest release, chunk by chunk.

    Pieces and releases are each given in priority order (the first keeps
    shared ground). Chunks of both together, in Hilbert order, each report
    the cells of their own polygons (:func:`minemap.partition.cells`), given
    every polygon whose box meets one of theirs; the local engine runs the
    chunks on threads, the Dask engine as tasks on the cluster, each sent only
    its chunk's polygons. Both give the same cells.
    """
    pieces = np.asarray(pieces, dtype=object)
    releases = np.asarray(releases, dtype=object)
    groups = [g for g in chunks(np.concatenate([pieces, releases]), chunk_size) if len(g)]
    piece_tree, release_tree = overlay.tree(pieces), overlay.tree(releases)
    inputs = [_cells_inputs(rows, pieces, releases, piece_tree, release_tree) for rows in groups]
    if engine == "dask":
        import dask

        tasks = [dask.delayed(partition.cells)(*arguments) for _, _, arguments in inputs]
        with _client(scheduler) as client:
            results = client.gather(client.compute(tasks))
    else:
        workers = _workers()
        pool = ThreadPoolExecutor(workers, thread_name_prefix="minemap") if workers > 1 else None
        try:
            results = _map(lambda item: partition.cells(*item[2]), inputs, pool)
        finally:
            if pool is not None:
                pool.shutdown()
    pieces_of: list[np.ndarray] = []
    releases_of: list[np.ndarray] = []
    areas_of: list[np.ndarray] = []
    for (near_p, near_r, _), (h, r, a) in zip(inputs, results, strict=True):
        pieces_of.append(np.where(h >= 0, near_p[np.maximum(h, 0)] if len(near_p) else -1, -1))
        releases_of.append(np.where(r >= 0, near_r[np.maximum(r, 0)] if len(near_r) else -1, -1))
        areas_of.append(a)
    if not inputs:
        empty = np.empty(0, dtype=np.intp)
        return Cells(empty, empty.copy(), np.zeros(0))
    piece = np.concatenate(pieces_of)
    release = np.concatenate(releases_of)
    area = np.concatenate(areas_of)
    order = np.lexsort((release, piece))
    return Cells(piece[order], release[order], area[order])


# --- Dask ------------------------------------------------------------------------------


def _split_partition(frame: gpd.GeoDataFrame, zones) -> gpd.GeoDataFrame:
    """Step 2 on one Dask partition of hazards (column ``_hazard``: their rows)."""
    rows = frame[_HAZARD].to_numpy()
    geoms = frame.geometry.to_numpy(dtype=object)
    # _split_chunk picks rows out of the partition's own geometries, then names them.
    t, z, pieces, _ = _split_chunk(geoms, np.arange(len(rows)), zones)
    h = rows[t].astype(np.int64)
    keys = overlay.piece_keys(h, z, len(zones)) if zones is not None else h
    whole = _same_objects(pieces, geoms[t])
    return gpd.GeoDataFrame(
        {_HAZARD: h, _ZONE: np.asarray(z, dtype=np.int64), _KEY: keys, _WHOLE: whole},
        geometry=pieces,
    )


def _same_objects(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.fromiter((x is y for x, y in zip(a, b, strict=True)), dtype=bool, count=len(a))


def _count_once_partition(own, neighbours: list, releases: list) -> dict:
    """Step 3 on one Dask partition: its pieces, with those of its neighbour partitions."""
    near = pd.concat(neighbours, ignore_index=True).sort_values(_KEY, kind="stable")
    near = near.drop_duplicates(_KEY)
    cutters = pd.concat(releases, ignore_index=True).sort_values(_RELEASE, kind="stable")
    keys = near[_KEY].to_numpy()
    pieces = near.geometry.to_numpy(dtype=object)
    cut = cutters.geometry.to_numpy(dtype=object)
    own_keys = own[_KEY].to_numpy()
    left, net, net_left = _count_once_chunk(
        np.searchsorted(keys, np.sort(own_keys)),
        keys,
        pieces,
        overlay.tree(pieces),
        cut,
        cutters[_RELEASE].to_numpy(),
        overlay.tree(cut),
    )
    back = np.argsort(np.argsort(own_keys, kind="stable"), kind="stable")
    mine = np.searchsorted(keys, own_keys)
    left = left[back]
    return {
        _HAZARD: own[_HAZARD].to_numpy(),
        _ZONE: own[_ZONE].to_numpy(),
        _KEY: own_keys,
        "pieces": own.geometry.to_numpy(dtype=object),
        "left": left,
        # Left as it was read: the kernel gave the piece back, and the piece is its hazard.
        _WHOLE: own[_WHOLE].to_numpy(dtype=bool) & _same_objects(left, pieces[mine]),
        "net": net[back],
        "net_left": net_left[back],
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
        return Pieces(none, none.copy(), empty, empty.copy(), np.zeros(0), np.zeros(0))
    hz, hz_boxes = _partitioned(hazards, rows, _HAZARD, chunk_size)
    meta = gpd.GeoDataFrame(
        {
            _HAZARD: np.empty(0, np.int64),
            _ZONE: np.empty(0, np.int64),
            _KEY: np.empty(0, np.int64),
            _WHOLE: np.empty(0, bool),
        },
        geometry=gpd.GeoSeries([]),
    )
    pieces = hz.map_partitions(_split_partition, zones, meta=meta)
    piece_parts = pieces.to_delayed()

    if len(releases):
        rel_rows = hilbert_order(releases)
        rel, rel_boxes = _partitioned(releases, rel_rows, _RELEASE, chunk_size)
        release_parts = rel.to_delayed()
    else:
        rel_boxes = np.empty((0, 4))
        release_parts = []
    empty_releases = gpd.GeoDataFrame({_RELEASE: np.empty(0, np.int64)}, geometry=[])

    # A partition's pieces lie within its hazards' boxes: neighbours by those boxes.
    near_hazards = _meeting(hz_boxes, hz_boxes)
    near_releases = _meeting(hz_boxes, rel_boxes)
    tasks = []
    for k, own in enumerate(piece_parts):
        neighbours = [piece_parts[j] for j in np.flatnonzero(near_hazards[k])]
        cutters = [release_parts[j] for j in np.flatnonzero(near_releases[k])]
        cutters = cutters or [empty_releases]
        tasks.append(dask.delayed(_count_once_partition)(own, neighbours, cutters))
    with _client(scheduler) as client:
        results = client.gather(client.compute(tasks))

    def column(name):
        return np.concatenate([r[name] for r in results])

    keys = column(_KEY)
    order = np.argsort(keys, kind="stable")
    hazard = column(_HAZARD)[order].astype(np.intp)
    pieces, left = column("pieces")[order], column("left")[order]
    # What the local engine gives back as the very hazard object, give back so too:
    # records left whole keep their own coordinates in both engines.
    whole = column(_WHOLE)[order].astype(bool)
    left[whole] = hazards[hazard[whole]]
    return Pieces(
        hazard,
        column(_ZONE)[order].astype(np.intp),
        pieces,
        left,
        *(column(name)[order].astype(float) for name in ("net", "net_left")),
    )
