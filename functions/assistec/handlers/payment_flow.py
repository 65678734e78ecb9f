"""The payment flow's steps, as Step Functions invokes them: ``{"step": ..., "flow": {...}}``
(and ``"token"`` for the wait). Errors propagate: the state machine retries and catches them."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from assistec.observability import logger
from assistec.wiring.workers import root


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    step, state = event["step"], event["flow"]
    logger.append_keys(order_id=state.get("order_id"), step=step)
    # The steps' audit rows carry the id of the request that started the flow.
    logger.set_correlation_id(state.get("correlation_id"))
    flow = root().payment_flow
    if step == "create":
        return flow.create(state)
    if step in ("notify", "remind"):
        return flow.notify(state, reminder=step == "remind")
    if step == "await":
        flow.await_payment(state, event["token"])
        return {}
    if step in ("paid", "expired"):
        return flow.finish(state, outcome=step)
    raise ValueError(f"unknown step {step!r}")
