"""Rarely used routes load on demand (api/app.py LAZY_ROUTES): in a fresh API process, as a cold
Lambda, the first request of a group imports it and is answered as ever, and paths outside it
neither load it nor answer differently; against the real PostgreSQL."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

from assistec import __version__
from assistec.api.app import LAZY_ROUTES
from tests.conftest import PgDatabase
from tests.integration.conftest import SIGNING_KEY, Client, authorize, rest_event, signup

ROOT = Path(__file__).resolve().parents[2]
BANKING = [
    "assistec.api.banking",
    "assistec.api.banking_boletos",
    "assistec.api.banking_remessas",
    "assistec.api.banking_reconciliation",
]
# A fresh interpreter: import the API handler, then answer each event, noting after each which
# lazy route modules are loaded (``lazy``: the ones looked for).
PROBE = """
import json, sys
from assistec.handlers.api import handler
from tests.conftest import LambdaContext
events, lazy = json.load(sys.stdin)
out = {"cold": [m for m in lazy if m in sys.modules], "answers": []}
for event in events:
    response = handler(event, LambdaContext())
    body = json.loads(response["body"]) if response.get("body") else None
    out["answers"].append([response["statusCode"], body, [m for m in lazy if m in sys.modules]])
print(json.dumps(out))
"""


def _fresh_api(
    database: PgDatabase, events: list[dict[str, Any]], lazy: list[str] = BANKING
) -> dict[str, Any]:
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(ROOT),
        "POWERTOOLS_METRICS_NAMESPACE": "AssistecTest",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "STAGE": "test",
        "APP_VERSION": __version__,
        "DATABASE_URL": database.app_url,
        "DB_SSLMODE": "disable",
        "AUTH_SIGNING_KEY": SIGNING_KEY,
        "DEVICES_BUCKET": "assistec-test-photos",
        "UNLOCK_CODE_KEY_ID": "alias/assistec-test-unlock",
        "EVENT_BUS_NAME": "assistec-test",
        "PAYMENTS_KEY_ID": "alias/assistec-test-secrets",
        "PAYMENTS_QUEUE_URL": "https://sqs.test/assistec-payments",
    }
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT / "functions",
        input=json.dumps([events, lazy]),
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def test_a_cold_api_loads_the_banking_routes_on_their_first_request(
    client: Client, database: PgDatabase
) -> None:
    shop = signup(client)
    context = authorize(shop.access_token)
    expected_boletos = client.call("GET", "/banking/boletos", shop.access_token)
    assert expected_boletos[0] == 200, expected_boletos

    out = _fresh_api(
        database,
        [
            rest_event("GET", "/orders", authorizer=context),
            rest_event("GET", "/banking/nothing-here", authorizer=context),
            rest_event("GET", "/banking/boletos", authorizer=context),
            rest_event("DELETE", "/banking/boletos", authorizer=context),
        ],
    )

    assert out["cold"] == []
    (orders, unknown, boletos, wrong_method) = out["answers"]
    assert (orders[0], orders[2]) == (200, []), orders  # a path of no lazy group loads none
    # an unknown path under /banking/ loads the group, and is still no route
    assert (unknown[0], unknown[1]["code"], unknown[2]) == (404, "route_not_found", BANKING), unknown
    assert (boletos[0], boletos[1]) == (200, expected_boletos[1]), boletos
    assert (wrong_method[0], wrong_method[1]["code"]) == (404, "route_not_found"), wrong_method


def test_a_cold_api_answers_an_orders_boletos_route_first(client: Client, database: PgDatabase) -> None:
    shop = signup(client)
    context = authorize(shop.access_token)
    order_id = str(uuid.uuid4())
    expected = client.call("GET", f"/orders/{order_id}/boletos", shop.access_token)

    out = _fresh_api(database, [rest_event("GET", f"/orders/{order_id}/boletos", authorizer=context)])

    (answer,) = out["answers"]
    assert (out["cold"], answer[2]) == ([], BANKING), out
    assert (answer[0], answer[1]["code"]) == (expected[0], expected[1]["code"]), (answer, expected)
    assert answer[1]["code"] != "route_not_found", answer  # the route answered: no such order here


def test_a_cold_api_answers_each_other_lazy_group_as_ever(client: Client, database: PgDatabase) -> None:
    shop = signup(client)
    context = authorize(shop.access_token)
    groups = [g for g in LAZY_ROUTES if g.name != "banking"]
    paths = {
        "audit": "/audit",
        "reports": "/reports/orders",
        "email": "/settings/email",
        "data_exports": "/data-exports",
    }
    assert set(paths) == {g.name for g in groups}, "a lazy group this test does not call"
    for group in groups:
        path = paths[group.name]
        expected = client.call("GET", path, shop.access_token)
        assert expected[0] == 200, expected

        out = _fresh_api(database, [rest_event("GET", path, authorizer=context)], list(group.modules))

        (answer,) = out["answers"]
        assert (out["cold"], answer[2]) == ([], list(group.modules)), (path, out)
        assert (answer[0], answer[1]) == (expected[0], expected[1]), (path, answer, expected)
