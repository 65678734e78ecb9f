"""The data exports worker's composition root (``DataExportSettings``): the app role's database, the
exports bucket and the mail module (the owners are told an export is ready)."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from assistec.wiring.base import DatabaseRoot, Installed, Mailing

if TYPE_CHECKING:
    from assistec.integrations.storage import ExportStore
    from assistec.services.data_exports import DataExportRunner
    from assistec.settings import DataExportSettings


class DataExportRoot(Mailing["DataExportSettings"], DatabaseRoot):
    def __init__(self, settings: DataExportSettings) -> None:
        super().__init__(settings, event_bus_name=settings.event_bus_name)
        self.settings = settings

    @cached_property
    def export_store(self) -> ExportStore:
        from assistec.integrations.storage import S3ExportStore

        return S3ExportStore(self.settings.exports_bucket)

    @cached_property
    def runner(self) -> DataExportRunner:
        from assistec.services.data_exports import DataExportRunner

        # Tests put their fakes in ``export_store`` and ``mailer`` before the first use; the mail
        # module is looked up per export.
        return DataExportRunner(self.database, self.work, self.export_store, mail=lambda: self.mail)


def _from_environment() -> DataExportRoot:
    from assistec.settings import DataExportSettings

    return DataExportRoot(DataExportSettings())  # type: ignore[call-arg]  # values come from the environment


_root = Installed(_from_environment)
root = _root.get
install = _root.install
