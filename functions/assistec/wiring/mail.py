"""The mail events function's composition root (SES's delivery, bounce and complaint events)."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from assistec.wiring.base import DatabaseRoot, Installed

if TYPE_CHECKING:
    from assistec.services.email.events import MailEvents
    from assistec.settings import MailEventsSettings


class MailEventsRoot(DatabaseRoot):
    def __init__(self, settings: MailEventsSettings) -> None:
        super().__init__(settings, event_bus_name=settings.event_bus_name)
        self.settings = settings

    @cached_property
    def mail_events(self) -> MailEvents:
        from assistec.services.email.events import MailEvents

        return MailEvents(self.work)


def _from_environment() -> MailEventsRoot:
    from assistec.settings import MailEventsSettings

    return MailEventsRoot(MailEventsSettings())


_root = Installed(_from_environment)
root = _root.get  # the environment's root
install = _root.install  # tests: use another root (None: rebuild on next use)
