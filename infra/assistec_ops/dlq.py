"""The stack's dead-letter queues and moving their messages back.

Each queue the stack outputs (``<Name>QueueUrl``) names its dead-letter queue in its redrive policy;
``<Name>DlqUrl`` outputs say the same (a stack deployed before they existed still works: the
policy is the source of truth, and an output that disagrees with it is an error). Queues are named by
``<Name>`` in kebab case: ``payments``, ``whatsapp-send``, ``mail-events``...

A replay receives from the DLQ (the message is invisible to anyone else meanwhile), sends its body and
attributes to the source queue, and deletes it from the DLQ only after that send succeeded: a failure
leaves the message in the DLQ (made visible again), never lost, at worst sent twice, which every
consumer of the stack tolerates (each applies a message once: README "Runbook: alarms"). For a whole
queue of thousands, SQS's own redrive (StartMessageMoveTask, the console's *Start DLQ redrive*) is
faster; this one moves one message by id, shows what it moves, and is audited.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from assistec_ops.aws import ConsoleError

# Held invisible while a replay looks through the DLQ; released (made visible) when it is done.
HOLD_S = 120
MAX_IDS_AUDITED = 100


@dataclass(frozen=True)
class QueuePair:
    name: str  # payments, whatsapp-send, ...
    source_url: str
    dlq_url: str


@dataclass
class Replay:
    """What a replay did: the DLQ's message ids moved (and their new ids), failed, or only shown."""

    moved: list[tuple[str, str]] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    shown: list[dict[str, Any]] = field(default_factory=list)

    def details(self, pair: QueuePair, *, dry_run: bool) -> dict[str, Any]:
        return {
            "queue": pair.name,
            "dlq_url": pair.dlq_url,
            "source_url": pair.source_url,
            "dry_run": dry_run,
            "moved": len(self.moved),
            "failed": len(self.failed),
            "shown": len(self.shown),
            "message_ids": [old for old, _ in self.moved][:MAX_IDS_AUDITED],
            "new_message_ids": [new for _, new in self.moved][:MAX_IDS_AUDITED],
            "errors": [{"message_id": m, "error": e[:300]} for m, e in self.failed][:MAX_IDS_AUDITED],
        }


def kebab(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()


def _url_of(sqs: Any, arn: str) -> str:
    _, _, _, _, account, queue = arn.split(":", 5)
    return str(sqs.get_queue_url(QueueName=queue, QueueOwnerAWSAccountId=account)["QueueUrl"])


def pairs(outputs: dict[str, str], sqs: Any) -> list[QueuePair]:
    """Every queue of the stack that has a dead-letter queue, with it."""
    found: list[QueuePair] = []
    for key, url in sorted(outputs.items()):
        if not key.endswith("QueueUrl"):
            continue
        name = key.removesuffix("QueueUrl")
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["RedrivePolicy"])["Attributes"]
        policy = attributes.get("RedrivePolicy")
        if not policy:
            continue
        dlq_url = _url_of(sqs, json.loads(policy)["deadLetterTargetArn"])
        declared = outputs.get(f"{name}DlqUrl")
        if declared is not None and declared != dlq_url:
            raise ConsoleError(
                f"{name}DlqUrl ({declared}) is not the DLQ {key}'s redrive policy names ({dlq_url})"
            )
        found.append(QueuePair(kebab(name), url, dlq_url))
    return found


def find(all_pairs: list[QueuePair], name: str) -> QueuePair:
    for pair in all_pairs:
        if pair.name == name:
            return pair
    names = ", ".join(p.name for p in all_pairs) or "none"
    raise ConsoleError(f"no queue named {name!r} in this stage (queues: {names})")


def counts(sqs: Any, url: str) -> dict[str, int]:
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
    return {"visible": int(attributes.get(names[0], 0)), "in_flight": int(attributes.get(names[1], 0))}


def _attributes(message: dict[str, Any]) -> dict[str, Any]:
    """The message's own attributes, as SendMessage takes them."""
    kept: dict[str, Any] = {}
    for name, value in (message.get("MessageAttributes") or {}).items():
        kept[name] = {k: v for k, v in value.items() if k in ("DataType", "StringValue", "BinaryValue")}
    return kept


def replay(
    sqs: Any,
    pair: QueuePair,
    *,
    message_id: str | None,
    dry_run: bool,
    limit: int | None = None,
    progress: Callable[[int], None] = lambda _n: None,
) -> Replay:
    """Move the DLQ's messages (only ``message_id`` when given; at most ``limit``) back to the source
    queue; with ``dry_run`` only show them. Messages looked at and not moved are released at the end."""
    done = Replay()
    held: list[str] = []
    try:
        while limit is None or len(done.moved) + len(done.shown) < limit:
            received = sqs.receive_message(
                QueueUrl=pair.dlq_url,
                MaxNumberOfMessages=10,
                VisibilityTimeout=HOLD_S,
                WaitTimeSeconds=1,
                MessageAttributeNames=["All"],
                AttributeNames=["All"],
            ).get("Messages", [])
            if not received:
                break
            for message in received:
                wanted = message_id is None or message["MessageId"] == message_id
                if not wanted or dry_run or (limit is not None and len(done.moved) >= limit):
                    held.append(message["ReceiptHandle"])
                    if wanted and dry_run:
                        done.shown.append(_shown(message))
                        progress(1)
                    continue
                try:
                    sent = sqs.send_message(
                        QueueUrl=pair.source_url,
                        MessageBody=message["Body"],
                        MessageAttributes=_attributes(message),
                    )
                except Exception as exc:
                    held.append(message["ReceiptHandle"])
                    done.failed.append((message["MessageId"], f"{type(exc).__name__}: {exc}"))
                    progress(1)
                    continue
                sqs.delete_message(QueueUrl=pair.dlq_url, ReceiptHandle=message["ReceiptHandle"])
                done.moved.append((message["MessageId"], str(sent["MessageId"])))
                progress(1)
            if message_id is not None and (done.moved or done.shown or done.failed):
                break
    finally:
        for handle in held:
            try:
                sqs.change_message_visibility(
                    QueueUrl=pair.dlq_url, ReceiptHandle=handle, VisibilityTimeout=0
                )
            except Exception:  # it reappears by itself after HOLD_S
                continue
    return done


def _shown(message: dict[str, Any]) -> dict[str, Any]:
    attributes = message.get("Attributes") or {}
    return {
        "message_id": message["MessageId"],
        "receive_count": attributes.get("ApproximateReceiveCount"),
        "sent_at": attributes.get("SentTimestamp"),
        "body": message["Body"][:2000],
    }
