"""Backups (issue 13 §3, §4's backup age): the bundles' buckets and their retention by tag, the
nightly flow (shops → each shop's export, a few at a time, retried, its failure recorded without
failing the others → finish with every result) at 02:00 in São Paulo, the weekly restore test, who
may write the buckets and use the backup-bundle purpose of the shop-secrets key, the alarms, and in
prod only the whole database in AWS Backup (a locked vault, a daily plan copied to a locked vault in
another region)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aws_cdk.assertions import Template

from assistec_infra import constants
from assistec_infra.capabilities import backup
from assistec_infra.stage_config import stage_config
from tests.infra.templates import _function, _functions, _template

BACKUP_PURPOSE = {"kms:EncryptionContext:purpose": "backup-bundle"}
BACKUP_HANDLERS = (
    constants.BACKUP_SHOPS_HANDLER,
    constants.BACKUP_EXPORT_HANDLER,
    constants.BACKUP_FINISH_HANDLER,
    constants.RESTORE_TEST_HANDLER,
)
# Set by the functions' factory for every function, outside the settings models
_RUNTIME_VARIABLES = {"STAGE", "APP_VERSION", "POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE"}
_RUNTIME_VARIABLES |= {"POWERTOOLS_LOG_LEVEL", "POWERTOOLS_TRACER_CAPTURE_RESPONSE"}


def _stage(stage: str, local_stack: Any, prod_stack: Any) -> Template:
    return _template(local_stack if stage == "local" else prod_stack)


def _output_ref(template: Template, name: str) -> str:
    value = template.to_json()["Outputs"][name]["Value"]
    return str(value["Ref"])


def _buckets(template: Template) -> dict[str, dict[str, Any]]:
    """The backups' two buckets (by their outputs), logical id → properties."""
    buckets = template.find_resources("AWS::S3::Bucket")
    names = (_output_ref(template, "BackupBucketName"), _output_ref(template, "BackupCopyBucketName"))
    return {name: buckets[name]["Properties"] for name in names}


def _function_id(template: Template, handler: str) -> str:
    [name] = [name for name, f in _functions(template).items() if f["Properties"]["Handler"] == handler]
    return str(name)


def _role_of(template: Template, function_id: str) -> str:
    return str(_functions(template)[function_id]["Properties"]["Role"]["Fn::GetAtt"][0])


def _statements(template: Template) -> list[tuple[dict[str, Any], list[Any]]]:
    """Every identity-policy statement of the stack, with the roles it is attached to."""
    return [
        (statement, policy["Properties"]["Roles"])
        for policy in template.find_resources("AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def _actions(statement: dict[str, Any]) -> set[str]:
    action = statement["Action"]
    return {action} if isinstance(action, str) else set(action)


def _definition(template: Template) -> dict[str, Any]:
    """The backup flow's definition, its references (the functions' ARNs) as ``<LogicalId>``."""
    [machine] = [
        m["Properties"]
        for name, m in template.find_resources("AWS::StepFunctions::StateMachine").items()
        if name.startswith("BackupFlow")
    ]
    parts = machine["DefinitionString"]["Fn::Join"][1]
    text = "".join(
        p if isinstance(p, str) else f"<{p['Fn::GetAtt'][0]}>" if "Fn::GetAtt" in p else f"<{p['Ref']}>"
        for p in parts
    )
    definition: dict[str, Any] = json.loads(text)
    return definition


def test_the_nightly_run_is_at_02_00_in_sao_paulo_in_summer_and_winter() -> None:
    # Given the rule's hour in UTC (EventBridge rules take no time zone)
    sao_paulo = ZoneInfo(constants.BACKUP_TIME_ZONE)
    assert constants.BACKUP_SCHEDULE.expression_string == f"cron(0 {constants.BACKUP_UTC_HOUR} * * ? *)"
    # When it is read in São Paulo in January and in July (Brazil has kept UTC-3 since 2019)
    for day in (datetime(2026, 1, 15, tzinfo=UTC), datetime(2026, 7, 15, tzinfo=UTC)):
        run = day.replace(hour=constants.BACKUP_UTC_HOUR).astimezone(sao_paulo)
        # Then it is 02:00 there, the same calendar day
        assert run.time() == time(constants.BACKUP_LOCAL_HOUR, 0), day
        assert run.date() == day.date()
    assert constants.BACKUP_UTC_HOUR == 5
    assert constants.BACKUP_LOCAL_HOUR == 2


@pytest.mark.parametrize("stage", ["local", "prod"])
def test_the_buckets_are_private_encrypted_versioned_and_expire_bundles_by_tag(
    stage: str, local_stack: Any, prod_stack: Any
) -> None:
    template = _stage(stage, local_stack, prod_stack)
    # Given the bundles' bucket and its copy (two distinct buckets)
    buckets = _buckets(template)
    assert len(buckets) == 2
    policies = template.find_resources("AWS::S3::BucketPolicy")
    for name, bucket in buckets.items():
        # Then each is encrypted, versioned and closed to the public
        [rule] = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms")
        assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
        assert bucket["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }
        # And refuses plain HTTP
        [policy] = [p for p in policies.values() if p["Properties"]["Bucket"] == {"Ref": name}]
        assert any(
            s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
            for s in policy["Properties"]["PolicyDocument"]["Statement"]
        )
        # And a bundle expires by its retention tag: a week and a day, four weeks and a day, a year; an
        # operator's bundle (the ops console's export) four weeks and a day
        rules = bucket["LifecycleConfiguration"]["Rules"]
        by_tag = {
            r["TagFilters"][0]["Value"]: r["ExpirationInDays"]
            for r in rules
            if [t["Key"] for t in r.get("TagFilters", [])] == [constants.BACKUP_RETENTION_TAG]
        }
        assert by_tag == {"daily": 8, "weekly": 29, "monthly": 366, "manual": 29}
        # And an overwritten or expired bundle's old version goes a day later
        [versions] = [r for r in rules if "NoncurrentVersionExpiration" in r]
        assert versions["NoncurrentVersionExpiration"] == {"NoncurrentDays": 1}
        assert "TagFilters" not in versions
        assert all(r["Status"] == "Enabled" for r in rules)
        # And in prod each version is held a week (governance object lock); locally none
        if stage == "prod":
            assert bucket["ObjectLockEnabled"] is True
            assert bucket["ObjectLockConfiguration"]["Rule"]["DefaultRetention"] == {
                "Mode": "GOVERNANCE",
                "Days": constants.BACKUP_OBJECT_LOCK_DAYS,
            }
            # (shorter than the shortest retention: a daily bundle still goes after its 8 days)
            assert min(constants.BACKUP_RETENTION_DAYS.values()) > constants.BACKUP_OBJECT_LOCK_DAYS
        else:
            assert "ObjectLockEnabled" not in bucket
            assert "ObjectLockConfiguration" not in bucket


@pytest.mark.parametrize("stage", ["local", "prod"])
def test_the_flow_exports_each_shop_a_few_at_a_time_and_finishes_from_the_runs_record(
    stage: str, local_stack: Any, prod_stack: Any
) -> None:
    template = _stage(stage, local_stack, prod_stack)
    shops_id = _function_id(template, constants.BACKUP_SHOPS_HANDLER)
    export_id = _function_id(template, constants.BACKUP_EXPORT_HANDLER)
    finish_id = _function_id(template, constants.BACKUP_FINISH_HANDLER)
    # Given the backup flow's definition
    definition = _definition(template)
    states = definition["States"]
    # Then it lists the shops first, with the function that does
    assert definition["StartAt"] == "Shops"
    assert states["Shops"]["Resource"] == f"<{shops_id}>"
    assert states["Shops"]["Next"] == "ExportEach"
    # And maps over the shops with a Distributed Map (no payload or history cap on the number of
    # shops): the list read from the run's object in the backup bucket, each shop's export a child
    # execution, at most EXPORT_CONCURRENCY at a time, each item its shop and the date
    each = states["ExportEach"]
    assert each["Type"] == "Map"
    assert "ItemsPath" not in each
    assert each["ItemProcessor"]["ProcessorConfig"] == {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}
    reader = each["ItemReader"]
    assert reader["Resource"].endswith(":states:::s3:getObject")
    assert reader["ReaderConfig"] == {"InputType": "JSON"}
    [bucket_id] = [
        name
        for name in template.find_resources("AWS::S3::Bucket")
        if name.startswith("BackupBackups") and not name.startswith("BackupBackupsCopy")
    ]
    assert reader["Parameters"] == {"Bucket": f"<{bucket_id}>", "Key.$": "$.list_key"}
    assert each["MaxConcurrency"] == backup.EXPORT_CONCURRENCY == 4
    assert each["ItemSelector"] == {"tenant_id.$": "$$.Map.Item.Value.tenant_id", "date.$": "$.date"}
    # (the results are not gathered into the state: thousands of them would pass its 256 KB)
    assert each["ResultPath"] is None
    # And each item exports its shop, retried with backoff
    processor = each["ItemProcessor"]
    export = processor["States"][processor["StartAt"]]
    assert export["Resource"] == f"<{export_id}>"
    [retry] = [r for r in export["Retry"] if r["ErrorEquals"] == ["States.TaskFailed"]]
    assert retry["MaxAttempts"] == 2
    assert retry["BackoffRate"] > 1
    # And a failure after the retries becomes that shop's result (the map goes on)
    [catch] = export["Catch"]
    assert catch["ErrorEquals"] == ["States.ALL"]
    failed = processor["States"][catch["Next"]]
    assert failed["Type"] == "Pass"
    assert failed.get("End") is True
    assert failed["Parameters"]["failed"] is True
    assert failed["Parameters"]["tenant_id.$"] == "$.tenant_id"
    assert failed["Parameters"]["error.$"].startswith(catch["ResultPath"])
    # And the finish gets the date and the run's list (it reads each of the run's shops' outcome from
    # backup_runs), then the run succeeds
    assert each["Next"] == "Finish"
    finish = states["Finish"]
    assert finish["Resource"] == f"<{finish_id}>"
    assert finish["Parameters"] == {"date.$": "$.date", "list_key.$": "$.list_key"}
    assert states[finish["Next"]]["Type"] == "Succeed"
    # And the machine is Standard, traced, logged without execution data, ended before the next night
    [machine] = [
        m["Properties"]
        for name, m in template.find_resources("AWS::StepFunctions::StateMachine").items()
        if name.startswith("BackupFlow")
    ]
    assert machine["StateMachineType"] == "STANDARD"
    assert machine["StateMachineName"] == f"assistec-{stage}-backup"
    assert machine["TracingConfiguration"] == {"Enabled": True}
    assert machine["LoggingConfiguration"]["IncludeExecutionData"] is False
    assert machine["LoggingConfiguration"]["Level"] in ("ALL", "ERROR")
    assert definition["TimeoutSeconds"] < 24 * 3600


@pytest.mark.parametrize("stage", ["local", "prod"])
def test_eventbridge_starts_the_flow_nightly_and_the_restore_test_weekly(
    stage: str, local_stack: Any, prod_stack: Any
) -> None:
    template = _stage(stage, local_stack, prod_stack)
    rules = [r["Properties"] for r in template.find_resources("AWS::Events::Rule").values()]
    machine = _output_ref(template, "BackupFlowArn")
    # Then one rule starts the flow at 05:00 UTC (02:00 in São Paulo), with no date (the flow's own)
    [nightly] = [r for r in rules if any(t["Arn"] == {"Ref": machine} for t in r.get("Targets", []))]
    assert nightly["ScheduleExpression"] == "cron(0 5 * * ? *)"
    [target] = nightly["Targets"]
    assert json.loads(target["Input"]) == {}
    assert "RoleArn" in target
    # And one runs the restore test on Sundays
    restore_id = _function_id(template, constants.RESTORE_TEST_HANDLER)
    [weekly] = [
        r for r in rules if any(t["Arn"] == {"Fn::GetAtt": [restore_id, "Arn"]} for t in r.get("Targets", []))
    ]
    assert weekly["ScheduleExpression"] == "cron(0 8 ? * SUN *)"


@pytest.mark.parametrize("stage", ["local", "prod"])
def test_each_backup_function_reads_the_backup_settings_and_no_other_function_does(
    stage: str, local_stack: Any, prod_stack: Any
) -> None:
    template = _stage(stage, local_stack, prod_stack)
    buckets = list(_buckets(template))
    [key] = [
        name
        for name, k in template.find_resources("AWS::KMS::Key").items()
        if "unlock" in json.dumps(k["Properties"].get("Description", ""))
    ]
    database = {"DB_SECRET_ID", "DB_SSLMODE"} | ({"DB_SSLROOTCERT", "DB_HOST"} if stage == "prod" else set())
    for handler in BACKUP_HANDLERS:
        function = _function(template, handler)
        variables = function["Environment"]["Variables"]
        # Then it gets BackupSettings' variables, and nothing else beyond the runtime's
        # (the restore test also connects as the ops role, to its scratch schema)
        scratch = {"SCRATCH_DB_SECRET_ID"} if handler == constants.RESTORE_TEST_HANDLER else set()
        assert set(variables) - _RUNTIME_VARIABLES == database | scratch | {
            "BACKUP_BUCKET",
            "BACKUP_COPY_BUCKET",
            "BACKUP_KEY_ID",
        }, handler
        assert variables["STAGE"] == stage
        assert variables["BACKUP_BUCKET"] == {"Ref": buckets[0]}
        assert variables["BACKUP_COPY_BUCKET"] == {"Ref": buckets[1]}
        assert variables["BACKUP_KEY_ID"] == {"Fn::GetAtt": [key, "Arn"]}
        # And it reaches the database (in the VPC in prod)
        assert ("VpcConfig" in function) == (stage == "prod")
    # And the export and the restore test have room for a large shop
    for handler in (constants.BACKUP_EXPORT_HANDLER, constants.RESTORE_TEST_HANDLER):
        assert _function(template, handler)["MemorySize"] == 1024
        assert _function(template, handler)["Timeout"] == 900
    # And no other function (the API included) is told where the backups are, but the ops console's
    for function in _functions(template).values():
        if function["Properties"]["Handler"] in (*BACKUP_HANDLERS, constants.OPS_HANDLER):
            continue
        variables = function["Properties"].get("Environment", {}).get("Variables", {})
        assert not {v for v in variables if v.startswith("BACKUP_")}, function["Properties"]["Handler"]


@pytest.mark.parametrize("stage", ["local", "prod"])
def test_only_the_export_and_the_ops_console_write_the_buckets_and_nobody_deletes_from_them(
    stage: str, local_stack: Any, prod_stack: Any
) -> None:
    template = _stage(stage, local_stack, prod_stack)
    buckets = set(_buckets(template))
    roles = {
        h: _role_of(template, _function_id(template, h)) for h in (*BACKUP_HANDLERS, constants.OPS_HANDLER)
    }

    def on_buckets(statement: dict[str, Any]) -> bool:
        return any(f'"{bucket}"' in json.dumps(statement["Resource"]) for bucket in buckets)

    on = [(s, r) for s, r in _statements(template) if on_buckets(s)]
    # Then the only roles that may put objects (or their tags) are the export's and the ops console's
    # (an operator's bundle on demand), each on both buckets, and the shops' step's below runs/ alone
    # (each run's list of shops)
    writers = [
        (s, r)
        for s, r in on
        if any(a.startswith(("s3:Put", "s3:*", "s3:Delete", "s3:Abort")) for a in _actions(s))
    ]
    shops_role = [{"Ref": roles[constants.BACKUP_SHOPS_HANDLER]}]
    assert {json.dumps(r) for _, r in writers} == {
        json.dumps([{"Ref": roles[h]}]) for h in (constants.BACKUP_EXPORT_HANDLER, constants.OPS_HANDLER)
    } | {json.dumps(shops_role)}
    [(shops_writes, _)] = [(s, r) for s, r in writers if r == shops_role]
    assert _actions(shops_writes) == {"s3:PutObject", "s3:PutObjectTagging"}
    assert json.dumps(shops_writes["Resource"]).endswith(f'"/{backup.RUN_LISTS_PREFIX}*"]]}}')
    ops_role = {"Ref": roles[constants.OPS_HANDLER]}
    for bucket in buckets:
        assert [
            s
            for s, r in on
            if r == [ops_role]
            and "s3:PutObject" in _actions(s)
            and f'"{bucket}"' in json.dumps(s["Resource"])
        ], bucket
    # And nobody deletes a bundle or its versions (the lifecycle rules do)
    assert not [s for s, _ in on if any("Delete" in a for a in _actions(s))]
    # And only backup functions and the ops console read them (the restore test both, the finish the
    # bundles' bucket), and the flow's machine, whose Distributed Map reads the run's list
    roles_of_stack = template.find_resources("AWS::IAM::Role")
    [machine_role] = [name for name in roles_of_stack if name.startswith("BackupFlowStateMachineRole")]
    readers = {json.dumps(r) for s, r in on if "s3:GetObject" in _actions(s)}
    assert readers == {
        json.dumps([{"Ref": roles[h]}])
        for h in (
            constants.BACKUP_EXPORT_HANDLER,
            constants.RESTORE_TEST_HANDLER,
            constants.BACKUP_FINISH_HANDLER,
            constants.OPS_HANDLER,
        )
    } | {json.dumps([{"Ref": machine_role}])}
    assert not [s for s, r in on if r == shops_role and s is not shops_writes]


@pytest.mark.parametrize("stage", ["local", "prod"])
def test_only_the_export_and_the_ops_console_make_bundle_keys_and_only_they_and_the_restore_test_decrypt(
    stage: str, local_stack: Any, prod_stack: Any
) -> None:
    template = _stage(stage, local_stack, prod_stack)
    export_role = {"Ref": _role_of(template, _function_id(template, constants.BACKUP_EXPORT_HANDLER))}
    restore_role = {"Ref": _role_of(template, _function_id(template, constants.RESTORE_TEST_HANDLER))}
    ops_role = {"Ref": _role_of(template, _function_id(template, constants.OPS_HANDLER))}
    # Given every statement of the stack conditioned on the backup-bundle purpose
    grants = [
        (_actions(s), r)
        for s, r in _statements(template)
        if s.get("Condition", {}).get("StringEquals") == BACKUP_PURPOSE
    ]
    # Then the export and the ops console make data keys and decrypt them, the restore test decrypts,
    # nobody else
    assert sorted(json.dumps([sorted(actions), roles]) for actions, roles in grants) == sorted(
        json.dumps(grant)
        for grant in (
            [["kms:Decrypt", "kms:GenerateDataKey"], [export_role]],
            [["kms:Decrypt", "kms:GenerateDataKey"], [ops_role]],
            [["kms:Decrypt"], [restore_role]],
        )
    )
    assert {f"kms:EncryptionContext:{constants.KMS_BACKUP_CONTEXT[0]}": constants.KMS_BACKUP_CONTEXT[1]} == (
        BACKUP_PURPOSE
    )
    # And the backup functions hold no other grant on the shop-secrets key
    resources = template.to_json()["Resources"]
    [key] = [n for n, k in resources.items() if k["Type"] == "AWS::KMS::Key" and "unlock" in json.dumps(k)]
    for handler in BACKUP_HANDLERS:
        role = {"Ref": _role_of(template, _function_id(template, handler))}
        on_key = [s for s, r in _statements(template) if role in r and key in json.dumps(s["Resource"])]
        assert all(s["Condition"]["StringEquals"] == BACKUP_PURPOSE for s in on_key), handler


@pytest.mark.parametrize("stage", ["local", "prod"])
def test_ops_hear_of_failed_runs_stale_backups_and_failed_restores(
    stage: str, local_stack: Any, prod_stack: Any
) -> None:
    template = _stage(stage, local_stack, prod_stack)
    topic = template.to_json()["Outputs"]["AlarmTopicArn"]["Value"]
    alarms = [a["Properties"] for a in template.find_resources("AWS::CloudWatch::Alarm").values()]
    by_metric = {a.get("MetricName"): a for a in alarms if a.get("Namespace") == constants.METRICS_NAMESPACE}
    # Then a shop not backed up tonight, or one whose bundle failed the restore test, alarms at once
    for metric in (constants.BACKUP_FAILURES_METRIC, constants.RESTORE_TEST_FAILURES_METRIC):
        alarm = by_metric[metric]
        assert (alarm["Statistic"], alarm["Threshold"], alarm["ComparisonOperator"]) == (
            "Sum",
            1,
            "GreaterThanOrEqualToThreshold",
        )
        assert alarm["TreatMissingData"] == "notBreaching"
    # And the backup's age above 26 hours alarms, and so does its absence (no run finished)
    age = by_metric[constants.BACKUP_AGE_METRIC]
    assert (age["Statistic"], age["Threshold"], age["ComparisonOperator"]) == (
        "Maximum",
        26,
        "GreaterThanThreshold",
    )
    assert age["TreatMissingData"] == "breaching"
    # (one good report in the last 26 hours keeps it quiet: every hour of the window must breach)
    assert age["Period"] * age["EvaluationPeriods"] == 26 * 3600
    assert age["DatapointsToAlarm"] == age["EvaluationPeriods"]
    # And a run that fails as a whole alarms
    machine = _output_ref(template, "BackupFlowArn")
    [failed] = [
        a
        for a in alarms
        if a.get("MetricName") == "ExecutionsFailed"
        and a["Dimensions"] == [{"Name": "StateMachineArn", "Value": {"Ref": machine}}]
    ]
    assert failed["Threshold"] == 1
    # And each tells the alarm topic when it fires and when it clears
    failures = by_metric[constants.BACKUP_FAILURES_METRIC]
    restores = by_metric[constants.RESTORE_TEST_FAILURES_METRIC]
    for alarm in (failures, restores, age, failed):
        assert alarm["AlarmActions"] == [topic]
        assert alarm["OKActions"] == [topic]
    # And each backup function is watched for errors and throttles, as every other
    watched = {
        a["Dimensions"][0]["Value"]["Ref"]
        for a in alarms
        if a.get("Namespace") == "AWS/Lambda" and a["MetricName"] in ("Errors", "Throttles")
    }
    for handler in BACKUP_HANDLERS:
        assert _function_id(template, handler) in watched, handler


def test_prod_backs_the_database_up_daily_into_a_locked_vault_copied_to_another_region(
    prod_stack: Any,
) -> None:
    template = _template(prod_stack)
    _, assembly = prod_stack
    # Given the prod stage's vault, plan and selection
    [(vault_id, vault)] = template.find_resources("AWS::Backup::BackupVault").items()
    [plan] = template.find_resources("AWS::Backup::BackupPlan").values()
    [selection] = template.find_resources("AWS::Backup::BackupSelection").values()
    # Then the vault is locked: no recovery point kept under 7 days or over 400, none deleted early
    lock = vault["Properties"]["LockConfiguration"]
    assert (lock["MinRetentionDays"], lock["MaxRetentionDays"]) == (7, 400)
    deny = vault["Properties"]["AccessPolicy"]["Statement"]
    assert any(s["Effect"] == "Deny" and "backup:DeleteRecoveryPoint" in s["Action"] for s in deny)
    assert vault["DeletionPolicy"] == "Retain"
    # And the plan makes a recovery point daily, kept 35 days, into that vault
    [rule] = plan["Properties"]["BackupPlan"]["BackupPlanRule"]
    assert rule["ScheduleExpression"] == "cron(0 7 * * ? *)"
    assert rule["Lifecycle"] == {"DeleteAfterDays": 35}
    assert rule["TargetBackupVault"] == {"Fn::GetAtt": [vault_id, "BackupVaultName"]}
    assert lock["MinRetentionDays"] <= 35 <= lock["MaxRetentionDays"]
    # And copies it, kept as long, to the copy vault in us-east-1 (named, not referenced)
    [copy] = rule["CopyActions"]
    assert copy["DestinationBackupVaultArn"] == (
        "arn:aws:backup:us-east-1:111111111111:backup-vault:assistec-prod-backup-copy"
    )
    assert copy["Lifecycle"] == {"DeleteAfterDays": 35}
    # And the selection is the database instance
    [instance_id] = template.find_resources("AWS::RDS::DBInstance")
    assert instance_id in json.dumps(selection["Properties"]["BackupSelection"]["Resources"])
    # And the copy vault is the second stack's, in us-east-1, locked the same way, deployed first
    copy_stack = assembly.get_stack_by_name("assistec-prod-backup-copy")
    assert copy_stack.environment.region == "us-east-1"
    [copy_vault] = [
        r["Properties"]
        for r in copy_stack.template["Resources"].values()
        if r["Type"] == "AWS::Backup::BackupVault"
    ]
    assert copy_vault["BackupVaultName"] == "assistec-prod-backup-copy"
    assert copy_vault["LockConfiguration"] == {"MinRetentionDays": 7, "MaxRetentionDays": 400}
    main = assembly.get_stack_by_name("assistec-prod")
    assert "assistec-prod-backup-copy" in [d.id for d in main.dependencies]
    # And ops hear of a failed backup or copy job
    alarms = [a["Properties"] for a in template.find_resources("AWS::CloudWatch::Alarm").values()]
    backup_alarms = {a["MetricName"] for a in alarms if a.get("Namespace") == "AWS/Backup"}
    assert backup_alarms == {"NumberOfBackupJobsFailed", "NumberOfCopyJobsFailed"}
    # And RDS keeps its own point-in-time recovery besides
    [instance] = template.find_resources("AWS::RDS::DBInstance").values()
    assert instance["Properties"]["BackupRetentionPeriod"] >= 7


def test_the_local_stage_has_no_aws_backup(local_stack: Any) -> None:
    # LocalStack has neither RDS nor AWS Backup: the local stage makes none of it, nor a second stack
    template = _template(local_stack)
    _, assembly = local_stack
    assert not [r for r in template.to_json()["Resources"].values() if r["Type"].startswith("AWS::Backup::")]
    assert [s.stack_name for s in assembly.stacks] == ["assistec-local"]


def test_the_copy_vault_is_another_regions_or_one_named_in_the_context() -> None:
    # Given prod's defaults: the copy stack's vault in us-east-1
    default = stage_config("prod", {})
    assert default.makes_backup_copy_vault
    assert default.copy_vault_arn().startswith("arn:aws:backup:us-east-1:")
    # When the context names a vault elsewhere (another account's): that one, and no copy stack
    arn = "arn:aws:backup:us-west-2:222222222222:backup-vault:ops-copies"
    given = stage_config("prod", {"backup_copy_vault_arn": arn})
    assert given.copy_vault_arn() == arn
    assert not given.makes_backup_copy_vault
    # And a copy region equal to the stage's own is refused (a copy there protects from nothing)
    with pytest.raises(ValueError, match="backup_copy_region"):
        stage_config("prod", {"prod_region": "us-east-1"})
    other = stage_config("prod", {"prod_region": "us-east-1", "backup_copy_region": "us-west-2"})
    assert other.copy_vault_arn().startswith("arn:aws:backup:us-west-2:")
    # And the local stage has none of it
    assert not stage_config("local", {}).with_aws_backup


@pytest.mark.parametrize("stage", ["local", "prod"])
def test_the_stack_outputs_what_ops_and_the_tests_use(stage: str, local_stack: Any, prod_stack: Any) -> None:
    template = _stage(stage, local_stack, prod_stack)
    outputs = template.to_json()["Outputs"]
    machines = template.find_resources("AWS::StepFunctions::StateMachine")
    assert outputs["BackupFlowArn"]["Value"]["Ref"] in machines
    assert outputs["BackupExportFunctionName"]["Value"] == {
        "Ref": _function_id(template, constants.BACKUP_EXPORT_HANDLER)
    }
    assert outputs["RestoreTestFunctionName"]["Value"] == {
        "Ref": _function_id(template, constants.RESTORE_TEST_HANDLER)
    }
    assert outputs["BackupBucketName"]["Value"] != outputs["BackupCopyBucketName"]["Value"]
