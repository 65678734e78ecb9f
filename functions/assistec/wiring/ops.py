"""The ops function's composition root: the payments workers' pieces (provisioning a shop uses the
platform Asaas account exactly as the payments consumer does) plus the console's service and the
signing key's secret."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from assistec.wiring.base import Installed
from assistec.wiring.workers import WorkerRoot

if TYPE_CHECKING:
    from assistec.integrations.signing_key import SigningKeySecret
    from assistec.services.ops import KeySecret, OpsConsole
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
    def ops(self) -> OpsConsole:
        from assistec.services.ops import OpsConsole

        return OpsConsole(self.work, self.provisioning, key_secret=lambda: self.signing_key_secret)


def _from_environment() -> OpsRoot:
    from assistec.settings import OpsSettings

    return OpsRoot(OpsSettings())  # type: ignore[call-arg]  # values come from the environment


_root = Installed(_from_environment)
root = _root.get  # the environment's root
install = _root.install  # tests: use another root (None: rebuild on next use)
