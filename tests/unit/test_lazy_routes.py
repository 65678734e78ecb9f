"""The API's rarely used route groups (api/app.py LAZY_ROUTES) stay off its cold start, and loading
them on demand changes no answer: every route of a group lies in the paths that load it, no other
route lies there, and no path could be answered by two routes (so the order routes are included in,
eager or on demand, decides nothing)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from aws_lambda_powertools.event_handler.api_gateway import Route

from assistec.api import app as api_app

ROOT = Path(__file__).resolve().parents[2]
LAZY_MODULES = {name for group in api_app.LAZY_ROUTES for name in group.modules}
# What made the banking routes heavy: they must not come in by another import either.
HEAVY = {
    "assistec.services.banking.intake",
    "assistec.domain.banking.cnab",
    "assistec.domain.banking.reconcile",
}


def _sample(rule: str) -> str:
    """A path a rule matches: each ``<param>`` one segment."""
    return re.sub(r"<\w+>", "x1", rule)


def _routes() -> list[Route]:
    api_app.include_all_routes()
    return [*api_app.app._static_routes, *api_app.app._dynamic_routes]  # Powertools' own lists


def _module(route: Route) -> str:
    return str(route.func.__module__)


def test_a_cold_import_of_the_api_leaves_the_lazy_route_modules_out() -> None:
    probe = (
        "import sys\n"
        "import assistec.handlers.api\n"
        f"print(sorted(m for m in {sorted(LAZY_MODULES | HEAVY)!r} if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT / "functions",
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "POWERTOOLS_METRICS_NAMESPACE": "Test"},
    )
    assert out.stdout.strip() == "[]", out.stdout


def test_every_lazy_route_lies_in_its_groups_paths_and_no_other_route_does() -> None:
    routes = _routes()
    lazy = [r for r in routes if _module(r) in LAZY_MODULES]
    assert {_module(r) for r in lazy} == LAZY_MODULES, "a lazy module without routes"
    for route in routes:
        path = _sample(route.path)
        covering = {g.name for g in api_app.LAZY_ROUTES if g.covers(path)}
        owner = {g.name for g in api_app.LAZY_ROUTES if _module(route) in g.modules}
        assert covering == owner, (route.method, route.path, covering, owner)


def test_no_path_is_answered_by_two_routes() -> None:
    routes = _routes()
    for route in routes:
        path = _sample(route.path)
        # Powertools tries every static route before any dynamic one: only one of a kind may match.
        rivals = [
            (r.method, r.path)
            for r in routes
            if r is not route
            and r.method == route.method
            and (r.rule.groups > 0) == (route.rule.groups > 0)
            and r.rule.match(path)
        ]
        assert not rivals, (route.method, route.path, rivals)


def test_the_orders_boletos_rule_loads_banking_and_other_orders_paths_do_not() -> None:
    (banking,) = [g for g in api_app.LAZY_ROUTES if g.name == "banking"]
    assert banking.covers("/orders/3f1c/boletos")
    assert banking.covers("/banking/boletos")
    assert banking.covers("/banking/anything/unknown")
    outside = ("/orders", "/orders/3f1c", "/orders/3f1c/quotes", "/orders/3f1c/boletos/x", "/bankingx", "/")
    for path in outside:
        assert not banking.covers(path), path
