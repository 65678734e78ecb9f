"""LocalStack in host mode (no Docker): its own Python 3.13 venv, bound to 127.0.0.1.

Lambda functions run through our runtime executor (localstack/executor, plugin name ``host``) as
host subprocesses of the project's interpreter.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from devctl.paths import LOCAL, LOCALSTACK_PORT, LOCALSTACK_URL, PROJECT_PYTHON

LS_DIR = LOCAL / "localstack"
VENV_PYTHON = LS_DIR / "venv" / "bin" / "python"
PID_FILE = LS_DIR / "localstack.pid"
LOG = LS_DIR / "localstack.log"


def environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "VIRTUAL_ENV", "PYTHON"))}
    env.update(
        GATEWAY_SERVER="hypercorn",
        GATEWAY_LISTEN=f"127.0.0.1:{LOCALSTACK_PORT}",
        LOCALSTACK_HOST=f"127.0.0.1:{LOCALSTACK_PORT}",
        LAMBDA_RUNTIME_EXECUTOR="host",
        ASSISTEC_LAMBDA_PYTHON=str(PROJECT_PYTHON),
        LOCALSTACK_VOLUME_DIR=str(LS_DIR / "volume"),
        # No network here: nothing may be fetched at start (TLS cert, analytics) and no DNS server.
        SKIP_SSL_CERT_DOWNLOAD="1",
        DISABLE_EVENTS="1",
        DNS_ADDRESS="0",
        LS_LOG=os.environ.get("LS_LOG", "info"),
    )
    return env


def is_healthy() -> bool:
    try:
        with urllib.request.urlopen(f"{LOCALSTACK_URL}/_localstack/health", timeout=2) as resp:
            return bool(resp.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _pid() -> int | None:
    try:
        pid = int(PID_FILE.read_text())
        os.kill(pid, 0)
        return pid
    except (FileNotFoundError, ValueError, ProcessLookupError):
        return None


def start(timeout_s: float = 90) -> bool:
    """Start LocalStack unless it already answers; True when this call started it."""
    if is_healthy():
        return False
    if not VENV_PYTHON.exists():
        raise RuntimeError("LocalStack venv missing: run `make deps`")
    LS_DIR.mkdir(parents=True, exist_ok=True)
    with LOG.open("ab") as log:
        proc = subprocess.Popen(
            [str(VENV_PYTHON), "-m", "localstack.runtime.main"],
            cwd=LS_DIR,
            env=environment(),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    PID_FILE.write_text(str(proc.pid))
    deadline = time.monotonic() + timeout_s
    while not is_healthy():
        if proc.poll() is not None:
            raise RuntimeError(f"LocalStack exited with {proc.returncode}; see {LOG}")
        if time.monotonic() > deadline:
            stop()
            raise RuntimeError(f"LocalStack did not become healthy in {timeout_s:.0f} s; see {LOG}")
        time.sleep(0.25)
    return True


def stop(timeout_s: float = 20) -> None:
    pid = _pid()
    if pid is None:
        PID_FILE.unlink(missing_ok=True)
        return
    # The whole process group: LocalStack and the function subprocesses it spawned.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        # Reap it when it is our own child (make dev), or a zombie would look alive.
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.2)
    else:
        os.killpg(pid, signal.SIGKILL)
    PID_FILE.unlink(missing_ok=True)


def log_path() -> Path:
    return LOG
