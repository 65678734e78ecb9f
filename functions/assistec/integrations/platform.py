"""The platform's Asaas account (it charges the shops' subscriptions): its API key and the token its
webhook sends back, kept in one Secrets Manager secret as JSON::

    {"api_key": "$aact_...", "webhook_token": "...", "environment": "sandbox" | "production"}

The stack creates the secret with a generated webhook token and an empty key; ops put the key in
(README, "Platform Asaas account"). Locally `make up` writes the offline simulator's key.
"""

from __future__ import annotations

import json
from dataclasses import dataclass


class PlatformAccountMissingError(Exception):
    """The platform account is not configured (no API key in the secret yet)."""


class PlatformAccountRefusedError(PlatformAccountMissingError):
    """The prod stage was given a sandbox platform account: it takes no real money, so prod uses
    none (README, "Platform Asaas account")."""


@dataclass(frozen=True, slots=True)
class PlatformAccount:
    api_key: str
    webhook_token: str
    environment: str = "sandbox"


def parse(secret: str) -> PlatformAccount:
    data = json.loads(secret)
    return PlatformAccount(
        api_key=str(data.get("api_key") or ""),
        webhook_token=str(data.get("webhook_token") or ""),
        environment="production" if data.get("environment") == "production" else "sandbox",
    )


class SecretPlatformAccount:
    """Reads the secret (cached a few minutes per environment by the secrets module)."""

    def __init__(self, secret_id: str) -> None:
        self._secret_id = secret_id

    def __call__(self) -> PlatformAccount:
        from assistec.integrations.secrets import secret_string

        return parse(secret_string(self._secret_id))


def platform_account(secret_id: str | None) -> PlatformAccount:
    """The account the secret holds; an unconfigured one (no secret) has no key and no token, so its
    webhook answers 401 to everybody and nothing is provisioned."""
    return SecretPlatformAccount(secret_id)() if secret_id else PlatformAccount(api_key="", webhook_token="")
