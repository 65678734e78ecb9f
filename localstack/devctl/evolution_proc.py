"""The offline Evolution API simulator (localstack/evolution_sim) as a background process on 127.0.0.1.

It keeps its instances in memory: after a restart the shops' numbers are gone from it; `make up`
connects the demo shop's again (the API re-creates an instance the server lost)."""

from __future__ import annotations

import os

from devctl.simproc import Simulator

PORT = int(os.environ.get("ASSISTEC_EVOLUTION_SIM_PORT", "4598"))
# The simulator's global key (its AUTHENTICATION_API_KEY): local only, never a real server's.
API_KEY = "assistec-local-evolution-key"
SIMULATOR = Simulator(
    "evolution-sim", "evolution_sim", PORT, "/instance/fetchInstances", ("--api-key", API_KEY)
)
URL = SIMULATOR.url
is_running = SIMULATOR.is_running
start = SIMULATOR.start
stop = SIMULATOR.stop
