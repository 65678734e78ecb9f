"""``python -m google_sim --port 4597 [--client-id ID --client-secret SECRET]``: the HTTP server."""

from __future__ import annotations

from google_sim.server import main

if __name__ == "__main__":
    raise SystemExit(main())
