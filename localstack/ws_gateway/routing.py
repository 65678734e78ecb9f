"""Route selection for incoming messages, as API Gateway does it: the route selection expression
(``$request.body.action``) is evaluated on the message's JSON body; when its value is a route key
of the API that route gets the message, otherwise ``$default`` does, and with no ``$default`` the
client is answered "Forbidden"."""

from __future__ import annotations

import json
from collections.abc import Collection

from ws_gateway.config import CONNECT, DEFAULT, DISCONNECT

_NOT_SELECTABLE = {CONNECT, DISCONNECT}


def selected_value(path: tuple[str, ...], body: str) -> str | None:
    """The selection expression's value for a message body: None when the body is not a JSON
    object or the path does not lead to a string."""
    try:
        node: object = json.loads(body)
    except ValueError:
        return None
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node if isinstance(node, str) else None


def select_route(path: tuple[str, ...], body: str, routes: Collection[str]) -> str | None:
    """The route key that gets the message, or None when no route takes it (no ``$default``)."""
    value = selected_value(path, body)
    if value is not None and value in routes and value not in _NOT_SELECTABLE:
        return value
    return DEFAULT if DEFAULT in routes else None
