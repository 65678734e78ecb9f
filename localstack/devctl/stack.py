"""The whole product locally: PostgreSQL, LocalStack, the real CDK app deployed with cdklocal."""

from __future__ import annotations

import base64
import http.server
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

import boto3
import httpx

from devctl import (
    asaas_proc,
    dashboard,
    demo,
    evolution_proc,
    google_proc,
    localstack_proc,
    panel_edge_proc,
    pg,
    pooler,
    ws_gateway_proc,
)
from devctl.paths import (
    ACCOUNT,
    LOCAL,
    LOCALSTACK_URL,
    NODE_BIN,
    NODE_RUNTIME_BIN,
    PG_PORT,
    REGION,
    ROOT,
    STACK_JSON,
)

STACK_NAME = "assistec-local"
DB_SECRET_NAME = "assistec/local/database"
MIGRATOR_SECRET_NAME = "assistec/local/database-migrator"
OPS_SECRET_NAME = "assistec/local/database-ops"
OUTPUTS = LOCAL / "cdk-outputs.json"


def aws_env() -> dict[str, str]:
    """Environment for AWS CLIs/SDKs aimed at LocalStack (test credentials are LocalStack's own)."""
    env = dict(os.environ)
    env.update(
        AWS_ACCESS_KEY_ID="test",
        AWS_SECRET_ACCESS_KEY="test",
        AWS_DEFAULT_REGION=REGION,
        AWS_REGION=REGION,
        AWS_ENDPOINT_URL=LOCALSTACK_URL,
        AWS_ENDPOINT_URL_S3=LOCALSTACK_URL,
        CDK_DEFAULT_ACCOUNT=ACCOUNT,
        CDK_DEFAULT_REGION=REGION,
        CDK_DISABLE_VERSION_CHECK="1",
        CDK_DISABLE_CLI_TELEMETRY="1",
        LOCALSTACK_HOSTNAME="127.0.0.1",
        EDGE_PORT=LOCALSTACK_URL.rsplit(":", 1)[1],
        # Node 22 from the npm package: the CDK CLI and jsii refuse to support Node 20 any more.
        PATH=os.pathsep.join([str(NODE_RUNTIME_BIN), str(NODE_BIN), env.get("PATH", "")]),
    )
    return env


def client(service: str) -> Any:
    return boto3.client(  # type: ignore[call-overload]
        service,
        endpoint_url=LOCALSTACK_URL,
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


def put_database_secrets() -> None:
    """Point the local stage's database secrets (RDS-generated shape) at the local PostgreSQL:
    the app role's for the functions (through the pooler), the migrator's for the deploy-time
    schema function (direct)."""
    creds = pg.credentials()
    sm = client("secretsmanager")
    # The app role through the pooler (RDS Proxy in prod); the migrator direct, as in prod.
    for name, role, port in (
        (DB_SECRET_NAME, pg.APP, pooler.POOLER_PORT),
        (MIGRATOR_SECRET_NAME, pg.MIGRATOR, PG_PORT),
        (OPS_SECRET_NAME, pg.OPS, PG_PORT),  # the restore test's scratch connection
    ):
        value = json.dumps(
            {
                "engine": "postgres",
                "host": "127.0.0.1",
                "port": int(port),
                "username": role,
                "password": creds[role],
                "dbname": pg.APP_DB,
            }
        )
        try:
            sm.put_secret_value(SecretId=name, SecretString=value)
        except sm.exceptions.ResourceNotFoundException:
            sm.create_secret(Name=name, SecretString=value)


def _cdk(*args: str) -> None:
    subprocess.run([str(NODE_BIN / "cdklocal"), *args], cwd=ROOT, env=aws_env(), check=True)


_BROKEN = {"CREATE_FAILED", "ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "DELETE_FAILED", "UPDATE_ROLLBACK_FAILED"}


def clear_broken_stack() -> None:
    """A failed first deploy leaves a stack CloudFormation will not update: remove it (local only).

    The local stage keeps no data in LocalStack (the database is the local PostgreSQL), so starting
    over loses nothing; when LocalStack cannot delete it either, LocalStack itself is restarted.
    """
    cfn = client("cloudformation")
    try:
        status = cfn.describe_stacks(StackName=STACK_NAME)["Stacks"][0]["StackStatus"]
    except cfn.exceptions.ClientError:
        return
    if status not in _BROKEN:
        return
    print(f"{STACK_NAME} is {status}: removing it before deploying again", file=sys.stderr)
    cfn.delete_stack(StackName=STACK_NAME)
    try:
        cfn.get_waiter("stack_delete_complete").wait(
            StackName=STACK_NAME, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
        )
    except Exception:
        localstack_proc.stop()
        localstack_proc.start()
        put_database_secrets()


def local_kms_context() -> list[str]:
    """A KMS key id and material for the local stage, generated once, kept in .local/ (see StageConfig)."""
    path = LOCAL / "kms.json"
    if not path.exists():
        path.write_text(
            json.dumps({"key_id": str(uuid.uuid4()), "material": base64.b64encode(os.urandom(32)).decode()})
        )
        path.chmod(0o600)
    kms = json.loads(path.read_text())
    return ["-c", f"local_kms_key_id={kms['key_id']}", "-c", f"local_kms_material={kms['material']}"]


def deploy() -> dict[str, str]:
    clear_broken_stack()
    _cdk("bootstrap", f"aws://{ACCOUNT}/{REGION}", "-c", "stage=local", "--quiet", "--no-notices")
    _cdk(
        "deploy",
        STACK_NAME,
        "-c",
        "stage=local",
        *local_kms_context(),
        "--require-approval",
        "never",
        "--outputs-file",
        str(OUTPUTS),
        "--progress",
        "events",
        "--no-notices",
    )
    outputs: dict[str, str] = json.loads(OUTPUTS.read_text())[STACK_NAME]
    return outputs


def run_schema_function(function_name: str) -> str:
    """Do what CloudFormation does with the stack's Custom::AssistecSchema resource.

    LocalStack's community edition accepts custom resources without running them, so the deployed
    schema function is invoked here with CloudFormation's event shape, and its answer is received
    on a local "pre-signed URL" exactly as CloudFormation would receive it.
    """
    answers: list[dict[str, Any]] = []

    class Receiver(http.server.BaseHTTPRequestHandler):
        def do_PUT(self) -> None:
            answers.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.handle_request, daemon=True).start()
    event = {
        "RequestType": "Update",
        "ResponseURL": f"http://127.0.0.1:{server.server_address[1]}/cloudformation-response",
        "StackId": f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/{STACK_NAME}/local",
        "RequestId": str(uuid.uuid4()),
        "LogicalResourceId": "SchemaResource",
        "ResourceType": "Custom::AssistecSchema",
        "ResourceProperties": {},
    }
    response = client("lambda").invoke(FunctionName=function_name, Payload=json.dumps(event).encode())
    server.server_close()
    if response.get("FunctionError") or not answers:
        raise RuntimeError(f"schema function failed: {response['Payload'].read().decode()}")
    answer = answers[0]
    if answer["Status"] != "SUCCESS":
        raise RuntimeError(f"schema set-up failed: {answer['Reason']}")
    return str(answer["Reason"])


@dataclass
class Started:
    postgres: bool
    localstack: bool
    asaas_sim: bool = False
    evolution_sim: bool = False
    google_sim: bool = False
    ws_gateway: bool = False
    panel_edge: bool = False


def set_public_base_url(function_name: str, api_url: str) -> None:
    """Links the API writes into messages (quote approval, tracking) must open from the customer's
    browser. In AWS the API derives its base URL from the request; LocalStack's path-style URL
    (/_aws/execute-api/<id>/<stage>) is not in the request it forwards, so the local stage is told."""
    lam = client("lambda")
    env = lam.get_function_configuration(FunctionName=function_name)["Environment"]["Variables"]
    if env.get("PUBLIC_BASE_URL") == api_url:
        return
    lam.update_function_configuration(
        FunctionName=function_name, Environment={"Variables": {**env, "PUBLIC_BASE_URL": api_url}}
    )
    lam.get_waiter("function_updated_v2").wait(FunctionName=function_name)


# The platform account's key at the offline simulator (any $aact_ key is an account there).
PLATFORM_SIM_KEY = "$aact_platform_local_" + "0" * 32


def connect_platform_account(secret_arn: str, api_url: str) -> None:
    """The platform's Asaas account, locally: the simulator's key into the stack's secret (which
    CloudFormation created with a generated webhook token), and the platform webhook registered at
    the simulator with that token. Safe to repeat; a webhook left from an older token is removed."""
    sm = client("secretsmanager")
    secret = json.loads(sm.get_secret_value(SecretId=secret_arn)["SecretString"])
    if secret.get("api_key") != PLATFORM_SIM_KEY:
        secret["api_key"] = PLATFORM_SIM_KEY
        sm.put_secret_value(SecretId=secret_arn, SecretString=json.dumps(secret))
    url = f"{api_url}/webhooks/asaas-platform"
    headers = {"access_token": PLATFORM_SIM_KEY}
    with httpx.Client(base_url=f"{asaas_proc.URL}/v3", headers=headers, timeout=10) as sim:
        hooks = sim.get("/webhooks", params={"limit": 100}).raise_for_status().json()["data"]
        current = [h for h in hooks if h["url"] == url and h.get("authToken") == secret["webhook_token"]]
        for stale in (h for h in hooks if h not in current):
            sim.delete(f"/webhooks/{stale['id']}").raise_for_status()
        if not current:
            sim.post(
                "/webhooks",
                json={
                    "name": "assistec-platform",
                    "url": url,
                    "email": "ops@assistec.local",
                    "enabled": True,
                    "interrupted": False,
                    "apiVersion": 3,
                    "authToken": secret["webhook_token"],
                    "sendType": "SEQUENTIALLY",
                },
            ).raise_for_status()


def point_at_evolution_simulator(secret_arn: str) -> None:
    """The deployment's Evolution server, locally: the offline simulator's URL and global key into
    the stack's secret (CloudFormation created it with no URL)."""
    sm = client("secretsmanager")
    wanted = {"url": evolution_proc.URL, "api_key": evolution_proc.API_KEY}
    if json.loads(sm.get_secret_value(SecretId=secret_arn)["SecretString"]) != wanted:
        sm.put_secret_value(SecretId=secret_arn, SecretString=json.dumps(wanted))


def point_at_google_simulator(secret_arn: str) -> None:
    """The deployment's Google OAuth client, locally: the offline simulator's client and its four
    URLs (consent, token, revoke, Calendar API) into the stack's secret (CloudFormation created it
    empty: Google not configured)."""
    sm = client("secretsmanager")
    wanted = {
        "client_id": google_proc.CLIENT_ID,
        "client_secret": google_proc.CLIENT_SECRET,
        "auth_uri": f"{google_proc.URL}/o/oauth2/v2/auth",
        "token_uri": f"{google_proc.URL}/token",
        "revoke_uri": f"{google_proc.URL}/revoke",
        "api_base": f"{google_proc.URL}/calendar/v3",
    }
    if json.loads(sm.get_secret_value(SecretId=secret_arn)["SecretString"]) != wanted:
        sm.put_secret_value(SecretId=secret_arn, SecretString=json.dumps(wanted))


def ensure_mail_configuration_set(name: str, topic_arn: str) -> None:
    """The stage's SES configuration set and its SNS destination, made through the SES API: LocalStack's
    CloudFormation skips AWS::SES::ConfigurationSet (the stack in AWS creates both, same name)."""
    ses = client("ses")
    sets = {c["Name"] for c in ses.list_configuration_sets().get("ConfigurationSets", [])}
    if name not in sets:
        ses.create_configuration_set(ConfigurationSet={"Name": name})
    described = ses.describe_configuration_set(
        ConfigurationSetName=name, ConfigurationSetAttributeNames=["eventDestinations"]
    )
    if not described.get("EventDestinations"):
        ses.create_configuration_set_event_destination(
            ConfigurationSetName=name,
            EventDestination={
                "Name": "ToTopic",
                "Enabled": True,
                "MatchingEventTypes": ["send", "delivery", "bounce", "complaint", "reject", "deliveryDelay"],
                "SNSDestination": {"TopicARN": topic_arn},
            },
        )


def put_dashboards() -> list[str]:
    """The stage's CloudWatch dashboard, put through the CloudWatch API with the deployed template's
    body, its references resolved from the deployed stack: LocalStack's CloudFormation skips
    AWS::CloudWatch::Dashboard (the stack in AWS creates it, same name and body; devctl/dashboard.py)."""
    names = dashboard.put_stack_dashboards(client("cloudformation"), client("cloudwatch"), STACK_NAME)
    print(f"dashboard: {', '.join(names) or 'none in the template'}", file=sys.stderr)
    return names


def up(started: Started | None = None) -> tuple[dict[str, Any], Started]:
    """Start what is not running, deploy, seed; what this call started is recorded in ``started`` as
    it goes, so a caller can stop it even when a later step fails."""
    t0 = time.monotonic()
    started = started if started is not None else Started(postgres=False, localstack=False)
    started.postgres = not pg.is_running()
    pg.start()
    started.localstack = localstack_proc.start()
    started.asaas_sim = asaas_proc.start()
    started.evolution_sim = evolution_proc.start()
    started.google_sim = google_proc.start()
    put_database_secrets()
    outputs = deploy()
    print(f"schema: {run_schema_function(outputs['SchemaFunctionName'])}", file=sys.stderr)
    api_url = f"{LOCALSTACK_URL}/_aws/execute-api/{outputs['ApiId']}/{outputs['ApiStageName']}"
    set_public_base_url(outputs["ApiFunctionName"], api_url)
    set_public_base_url(outputs["WhatsappConsumerFunctionName"], api_url)  # the bot's tracking links
    set_public_base_url(outputs["RemindersFunctionName"], api_url)  # the reminders' appointment links
    point_at_evolution_simulator(outputs["EvolutionSecretArn"])
    point_at_google_simulator(outputs["GoogleSecretArn"])
    # The payment flow e-mails from this sender: SES (LocalStack's too) sends only from verified ones.
    if outputs.get("MailSender"):
        client("ses").verify_email_identity(EmailAddress=outputs["MailSender"])
    if outputs.get("MailConfigurationSet"):
        ensure_mail_configuration_set(outputs["MailConfigurationSet"], outputs["MailEventsTopicArn"])
    dashboards = put_dashboards()
    connect_platform_account(outputs["PlatformAsaasSecretArn"], api_url)
    info: dict[str, Any] = {
        "api_url": api_url,
        "localstack_url": LOCALSTACK_URL,
        "database_url": pg.url(pg.APP),
        "pooled_database_url": pg.pooled_url(pg.APP),
        "migrator_database_url": pg.url(pg.MIGRATOR),
        "stack_name": STACK_NAME,
        "api_function_name": outputs.get("ApiFunctionName"),
        "alarm_topic_arn": outputs.get("AlarmTopicArn"),
        "authorizer_function_name": outputs.get("AuthorizerFunctionName"),
        "auth_secret_arn": outputs.get("AuthSecretArn"),
        "event_bus_name": outputs.get("EventBusName"),
        "outbox_relay_function_name": outputs.get("OutboxRelayFunctionName"),
        "payments_queue_url": outputs.get("PaymentsQueueUrl"),
        "payments_dlq_url": outputs.get("PaymentsDlqUrl"),
        "reconciler_function_name": outputs.get("ReconcilerFunctionName"),
        "reconcile_worker_function_name": outputs.get("ReconcileWorkerFunctionName"),
        "reconcile_queue_url": outputs.get("ReconcileQueueUrl"),
        "payment_flow_arn": outputs.get("PaymentFlowArn"),
        "mail_sender": outputs.get("MailSender"),
        "mail_configuration_set": outputs.get("MailConfigurationSet"),
        "mail_events_queue_url": outputs.get("MailEventsQueueUrl"),
        "mail_events_topic_arn": outputs.get("MailEventsTopicArn"),
        "mail_events_function_name": outputs.get("MailEventsFunctionName"),
        "dashboard_name": dashboards[0] if dashboards else None,
        "ops_reports_function_name": outputs.get("OpsReportsFunctionName"),
        "dunning_function_name": outputs.get("DunningFunctionName"),
        "platform_asaas_secret_arn": outputs.get("PlatformAsaasSecretArn"),
        "asaas_simulator_url": asaas_proc.URL,
        "evolution_simulator_url": evolution_proc.URL,
        "evolution_api_key": evolution_proc.API_KEY,
        "evolution_secret_arn": outputs.get("EvolutionSecretArn"),
        "whatsapp_queue_url": outputs.get("WhatsappQueueUrl"),
        "whatsapp_send_queue_url": outputs.get("WhatsappSendQueueUrl"),
        "whatsapp_consumer_function_name": outputs.get("WhatsappConsumerFunctionName"),
        "whatsapp_sender_function_name": outputs.get("WhatsappSenderFunctionName"),
        "google_simulator_url": google_proc.URL,
        "google_secret_arn": outputs.get("GoogleSecretArn"),
        "calendar_queue_url": outputs.get("CalendarQueueUrl"),
        "calendar_worker_function_name": outputs.get("CalendarWorkerFunctionName"),
        "calendar_scheduled_function_name": outputs.get("CalendarScheduledFunctionName"),
        "reminders_function_name": outputs.get("RemindersFunctionName"),
        "bank_files_queue_url": outputs.get("BankFilesQueueUrl"),
        "bank_files_function_name": outputs.get("BankFilesFunctionName"),
    }
    # The WebSocket API's local stand-in, when the stack declares one (devctl/ws_gateway_proc.py).
    ws_info, started.ws_gateway = ws_gateway_proc.up(outputs, client("lambda"))
    info.update(ws_info)
    # The staff's panel as CloudFront serves it in prod (devctl/panel_edge_proc.py).
    panel_info, started.panel_edge = panel_edge_proc.up(api_url, info.get("ws_url"))
    info.update(panel_info)
    login = demo.seed(api_url, localstack_url=info["localstack_url"], mail_sender=info["mail_sender"])
    info.update(demo_email=login["email"], demo_password=login["password"])
    info.update(demo.seed_work(api_url, login))
    info.update(demo.connect_whatsapp(api_url, login, evolution_proc.URL))
    try:
        # A simulator started now has forgotten the demo shop's grant: connect it again.
        info.update(demo.connect_google(api_url, login, again=started.google_sim))
    except Exception as exc:  # the stack is up; only the demo's Google connection is missing
        print(f"warning: the demo shop's Google Calendar is not connected: {exc}", file=sys.stderr)
    STACK_JSON.write_text(json.dumps(info, indent=2))
    STACK_JSON.chmod(0o600)
    print(f"\nassistec is up in {time.monotonic() - t0:.0f} s", file=sys.stderr)
    return info, started


def down() -> None:
    panel_edge_proc.stop()
    ws_gateway_proc.stop()
    google_proc.stop()
    evolution_proc.stop()
    asaas_proc.stop()
    localstack_proc.stop()
    pg.stop()
    STACK_JSON.unlink(missing_ok=True)  # it describes a running stack; there is none now


def banner(info: dict[str, Any]) -> str:
    return "\n".join(
        [
            "",
            "  assistec (local stage)",
            f"  API            {info['api_url']}",
            *_panel_lines(info),
            f"  health         {info['api_url']}/health",
            f"  API docs       {info['api_url']}/docs",
            f"  demo login     {info['demo_email']}  /  {info['demo_password']}",
            f"  quote link     {info.get('demo_quote_url', '-')}  (what the customer opens)",
            f"  tracking link  {info.get('demo_tracking_url', '-')}",
            f"  LocalStack     {info['localstack_url']}",
            f"  Asaas sim      {info.get('asaas_simulator_url', '-')}/v3"
            "  (offline Asaas; pay a charge: POST /_sim/payments/<id>/pay)",
            f"  subscription   {info['api_url']}/billing  (the demo shop's plan and invoices)",
            f"  WhatsApp sim   {info.get('evolution_simulator_url', '-')}  (offline Evolution API;"
            f" the demo shop's number +{info.get('demo_whatsapp_number', '-')} is connected)",
            "  write to the shop as a customer:",
            f"    curl -X POST {info.get('evolution_simulator_url', '-')}/_sim/instances/"
            f"{info.get('demo_whatsapp_instance', '-')}/messages -H 'Content-Type: application/json'"
            """ -d '{"phone": "5511987650000", "text": "quanto custa trocar a tela do galaxy s21"}'""",
            f"    the answer: curl {info.get('evolution_simulator_url', '-')}/_sim/sent",
            f"  Google sim     {info.get('google_simulator_url', '-')}  (offline Google OAuth + Calendar;"
            f" the demo shop's calendar: {info.get('demo_google_account') or 'not connected'};"
            " its state: GET /_sim/state)",
            *(
                [
                    f"  WebSocket      {info['ws_url']}  (local API Gateway WebSocket API;"
                    f" management API {info['ws_management_url']})"
                ]
                if info.get("ws_url")
                else []
            ),
            f"  PostgreSQL     postgresql://{pg.APP}@127.0.0.1:{PG_PORT}/{pg.APP_DB}"
            "  (passwords in .local/pg/credentials.json)",
            f"  PgBouncer      postgresql://{pg.APP}@127.0.0.1:{pooler.POOLER_PORT}/{pg.APP_DB}"
            "  (the functions' way in, as RDS Proxy in prod)",
            f"  details        {STACK_JSON}",
            f"  logs           {localstack_proc.log_path()}  {pg.log_path()}",
            "",
        ]
    )


def _panel_lines(info: dict[str, Any]) -> list[str]:
    """The panel's URL beside the API's (and how to build it while web/dist is missing)."""
    url = info.get("panel_url")
    if not url:
        return []
    if info.get("panel_built"):
        return [f"  panel          {url}  (the staff's web panel, web/dist; its API at {url}api/...)"]
    return [f"  panel          {url}  (not built yet: {panel_edge_proc.BUILD_HINT}; then reload the page)"]
