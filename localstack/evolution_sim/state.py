"""What the simulator keeps per instance, in memory (Evolution keeps it in its database; a restart of
the simulator starts empty: ``make up`` creates the demo shop's instance again)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any, Literal

State = Literal["close", "connecting", "open"]


@dataclass
class Instance:
    name: str
    token: str
    integration: str = "WHATSAPP-BAILEYS"
    instance_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    state: State = "close"
    status_reason: int = 200
    # the shop's own number and WhatsApp profile, known once paired
    number: str | None = None
    profile_name: str | None = None
    pairing_number: str | None = None
    qr_count: int = 0
    qr: dict[str, Any] | None = None  # the QR shown while pairing
    settings: dict[str, Any] = field(default_factory=dict)
    # the webhook as Evolution stores it (``/webhook/find`` answers it), or None
    webhook: dict[str, Any] | None = None

    @property
    def wuid(self) -> str | None:
        """The instance's own JID (the envelope's ``sender``), once paired."""
        return f"{self.number}@s.whatsapp.net" if self.number else None
