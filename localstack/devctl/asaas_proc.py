"""The offline Asaas simulator (localstack/asaas_sim) as a background process on 127.0.0.1."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request

from devctl.paths import LOCAL, PROJECT_PYTHON, ROOT

PORT = int(os.environ.get("ASSISTEC_ASAAS_SIM_PORT", "4599"))
URL = f"http://127.0.0.1:{PORT}"
DIR = LOCAL / "asaas-sim"
PID_FILE = DIR / "asaas-sim.pid"
LOG = DIR / "asaas-sim.log"


def is_running() -> bool:
    try:
        # Any HTTP answer (a 401 without a key) means it is up.
        urllib.request.urlopen(f"{URL}/v3/payments", timeout=1)
    except urllib.error.HTTPError:
        return True
    except (urllib.error.URLError, OSError):
        return False
    return True


def start(timeout_s: float = 15) -> bool:
    """Start it unless it answers; True when this call started it."""
    if is_running():
        return False
    DIR.mkdir(parents=True, exist_ok=True)
    with LOG.open("ab") as log:
        proc = subprocess.Popen(
            [str(PROJECT_PYTHON), "-m", "asaas_sim", "--port", str(PORT), "--state", str(DIR / "state.json")],
            cwd=ROOT / "localstack",
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    PID_FILE.write_text(str(proc.pid))
    deadline = time.monotonic() + timeout_s
    while not is_running():
        if proc.poll() is not None or time.monotonic() > deadline:
            stop()
            raise RuntimeError(f"the Asaas simulator did not start; see {LOG}")
        time.sleep(0.1)
    return True


def stop() -> None:
    try:
        pid = int(PID_FILE.read_text())
    except (FileNotFoundError, ValueError):
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGTERM)
    for _ in range(50):
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    PID_FILE.unlink(missing_ok=True)
