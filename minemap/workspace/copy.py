"""Copying a whole workspace into a new one, of either kind, losslessly.

Everything a workspace holds goes across as it is: the log (with each import's
review), every version of every record (in the same order, with the same ids:
``fid``), every reject with its geometry as read, every column a file brought,
with its type. What makes a version current (the versions' order and the imports'
status) goes with them, so the copy gives the same layers, history, log and
rejects as the original, as known on any day.
"""

from __future__ import annotations

import numpy as np

from minemap import schema as s
from minemap.workspace import model, readers


def copy_workspace(source, target) -> int:
    """Copy ``source`` into a new workspace ``target`` (see
    :func:`minemap.workspace.copy_workspace`); return the number of imports copied."""
    from minemap.workspace import _backend, create_workspace

    source_backend, source_location = _backend(source)
    with source_backend.read_session(source_location) as session:
        log = session.log()
        layers = {kind: session.versions(kind) for kind in s.LAYER_KINDS}
        columns = {kind: session.columns(kind) for kind in s.LAYER_KINDS}
        rejects, reject_geoms = session.rejects()
    create_workspace(target)
    target_backend, target_location = _backend(target)
    sources = {
        int(i): (x if isinstance(x, str) else "")
        for i, x in zip(log[s.IMPORT_ID], log[s.SOURCE], strict=True)
    }
    with target_backend.write_session(target_location, None) as session:
        for kind, wanted in columns.items():
            have = session.all_columns(kind)
            for name, column_type in wanted.items():
                if name not in have:
                    session.add_column(kind, name, column_type)
        for record in log.to_dict(orient="records"):
            session.insert_import({k: _plain(v) for k, v in record.items()})
        for kind, versions in layers.items():
            _copy_versions(session, kind, versions, log)
        if len(rejects):
            fids = rejects[model.FID].to_numpy() if model.FID in rejects else None
            names = [s.IMPORT_ID, s.LAYER, "source_row", s.FEATURE_ID, "problem", s.ATTRIBUTES]
            rows = [
                tuple(_plain(v) for v in row)
                for row in rejects[names].itertuples(index=False, name=None)
            ]
            by_source: dict[str, list[int]] = {}
            for position, row in enumerate(rows):
                by_source.setdefault(sources.get(int(row[0]), ""), []).append(position)
            for origin, positions in by_source.items():
                session.insert_rejects(
                    reject_geoms[positions],
                    [rows[i] for i in positions],
                    origin,
                    fids=None if fids is None else fids[positions],
                )
        session.after_copy()
    return len(log)


def _copy_versions(session, kind: str, versions: readers.Versions, log) -> None:
    if not len(versions):
        return
    names = list(versions.data)
    later = readers.superseded_by(versions, log).dropna()
    for source in dict.fromkeys(versions.source):
        for import_id in dict.fromkeys(versions.import_id[versions.source == source]):
            chosen = np.flatnonzero((versions.source == source) & (versions.import_id == import_id))
            rows = [tuple(_plain(versions.data[n][1][i]) for n in names) for i in chosen]
            session.insert_versions(
                kind,
                names,
                versions.geoms[chosen],
                rows,
                int(import_id),
                source,
                fids=versions.fid[chosen],
            )
    for import_id, group in later.groupby(later):
        session.mark_superseded(kind, versions.fid[group.index.to_numpy()], int(import_id))


def _plain(value):
    """A canonical value as Python gives it (numpy scalars and missing values unwrapped)."""
    if value is None:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    return value
