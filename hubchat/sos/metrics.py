"""Prometheus counters of the SOS capability, registered on the application's registry (so
several apps can live in one process, as in the tests)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter


class SosMetrics:
    def __init__(self, registry: CollectorRegistry):
        self.triggers = Counter("hubchat_sos_triggers_total", "SOS triggers answered, by outcome",
                                ["outcome"], registry=registry)
        self.transitions = Counter("hubchat_sos_transitions_total", "Alert status changes, by action",
                                   ["action"], registry=registry)
        # Duress is never a metric of its own: whoever reads the metrics must not tell a duress
        # "cancel" from a real one.  It counts as the cancel the person's side sees.
        self.duress = self.transitions.labels("cancel")
        self.told = Counter("hubchat_sos_dispatched_total", "People told about an alert, by role and round",
                            ["role", "round"], registry=registry)
        self.steps = Counter("hubchat_sos_escalation_steps_total", "Escalation steps run on this node, by level",
                             ["level"], registry=registry)
        self.emails = Counter("hubchat_sos_emails_total", "Escalation emails, by step and outcome",
                              ["step", "outcome"], registry=registry)
        self.limiter_down = Counter("hubchat_sos_limiter_unavailable_total",
                                    "SOS rate-limit checks let through because the limiter was unavailable",
                                    registry=registry)
