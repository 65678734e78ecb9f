"""Documents' storage (issue 13 §1): the API writes rendered PDFs under documents/ and the shops'
logos under logos/ of the devices bucket, by prefix only; the PDFs expire after two days."""

from __future__ import annotations

import json
from typing import Any

import pytest

from assistec_infra import constants
from tests.infra.templates import _function, _template


def _s3_grants(template: Any, handler: str) -> dict[str, set[str]]:
    """The role's S3 statements: object pattern (after the bucket's ARN) -> actions."""
    role = _function(template, handler)["Role"]["Fn::GetAtt"][0]
    grants: dict[str, set[str]] = {}
    for policy in template.find_resources("AWS::IAM::Policy").values():
        if {"Ref": role} not in policy["Properties"]["Roles"]:
            continue
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"]
            actions = {actions} if isinstance(actions, str) else set(actions)
            if not any(a.startswith("s3:") for a in actions):
                continue
            resources = statement["Resource"]
            for resource in resources if isinstance(resources, list) else [resources]:
                # {"Fn::Join": ["", [{"Fn::GetAtt": [bucket, "Arn"]}, "/<pattern>"]]}
                pattern = json.dumps(resource).rsplit('"/', 1)[1].split('"')[0]
                grants.setdefault(pattern, set()).update(actions)
    return grants


@pytest.mark.parametrize("stage", ["local", "prod"])
def test_the_api_reaches_the_bucket_by_prefix_only(stage: str, local_stack: Any, prod_stack: Any) -> None:
    # Given the synthesized stack
    template = _template(local_stack if stage == "local" else prod_stack)
    # Then the API may write and read photos, documents, logos and remessas, read WhatsApp files, and nothing
    # else of the bucket (no bucket-wide object grant, no listing, no deletion)
    assert _s3_grants(template, constants.API_HANDLER) == {
        "*/devices/*": {"s3:PutObject", "s3:GetObject"},
        "whatsapp/*": {"s3:GetObject"},
        "documents/*": {"s3:PutObject", "s3:GetObject"},
        "logos/*": {"s3:PutObject", "s3:GetObject"},
        # the remessa files the API generates and links (services/banking/remessas.py)
        "remessas/*": {"s3:PutObject", "s3:GetObject"},
        # (in the data exports' own bucket: it signs the owners' links; tests/infra/test_data_exports.py)
        "exports/*": {"s3:GetObject"},
        # the shops' bank files: upload forms signed, inline files stored (tests/infra/test_bank_files.py)
        "bank-files/*": {"s3:PutObject"},
    }


def test_rendered_documents_expire_after_two_days(prod_stack: Any) -> None:
    template = _template(prod_stack)
    [bucket] = [
        b["Properties"]
        for b in template.find_resources("AWS::S3::Bucket").values()
        if any(
            r.get("Prefix") == "documents/"
            for r in b["Properties"].get("LifecycleConfiguration", {}).get("Rules", [])
        )
    ]
    rules = {r["Id"]: r for r in bucket["LifecycleConfiguration"]["Rules"]}
    assert rules["documents-expire"] == {
        "Id": "documents-expire",
        "Prefix": "documents/",
        "ExpirationInDays": 2,
        "Status": "Enabled",
    }
    # The logos and photos stay (only the infrequent-access transition applies to them)
    assert {r.get("Prefix") for r in rules.values()} == {"documents/", None}
    assert all("ExpirationInDays" not in r for r in rules.values() if r.get("Prefix") is None)
