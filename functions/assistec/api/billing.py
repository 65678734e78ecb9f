"""The shop's own subscription to assistec (plan, status, invoices to pay) and the platform account's
Asaas webhook. These routes answer a suspended shop too: they are how it pays its way back."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from assistec.api.identity import caller, services
from assistec.api.responses import doc, json_response
from assistec.api.routes import Routes
from assistec.api.schemas.billing import BillingOut, CancelIn, PlanChangeIn, PlanOut, PlansOut
from assistec.api.webhooks import ASAAS_EVENT_BODY, WEBHOOK_ERRORS

router = APIGatewayRouter()  # type: ignore[no-untyped-call]  # Powertools leaves __init__ untyped
routes = Routes(router, tag="billing")
webhook_routes = Routes(router, tag="webhooks", public=True)

# Paths a suspended or cancelled shop may still use (besides the public ones): paying its way back,
# and the owner's copy of the shop's data (LGPD art. 18, V: portability does not wait on a bill; a
# cancelled shop's data is kept, and its owner may take it away).
OPEN_WHEN_SUSPENDED = ("/billing", "/me", "/auth/", "/data-exports")


@routes.get(
    "/billing",
    summary="The shop's subscription: plan, status, next due date and invoices (with payment links)",
    responses=doc(200, BillingOut, 401, 403, 404),
)
def get_billing() -> Response[Any]:
    return json_response(200, BillingOut.model_validate(services().subscription.overview(caller(router))))


@routes.get("/billing/plans", summary="The plans a shop can subscribe to", responses=doc(200, PlansOut, 401))
def get_plans() -> Response[Any]:
    caller(router)
    plans = [PlanOut.model_validate(p) for p in services().subscription.plans()]
    return json_response(200, PlansOut(items=plans))


@routes.put(
    "/billing/plan",
    summary="Move the shop to another plan (the Asaas subscription and open invoices follow)",
    responses=doc(200, BillingOut, 401, 403, 404, 409, 413, 502),
)
def put_plan(body: Annotated[PlanChangeIn, Body()]) -> Response[Any]:
    identity, subscription = caller(router), services().subscription
    subscription.change_plan(identity, body.plan, version=body.version)
    return json_response(200, BillingOut.model_validate(subscription.overview(identity)))


@routes.post(
    "/billing/cancel",
    summary="Cancel the subscription (owner): access until the paid period ends; data is kept",
    responses=doc(200, BillingOut, 401, 403, 404, 409, 413, 502),
)
def cancel(body: Annotated[CancelIn, Body()]) -> Response[Any]:
    identity, subscription = caller(router), services().subscription
    subscription.cancel(identity, version=body.version)
    return json_response(200, BillingOut.model_validate(subscription.overview(identity)))


@webhook_routes.post(
    "/webhooks/asaas-platform",
    summary="Asaas events of the platform account (the shops' subscriptions); 200 {} once stored",
    responses={
        200: {
            "description": "Stored (or already stored)",
            "content": {"application/json": {"schema": {"type": "object"}}},
        },
        **WEBHOOK_ERRORS,
    },
)
def platform_webhook() -> Response[Any]:
    event = router.current_event
    headers = {k.lower(): v for k, v in (event.headers or {}).items()}
    services().platform_webhook.receive(headers.get("asaas-access-token"), event.decoded_body or "")
    return Response(status_code=200, content_type="application/json", body="{}")


REQUEST_BODIES = [("/webhooks/asaas-platform", "post", ASAAS_EVENT_BODY)]
