"""Asaas's answer shapes: an error, a filtered list, a page of it."""

from __future__ import annotations

from typing import Any

# (HTTP status, JSON body, extra headers), what every simulated route answers
Answer = tuple[int, Any, dict[str, str]]


def error(code: str, description: str) -> dict[str, Any]:
    return {"errors": [{"code": code, "description": description}]}


def matches(item: dict[str, Any], params: dict[str, str]) -> bool:
    reference = params.get("externalReference")
    paid_since = params.get("paymentDate[ge]")
    if reference is not None and item.get("externalReference") != reference:
        return False
    return paid_since is None or bool(item.get("paymentDate") and item["paymentDate"] >= paid_since)


def page(items: list[dict[str, Any]], params: dict[str, str]) -> dict[str, Any]:
    offset, limit = int(params.get("offset", 0)), int(params.get("limit", 10))
    chunk = items[offset : offset + limit]
    return {
        "object": "list",
        "hasMore": offset + limit < len(items),
        "totalCount": len(items),
        "limit": limit,
        "offset": offset,
        "data": chunk,
    }
