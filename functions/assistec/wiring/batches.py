"""SQS batches under a time budget, shared by the queue workers (the payments consumer, the
reconciliation's per-shop worker).

A record is taken only while the invocation has time for its worst case (the Lambda context's
remaining time); the records left are reported as ``batchItemFailures`` at once, so SQS hands them
out again after the visibility timeout instead of the whole batch timing out."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

# Time kept back for the answer to Lambda and the metrics flush, past the records' worst cases.
RESERVE_S = 2.0


class OutOfTime(RuntimeError):
    """Not started: the invocation had less time left than the record's worst case."""


def within_budget(
    event: dict[str, Any],
    context: LambdaContext,
    record_handler: Callable[[SQSRecord, float], None],
    *,
    worst_case_s: Callable[[SQSRecord], float],
) -> dict[str, Any]:
    """Process the batch's records in order, each only if ``worst_case_s(record)`` (plus a reserve)
    fits in the time left; ``record_handler(record, seconds_left)`` raises to fail its record. The
    partial batch response (``batchItemFailures``)."""
    processor = BatchProcessor(event_type=EventType.SQS)
    out_of_time = False

    def seconds_left() -> float:
        return context.get_remaining_time_in_millis() / 1000.0 - RESERVE_S

    def handle(record: SQSRecord) -> None:
        nonlocal out_of_time
        # Once one record does not fit, none after it is started: time only runs down.
        if out_of_time or seconds_left() < worst_case_s(record):
            out_of_time = True
            raise OutOfTime(record.message_id)
        record_handler(record, seconds_left())

    return dict(
        process_partial_response(event=event, record_handler=handle, processor=processor, context=context)
    )
