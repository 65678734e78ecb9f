"""The offline Asaas simulator (localstack/asaas_sim) as a background process on 127.0.0.1."""

from __future__ import annotations

import os

from devctl.paths import LOCAL
from devctl.simproc import Simulator

PORT = int(os.environ.get("ASSISTEC_ASAAS_SIM_PORT", "4599"))
SIMULATOR = Simulator(
    "asaas-sim", "asaas_sim", PORT, "/v3/payments", ("--state", str(LOCAL / "asaas-sim" / "state.json"))
)
URL = SIMULATOR.url
is_running = SIMULATOR.is_running
start = SIMULATOR.start
stop = SIMULATOR.stop
