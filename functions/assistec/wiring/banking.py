"""Banking's composition: which parser reads the shop's bank files (``bank_file_parser``, shared by
the API's inline path and the bank files worker), and the worker's root (``BankFilesSettings``)."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from assistec.wiring.base import DatabaseRoot, Installed

if TYPE_CHECKING:
    from assistec.integrations.queue import WhatsappQueue
    from assistec.integrations.storage import DocumentStore
    from assistec.services.banking.intake import BankFileIntake
    from assistec.services.banking.parsing import Parser
    from assistec.services.banking.reconciliation import BankReconciliation
    from assistec.settings import BankFilesSettings


def bank_file_parser() -> Parser:
    """The parser the intake calls: the CNAB 240/400 retorno and OFX/CSV statement parsers
    (domain/banking) adapted to ``services.banking.parsing.ParsedFile``."""
    from assistec.services.banking.readers import read_bank_file

    return read_bank_file


class BankFilesRoot(DatabaseRoot):
    def __init__(self, settings: BankFilesSettings) -> None:
        super().__init__(settings, event_bus_name=settings.event_bus_name)
        self.settings = settings

    @cached_property
    def document_store(self) -> DocumentStore:
        from assistec.integrations.storage import S3DocumentStore

        return S3DocumentStore(self.settings.devices_bucket)

    @cached_property
    def whatsapp_queue(self) -> WhatsappQueue:
        from assistec.integrations.queue import SqsWhatsappQueue

        return SqsWhatsappQueue(None, self.settings.whatsapp_send_queue_url)

    @cached_property
    def intake(self) -> BankFileIntake:
        from assistec.services.banking.intake import BankFileIntake

        # Tests put their fake store in ``document_store`` before the first use. Without a send queue
        # the settled boletos' messages stay queued until the relay's sweep hands them over.
        return BankFileIntake(
            self.work,
            lambda: self.document_store,
            bank_file_parser(),
            after_parsed=self.reconciliation.after_intake,
            whatsapp=(lambda: self.whatsapp_queue) if self.settings.whatsapp_send_queue_url else None,
        )

    @cached_property
    def reconciliation(self) -> BankReconciliation:
        from assistec.services.banking.reconciliation import BankReconciliation

        return BankReconciliation(self.work, lambda: self.document_store)


def _from_environment() -> BankFilesRoot:
    from assistec.settings import BankFilesSettings

    return BankFilesRoot(BankFilesSettings())  # type: ignore[call-arg]  # values come from the environment


_root = Installed(_from_environment)
root = _root.get
install = _root.install
