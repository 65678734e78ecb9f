from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any
from uuid import UUID

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import Field

from assistec.api import pagination
from assistec.api.identity import caller, services
from assistec.api.responses import created, doc, json_response
from assistec.api.routes import Routes
from assistec.api.schemas.common import Digits, OrderStatus
from assistec.api.schemas.orders import (
    HistoryEntryOut,
    HistoryOut,
    OrderIn,
    OrderListItem,
    OrderOut,
    OrderPage,
    OrderPatch,
    TransitionIn,
    TransitionOut,
    WarrantyReturnIn,
    WorkflowIn,
    WorkflowOut,
)
from assistec.domain import orders as machine
from assistec.domain.orders import Status

if TYPE_CHECKING:
    from assistec.db.rows import WorkflowRow

router = APIGatewayRouter()  # type: ignore[no-untyped-call]  # Powertools leaves __init__ untyped
routes = Routes(router, tag="orders")
settings_routes = Routes(router, tag="settings")


@routes.post(
    "/orders",
    summary="Open a service order (numbered per shop) for a customer's device",
    responses=doc(201, OrderOut, 401, 403, 413),
)
def create_order(body: Annotated[OrderIn, Body()]) -> Response[Any]:
    order = services().orders.create(caller(router), body.model_dump(exclude_none=True))
    return created(OrderOut.model_validate(order))


@routes.get(
    "/orders",
    summary="The shop's orders, newest first; filter by status, customer, technician or number",
    responses=doc(200, OrderPage, 401, 403),
)
def list_orders(
    limit: Annotated[int, Field(ge=1, le=pagination.MAX_LIMIT), Digits, Query()] = pagination.DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    status: Annotated[
        list[OrderStatus] | None,
        Query(max_length=11, description="One or more (status=ready&status=repairing): any of them"),
    ] = None,
    customer_id: Annotated[UUID | None, Query()] = None,
    technician_id: Annotated[UUID | None, Query()] = None,
    number: Annotated[int | None, Field(ge=1, le=2_000_000_000), Digits, Query()] = None,
) -> Response[Any]:
    before = pagination.key_from(cursor, datetime.fromisoformat, UUID)
    rows = services().orders.find(
        caller(router),
        limit=limit + 1,
        before=before,
        status=list(status) if status else None,
        customer_id=customer_id,
        technician_id=technician_id,
        number=number,
    )
    items, next_cursor = pagination.page(rows, limit, lambda o: [o.created_at.isoformat(), str(o.id)])
    return json_response(
        200, OrderPage(items=[OrderListItem.model_validate(o) for o in items], next_cursor=next_cursor)
    )


@routes.get("/orders/<order_id>", summary="One service order", responses=doc(200, OrderOut, 401, 403, 404))
def get_order(order_id: Annotated[UUID, Path()]) -> Response[Any]:
    return json_response(200, OrderOut.model_validate(services().orders.get(caller(router), order_id)))


@routes.patch(
    "/orders/<order_id>",
    summary="Change an open order's details (optimistic locking on version)",
    responses=doc(200, OrderOut, 401, 403, 404, 409, 413),
)
def update_order(order_id: Annotated[UUID, Path()], body: Annotated[OrderPatch, Body()]) -> Response[Any]:
    order = services().orders.update(
        caller(router),
        order_id,
        version=body.version,
        changes=body.model_dump(exclude_unset=True, exclude={"version"}),
    )
    return json_response(200, OrderOut.model_validate(order))


@routes.post(
    "/orders/<order_id>/transitions",
    summary="Move the order to another status; 409 lists the allowed ones when it may not",
    responses=doc(200, TransitionOut, 401, 403, 404, 409, 413),
)
def transition_order(
    order_id: Annotated[UUID, Path()], body: Annotated[TransitionIn, Body()]
) -> Response[Any]:
    result = services().orders.transition(
        caller(router),
        order_id,
        to=Status(body.to),
        version=body.version,
        reason=body.reason,
    )
    return json_response(
        200,
        TransitionOut(
            order=OrderOut.model_validate(result.order),
            allowed_next=[s.value for s in result.allowed_next],
        ),
    )


@routes.get(
    "/orders/<order_id>/history",
    summary="Every status change of the order: who, when and why",
    responses=doc(200, HistoryOut, 401, 403, 404),
)
def order_history(order_id: Annotated[UUID, Path()]) -> Response[Any]:
    rows = services().orders.history(caller(router), order_id)
    return json_response(200, HistoryOut(items=[HistoryEntryOut.model_validate(r) for r in rows]))


@routes.post(
    "/orders/<order_id>/warranty-return",
    summary="Open a warranty return: a new order linked to this delivered one, while under warranty",
    responses=doc(201, OrderOut, 401, 403, 404, 409, 413),
)
def warranty_return(
    order_id: Annotated[UUID, Path()], body: Annotated[WarrantyReturnIn, Body()]
) -> Response[Any]:
    order = services().orders.warranty_return(
        caller(router),
        order_id,
        reported_problem=body.reported_problem,
    )
    return created(OrderOut.model_validate(order))


def _workflow_out(row: WorkflowRow) -> WorkflowOut:
    pairs = [(a, b) for a, b in row.disabled_transitions]
    return WorkflowOut.model_validate(
        {
            "disabled_transitions": [list(p) for p in pairs],
            "warranty_days": row.warranty_days,
            "version": row.version,
            "transitions": {s.value: [t.value for t in machine.allowed_from(s, pairs)] for s in Status},
        }
    )


@settings_routes.get(
    "/settings/order-workflow",
    summary="The shop's status machine (defaults minus what it disabled) and warranty length",
    responses=doc(200, WorkflowOut, 401, 403),
)
def get_workflow() -> Response[Any]:
    return json_response(200, _workflow_out(services().orders.workflow(caller(router))))


@settings_routes.put(
    "/settings/order-workflow",
    summary="Tighten the status machine (disable default transitions) and set the warranty length",
    responses=doc(200, WorkflowOut, 401, 403, 409, 413),
)
def put_workflow(body: Annotated[WorkflowIn, Body()]) -> Response[Any]:
    row = services().orders.save_workflow(
        caller(router),
        version=body.version,
        disabled=[(a, b) for a, b in body.disabled_transitions],
        warranty_days=body.warranty_days,
    )
    return json_response(200, _workflow_out(row))
