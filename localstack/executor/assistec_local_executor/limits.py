"""What Lambda enforces on a function, enforced from outside the runtime process, and the shapes in
which Lambda reports a breach. Standard library only (no LocalStack import): the executor uses it
inside LocalStack, the tests drive it directly.

- Memory: the sandbox's cgroup kills the runtime when it exceeds MemorySize. Here a watchdog polls
  the resident memory of the runtime process and its descendants and SIGKILLs the process group
  past the limit; the invoke then fails as in AWS: ``Runtime.ExitError`` / "Runtime exited with
  error: signal: killed". (RLIMIT_AS would be simpler but is not faithful: it caps address space,
  and every Python thread reserves an 8 MB stack of it, so threaded code fails long before its
  resident memory reaches the limit.)
- Init: 10 s for an on-demand environment; past it the init is abandoned ("INIT_REPORT ...
  Phase: init Status: timeout") and retried inside the first invoke within the function timeout.
- Payloads: 6 MB for a synchronous request (RequestEntityTooLargeException) and 6 MB + 100 bytes
  for the response (Function.ResponseSizeTooLarge).
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

REQUEST_LIMIT_BYTES = 6 * 1024 * 1024  # 6,291,456: the synchronous Invoke request body
RESPONSE_LIMIT_BYTES = REQUEST_LIMIT_BYTES + 100  # 6,291,556: what Lambda's error message names
INIT_LIMIT_S = 10.0
MEMORY_POLL_S = 0.05

# Go's names for signals (Lambda's runtime supervisor is written in Go: "signal: killed").
_SIGNAL_NAMES = {
    signal.SIGKILL: "killed",
    signal.SIGTERM: "terminated",
    signal.SIGSEGV: "segmentation fault",
    signal.SIGABRT: "aborted",
    signal.SIGBUS: "bus error",
    signal.SIGILL: "illegal instruction",
    signal.SIGFPE: "floating point exception",
    signal.SIGINT: "interrupt",
    signal.SIGHUP: "hangup",
    signal.SIGPIPE: "broken pipe",
    signal.SIGQUIT: "quit",
}


def exit_reason(returncode: int) -> str:
    """``exit status 1`` or ``signal: killed``, as Lambda words a runtime's exit."""
    if returncode < 0:
        number = -returncode
        try:
            name = _SIGNAL_NAMES.get(signal.Signals(number), f"signal {number}")
        except ValueError:
            name = f"signal {number}"
        return f"signal: {name}"
    return f"exit status {returncode}"


def exit_error_body(request_id: str, returncode: int) -> dict[str, Any]:
    reason = exit_reason(returncode)
    return {
        "errorType": "Runtime.ExitError",
        "errorMessage": f"RequestId: {request_id} Error: Runtime exited with error: {reason}",
    }


def exit_log_lines(request_id: str, returncode: int, duration_ms: float, memory_mb: int, used_mb: int) -> str:
    """What the platform writes when the runtime dies mid-invoke (the runtime cannot)."""
    return (
        f"END RequestId: {request_id}\n"
        f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms"
        f"\tBilled Duration: {int(duration_ms) + 1} ms\tMemory Size: {memory_mb} MB"
        f"\tMax Memory Used: {used_mb} MB\n"
        f"RequestId: {request_id} Error: Runtime exited with error: {exit_reason(returncode)}\n"
        "Runtime.ExitError\n"
    )


def request_too_large_message() -> str:
    return f"Request must be smaller than {REQUEST_LIMIT_BYTES} bytes for the InvokeFunction operation"


def response_too_large_body() -> dict[str, Any]:
    return {
        "errorMessage": "Response payload size exceeded maximum allowed payload size "
        f"({RESPONSE_LIMIT_BYTES} bytes).",
        "errorType": "Function.ResponseSizeTooLarge",
    }


def init_report(duration_ms: float, phase: str, status: str) -> str:
    return f"INIT_REPORT Init Duration: {duration_ms:.2f} ms\tPhase: {phase}\tStatus: {status}\n"


def init_failed_body(request_id: str) -> dict[str, Any]:
    """The retried init (inside the invoke) did not finish within the function timeout either."""
    return {
        "errorType": "Runtime.Unknown",
        "errorMessage": f"RequestId: {request_id} Error: Unknown application error occurred",
    }


# --- memory ------------------------------------------------------------------------------------


def _rss_kb(pid: int) -> int:
    # statm's second field: resident pages (one short line, no parsing of status's fifty).
    try:
        with open(f"/proc/{pid}/statm", "rb") as statm:
            return int(statm.read().split()[1]) * _PAGE_KB
    except (OSError, ValueError, IndexError):
        return 0


_PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


def _children(pid: int) -> list[int]:
    found: list[int] = []
    with contextlib.suppress(OSError):
        for task in os.listdir(f"/proc/{pid}/task"):
            with (
                contextlib.suppress(OSError, ValueError),
                open(f"/proc/{pid}/task/{task}/children", "rb") as f,
            ):
                found += [int(child) for child in f.read().split()]
    return found


def tree_rss_mb(pid: int) -> int:
    """Resident memory of a process and its descendants, in MB (the sandbox's cgroup counts them all)."""
    total_kb, pending, seen = 0, [pid], set()
    while pending:
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        total_kb += _rss_kb(current)
        pending += _children(current)
    return total_kb // 1024


@dataclass(frozen=True)
class Exit:
    returncode: int
    out_of_memory: bool  # killed by the watchdog for exceeding the function's MemorySize
    peak_mb: int  # the highest resident memory the watchdog saw
    samples: int = 0  # how many times the watchdog read the process tree's memory


# Between invokes the runtime waits for the next one (in AWS its sandbox is frozen then): its memory
# is looked at this often only, not every MEMORY_POLL_S (an invoke that starts meanwhile is looked at
# closely from the next look on).
IDLE_POLL_S = 0.25


def watch(
    process: subprocess.Popen[bytes],
    memory_mb: int,
    poll_s: float = MEMORY_POLL_S,
    *,
    busy: Callable[[], bool] | None = None,
    idle_poll_s: float = IDLE_POLL_S,
) -> Exit:
    """Wait for the runtime process to exit, killing its process group when its resident memory
    exceeds ``memory_mb``. Runs in the caller's thread for the process's whole life.

    Memory is read every ``poll_s`` while ``busy()`` (starting or invoking; always, without
    ``busy``), every ``idle_poll_s`` otherwise. The wait in between blocks on the process's pidfd
    (``Popen.wait(timeout)`` would wake a dozen times per poll to ask): a dozen idle runtimes cost
    LocalStack's process next to nothing, where they cost it a tenth of a core."""
    peak, out_of_memory, samples = 0, False, 0
    pidfd = _pidfd(process.pid)
    try:
        while True:
            interval = poll_s if busy is None or busy() else idle_poll_s
            if _exited(process, pidfd, interval):
                return Exit(process.wait(), out_of_memory, peak, samples)
            if out_of_memory:
                continue
            rss = tree_rss_mb(process.pid)
            samples += 1
            peak = max(peak, rss)
            if rss > memory_mb:
                out_of_memory = True
                # The runtime leads its own session (start_new_session): its group is the sandbox.
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
    finally:
        if pidfd is not None:
            os.close(pidfd)


def _pidfd(pid: int) -> int | None:
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):  # not Linux ≥ 5.3, or already reaped
        return None


def _exited(process: subprocess.Popen[bytes], pidfd: int | None, timeout_s: float) -> bool:
    """Whether the process exited within ``timeout_s`` (not reaped: the caller's ``wait`` does)."""
    if pidfd is None:
        try:
            process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            return False
        return True
    poller = select.poll()
    poller.register(pidfd, select.POLLIN)
    return bool(poller.poll(timeout_s * 1000))


def monotonic_ms_since(started: float) -> float:
    return (time.monotonic() - started) * 1000
