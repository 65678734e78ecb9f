from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any
from uuid import UUID

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from assistec.api.identity import caller, public_base_url, services
from assistec.api.responses import created, doc, json_response
from assistec.api.routes import Routes
from assistec.api.schemas.common import DecisionIn, Deleted
from assistec.api.schemas.quotes import (
    DiscountRuleIn,
    DiscountRuleList,
    DiscountRuleOut,
    DiscountRulePatch,
    PriceRuleIn,
    PriceRuleList,
    PriceRuleOut,
    PriceRulePatch,
    QuoteIn,
    QuoteList,
    QuoteOut,
    QuoteSendIn,
    QuoteSendOut,
    TemplateIn,
    TemplateOut,
)
from assistec.domain import quotes as quote_rules

if TYPE_CHECKING:
    from assistec.db.rows import TemplateRow

router = APIGatewayRouter()  # type: ignore[no-untyped-call]  # Powertools leaves __init__ untyped
routes = Routes(router, tag="quotes")
settings_routes = Routes(router, tag="settings")


# --- quotes ------------------------------------------------------------------------------------
@routes.post(
    "/orders/<order_id>/quotes",
    summary="Quote the order (a new version supersedes the pending one); the order goes to quote_sent",
    responses=doc(201, QuoteOut, 401, 403, 404, 409, 413),
)
def create_quote(order_id: Annotated[UUID, Path()], body: Annotated[QuoteIn, Body()]) -> Response[Any]:
    quote = services().quotes.create(
        caller(router),
        order_id,
        lines=[line.model_dump() for line in body.lines],
        deadline_days=body.deadline_days,
        link_base=public_base_url(router),
    )
    return created(QuoteOut.model_validate(quote))


@routes.get(
    "/orders/<order_id>/quotes",
    summary="Every version of the order's quote, newest first",
    responses=doc(200, QuoteList, 401, 403, 404),
)
def list_quotes(order_id: Annotated[UUID, Path()]) -> Response[Any]:
    rows = services().quotes.list(caller(router), order_id)
    return json_response(200, QuoteList(items=[QuoteOut.model_validate(q) for q in rows]))


@routes.get("/quotes/<quote_id>", summary="One quote", responses=doc(200, QuoteOut, 401, 403, 404))
def get_quote(quote_id: Annotated[UUID, Path()]) -> Response[Any]:
    return json_response(200, QuoteOut.model_validate(services().quotes.get(caller(router), quote_id)))


@routes.post(
    "/quotes/<quote_id>/decision",
    summary="Record the customer's decision given at the counter or by phone (typed name kept)",
    responses=doc(200, QuoteOut, 401, 403, 404, 409, 410, 413),
)
def decide_quote(quote_id: Annotated[UUID, Path()], body: Annotated[DecisionIn, Body()]) -> Response[Any]:
    quote = services().quotes.decide_at_counter(
        caller(router),
        quote_id,
        approve=body.decision == "approve",
        name=body.name,
    )
    return json_response(200, QuoteOut.model_validate(quote))


@routes.post(
    "/quotes/<quote_id>/send",
    summary="Send the quote to the customer (WhatsApp, else e-mail) and wait for the decision on the "
    "link or a WhatsApp reply, with a reminder, then expiry; approved: the payment flow when asked "
    "(Step Functions)",
    responses=doc(202, QuoteSendOut, 401, 403, 404, 409, 410, 413, description="Started"),
)
def send_quote(quote_id: Annotated[UUID, Path()], body: Annotated[QuoteSendIn, Body()]) -> Response[Any]:
    if body.expire_hours <= body.reminder_hours:
        from assistec.errors import ValidationFailedError

        raise ValidationFailedError(
            details=[{"field": "expire_hours", "message": "deve ser maior que reminder_hours"}]
        )
    arn = services().quote_flow.start(
        caller(router),
        quote_id,
        reminder_hours=body.reminder_hours,
        expire_hours=body.expire_hours,
        payment={"billing_type": body.payment, "wait_hours": body.payment_wait_hours}
        if body.payment
        else None,
    )
    return json_response(202, QuoteSendOut(execution_arn=arn))


# --- price rules -------------------------------------------------------------------------------
@routes.get(
    "/price-rules",
    summary="The shop's service prices (type x brand x model; most specific wins)",
    responses=doc(200, PriceRuleList, 401, 403),
)
def list_price_rules() -> Response[Any]:
    rows = services().pricing.rules(caller(router))
    return json_response(200, PriceRuleList(items=[PriceRuleOut.model_validate(r) for r in rows]))


@routes.post(
    "/price-rules", summary="Add a service price", responses=doc(201, PriceRuleOut, 401, 403, 409, 413)
)
def create_price_rule(body: Annotated[PriceRuleIn, Body()]) -> Response[Any]:
    rule = services().pricing.add_rule(caller(router), body.model_dump())
    return created(PriceRuleOut.model_validate(rule))


@routes.patch(
    "/price-rules/<rule_id>",
    summary="Change a service price (optimistic locking on version)",
    responses=doc(200, PriceRuleOut, 401, 403, 404, 409, 413),
)
def update_price_rule(
    rule_id: Annotated[UUID, Path()], body: Annotated[PriceRulePatch, Body()]
) -> Response[Any]:
    rule = services().pricing.change_rule(
        caller(router),
        rule_id,
        version=body.version,
        changes=body.model_dump(exclude_unset=True, exclude={"version"}),
    )
    return json_response(200, PriceRuleOut.model_validate(rule))


@routes.delete(
    "/price-rules/<rule_id>",
    summary="Remove a service price (quotes already made keep theirs)",
    responses=doc(200, Deleted, 401, 403, 404, description="Removed"),
)
def delete_price_rule(rule_id: Annotated[UUID, Path()]) -> Response[Any]:
    services().pricing.remove_rule(caller(router), rule_id)
    # 200 with a body, not 204: API Gateway stamps a JSON content type on an empty proxy answer.
    return json_response(200, Deleted(deleted=True))


# --- discount rules ----------------------------------------------------------------------------
@routes.get(
    "/discount-rules",
    summary="The shop's discounts (the best one a customer qualifies for applies)",
    responses=doc(200, DiscountRuleList, 401, 403),
)
def list_discount_rules() -> Response[Any]:
    rows = services().pricing.discounts(caller(router))
    return json_response(200, DiscountRuleList(items=[DiscountRuleOut.model_validate(r) for r in rows]))


@routes.post(
    "/discount-rules",
    summary="Add a discount, e.g. 10% for customers registered 180 days ago or more",
    responses=doc(201, DiscountRuleOut, 401, 403, 413),
)
def create_discount_rule(body: Annotated[DiscountRuleIn, Body()]) -> Response[Any]:
    rule = services().pricing.add_discount(caller(router), body.model_dump())
    return created(DiscountRuleOut.model_validate(rule))


@routes.patch(
    "/discount-rules/<rule_id>",
    summary="Change or switch off a discount (optimistic locking on version)",
    responses=doc(200, DiscountRuleOut, 401, 403, 404, 409, 413),
)
def update_discount_rule(
    rule_id: Annotated[UUID, Path()], body: Annotated[DiscountRulePatch, Body()]
) -> Response[Any]:
    rule = services().pricing.change_discount(
        caller(router),
        rule_id,
        version=body.version,
        changes=body.model_dump(exclude_unset=True, exclude={"version"}),
    )
    return json_response(200, DiscountRuleOut.model_validate(rule))


# --- template ----------------------------------------------------------------------------------
def _template_out(row: TemplateRow) -> TemplateOut:
    return TemplateOut(
        body=row.body,
        validity_days=row.validity_days,
        version=row.version,
        placeholders=quote_rules.PLACEHOLDERS,
    )


@settings_routes.get(
    "/settings/quote-template",
    summary="The quote message template and how many days a quote stays valid",
    responses=doc(200, TemplateOut, 401, 403),
)
def get_template() -> Response[Any]:
    return json_response(200, _template_out(services().pricing.template(caller(router))))


@settings_routes.put(
    "/settings/quote-template",
    summary="Set the quote message template (unknown {{FIELDS}} are refused)",
    responses=doc(200, TemplateOut, 401, 403, 409, 413),
)
def put_template(body: Annotated[TemplateIn, Body()]) -> Response[Any]:
    row = services().pricing.save_template(
        caller(router),
        version=body.version,
        body=body.body,
        validity_days=body.validity_days,
    )
    return json_response(200, _template_out(row))
