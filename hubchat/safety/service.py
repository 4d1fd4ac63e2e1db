"""SafetyService: the safety capability's one entry point (profiles, trusted contacts, their emails).

    profile     the person's encrypted safety profile and the Cell's audited view of it
    contacts    trusted contacts and their one-time address confirmation
    notify      emails to confirmed contacts on SOS moments (raised, acknowledged, closed)
    crypto      AES-GCM field encryption, keys from configuration or data_dir

Routes (``routes.py``) call only the methods here.  What it needs from SOS and cases is given to
its constructor (``ports.py``), wired in ``app.py``.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from hubchat.infra import Infra
from hubchat.safety.contacts import TrustedContacts
from hubchat.safety.crypto import FieldCipher, resolve_profile_keys
from hubchat.safety.notify import ContactNotifier
from hubchat.safety.ports import AlertMoments, Alerts, NoOpenCases, OpenCases
from hubchat.safety.profile import SafetyProfiles
from hubchat.safety.repository import SafetyRepository


class SafetyService:
    def __init__(self, infra: Infra, alerts: Alerts, moments: AlertMoments, cases: OpenCases | None = None):
        self.infra = infra
        settings = infra.settings
        self.repo = SafetyRepository(infra)
        self._cipher: FieldCipher | None = None
        self.profiles = SafetyProfiles(settings, self.repo, self.cipher, alerts, cases or NoOpenCases(),
                                       lambda: infra.limiter, infra.clock)
        self.contacts = TrustedContacts(settings, self.repo, infra.outbox, lambda: infra.limiter, infra.clock,
                                        self.profiles.hit)
        self.notifier = ContactNotifier(settings, self.repo, moments, infra.outbox, lambda: infra.limiter)

    def cipher(self) -> FieldCipher:
        """Built on first use from the configured keys (or data_dir/profile-key.key)."""
        if self._cipher is None:
            self._cipher = FieldCipher(resolve_profile_keys(self.infra.settings))
        return self._cipher

    def set_cases(self, cases: OpenCases) -> None:
        """Wire the cases capability's answer (``app.py``)."""
        self.profiles.cases = cases

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        self.cipher()  # a bad key setting stops the start, not the first profile read
        try:
            yield
        finally:
            await self.notifier.drain(stop=True)
