"""The real-time functions' composition root (``RealtimeSettings``): the WebSocket's
$connect/$disconnect/$default function, the push function and the sweep share it."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from assistec.wiring.base import DatabaseRoot, Installed

if TYPE_CHECKING:
    from assistec.integrations.connections import Connections
    from assistec.services.realtime import Realtime
    from assistec.settings import RealtimeSettings


class RealtimeRoot(DatabaseRoot):
    def __init__(self, settings: RealtimeSettings) -> None:
        # The channel publishes no domain events (the chat's messages go to the connections only).
        super().__init__(settings, event_bus_name=None)
        self.settings = settings

    @cached_property
    def connections(self) -> Connections:
        """The management API at the configured endpoint (tests put their own here)."""
        from assistec.integrations.connections import ManagementApiConnections

        endpoint = self.settings.realtime_management_url
        if not endpoint:
            raise RuntimeError("REALTIME_MANAGEMENT_URL is not set: this function cannot post to connections")
        return ManagementApiConnections(endpoint, max_pool=self.settings.realtime_post_concurrency)

    @cached_property
    def realtime(self) -> Realtime:
        from assistec.services.realtime import Realtime

        return Realtime(
            self.database,
            self.work,
            lambda: self.connections,
            concurrency=self.settings.realtime_post_concurrency,
        )


def _from_environment() -> RealtimeRoot:
    from assistec.settings import RealtimeSettings

    return RealtimeRoot(RealtimeSettings())  # type: ignore[call-arg]  # values come from the environment


_root = Installed(_from_environment)
root = _root.get
install = _root.install
