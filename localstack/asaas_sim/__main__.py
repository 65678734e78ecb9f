"""``python -m asaas_sim --port 4599 [--state FILE]``: the simulator's HTTP server (asaas_sim.server)."""

from __future__ import annotations

from asaas_sim.server import main

if __name__ == "__main__":
    raise SystemExit(main())
