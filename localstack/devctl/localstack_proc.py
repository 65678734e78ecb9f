"""LocalStack in host mode (no Docker): its own Python 3.13 venv, bound to 127.0.0.1.

Lambda functions run through our runtime executor (localstack/executor, plugin name ``host``) as
host subprocesses of the project's interpreter. Each runtime leads its own session (the executor
kills a function's whole process group), so it is outside LocalStack's process group: stopping
LocalStack also ends the runtimes it leaves behind (a LocalStack that hung and was killed cannot stop
them itself), found by this checkout's runtime script in their command line.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from devctl.paths import LOCAL, LOCALSTACK_PORT, LOCALSTACK_URL, PROJECT_PYTHON, ROOT

LS_DIR = LOCAL / "localstack"
VENV_PYTHON = LS_DIR / "venv" / "bin" / "python"
PID_FILE = LS_DIR / "localstack.pid"
LOG = LS_DIR / "localstack.log"
EXECUTOR_DIR = ROOT / "localstack" / "executor"
RUNTIME_SCRIPT = EXECUTOR_DIR / "assistec_local_executor" / "runtime.py"
_MAIN_MODULE = "localstack.runtime.main"


def environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "VIRTUAL_ENV", "PYTHON"))}
    env.update(
        # LocalStack's default server. Under hypercorn LocalStack closes every connection after one
        # answer (its workaround for h11 with boto) and spends two to three times the CPU per request:
        # 5.7 ms for a ListBuckets, 6.1 ms for a GenerateDataKey, 9.5 ms for a 240 KB PutObject, against
        # 2.2, 2.5 and 5.0 ms under twisted (measured 2026-11-30; a thousand-shop backup run is ~2,000
        # such requests on the same two cores).
        GATEWAY_SERVER="twisted",
        # LocalStack's calls to itself (API Gateway invoking the function, Step Functions and
        # EventBridge reaching their targets, SQS feeding a function) made in memory instead of
        # through its own HTTP server. An API request through the gateway cost 17.7 ms of its CPU,
        # 12.8 ms without that hop (measured 2026-11-30: schemathesis' 6,499 coverage-phase requests,
        # 127 s then 96 s).
        IN_MEMORY_CLIENT="1",
        GATEWAY_LISTEN=f"127.0.0.1:{LOCALSTACK_PORT}",
        LOCALSTACK_HOST=f"127.0.0.1:{LOCALSTACK_PORT}",
        LAMBDA_RUNTIME_EXECUTOR="host",
        # This checkout's executor, whatever folder the venv's editable install recorded (a .local
        # copied from another clone points there: LocalStack then falls back to Docker).
        PYTHONPATH=str(EXECUTOR_DIR),
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


@dataclass(frozen=True)
class Proc:
    pid: int
    ppid: int
    pgid: int
    command: str


def _processes() -> list[Proc]:
    found: list[Proc] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
            # /proc/<pid>/stat: "pid (comm) state ppid pgrp ..."; comm may hold spaces and parentheses.
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone meanwhile, or a kernel thread
        found.append(Proc(int(entry.name), int(fields[1]), int(fields[2]), command))
    return found


def _is_localstack(proc: Proc) -> bool:
    return proc.command.startswith(str(VENV_PYTHON)) and _MAIN_MODULE in proc.command


def _is_runtime(proc: Proc) -> bool:
    return str(RUNTIME_SCRIPT) in proc.command


def _pid() -> int | None:
    try:
        pid = int(PID_FILE.read_text())
        os.kill(pid, 0)
    except (FileNotFoundError, ValueError, ProcessLookupError):
        return None
    try:  # the PID may have been reused by an unrelated process since
        command = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return None
    return pid if _MAIN_MODULE in command else None


def running_pid() -> int | None:
    """The PID of the LocalStack that `make up` started, if it is running."""
    return _pid()


def runtime_processes() -> list[Proc]:
    """This checkout's Lambda runtime processes (the host executor's), wherever their parent is."""
    return [p for p in _processes() if _is_runtime(p)]


def leftovers() -> list[Proc]:
    """Processes of ours that no running LocalStack owns: runtimes whose LocalStack is gone (they
    were reparented), and LocalStack processes of this checkout's venv the PID file does not name."""
    main = _pid()
    return [
        p
        for p in _processes()
        if (_is_runtime(p) and p.ppid != main) or (_is_localstack(p) and p.pid != main)
    ]


def end(procs: list[Proc], timeout_s: float = 5) -> None:
    """SIGKILL these processes (a session leader with its whole group) and wait until they are gone."""
    for proc in procs:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            if proc.pgid == proc.pid:  # a session leader: its children (a function's own) go too
                os.killpg(proc.pid, signal.SIGKILL)
            else:
                os.kill(proc.pid, signal.SIGKILL)
    deadline = time.monotonic() + timeout_s
    pending = {p.pid for p in procs}
    while pending and time.monotonic() < deadline:
        for pid in list(pending):
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)
            try:
                os.kill(pid, 0)
                if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
                    pending.discard(pid)  # a zombie of someone else's: dead, awaiting its parent
            except (ProcessLookupError, OSError):
                pending.discard(pid)
        time.sleep(0.05)


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
    """Stop LocalStack, then end whatever of ours is left: the runtimes it did not stop (it hung, or
    was killed) and any LocalStack the PID file lost. Nothing of ours survives `make down`."""
    try:
        _stop_main(timeout_s)
    finally:
        end([p for p in _processes() if _is_runtime(p) or _is_localstack(p)])


def _stop_main(timeout_s: float) -> None:
    pid = _pid()
    if pid is None:
        PID_FILE.unlink(missing_ok=True)
        return
    # Its process group (LocalStack and its helpers); on SIGTERM it stops its runtimes itself.
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
