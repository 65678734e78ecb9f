"""The nightly backup flow on the deployed local stack (issue 13 §3): the state machine run as the
schedule runs it, for two shops named in its input: the shops' step writes the run's list to the
backup bucket, the Distributed Map reads it there and runs each shop's export as a child execution
(the export Lambda: COPY under row-level security, AES-256-GCM under a KMS data key), each bundle
lands tagged in the bucket and in the copy bucket, and the finish reads the outcome from
``backup_runs``. Each bundle is then read back with KMS as its own shop's, and refused as another's."""

from __future__ import annotations

import io
import json
import random
import time
import uuid
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from tests.e2e.shops import new_shop

FLOW_NAME = "assistec-local-backup"


def _export_environment(aws: Any) -> dict[str, str]:
    """The export function's settings (its buckets and KMS key), as deployed."""
    functions = aws("lambda").get_paginator("list_functions").paginate()
    for page in functions:
        for function in page["Functions"]:
            if function.get("Handler") == "assistec.handlers.backup.export":
                variables: dict[str, str] = function.get("Environment", {}).get("Variables", {})
                return variables
    pytest.fail("no backup export function deployed")


def test_the_flow_backs_up_the_shops_it_is_given(
    stack: dict[str, Any], http: httpx.Client, aws: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assistec.integrations.kms import BACKUP_BUNDLE, KmsDataKeys
    from assistec.services.backup.verify import verify

    # Given two new shops, one with a customer
    first, second = new_shop(http, "Backup E2E Um"), new_shop(http, "Backup E2E Dois")
    created = http.post(
        "/customers",
        json={"name": "Cliente do Backup", "phone": "(71) 99876-5432"},
        headers={"Authorization": f"Bearer {first['access_token']}"},
    )
    assert created.status_code == 201, created.text
    # When the backup flow runs for them, for a day no other run has used
    day = date(2001, 1, 1) + timedelta(days=random.randrange(36_000))
    sfn = aws("stepfunctions")
    [machine] = [m for m in sfn.list_state_machines()["stateMachines"] if m["name"] == FLOW_NAME]
    execution = sfn.start_execution(
        stateMachineArn=machine["stateMachineArn"],
        input=json.dumps({"date": day.isoformat(), "tenant_ids": [first["tenant_id"], second["tenant_id"]]}),
    )["executionArn"]
    deadline = time.monotonic() + 300
    while (described := sfn.describe_execution(executionArn=execution))["status"] == "RUNNING":
        assert time.monotonic() < deadline, "the backup flow did not finish"
        time.sleep(2)
    # Then it succeeded, and its summary says both shops have their bundle of the day
    assert described["status"] == "SUCCEEDED", described
    summary = json.loads(described["output"])
    assert (summary["date"], summary["shops"], summary["exported"], summary["failed"]) == (
        day.isoformat(),
        2,
        2,
        0,
    )

    # And each bundle is in the bucket and its copy, tagged with its retention
    settings = _export_environment(aws)
    bucket, copy_bucket, key_id = (
        settings["BACKUP_BUCKET"],
        settings["BACKUP_COPY_BUCKET"],
        settings["BACKUP_KEY_ID"],
    )
    s3 = aws("s3")
    for name, value in {
        "AWS_ENDPOINT_URL": stack["localstack_url"],
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    keys = KmsDataKeys(key_id, BACKUP_BUNDLE)
    bundles = {}
    for shop in (first, second):
        key = f"shops/{shop['tenant_id']}/{day.isoformat()}.bundle"
        tags = {t["Key"]: t["Value"] for t in s3.get_object_tagging(Bucket=bucket, Key=key)["TagSet"]}
        assert tags["retention"] in ("daily", "weekly", "monthly")
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        assert s3.get_object(Bucket=copy_bucket, Key=key)["Body"].read() == body
        bundles[shop["tenant_id"]] = body
        # And it opens (KMS, the shop in the key's context) as that shop's, its manifest whole
        manifest = verify(io.BytesIO(body), uuid.UUID(shop["tenant_id"]), keys).manifest
        assert manifest.tenant_id == uuid.UUID(shop["tenant_id"])
        table = manifest.table("tenants")
        assert table is not None
        assert table.rows == 1
    customers = verify(io.BytesIO(bundles[first["tenant_id"]]), uuid.UUID(first["tenant_id"]), keys)
    assert customers.manifest.table("customers").rows == 1  # type: ignore[union-attr]
    # And one shop's bundle is refused as the other's, before anything is decrypted
    from assistec.domain.backup_bundle import BundleRefused

    with pytest.raises(BundleRefused):
        verify(io.BytesIO(bundles[first["tenant_id"]]), uuid.UUID(second["tenant_id"]), keys)

    # And the run's list of shops is in the bucket, for the Distributed Map, under the run's day
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=f"runs/{day.isoformat()}/").get("Contents", [])
    assert len(listed) == 1
    shops = json.loads(s3.get_object(Bucket=bucket, Key=listed[0]["Key"])["Body"].read())
    assert sorted(s["tenant_id"] for s in shops) == sorted([first["tenant_id"], second["tenant_id"]])
