"""``python -m ws_gateway --config FILE [--port 4595] [--management-port 4596]``: the gateway."""

from __future__ import annotations

from ws_gateway.server import main

if __name__ == "__main__":
    raise SystemExit(main())
