"""Field encryption with KMS: small secrets (device unlock codes, the shops' Asaas API keys) never
stored in clear.

The encryption context (the shop, the device, and what the value is) is bound into each ciphertext:
a value copied to another row or shop, or read as something else, does not decrypt. The entry that
says what a value is (its purpose) is also what IAM grants are conditioned on
(``kms:EncryptionContext:<name>``, infra/assistec_infra/capabilities/storage.py): the payment workers
may decrypt Asaas keys only, never an unlock code.
"""

from __future__ import annotations

from typing import Any, Protocol

# The purpose entries of the encryption contexts in use (their names and values are those of the
# ciphertexts already stored: changing one would leave them undecryptable).
UNLOCK_CODE: tuple[str, str] = ("field", "unlock_code")
ASAAS_API_KEY: tuple[str, str] = ("purpose", "asaas-api-key")
# The token of a shop's WhatsApp instance on the Evolution server (only the API encrypts it; nothing
# decrypts it in normal work: deliveries are checked against its SHA-256).
EVOLUTION_TOKEN: tuple[str, str] = ("purpose", "evolution-instance-token")
# A shop's Google OAuth tokens (refresh and access): the API encrypts them at the consent; the API
# (availability, calendars) and the calendar worker and pass decrypt them, and encrypt the rotated
# ones. The WhatsApp bot never does: it offers slots from the busy times the pass keeps.
GOOGLE_TOKEN: tuple[str, str] = ("purpose", "google-token")
# The password of a shop's own SMTP server: the API encrypts it (and decrypts it for the test message);
# every function that sends the shop's mail decrypts it.
SMTP_PASSWORD: tuple[str, str] = ("purpose", "smtp-password")


class Cipher(Protocol):
    def encrypt(self, plaintext: str, context: dict[str, str]) -> bytes: ...

    def decrypt(self, ciphertext: bytes, context: dict[str, str]) -> str: ...


class WrongPurposeError(ValueError):
    """A cipher was asked to encrypt or decrypt a value of another purpose than its own."""


class KmsCipher:
    """KMS under one key, for values of one purpose: a context that does not name it is refused
    before KMS is called (in AWS the role's conditioned grant would refuse it too)."""

    def __init__(self, key_id: str, purpose: tuple[str, str]) -> None:
        self._key_id = key_id
        self._purpose = purpose
        self._client: Any = None

    def _check(self, context: dict[str, str]) -> None:
        name, value = self._purpose
        if context.get(name) != value:
            raise WrongPurposeError(f"this cipher is for {name}={value}, not {context.get(name)!r}")

    def _kms(self) -> Any:
        if self._client is None:
            import boto3  # deferred: only requests that touch an unlock code need KMS

            self._client = boto3.client("kms")
        return self._client

    def encrypt(self, plaintext: str, context: dict[str, str]) -> bytes:
        self._check(context)
        response = self._kms().encrypt(
            KeyId=self._key_id, Plaintext=plaintext.encode(), EncryptionContext=context
        )
        return bytes(response["CiphertextBlob"])

    def decrypt(self, ciphertext: bytes, context: dict[str, str]) -> str:
        self._check(context)
        response = self._kms().decrypt(
            KeyId=self._key_id, CiphertextBlob=ciphertext, EncryptionContext=context
        )
        return bytes(response["Plaintext"]).decode()


# The data keys of the shops' backup bundles (domain/backup_bundle.py): generated and opened by the
# backup functions only, under the shop-secrets key; the context also names the shop.
BACKUP_BUNDLE: tuple[str, str] = ("purpose", "backup-bundle")


class DataKeys(Protocol):
    """Envelope encryption's key half: a fresh data key (plaintext to use now, KMS's ciphertext to
    store beside what it encrypts), and the plaintext back from that ciphertext, under the context."""

    def generate(self, context: dict[str, str]) -> tuple[bytes, bytes]: ...

    def decrypt(self, encrypted_key: bytes, context: dict[str, str]) -> bytes: ...


class KmsDataKeys:
    """KMS's GenerateDataKey (AES_256) and Decrypt under one key, for keys of one purpose: a context
    that does not name it is refused before KMS is called (in AWS, the role's grant refuses it too)."""

    def __init__(self, key_id: str, purpose: tuple[str, str] = BACKUP_BUNDLE) -> None:
        self._key_id = key_id
        self._purpose = purpose
        self._client: Any = None

    def _check(self, context: dict[str, str]) -> None:
        name, value = self._purpose
        if context.get(name) != value:
            raise WrongPurposeError(f"these data keys are for {name}={value}, not {context.get(name)!r}")

    def _kms(self) -> Any:
        if self._client is None:
            import boto3

            self._client = boto3.client("kms")
        return self._client

    def generate(self, context: dict[str, str]) -> tuple[bytes, bytes]:
        self._check(context)
        response = self._kms().generate_data_key(
            KeyId=self._key_id, KeySpec="AES_256", EncryptionContext=context
        )
        return bytes(response["Plaintext"]), bytes(response["CiphertextBlob"])

    def decrypt(self, encrypted_key: bytes, context: dict[str, str]) -> bytes:
        self._check(context)
        response = self._kms().decrypt(
            KeyId=self._key_id, CiphertextBlob=encrypted_key, EncryptionContext=context
        )
        return bytes(response["Plaintext"])
