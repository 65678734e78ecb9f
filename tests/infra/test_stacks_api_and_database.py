"""CloudFormation assertions on both stages, the API side: its functions, REST API and authorizer,
alarms, the database and its roles, keys; and cdk-nag (AwsSolutions) on every synth."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Match, Template

from assistec.api.public_routes import LOCAL_ONLY_PUBLIC_ROUTES, PUBLIC_PREFIX, PUBLIC_ROUTES, WEBHOOK_PREFIX
from assistec_infra import constants
from tests.infra.templates import _function, _functions, _template


@pytest.mark.parametrize("stage", ["local", "prod"])
def test_functions_run_python_313_with_json_logs_retention_and_the_layer(
    stage: str, local_stack: Any, prod_stack: Any
) -> None:
    template = _template(local_stack if stage == "local" else prod_stack)
    for handler in (constants.API_HANDLER, constants.AUTHORIZER_HANDLER):
        props = _function(template, handler)
        assert props["Runtime"] == "python3.13"
        assert props["Architectures"] == ["x86_64"]
        assert props["LoggingConfig"]["LogFormat"] == "JSON"
        assert len(props["Layers"]) == 1
        assert props["Environment"]["Variables"]["STAGE"] == stage
        assert props["Environment"]["Variables"]["APP_VERSION"] == constants.app_version()
    # Every function has its own log group with a retention, and its own role
    groups = template.find_resources("AWS::Logs::LogGroup")
    assert all("RetentionInDays" in g["Properties"] for g in groups.values())
    roles = {f["Properties"]["Role"]["Fn::GetAtt"][0] for f in _functions(template).values()}
    assert len(roles) == len(_functions(template))
    template.has_resource_properties(
        "AWS::Lambda::LayerVersion",
        {"CompatibleRuntimes": ["python3.13"], "CompatibleArchitectures": ["x86_64"]},
    )


def test_api_function_environment_contract(local_stack: Any, prod_stack: Any) -> None:
    local = _function(_template(local_stack), constants.API_HANDLER)["Environment"]["Variables"]
    prod = _function(_template(prod_stack), constants.API_HANDLER)["Environment"]["Variables"]
    for env in (local, prod):
        assert {
            "STAGE",
            "APP_VERSION",
            "DB_SECRET_ID",
            "DB_SSLMODE",
            "AUTH_SECRET_ID",
            "POWERTOOLS_SERVICE_NAME",
            "POWERTOOLS_METRICS_NAMESPACE",
        } <= set(env)
    # Prod verifies the proxy's certificate and name against the bundle shipped in the code asset
    assert (local["DB_SSLMODE"], prod["DB_SSLMODE"]) == ("disable", "verify-full")
    assert prod["DB_SSLROOTCERT"] == f"{constants.LAMBDA_TASK_ROOT}/{constants.RDS_CA_BUNDLE}"
    assert "DB_SSLROOTCERT" not in local
    assert "DB_HOST" in prod
    assert "DB_HOST" not in local
    assert local["AUTHORIZER_EMULATION"] == "true"
    assert "AUTHORIZER_EMULATION" not in prod


def test_rest_api_routes_public_ones_and_protects_the_rest(prod_stack: Any) -> None:
    template = _template(prod_stack)
    methods = template.find_resources("AWS::ApiGateway::Method")
    resources = template.find_resources("AWS::ApiGateway::Resource")
    assert {r["Properties"]["PathPart"] for r in resources.values()} >= {
        "health",
        "signup",
        "auth",
        "login",
        "{proxy+}",
    }
    public = [m for m in methods.values() if m["Properties"]["AuthorizationType"] == "NONE"]
    protected = [m for m in methods.values() if m["Properties"]["AuthorizationType"] == "CUSTOM"]
    assert len(public) == len(PUBLIC_ROUTES) + 2  # and /public/{proxy+}, /webhooks/{proxy+}
    assert len(protected) == 2  # the root and {proxy+}, both ANY
    template.has_resource_properties(
        "AWS::ApiGateway::Authorizer",
        {"Type": "TOKEN", "IdentitySource": "method.request.header.Authorization"},
    )
    template.has_resource_properties(
        "AWS::ApiGateway::Stage", {"StageName": "v1", "AccessLogSetting": Match.any_value()}
    )
    # API Gateway's own errors speak the API's error shape, with the correlation id
    template.has_resource_properties(
        "AWS::ApiGateway::GatewayResponse",
        {
            "ResponseType": "UNAUTHORIZED",
            "ResponseTemplates": {"application/json": Match.string_like_regexp('"code": "unauthorized"')},
        },
    )


def test_public_routes_match_the_api_code() -> None:
    assert set(constants.PUBLIC_ROUTES) == PUBLIC_ROUTES
    assert set(constants.LOCAL_ONLY_PUBLIC_ROUTES) == LOCAL_ONLY_PUBLIC_ROUTES
    assert constants.PUBLIC_PREFIX + "/" == PUBLIC_PREFIX
    assert constants.WEBHOOK_PREFIX + "/" == WEBHOOK_PREFIX


def test_only_the_public_link_and_webhook_trees_skip_the_authorizer(prod_stack: Any) -> None:
    template = _template(prod_stack)
    resources = template.find_resources("AWS::ApiGateway::Resource")
    methods = template.find_resources("AWS::ApiGateway::Method")
    for part in ("public", "webhooks"):
        parent = next(k for k, r in resources.items() if r["Properties"]["PathPart"] == part)
        proxy = next(
            k
            for k, r in resources.items()
            if r["Properties"]["PathPart"] == "{proxy+}" and r["Properties"]["ParentId"] == {"Ref": parent}
        )
        under = [m for m in methods.values() if m["Properties"]["ResourceId"] == {"Ref": proxy}]
        assert [m["Properties"]["AuthorizationType"] for m in under] == ["NONE"]
    open_methods = [m for m in methods.values() if m["Properties"]["AuthorizationType"] == "NONE"]
    assert len(open_methods) == len(constants.PUBLIC_ROUTES) + 2


def test_alarms_watch_api_5xx_and_function_errors_and_throttles(prod_stack: Any) -> None:
    template = _template(prod_stack)
    alarms = template.find_resources("AWS::CloudWatch::Alarm")
    metrics = {(a["Properties"]["Namespace"], a["Properties"]["MetricName"]) for a in alarms.values()}
    assert ("AWS/ApiGateway", "5XXError") in metrics
    assert ("AWS/Lambda", "Errors") in metrics
    assert ("AWS/Lambda", "Throttles") in metrics
    topic = next(iter(template.find_resources("AWS::SNS::Topic")))
    for alarm in alarms.values():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": topic}]
    template.has_resource_properties("AWS::SNS::Topic", {"KmsMasterKeyId": Match.any_value()})


def test_prod_database_is_postgres_17_encrypted_isolated_behind_a_tls_proxy(prod_stack: Any) -> None:
    template = _template(prod_stack)
    template.has_resource_properties(
        "AWS::RDS::DBInstance",
        {
            "Engine": "postgres",
            "EngineVersion": Match.string_like_regexp("^17"),
            "StorageEncrypted": True,
            "MultiAZ": True,
            "DeletionProtection": True,
        },
    )
    template.has_resource_properties("AWS::RDS::DBProxy", {"RequireTLS": True, "EngineFamily": "POSTGRESQL"})
    template.has_resource_properties("AWS::SecretsManager::RotationSchedule", Match.any_value())
    subnet_group = next(iter(template.find_resources("AWS::RDS::DBSubnetGroup").values()))
    isolated = {
        name
        for name, subnet in template.find_resources("AWS::EC2::Subnet").items()
        if any(
            t["Value"] == "Isolated"
            for t in subnet["Properties"]["Tags"]
            if t["Key"] == "aws-cdk:subnet-type"
        )
    }
    assert {ref["Ref"] for ref in subnet_group["Properties"]["SubnetIds"]} == isolated
    # The API function runs in the private subnets with egress (NAT), one NAT per AZ
    assert len(template.find_resources("AWS::EC2::NatGateway")) == 2
    assert "VpcConfig" in _function(template, constants.API_HANDLER)


def test_local_stage_has_no_vpc_or_rds_and_imports_the_database_secret(local_stack: Any) -> None:
    template = _template(local_stack)
    for kind in ("AWS::EC2::VPC", "AWS::RDS::DBInstance", "AWS::RDS::DBProxy", "AWS::ApiGateway::Authorizer"):
        assert template.find_resources(kind) == {}, kind
    env = _function(template, constants.API_HANDLER)["Environment"]["Variables"]
    assert constants.LOCAL_DB_SECRET_NAME in json.dumps(env["DB_SECRET_ID"])


@pytest.mark.parametrize("stage", ["local", "prod"])
def test_cdk_nag_aws_solutions_passes(stage: str, local_stack: Any, prod_stack: Any) -> None:
    _, assembly = local_stack if stage == "local" else prod_stack
    report = json.loads((Path(assembly.directory) / "validation-report.json").read_text())
    violations = [v for plugin in report.get("pluginReports", []) for v in plugin.get("violations", [])]
    assert violations == []


def test_cdk_nag_is_wired_into_the_app_and_fails_synth_on_a_violation() -> None:
    import aws_cdk as cdk
    from aws_cdk import aws_sns as sns

    from app import build_app
    from tests.infra.conftest import cdk_context

    # Given the real app with one non-compliant resource added (a topic that allows plain HTTP)
    app = cdk.App(context=cdk_context(stage="local"))
    stack = build_app(app)
    sns.Topic(stack, "PlainTopic")
    # Then synth fails, naming the rule
    with pytest.raises(RuntimeError, match="AwsSolutions-SNS3"):
        app.synth()


@pytest.mark.parametrize("stage", ["local", "prod"])
def test_schema_is_migrated_at_deploy_time_before_the_api_changes(
    stage: str, local_stack: Any, prod_stack: Any
) -> None:
    template = _template(local_stack if stage == "local" else prod_stack)
    [(logical_id, resource)] = template.find_resources("Custom::AssistecSchema").items()
    assert len(resource["Properties"]["MigrationsHash"]) == 64
    api = next(
        r
        for r in template.find_resources("AWS::Lambda::Function").values()
        if r["Properties"]["Handler"] == constants.API_HANDLER
    )
    assert logical_id in api["DependsOn"]
    env = _function(template, constants.MIGRATE_HANDLER)["Environment"]["Variables"]
    if stage == "prod":
        # The master user creates the app and ops roles from their own secrets
        assert {"APP_SECRET_ID", "OPS_SECRET_ID"} <= set(env)
        template.resource_count_is("AWS::SecretsManager::RotationSchedule", 3)
    else:
        assert "APP_SECRET_ID" not in env  # locally `make up` manages the roles


def test_prod_api_connects_as_the_app_role_through_the_proxy(prod_stack: Any) -> None:
    template = _template(prod_stack)
    env = _function(template, constants.API_HANDLER)["Environment"]["Variables"]
    secrets = template.find_resources("AWS::SecretsManager::Secret")
    app_secret = next(
        name
        for name, s in secrets.items()
        if constants.DB_APP_USER in json.dumps(s["Properties"].get("GenerateSecretString", {}))
    )
    # The secret is used through its attachment to the instance (which adds host, port and dbname)
    [(attachment, attached)] = [
        (name, a)
        for name, a in template.find_resources("AWS::SecretsManager::SecretTargetAttachment").items()
        if a["Properties"]["SecretId"] == {"Ref": app_secret}
    ]
    assert attachment in json.dumps(env["DB_SECRET_ID"])
    proxy = next(iter(template.find_resources("AWS::RDS::DBProxy").values()))
    assert attachment in json.dumps(proxy["Properties"]["Auth"])
    assert attached


def test_local_kms_key_is_pinned_only_when_make_up_asks_and_never_in_prod(prod_stack: Any) -> None:
    import aws_cdk as cdk

    from app import build_app
    from tests.infra.conftest import cdk_context

    app = cdk.App(
        context=cdk_context(stage="local", local_kms_key_id="k-id", local_kms_material="bWF0ZXJpYWw=")
    )
    template = Template.from_stack(build_app(app))
    [key] = [k for k in template.find_resources("AWS::KMS::Key").values() if "unlock" in json.dumps(k)]
    tags = {t["Key"]: t["Value"] for t in key["Properties"]["Tags"]}
    assert tags == {"_custom_id_": "k-id", "_custom_key_material_": "bWF0ZXJpYWw="}
    for key in _template(prod_stack).find_resources("AWS::KMS::Key").values():
        assert "_custom_" not in json.dumps(key)
