"""Secrets Manager reads, cached per execution environment for a few minutes (rotation-friendly)."""

from __future__ import annotations

import time
from typing import Any

_TTL_S = 300.0
_cache: dict[str, tuple[float, str]] = {}
_client: Any = None


def secret_string(secret_id: str) -> str:
    global _client
    now = time.monotonic()
    cached = _cache.get(secret_id)
    if cached is not None and now - cached[0] < _TTL_S:
        return cached[1]
    if _client is None:
        import boto3  # deferred: ~0.2 s of cold start that only the first secret read should pay

        _client = boto3.client("secretsmanager")
    value: str = _client.get_secret_value(SecretId=secret_id)["SecretString"]
    _cache[secret_id] = (now, value)
    return value
