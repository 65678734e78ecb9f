"""The token-signing key, from the environment (tests) or Secrets Manager (AWS, LocalStack): the key
that signs and the keys accepted while a rotation is under way (domain/signing_keys.py); and the
secret itself, read and written uncached, for the ops console's rotation."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from assistec.domain import signing_keys
from assistec.domain.signing_keys import KeyRing
from assistec.integrations.secrets import secret_string
from assistec.settings import AuthKeySettings


class SigningKeyProvider:
    """Callable returning the key that signs; ``verifying()`` the keys a token may carry. Rereads the
    secret after the cache TTL, so a rotation reaches every environment within it."""

    def __init__(self, settings: AuthKeySettings) -> None:
        self._settings = settings
        self._parsed: tuple[str, KeyRing] | None = None

    def ring(self) -> KeyRing:
        if self._settings.auth_signing_key is not None:
            return KeyRing(current=self._settings.auth_signing_key.get_secret_value(), plain=True)
        assert self._settings.auth_secret_id is not None
        secret = secret_string(self._settings.auth_secret_id)
        if self._parsed is None or self._parsed[0] != secret:
            self._parsed = (secret, signing_keys.parse(secret))
        return self._parsed[1]

    def __call__(self) -> bytes:
        return self.ring().signing()

    def verifying(self) -> tuple[bytes, ...]:
        return self.ring().verifying(datetime.now(UTC))


class SigningKeySecret:
    """The signing key's secret in Secrets Manager, read and written as it is now (no cache): the
    ops console rotates it. Never logs a value."""

    def __init__(self, secret_id: str) -> None:
        self._secret_id = secret_id
        self._client: Any = None

    def _sm(self) -> Any:
        if self._client is None:
            import boto3

            self._client = boto3.client("secretsmanager")
        return self._client

    def read(self) -> str:
        value: str = self._sm().get_secret_value(SecretId=self._secret_id)["SecretString"]
        return value

    def write(self, value: str) -> None:
        self._sm().put_secret_value(SecretId=self._secret_id, SecretString=value)
