"""SES's events about our messages, as SNS hands them to the Lambda (tests/fixtures/ses, AWS's own
examples): what happened, to whom, whether the address must never be written to again, and why in
words the shop's staff can read."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistec.domain.mail_events import DIAGNOSTIC_MAX, MailEvent, MalformedMailEvent, parse_sns_record

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ses"
TENANT = "7b0c8a4e-2f1d-4c3b-9a8e-5d6f7a8b9c0d"


def record(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return loaded


def with_message(base: str, change: Any) -> dict[str, Any]:
    """The fixture ``base`` with its SES event changed by ``change(event)`` (in place)."""
    rec = record(base)
    event = json.loads(rec["Sns"]["Message"])
    change(event)
    rec["Sns"]["Message"] = json.dumps(event)
    return rec


def test_every_fixture_is_read() -> None:
    # Given every SNS record of the fixtures, When parsed, Then each is a MailEvent of ours
    names = sorted(p.stem for p in FIXTURES.glob("*.json"))
    assert len(names) == 8
    for name in names:
        event = parse_sns_record(record(name))
        assert isinstance(event, MailEvent)
        assert event.message_id.startswith("0103019a6c1d2e3f-")
        assert event.occurred_at.tzinfo is not None
        assert "\n" not in event.reason
        assert event.reason


def test_a_permanent_bounce_suppresses_the_address_and_says_why() -> None:
    event = parse_sns_record(record("bounce_permanent"))

    assert event.kind == "bounced"
    assert event.suppress is True
    assert event.recipients == ("recipient@example.com",)
    assert event.message_id == "0103019a6c1d2e3f-8a1f0c2e-1b3d-4e5f-9a0b-permanent01-000000"
    assert event.reason == (
        "E-mail inexistente ou recusado pelo servidor (bounce permanente): 550 5.1.1 user unknown"
    )
    assert event.feedback_id == "01000157c44f053b-61b59c11-9236-11e6-8f96-7be8aexample-000000"
    # The bounce's own time, not the send's
    assert event.occurred_at == datetime(2017, 8, 5, 0, 41, 2, 669000, tzinfo=UTC)
    # Our tags come back (first value each), next to SES's own
    assert event.tags["tenant"] == TENANT
    assert event.tags["template"] == "quote_sent"
    assert event.tags["record"] == "0f4b2c1a-6d5e-4f3a-8b2c-1d0e9f8a7b01"
    assert event.tags["ses:configuration-set"] == "assistec-mail"


def test_a_transient_bounce_does_not_suppress() -> None:
    event = parse_sns_record(record("bounce_transient"))

    assert event.kind == "soft_bounced"
    assert event.suppress is False
    assert event.reason.startswith("Caixa de entrada do destinatário cheia (bounce temporário): 452 4.2.2")
    assert event.tags["template"] == "payment_link"


def test_a_complaint_suppresses_the_address() -> None:
    event = parse_sns_record(record("complaint"))

    assert event.kind == "complained"
    assert event.suppress is True
    assert event.recipients == ("recipient@example.com",)
    assert event.reason == "O destinatário marcou a mensagem como spam (reclamação)"
    assert event.feedback_id == "01000157c44f053b-61b59c11-9236-11e6-8f96-7be8aexample-000000"


def test_a_not_spam_report_is_a_complaint_that_does_not_suppress() -> None:
    # Given a feedback loop saying the recipient moved the message OUT of spam
    rec = with_message("complaint", lambda e: e["complaint"].update(complaintFeedbackType="not-spam"))

    event = parse_sns_record(rec)

    assert (event.kind, event.suppress) == ("complained", False)


def test_a_delivery() -> None:
    event = parse_sns_record(record("delivery"))

    assert event.kind == "delivered"
    assert event.suppress is False
    assert event.recipients == ("recipient@example.com",)
    assert event.reason == "Entregue ao servidor de e-mail do destinatário: 250 2.6.0 Message received"
    assert event.occurred_at == datetime(2016, 10, 19, 23, 21, 4, 133000, tzinfo=UTC)
    assert event.feedback_id is None


def test_a_send() -> None:
    event = parse_sns_record(record("send"))

    assert (event.kind, event.suppress) == ("sent", False)
    assert event.occurred_at == datetime(2016, 10, 14, 5, 2, 16, 645000, tzinfo=UTC)
    assert event.tags["template"] == "signup_confirmation"


def test_a_reject() -> None:
    event = parse_sns_record(record("reject"))

    assert (event.kind, event.suppress) == ("rejected", False)
    assert event.recipients == ("sender@example.com",)
    assert event.reason == "O SES recusou a mensagem e não a enviou: conteúdo suspeito (vírus)"


def test_a_delivery_delay() -> None:
    event = parse_sns_record(record("delivery_delay"))

    assert (event.kind, event.suppress) == ("delayed", False)
    assert event.recipients == ("recipient@example.com",)
    assert "falha temporária de comunicação" in event.reason
    assert event.reason.endswith("421 4.4.1 Unable to connect to remote host")
    assert event.occurred_at == datetime(2020, 6, 16, 0, 25, 40, 95000, tzinfo=UTC)
    assert set(event.tags) == {"ses:configuration-set", "tenant", "template", "record"}


def test_the_legacy_identity_notification_is_read_too() -> None:
    # Given an identity notification (notificationType, three destinations, one bounced, no tags)
    event = parse_sns_record(record("legacy_notification_bounce"))

    # Then only the bounced address is suppressed
    assert (event.kind, event.suppress) == ("bounced", True)
    assert event.recipients == ("jane@example.com",)
    assert event.tags == {}
    assert event.reason.endswith("550 5.1.1 <jane@example.com>... User")


def test_recipients_are_lower_cased() -> None:
    rec = with_message(
        "bounce_permanent",
        lambda e: e["bounce"]["bouncedRecipients"][0].update(emailAddress=" Ana@Exemplo.COM "),
    )

    assert parse_sns_record(rec).recipients == ("ana@exemplo.com",)


def test_a_long_diagnostic_is_truncated() -> None:
    # Given a receiving server that explains itself at length, over several lines
    long = "smtp; 550-5.1.1 " + "The email account that you tried to reach does not exist.\n" * 40

    rec = with_message(
        "bounce_permanent", lambda e: e["bounce"]["bouncedRecipients"][0].update(diagnosticCode=long)
    )
    event = parse_sns_record(rec)

    diagnostic = event.reason.split(": ", 1)[1]
    assert len(diagnostic) <= DIAGNOSTIC_MAX
    assert diagnostic.endswith("…")
    assert "\n" not in event.reason


@pytest.mark.parametrize(
    ("sub_type", "reason"),
    [
        ("OnAccountSuppressionList", "Endereço na lista de supressão da conta SES"),
        ("NoEmail", "E-mail inexistente (bounce permanente): 550 5.1.1 user unknown"),
    ],
)
def test_permanent_bounce_subtypes(sub_type: str, reason: str) -> None:
    rec = with_message("bounce_permanent", lambda e: e["bounce"].update(bounceSubType=sub_type))

    event = parse_sns_record(rec)

    assert event.suppress is True
    assert event.reason.startswith(reason)


def test_an_undetermined_bounce_does_not_suppress() -> None:
    rec = with_message("bounce_permanent", lambda e: e["bounce"].update(bounceType="Undetermined"))

    event = parse_sns_record(rec)

    assert (event.kind, event.suppress) == ("soft_bounced", False)


def test_open_click_and_other_events_are_other() -> None:
    # Given an Open record (not something we act on)
    rec = with_message(
        "send", lambda e: (e.pop("send"), e.update(eventType="Open", open={"ipAddress": "192.0.2.1"}))
    )

    event = parse_sns_record(rec)

    assert (event.kind, event.suppress) == ("other", False)
    assert event.reason == "Evento do SES: Open"


def test_unknown_fields_are_ignored() -> None:
    rec = with_message(
        "bounce_permanent", lambda e: (e.update(newTopLevel={"x": 1}), e["bounce"].update(newField=[1, 2]))
    )

    assert parse_sns_record(rec).kind == "bounced"


def test_the_sns_message_itself_is_accepted() -> None:
    # An HTTP/SQS subscriber sees the SNS message without the Lambda record around it
    assert parse_sns_record(record("complaint")["Sns"]).kind == "complained"


def _malformed() -> list[tuple[str, Any]]:
    def message(body: Any) -> dict[str, Any]:
        rec = record("delivery")
        rec["Sns"]["Message"] = body if isinstance(body, str) else json.dumps(body)
        return rec

    delivery = json.loads(record("delivery")["Sns"]["Message"])
    no_mail = {k: v for k, v in delivery.items() if k != "mail"}
    no_id = copy.deepcopy(delivery)
    del no_id["mail"]["messageId"]
    bad_time = copy.deepcopy(delivery)
    bad_time["mail"]["timestamp"] = "ontem"
    bounce_without_bounce = {"eventType": "Bounce", "mail": delivery["mail"]}
    recipients_not_a_list = {
        "eventType": "Bounce",
        "mail": delivery["mail"],
        "bounce": {"bounceType": "Permanent", "bouncedRecipients": "recipient@example.com"},
    }
    complaint_without_complaint = {"notificationType": "Complaint", "mail": delivery["mail"]}
    no_sns = record("delivery")
    del no_sns["Sns"]
    message_not_text = record("delivery")
    message_not_text["Sns"]["Message"] = delivery
    return [
        ("not an object", ["Records"]),
        ("no Sns", no_sns),
        ("Message not a string", message_not_text),
        ("Message not JSON", message("{not json")),
        ("Message a JSON list", message([1, 2])),
        ("no event type", message({"mail": delivery["mail"]})),
        ("no mail", message(no_mail)),
        ("no messageId", message(no_id)),
        ("bad timestamp", message(bad_time)),
        ("Bounce without bounce", message(bounce_without_bounce)),
        ("recipients not a list", message(recipients_not_a_list)),
        ("Complaint without complaint", message(complaint_without_complaint)),
        ("oversized", message(" " * (600 * 1024) + "{}")),
        ("subscription notice (no mail)", message({"notificationType": "AmazonSnsSubscriptionSucceeded"})),
    ]


@pytest.mark.parametrize(("what", "bad"), _malformed(), ids=[w for w, _ in _malformed()])
def test_malformed_records_raise_a_clear_error(what: str, bad: Any) -> None:
    with pytest.raises(MalformedMailEvent) as caught:
        parse_sns_record(bad)

    assert caught.value.code == "ses_event_malformed"
    assert caught.value.message.startswith("Evento do SES malformado: ")
    assert isinstance(caught.value, ValueError)


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)
_known_keys = st.sampled_from(
    ["eventType", "notificationType", "mail", "bounce", "complaint", "delivery", "deliveryDelay", "reject"]
)


@settings(max_examples=150, deadline=None)
@given(
    body=st.dictionaries(_known_keys, _json, max_size=6),
    event_type=st.sampled_from(
        ["Bounce", "Complaint", "Delivery", "DeliveryDelay", "Reject", "Send", "Open"]
    ),
)
def test_any_json_is_an_event_or_a_clear_error(body: dict[str, Any], event_type: str) -> None:
    # Given arbitrary JSON under SES's own keys (a real mail object half the time)
    body.setdefault("eventType", event_type)
    body.setdefault("mail", json.loads(record("delivery")["Sns"]["Message"])["mail"])
    rec = {"Sns": {"Message": json.dumps(body)}}

    # Then parsing never fails in any other way
    try:
        event = parse_sns_record(rec)
    except MalformedMailEvent:
        return
    assert event.kind in {
        "delivered",
        "bounced",
        "soft_bounced",
        "complained",
        "rejected",
        "delayed",
        "sent",
        "other",
    }
    assert all(r == r.lower() for r in event.recipients)
