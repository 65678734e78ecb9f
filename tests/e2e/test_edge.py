"""The edge as deployed (issue 10, §6 and §8), through LocalStack: API Gateway hands malformed bodies
to our validation (no request validator of its own), and KMS keeps the shops' Asaas keys and the
devices' unlock codes apart by their encryption context."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from assistec.domain.tokens import Identity
from assistec.services.devices import _context as unlock_code_context
from assistec.services.payments.account import _context as asaas_key_context


@pytest.mark.parametrize("raw", ["[]", "null", '"x"', "{not json"])
@pytest.mark.parametrize("route", ["/signup", "/auth/login"])
def test_malformed_bodies_reach_our_validation_through_api_gateway(
    http: httpx.Client, route: str, raw: str
) -> None:
    # When a public route gets a body that is not a JSON object, through API Gateway
    response = http.post(route, content=raw, headers={"Content-Type": "application/json"})
    # Then our validation answers in the API's error shape (not the gateway's 400 "Invalid request body")
    assert response.status_code == 422, response.text
    body = response.json()
    assert set(body) == {"code", "message", "details", "correlation_id"}
    assert body["code"] in {"validation_error", "invalid_json"}


def test_an_asaas_key_ciphertext_does_not_decrypt_as_an_unlock_code(
    stack: dict[str, Any], aws: Callable[[str], Any]
) -> None:
    # Given the deployed shop-secrets key and an Asaas key encrypted as the API stores it
    env = aws("lambda").get_function_configuration(FunctionName=stack["api_function_name"])["Environment"]
    key_id = env["Variables"]["PAYMENTS_KEY_ID"]
    kms = aws("kms")
    tenant = uuid.uuid4()
    sealed = kms.encrypt(
        KeyId=key_id, Plaintext=b"$aact_secret", EncryptionContext=asaas_key_context(tenant)
    )["CiphertextBlob"]
    unlock = unlock_code_context(Identity(tenant, uuid.uuid4(), "owner"), uuid.uuid4())  # type: ignore[arg-type]
    # When it is read as a device's unlock code of the same shop, or as another shop's Asaas key
    for context in (unlock, asaas_key_context(uuid.uuid4())):
        # Then KMS refuses it
        with pytest.raises(kms.exceptions.InvalidCiphertextException):
            kms.decrypt(KeyId=key_id, CiphertextBlob=sealed, EncryptionContext=context)
    # And as what it is, it decrypts
    plain = kms.decrypt(KeyId=key_id, CiphertextBlob=sealed, EncryptionContext=asaas_key_context(tenant))
    assert plain["Plaintext"] == b"$aact_secret"
