"""The ops console's function (issue 13 §5): in both stages, on the database (in the VPC in prod), no
trigger and no route, exactly the grants its commands need (the platform Asaas account for
provisioning; the signing key's secret read and written, by no other function written), and the stack
outputs the console finds everything by (the function, every queue and its dead-letter queue)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from assistec.settings import OpsSettings
from assistec_infra import constants
from tests.infra.templates import _function, _template

_RUNTIME_VARIABLES = {"APP_VERSION", "POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE"}
_RUNTIME_VARIABLES |= {"POWERTOOLS_LOG_LEVEL", "POWERTOOLS_TRACER_CAPTURE_RESPONSE"}


def _stage(stage: str, local_stack: Any, prod_stack: Any) -> Any:
    return _template(local_stack if stage == "local" else prod_stack)


def _id(template: Any, handler: str) -> str:
    [name] = [
        name
        for name, f in template.find_resources("AWS::Lambda::Function").items()
        if f["Properties"].get("Handler") == handler
    ]
    return str(name)


def _statements(template: Any, handler: str) -> list[dict[str, Any]]:
    role = _function(template, handler)["Role"]["Fn::GetAtt"][0]
    return [
        statement
        for policy in template.find_resources("AWS::IAM::Policy").values()
        if {"Ref": role} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def _actions(statement: dict[str, Any]) -> set[str]:
    action = statement["Action"]
    return {action} if isinstance(action, str) else set(action)


def _secret(template: Any, description: str) -> str:
    [name] = [
        name
        for name, s in template.find_resources("AWS::SecretsManager::Secret").items()
        if description in s["Properties"].get("Description", "")
    ]
    return str(name)


@pytest.mark.parametrize("stage", ["local", "prod"])
def test_the_ops_function_reads_its_settings_and_is_on_the_database(
    stage: str, local_stack: Any, prod_stack: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    template = _stage(stage, local_stack, prod_stack)
    function = _function(template, constants.OPS_HANDLER)
    env: dict[str, Any] = function["Environment"]["Variables"]
    # Its timeout is Lambda's longest (restoring a large shop in place takes minutes: the 100,000-order
    # shop's took 155 s), with room for a bundle in memory; in the VPC in prod
    assert function["Timeout"] == 900
    assert function["MemorySize"] == 1024
    assert ("VpcConfig" in function) == (stage == "prod")
    assert env["STAGE"] == stage
    assert env["AUTH_SECRET_ID"] == {"Ref": _secret(template, "HS256")}
    assert env["PLATFORM_ASAAS_SECRET_ID"] == {"Ref": _secret(template, "platform's Asaas account")}
    assert {"DB_SECRET_ID", "EVENT_BUS_NAME", "PAYMENTS_KEY_ID"} <= set(env)
    # And the backups' settings, as the backup functions have them, with the ops role's connection
    export = _function(template, constants.BACKUP_EXPORT_HANDLER)["Environment"]["Variables"]
    for name in ("BACKUP_BUCKET", "BACKUP_COPY_BUCKET", "BACKUP_KEY_ID"):
        assert env[name] == export[name], name
    restore_test = _function(template, constants.RESTORE_TEST_HANDLER)["Environment"]["Variables"]
    assert env["SCRATCH_DB_SECRET_ID"] == restore_test["SCRATCH_DB_SECRET_ID"]
    # It sends no mail and calls no WhatsApp, Google or flow
    assert not {"MAIL_SENDER", "WHATSAPP_SEND_QUEUE_URL", "GOOGLE_SECRET_ID", "PAYMENT_FLOW_ARN"} & set(env)
    # Every variable is a field of OpsSettings, and the model validates from them
    fields = {name.upper() for name in OpsSettings.model_fields}
    assert set(env) - _RUNTIME_VARIABLES <= fields, set(env) - _RUNTIME_VARIABLES - fields
    for name in fields:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value if isinstance(value, str) else "resolved-by-cloudformation")
    OpsSettings()  # type: ignore[call-arg]  # values come from the environment


@pytest.mark.parametrize("stage", ["local", "prod"])
def test_nothing_triggers_the_ops_function_only_iam_lets_someone_invoke_it(
    stage: str, local_stack: Any, prod_stack: Any
) -> None:
    template = _stage(stage, local_stack, prod_stack)
    ops = _id(template, constants.OPS_HANDLER)
    text = json.dumps
    # No queue, rule, API route or service principal may invoke it
    assert not [
        m for m in template.find_resources("AWS::Lambda::EventSourceMapping").values() if ops in text(m)
    ]
    assert not [p for p in template.find_resources("AWS::Lambda::Permission").values() if ops in text(p)]
    assert not [r for r in template.find_resources("AWS::Events::Rule").values() if ops in text(r)]
    assert not [m for m in template.find_resources("AWS::ApiGateway::Method").values() if ops in text(m)]
    # And it is watched: its errors and throttles alarm (README's runbook has their lines)
    alarmed = {
        a["Properties"]["MetricName"]
        for a in template.find_resources("AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("Dimensions", [{}])[0].get("Value") == {"Ref": ops}
    }
    assert alarmed == {"Errors", "Throttles"}


@pytest.mark.parametrize("stage", ["local", "prod"])
def test_the_ops_function_has_exactly_the_grants_its_commands_need(
    stage: str, local_stack: Any, prod_stack: Any
) -> None:
    template = _stage(stage, local_stack, prod_stack)
    signing_key = _secret(template, "HS256")
    platform = _secret(template, "platform's Asaas account")
    statements = _statements(template, constants.OPS_HANDLER)

    def on(secret: str) -> set[str]:
        return {a for s in statements if {"Ref": secret} in _resources(s) for a in _actions(s)}

    # The signing key: read (verification is not its business, rotation is) and written
    assert {"secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue"} <= on(signing_key)
    # The platform account: read only (provisioning)
    assert on(platform) == {"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"}
    # The ops role's connection (scratch restores, the in-place restore's permit): read
    scratch = _function(template, constants.OPS_HANDLER)["Environment"]["Variables"]["SCRATCH_DB_SECRET_ID"]
    reads = [json.dumps(_resources(s)) for s in statements if "secretsmanager:GetSecretValue" in _actions(s)]
    ops_secret = json.dumps(scratch) if stage == "prod" else constants.LOCAL_OPS_SECRET_NAME
    assert any(ops_secret in r for r in reads), (scratch, reads)
    # No shop secret is ever decrypted by it: its only KMS purpose is the backup bundles' data keys
    kms = [s for s in statements if any(a.startswith("kms:") for a in _actions(s))]
    assert [(_actions(s), s.get("Condition")) for s in kms] == [
        (
            {"kms:GenerateDataKey", "kms:Decrypt"},
            {"StringEquals": {"kms:EncryptionContext:purpose": "backup-bundle"}},
        )
    ]
    # Its S3 actions are the bundles' (listed, read, written with their tags; never deleted), on the two
    # backup buckets only
    granted = {a for s in statements for a in _actions(s)}
    assert {a for a in granted if a.startswith("s3:")} == {
        "s3:GetObject",
        "s3:GetObjectTagging",
        "s3:PutObject",
        "s3:PutObjectTagging",
        "s3:ListBucket",
    }
    outputs = template.to_json()["Outputs"]
    buckets = {outputs[k]["Value"]["Ref"] for k in ("BackupBucketName", "BackupCopyBucketName")}
    for s in statements:
        if any(a.startswith("s3:") for a in _actions(s)):
            assert any(f'"{b}"' in json.dumps(s["Resource"]) for b in buckets), s
    # No mail, no queue, no flow
    assert not {a for a in granted if a.startswith(("ses:", "sqs:", "states:"))}
    # And no other function may write the signing key
    writers = {
        f["Properties"]["Handler"]
        for f in template.find_resources("AWS::Lambda::Function").values()
        if f["Properties"]["Handler"].startswith("assistec.")
        and any(
            "secretsmanager:PutSecretValue" in _actions(s) and {"Ref": signing_key} in _resources(s)
            for s in _statements(template, f["Properties"]["Handler"])
        )
    }
    assert writers == {constants.OPS_HANDLER}


def test_the_console_waits_for_the_ops_function_longer_than_its_timeout(local_stack: Any) -> None:
    # A big restore may take the function's whole timeout: the console's read timeout must outlast it
    # (boto3's default, 60 s, would give up and retry while the restore runs on)
    from assistec_ops.aws import INVOKE_READ_TIMEOUT_S

    timeout = _function(_template(local_stack), constants.OPS_HANDLER)["Timeout"]
    assert timeout < INVOKE_READ_TIMEOUT_S <= timeout + 60


def _resources(statement: dict[str, Any]) -> list[Any]:
    resource = statement["Resource"]
    return resource if isinstance(resource, list) else [resource]


@pytest.mark.parametrize("stage", ["local", "prod"])
def test_the_stack_outputs_the_ops_function_and_every_queue_with_its_dead_letter_queue(
    stage: str, local_stack: Any, prod_stack: Any
) -> None:
    template = _stage(stage, local_stack, prod_stack)
    outputs = template.to_json()["Outputs"]
    queues = template.find_resources("AWS::SQS::Queue")
    assert outputs["OpsFunctionName"]["Value"] == {"Ref": _id(template, constants.OPS_HANDLER)}
    # Every queue of the stack with a dead-letter queue is an output, and so is its DLQ, under the
    # same name (<Name>QueueUrl, <Name>DlqUrl): what `dlq list` and `dlq replay` pair
    main = {name for name, q in queues.items() if "RedrivePolicy" in q["Properties"]}
    named = {
        key.removesuffix("QueueUrl"): value["Value"]["Ref"]
        for key, value in outputs.items()
        if key.endswith("QueueUrl") and isinstance(value["Value"], dict) and "Ref" in value["Value"]
    }
    assert main <= set(named.values()), main - set(named.values())
    for name, queue in named.items():
        policy = queues[queue]["Properties"].get("RedrivePolicy")
        if policy is None:
            continue
        dlq = policy["deadLetterTargetArn"]["Fn::GetAtt"][0]
        assert outputs[f"{name}DlqUrl"]["Value"] == {"Ref": dlq}, name
    # (a queue of a nested stack, prod's bank files, is output through that stack: both its URLs are)
    assert {k for k, v in outputs.items() if k.endswith("DlqUrl") and "Ref" in v["Value"]} == {
        f"{n}DlqUrl" for n, q in named.items() if q in main
    }
    nested = {
        k.removesuffix("QueueUrl")
        for k, v in outputs.items()
        if k.endswith("QueueUrl") and "Ref" not in v["Value"]
    }
    for name in nested:
        assert "Fn::GetAtt" in outputs[f"{name}DlqUrl"]["Value"], name
