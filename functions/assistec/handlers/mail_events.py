"""SES's events about the messages we sent (configuration set → SNS → the mail events queue → here;
partial batch failures, a DLQ): delivery, bounce, complaint. Each moves the message's record on; a
permanent bounce or a complaint suppresses the address for that shop."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from assistec.observability import logger, metrics
from assistec.wiring.batches import within_budget
from assistec.wiring.mail import root

APPLY_WORST_CASE_S = 5.0  # one short transaction


# What SES publishes once to a new destination (and SNS to a new subscription): not an event.
_SETUP_NOTICES = ("Successfully validated SNS topic", '{"notificationType":"AmazonSnsSubscriptionSucceeded"')


def _apply(record: SQSRecord, seconds_left: float) -> None:
    from assistec.domain.mail_events import MalformedMailEvent, parse_ses_message

    text = record.body
    try:
        envelope = json.loads(text)
    except ValueError:
        envelope = None
    # SNS's envelope (raw delivery off) carries SES's JSON as its Message; raw delivery gives it as is.
    if isinstance(envelope, dict) and envelope.get("Type") == "Notification":
        text = str(envelope.get("Message", ""))
    if text.replace(" ", "").startswith(tuple(n.replace(" ", "") for n in _SETUP_NOTICES)):
        logger.info("SES destination notice", extra={"notice": text[:120]})
        return
    try:
        event = parse_ses_message(text)
    except MalformedMailEvent as exc:
        # Not an SES event we can read: retrying will not help (the DLQ would only hide it).
        logger.error("unreadable mail event", extra={"reason": exc.message})
        metrics.add_metric(name="MailEventsUnreadable", unit=MetricUnit.Count, value=1)
        return
    outcome = root().mail_events.apply(event)
    if outcome == "bounced" and event.suppress:
        metrics.add_metric(name="MailBounces", unit=MetricUnit.Count, value=1)
    elif outcome == "complained":
        metrics.add_metric(name="MailComplaints", unit=MetricUnit.Count, value=1)


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return within_budget(event, context, _apply, worst_case_s=lambda record: APPLY_WORST_CASE_S)
