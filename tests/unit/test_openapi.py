"""The committed OpenAPI document is the one the code generates: it cannot drift."""

from __future__ import annotations

import json

from assistec.api.openapi_doc import OPENAPI_FILE, render


def test_committed_openapi_matches_the_code() -> None:
    assert OPENAPI_FILE.read_text(encoding="utf-8") == render(), "run `make openapi` and commit the result"


def test_documents_every_public_route_with_the_error_shape() -> None:
    doc = json.loads(render())
    documented = {(path, method) for path, item in doc["paths"].items() for method in item}
    assert documented == {
        ("/health", "get"),
        ("/signup", "post"),
        ("/auth/login", "post"),
        ("/auth/refresh", "post"),
        ("/auth/logout", "post"),
        ("/me", "get"),
        ("/users", "get"),
        ("/users", "post"),
        ("/users/{user_id}", "get"),
        ("/users/{user_id}", "patch"),
        ("/settings", "get"),
        ("/settings", "put"),
        ("/audit", "get"),
        ("/customers", "get"),
        ("/customers", "post"),
        ("/customers/{customer_id}", "get"),
        ("/customers/{customer_id}", "patch"),
        ("/customers/{customer_id}/devices", "get"),
        ("/customers/{customer_id}/devices", "post"),
        ("/devices/{device_id}", "get"),
        ("/devices/{device_id}", "patch"),
        ("/devices/{device_id}/photos", "get"),
        ("/devices/{device_id}/photos", "post"),
        ("/orders", "get"),
        ("/orders", "post"),
        ("/orders/{order_id}", "get"),
        ("/orders/{order_id}", "patch"),
        ("/orders/{order_id}/transitions", "post"),
        ("/orders/{order_id}/history", "get"),
        ("/orders/{order_id}/warranty-return", "post"),
        ("/settings/order-workflow", "get"),
        ("/settings/order-workflow", "put"),
        ("/parts", "get"),
        ("/parts", "post"),
        ("/parts/{part_id}", "get"),
        ("/parts/{part_id}", "patch"),
        ("/parts/{part_id}/movements", "get"),
        ("/parts/{part_id}/movements", "post"),
        ("/stock/search", "get"),
        ("/orders/{order_id}/quotes", "get"),
        ("/orders/{order_id}/quotes", "post"),
        ("/quotes/{quote_id}", "get"),
        ("/quotes/{quote_id}/decision", "post"),
        ("/price-rules", "get"),
        ("/price-rules", "post"),
        ("/price-rules/{rule_id}", "patch"),
        ("/price-rules/{rule_id}", "delete"),
        ("/discount-rules", "get"),
        ("/discount-rules", "post"),
        ("/discount-rules/{rule_id}", "patch"),
        ("/settings/quote-template", "get"),
        ("/settings/quote-template", "put"),
        ("/public/quotes/{token}", "get"),
        ("/public/quotes/{token}/decision", "post"),
        ("/public/orders/{token}", "get"),
        ("/reports/orders", "get"),
        ("/reports/revenue", "get"),
        ("/reports/turnaround", "get"),
        ("/settings/payments", "get"),
        ("/settings/payments", "put"),
        ("/orders/{order_id}/charges", "get"),
        ("/orders/{order_id}/charges", "post"),
        ("/charges/{charge_id}", "get"),
        ("/charges/{charge_id}/cancel", "post"),
        ("/charges/{charge_id}/refund", "post"),
        ("/webhooks/asaas/{webhook_key}", "post"),
        ("/orders/{order_id}/payment-flow", "post"),
        ("/billing", "get"),
        ("/billing/plans", "get"),
        ("/billing/plan", "put"),
        ("/billing/cancel", "post"),
        ("/webhooks/asaas-platform", "post"),
    }
    # Every documented error answer uses the one error shape
    for item in doc["paths"].values():
        for operation in item.values():
            for status, response in operation["responses"].items():
                if status.startswith(("4", "5")) and operation["operationId"] != "get_health_health_get":
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/ErrorBody"}, (
                        status,
                        operation["operationId"],
                    )
    assert "bearerAuth" in doc["components"]["securitySchemes"]
    # /health answers 503 with its own report: load balancers and ops read it
    health_503 = doc["paths"]["/health"]["get"]["responses"]["503"]["content"]["application/json"]["schema"]
    assert health_503 == {"$ref": "#/components/schemas/HealthBody"}


def test_every_route_behind_a_token_documents_the_suspended_shop_answer() -> None:
    doc = json.loads(render())
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            secured = bool(operation.get("security"))
            open_when_suspended = path.startswith(("/billing", "/me", "/auth/"))
            assert ("402" in operation["responses"]) == (secured and not open_when_suspended), (path, method)
