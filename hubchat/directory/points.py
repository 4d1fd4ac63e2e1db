"""Proximity search over gathering places, computed in the application.

Collection ``gathering_points``: one small document per gathering place,

    {_id: place id, association_id, lat, lon, approved: bool}

kept in step with ``associations`` after every write to an association (create, edit, approve,
reject).  It is only a search index: the store narrows candidates to the latitude band (and
longitude ranges) of the search window, the exact haversine distance filters them, and the
association documents themselves — approved ones only — have the final word, so a point left
stale by a crash or a race (an edit racing the approval) can hide a result until the next
write to that association, but never show a wrong one.
"""

from __future__ import annotations

from typing import Any

from pymongo import IndexModel

from hubchat.directory.geo import bounding_box, haversine_km
from hubchat.infra import Infra
from hubchat.store import Document

GATHERING_POINTS = "gathering_points"
POINT_INDEXES = {
    GATHERING_POINTS: [
        IndexModel([("lat", 1)], name="gathering_points_lat"),
        IndexModel([("association_id", 1)], name="gathering_points_association"),
    ],
}


def nearest_place(places: list[Document], lat: float, lon: float) -> tuple[Document, float] | None:
    """The gathering place nearest to (lat, lon) and its distance in km; None without places."""
    measured = [(haversine_km(lat, lon, p["lat"], p["lon"]), i) for i, p in enumerate(places)]
    if not measured:
        return None
    distance, index = min(measured)
    return places[index], distance


class GatheringPoints:
    def __init__(self, infra: Infra):
        self.infra = infra

    @property
    def _coll(self) -> Any:
        return self.infra.store[GATHERING_POINTS]

    async def sync(self, association: Document) -> None:
        """Make the points of ``association`` match its stored gathering places and status."""
        association_id = association["_id"]
        approved = association["status"] == "approved"
        places = association.get("gathering_places", [])
        for place in places:
            await self._coll.replace_one(
                {"_id": place["id"]},
                {"_id": place["id"], "association_id": association_id, "lat": place["lat"],
                 "lon": place["lon"], "approved": approved},
                upsert=True)
        await self._coll.delete_many({"association_id": association_id,
                                      "_id": {"$nin": [p["id"] for p in places]}})

    async def within(self, lat: float, lon: float, radius_km: float) -> dict[str, float]:
        """Association id → distance (km) of its nearest approved point within ``radius_km``."""
        box = bounding_box(lat, lon, radius_km)
        query: Document = {"approved": True, "lat": {"$gte": box.lat_min, "$lte": box.lat_max}}
        if not box.all_longitudes:
            query["$or"] = [{"lon": {"$gte": low, "$lte": high}} for low, high in box.lon_ranges]
        nearest: dict[str, float] = {}
        async for point in self._coll.find(query, {"association_id": 1, "lat": 1, "lon": 1}):
            distance = haversine_km(lat, lon, point["lat"], point["lon"])
            if distance <= radius_km and distance < nearest.get(point["association_id"], float("inf")):
                nearest[point["association_id"]] = distance
        return nearest
