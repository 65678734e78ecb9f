"""Lambda runtime processes that no running LocalStack owns (after LocalStack hung and was killed:
they lead their own sessions, outside its process group): `make status` lists them and `make down`
ends them, with their children. A stand-in process carries the runtime script's path in its command
line, so no LocalStack is touched."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from devctl import localstack_proc

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def orphan() -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """A stand-in runtime (its own session, as the executor starts them) with a child of its own,
    whose parent is not LocalStack."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import subprocess, sys, time\n"
            "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)'])\n"
            "print(child.pid, flush=True)\ntime.sleep(120)\n",
            str(localstack_proc.RUNTIME_SCRIPT),
        ],
        start_new_session=True,
        stdout=subprocess.PIPE,
    )
    assert process.stdout is not None
    child = int(process.stdout.readline())
    yield process, child
    for pid in (process.pid, child):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    process.wait()


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"


def test_status_lists_a_runtime_no_localstack_owns(orphan: tuple[subprocess.Popen[bytes], int]) -> None:
    process, _ = orphan
    # Given a runtime process whose parent is not the running LocalStack
    assert process.pid in {p.pid for p in localstack_proc.leftovers()}
    # When `make status` runs
    out = subprocess.run(
        [sys.executable, "-m", "devctl", "status"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": "localstack:functions"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    # Then it lists it among the leftovers
    assert "leftover processes" in out
    assert f"pid {process.pid} " in out


def test_ending_leftovers_takes_the_runtime_and_its_children(
    orphan: tuple[subprocess.Popen[bytes], int],
) -> None:
    process, child = orphan
    # Given a leftover runtime that started a process of its own
    leftover = [p for p in localstack_proc.leftovers() if p.pid == process.pid]
    assert len(leftover) == 1
    # When `make down` ends the leftovers
    localstack_proc.end(leftover)
    # Then the runtime and its child are both gone
    process.wait(timeout=5)
    for _ in range(100):
        if _gone(child):
            break
        time.sleep(0.05)
    assert _gone(child)
    assert process.pid not in {p.pid for p in localstack_proc.leftovers()}
