"""``python -m evolution_sim --port 4598 [--api-key KEY]``: the HTTP server (evolution_sim.server)."""

from __future__ import annotations

from evolution_sim.server import main

if __name__ == "__main__":
    raise SystemExit(main())
