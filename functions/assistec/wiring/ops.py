"""The ops function's composition root: the payments workers' pieces (provisioning a shop uses the
platform Asaas account exactly as the payments consumer does) plus the console's service, the
signing key's secret, and the backups' pieces (the bundles' buckets, their KMS data keys, the ops
role's connection), each built on first use."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from assistec.wiring.base import Installed
from assistec.wiring.workers import WorkerRoot

if TYPE_CHECKING:
    from assistec.db.connection import Database
    from assistec.integrations.kms import DataKeys
    from assistec.integrations.signing_key import SigningKeySecret
    from assistec.integrations.storage import BundleStore
    from assistec.services.ops import BackupTools, KeySecret, OpsConsole
    from assistec.settings import OpsSettings


class OpsRoot(WorkerRoot):
    """Settings, integrations and services of the ops function."""

    def __init__(self, settings: OpsSettings) -> None:
        super().__init__(settings)
        self.ops_settings = settings

    @cached_property
    def signing_key_secret(self) -> KeySecret:
        """The token-signing key's secret, read and written uncached (its rotation)."""
        from assistec.integrations.signing_key import SigningKeySecret

        if not self.ops_settings.auth_secret_id:
            raise RuntimeError("AUTH_SECRET_ID is not set: this stage's ops function cannot rotate the key")
        secret: SigningKeySecret = SigningKeySecret(self.ops_settings.auth_secret_id)
        return secret

    @cached_property
    def bundle_store(self) -> BundleStore:
        from assistec.integrations.storage import S3BundleStore

        bucket = self.ops_settings.backup_bucket
        if bucket is None:
            raise RuntimeError("BACKUP_BUCKET is not set: this stage's ops function has no backups")
        return S3BundleStore(bucket, self.ops_settings.backup_copy_bucket)

    @cached_property
    def data_keys(self) -> DataKeys:
        from assistec.integrations.kms import BACKUP_BUNDLE, KmsDataKeys

        key = self.ops_settings.backup_key_id
        if key is None:
            raise RuntimeError("BACKUP_KEY_ID is not set: this stage's ops function has no backups")
        return KmsDataKeys(key, BACKUP_BUNDLE)

    @cached_property
    def scratch_database(self) -> Database:
        """The ops role's connection (scratch restores; the in-place restore's permits)."""
        from assistec.db.connection import Database
        from assistec.integrations.secrets import secret_string

        return Database(self.ops_settings.scratch_settings(), secret_string)

    @cached_property
    def backup_tools(self) -> BackupTools:
        from assistec.services.ops import BackupTools

        # Tests put their fakes in ``bundle_store``, ``data_keys`` and ``scratch_database`` first.
        return BackupTools(self.bundle_store, self.data_keys, self.scratch_database)

    @cached_property
    def ops(self) -> OpsConsole:
        from assistec.services.ops import OpsConsole

        configured = self.ops_settings.backup_bucket is not None
        return OpsConsole(
            self.work,
            self.provisioning,
            key_secret=lambda: self.signing_key_secret,
            backups=(lambda: self.backup_tools) if configured else None,
        )

    def close(self) -> None:
        super().close()
        if "scratch_database" in self.__dict__:
            self.scratch_database.close()


def _from_environment() -> OpsRoot:
    from assistec.settings import OpsSettings

    return OpsRoot(OpsSettings())  # type: ignore[call-arg]  # values come from the environment


_root = Installed(_from_environment)
root = _root.get  # the environment's root
install = _root.install  # tests: use another root (None: rebuild on next use)
