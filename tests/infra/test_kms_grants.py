"""KMS (issue 10, §6): device unlock codes and the shops' Asaas keys share one key but are apart by
their encryption context; every grant on the key names the purpose it is for, and the payment workers
can decrypt Asaas keys only. The shops' Google tokens (issue 12) too: whoever calls Google (the API,
the calendar worker and pass) encrypts and decrypts them, and no other function
(tests/infra/test_scheduling.py). The backup bundles' data keys (issue 13): made by the nightly export,
decrypted by it, the ops console's function and the restore test only (tests/infra/test_backup.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from assistec.integrations import kms
from assistec_infra import constants
from tests.infra.templates import _app_handlers, _function, _template

UNLOCK = {"kms:EncryptionContext:field": "unlock_code"}
ASAAS = {"kms:EncryptionContext:purpose": "asaas-api-key"}
EVOLUTION = {"kms:EncryptionContext:purpose": "evolution-instance-token"}
GOOGLE = {"kms:EncryptionContext:purpose": "google-token"}
SMTP = {"kms:EncryptionContext:purpose": "smtp-password"}
BACKUP = {"kms:EncryptionContext:purpose": "backup-bundle"}


def _shop_secrets_key(template: Any) -> str:
    [key] = [
        name for name, k in template.find_resources("AWS::KMS::Key").items() if "unlock" in json.dumps(k)
    ]
    return str(key)


def _kms_grants(template: Any, handler: str) -> list[tuple[set[str], dict[str, str] | None]]:
    """The (actions, StringEquals condition) of each statement of the handler's role on the key."""
    role = _function(template, handler)["Role"]["Fn::GetAtt"][0]
    key = _shop_secrets_key(template)
    grants = []
    for policy in template.find_resources("AWS::IAM::Policy").values():
        if {"Ref": role} not in policy["Properties"]["Roles"]:
            continue
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if key not in json.dumps(statement.get("Resource")):
                continue
            actions = statement["Action"]
            conditions = statement.get("Condition")
            grants.append(
                (
                    {actions} if isinstance(actions, str) else set(actions),
                    None if conditions is None else conditions.get("StringEquals"),
                )
            )
    return grants


def test_the_infra_names_the_purposes_the_code_sends() -> None:
    assert constants.KMS_UNLOCK_CODE_CONTEXT == kms.UNLOCK_CODE
    assert constants.KMS_ASAAS_KEY_CONTEXT == kms.ASAAS_API_KEY
    assert {f"kms:EncryptionContext:{kms.UNLOCK_CODE[0]}": kms.UNLOCK_CODE[1]} == UNLOCK
    assert {f"kms:EncryptionContext:{kms.ASAAS_API_KEY[0]}": kms.ASAAS_API_KEY[1]} == ASAAS
    assert constants.KMS_EVOLUTION_TOKEN_CONTEXT == kms.EVOLUTION_TOKEN
    assert {f"kms:EncryptionContext:{kms.EVOLUTION_TOKEN[0]}": kms.EVOLUTION_TOKEN[1]} == EVOLUTION
    assert constants.KMS_GOOGLE_TOKEN_CONTEXT == kms.GOOGLE_TOKEN
    assert {f"kms:EncryptionContext:{kms.GOOGLE_TOKEN[0]}": kms.GOOGLE_TOKEN[1]} == GOOGLE


# The workers that call a shop's Asaas account (the consumer, the per-shop reconciliation, the
# payment flow's steps): each decrypts Asaas keys, and only them.
_ASAAS_WORKERS = (
    constants.PAYMENTS_CONSUMER_HANDLER,
    constants.RECONCILE_SHOP_HANDLER,
    constants.PAYMENT_FLOW_HANDLER,
)
# The workers that call Google for a shop (the calendar worker and pass): its tokens, read and
# saved back when Google refreshes them, and nothing else.
_GOOGLE_WORKERS = (constants.CALENDAR_WORKER_HANDLER, constants.CALENDAR_SCHEDULED_HANDLER)
# Every function that sends a shop's mail may go through the shop's own SMTP server: it decrypts the
# server's password (the API, where staff save it, encrypts it too).
_MAIL_SENDERS = (
    constants.PAYMENTS_CONSUMER_HANDLER,
    constants.PAYMENT_FLOW_HANDLER,
    constants.QUOTE_FLOW_HANDLER,
    constants.DUNNING_HANDLER,
    constants.WHATSAPP_CONSUMER_HANDLER,
    constants.CALENDAR_WORKER_HANDLER,
    constants.CALENDAR_SCHEDULED_HANDLER,
    constants.REMINDERS_HANDLER,
)


def _order(grant: tuple[set[str], dict[str, str] | None]) -> str:
    """A grant's sort key that does not hang on a set's iteration order."""
    actions, condition = grant
    return f"{sorted(actions)}{sorted((condition or {}).items())}"


@pytest.mark.parametrize("stage", ["local", "prod"])
def test_payment_workers_decrypt_asaas_keys_only(stage: str, local_stack: Any, prod_stack: Any) -> None:
    template = _template(local_stack if stage == "local" else prod_stack)
    handlers = _app_handlers(template)
    assert set(_ASAAS_WORKERS) <= handlers
    for handler in handlers:
        if handler == constants.API_HANDLER:
            continue
        grants = _kms_grants(template, handler)
        # Then a worker's only grant on the key is decrypting values whose context says Asaas key
        # (or, calling Google, encrypting and decrypting the shops' Google tokens)
        expected = [({"kms:Decrypt"}, ASAAS)] if handler in _ASAAS_WORKERS else []
        if handler in _GOOGLE_WORKERS:
            expected = [({"kms:Encrypt", "kms:Decrypt"}, GOOGLE)]
        if handler in _MAIL_SENDERS:
            expected.append(({"kms:Decrypt"}, SMTP))
        # The nightly export makes each bundle's data key; the restore test reads bundles back
        # (and the ops console's function makes an operator's bundle and reads bundles on demand)
        if handler in (constants.BACKUP_EXPORT_HANDLER, constants.OPS_HANDLER):
            expected = [({"kms:GenerateDataKey", "kms:Decrypt"}, BACKUP)]
        if handler == constants.RESTORE_TEST_HANDLER:
            expected = [({"kms:Decrypt"}, BACKUP)]
        assert sorted(grants, key=_order) == sorted(expected, key=_order), handler


@pytest.mark.parametrize("stage", ["local", "prod"])
def test_the_api_encrypts_and_decrypts_each_purpose_by_name(
    stage: str, local_stack: Any, prod_stack: Any
) -> None:
    template = _template(local_stack if stage == "local" else prod_stack)
    grants = _kms_grants(template, constants.API_HANDLER)
    assert sorted(grants, key=_order) == sorted(
        [
            ({"kms:Encrypt", "kms:Decrypt"}, UNLOCK),
            ({"kms:Encrypt", "kms:Decrypt"}, ASAAS),
            # WhatsApp instance tokens: encrypted when a number is connected, never read back
            ({"kms:Encrypt"}, EVOLUTION),
            # Google tokens: encrypted at the consent, read (and a refreshed one saved) by availability
            ({"kms:Encrypt", "kms:Decrypt"}, GOOGLE),
            # The shop's SMTP password: encrypted when staff save it, read to send the test message
            ({"kms:Encrypt", "kms:Decrypt"}, SMTP),
        ],
        key=_order,
    )


@pytest.mark.parametrize("stage", ["local", "prod"])
def test_no_function_uses_the_key_without_naming_a_purpose(
    stage: str, local_stack: Any, prod_stack: Any
) -> None:
    template = _template(local_stack if stage == "local" else prod_stack)
    for handler in _app_handlers(template):
        for actions, condition in _kms_grants(template, handler):
            assert condition in (UNLOCK, ASAAS, EVOLUTION, GOOGLE, SMTP, BACKUP), (handler, actions)
            # only the API encrypts, but Google tokens: whoever calls Google saves a refreshed one back
            if "kms:Encrypt" in actions and condition != GOOGLE:
                assert handler == constants.API_HANDLER
