"""Scheduling's workers' composition root: the Google Calendar mirror (the calendar queue and its
schedule) and the appointment reminders, one settings model (``CalendarSettings``)."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

from assistec.wiring.base import DatabaseRoot, Installed, Mailing

if TYPE_CHECKING:
    from assistec.integrations.queue import CalendarQueue, WhatsappQueue
    from assistec.services.scheduling.availability import AvailabilityService
    from assistec.services.scheduling.google import GoogleAccess
    from assistec.services.scheduling.reminders import Reminders
    from assistec.services.scheduling.sync import CalendarSync
    from assistec.settings import CalendarSettings


class CalendarRoot(Mailing["CalendarSettings"], DatabaseRoot):
    def __init__(self, settings: CalendarSettings) -> None:
        super().__init__(settings, event_bus_name=settings.event_bus_name)
        self.settings = settings

    @cached_property
    def http(self) -> Any:  # an httpx.Client
        from assistec.integrations.google_calendar import http_client

        return http_client()

    @cached_property
    def google(self) -> GoogleAccess:
        from assistec.integrations.kms import GOOGLE_TOKEN, KmsCipher
        from assistec.services.scheduling.google import GoogleAccess, config_from_secret

        cipher = KmsCipher(self.settings.payments_key_id, GOOGLE_TOKEN)
        return GoogleAccess(
            self.work,
            lambda: cipher,
            lambda: config_from_secret(self.settings.google_secret_id),
            lambda: self.http,
            lambda: self.mail,
        )

    @cached_property
    def sync(self) -> CalendarSync:
        from assistec.services.scheduling.sync import CalendarSync

        return CalendarSync(self.google)

    @cached_property
    def availability(self) -> AvailabilityService:
        from assistec.services.scheduling.availability import AvailabilityService

        return AvailabilityService(self.work, self.google)

    @cached_property
    def calendar_queue(self) -> CalendarQueue:
        from assistec.integrations.queue import SqsCalendarQueue

        return SqsCalendarQueue(self.settings.calendar_queue_url)

    @cached_property
    def whatsapp_queue(self) -> WhatsappQueue:
        from assistec.integrations.queue import SqsWhatsappQueue

        return SqsWhatsappQueue(None, self.settings.whatsapp_send_queue_url)

    @cached_property
    def reminders(self) -> Reminders:
        from assistec.services.scheduling.reminders import Reminders

        return Reminders(
            self.database,
            self.work,
            lambda: self.whatsapp_queue,
            lambda: self.mail,
            lambda: self.settings.public_base_url or "",
        )


def _from_environment() -> CalendarRoot:
    from assistec.settings import CalendarSettings

    return CalendarRoot(CalendarSettings())  # type: ignore[call-arg]  # values come from the environment


_root = Installed(_from_environment)
root = _root.get
install = _root.install
