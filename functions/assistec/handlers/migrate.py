"""CloudFormation custom resource: set the database up on every deploy whose migrations changed.

Create/Update run the roles + migrations as the migrator; Delete does nothing (a stack removal
never drops data). The answer goes to CloudFormation's pre-signed ResponseURL; a failure fails
the deploy with the migration's error, so a broken migration never goes live half-applied.
"""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import psycopg
from aws_lambda_powertools.utilities.typing import LambdaContext

from assistec.db.connection import conninfo_from_settings
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
        settings = migrate_settings()
        roles: list[schema.RoleSpec] = []
        if settings.app_secret_id and settings.ops_secret_id:
            roles = [
                schema.role_from_secret(secret_string(settings.app_secret_id)),
                schema.role_from_secret(secret_string(settings.ops_secret_id)),
            ]
        with psycopg.connect(conninfo_from_settings(settings), autocommit=True) as conn:
            dbname = conn.info.dbname
            applied = schema.set_up(conn, roles=roles, dbname=dbname)
        logger.info("schema up to date", extra={"applied": applied})
        _respond(event, "SUCCESS", f"applied {len(applied)} migration(s)", {"Applied": ",".join(applied)})
    except Exception as exc:
        logger.exception("schema set-up failed")
        _respond(event, "FAILED", f"{type(exc).__name__}: {exc}")
