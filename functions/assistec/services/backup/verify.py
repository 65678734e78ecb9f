"""Checking a bundle before anything is done with it.

``verify`` reads a whole bundle and either returns its manifest or refuses it with
``BundleRefused(code, message)`` (pt-BR message, stable code):

- ``not_a_bundle``: not our format at all;
- ``unknown_version``: a format version this code does not read;
- ``wrong_shop``: the header names another shop (checked before KMS is asked);
- ``key_refused``: KMS does not open the data key under this shop's context (the header was edited
  to name this shop, or the key is not ours);
- ``tampered``: a byte changed anywhere (a frame, the header, the trailer), frames reordered or
  swapped in from another bundle;
- ``truncated``: the file ends before its final frame and trailer;
- ``manifest_mismatch``: the table files are not what the manifest says (rows, SHA-256, the set).

Nothing is written anywhere while verifying; a restore verifies first and changes nothing when
refused.
"""

from __future__ import annotations

from typing import IO
from uuid import UUID

from assistec.domain.backup_bundle import KeyOpener, VerifiedBundle, verify_bundle
from assistec.integrations.kms import DataKeys


def key_opener(keys: DataKeys) -> KeyOpener:
    """Opens a bundle's data key with KMS, once per key (a restore reads the bundle twice)."""
    opened: dict[tuple[bytes, tuple[tuple[str, str], ...]], bytes] = {}

    def open_key(encrypted_key: bytes, context: dict[str, str]) -> bytes:
        memo = (encrypted_key, tuple(sorted(context.items())))
        if memo not in opened:
            opened[memo] = keys.decrypt(encrypted_key, context)
        return opened[memo]

    return open_key


def verify(source: IO[bytes], expected_tenant: UUID, keys: DataKeys) -> VerifiedBundle:
    """The bundle at the start of ``source`` checked whole for ``expected_tenant``'s shop."""
    return verify_bundle(source, expected_tenant=expected_tenant, open_key=key_opener(keys))
