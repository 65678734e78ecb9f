"""What every function family that touches the database shares: the connection, the unit of work,
and the outbox relay that publishes the units' events after commit."""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from assistec.db.connection import Database
    from assistec.integrations.events import EventBus
    from assistec.services.outbox import OutboxRelay
    from assistec.services.unit_of_work import UnitsOfWork
    from assistec.settings import DatabaseSettings


class DatabaseRoot:
    """Database, event bus, outbox relay and units of work for one environment."""

    def __init__(self, settings: DatabaseSettings, *, event_bus_name: str) -> None:
        self.db_settings = settings
        self._event_bus_name = event_bus_name

    @cached_property
    def database(self) -> Database:
        from assistec.db.connection import Database
        from assistec.integrations.secrets import secret_string

        return Database(self.db_settings, secret_string)

    @cached_property
    def event_bus(self) -> EventBus:
        from assistec.integrations.events import EventBridgeBus

        return EventBridgeBus(self._event_bus_name)

    @cached_property
    def outbox(self) -> OutboxRelay:
        from assistec.services.outbox import OutboxRelay

        return OutboxRelay(self.database, self.event_bus)

    @cached_property
    def work(self) -> UnitsOfWork:
        from assistec.services.unit_of_work import UnitsOfWork

        return UnitsOfWork(self.database, self.outbox)

    def close(self) -> None:
        """Close the connection, if one was opened (tests, between environments)."""
        if "database" in self.__dict__:
            self.database.close()


class Installed[R: DatabaseRoot]:
    """The one root of an execution environment: built on first use; tests install their own."""

    def __init__(self, build: Callable[[], R]) -> None:
        self._build = build
        self._root: R | None = None

    def get(self) -> R:
        if self._root is None:
            self._root = self._build()
        return self._root

    def install(self, new: R | None) -> None:
        """Use ``new`` from now on; ``None`` forgets the current root (the next use rebuilds it)."""
        if self._root is not None and self._root is not new:
            self._root.close()
        self._root = new
