from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from assistec.api.identity import caller, public_base_url, services
from assistec.api.responses import created, doc, json_response
from assistec.api.routes import Routes
from assistec.api.schemas.payments import (
    ChargeIn,
    ChargeList,
    ChargeOut,
    PaymentAccountIn,
    PaymentAccountOut,
    PaymentFlowIn,
    PaymentFlowOut,
)
from assistec.errors import SandboxKeyRefusedError

router = APIGatewayRouter()  # type: ignore[no-untyped-call]  # Powertools leaves __init__ untyped
routes = Routes(router, tag="payments")


@routes.put(
    "/settings/payments",
    summary="Connect (or replace: 409 while charges are open) the shop's Asaas account: key stored "
    "encrypted, webhook registered in Asaas, the old one removed",
    responses=doc(200, PaymentAccountOut, 401, 403, 409, 413, 422, 502),
)
def connect_account(body: Annotated[PaymentAccountIn, Body()]) -> Response[Any]:
    # Prod takes real money only: a sandbox account (declared so, or a key of Asaas's sandbox,
    # "$aact_hmlg_...") is refused before anything is stored or Asaas is called.
    if services().settings.stage == "prod" and (body.environment == "sandbox" or "_hmlg_" in body.api_key):
        raise SandboxKeyRefusedError(details=[{"field": "environment", "message": "sandbox não é aceito"}])
    account, url, token = services().payments.connect(
        caller(router),
        api_key=body.api_key,
        environment=body.environment,
        webhook_base=public_base_url(router),
    )
    return json_response(
        200,
        PaymentAccountOut.model_validate(
            {
                "connected": True,
                "environment": account.environment,
                "webhook_url": url,
                "webhook_token": token,
            }
        ),
    )


@routes.get(
    "/settings/payments",
    summary="Whether the shop's Asaas account is connected, and where its webhooks arrive",
    responses=doc(200, PaymentAccountOut, 401, 403),
)
def get_account() -> Response[Any]:
    account = services().payments.account(caller(router))
    if account is None:
        return json_response(200, PaymentAccountOut(connected=False, environment=None, webhook_url=None))
    return json_response(
        200,
        PaymentAccountOut.model_validate(
            {
                "connected": True,
                "environment": account.environment,
                "webhook_url": f"{public_base_url(router)}/webhooks/asaas/{account.webhook_key}",
            }
        ),
    )


@routes.post(
    "/orders/<order_id>/charges",
    summary="Charge the order by PIX, boleto or card (one open charge at a time; retries never double)",
    responses=doc(201, ChargeOut, 401, 403, 404, 409, 413, 502),
)
def create_charge(order_id: Annotated[UUID, Path()], body: Annotated[ChargeIn, Body()]) -> Response[Any]:
    charge = services().payments.create_charge(
        caller(router),
        order_id,
        billing_type=body.billing_type,
        value_cents=body.value_cents,
        due_date=body.due_date,
    )
    return created(ChargeOut.model_validate(charge))


@routes.get(
    "/orders/<order_id>/charges",
    summary="The order's charges, oldest first",
    responses=doc(200, ChargeList, 401, 403, 404),
)
def list_charges(order_id: Annotated[UUID, Path()]) -> Response[Any]:
    rows = services().payments.charges(caller(router), order_id)
    return json_response(200, ChargeList(items=[ChargeOut.model_validate(c) for c in rows]))


@routes.get("/charges/<charge_id>", summary="One charge", responses=doc(200, ChargeOut, 401, 403, 404))
def get_charge(charge_id: Annotated[UUID, Path()]) -> Response[Any]:
    return json_response(
        200, ChargeOut.model_validate(services().payments.get_charge(caller(router), charge_id))
    )


@routes.post(
    "/charges/<charge_id>/cancel",
    summary="Cancel an open charge (in Asaas too)",
    responses=doc(200, ChargeOut, 401, 403, 404, 409, 502),
)
def cancel_charge(charge_id: Annotated[UUID, Path()]) -> Response[Any]:
    charge = services().payments.cancel_charge(caller(router), charge_id)
    return json_response(200, ChargeOut.model_validate(charge))


@routes.post(
    "/charges/<charge_id>/refund",
    summary="Refund a paid charge (owners and admins)",
    responses=doc(200, ChargeOut, 401, 403, 404, 409, 502),
)
def refund_charge(charge_id: Annotated[UUID, Path()]) -> Response[Any]:
    charge = services().payments.refund_charge(caller(router), charge_id)
    return json_response(200, ChargeOut.model_validate(charge))


@routes.post(
    "/orders/<order_id>/payment-flow",
    summary="Charge, e-mail the customer and wait for the payment (reminder, then expiry): Step Functions",
    responses=doc(202, PaymentFlowOut, 401, 403, 404, 409, 413, 503, description="Started"),
)
def start_payment_flow(
    order_id: Annotated[UUID, Path()], body: Annotated[PaymentFlowIn, Body()]
) -> Response[Any]:
    arn = services().payment_flow.start(
        caller(router),
        order_id,
        billing_type=body.billing_type,
        value_cents=body.value_cents,
        wait_hours=body.wait_hours,
    )
    return json_response(202, PaymentFlowOut(execution_arn=arn))
