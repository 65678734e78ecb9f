"""The token-signing key, from the environment (tests) or Secrets Manager (AWS, LocalStack)."""

from __future__ import annotations

from assistec.integrations.secrets import secret_string
from assistec.settings import AuthKeySettings


class SigningKeyProvider:
    """Callable returning the current key; rereads the secret after the cache TTL, so rotation works."""

    def __init__(self, settings: AuthKeySettings) -> None:
        self._settings = settings

    def __call__(self) -> bytes:
        if self._settings.auth_signing_key is not None:
            return self._settings.auth_signing_key.get_secret_value().encode()
        assert self._settings.auth_secret_id is not None
        return secret_string(self._settings.auth_secret_id).encode()
