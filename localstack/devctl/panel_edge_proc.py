"""The panel's local edge (localstack/panel_edge: what CloudFront does for the staff's panel in prod)
as a background process on 127.0.0.1, started by `make up` once the API's URL is known.

It serves web/dist (read on each request: a panel built later shows without a restart), proxies
``/api/*`` to the local API with the prefix removed and writes ``/config.json`` with the WebSocket
URL when the stack has a WebSocket API. Its configuration is .local/panel-edge/config.json; a
changed one (a new API id, a WebSocket API that appeared) restarts it. `make down` stops it.
"""

from __future__ import annotations

import json
import os
from typing import Any

from panel_edge.server import BUILD_HINT

from devctl.paths import LOCAL, LOCALSTACK_PORT, LOCALSTACK_URL, ROOT
from devctl.simproc import Simulator

PORT = int(os.environ.get("ASSISTEC_PANEL_PORT", "4594"))
CONFIG = LOCAL / "panel-edge" / "config.json"
DIST = ROOT / "web" / "dist"
SIMULATOR = Simulator("panel-edge", "panel_edge", PORT, "/config.json", ("--config", str(CONFIG)))
URL = f"{SIMULATOR.url}/"
is_running = SIMULATOR.is_running
stop = SIMULATOR.stop
__all__ = ["BUILD_HINT", "URL", "is_built", "is_running", "stop", "up"]
# Where the local functions' presigned S3 URLs point (LocalStack, by address or by its domain names):
# the CSP lets the panel upload photos there and show them, as it allows the devices bucket in prod.
STORAGE_SOURCES = [
    LOCALSTACK_URL,
    f"http://localhost.localstack.cloud:{LOCALSTACK_PORT}",
    f"http://*.localhost.localstack.cloud:{LOCALSTACK_PORT}",
]


def edge_config(api_url: str, ws_url: str | None) -> dict[str, Any]:
    return {"dist": str(DIST), "api_url": api_url, "ws_url": ws_url, "storage_sources": STORAGE_SOURCES}


def is_built() -> bool:
    return (DIST / "index.html").is_file()


def up(api_url: str, ws_url: str | None) -> tuple[dict[str, Any], bool]:
    """What `make up` does for the panel: ``(stack.json entries, whether this call started it)``."""
    config = json.dumps(edge_config(api_url, ws_url), indent=2, sort_keys=True)
    if not CONFIG.exists() or CONFIG.read_text() != config:
        CONFIG.parent.mkdir(parents=True, exist_ok=True)
        CONFIG.write_text(config)
        stop()  # an edge serving an older configuration
    started = SIMULATOR.start()
    return {"panel_url": URL, "panel_built": is_built()}, started
