"""The assistec stack: the same composition for every stage; StageConfig holds the differences.

Each capability builds its resources and its workers on the worker platform, and provides the
settings it owns (the bus's name, the queue's URL...) to the workers that read them.
"""

from __future__ import annotations

from aws_cdk import CfnOutput, Environment, NestedStack, Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

from assistec_infra.capabilities.auth import Auth
from assistec_infra.capabilities.backup import Backup
from assistec_infra.capabilities.bank_files import BankFiles
from assistec_infra.capabilities.billing import Billing
from assistec_infra.capabilities.dashboard import OpsDashboard, path_under_stack
from assistec_infra.capabilities.data_exports import DataExports
from assistec_infra.capabilities.database import Database
from assistec_infra.capabilities.events import DomainEvents
from assistec_infra.capabilities.mail import Mail, allow_mail, configuration_set_name, mail_senders
from assistec_infra.capabilities.monitoring import Monitoring
from assistec_infra.capabilities.network import Network
from assistec_infra.capabilities.ops import Ops
from assistec_infra.capabilities.ops_reports import OpsReports
from assistec_infra.capabilities.panel import PanelHosting, find_websocket_endpoint, storage_origins
from assistec_infra.capabilities.payment_flow import PaymentFlow
from assistec_infra.capabilities.payments import Payments
from assistec_infra.capabilities.platform import WorkerPlatform
from assistec_infra.capabilities.quote_flow import QuoteFlow
from assistec_infra.capabilities.realtime import Realtime
from assistec_infra.capabilities.rest_api import RestApi
from assistec_infra.capabilities.retention import Retention
from assistec_infra.capabilities.scheduling import Scheduling, allow_google_tokens
from assistec_infra.capabilities.schema import Schema
from assistec_infra.capabilities.storage import DeviceStorage
from assistec_infra.capabilities.whatsapp import Whatsapp
from assistec_infra.stage_config import StageConfig


class AssistecStack(Stack):
    def __init__(
        self, scope: Construct, config: StageConfig, *, panel_web_acl_arn: str | None = None
    ) -> None:
        """``panel_web_acl_arn``: the panel's CloudFront web ACL, made in us-east-1 by its own stack
        (panel_waf_stack.py; the ARN is a cross-region reference)."""
        super().__init__(
            scope,
            config.stack_name,
            env=Environment(account=config.account, region=config.region),
            description=f"assistec ({config.stage})",
            cross_region_references=panel_web_acl_arn is not None,
        )
        monitoring = Monitoring(self, "Monitoring", config=config)
        vpc = Network(self, "Network", config=config).vpc if config.with_vpc else None
        database = Database(self, "Database", config=config, vpc=vpc)
        platform = WorkerPlatform(self, config=config, monitoring=monitoring, database=database, vpc=vpc)
        auth = Auth(self, "Auth", platform=platform)
        schema = Schema(self, "Schema", platform=platform, database=database)
        domain_events = DomainEvents(self, "DomainEvents", platform=platform)
        mail = Mail(self, "Mail", platform=platform)
        retention = Retention(self, "Retention", platform=platform)
        storage = DeviceStorage(self, "DeviceStorage", platform=platform)
        payments = Payments(self, "Payments", platform=platform, secrets_key=storage.unlock_code_key)
        billing = Billing(self, "Billing", platform=platform, bus=domain_events.bus, queue=payments.queue)
        payment_flow = PaymentFlow(
            self, "PaymentFlow", platform=platform, secrets_key=storage.unlock_code_key
        )
        whatsapp = Whatsapp(
            self, "Whatsapp", platform=platform, bus=domain_events.bus, media_bucket=storage.photos
        )
        quote_flow = QuoteFlow(self, "QuoteFlow", platform=platform)
        scheduling = Scheduling(
            self,
            "Scheduling",
            platform=platform,
            bus=domain_events.bus,
            secrets_key=storage.unlock_code_key,
        )
        backups = Backup(
            self, "Backup", platform=platform, secrets_key=storage.unlock_code_key, database=database
        )
        data_exports = DataExports(self, "DataExports", platform=platform, bus=domain_events.bus)
        # In prod a nested stack of its own, as the real-time capability (the 500 resources).
        bank_files_scope: Construct = (
            NestedStack(self, "BankFilesStack", description=f"assistec ({config.stage}): bank files")
            if config.nested_realtime
            else self
        )
        bank_files = BankFiles(bank_files_scope, "BankFiles", platform=platform, bucket=storage.photos)
        # In prod a nested stack of its own: with it the stack would pass CloudFormation's 500 resources.
        realtime_scope: Construct = (
            NestedStack(self, "RealtimeStack", description=f"assistec ({config.stage}): real time")
            if config.nested_realtime
            else self
        )
        realtime = Realtime(realtime_scope, "Realtime", platform=platform, bus=domain_events.bus)
        api = RestApi(self, "RestApi", platform=platform, authorizer=auth.authorizer)
        ops = Ops(self, "Ops", platform=platform)
        whatsapp.link_base(whatsapp.consumer, api.api.rest_api_id, api.stage_name)
        whatsapp.link_base(scheduling.reminders, api.api.rest_api_id, api.stage_name)  # the reminders' links

        # The consumer provisions subscriptions, applies the platform webhook and mails the owner;
        # it and the reconciliation hand payments back to waiting flows; the API signs device photos.
        # ...and the ops console re-runs provisioning and opens a reopened shop's new subscription.
        for worker in (payments.consumer, api.function, ops.function):
            billing.grant_platform(worker)
        # The ops console rotates the signing key (it reads it with its settings), and exports, verifies
        # and restores one shop's bundles.
        auth.signing_key.grant_write(ops.function)
        backups.grant_console(ops.function)
        allow_mail(payments.consumer, config)
        allow_mail(api.function, config)  # signup's confirmation link (issue 10 §5)
        allow_mail(whatsapp.consumer, config)  # the owner's "number disconnected" e-mail
        for worker in (payments.consumer, payments.reconcile_worker):
            payment_flow.grant_resume(worker)
        # A quote's decision comes from the link or the counter (API) or a WhatsApp reply
        for worker in (api.function, whatsapp.consumer):
            quote_flow.grant_resume(worker)
        storage.grant_api(api.function)
        data_exports.grant_links(api.function)  # the owners' 5-minute download links
        bank_files.grant_api(api.function)  # the shops' bank file uploads (forms signed, inline files)
        # The consent's tokens are encrypted by the API; availability reads the shop's calendar and
        # saves a refreshed token back (GOOGLE_SECRET_ID and its read come with the API's settings).
        allow_google_tokens(api.function, storage.unlock_code_key)
        # Whoever sends a shop's mail may use its own SMTP server; staff save its password (API).
        mail.grant_senders(mail_senders(self), storage.unlock_code_key, encrypt=[api.function])
        # The reports to ops read the dashboard's metrics and are drawn on it: made before it.
        ops_reports = OpsReports(self, "OpsReports", platform=platform)
        # Last: the dashboard shows every alarm, function, flow and queue made above.
        dashboard = OpsDashboard(self, "Dashboard", config=config, monitoring=monitoring, api=api.api)
        # /health reports how many messages each dead-letter queue holds (the same DLQs as the dashboard)
        api.function.add_environment(
            "HEALTH_DLQ_URLS",
            self.to_json_string({path_under_stack(q).replace("/", "."): q.queue_url for q in dashboard.dlqs}),
        )
        api.function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["sqs:GetQueueAttributes"], resources=[q.queue_arn for q in dashboard.dlqs]
            )
        )

        outputs = {
            "ApiUrl": api.url,
            "ApiId": api.api.rest_api_id,
            "ApiStageName": api.stage_name,
            "ApiFunctionName": api.function.function_name,
            "AuthorizerFunctionName": auth.function.function_name,
            "AlarmTopicArn": monitoring.topic.topic_arn,
            "DashboardName": dashboard.dashboard.dashboard_name,
            "AuthSecretArn": auth.signing_key.secret_arn,
            "EventBusName": domain_events.bus.event_bus_name,
            "OutboxRelayFunctionName": domain_events.relay.function_name,
            "PaymentsQueueUrl": payments.queue.queue_url,
            "PaymentsDlqUrl": payments.dlq.queue_url,
            "ReconcileDlqUrl": payments.reconcile_dlq.queue_url,
            "PaymentsConsumerFunctionName": payments.consumer.function_name,
            "ReconcilerFunctionName": payments.reconciler.function_name,
            "ReconcileWorkerFunctionName": payments.reconcile_worker.function_name,
            "ReconcileQueueUrl": payments.reconcile_queue.queue_url,
            "PaymentFlowArn": payment_flow.state_machine.state_machine_arn,
            "QuoteFlowArn": quote_flow.state_machine.state_machine_arn,
            "QuoteFlowFunctionName": quote_flow.function.function_name,
            "MailSender": config.mail_sender,
            "MailConfigurationSet": configuration_set_name(config),
            "MailEventsTopicArn": mail.topic.topic_arn,
            "MailEventsQueueUrl": mail.queue.queue_url,
            "MailEventsDlqUrl": mail.dlq.queue_url,
            "MailEventsFunctionName": mail.events_function.function_name,
            "RetentionFunctionName": retention.function.function_name,
            "OpsReportsFunctionName": ops_reports.function.function_name,
            "DunningFunctionName": billing.dunning.function_name,
            "PlatformAsaasSecretArn": billing.secret.secret_arn,
            "SchemaFunctionName": schema.function.function_name,
            "EvolutionSecretArn": whatsapp.secret.secret_arn,
            "WhatsappQueueUrl": whatsapp.queue.queue_url,
            "WhatsappDlqUrl": whatsapp.dlq.queue_url,
            "WhatsappSendQueueUrl": whatsapp.send_queue.queue_url,
            "WhatsappSendDlqUrl": whatsapp.send_dlq.queue_url,
            "WhatsappStatusQueueUrl": whatsapp.status_queue.queue_url,
            "WhatsappStatusDlqUrl": whatsapp.status_dlq.queue_url,
            "WhatsappConsumerFunctionName": whatsapp.consumer.function_name,
            "WhatsappSenderFunctionName": whatsapp.sender.function_name,
            "GoogleSecretArn": scheduling.secret.secret_arn,
            "CalendarQueueUrl": scheduling.queue.queue_url,
            "CalendarDlqUrl": scheduling.dlq.queue_url,
            "CalendarWorkerFunctionName": scheduling.worker.function_name,
            "CalendarScheduledFunctionName": scheduling.scheduled.function_name,
            "RemindersFunctionName": scheduling.reminders.function_name,
            "BackupBucketName": backups.bucket.bucket_name,
            "BackupCopyBucketName": backups.copy_bucket.bucket_name,
            "BackupFlowArn": backups.state_machine.state_machine_arn,
            "BackupExportFunctionName": backups.export.function_name,
            "RestoreTestFunctionName": backups.restore_test.function_name,
            "OpsFunctionName": ops.function.function_name,
            "DataExportsBucketName": data_exports.bucket.bucket_name,
            "DataExportsQueueUrl": data_exports.queue.queue_url,
            "DataExportsDlqUrl": data_exports.dlq.queue_url,
            "DataExportsFunctionName": data_exports.worker.function_name,
            "BankFilesQueueUrl": bank_files.queue.queue_url,
            "BankFilesDlqUrl": bank_files.dlq.queue_url,
            "BankFilesFunctionName": bank_files.worker.function_name,
            "RealtimeFunctionName": realtime.function.function_name,
        }
        if realtime.stage is not None:
            outputs |= {
                "RealtimeUrl": realtime.stage.url,
                "RealtimeManagementUrl": realtime.stage.callback_url,
            }
        if config.with_panel_cdn:
            # After everything else: the panel names the stack's WebSocket API when there is one, and
            # its deployment's handler is the CDK's, not a worker for the dashboard to draw.
            panel = PanelHosting(
                self,
                "Panel",
                config=config,
                api=api.api,
                storage=storage_origins(storage.photos),
                websocket=find_websocket_endpoint(self),
                web_acl_arn=panel_web_acl_arn,
                origin_secret=api.origin_secret,
            )
            outputs["PanelUrl"] = panel.url
            outputs["PanelBucketName"] = panel.bucket.bucket_name
            outputs["PanelDistributionId"] = panel.distribution.distribution_id
        for name, value in outputs.items():
            CfnOutput(self, name, value=value)
