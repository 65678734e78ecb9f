"""``python -m ws_gateway``, as `make up` runs it (devctl/ws_gateway_proc.py): a process that binds
127.0.0.1, answers devctl's health probe, serves the configured API and stops on SIGTERM."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
from pathlib import Path

from websockets.sync.client import connect

from devctl.simproc import Simulator
from tests.integration.ws_gateway.conftest import management_client
from tests.integration.ws_gateway.fake_lambda import FakeLambda

LOCALSTACK_DIR = Path(__file__).resolve().parents[3] / "localstack"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_cli_serves_the_config_file_until_sigterm(tmp_path: Path, fake_lambda: FakeLambda) -> None:
    # Given a configuration file naming a $connect function, and two free ports
    fake_lambda.handlers["connect"] = lambda e: {"statusCode": 200}
    config = tmp_path / "gateway.json"
    config.write_text(
        json.dumps(
            {
                "lambda_endpoint": fake_lambda.url,
                "apis": [{"api_id": "cli", "stage": "v1", "routes": {"$connect": {"function": "connect"}}}],
            }
        )
    )
    port, management_port = _free_port(), _free_port()
    probe = Simulator("ws-gateway", "ws_gateway", port, "/_ws_gateway/health")

    # When it is started as devctl starts it
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ws_gateway",
            "--port",
            str(port),
            "--management-port",
            str(management_port),
            "--config",
            str(config),
        ],
        cwd=LOCALSTACK_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        banner = ""
        while process.stdout and not banner.startswith("ws gateway:"):
            banner = process.stdout.readline()
            assert banner, "the gateway exited before serving"
        assert f"ws://127.0.0.1:{port}/v1" in banner
        assert f"http://127.0.0.1:{management_port}/v1" in banner

        # Then devctl's probe sees it, a client connects through $connect, and a post reaches it
        assert probe.is_running()
        with connect(f"ws://127.0.0.1:{port}/v1", open_timeout=15) as ws:
            connection_id = fake_lambda.next_event("connect")["requestContext"]["connectionId"]
            management_client(f"http://127.0.0.1:{management_port}/v1").post_to_connection(
                ConnectionId=connection_id, Data=b"hello"
            )
            assert ws.recv(timeout=15) == "hello"
    finally:
        # And SIGTERM stops it cleanly
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0
        if process.stdout:
            process.stdout.close()
    assert not probe.is_running()
