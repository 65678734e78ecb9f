"""What the host executor enforces from outside the runtime process (limits.py), how it words a
breach, and the helpers that keep LocalStack and its runtimes from piling up (threads.py, the
runtime's parent check). Real processes and threads, no LocalStack; tests/e2e/test_local_executor.py
checks the same through real LocalStack."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

from assistec_local_executor import limits, threads
from tests.integration.executor.test_runtime_protocol import RUNTIME, FakeLocalStack, _free_port


def _spawn(code: str) -> subprocess.Popen[bytes]:
    # As the executor starts a runtime: its own session, so its process group is the sandbox.
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)],
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    return state != "Z"


GROW = """
    import time
    chunks = []
    for _ in range(128):  # up to 1 GB in 8 MB steps, then a normal exit
        chunks.append(b"x" * (8 << 20))
        time.sleep(0.005)
"""


def test_a_process_past_its_memory_size_is_killed_and_reported_as_lambda_does() -> None:
    # Given a function process that keeps allocating (and touching) memory, with MemorySize 128 MB
    process = _spawn(GROW)
    # When the watchdog watches it
    exit = limits.watch(process, memory_mb=128)
    # Then it was killed (SIGKILL, as the cgroup's OOM killer does) once past the limit
    assert exit.out_of_memory
    assert exit.returncode == -signal.SIGKILL
    assert exit.peak_mb > 128
    # And the invoke fails in Lambda's words
    body = limits.exit_error_body("req-1", exit.returncode)
    assert body == {
        "errorType": "Runtime.ExitError",
        "errorMessage": "RequestId: req-1 Error: Runtime exited with error: signal: killed",
    }
    logs = limits.exit_log_lines("req-1", exit.returncode, 812.5, 128, 128)
    assert "REPORT RequestId: req-1\tDuration: 812.50 ms" in logs
    assert "Memory Size: 128 MB\tMax Memory Used: 128 MB" in logs
    assert "RequestId: req-1 Error: Runtime exited with error: signal: killed\nRuntime.ExitError" in logs


def test_a_process_within_its_memory_size_is_left_alone() -> None:
    # Given a function process that uses ~40 MB and finishes
    process = _spawn("data = b'x' * (40 << 20)\nimport time; time.sleep(0.3)\n")
    # When watched with MemorySize 128 MB
    exit = limits.watch(process, memory_mb=128)
    # Then it ran to its normal end, and the watchdog saw its memory
    assert (exit.returncode, exit.out_of_memory) == (0, False)
    assert 40 <= exit.peak_mb < 128


def test_memory_of_child_processes_counts_and_the_whole_group_is_killed() -> None:
    # Given a function that starts a child process which does the allocating (a cgroup counts both)
    parent = _spawn(
        f"""
        import subprocess, sys, time
        child = subprocess.Popen([sys.executable, "-c", {textwrap.dedent(GROW)!r}])
        print(child.pid, flush=True)
        child.wait()
        time.sleep(30)
        """
    )
    assert parent.stdout is not None
    child_pid = int(parent.stdout.readline())
    # When watched with MemorySize 128 MB
    exit = limits.watch(parent, memory_mb=128)
    # Then the function was killed, and its child with it
    assert exit.out_of_memory
    assert exit.returncode == -signal.SIGKILL
    for _ in range(100):
        if not _alive(child_pid):
            break
        time.sleep(0.05)
    assert not _alive(child_pid)


def test_threads_address_space_is_not_mistaken_for_memory() -> None:
    # Given a function with 64 idle threads: ~512 MB of reserved stacks, little resident memory
    # (why the limit is on resident memory and not RLIMIT_AS, which threaded code would trip)
    process = _spawn(
        """
        import threading, time
        stop = threading.Event()
        workers = [threading.Thread(target=stop.wait) for _ in range(64)]
        for w in workers: w.start()
        time.sleep(0.5)
        size = [l for l in open("/proc/self/status") if l.startswith("VmSize")][0].split()[1]
        print(int(size) // 1024, flush=True)
        stop.set()
        """
    )
    # When watched with MemorySize 128 MB
    exit = limits.watch(process, memory_mb=128)
    assert process.stdout is not None
    virtual_mb = int(process.stdout.read().split()[0])
    # Then it was not killed, although its address space was far past the limit
    assert virtual_mb > 256
    assert (exit.returncode, exit.out_of_memory) == (0, False)


def test_an_idle_runtime_is_looked_at_seldom_and_a_busy_one_closely() -> None:
    # Given a function process that waits (as a runtime does between invokes) for 1.2 s
    idle = _spawn("import time; time.sleep(1.2)\n")
    # When watched while no invoke is in flight
    quiet = limits.watch(idle, memory_mb=128, busy=lambda: False, idle_poll_s=0.25)
    # Then its memory was read about every 0.25 s, not every 50 ms
    assert quiet.returncode == 0
    assert 2 <= quiet.samples <= 6
    # And the same process, busy, is read about every 50 ms
    busy = _spawn("import time; time.sleep(1.2)\n")
    close = limits.watch(busy, memory_mb=128, busy=lambda: True)
    assert close.samples >= 12


def test_the_watchdog_sees_an_exit_at_once_even_when_idle() -> None:
    # Given a runtime watched at the idle pace of a whole minute
    process = _spawn("import time; time.sleep(0.2)\n")
    started = time.monotonic()
    exit = limits.watch(process, memory_mb=128, busy=lambda: False, idle_poll_s=60)
    # Then its exit ended the watch when it happened (the wait is on the process, not a timer)
    assert exit.returncode == 0
    assert time.monotonic() - started < 30


def test_exit_reasons_read_as_lambda_writes_them() -> None:
    assert limits.exit_reason(1) == "exit status 1"
    assert limits.exit_reason(-signal.SIGKILL) == "signal: killed"
    assert limits.exit_reason(-signal.SIGSEGV) == "signal: segmentation fault"


def test_payload_limits_are_lambdas() -> None:
    # 6 MB for the synchronous request; the response error names 6 MB + 100 bytes, as Lambda's does
    assert limits.REQUEST_LIMIT_BYTES == 6_291_456
    assert limits.request_too_large_message() == (
        "Request must be smaller than 6291456 bytes for the InvokeFunction operation"
    )
    assert limits.response_too_large_body() == {
        "errorMessage": "Response payload size exceeded maximum allowed payload size (6291556 bytes).",
        "errorType": "Function.ResponseSizeTooLarge",
    }


def _vm_size_mb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmSize:"):
            return int(line.split()[1]) // 1024
    raise AssertionError("no VmSize")


def test_reaping_releases_finished_threads_stacks_and_keeps_the_rest() -> None:
    # Given LocalStack's shutdown-hook list holding 100 finished threads (one per past invocation),
    # a running one, one not started yet and a non-thread entry (its thread pool)
    registry: list[object] = []
    for _ in range(100):
        done = threading.Thread(target=lambda: None)
        done.start()
        registry.append(done)
    for entry in registry:
        assert isinstance(entry, threading.Thread)
        while entry.is_alive():
            time.sleep(0.001)
    stop = threading.Event()
    running = threading.Thread(target=stop.wait)
    running.start()
    not_started = threading.Thread(target=lambda: None)
    pool = object()
    registry += [running, not_started, pool]
    before = _vm_size_mb()
    # When the reaper runs
    reaped = threads.reap_finished(registry)
    # Then the finished threads are gone from the list and their stacks (8 MB each) are released
    assert reaped == 100
    assert registry == [running, not_started, pool]
    assert before - _vm_size_mb() >= 100 * 8 * 0.9
    stop.set()
    running.join()


def test_a_runtime_leaves_when_the_process_that_started_it_dies() -> None:
    # Given a runtime started by a process (LocalStack's stand-in) that is then killed, as
    # `make down` kills a LocalStack that hung
    fake = FakeLocalStack()
    env = {
        "PATH": os.environ["PATH"],
        "LOCALSTACK_RUNTIME_ENDPOINT": fake.url,
        "LOCALSTACK_RUNTIME_ID": "exec1",
        "ASSISTEC_RUNTIME_PORT": str(_free_port()),
        "_HANDLER": "app.handler",
    }
    middle = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import subprocess, sys, time\n"
            f"p = subprocess.Popen([sys.executable, '-S', '-u', {str(RUNTIME)!r}], start_new_session=True)\n"
            "print(p.pid, flush=True)\ntime.sleep(60)\n",
        ],
        env=env,
        stdout=subprocess.PIPE,
    )
    runtime_pid = 0
    try:
        assert middle.stdout is not None
        runtime_pid = int(middle.stdout.readline())
        path, _ = fake.next_post()
        assert path.endswith("/status/exec1/ready")
        assert _alive(runtime_pid)
        # When its parent dies without stopping it
        middle.kill()
        middle.wait()
        # Then the runtime notices it was orphaned and exits by itself
        for _ in range(100):
            if not _alive(runtime_pid):
                break
            time.sleep(0.1)
        assert not _alive(runtime_pid)
    finally:
        middle.kill()
        if runtime_pid and _alive(runtime_pid):
            os.kill(runtime_pid, signal.SIGKILL)
        fake.server.shutdown()
