"""The real-time channel's rules: tickets, the client's messages, which events reach whom."""

from __future__ import annotations

import json
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assistec.domain import realtime as rules
from assistec.domain.permissions import Role

SHOP = uuid.UUID("6f0c2f3e-8d7a-4b61-9d0e-0f4a2b7c9e11")


def test_a_new_ticket_names_its_shop_and_parses_back_to_its_digest() -> None:
    ticket, digest = rules.new_ticket(SHOP)
    assert ticket.startswith(f"{SHOP}.")
    assert rules.parse_ticket(ticket) == (SHOP, digest)
    # Two tickets never share a secret
    assert rules.new_ticket(SHOP)[1] != digest


@pytest.mark.parametrize(
    "ticket",
    [
        None,
        "",
        "abc",
        str(SHOP),
        f"{SHOP}.",
        f"{SHOP}.short",
        f"{SHOP}.{'A' * 43}.x",
        f"not-a-uuid.{'A' * 43}",
        f"{str(SHOP).upper()}.{'A' * 43}",
        f"{SHOP}.{'A' * 42}=",
        f"{SHOP}.{'Á' * 43}",
        f"{SHOP}.{'A' * 300}",
    ],
)
def test_a_malformed_ticket_is_none(ticket: str | None) -> None:
    assert rules.parse_ticket(ticket) is None


@given(st.text(max_size=300))
def test_parse_ticket_never_raises(text: str) -> None:
    parsed = rules.parse_ticket(text)
    assert parsed is None or (isinstance(parsed[0], uuid.UUID) and len(parsed[1]) == 32)


@given(st.text(max_size=500))
def test_parse_message_answers_a_command_or_a_pt_br_error(text: str) -> None:
    outcome: object
    try:
        outcome = rules.parse_message(text)
    except rules.BadMessage as bad:
        outcome = bad
    if isinstance(outcome, rules.BadMessage):
        assert outcome.code
        assert outcome.message[0].isupper()
    else:
        assert isinstance(outcome, rules.Ping | rules.ChatSend | rules.ChatHistory)


def test_the_three_commands() -> None:
    assert rules.parse_message('{"action": "ping"}') == rules.Ping(None)
    assert rules.parse_message(
        '{"action": "chat.send", "text": " oi ", "request_id": "a"}'
    ) == rules.ChatSend("oi", "a")
    assert rules.parse_message('{"action": "chat.history"}') == rules.ChatHistory(50, None)
    assert rules.parse_message('{"action": "chat.history", "limit": 200}') == rules.ChatHistory(200, None)


def test_a_message_past_8_kb_is_refused() -> None:
    with pytest.raises(rules.BadMessage) as bad:
        rules.parse_message(json.dumps({"action": "ping", "pad": "x" * 9000}))
    assert bad.value.code == "message_too_large"


@pytest.mark.parametrize("value", [True, 1.5, None, "50", 201, 0, -1])
def test_a_history_limit_is_an_integer_from_1_to_200(value: object) -> None:
    with pytest.raises(rules.BadMessage) as bad:
        rules.parse_message(json.dumps({"action": "chat.history", "limit": value}))
    assert bad.value.code == "invalid_limit"


# --- who gets what ------------------------------------------------------------------------------------

TECH = uuid.uuid4()
OTHER_TECH = uuid.uuid4()
EVERYONE = [(Role.OWNER, uuid.uuid4()), (Role.ADMIN, uuid.uuid4()), (Role.ATTENDANT, uuid.uuid4())]


def _reached(detail_type: str, detail: dict[str, object]) -> set[Role | str]:
    push = rules.push_for(detail_type, {"tenant_id": str(SHOP), "event_id": "e1", **detail})
    assert push is not None
    staff = [*EVERYONE, (Role.TECHNICIAN, TECH), (Role.TECHNICIAN, OTHER_TECH)]
    return {
        ("tech" if user == TECH else "other tech") if role is Role.TECHNICIAN else role
        for role, user in staff
        if push.audience.includes(role, user)
    }


ORDER = {"order_id": str(uuid.uuid4()), "number": 12, "status": "received", "technician_id": str(TECH)}


def test_order_events_reach_the_counter_and_the_orders_technician_only() -> None:
    counter = {Role.OWNER, Role.ADMIN, Role.ATTENDANT}
    assert _reached("OrderCreated", ORDER) == counter | {"tech"}
    assert _reached("OrderStatusChanged", {**ORDER, "status": "diagnosing"}) == counter | {"tech"}
    assert _reached("OrderCreated", {**ORDER, "technician_id": None}) == counter


def test_money_reaches_owners_and_admins_only() -> None:
    paid = {"order_id": ORDER["order_id"], "status": "paid", "value_cents": 100, "technician_id": str(TECH)}
    assert _reached("ChargeStatusChanged", paid) == {Role.OWNER, Role.ADMIN}
    assert rules.push_for("ChargeStatusChanged", paid).message["type"] == "payment.received"  # type: ignore[union-attr]
    refunded = {**paid, "status": "refunded"}
    assert rules.push_for("ChargeStatusChanged", refunded).message["type"] == "charge.status_changed"  # type: ignore[union-attr]


def test_whatsapp_and_appointments_reach_the_counter() -> None:
    counter = {Role.OWNER, Role.ADMIN, Role.ATTENDANT}
    assert _reached("WhatsappMessageReceived", {"conversation_id": "c"}) == counter
    assert _reached("ConversationWaitingForStaff", {"conversation_id": "c"}) == counter
    assert _reached("AppointmentChanged", {"appointment_id": "a", "change": "booked"}) == counter


def test_a_quote_decision_is_told_apart_from_a_status_change() -> None:
    decided = {**ORDER, "status": "approved", "quote_id": "q", "decided_via": "link", "event_id": "e1"}
    push = rules.push_for("OrderStatusChanged", decided)
    assert push is not None
    assert push.message["type"] == "quote.decided"
    assert push.message["event_id"] == "e1"
    assert "tenant_id" not in push.message["data"]


def test_an_order_event_without_its_technician_asks_for_a_lookup() -> None:
    legacy = {k: v for k, v in ORDER.items() if k != "technician_id"}
    push = rules.push_for("OrderCreated", {"tenant_id": str(SHOP), **legacy})
    assert push is not None
    assert str(push.order_id) == ORDER["order_id"]
    assert rules.push_for("OrderCreated", {"tenant_id": str(SHOP), **ORDER}).order_id is None  # type: ignore[union-attr]


def test_events_the_panel_does_not_show_are_none() -> None:
    for detail_type in ("ShopSignedUp", "DataExportRequested", "CustomerCreated", "GoogleConnected"):
        assert rules.push_for(detail_type, {"tenant_id": str(SHOP)}) is None
    assert set(rules.PUSHED_EVENTS) == {
        "OrderCreated",
        "OrderStatusChanged",
        "ChargeStatusChanged",
        "WhatsappMessageReceived",
        "ConversationWaitingForStaff",
        "AppointmentChanged",
    }
