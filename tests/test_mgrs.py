"""MGRS <-> UTM <-> longitude/latitude (minemap.mgrs)."""

from __future__ import annotations

import math

import pyproj
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from minemap import mgrs
from minemap.errors import MinemapError

#: (MGRS, latitude, longitude of the centre of its 1 m square) computed with NGA's
#: GeoTrans (through the `mgrs` package, not a minemap dependency): both hemispheres,
#: the Norway (32V) and Svalbard (33X) zones, the equator, the antimeridian, Aghdam.
GEOTRANS = [
    ("38SPK5483422803", 39.94120075150879, 46.81229904461405),
    ("51EXR2302981522", -57.891134034617956, 125.07529618320207),
    ("16TDR0769306538", 45.206285737953635, -88.17540072022402),
    ("27NZB1344038581", 1.2522642054973727, -18.183662311868716),
    ("32VLM0483856575", 59.9999966260567, 5.499994483963247),
    ("33XWG1369680760", 78.20000404423855, 15.59998069034768),
    ("56HLH3490052288", -33.85680226882268, 151.21529919995467),
    ("30UXC9956709427", 51.50069945265316, -0.12460060440559415),
    ("31NAA6603200011", 0.00010390056630861623, 9.922864768848709e-05),
    ("01MBV2173444681", -0.500004158943725, -179.4999975029038),
]

_GEOD = pyproj.Geod(ellps="WGS84")


def _metres(lat1, lon1, lat2, lon2) -> float:
    return _GEOD.inv(lon1, lat1, lon2, lat2)[2]


@pytest.mark.parametrize(("reference", "lat", "lon"), GEOTRANS)
def test_mgrs_to_latlon_matches_geotrans(reference, lat, lon):
    zone, hemisphere, easting, northing = mgrs.mgrs_to_utm(reference)
    # GeoTrans gives the centre of the 1 m square, minemap its south-west corner.
    got = mgrs.utm_to_latlon(zone, hemisphere, easting + 0.5, northing + 0.5)
    assert _metres(*got, lat, lon) < 0.001


@pytest.mark.parametrize(("reference", "lat", "lon"), GEOTRANS)
def test_latlon_to_mgrs_matches_geotrans(reference, lat, lon):
    assert mgrs.latlon_to_mgrs(lat, lon) == reference


def test_published_examples():
    # The `mgrs` package's README example: 42°N 93°W is on zone 15's central meridian.
    assert mgrs.latlon_to_mgrs(42.0, -93.0) == "15TWG0000049776"
    assert mgrs.mgrs_to_utm("15TWG0000049776") == (15, "N", 500000.0, 4649776.0)
    # Lower precisions name bigger squares: 10 m, 1 km, 100 km.
    assert mgrs.latlon_to_mgrs(42.0, -93.0, precision=4) == "15TWG00004977"
    assert mgrs.latlon_to_mgrs(42.0, -93.0, precision=2) == "15TWG0049"
    assert mgrs.latlon_to_mgrs(42.0, -93.0, precision=0) == "15TWG"
    assert mgrs.mgrs_to_utm("15TWG0049") == (15, "N", 500000.0, 4649000.0)


def test_aghdam_against_pyproj_utm():
    lat, lon = 39.9412, 46.8123
    easting, northing = pyproj.Transformer.from_crs(
        "EPSG:4326", "EPSG:32638", always_xy=True
    ).transform(lon, lat)
    assert mgrs.latlon_to_utm(lat, lon) == pytest.approx((38, "N", easting, northing))
    # 38S = zone 38, 32-40°N; P = 7th column of zone 38's set (J..R): 600-700 km east.
    reference = mgrs.latlon_to_mgrs(lat, lon)
    assert reference == f"38SPK{int(easting) % 100000:05d}{int(northing) % 100000:05d}"
    assert mgrs.mgrs_to_utm(reference) == (38, "N", math.floor(easting), math.floor(northing))


def test_spaces_and_case_do_not_matter():
    assert mgrs.mgrs_to_utm("38s pk 54834 22803") == mgrs.mgrs_to_utm("38SPK5483422803")
    assert mgrs.mgrs_to_utm("8SPK5483422803") != mgrs.mgrs_to_utm("38SPK5483422803")


def test_zone_exceptions():
    assert mgrs.utm_zone_for(5.0, 60.0) == 32  # Norway
    assert mgrs.utm_zone_for(5.0, 50.0) == 31
    assert [mgrs.utm_zone_for(lon, 78.0) for lon in (5, 15, 25, 40)] == [31, 33, 35, 37]
    assert mgrs.utm_zone_for(180.0, 0.0) == 1
    assert mgrs.utm_zone_for(46.9, 40.0) == 38


@settings(max_examples=150, deadline=None)
@given(
    lat=st.floats(min_value=-79.99, max_value=83.99),
    lon=st.floats(min_value=-179.999, max_value=179.999),
)
def test_round_trip_latlon_mgrs(lat, lon):
    # Within a nanometre of the equator, hemisphere N and S name the same place.
    assume(abs(lat) > 1e-9)
    reference = mgrs.latlon_to_mgrs(lat, lon)
    zone, hemisphere, easting, northing = mgrs.mgrs_to_utm(reference)
    own = mgrs.latlon_to_utm(lat, lon)
    assert (zone, hemisphere) == own[:2]
    # Truncated to the metre: the corner is 0 to 1 m west and south of the point.
    assert -1e-6 <= own[2] - easting < 1.0 + 1e-6
    assert -1e-6 <= own[3] - northing < 1.0 + 1e-6
    again = mgrs.utm_to_mgrs(zone, hemisphere, easting, northing)
    back = mgrs.utm_to_latlon(zone, hemisphere, easting, northing)
    assert _metres(*back, lat, lon) < 1.5
    # The corner of a square on a band's southern edge may lie in the band below.
    assert again[:2] + again[3:] == reference[:2] + reference[3:]
    assert again[2] == reference[2] or abs(back[0] - round(back[0] / 8) * 8) < 1e-4


@settings(max_examples=100, deadline=None)
@given(
    zone=st.integers(min_value=1, max_value=60),
    lat=st.floats(min_value=-79.5, max_value=83.5),
    offset=st.floats(min_value=-2.9, max_value=2.9),
)
def test_round_trip_utm_mgrs(zone, lat, offset):
    # On the equator itself 0 m north and 10,000,000 m south are the same place.
    assume(abs(lat) > 1e-6)
    lon = -183.0 + 6.0 * zone + offset  # inside the zone, whatever the exceptions say
    _, hemisphere, easting, northing = mgrs.latlon_to_utm(lat, lon, zone=zone)
    easting, northing = math.floor(easting), math.floor(northing)
    reference = mgrs.utm_to_mgrs(zone, hemisphere, easting, northing)
    assert mgrs.mgrs_to_utm(reference) == (zone, hemisphere, float(easting), float(northing))


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ("", "malformed"),
        ("38SPK548342280", "even number"),
        ("38SPK548342280312", "at most 10"),
        ("38IPK5483422803", "malformed"),  # no band I
        ("61SPK5483422803", "zone 61"),
        ("38SAK5483422803", "column letter A is not used in zone 38"),
        ("38CPK5483422803", "does not lie in latitude band C"),
        ("38SPZ5483422803", "malformed"),  # rows stop at V
        (38, "not text"),
    ],
)
def test_bad_references(reference, message):
    with pytest.raises(mgrs.MGRSError, match=message) as info:
        mgrs.mgrs_to_utm(reference)
    assert isinstance(info.value, MinemapError)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: mgrs.latlon_to_mgrs(85.0, 0.0), "UPS grid is not supported"),
        (lambda: mgrs.latlon_to_mgrs(-81.0, 0.0), "UPS grid is not supported"),
        (lambda: mgrs.utm_to_latlon(61, "N", 500000, 0), "1 to 60"),
        (lambda: mgrs.utm_to_latlon(38, "X", 500000, 0), "neither N"),
        (lambda: mgrs.utm_to_latlon(38, "N", -5, 0), "outside zone 38N"),
        (lambda: mgrs.utm_to_latlon(38.5, "N", 500000, 0), "whole number"),
        (lambda: mgrs.utm_to_mgrs(38, "N", 50000, 4400000), "100 km columns"),
        (lambda: mgrs.utm_to_mgrs(38, "N", 550000, 4400000, precision=6), "precision"),
    ],
)
def test_bad_utm(call, message):
    with pytest.raises(mgrs.MGRSError, match=message):
        call()
