"""The ops function: the operator's console (infra/assistec_ops) invokes it with
``{"command", "args", "operator"}``; the command runs in services/ops.py and is recorded in the
operator's audit log. Invoked only by who IAM lets call this function: no trigger, no route."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from assistec.observability import logger
from assistec.wiring.ops import root

_FIELDS = {"command", "args", "operator"}


def _malformed(event: Any) -> str | None:
    """What is wrong with the request's shape (the console's own checks are the service's)."""
    if not isinstance(event, dict):
        return "not an object"
    if set(event) - _FIELDS:
        return f"unknown fields: {', '.join(sorted(str(k) for k in set(event) - _FIELDS))}"
    command, operator = event.get("command"), event.get("operator")
    if not isinstance(command, str) or not 1 <= len(command) <= 80:
        return "command"
    if not isinstance(event.get("args", {}), dict):
        return "args"
    if not isinstance(operator, str) or not 1 <= len(operator) <= 512:
        return "operator"
    return None


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from pydantic_core import to_jsonable_python

    problem = _malformed(event)
    if problem is not None:
        return {
            "ok": False,
            "error": {"code": "invalid_request", "message": f"malformed ops request: {problem}"},
            "audit_id": None,
        }
    logger.append_keys(ops_command=event["command"], operator=event["operator"])
    answer = root().ops.run(
        event["command"], event.get("args", {}), operator=event["operator"], request_id=context.aws_request_id
    )
    jsonable: dict[str, Any] = to_jsonable_python(answer)
    return jsonable
