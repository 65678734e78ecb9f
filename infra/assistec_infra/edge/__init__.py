"""The panel's edge as files: the CloudFront Functions' JavaScript and panel_edge.json (the /api
prefix and the security headers), shared with the local stand-in (localstack/panel_edge), which
reads the same JSON and renders the headers the same way (tests/infra/test_panel.py compares them)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

EDGE_DIR = Path(__file__).resolve().parent
SPA_FALLBACK_JS = EDGE_DIR / "spa_fallback.js"
STRIP_API_PREFIX_JS = EDGE_DIR / "strip_api_prefix.js"
SETTINGS_JSON = EDGE_DIR / "panel_edge.json"


def settings() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SETTINGS_JSON.read_text())
    return loaded


def render_header(template: str, *, websocket: list[str], storage: list[str]) -> str:
    """A header's value with its placeholders filled (sources space-separated; none: dropped) and each
    ``;``-separated directive's spaces collapsed. Kept identical to panel_edge.headers.render_header."""
    value = template.replace("{websocket}", " ".join(websocket)).replace("{storage}", " ".join(storage))
    return "; ".join(" ".join(part.split()) for part in value.split(";") if part.strip())


def security_headers(*, websocket: list[str], storage: list[str]) -> dict[str, str]:
    """The headers every answer of the panel's edge carries (CloudFront's response headers policy)."""
    return {
        name: render_header(value, websocket=websocket, storage=storage)
        for name, value in settings()["security_headers"].items()
    }
