"""``python -m panel_edge``, as `make up` runs it (devctl/panel_edge_proc.py): a process on 127.0.0.1
that answers devctl's probe (/config.json), serves the configured panel and stops on SIGTERM."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx

from devctl.simproc import Simulator

LOCALSTACK_DIR = Path(__file__).resolve().parents[3] / "localstack"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_cli_serves_the_config_file_until_sigterm(tmp_path: Path) -> None:
    # Given the configuration devctl writes, for a built panel
    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / "index.html").write_text("<!doctype html><title>painel</title>")
    config = tmp_path / "config.json"
    config.write_text(
        json.dumps({"dist": str(dist), "api_url": "http://127.0.0.1:9/_aws/execute-api/x/v1", "ws_url": None})
    )
    port = _free_port()
    probe = Simulator("panel-edge", "panel_edge", port, "/config.json")
    # When it is started as devctl starts it
    process = subprocess.Popen(
        [sys.executable, "-m", "panel_edge", "--port", str(port), "--config", str(config)],
        cwd=LOCALSTACK_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == f"panel edge on http://127.0.0.1:{port}"
        # Then devctl's probe finds it up, and it serves the panel and its config
        assert probe.is_running()
        assert httpx.get(f"http://127.0.0.1:{port}/orders/1", timeout=5).text.endswith("painel</title>")
        assert httpx.get(f"http://127.0.0.1:{port}/config.json", timeout=5).json() == {
            "apiBase": "/api",
            "wsUrl": None,
        }
    finally:
        # And SIGTERM (devctl's stop) ends it
        process.send_signal(signal.SIGTERM)
        assert process.wait(10) == -signal.SIGTERM
    assert not probe.is_running()
