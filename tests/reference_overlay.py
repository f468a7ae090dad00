"""The algorithm minemap counted ground once with before the planar partition.

Kept as the reference the partition is tested against (figures within 1e-9
relative, on the sample and on random overlapping layouts): per chunk of
records, each piece minus the union of the releases that touch it, and each
record minus the union of the records before it, cut by its district; all with
GEOS overlay operations.
"""

from __future__ import annotations

import numpy as np
import shapely

from minemap import engine, overlay


def reference_run(hazards, zones, releases, **_) -> engine.Pieces:
    """:func:`minemap.engine.run` as it was: the whole layer as one chunk, GEOS kernels."""
    hazards = np.asarray(hazards, dtype=object)
    releases = np.asarray(releases, dtype=object)
    rows = np.arange(len(hazards))
    if zones is None:
        h, z, pieces, keys = rows, np.full(len(rows), -1), hazards, rows.astype(np.int64)
    else:
        zones = np.asarray(zones, dtype=object)
        h, z, pieces = overlay.split(hazards, zones)
        keys = overlay.piece_keys(h, z, len(zones))
    order = np.argsort(keys, kind="stable")
    h, z, pieces = h[order], z[order], pieces[order]
    left, net, net_left = subtract_and_count_once(
        pieces, h, z, hazards, rows, hazards, rows, releases, zones
    )
    return engine.Pieces(
        h.astype(np.intp),
        z.astype(np.intp),
        pieces,
        left,
        shapely.area(net),
        shapely.area(net_left),
    )


def subtract_and_count_once(
    pieces,
    piece_record: np.ndarray,
    piece_zone: np.ndarray,
    records,
    record_keys: np.ndarray,
    neighbours,
    neighbour_keys: np.ndarray,
    cutters,
    zones=None,
    *,
    neighbour_tree: shapely.STRtree | None = None,
    cutter_tree: shapely.STRtree | None = None,
    zone_tree: shapely.STRtree | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The kernel both engines run on a chunk of records and their pieces.

    For each piece (a record's part in one zone, from :func:`split`): what is
    left after the cutters (releases) that touch it, and the same with
    overlapping records counted once: a record loses what records with a
    smaller key already cover, as :func:`make_disjoint` does over the whole
    layer, and its pieces are cut from what it keeps.

    Counting once is done on whole records, not on pieces: pieces of
    neighbouring records cut along the same zone boundary have nearly
    coincident edges, on which GEOS can return a wrong difference without
    raising.

    Parameters
    ----------
    pieces, piece_record, piece_zone
        The chunk's pieces, the position in ``records`` of each one's record,
        and its zone (-1: outside every zone).
    records, record_keys
        The chunk's records and their keys (rows in the whole layer).
    neighbours, neighbour_keys
        Every record that may overlap a record of the chunk, the chunk's own
        included, with their keys. Records of other chunks must be here: the
        counted-once step needs them.
    cutters
        Every cutter that may touch a piece of the chunk, in the layer's order.
    zones
        The zones the pieces were cut by (``None``: pieces are whole records).
    neighbour_tree, cutter_tree, zone_tree
        Indexes already built over ``neighbours``, ``cutters`` and ``zones``
        (shared by all chunks of the local engine).

    Returns
    -------
    left, net, net_left
        ``left``: each piece minus its cutters. ``net``: the piece's share of
        its record's counted-once ground. ``net_left``: ``net`` minus the
        cutters (so the counted-once released ground is
        ``area(net) - area(net_left)``). Given neighbours sorted by key and
        cutters in the layer's order, the results do not depend on how the
        layer was chunked.
    """
    pieces, records = overlay._as_array(pieces), overlay._as_array(records)
    neighbours, cutters = overlay._as_array(neighbours), overlay._as_array(cutters)
    piece_record, piece_zone = np.asarray(piece_record), np.asarray(piece_zone)
    record_keys, neighbour_keys = np.asarray(record_keys), np.asarray(neighbour_keys)
    n = len(pieces)
    ti, ci = overlay.candidate_pairs(pieces, cutters, tree=cutter_tree)
    unions = overlay.union_by_group(cutters[ci], ti, n)
    left = overlay.subtract_unions(pieces, unions)

    # Boxes first, then the exact test only on earlier records.
    ri, oi = _box_pairs(records, neighbours, neighbour_tree)
    earlier = neighbour_keys[oi] < record_keys[ri]
    ri, oi = ri[earlier], oi[earlier]
    meets = shapely.intersects(records[ri], neighbours[oi])
    ri, oi = ri[meets], oi[meets]
    order = np.lexsort((neighbour_keys[oi], ri))
    covered = overlay.union_by_group(neighbours[oi[order]], ri[order], len(records))
    record_net = overlay.subtract_unions(records, covered)

    has_covered = (covered != None)[piece_record]  # noqa: E711  (element-wise test for None)
    net = pieces.copy()
    # A piece that is its whole record takes the record's net ground as it is.
    count = np.bincount(piece_record, minlength=len(records))[piece_record]
    whole = (count == 1) & (shapely.area(pieces) == shapely.area(records[piece_record]))
    take = np.flatnonzero(has_covered & whole)
    net[take] = record_net[piece_record[take]]
    if zones is not None:
        zones = overlay._as_array(zones)
        inside = np.flatnonzero(has_covered & ~whole & (piece_zone >= 0))
        net[inside] = overlay.intersection(
            record_net[piece_record[inside]], zones[piece_zone[inside]]
        )
        outside = np.flatnonzero(has_covered & ~whole & (piece_zone < 0))
        if len(outside):
            parts = record_net[piece_record[outside]]
            pi, pz = overlay.candidate_pairs(parts, zones, tree=zone_tree)
            net[outside] = overlay.subtract_unions(
                parts, overlay.union_by_group(zones[pz], pi, len(outside))
            )

    # Where no earlier record overlaps, net is the piece and net_left is left;
    # where no release touches, net_left is net.
    net_left = np.where(has_covered, net, left)
    both = np.flatnonzero(has_covered & (unions != None))  # noqa: E711
    if len(both):
        net_left[both] = overlay.polygonal(
            overlay._robust_binary(shapely.difference, net[both], unions[both])
        )
    return left, net, net_left


def _box_pairs(targets: np.ndarray, others: np.ndarray, index: shapely.STRtree | None):
    if len(targets) == 0 or len(others) == 0:
        empty = np.empty(0, dtype=np.intp)
        return empty, empty.copy()
    index = index if index is not None else shapely.STRtree(others)
    return index.query(targets)
