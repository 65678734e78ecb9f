"""The security headers of the panel's edge, from the file the CDK app reads
(infra/assistec_infra/edge/panel_edge.json), rendered as the CDK app renders them
(assistec_infra.edge.render_header; tests/infra/test_panel.py compares the two)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

SETTINGS_JSON = Path(__file__).resolve().parents[2] / "infra" / "assistec_infra" / "edge" / "panel_edge.json"


@cache
def edge_settings() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SETTINGS_JSON.read_text())
    return loaded


def render_header(template: str, *, websocket: list[str], storage: list[str]) -> str:
    value = template.replace("{websocket}", " ".join(websocket)).replace("{storage}", " ".join(storage))
    return "; ".join(" ".join(part.split()) for part in value.split(";") if part.strip())


def security_headers(*, websocket: list[str], storage: list[str]) -> dict[str, str]:
    templates: dict[str, str] = edge_settings()["security_headers"]
    return {
        name: render_header(value, websocket=websocket, storage=storage) for name, value in templates.items()
    }
