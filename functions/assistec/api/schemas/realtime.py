"""Models of the staff's real-time channel (the WebSocket's ticket)."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from assistec.api.schemas.common import Output


class RealtimeTicketOut(Output):
    ticket: str = Field(
        description="Open the WebSocket with it within 60 seconds, once: `<url>?ticket=<ticket>` (the access "
        "token never goes in a URL)"
    )
    expires_at: datetime = Field(description="When the ticket stops opening connections (60 seconds)")
    url: str | None = Field(
        description="The WebSocket's address (wss://…); null where the deployment does not say it "
        "(the local stage: see ws_url in .local/stack.json)"
    )
