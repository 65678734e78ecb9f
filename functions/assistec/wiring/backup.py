"""The backup flow's composition root (``BackupSettings``): the app role's database, the bundles'
buckets, their KMS data keys, and the restore test's scratch connection (the ops role)."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from assistec.wiring.base import DatabaseRoot, Installed

if TYPE_CHECKING:
    from assistec.db.connection import Database
    from assistec.integrations.kms import DataKeys
    from assistec.integrations.storage import BundleStore
    from assistec.services.backup.runs import BackupRuns
    from assistec.settings import BackupSettings


class BackupRoot(DatabaseRoot):
    def __init__(self, settings: BackupSettings) -> None:
        super().__init__(settings, event_bus_name=settings.event_bus_name)
        self.settings = settings

    @cached_property
    def bundle_store(self) -> BundleStore:
        from assistec.integrations.storage import S3BundleStore

        return S3BundleStore(self.settings.backup_bucket, self.settings.backup_copy_bucket)

    @cached_property
    def data_keys(self) -> DataKeys:
        from assistec.integrations.kms import BACKUP_BUNDLE, KmsDataKeys

        return KmsDataKeys(self.settings.backup_key_id, BACKUP_BUNDLE)

    @cached_property
    def scratch_database(self) -> Database:
        from assistec.db.connection import Database
        from assistec.integrations.secrets import secret_string

        return Database(self.settings.scratch_settings(), secret_string)

    @cached_property
    def runs(self) -> BackupRuns:
        from assistec.services.backup.runs import BackupRuns

        # Tests put their fakes in ``bundle_store`` and ``data_keys`` before the first use; the bus is
        # looked up per run.
        return BackupRuns(
            self.database,
            self.bundle_store,
            self.data_keys,
            bus=lambda: self.event_bus if self.settings.event_bus_name else None,
        )

    def close(self) -> None:
        super().close()
        if "scratch_database" in self.__dict__:
            self.scratch_database.close()


def _from_environment() -> BackupRoot:
    from assistec.settings import BackupSettings

    return BackupRoot(BackupSettings())  # type: ignore[call-arg]  # values come from the environment


_root = Installed(_from_environment)
root = _root.get
install = _root.install
