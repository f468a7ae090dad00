"""Garbage in, minemap's own errors out: the readers never let another exception escape."""

from __future__ import annotations

import json
import os
import tempfile
import warnings
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from minemap import io as mio
from minemap import records
from minemap import schema as s
from minemap.bulletins import read_reports
from minemap.errors import MinemapError
from tests.common import examples

SETTINGS = settings(
    max_examples=int(os.environ.get("MINEMAP_FUZZ_EXAMPLES", examples(60))),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
SUFFIXES = [".geojson", ".gpkg", ".shp", ".zip", ".kml", ".kmz", ".fgb", ".parquet", ".csv", ".bin"]
KINDS = ["hazards", "releases", "items", "districts"]


def _load(path: Path, kind: str) -> None:
    """Read and check; only MinemapError may escape, and every feature is accounted for."""
    try:
        loaded = mio.load_layers([path], kind, crs="EPSG:4326")
    except MinemapError as exc:
        message = str(exc)
    else:
        assert loaded.read == len(loaded.kept) + len(loaded.rejected)
        return
    assert str(path) in message or "column" in message


@SETTINGS
@given(content=st.binary(min_size=1, max_size=2048), suffix=st.sampled_from(SUFFIXES))
def test_random_bytes(content, suffix):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"f{suffix}"
        path.write_bytes(content)
        _load(path, "hazards")


@SETTINGS
@given(content=st.binary(max_size=512), keep=st.integers(min_value=1, max_value=400))
def test_truncated_and_spliced_geojson(content, keep):
    good = json.dumps(
        {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "properties": {"hazard_id": "A", "mines_ap": 1, "mines_at": 0},
                    "geometry": shapely.geometry.mapping(shapely.box(46.9, 39.98, 46.91, 39.99)),
                }
            ],
        }
    ).encode()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "h.geojson"
        path.write_bytes(good[:keep] + content)
        _load(path, "hazards")


_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**12), 10**12)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=12,
)
_NUMBER = st.floats(-400, 400, allow_nan=False) | st.integers(-400, 400)
_POSITION = st.lists(_NUMBER, min_size=0, max_size=4)
_RING = st.lists(_POSITION, min_size=0, max_size=7)
_GEOMETRY = st.one_of(
    st.none(),
    st.fixed_dictionaries({"type": st.just("Polygon"), "coordinates": st.lists(_RING, max_size=3)}),
    st.fixed_dictionaries({"type": st.just("Point"), "coordinates": _POSITION}),
    st.fixed_dictionaries(
        {
            "type": st.just("MultiPolygon"),
            "coordinates": st.lists(st.lists(_RING, max_size=2), max_size=2),
        }
    ),
    st.fixed_dictionaries(
        {"type": st.sampled_from(["Polygon", "Circle", ""]), "coordinates": _JSON}
    ),
    _JSON,
)
_VALUE = st.one_of(
    st.none(),
    st.integers(-(10**15), 10**15),
    st.floats(allow_nan=False),
    st.text(max_size=12),
    st.sampled_from(["2022-07-18", "2999-01-01", "18/07/2022", "cleared", "Agdam", " A ", "AZ-XA"]),
    st.sampled_from(["2022-07-18T02:00:00+04:00", "2022-07-18T23:30Z", "2022-07", "44760"]),
)
_PROPERTIES = st.dictionaries(
    st.sampled_from(
        [
            *("hazard_id", "id", "AP", "mines_at", "release_id", "released_on", "method"),
            *("district", "item_id", "found_on", "item_type", "source", "status", "x"),
        ]
    ),
    _VALUE,
    max_size=8,
)
_FEATURE = st.fixed_dictionaries(
    {"type": st.just("Feature"), "properties": _PROPERTIES | _JSON, "geometry": _GEOMETRY}
)


@SETTINGS
@given(features=st.lists(_FEATURE, max_size=6), kind=st.sampled_from(KINDS))
def test_mutated_geojson_features(features, kind):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "f.geojson"
        path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
        _load(path, kind)


@SETTINGS
@given(
    rows=st.lists(
        st.tuples(st.text(max_size=10), st.text(max_size=40), _NUMBER, _NUMBER), max_size=6
    ),
    kind=st.sampled_from(KINDS),
)
def test_mutated_csv(rows, kind):
    lines = ["id,AP,AT,wkt,lon,lat"]
    for text, wkt, x, y in rows:
        cells = [text, text, "1", wkt, str(x), str(y)]
        lines.append(",".join('"' + c.replace('"', '""') + '"' for c in cells))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "f.csv"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        _load(path, kind)


@SETTINGS
@given(
    name=st.text(max_size=12),
    encoding=st.sampled_from(["UTF-8", "CP1251", "1251", "ANSI 1254", "LATIN1", "", "FOO"]),
    flips=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=8),
)
def test_mutated_shapefiles(name, encoding, flips):
    frame = gpd.GeoDataFrame(
        {"district": [name, "Ağdam"]},
        geometry=[shapely.box(46.9, 39.98, 46.91, 39.99), shapely.box(46.92, 39.98, 46.93, 39.99)],
        crs="EPSG:4326",
    )
    with tempfile.TemporaryDirectory() as tmp:
        shp = Path(tmp) / "d.shp"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            pyogrio.write_dataframe(frame, shp, encoding="UTF-8")
        shp.with_suffix(".cpg").write_text(encoding)
        for part, (offset, value) in zip([".dbf", ".shp", ".dbf", ".shx"] * 2, flips, strict=False):
            data = bytearray(shp.with_suffix(part).read_bytes())
            data[offset % len(data)] = value
            shp.with_suffix(part).write_bytes(bytes(data))
        _load(shp, "districts")


# --- bulletins and minefield records: the other readers ---------------------------------

_PRESS = st.one_of(
    st.text(max_size=16),
    st.sampled_from(
        ["2.790,9", "1 395 186 m²", "453,900", "about 41,915", "over 68,900 ha", "1,126", "-5"]
    ),
    st.floats(allow_nan=True).map(str),
)
_DAY = st.one_of(st.text(max_size=12), st.dates().map(str), st.just(""))


@SETTINGS
@given(content=st.binary(max_size=1024))
def test_random_bytes_as_bulletins(content):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bulletins.csv"
        path.write_bytes(content)
        try:
            read_reports(path)
            message = "bulletins.csv"
        except MinemapError as exc:
            message = str(exc)
    assert "bulletins.csv" in message  # errors name the file


@SETTINGS
@given(
    rows=st.lists(st.tuples(_DAY, _DAY, _PRESS, _PRESS), max_size=6),
    sep=st.sampled_from([",", ";", "\t"]),
)
def test_mutated_bulletins_never_lose_a_figure_silently(rows, sep):
    lines = [sep.join(["period_start", "period_end", "ap_mines", "hectares_as_printed"])]
    lines += [sep.join('"' + c.replace('"', '""') + '"' for c in cells) for cells in rows]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bulletins.csv"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        try:
            table = read_reports(path)
        except MinemapError:
            return
    assert len(table) == len(rows)  # one row out per row in
    for (_, _, _, area), (_, row) in zip(rows, table.iterrows(), strict=True):
        if area.strip() and pd.isna(row[s.AREA_HA]):
            assert row["problem"], area  # a figure not taken always says why
        if pd.notna(row[s.AREA_HA]):
            assert row[s.AREA_HA] >= 0


_POINT_FIELDS = st.dictionaries(
    st.sampled_from(
        [
            *("id", "role", "frompoint", "bearing", "distance_m", "lat", "lon", "mgrs"),
            *("utm_zone", "hemisphere", "easting", "northing", "closes", "row", "mines_ap"),
        ]
    ),
    _VALUE,
    max_size=6,
)
_RECORD = st.fixed_dictionaries(
    {"record_id": _VALUE, "north": _VALUE, "points": st.lists(_POINT_FIELDS, max_size=6)},
    optional={
        "bearing_unit": st.sampled_from(["degrees", "mils", "grad", ""]) | _VALUE,
        "mils_per_circle": _VALUE,
        "declination_deg": _VALUE,
        "mines": _JSON,
        "laid_on": _VALUE,
    },
)


@SETTINGS
@given(record=_RECORD | _JSON, suffix=st.sampled_from([".json", ".csv"]))
def test_mutated_minefield_records(record, suffix):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"record{suffix}"
        path.write_text(json.dumps(record), encoding="utf-8")
        try:
            result = records.traverse(records.read_record(path))
        except MinemapError as exc:
            message = str(exc)
        else:
            assert result.perimeter.geometry.iloc[0].is_valid
            return
    assert str(path) in message  # errors name the file
