"""The web panel's weight and its board at scale, in headless Chromium (Debian's): the built
bundle's gzip size, and the time from navigation until the board shows every order of a shop with
BOARD_ORDERS open orders (500; 30 when BENCH_RUNS=1, as in `make test`: a smoke run), cold (empty
cache) and warm. The API is the deployed local stack (LocalStack's API Gateway → the API function
on the host executor), so the figure includes its latency. Reported, never asserted.

Needs the stack up (`make up`)."""

from __future__ import annotations

import gzip
import json
import os
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.bench.conftest import report

STACK_JSON = Path(__file__).resolve().parents[2] / ".local" / "stack.json"
ORDERS = int(os.environ.get("BOARD_ORDERS") or (30 if os.environ.get("BENCH_RUNS") == "1" else 500))


def _bundle() -> dict[str, float]:
    from tests.web_panel import ensure_built

    dist = ensure_built()
    sizes = {"js": 0, "css": 0, "html": 0}
    for path in [dist / "index.html", *(dist / "assets").iterdir()]:
        kind = {".js": "js", ".css": "css", ".html": "html"}.get(path.suffix)
        if kind:
            sizes[kind] += len(gzip.compress(path.read_bytes(), compresslevel=9))
    return {f"{k}_gzip_kb": round(v / 1024, 1) for k, v in sizes.items()}


@pytest.mark.e2e
def test_panel_bundle_and_board_time_to_interactive() -> None:
    if not STACK_JSON.exists():
        pytest.skip("the local stack is not up: `make up` first")
    from playwright.sync_api import sync_playwright

    from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS
    from tests.e2e.panel_server import serve_panel
    from tests.e2e.shops import new_shop

    stack: dict[str, Any] = json.loads(STACK_JSON.read_text())
    sizes = _bundle()
    with httpx.Client(base_url=stack["api_url"], timeout=httpx.Timeout(60.0)) as http:
        shop = new_shop(http, "Loja Quadro Bench")
        headers = {"Authorization": f"Bearer {shop['access_token']}"}
        customer = http.post(
            "/customers",
            headers=headers,
            json={"name": "Bench", "phone": f"31 9{uuid.uuid4().int % 10**8:08d}"},
        ).json()
        device = http.post(
            f"/customers/{customer['id']}/devices",
            headers=headers,
            json={"type": "phone", "brand": "Motorola", "model": "Moto G84"},
        ).json()

        def create(i: int) -> None:
            body = {
                "customer_id": customer["id"],
                "device_id": device["id"],
                "reported_problem": f"Defeito {i}",
            }
            made = http.post("/orders", headers=headers, json=body)
            assert made.status_code == 201, made.text

        with ThreadPoolExecutor(4) as pool:
            list(pool.map(create, range(ORDERS)))
        tokens = http.post("/auth/login", json={"email": shop["email"], "password": shop["password"]}).json()

    def open_board(context: Any) -> float:
        page = context.new_page()
        page.goto(f"{panel}/")
        # (a locator's wait: wait_for_function evaluates a string, which the panel's CSP refuses)
        page.locator(".order-card").nth(ORDERS - 1).wait_for(state="attached", timeout=120_000)
        elapsed = float(page.evaluate("performance.now()"))
        page.close()
        return elapsed

    rows: list[dict[str, Any]] = []
    with serve_panel(Path(__file__).resolve().parents[2] / "web" / "dist", stack["api_url"]) as served:
        panel = stack.get("panel_url") or served
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="pt-BR")
            # Logged in as the panel keeps it (sessionStorage), so the figure is the board's alone.
            context.add_init_script(
                f"sessionStorage.setItem('assistec.session', {json.dumps(json.dumps(tokens))})"
            )
            cold = open_board(context)
            warm = open_board(context)
            browser.close()
    rows.append({"orders": ORDERS, "cold_ms": round(cold), "warm_ms": round(warm), **sizes})
    report("panel_board", rows)
