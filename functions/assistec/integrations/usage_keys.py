"""Each shop's API key in API Gateway's usage plan: how the platform throttles per shop.

API Gateway throttles per API key of a usage plan. The API's key source is the authorizer: it hands
API Gateway the caller's shop key (``usage_key``), never the browser, so the key is an identifier,
not a credential. A shop's key must be in the plan before its first request through the authorizer
(API Gateway answers 403 to a key it does not know): signup puts it there before the shop is
written (services/auth.py), and doing it again is harmless.

The plan is found by its name (the stack names it; its id cannot be handed to the API function
without a cycle: the plan names the API's stage, which names the function).
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any, Protocol
from uuid import UUID

if TYPE_CHECKING:
    from botocore.client import BaseClient


def usage_key(tenant_id: UUID | str) -> str:
    """The shop's API key value (API Gateway takes 20 to 128 characters)."""
    return f"assistec-shop-{tenant_id}"


class UsageKeys(Protocol):
    def ensure(self, tenant_id: UUID) -> None:
        """The shop's key exists, enabled, in the usage plan; raises when API Gateway cannot say so."""


class UsagePlanMissingError(Exception):
    """No usage plan of the configured name (a deploy that did not create it)."""


class ApiGatewayUsageKeys:
    """Keys in the stack's usage plan through API Gateway's control API (its 5-10 calls per second
    per account are plenty for signups; lookups are not on the request path)."""

    def __init__(self, plan_name: str, client: BaseClient | None = None) -> None:
        self._plan_name = plan_name
        self._client = client
        self._plan_id: str | None = None

    def _api(self) -> Any:
        if self._client is None:
            import boto3
            from botocore.config import Config

            self._client = boto3.client(
                "apigateway", config=Config(connect_timeout=2, read_timeout=4, retries={"mode": "standard"})
            )
        return self._client

    def plan_id(self) -> str:
        if self._plan_id is None:
            for page in self._api().get_paginator("get_usage_plans").paginate():
                for plan in page.get("items", []):
                    if plan.get("name") == self._plan_name:
                        self._plan_id = str(plan["id"])
                        return self._plan_id
            raise UsagePlanMissingError(f"no usage plan named {self._plan_name}")
        return self._plan_id

    def key_id(self, tenant_id: UUID) -> str | None:
        """The id of the shop's key, if it exists."""
        name = usage_key(tenant_id)
        items = self._api().get_api_keys(nameQuery=name, includeValues=False, limit=500).get("items", [])
        return next((str(k["id"]) for k in items if k.get("name") == name), None)

    def ensure(self, tenant_id: UUID) -> None:
        api = self._api()
        plan_id = self.plan_id()
        value = usage_key(tenant_id)
        key_id = self.key_id(tenant_id)
        if key_id is None:
            try:
                key_id = str(
                    api.create_api_key(
                        name=value, value=value, enabled=True, description="assistec: a shop's throttling key"
                    )["id"]
                )
            except api.exceptions.ConflictException:  # made meanwhile (a confirmation sent twice)
                key_id = self.key_id(tenant_id)
                if key_id is None:
                    raise
        with contextlib.suppress(api.exceptions.ConflictException):  # already in the plan
            api.create_usage_plan_key(usagePlanId=plan_id, keyId=key_id, keyType="API_KEY")


class NoUsageKeys:
    """A deployment without a per-shop usage plan (the integration tests' API: no API Gateway)."""

    def ensure(self, tenant_id: UUID) -> None:
        return None
