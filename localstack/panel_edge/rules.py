"""CloudFront's behaviors and functions for the panel, in Python: which behavior a path takes
(``/api/*`` or the default), and the two viewer-request functions
(infra/assistec_infra/edge/spa_fallback.js and strip_api_prefix.js). Paths are the request's path
alone, as CloudFront's ``request.uri`` (the query string travels apart)."""

from __future__ import annotations

import fnmatch
from typing import Literal

from panel_edge.headers import edge_settings

Behavior = Literal["api", "panel"]


def behavior(uri: str) -> Behavior:
    """The cache behavior CloudFront picks: its path patterns are case-sensitive and ``*`` matches
    any characters, slashes included."""
    return "api" if fnmatch.fnmatchcase(uri, edge_settings()["api_path_pattern"]) else "panel"


def strip_api_prefix(uri: str) -> str:
    """strip_api_prefix.js: ``/api/orders`` -> ``/orders`` (one prefix only)."""
    prefix: str = edge_settings()["api_prefix"]
    return uri[len(prefix) :] if uri.startswith(prefix + "/") else uri


def spa_fallback(uri: str) -> str:
    """spa_fallback.js: a path whose last segment has no ``.`` is the SPA's: ``/index.html``."""
    last_segment = uri[uri.rfind("/") + 1 :]
    return uri if "." in last_segment else "/index.html"


def origin_uri(uri: str) -> tuple[Behavior, str]:
    """The behavior and the path its origin is asked for."""
    chosen = behavior(uri)
    return chosen, strip_api_prefix(uri) if chosen == "api" else spa_fallback(uri)
