"""The import rules, written once for every kind of workspace.

An import reads and checks one file like every other input
(:func:`minemap.io.load_layers`, with the workspace's districts and hazards as the
checks' context), then, in the backend's one transaction:

- a file already imported the same way (SHA-256, kind, reading options) changes
  nothing (``already``), unless every feature of it was rejected or a manager
  rejected it: such an import does not hold its file;
- a feature whose id the workspace holds from another source is rejected
  (``duplicate-id``); a hazard sharing more than 90 % of its ground with a current
  record is rejected (``duplicate-record``);
- a kept feature becomes the current version of its record (its id and the
  source): a record held from the same source is superseded when it changed and
  left alone when it did not;
- rejected features are stored with their reasons; new columns are added with
  the type of their values; the import is logged with its counts.

A backend's write session (:class:`minemap.workspace.sqlite.Session`,
:class:`minemap.workspace.postgis.Session`) does the storing; the rules are here.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from minemap import io as mio
from minemap import schema as s
from minemap import validate
from minemap.errors import WorkspaceError
from minemap.profile import Profile
from minemap.validate import ERROR, MAX_SEGMENT_M, Problem
from minemap.workspace import model, readers
from minemap.workspace.model import ACCEPTED, PENDING, REJECTED, Import


def add(
    session,
    kind: str,
    path: Path,
    *,
    digest: str,
    source: str,
    layer: str | None,
    mapping: Mapping[str, str] | None,
    crs,
    imported_at,
    today: dt.date | None,
    max_segment_m: float = MAX_SEGMENT_M,
    profile: Profile | None = None,
    reuse_profile: bool = False,
    reading: Mapping | None = None,
) -> Import:
    """One import into the workspace of ``session`` (see :func:`minemap.workspace.add_file`)."""
    log = session.log()
    # The stored profile is looked up in the import's own transaction (the log just read).
    reused = model.stored_profile(log, source) if profile is None and reuse_profile else None
    if reused is not None:
        profile = reused[0]
    reading = dict(reading or {})
    options = model.read_options(layer, mapping, crs, profile, max_segment_m, reading)
    earlier = _earlier(log, digest, kind, options)
    if earlier is not None:
        return Import.from_record(earlier, already=True, reused_profile=reused)
    stamp = import_moment(log, session.location, imported_at)
    if session.reviews:
        session.may_add(source)
    state = readers.counted_imports(log, None, include_pending=True)
    held = {k: session.versions(k) for k in {kind, *model.CONTEXT[kind]}}
    context = {
        k: readers.frame(held[k], readers.current(held[k], state)) for k in model.CONTEXT[kind]
    }
    loaded = mio.load_layers(
        [path],
        kind,
        layer=layer,
        mapping=mapping,
        crs=crs,
        districts=_or_none(context.get("districts")),
        hazards=_or_none(context.get("hazards")),
        today=today,
        max_segment_m=max_segment_m,
        profile=profile,
        **reading,
    )
    mine = held[kind]
    now = readers.current(mine, state)
    loaded = reject_foreign_ids(mine, now, loaded, source, path)
    if kind == "hazards":
        loaded = reject_copies_of_current(mine, now, loaded, source, path)
    import_id = session.next_import_id()
    kept = points_as_columns(loaded.kept) if kind == "releases" else loaded.kept
    plan = plan_versions(session, mine, now, kept, source)
    from minemap import __version__

    status = PENDING if session.reviews and not session.may_review() else ACCEPTED
    record = {
        s.IMPORT_ID: import_id,
        s.IMPORTED_AT: stamp,
        s.KIND: kind,
        s.FILE: str(path.resolve()),
        s.SHA256: digest,
        s.SOURCE: source or None,
        s.READ: loaded.read,
        s.KEPT: len(loaded.kept),
        s.REJECTED: len(loaded.rejected),
        s.NEW: plan.new,
        s.SUPERSEDED: len(plan.replaced),
        s.UNCHANGED: plan.unchanged,
        s.WARNINGS: len(loaded.warnings) + len(plan.notes),
        s.READ_OPTIONS: options,
        s.MINEMAP_VERSION: __version__,
        s.IMPORT_STATUS: status,
        s.IMPORTED_BY: session.imported_by(),
    }
    # The log first: a submitter may add versions and rejects only to its own pending import.
    session.insert_import(record)
    write_versions(session, kind, plan, import_id, source)
    write_rejects(session, kind, loaded.rejected, import_id, source)
    notes = plan.notes
    session.after_import(kind, import_id, stamp, loaded.kept, loaded.rejected)
    return Import.from_record(record, loaded=loaded, notes=tuple(notes), reused_profile=reused)


def _earlier(log: pd.DataFrame, digest: str, kind: str, options: str) -> dict | None:
    """The import that holds this file read this way, if any."""
    if not len(log):
        return None
    same = log[(log[s.SHA256] == digest) & (log[s.KIND] == kind) & (log[s.READ_OPTIONS] == options)]
    for record in same.to_dict(orient="records"):
        if model.counted(record):
            return record
    return None


def _or_none(frame):
    return frame if frame is not None and len(frame) else None


def import_moment(log: pd.DataFrame, location, imported_at) -> str:
    """The stamp of a new import: now, or ``imported_at``, never before the last import."""
    moment = model.utcnow() if imported_at is None else model.utc(imported_at)
    if moment > model.utcnow() + dt.timedelta(minutes=1):
        raise WorkspaceError(
            location, f"an import cannot be dated in the future ({model.stamp(moment)})"
        )
    stamp = model.stamp(moment)
    if len(log):
        last = log.iloc[int(np.argmax(log[s.IMPORT_ID].to_numpy()))]
        if stamp < last[s.IMPORTED_AT]:
            raise WorkspaceError(
                location,
                f"an import dated {stamp} would come before the last one "
                f"(#{last[s.IMPORT_ID]}, {last[s.IMPORTED_AT]}); imports are recorded in the "
                "order they are made: add older files first",
            )
    return stamp


def _source_text(source: str) -> str:
    return f"source {source!r}" if source else "no source (added without --source)"


def reject_foreign_ids(
    held: readers.Versions, now: np.ndarray, loaded: mio.Loaded, source: str, path: Path
) -> mio.Loaded:
    """Set aside kept features whose id the workspace holds from another source."""
    kind = loaded.kind
    id_col = s.ID_COLUMN[kind]
    kept = loaded.kept
    if not len(kept):
        return loaded
    others = {
        held.ids[i]: (held.source[i], int(held.import_id[i]))
        for i in now
        if held.source[i] != source
    }
    ids = kept[id_col].astype(object).to_numpy()
    clash = np.array([i in others for i in ids], dtype=bool)
    if not clash.any():
        return loaded
    messages = []
    for value in ids[clash]:
        other, import_id = others[value]
        messages.append(
            f"{id_col} {value} is already in the workspace from {_source_text(other)} "
            f"(import #{import_id}); to correct that record, add the file with "
            + (f"--source {other!r}" if other else "no --source")
            + f"; if it is another record, give it another {id_col}"
        )
    return _set_aside(loaded, clash, "duplicate-id", messages, path)


def _set_aside(
    loaded: mio.Loaded, clash: np.ndarray, rule: str, messages: list[str], path: Path
) -> mio.Loaded:
    """Move the kept features marked by ``clash`` to the rejects, each with its message."""
    kind, kept = loaded.kind, loaded.kept
    id_col = s.ID_COLUMN[kind]
    ids = kept[id_col].astype(object).to_numpy()
    # Kept features are the file's rows that were not rejected, in order.
    rows = np.setdiff1d(
        np.arange(1, loaded.read + 1), loaded.rejected[mio.SOURCE_ROW].to_numpy(dtype=int)
    )
    moved = kept[clash].copy()
    moved[mio.SOURCE_FILE] = str(path)
    moved[mio.SOURCE_ROW] = rows[clash]
    moved[mio.PROBLEM] = [f"{rule}: {m}" for m in messages]
    frames = [f for f in (loaded.rejected, moved) if len(f)]
    rejected = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    rejected = rejected.sort_values(mio.SOURCE_ROW, kind="stable").reset_index(drop=True)
    problems = list(loaded.problems) + [
        Problem(str(path), int(row), f"{id_col} {value}", rule, ERROR, message)
        for row, value, message in zip(rows[clash], ids[clash], messages, strict=True)
    ]
    remaining = kept[~clash].reset_index(drop=True)
    remaining.attrs = dict(kept.attrs)
    return mio.Loaded(kind, remaining, rejected, problems, loaded.read, loaded.copies)


def reject_copies_of_current(
    held: readers.Versions, now: np.ndarray, loaded: mio.Loaded, source: str, path: Path
) -> mio.Loaded:
    """Set aside new hazards that share more than 90 % of a current record's ground.

    The file's own records were checked against each other when it was read; this
    checks them against the records already in the workspace, except those the
    file supersedes (same id, same source): a minefield already recorded, sent
    again under another id or by another source, would count its mines twice.
    """
    kept = loaded.kept
    if not len(kept):
        return loaded
    new_ids = set(kept[s.HAZARD_ID].astype(object))
    ids, sources = held.ids[now], held.source[now]
    others = now[~np.array([i in new_ids for i in ids], dtype=bool) | (sources != source)]
    if not len(others):
        return loaded
    geoms = np.concatenate([held.geoms[others], kept.geometry.to_numpy(dtype=object)])
    first, later, share = validate.overlapping_records(geoms)
    across = (first < len(others)) & (later >= len(others))
    clash = np.zeros(len(kept), dtype=bool)
    messages = {}
    pairs = zip(first[across], later[across] - len(others), share[across], strict=True)
    for old, new, ratio in pairs:
        if not clash[new]:
            clash[new] = True
            other = f"{s.HAZARD_ID} {held.ids[others[old]]} of the workspace"
            messages[new] = validate.duplicate_message(other, ratio)
    if not clash.any():
        return loaded
    return _set_aside(
        loaded, clash, "duplicate-record", [messages[i] for i in np.flatnonzero(clash)], path
    )


#: Where a release given as an area says the work was: its point, kept as two columns
#: (the releases' geometry column holds polygons).
POINT_LONGITUDE, POINT_LATITUDE = "point_longitude", "point_latitude"


def points_as_columns(kept: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Releases given as an area with a point: the point in two columns, no geometry.

    Such a release has no polygon (``area_ha`` and ``hazard_id`` say what it
    released); its point, where the team worked, is kept beside it.
    """
    geoms = kept.geometry.to_numpy(dtype=object)
    points = ~pd.isna(geoms) & (shapely.get_type_id(geoms) == shapely.GeometryType.POINT)
    if not points.any():
        return kept
    kept = kept.copy()
    kept[POINT_LONGITUDE] = np.where(points, shapely.get_x(np.where(points, geoms, None)), np.nan)
    kept[POINT_LATITUDE] = np.where(points, shapely.get_y(np.where(points, geoms, None)), np.nan)
    return kept.set_geometry(
        gpd.GeoSeries(np.where(points, None, geoms), index=kept.index, crs=kept.crs)
    )


def ensure_columns(session, kind: str, frame: gpd.GeoDataFrame) -> tuple[dict[str, str], list]:
    """Map the frame's columns to the history table's, adding the new ones.

    A column the workspace does not have yet is added with the type of its
    values. One it has, with values of a type the column cannot hold without
    loss (text in a number column), goes to ``<name>_<type>``. Names are compared
    without regard to case.
    """
    canonical = model.canonical_columns(kind)
    columns = session.all_columns(kind)
    by_lower = {c.lower(): c for c in columns}
    mapping: dict[str, str] = {}
    notes = []
    for column in frame.columns:
        if column == frame.geometry.name:
            continue
        name = str(column)
        if name in canonical:
            if name not in columns:
                # A column minemap came to know after the workspace was made (area_ha).
                session.add_column(kind, name, canonical[name])
                columns[name] = canonical[name]
                by_lower[name.lower()] = name
            mapping[column] = name
            continue
        wanted = model.sql_type(frame[column])
        target = by_lower.get(name.lower())
        if name.lower() in model.RESERVED or target in mapping.values():
            target = None
            name = model.free_name(name, columns)
            notes.append(f"column {column!r} is stored as {name!r} (the name is taken)")
        elif target is not None and not model.fits(columns[target], wanted):
            alternative = f"{name}_{wanted.lower()}"
            notes.append(
                f"column {column!r} holds {wanted.lower()} values where the workspace's "
                f"{target!r} holds {columns[target].lower()}: they are stored as {alternative!r}"
            )
            name = alternative
            target = by_lower.get(name.lower())
            if target is not None and not model.fits(columns[target], wanted):
                target = None
                name = model.free_name(name, columns)
        if target is None:
            session.add_column(kind, name, wanted)
            columns[name] = wanted
            by_lower[name.lower()] = name
            target = name
        mapping[column] = target
    return mapping, notes


@dataclasses.dataclass
class Plan:
    """What an import writes into a layer's history: the new versions (geometries and rows
    of canonical values of ``columns``), the versions they supersede, and counts."""

    columns: list[str]
    geoms: np.ndarray
    rows: list[tuple]
    replaced: list[int]
    new: int
    unchanged: int
    notes: list[str]


def plan_versions(
    session, held: readers.Versions, now: np.ndarray, kept: gpd.GeoDataFrame, source: str
) -> Plan:
    """Compare the kept features with the current versions from the same source (adding
    the columns the workspace lacks): a record is unchanged when its geometry (as WKB) and
    every value (in canonical form) are those of its current version."""
    if not len(kept):
        return Plan([], np.zeros(0, dtype=object), [], [], 0, 0, [])
    kind = held.kind
    mapping, notes = ensure_columns(session, kind, kept)
    data = session.columns(kind)
    origin = {target: column for column, target in mapping.items()}
    values = [
        model.to_sql(kept[origin[c]], t) if c in origin else [None] * len(kept)
        for c, t in data.items()
    ]
    geoms = kept.geometry.to_numpy()
    if model.GEOMETRY_TYPES[kind] == "MULTIPOLYGON":
        geoms = model.promote(geoms)
    rows = list(zip(*values, strict=True)) if values else [()] * len(kept)
    wkbs = model.to_wkb(geoms)
    key = list(data).index(s.ID_COLUMN[kind])
    mine = now[held.source[now] == source]
    stored = {held.ids[i]: i for i in mine}
    stored_wkb = dict(zip(mine, model.to_wkb(held.geoms[mine]), strict=True))
    columns = list(data)
    inserts, replaced = [], []
    unchanged = 0
    for position, (row, wkb) in enumerate(zip(rows, wkbs, strict=True)):
        at = stored.get(row[key])
        if at is None:
            inserts.append(position)
            continue
        before = tuple(held.data[c][1][at] if c in held.data else None for c in columns)
        if stored_wkb[at] == wkb and before == row:
            unchanged += 1
        else:
            replaced.append(int(held.fid[at]))
            inserts.append(position)
    return Plan(
        columns,
        geoms[inserts],
        [rows[i] for i in inserts],
        replaced,
        len(inserts) - len(replaced),
        unchanged,
        notes,
    )


def write_versions(session, kind: str, plan: Plan, import_id: int, source: str) -> None:
    """Store the planned versions; mark the ones they supersede (where the backend keeps it)."""
    if not plan.rows:
        return
    session.mark_superseded(kind, plan.replaced, import_id)
    session.insert_versions(kind, plan.columns, plan.geoms, plan.rows, import_id, source)


def write_rejects(
    session, kind: str, rejected: gpd.GeoDataFrame, import_id: int, source: str
) -> None:
    """Store the rejected features with their reasons and every attribute as read."""
    if not len(rejected):
        return
    id_col = s.ID_COLUMN[kind]
    if isinstance(rejected, gpd.GeoDataFrame):  # what GeoPackage readers may read: valid
        rejected = mio.with_valid_geometry(rejected)
    geometry = rejected.geometry.name if isinstance(rejected, gpd.GeoDataFrame) else None
    skip = {geometry, mio.SOURCE_FILE, mio.SOURCE_ROW, mio.PROBLEM}
    attributes = [c for c in rejected.columns if c not in skip]
    geoms = (
        rejected.geometry.to_numpy()
        if geometry is not None
        else np.full(len(rejected), None, dtype=object)
    )
    rows = []
    for _, feature in rejected.iterrows():
        values = {str(c): model.json_value(feature[c]) for c in attributes}
        feature_id = values.get(id_col)
        rows.append(
            (
                import_id,
                kind,
                int(feature[mio.SOURCE_ROW]) if pd.notna(feature[mio.SOURCE_ROW]) else None,
                None if feature_id is None else str(feature_id),
                str(feature[mio.PROBLEM]),
                json.dumps(values, ensure_ascii=False, allow_nan=False),
            )
        )
    session.insert_rejects(geoms, rows, source)


__all__ = ["REJECTED", "add"]
