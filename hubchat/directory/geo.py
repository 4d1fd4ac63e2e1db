"""Distances on the Earth and the search window around a point: pure functions, no I/O.

Proximity search runs in the application because the storage backends offer no geospatial
operators: the store narrows candidates to a latitude band (and longitude ranges), then the exact
great-circle distance decides.  The window is the smallest latitude/longitude box that contains
every point within the radius (J. P. Matuschek, "Finding points within a distance of a
latitude/longitude using bounding coordinates"), split in two where it crosses the antimeridian,
and widened to every longitude when it reaches a pole.
"""

from __future__ import annotations

import dataclasses
import math

EARTH_RADIUS_KM = 6371.0088  # mean Earth radius (IUGG)
MAX_LAT_DEG = 90.0
MAX_LON_DEG = 180.0
# Widens the window by a hair so that a point exactly on the radius is not lost to rounding.
_MARGIN_DEG = 1e-9

LonRange = tuple[float, float]


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km between two points given in degrees."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlambda = math.radians(lon2 - lon1)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


@dataclasses.dataclass(frozen=True)
class BoundingBox:
    """Every point within the radius has ``lat_min <= lat <= lat_max`` and a longitude in one of
    ``lon_ranges`` (one range, two across the antimeridian, or (-180, 180) around a pole)."""

    lat_min: float
    lat_max: float
    lon_ranges: tuple[LonRange, ...]

    @property
    def all_longitudes(self) -> bool:
        return self.lon_ranges == ((-MAX_LON_DEG, MAX_LON_DEG),)

    def contains(self, lat: float, lon: float) -> bool:
        if not self.lat_min <= lat <= self.lat_max:
            return False
        return any(low <= lon <= high for low, high in self.lon_ranges)


def bounding_box(lat: float, lon: float, radius_km: float) -> BoundingBox:
    """The search window around (lat, lon) for ``radius_km`` (degrees; radius must be >= 0)."""
    if radius_km < 0:
        raise ValueError("radius_km must not be negative")
    angular = radius_km / EARTH_RADIUS_KM  # radians of arc
    dlat = math.degrees(angular) + _MARGIN_DEG
    lat_min, lat_max = lat - dlat, lat + dlat
    if lat_min <= -MAX_LAT_DEG or lat_max >= MAX_LAT_DEG or angular >= math.pi / 2:
        # The circle holds a pole (or a whole hemisphere): every longitude can be in reach.
        return BoundingBox(max(lat_min, -MAX_LAT_DEG), min(lat_max, MAX_LAT_DEG),
                           ((-MAX_LON_DEG, MAX_LON_DEG),))
    dlon = math.degrees(math.asin(math.sin(angular) / math.cos(math.radians(lat)))) + _MARGIN_DEG
    return BoundingBox(lat_min, lat_max, _lon_ranges(_normalise_lon(lon), dlon))


def _lon_ranges(lon: float, dlon: float) -> tuple[LonRange, ...]:
    low, high = lon - dlon, lon + dlon
    if low < -MAX_LON_DEG:
        return ((low + 360.0, MAX_LON_DEG), (-MAX_LON_DEG, high))
    if high > MAX_LON_DEG:
        return ((low, MAX_LON_DEG), (-MAX_LON_DEG, high - 360.0))
    return ((low, high),)


def _normalise_lon(lon: float) -> float:
    """Longitude into [-180, 180) (180 itself becomes -180: the same meridian)."""
    return (lon + MAX_LON_DEG) % 360.0 - MAX_LON_DEG
