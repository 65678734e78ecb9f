"""WhatsApp rules over Evolution's payloads: phones and JIDs (the ninth digit, ``@lid``, groups),
who a message is from, its text and its kind. Payloads from tests/fixtures/evolution (real
captures) and ../shared/PROVIDERS.md §1.4 (2.3.x shapes read from Evolution's source)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from assistec.domain.whatsapp import (
    Sender,
    message_kind,
    message_text,
    normalize_phone,
    parse_jid,
    phone_variants,
    sender_of,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "evolution"


def _fixture(name: str) -> dict[str, Any]:
    return dict(json.loads((FIXTURES / name).read_text())["data"])


INCOMING = _fixture("messages_upsert_incoming_text__capture_masked.json")
OUTGOING = _fixture("messages_upsert_outgoing_text_fromMe__capture_masked.json")
IMAGE = _fixture("messages_upsert_image__capture_masked_truncated.json")
V2_DOC = _fixture("messages_upsert_v2_with_status_instanceId__doc.json")

# Area codes in use (Anatel); every one takes nine-digit mobiles.
DDDS = [
    11, 12, 13, 14, 15, 16, 17, 18, 19, 21, 22, 24, 27, 28, 31, 32, 33, 34, 35, 37, 38, 41, 42, 43, 44,
    45, 46, 47, 48, 49, 51, 53, 54, 55, 61, 62, 63, 64, 65, 66, 67, 68, 69, 71, 73, 74, 75, 77, 79, 81,
    82, 83, 84, 85, 86, 87, 88, 89, 91, 92, 93, 94, 95, 96, 97, 98, 99,
]  # fmt: skip


# --- phones --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "raw",
    [
        "(11) 98765-4321",
        "+55 11 98765-4321",
        "11987654321",
        "5511987654321",
        "011 98765-4321",  # long-distance prefix
        "11 8765-4321",  # the old eight-digit spelling
        "5511987654321@s.whatsapp.net",
        "5511987654321:17@s.whatsapp.net",  # one of the account's devices
        "551187654321@s.whatsapp.net",  # an old account's JID
        "5511987654321@c.us",
    ],
)
def test_every_spelling_of_a_mobile_normalises_to_one_e164(raw: str) -> None:
    assert normalize_phone(raw) == "5511987654321"


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("558197088404@s.whatsapp.net", "5581997088404"),  # Evolution dropped the 9 (DDD 81, next 9)
        ("(11) 3456-7890", "551134567890"),  # a landline gains no 9
        ("+1 650 253 0000", "16502530000"),
        ("16502530000@s.whatsapp.net", "16502530000"),  # JIDs are international, not Brazilian
    ],
)
def test_normalised_numbers(raw: str, e164: str) -> None:
    assert normalize_phone(raw) == e164


@pytest.mark.parametrize(
    "raw",
    [
        "120363025246125486@g.us",  # a group
        "5511987654321-1623287640@g.us",  # an old-style group
        "status@broadcast",
        "1623287640@broadcast",  # a broadcast list
        "154417159582282@lid",  # a Linked ID hides the phone
        "120363199999999999@newsletter",
        "@s.whatsapp.net",
        "abc@s.whatsapp.net",
        "123",
        "abc",
        "",
        "   ",
        None,
    ],
)
def test_what_is_not_a_phone_normalises_to_none(raw: str | None) -> None:
    assert normalize_phone(raw) is None


@pytest.mark.parametrize(
    ("e164", "variants"),
    [
        ("5511987654321", {"5511987654321", "551187654321"}),
        ("551187654321", {"5511987654321", "551187654321"}),
        ("+5581997088404", {"5581997088404", "558197088404"}),
        ("5511912345678", {"5511912345678"}),  # 9 then 1: never had an eight-digit spelling
        ("551134567890", {"551134567890"}),  # landline
        ("16502530000", {"16502530000"}),
    ],
)
def test_phone_variants(e164: str, variants: set[str]) -> None:
    assert phone_variants(e164) == variants


def test_a_customer_stored_with_the_nine_is_found_from_an_old_accounts_jid() -> None:
    # Given a customer stored as the API stores phones (with the ninth digit)
    stored = "5581997088404"
    # When a message arrives from the JID Evolution spells without it (the v2 doc capture)
    sender = sender_of(V2_DOC)
    # Then the phone matches, and both spellings are there to look the customer up by
    assert sender.phone == stored
    assert {"558197088404", stored} <= phone_variants(sender.phone)


# --- JIDs and senders ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("jid", "kind", "user"),
    [
        ("5511987654321@s.whatsapp.net", "user", "5511987654321"),
        ("5511987654321:3@S.WhatsApp.net", "user", "5511987654321"),
        ("154417159582282@lid", "lid", "154417159582282"),
        ("120363025246125486@g.us", "group", "120363025246125486"),
        ("status@broadcast", "status", "status"),
        ("1623287640@broadcast", "broadcast", "1623287640"),
        ("120363199999999999@newsletter", "other", "120363199999999999"),
        ("5511987654321", "other", "5511987654321"),
        ("", "other", ""),
    ],
)
def test_parse_jid(jid: str, kind: str, user: str) -> None:
    parsed = parse_jid(jid)
    assert (parsed.kind, parsed.user, parsed.raw) == (kind, user, jid)


def test_the_sender_of_a_real_incoming_message() -> None:
    assert sender_of(INCOMING) == Sender(
        chat_jid="5511988887777@s.whatsapp.net",
        kind="user",
        phone="5511988887777",
        lid=None,
        from_me=False,
        push_name="Cliente Teste",
        addressing_mode=None,
    )


def test_a_message_typed_by_the_shop_names_the_customer_it_went_to() -> None:
    sender = sender_of(OUTGOING)
    assert sender.from_me
    assert sender.phone == "5511988887777"  # the chat's other side, not the shop's own number


def _upsert(key: dict[str, Any]) -> dict[str, Any]:
    return {
        "key": {"fromMe": False, "id": "3EB0C0BD05DCA97A7C09CB", **key},
        "pushName": "Maria",
        "status": "DELIVERY_ACK",
        "message": {"conversation": "Meu celular já ficou pronto? OS 1234"},
        "messageType": "conversation",
        "messageTimestamp": 1761560100,
        "instanceId": "0b9d",
        "source": "android",
    }


@pytest.mark.parametrize(
    ("key", "chat_kind"),
    [
        # 2.3.6, phone addressing: the lid beside the phone (PROVIDERS §1.4's representative payload)
        (
            {
                "remoteJid": "5511987654321@s.whatsapp.net",
                "remoteJidAlt": "154417159582282@lid",
                "addressingMode": "pn",
            },
            "user",
        ),
        # 2.3.6, lid addressing: the phone beside the lid
        (
            {
                "remoteJid": "154417159582282@lid",
                "remoteJidAlt": "5511987654321@s.whatsapp.net",
                "addressingMode": "lid",
            },
            "lid",
        ),
        # 2.3.0: senderPn
        ({"remoteJid": "154417159582282@lid", "senderPn": "5511987654321@s.whatsapp.net"}, "lid"),
    ],
)
def test_a_lid_with_the_phone_beside_it_gives_both(key: dict[str, Any], chat_kind: str) -> None:
    sender = sender_of(_upsert(key))
    assert (sender.phone, sender.lid, sender.kind) == ("5511987654321", "154417159582282", chat_kind)
    assert sender.reply_to == "5511987654321"


def test_a_lid_without_a_phone_keeps_the_lid_and_replies_to_it() -> None:
    # Given Evolution did not learn the phone behind the Linked ID (PROVIDERS §1.4, #2466)
    sender = sender_of(_upsert({"remoteJid": "13718@lid"}))
    # Then there is no phone to match a customer by, only the lid to keep and reply to
    assert (sender.phone, sender.lid) == (None, "13718")
    assert sender.reply_to == "13718@lid"


@pytest.mark.parametrize("chat", ["120363025246125486@g.us", "status@broadcast", "1623287640@broadcast"])
def test_groups_and_broadcasts_have_no_customer_phone(chat: str) -> None:
    # A participant's phone in a group is not the chat's: the router ignores groups
    sender = sender_of(_upsert({"remoteJid": chat, "participant": "5511987654321@s.whatsapp.net"}))
    assert sender.phone is None
    assert sender.kind in ("group", "status", "broadcast")


@pytest.mark.parametrize("data", [{}, {"key": None}, {"key": "x"}, {"key": {"remoteJid": 42}}])
def test_a_malformed_key_gives_no_phone(data: dict[str, Any]) -> None:
    sender = sender_of(data)
    assert (sender.phone, sender.lid, sender.kind, sender.from_me) == (None, None, "other", False)


# --- text and kind -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("message", "text"),
    [
        ({"conversation": "oi"}, "oi"),  # 2.2+
        ({"extendedTextMessage": {"text": "quanto custa a tela?"}}, "quanto custa a tela?"),  # 1.x, replies
        ({"videoMessage": {"caption": "olha o defeito"}}, "olha o defeito"),
        ({"documentMessage": {"caption": "nota fiscal", "fileName": "nf.pdf"}}, "nota fiscal"),
        (
            {"documentWithCaptionMessage": {"message": {"documentMessage": {"caption": "laudo"}}}},
            "laudo",
        ),
        ({"ephemeralMessage": {"message": {"extendedTextMessage": {"text": "sumindo"}}}}, "sumindo"),
        ({"buttonsResponseMessage": {"selectedDisplayText": "Aprovar"}}, "Aprovar"),
        ({"audioMessage": {"seconds": 7, "ptt": True}}, None),
        ({"conversation": "   "}, None),
        ({}, None),
    ],
)
def test_message_text(message: dict[str, Any], text: str | None) -> None:
    assert message_text({"message": message}) == text


def test_the_text_of_the_real_captures() -> None:
    assert message_text(INCOMING) == "hola - text"
    assert message_text(IMAGE) == "hola - text con multimedia (imagen)"  # the caption


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (INCOMING, "text"),
        (IMAGE, "image"),
        ({"message": {"extendedTextMessage": {"text": "x"}}}, "text"),
        ({"message": {"audioMessage": {"ptt": True}}, "messageType": "audioMessage"}, "audio"),
        ({"message": {"documentWithCaptionMessage": {"message": {"documentMessage": {}}}}}, "document"),
        ({"message": {"videoMessage": {}}}, "video"),
        ({"message": {"stickerMessage": {}}}, "sticker"),
        ({"message": {"reactionMessage": {"text": "👍", "key": {"id": "X"}}}}, "reaction"),
        ({"message": {"protocolMessage": {"type": 0}}}, "protocol"),
        ({"message": {"viewOnceMessageV2": {"message": {"imageMessage": {}}}}}, "image"),
        ({"message": {"pollCreationMessage": {}}}, "other"),
        ({"message": {"messageContextInfo": {}}, "messageType": "imageMessage"}, "image"),  # by type
        ({"message": None}, "other"),
        ({"message": "conversation"}, "other"),
        ({}, "other"),
    ],
)
def test_message_kind(data: dict[str, Any], kind: str) -> None:
    assert message_kind(data) == kind


# --- properties ----------------------------------------------------------------------------------
ddds = st.sampled_from(DDDS)
subscribers = st.from_regex(r"[1-9][0-9]{7}", fullmatch=True)  # the eight digits after the 9


def _spellings(ddd: int, rest: str) -> list[str]:
    """A mobile ``(ddd) 9rest`` written as people and Evolution write it."""
    nine = f"9{rest}"
    return [
        f"({ddd}) {nine[:5]}-{nine[5:]}",
        f"+55 {ddd} {nine[:5]}-{nine[5:]}",
        f"{ddd}{nine}",
        f"55{ddd}{nine}",
        f"+55{ddd}{nine}",
        f"0{ddd} {nine}",
        f"55{ddd}{nine}@s.whatsapp.net",
        f"55{ddd}{nine}:2@s.whatsapp.net",
    ]


@given(ddds, subscribers)
def test_any_mobile_in_any_spelling_normalises_to_the_same_e164(ddd: int, rest: str) -> None:
    expected = f"55{ddd}9{rest}"
    assert {normalize_phone(s) for s in _spellings(ddd, rest)} == {expected}


@given(ddds, st.from_regex(r"[6-9][0-9]{7}", fullmatch=True))
def test_an_old_mobile_spelling_normalises_to_the_nine_and_is_one_of_its_variants(
    ddd: int, rest: str
) -> None:
    # Given a mobile that existed with eight digits, written (or sent as a JID) that way
    canonical = f"55{ddd}9{rest}"
    old = f"55{ddd}{rest}"
    # Then it is the same line as the nine-digit one
    assert normalize_phone(f"{old}@s.whatsapp.net") == canonical
    assert normalize_phone(f"({ddd}) {rest[:4]}-{rest[4:]}") == canonical
    assert phone_variants(canonical) == phone_variants(old) == {canonical, old}


@given(st.from_regex(r"\+?[0-9]{8,15}", fullmatch=True))
def test_variants_are_symmetric(number: str) -> None:
    variants = phone_variants(number)
    assert number.removeprefix("+") in variants
    assert len(variants) <= 2
    for variant in variants:
        assert phone_variants(variant) == variants


@given(
    ddds, subscribers, st.from_regex(r"[0-9]{10,16}", fullmatch=True), st.sampled_from(["pn", "lid", "2.3.0"])
)
def test_the_sender_phone_is_found_wherever_evolution_puts_it(
    ddd: int, rest: str, lid: str, shape: str
) -> None:
    phone = f"55{ddd}9{rest}"
    assume(lid != phone)
    keys = {
        "pn": {"remoteJid": f"{phone}@s.whatsapp.net", "remoteJidAlt": f"{lid}@lid", "addressingMode": "pn"},
        "lid": {
            "remoteJid": f"{lid}@lid",
            "remoteJidAlt": f"{phone}@s.whatsapp.net",
            "addressingMode": "lid",
        },
        "2.3.0": {"remoteJid": f"{lid}@lid", "senderPn": f"{phone}@s.whatsapp.net"},
    }
    sender = sender_of(_upsert(keys[shape]))
    assert (sender.phone, sender.lid) == (phone, lid)
