"""Reading a workspace: the records current or as known on a day, the history, the log
and the rejects, from what a backend gives (the same for every kind of workspace).

A backend's read session gives the log and every version of a layer's records
(:class:`Versions`); which versions are current is decided here, once:

- the imports counted are those accepted (and, to preview, the pending ones), made
  up to the last import known (``upto``, from ``known_on``);
- a record is its id and the source of its import; its current version is the last
  one an import counted brought;
- records keep the order in which they were first added;
- a version is superseded by the next version of its record that a manager did not
  reject.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable

import geopandas as gpd
import numpy as np
import pandas as pd

from minemap import io as mio
from minemap import schema as s
from minemap.workspace import model
from minemap.workspace.model import ACCEPTED, PENDING, REJECTED


@dataclasses.dataclass
class Versions:
    """Every version of a layer's records, in the order they were written (``fid``).

    ``data`` maps each of the layer's own columns to (type, canonical values);
    ``geoms`` holds the geometries (decoded and checked by the backend).
    """

    kind: str
    fid: np.ndarray
    import_id: np.ndarray
    source: np.ndarray
    data: dict[str, tuple[str, list]]
    geoms: np.ndarray

    def __len__(self) -> int:
        return len(self.fid)

    @property
    def ids(self) -> np.ndarray:
        return np.asarray(self.data[s.ID_COLUMN[self.kind]][1], dtype=object)


def statuses(log: pd.DataFrame) -> dict[int, str]:
    """Each import's status (a log without the column, or a null: accepted)."""
    if s.IMPORT_STATUS not in log.columns:
        return dict.fromkeys(log[s.IMPORT_ID].astype(int), ACCEPTED)
    return {
        int(i): (v if isinstance(v, str) else ACCEPTED)
        for i, v in zip(log[s.IMPORT_ID], log[s.IMPORT_STATUS], strict=True)
    }


def counted_imports(log: pd.DataFrame, upto: int | None, *, include_pending: bool) -> np.ndarray:
    """The ids of the imports whose records count: accepted (or pending too), up to ``upto``."""
    wanted = {ACCEPTED, PENDING} if include_pending else {ACCEPTED}
    return np.array(
        sorted(
            i
            for i, status in statuses(log).items()
            if status in wanted and (upto is None or i <= upto)
        ),
        dtype=np.int64,
    )


def last_import(log: pd.DataFrame, cutoff: str | None) -> int:
    """The last import made before ``cutoff`` (0 when none; every import when no cutoff)."""
    if cutoff is not None:
        log = log[log[s.IMPORTED_AT] < cutoff]
    return int(log[s.IMPORT_ID].max()) if len(log) else 0


def _keys(versions: Versions) -> pd.DataFrame:
    return pd.DataFrame({"id": versions.ids, "source": versions.source})


def current(versions: Versions, counted: np.ndarray) -> np.ndarray:
    """Positions of the current versions (the last each record's counted imports brought),
    records in the order they were first added."""
    if not len(versions):
        return np.zeros(0, dtype=np.int64)
    keys = _keys(versions)
    first = (
        pd.Series(versions.fid)
        .groupby([keys["id"], keys["source"]], sort=False, dropna=False)
        .transform("min")
        .to_numpy()
    )
    chosen = np.flatnonzero(np.isin(versions.import_id, counted))
    last = ~keys.iloc[chosen].duplicated(keep="last").to_numpy()
    chosen = chosen[last]
    return chosen[np.lexsort((versions.fid[chosen], first[chosen]))]


def superseded_by(versions: Versions, log: pd.DataFrame) -> pd.Series:
    """For each version, the import of the next version of its record a manager did not
    reject (missing while there is none)."""
    refused = [i for i, status in statuses(log).items() if status == REJECTED]
    chain = ~np.isin(versions.import_id, refused)
    keys = _keys(versions)
    marks = pd.Series(np.where(chain, versions.import_id, np.nan))
    groups = [keys["id"], keys["source"]]
    following = marks.groupby(groups, sort=False, dropna=False).shift(-1)
    following = following.groupby(groups, sort=False, dropna=False).bfill()
    return following.astype("Int64")


def frame(versions: Versions, chosen: np.ndarray) -> gpd.GeoDataFrame:
    """The chosen versions as the readers give a layer (canonical columns and types)."""
    kind = versions.kind
    columns = {
        c: model.from_sql(np.asarray(values, dtype=object)[chosen], t, c, kind)
        for c, (t, values) in versions.data.items()
    }
    return gpd.GeoDataFrame(
        pd.DataFrame(columns, index=pd.RangeIndex(len(chosen))),
        geometry=gpd.GeoSeries(versions.geoms[chosen], crs=s.CANONICAL_CRS),
        crs=s.CANONICAL_CRS,
    )


def layers(
    session, kinds: Iterable[str], *, upto: int | None, include_pending: bool = False
) -> dict[str, gpd.GeoDataFrame]:
    """Records of each kind known after import ``upto`` (every import for None)."""
    log = session.log()
    last = upto if upto is not None else last_import(log, None)
    counted = counted_imports(log, upto, include_pending=include_pending)
    out = {}
    for kind in kinds:
        versions = session.versions(kind)
        layer = frame(versions, current(versions, counted))
        required = {s.GEOMETRY, *s.REQUIRED[kind]}
        empty = [c for c in layer.columns if c not in required and layer[c].isna().all()]
        layer = layer.drop(columns=empty)
        layer.attrs["import_id"] = last
        out[kind] = layer
    return out


def history(session, kind: str) -> gpd.GeoDataFrame:
    """Every version of every record of a layer, with its bookkeeping (see read_history)."""
    versions = session.versions(kind)
    log = session.log()
    layer = frame(versions, np.arange(len(versions)))
    layer[s.IMPORT_ID] = pd.Series(versions.import_id, dtype="Int64")
    layer[s.SUPERSEDED_BY] = superseded_by(versions, log).to_numpy()
    layer[s.IMPORT_SOURCE] = pd.Series(versions.source, dtype=object).astype("string")
    when = {
        int(k): pd.Timestamp(v) for k, v in zip(log[s.IMPORT_ID], log[s.IMPORTED_AT], strict=True)
    }
    layer.insert(
        layer.columns.get_loc(s.IMPORT_ID) + 1,
        s.IMPORTED_AT,
        pd.to_datetime(layer[s.IMPORT_ID].map(when), utc=True),
    )
    layer.insert(
        layer.columns.get_loc(s.SUPERSEDED_BY) + 1,
        s.SUPERSEDED_AT,
        pd.to_datetime(layer[s.SUPERSEDED_BY].map(when), utc=True),
    )
    return layer


def imports(log: pd.DataFrame) -> pd.DataFrame:
    """The log as :func:`minemap.workspace.read_imports` gives it."""
    table = log.copy()
    for column in s.REVIEW_COLUMNS:
        if column not in table.columns:
            table[column] = None
    table = table[[*s.IMPORT_COLUMNS, *s.REVIEW_COLUMNS]].reset_index(drop=True)
    table[s.IMPORTED_AT] = pd.to_datetime(table[s.IMPORTED_AT], format="ISO8601", utc=True)
    for column in (s.IMPORT_STATUS, s.IMPORTED_BY, s.REVIEWED_BY, s.REVIEW_REASON):
        table[column] = pd.Series(
            [v if isinstance(v, str) else None for v in table[column]], dtype=object
        )
    table[s.IMPORT_STATUS] = table[s.IMPORT_STATUS].fillna(ACCEPTED)
    table[s.REVIEWED_AT] = pd.to_datetime(table[s.REVIEWED_AT], format="ISO8601", utc=True)
    counts = [s.IMPORT_ID, s.READ, s.KEPT, s.REJECTED, s.NEW, s.SUPERSEDED, s.UNCHANGED]
    for column in [*counts, s.WARNINGS]:
        table[column] = table[column].astype("int64")
    return table


def rejects(
    rows: pd.DataFrame, geoms: np.ndarray, log: pd.DataFrame, *, import_id: int | None
) -> gpd.GeoDataFrame:
    """The rejected features, with their reasons, as read (see read_rejects).

    ``rows`` holds ``import_id``, ``layer``, ``source_row``, ``feature_id``,
    ``problem`` and ``attributes`` (the feature's values as JSON text), in order.
    """
    files = dict(zip(log[s.IMPORT_ID].astype(int), log[s.FILE], strict=True))
    ids = rows[s.IMPORT_ID].to_numpy()
    chosen = np.flatnonzero(ids == import_id) if import_id is not None else np.arange(len(rows))
    base = [s.IMPORT_ID, s.LAYER, s.FILE, mio.SOURCE_ROW, s.FEATURE_ID, mio.PROBLEM]
    records = []
    for i in chosen:
        row = rows.iloc[i]
        record = {c: files.get(int(row[s.IMPORT_ID])) if c == s.FILE else row[c] for c in base}
        for name, value in json.loads(row[s.ATTRIBUTES]).items():
            record[name if name not in record else model.free_name(name, record)] = value
        records.append(record)
    table = pd.DataFrame.from_records(records, columns=None if records else base)
    for column in (s.IMPORT_ID, mio.SOURCE_ROW):
        table[column] = table[column].astype("Int64")
    return gpd.GeoDataFrame(
        table, geometry=gpd.GeoSeries(np.asarray(geoms, dtype=object)[chosen], crs=s.CANONICAL_CRS)
    )
