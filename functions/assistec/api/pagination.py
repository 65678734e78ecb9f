"""Cursor pagination, the same on every list: ``?limit=&cursor=`` in, ``{items, next_cursor}`` out.

A cursor is the sort key of the last item, base64url-encoded JSON: opaque to clients, stable under
inserts (keyset pagination, no OFFSET).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from typing import Any

from assistec.errors import ValidationFailedError

DEFAULT_LIMIT = 50
MAX_LIMIT = 100


def encode(key: Sequence[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(key), default=str).encode()).decode().rstrip("=")


def decode(cursor: str, arity: int) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        key = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise ValidationFailedError("Cursor de paginação inválido.", details={"field": "cursor"}) from exc
    if not isinstance(key, list) or len(key) != arity:
        raise ValidationFailedError("Cursor de paginação inválido.", details={"field": "cursor"})
    return key


def invalid_cursor() -> ValidationFailedError:
    return ValidationFailedError("Cursor de paginação inválido.", details={"field": "cursor"})


def key_from(cursor: str | None, *parsers: Callable[[Any], Any]) -> tuple[Any, ...] | None:
    """The sort key a cursor carries, each part through its parser; 422 on anything else."""
    if cursor is None:
        return None
    parts = decode(cursor, len(parsers))
    try:
        return tuple(parse(part) for parse, part in zip(parsers, parts, strict=True))
    except (TypeError, ValueError) as exc:
        raise invalid_cursor() from exc


def page[T](
    rows: Sequence[T], limit: int, key: Callable[[T], Sequence[Any]]
) -> tuple[Sequence[T], str | None]:
    """Cut a ``limit + 1`` fetch into the page and the cursor of the next one (None at the end)."""
    items = rows[:limit]
    return items, encode(key(items[-1])) if len(rows) > limit else None
