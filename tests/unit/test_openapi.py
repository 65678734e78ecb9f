"""The committed OpenAPI document is the one the code generates: it cannot drift."""

from __future__ import annotations

import json

import pytest

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
        ("/public/signup/{token}", "get"),
        ("/public/signup/{token}", "post"),
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
        ("/webhooks/evolution/{webhook_key}", "post"),
        ("/quotes/{quote_id}/send", "post"),
        ("/whatsapp/instance", "post"),
        ("/whatsapp/instance", "get"),
        ("/whatsapp/instance", "delete"),
        ("/integrations/google/connect", "post"),
        ("/integrations/google/callback", "get"),
        ("/integrations/google", "get"),
        ("/integrations/google", "put"),
        ("/integrations/google", "delete"),
        ("/integrations/google/calendars", "get"),
        ("/settings/scheduling", "get"),
        ("/settings/scheduling", "put"),
        ("/availability", "get"),
        ("/appointments", "get"),
        ("/appointments", "post"),
        ("/appointments/{appointment_id}", "get"),
        ("/appointments/{appointment_id}/changes", "post"),
        ("/appointments/{appointment_id}/check-in", "post"),
        ("/public/appointments/{token}", "get"),
        ("/public/appointments/{token}/action", "post"),
        ("/settings/whatsapp", "get"),
        ("/settings/whatsapp", "put"),
        ("/conversations", "get"),
        ("/conversations/{conversation_id}", "get"),
        ("/conversations/{conversation_id}/messages", "get"),
        ("/conversations/{conversation_id}/messages", "post"),
        ("/conversations/{conversation_id}/release", "post"),
        ("/conversations/{conversation_id}/assignee", "put"),
        ("/conversations/{conversation_id}/customer", "put"),
        ("/email/messages", "get"),
        ("/email/suppressions", "get"),
        ("/email/suppressions/{address}", "delete"),
        ("/settings/email", "get"),
        ("/settings/email/smtp", "put"),
        ("/settings/email/smtp", "delete"),
        ("/settings/email/smtp/test", "post"),
        ("/settings/email/templates", "get"),
        ("/settings/email/templates/{name}", "put"),
        ("/settings/email/templates/{name}", "delete"),
        ("/settings/email/templates/{name}/preview", "post"),
        ("/orders/{order_id}/documents/{kind}", "get"),
        ("/orders/{order_id}/documents/{kind}/email", "post"),
        ("/settings/documents", "get"),
        ("/settings/documents", "put"),
        ("/settings/logo", "post"),
        ("/settings/logo", "put"),
        ("/settings/logo", "delete"),
        ("/public/quotes/{token}/pdf", "get"),
        ("/public/orders/{token}/pdf", "get"),
        ("/data-exports", "post"),
        ("/data-exports", "get"),
        ("/data-exports/{export_id}", "get"),
        ("/data-exports/{export_id}/download", "get"),
        ("/realtime/ticket", "post"),
        ("/banking/agreements", "get"),
        ("/banking/agreements", "post"),
        ("/banking/agreements/{agreement_id}", "get"),
        ("/banking/agreements/{agreement_id}", "patch"),
        ("/banking/files", "post"),
        ("/banking/files", "get"),
        ("/banking/files/inline", "post"),
        ("/banking/files/{file_id}", "get"),
        ("/banking/unmatched", "get"),
        ("/orders/{order_id}/boletos", "post"),
        ("/orders/{order_id}/boletos", "get"),
        ("/banking/boletos", "post"),
        ("/banking/boletos", "get"),
        ("/banking/boletos/{boleto_id}", "get"),
        ("/banking/boletos/{boleto_id}/pdf", "get"),
        ("/banking/boletos/{boleto_id}/send", "post"),
        ("/banking/agreements/{agreement_id}/remessas", "post"),
        ("/banking/agreements/{agreement_id}/remessas", "get"),
        ("/banking/remessas/{remessa_id}", "get"),
        ("/banking/boletos/{boleto_id}/instructions", "post"),
        ("/banking/reconciliation/run", "post"),
        ("/banking/reconciliation/matches", "get"),
        ("/banking/reconciliation/matches", "post"),
        ("/banking/reconciliation/matches/{match_id}", "get"),
        ("/banking/reconciliation/matches/{match_id}/confirm", "post"),
        ("/banking/reconciliation/matches/{match_id}/reject", "post"),
        ("/banking/reconciliation/unmatched", "get"),
        ("/banking/reconciliation/report", "get"),
        ("/banking/reconciliation/report.csv", "get"),
        ("/banking/reconciliation/report.pdf", "get"),
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
            open_when_suspended = path.startswith(("/billing", "/me", "/auth/", "/data-exports"))
            assert ("402" in operation["responses"]) == (secured and not open_when_suspended), (path, method)


def _operations(doc: dict) -> list[tuple[str, str, dict]]:
    return [
        (path, method, operation) for path, item in doc["paths"].items() for method, operation in item.items()
    ]


def test_every_database_backed_route_documents_the_503_in_the_error_shape() -> None:
    # Given the document: every route reads or writes the database (the token's routes, the public
    # links, the webhooks, the plans), so each can answer 503 while it is down (api.app's mapping)
    doc = json.loads(render())
    for path, method, operation in _operations(doc):
        if (path, method) == ("/health", "get"):
            continue  # its 503 is its own report (asserted above)
        # Then each says so, in the one error shape
        response = operation["responses"].get("503")
        assert response is not None, (path, method)
        assert response["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/ErrorBody"
        }, (path, method)


def _audited_entities() -> set[str]:
    """Every entity written to the audit log by the code: the second argument of each ``.audit(``
    call in functions/ (a literal, or a parameter whose literal values come from its callers)."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "functions" / "assistec"
    trees = [ast.parse(f.read_text(encoding="utf-8")) for f in root.rglob("*.py")]

    def entity_arg(call: ast.Call) -> ast.expr | None:
        if len(call.args) >= 2:
            return call.args[1]
        return next((k.value for k in call.keywords if k.arg == "entity"), None)

    entities: set[str] = set()
    forwarded: dict[str, int] = {}  # function name -> index of the parameter it audits as entity
    for tree in trees:
        for function in ast.walk(tree):
            if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for call in ast.walk(function):
                if not (
                    isinstance(call, ast.Call)
                    and isinstance(call.func, ast.Attribute)
                    and call.func.attr == "audit"
                    and not (isinstance(call.func.value, ast.Name) and call.func.value.id == "audit_db")
                ):
                    continue
                arg = entity_arg(call)
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    entities.add(arg.value)
                elif isinstance(arg, ast.Name) and function.name != "audit":
                    params = [a.arg for a in function.args.args]
                    assert arg.id in params, f"{function.name}: audited entity {arg.id} is not a parameter"
                    forwarded[function.name] = params.index(arg.id)
                elif function.name != "audit":
                    raise AssertionError(f"{function.name}: an audit call whose entity cannot be read")
    for tree in trees:
        for call in ast.walk(tree):
            if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id in forwarded:
                arg = call.args[forwarded[call.func.id]]
                assert isinstance(arg, ast.Constant), f"{call.func.id}: entity is not a literal"
                entities.add(str(arg.value))
    return entities


def test_the_audit_filter_accepts_every_entity_the_product_writes() -> None:
    from typing import get_args

    from assistec.api.schemas.audit import AuditEntity

    # Given every entity the code writes to the audit log (charges and payment accounts included)
    written = _audited_entities()
    assert {"charge", "payment_account", "order", "tenant", "price_rule"} <= written  # the scan reads
    # Then GET /audit?entity= accepts each of them, and lists nothing that is never written
    assert set(get_args(AuditEntity)) == written
    doc = json.loads(render())
    (entity,) = [p for p in doc["paths"]["/audit"]["get"]["parameters"] if p["name"] == "entity"]
    accepted = next(s["enum"] for s in entity["schema"]["anyOf"] if "enum" in s)
    assert set(accepted) == written


def _input_models() -> list[type]:
    import importlib
    import pkgutil

    import assistec.api.schemas as schemas
    from assistec.api.schemas.common import Input

    for module in pkgutil.iter_modules(schemas.__path__):
        importlib.import_module(f"assistec.api.schemas.{module.name}")
    found: list[type] = []
    pending: list[type] = [Input]
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return found


def _lax_scalars(schema: object, path: str = "") -> list[str]:
    """Paths of int and bool schemas that would coerce a string (not strict)."""
    found: list[str] = []
    if isinstance(schema, dict):
        if schema.get("type") in ("int", "bool") and not schema.get("strict"):
            found.append(path)
        for key, value in schema.items():
            found.extend(_lax_scalars(value, f"{path}.{key}"))
    elif isinstance(schema, list):
        for i, value in enumerate(schema):
            found.extend(_lax_scalars(value, f"{path}[{i}]"))
    return found


def test_every_integer_and_boolean_field_of_a_body_is_strict() -> None:
    # Given every input model of the API (all derive from Input)
    models = _input_models()
    assert len(models) > 20
    for model in models:
        model.model_rebuild()  # defer_build: build the validator now
        # Then none of their integers or booleans would take "100" or "true" for 100 or true
        assert _lax_scalars(model.__pydantic_core_schema__) == [], model.__name__


@pytest.mark.parametrize("wrong", ["1000", 1000.0, True, "1e3"])
def test_a_string_or_a_float_is_not_an_integer_in_a_body(wrong: object) -> None:
    from pydantic import ValidationError

    from assistec.api.schemas.payments import ChargeIn
    from assistec.api.schemas.stock import StockMoveIn

    # Given a JSON integer is accepted as ever
    assert ChargeIn.model_validate({"billing_type": "PIX", "value_cents": 1000}).value_cents == 1000
    # When the documented integer comes as a string, a float or a boolean, Then it is refused
    with pytest.raises(ValidationError) as refused:
        ChargeIn.model_validate({"billing_type": "PIX", "value_cents": wrong})
    assert [e["type"] for e in refused.value.errors()] == ["int_type"]
    with pytest.raises(ValidationError) as refused:
        StockMoveIn.model_validate({"kind": "receive", "quantity": wrong})
    assert [e["type"] for e in refused.value.errors()] == ["int_type"]


def test_dates_and_moments_in_a_body_are_iso() -> None:
    from assistec.api.schemas.orders import OrderPatch
    from assistec.api.schemas.payments import ChargeIn

    due = ChargeIn.model_validate({"billing_type": "PIX", "due_date": "2030-01-31"}).due_date
    assert str(due) == "2030-01-31"
    moment = OrderPatch.model_validate({"version": 1, "promised_at": "2030-01-31T10:00:00-03:00"}).promised_at
    assert moment is not None
    assert moment.isoformat() == "2030-01-31T10:00:00-03:00"


@pytest.mark.parametrize("wrong", [0, "0", "1700000000", "2030-01-31T00:00:00", "31/01/2030"])
def test_a_number_is_not_a_date_in_a_body(wrong: object) -> None:
    from pydantic import ValidationError

    from assistec.api.schemas.payments import ChargeIn

    # When a due date comes as a number (pydantic would read it as seconds since 1970), Then 422
    with pytest.raises(ValidationError) as refused:
        ChargeIn.model_validate({"billing_type": "PIX", "due_date": wrong})
    assert [e["type"] for e in refused.value.errors()] == ["date_format"]


@pytest.mark.parametrize("wrong", [0, "0", "1700000000", "31/01/2030 10:00"])
def test_a_number_is_not_a_moment_in_a_body(wrong: object) -> None:
    from pydantic import ValidationError

    from assistec.api.schemas.orders import OrderPatch

    with pytest.raises(ValidationError) as refused:
        OrderPatch.model_validate({"version": 1, "promised_at": wrong})
    assert [e["type"] for e in refused.value.errors()] == ["datetime_format"]
