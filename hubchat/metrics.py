"""Prometheus metrics, one registry per application so several apps can live in one process."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

DELIVERY_BUCKETS_SECS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.connections = Gauge("hubchat_socket_connections", "Open Socket.IO connections on this node",
                                 registry=self.registry)
        self.events = Counter("hubchat_socket_events_total", "Socket.IO events handled",
                              ["event", "outcome"], registry=self.registry)
        self.http_requests = Counter("hubchat_http_requests_total", "HTTP requests handled",
                                     ["method", "route", "status"], registry=self.registry)
        self.errors = Counter("hubchat_errors_total", "Errors answered to clients, by code",
                              ["code"], registry=self.registry)
        self.delivery_latency = Histogram(
            "hubchat_message_delivery_seconds",
            "From a message arriving at the server to its fan-out being handed to the socket layer",
            buckets=DELIVERY_BUCKETS_SECS, registry=self.registry)
        self.connect_refused = Counter("hubchat_socket_connect_refused_total", "Refused Socket.IO connections",
                                       ["reason"], registry=self.registry)

    def render(self) -> bytes:
        return generate_latest(self.registry)
