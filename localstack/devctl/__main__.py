"""`python -m devctl {up,down,dev,status,pg-start,pg-stop,pg-reset,test}` (PYTHONPATH=localstack)."""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import threading

from devctl import (
    asaas_proc,
    evolution_proc,
    google_proc,
    localstack_proc,
    panel_edge_proc,
    pg,
    pooler,
    stack,
    ws_gateway_proc,
)
from devctl.paths import PROJECT_PYTHON, ROOT


def _dev() -> int:
    info, _ = stack.up()
    print(stack.banner(info))
    print("  Ctrl-C stops everything.\n", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    while not stop.wait(1):
        if not localstack_proc.is_healthy():
            print("LocalStack stopped answering; see its log.", file=sys.stderr)
            break
    print("\nstopping…", flush=True)
    stack.down()
    return 0


def _test(pytest_args: list[str]) -> int:
    """Bring up what the suite needs, run it, and stop only what this run started (also when the
    set-up itself fails: a failed deploy leaves no PostgreSQL or LocalStack behind)."""
    started = stack.Started(postgres=False, localstack=False)
    try:
        info, _ = stack.up(started)
        print(stack.banner(info), flush=True)
        return subprocess.call([str(PROJECT_PYTHON), "-m", "pytest", *pytest_args], cwd=ROOT)
    finally:
        if started.asaas_sim:
            asaas_proc.stop()
        if started.evolution_sim:
            evolution_proc.stop()
        if started.google_sim:
            google_proc.stop()
        if started.ws_gateway:
            ws_gateway_proc.stop()
        if started.panel_edge:
            panel_edge_proc.stop()
        if started.localstack:
            localstack_proc.stop()
        if started.postgres:
            pg.stop()


def _print_processes() -> None:
    """Lambda runtimes of the running LocalStack, and what no running LocalStack owns (`make down`
    ends those)."""
    main = localstack_proc.running_pid()
    owned = [p for p in localstack_proc.runtime_processes() if main is not None and p.ppid == main]
    if owned:
        print(f"  lambda runtimes  {len(owned)} running under LocalStack (pid {main})")
    leftovers = localstack_proc.leftovers()
    if leftovers:
        print(f"leftover processes ({len(leftovers)}, owned by no running LocalStack; `make down` ends them)")
        for proc in leftovers:
            print(f"  pid {proc.pid:<8} parent {proc.ppid:<8} {proc.command[:150]}")


def main() -> int:
    parser = argparse.ArgumentParser(prog="devctl")
    parser.add_argument(
        "command", choices=["up", "down", "dev", "status", "pg-start", "pg-stop", "pg-reset", "test"]
    )
    parser.add_argument("rest", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    match args.command:
        case "up":
            info, _ = stack.up()
            print(stack.banner(info))
        case "down":
            stack.down()
        case "dev":
            return _dev()
        case "status":
            print(f"postgres   {'running' if pg.is_running() else 'stopped'}")
            print(f"pgbouncer  {'running' if pooler.is_running() else 'stopped'}")
            print(f"localstack {'running' if localstack_proc.is_healthy() else 'stopped'}")
            for name, sim in (
                ("asaas-sim", asaas_proc),
                ("evolution", evolution_proc),
                ("google-sim", google_proc),
            ):
                print(f"{name:<10} {'running' if sim.is_running() else 'stopped'}  {sim.URL}")
            gateway = "running" if ws_gateway_proc.is_running() else "stopped"
            print(
                f"ws-gateway {gateway}  {ws_gateway_proc.URL}  (only when the stack declares a WebSocket API)"
            )
            panel = "running" if panel_edge_proc.is_running() else "stopped"
            built = "built" if panel_edge_proc.is_built() else "not built: web/dist is missing"
            print(f"panel-edge {panel}  {panel_edge_proc.URL}  ({built})")
            _print_processes()
        case "pg-start":
            pg.start()
        case "pg-stop":
            pg.stop()
        case "pg-reset":
            pg.reset()
        case "test":
            return _test(args.rest)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
