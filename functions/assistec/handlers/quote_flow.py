"""The quote flow's steps, as Step Functions invokes them: ``{"step": ..., "flow": {...}}`` (and
``"token"`` for the wait). Errors propagate: the state machine retries and catches them."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from assistec.observability import logger
from assistec.wiring.workers import root


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    step, state = event["step"], event["flow"]
    logger.append_keys(quote_id=state.get("quote_id"), step=step)
    logger.set_correlation_id(state.get("correlation_id"))
    flow = root().quote_flow
    if step in ("send", "remind"):
        return flow.send(state, reminder=step == "remind")
    if step == "await":
        flow.await_decision(state, event["token"])
        return {}
    if step == "decided":
        return flow.decided(state)
    if step == "expired":
        return flow.expired(state)
    raise ValueError(f"unknown step {step!r}")
