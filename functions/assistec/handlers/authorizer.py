"""API Gateway TOKEN authorizer: checks the access token, passes tenant, user and role on, and
names the shop's key in the usage plan (per-shop throttling).

The policy allows every method of the API: API Gateway caches the answer per token, so a
per-route policy would leak one route's decision into another. Permissions are checked by the API.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from assistec.api.identity import authorizer_context, verify_bearer
from assistec.integrations.signing_key import SigningKeyProvider
from assistec.integrations.usage_keys import usage_key
from assistec.observability import logger
from assistec.settings import authorizer_settings

_key: SigningKeyProvider | None = None


def _verifying_keys() -> tuple[bytes, ...]:
    """The keys a token may be signed with (more than one while the key is being rotated)."""
    global _key
    if _key is None:
        _key = SigningKeyProvider(authorizer_settings())
    return _key.verifying()


def _api_arn_wildcard(method_arn: str) -> str:
    # arn:aws:execute-api:region:account:api-id/stage/METHOD/path -> .../api-id/stage/*
    prefix, _, rest = method_arn.partition(":execute-api:")
    parts = rest.split("/")
    return f"{prefix}:execute-api:{parts[0]}/{parts[1]}/*" if len(parts) > 1 else method_arn


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # API Gateway turns the exact message "Unauthorized" into a 401 (our UNAUTHORIZED gateway response).
    identity = verify_bearer(str(event.get("authorizationToken") or ""), _verifying_keys())
    logger.append_keys(tenant_id=str(identity.tenant_id), user_id=str(identity.user_id))
    return {
        "principalId": str(identity.user_id),
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Action": "execute-api:Invoke",
                    "Effect": "Allow",
                    "Resource": _api_arn_wildcard(event["methodArn"]),
                }
            ],
        },
        "context": authorizer_context(identity),
        # The shop's key in the usage plan: API Gateway throttles each shop on its own
        # (integrations/usage_keys.py; the API's key source is this authorizer).
        "usageIdentifierKey": usage_key(identity.tenant_id),
    }
