"""The bank files worker: an uploaded retorno or statement (``bank-files/<shop>/<kind>/...`` in the
devices bucket) is read, recorded once per content and parsed (services/banking/intake.py).

The deployed path: the bucket sends its events to EventBridge, a rule queues ``Object Created`` under
``bank-files/`` on SQS (DLQ after five tries), and this function takes those messages (partial batch
failures). It also takes S3's own notification format (``Records[].s3``, its keys URL-encoded),
wrapped in SQS messages or as S3 invokes a function directly (an error then fails the invocation and
Lambda retries it). A second delivery of one object, or another upload of the same content, changes
nothing. Metrics: ``BankFilesRecorded``, ``BankFilesDuplicate``, ``BankFilesIgnored``.

An operator may also invoke it directly with ``{"action": "reprocess_pending", "shop": "<tenant id>"}``
to have that shop's files stored as ``pending_parser`` (before the parsers were wired) read now
(``BankFileIntake.reprocess_pending``; safe to repeat); it answers the pass's counts."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any
from urllib.parse import unquote_plus
from uuid import UUID

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from assistec.observability import logger, metrics
from assistec.wiring.banking import root
from assistec.wiring.batches import within_budget

# A file of UPLOAD_MAX_BYTES (some 50,000 CNAB 400 lines) read, hashed, parsed and recorded line by
# line: well inside this; the function's timeout is longer (infra).
FILE_MAX_S = 120.0
_METRICS = {"recorded": "BankFilesRecorded", "duplicate": "BankFilesDuplicate"}


def _keys(event: dict[str, Any]) -> list[str]:
    """The object keys of an EventBridge ``Object Created`` event (the key as it is) or of an S3
    notification (URL-encoded there, spaces as '+'); none for anything else (S3's test event)."""
    if event.get("source") == "aws.s3":
        if event.get("detail-type") != "Object Created":
            return []
        return [str(event["detail"]["object"]["key"])]
    return [
        unquote_plus(str(r["s3"]["object"]["key"]))
        for r in event.get("Records") or []
        if str(r.get("eventName", "")).startswith("ObjectCreated") and "s3" in r
    ]


def _process(key: str) -> None:
    outcome = root().intake.process_object(key)
    metrics.add_metric(name=_METRICS.get(outcome, "BankFilesIgnored"), unit=MetricUnit.Count, value=1)
    logger.info("bank file", extra={"outcome": outcome})


def _from_queue(record: SQSRecord, seconds_left: float) -> None:
    for key in _keys(json.loads(record.body)):
        _process(key)


def _reprocess(shop: object) -> dict[str, Any]:
    from assistec.services.audit import SystemActor

    try:
        tenant_id = UUID(str(shop))
    except ValueError:
        return {"error": "invalid_shop"}
    logger.append_keys(tenant_id=str(tenant_id))
    done = root().intake.reprocess_pending(SystemActor(tenant_id=tenant_id))
    logger.info("bank files reprocessed", extra=asdict(done))
    return {"reprocessed": asdict(done)}


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def worker(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if event.get("action") == "reprocess_pending":
        return _reprocess(event.get("shop"))
    records = event.get("Records") or []
    if records and records[0].get("eventSource") == "aws:sqs":
        return within_budget(event, context, _from_queue, worst_case_s=lambda record: FILE_MAX_S)
    for key in _keys(event):
        _process(key)
    return {}
