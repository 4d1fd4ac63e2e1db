"""Pure unit tests of hubchat.directory.geo: great-circle distances and the search window."""

from __future__ import annotations

import math
import random

import pytest

from hubchat.directory.geo import EARTH_RADIUS_KM, bounding_box, haversine_km
from hubchat.directory.points import nearest_place

AIZAWL = (23.7271, 92.7176)
DELHI = (28.6139, 77.2090)
LONDON = (51.5074, -0.1278)
PARIS = (48.8566, 2.3522)


@pytest.mark.parametrize(("a", "b", "expected_km", "tolerance_km"), [
    # Aizawl-Delhi great circle is about 1,639 km (≈1,510 km is not the straight-line distance).
    (AIZAWL, DELHI, 1639.0, 10.0),
    (LONDON, PARIS, 344.0, 3.0),
    ((0.0, 0.0), (0.0, 90.0), math.pi * EARTH_RADIUS_KM / 2, 0.001),
    ((90.0, 0.0), (-90.0, 0.0), math.pi * EARTH_RADIUS_KM, 0.001),
    ((0.0, 179.5), (0.0, -179.5), 111.2, 0.2),  # across the antimeridian
])
def test_haversine_known_distances(a: tuple[float, float], b: tuple[float, float],
                                   expected_km: float, tolerance_km: float) -> None:
    assert haversine_km(*a, *b) == pytest.approx(expected_km, abs=tolerance_km)
    assert haversine_km(*b, *a) == pytest.approx(haversine_km(*a, *b))


def test_haversine_same_point_is_zero() -> None:
    assert haversine_km(*AIZAWL, *AIZAWL) == 0.0


def test_antipodes_do_not_overflow_asin() -> None:
    assert haversine_km(10.0, 20.0, -10.0, -160.0) == pytest.approx(math.pi * EARTH_RADIUS_KM)


def test_box_in_the_middle_of_a_map() -> None:
    box = bounding_box(*DELHI, 50)
    dlat = 50 / EARTH_RADIUS_KM * 180 / math.pi
    assert box.lat_min == pytest.approx(DELHI[0] - dlat)
    assert box.lat_max == pytest.approx(DELHI[0] + dlat)
    assert len(box.lon_ranges) == 1
    low, high = box.lon_ranges[0]
    assert low < DELHI[1] < high
    # Longitude degrees are shorter away from the equator: the window is wider than it is tall.
    assert high - low > box.lat_max - box.lat_min
    assert box.contains(*DELHI)
    assert not box.contains(12.9716, 77.5946)  # Bengaluru


def test_box_across_the_antimeridian_splits_in_two() -> None:
    box = bounding_box(-17.7, 179.9, 100)  # Fiji
    assert len(box.lon_ranges) == 2
    (east_low, east_high), (west_low, west_high) = box.lon_ranges
    assert east_high == 180.0 and west_low == -180.0
    assert east_low < 179.9 and west_high > -180.0
    assert box.contains(-17.7, -179.8)  # 22 km east, over the line
    assert box.contains(-17.7, 179.5)
    assert not box.contains(-17.7, 0.0)
    west = bounding_box(-17.7, -179.9, 100)
    assert west.contains(-17.7, 179.8)


def test_box_longitude_180_is_the_same_meridian_as_minus_180() -> None:
    assert bounding_box(0.0, 180.0, 10).contains(0.0, -179.95)
    assert bounding_box(0.0, -180.0, 10).contains(0.0, 180.0)


@pytest.mark.parametrize("lat", [89.9, -89.9])
def test_box_reaching_a_pole_takes_every_longitude(lat: float) -> None:
    box = bounding_box(lat, 10.0, 50)
    assert box.all_longitudes
    assert box.lat_min >= -90.0 and box.lat_max <= 90.0
    assert box.contains(lat, -170.0)  # on the other side of the pole, ~22 km away


def test_box_near_but_short_of_a_pole_stays_narrow() -> None:
    box = bounding_box(80.0, 10.0, 50)
    assert not box.all_longitudes
    assert box.lat_max < 90.0


def test_huge_radius_covers_the_world() -> None:
    box = bounding_box(0.0, 0.0, 20_000)
    assert box.all_longitudes
    assert (box.lat_min, box.lat_max) == (-90.0, 90.0)


def test_zero_radius_and_negative_radius() -> None:
    assert bounding_box(*DELHI, 0).contains(*DELHI)
    with pytest.raises(ValueError):
        bounding_box(*DELHI, -1)


def _destination(lat: float, lon: float, bearing_deg: float, distance_km: float) -> tuple[float, float]:
    """The point ``distance_km`` from (lat, lon) along ``bearing_deg`` (spherical Earth)."""
    d = distance_km / EARTH_RADIUS_KM
    phi1, lambda1, theta = math.radians(lat), math.radians(lon), math.radians(bearing_deg)
    phi2 = math.asin(math.sin(phi1) * math.cos(d) + math.cos(phi1) * math.sin(d) * math.cos(theta))
    lambda2 = lambda1 + math.atan2(math.sin(theta) * math.sin(d) * math.cos(phi1),
                                   math.cos(d) - math.sin(phi1) * math.sin(phi2))
    return math.degrees(phi2), (math.degrees(lambda2) + 540.0) % 360.0 - 180.0


def test_every_point_within_the_radius_is_inside_the_box() -> None:
    rng = random.Random(27017)
    for _ in range(5000):
        lat, lon = rng.uniform(-90, 90), rng.uniform(-180, 180)
        radius = rng.choice([1.0, 50.0, 500.0, 3000.0, 9000.0])
        other = _destination(lat, lon, rng.uniform(0, 360), radius * rng.uniform(0.0, 0.999))
        assert bounding_box(lat, lon, radius).contains(*other), (lat, lon, radius, other)


def test_points_just_beyond_the_radius_are_mostly_outside_the_box_away_from_poles() -> None:
    box = bounding_box(*DELHI, 50)
    for bearing in (0, 90, 180, 270):
        assert not box.contains(*_destination(*DELHI, bearing, 52))


def test_nearest_place_picks_the_closest() -> None:
    places = [{"id": "far", "lat": 12.9716, "lon": 77.5946}, {"id": "near", "lat": 28.4595, "lon": 77.0266}]
    found = nearest_place(places, *DELHI)
    assert found is not None
    assert found[0]["id"] == "near"
    assert found[1] == pytest.approx(24.7, abs=0.1)
    assert nearest_place([], *DELHI) is None
