"""CloudFormation custom resource: set the database up on every deploy whose migrations changed.

Create/Update run the roles + migrations as the migrator; Delete does nothing (a stack removal
never drops data). The answer goes to CloudFormation's pre-signed ResponseURL; a failure fails
the deploy with the migration's error, so a broken migration never goes live half-applied.
"""

from __future__ import annotations

import json
import urllib.request
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from assistec.integrations.secrets import secret_string
from assistec.observability import logger
from assistec.services import schema
from assistec.settings import migrate_settings

PHYSICAL_ID = "assistec-database-schema"


def _respond(event: dict[str, Any], status: str, reason: str, data: dict[str, Any] | None = None) -> None:
    body = json.dumps(
        {
            "Status": status,
            "Reason": reason[:3000],
            "PhysicalResourceId": PHYSICAL_ID,
            "StackId": event["StackId"],
            "RequestId": event["RequestId"],
            "LogicalResourceId": event["LogicalResourceId"],
            "Data": data or {},
        }
    ).encode()
    request = urllib.request.Request(  # noqa: S310 - CloudFormation's pre-signed https URL
        event["ResponseURL"], data=body, method="PUT", headers={"Content-Type": ""}
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        response.read()


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> None:
    request_type = event.get("RequestType")
    logger.info("schema custom resource", extra={"request_type": request_type})
    if request_type == "Delete":
        _respond(event, "SUCCESS", "nothing to do on delete")
        return
    try:
        applied = schema.deploy(migrate_settings(), secret_string)
        logger.info("schema up to date", extra={"applied": applied})
        _respond(event, "SUCCESS", f"applied {len(applied)} migration(s)", {"Applied": ",".join(applied)})
    except Exception as exc:
        logger.exception("schema set-up failed")
        _respond(event, "FAILED", f"{type(exc).__name__}: {exc}")
