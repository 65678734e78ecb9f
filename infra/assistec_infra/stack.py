"""The assistec stack: the same composition for every stage; StageConfig holds the differences."""

from __future__ import annotations

from aws_cdk import CfnOutput, Environment, Stack
from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from assistec_infra import constants
from assistec_infra.capabilities.auth import Auth
from assistec_infra.capabilities.billing import Billing
from assistec_infra.capabilities.database import Database
from assistec_infra.capabilities.events import DomainEvents
from assistec_infra.capabilities.functions import PythonFunctions
from assistec_infra.capabilities.layer import DependencyLayer
from assistec_infra.capabilities.mail import allow_mail
from assistec_infra.capabilities.monitoring import Monitoring
from assistec_infra.capabilities.network import Network
from assistec_infra.capabilities.payment_flow import PaymentFlow
from assistec_infra.capabilities.payments import Payments
from assistec_infra.capabilities.rest_api import RestApi
from assistec_infra.capabilities.schema import Schema
from assistec_infra.capabilities.storage import DeviceStorage
from assistec_infra.stage_config import StageConfig


class AssistecStack(Stack):
    def __init__(self, scope: Construct, config: StageConfig) -> None:
        super().__init__(
            scope,
            config.stack_name,
            env=Environment(account=config.account, region=config.region),
            description=f"assistec ({config.stage})",
        )
        monitoring = Monitoring(self, "Monitoring", config=config)
        vpc: ec2.IVpc | None = Network(self, "Network", config=config).vpc if config.with_vpc else None
        database = Database(self, "Database", config=config, vpc=vpc)
        layer = DependencyLayer(self, "Dependencies", config=config).layer
        functions = PythonFunctions(self, "Functions", config=config, layer=layer)
        auth = Auth(self, "Auth", config=config, functions=functions, monitoring=monitoring)

        db_env = {
            "DB_SECRET_ID": database.secret.secret_arn,
            "DB_SSLMODE": "require" if config.with_vpc else "disable",
        }
        if database.proxy_endpoint is not None:
            db_env["DB_HOST"] = database.proxy_endpoint
        db_client_groups = [database.client_security_group] if database.client_security_group else None
        domain_events = DomainEvents(
            self,
            "DomainEvents",
            config=config,
            functions=functions,
            monitoring=monitoring,
            environment=db_env,
            vpc=vpc,
            security_groups=db_client_groups,
        )
        database.secret.grant_read(domain_events.relay)
        storage = DeviceStorage(self, "DeviceStorage", config=config)
        payments = Payments(
            self,
            "Payments",
            config=config,
            functions=functions,
            monitoring=monitoring,
            environment={
                **db_env,
                "EVENT_BUS_NAME": domain_events.bus.event_bus_name,
                # One KMS key for shop secrets (unlock codes, Asaas keys), apart by encryption context.
                "PAYMENTS_KEY_ID": storage.unlock_code_key.key_arn,
                **({"ASAAS_BASE_URL": config.asaas_base_url} if config.asaas_base_url else {}),
            },
            secrets_key=storage.unlock_code_key,
            vpc=vpc,
            security_groups=db_client_groups,
        )
        for worker in (payments.consumer, payments.reconciler):
            database.secret.grant_read(worker)
            domain_events.grant_publish(worker)
        billing = Billing(
            self,
            "Billing",
            config=config,
            functions=functions,
            monitoring=monitoring,
            environment={
                **db_env,
                "EVENT_BUS_NAME": domain_events.bus.event_bus_name,
                "PAYMENTS_KEY_ID": storage.unlock_code_key.key_arn,
                **({"ASAAS_BASE_URL": config.asaas_base_url} if config.asaas_base_url else {}),
            },
            bus=domain_events.bus,
            queue=payments.queue,
            vpc=vpc,
            security_groups=db_client_groups,
        )
        database.secret.grant_read(billing.dunning)
        domain_events.grant_publish(billing.dunning)
        # The consumer provisions subscriptions, applies the platform webhook and mails the owner.
        billing.grant_platform(payments.consumer)
        allow_mail(payments.consumer, config)
        payment_flow = PaymentFlow(
            self,
            "PaymentFlow",
            config=config,
            functions=functions,
            monitoring=monitoring,
            environment={
                **db_env,
                "EVENT_BUS_NAME": domain_events.bus.event_bus_name,
                "PAYMENTS_KEY_ID": storage.unlock_code_key.key_arn,
                **({"ASAAS_BASE_URL": config.asaas_base_url} if config.asaas_base_url else {}),
            },
            secrets_key=storage.unlock_code_key,
            vpc=vpc,
            security_groups=db_client_groups,
        )
        database.secret.grant_read(payment_flow.function)
        domain_events.grant_publish(payment_flow.function)
        for worker in (payments.consumer, payments.reconciler):
            payment_flow.grant_resume(worker)
        domain_events.relay.add_environment("PAYMENTS_QUEUE_URL", payments.queue.queue_url)
        payments.grant_send(domain_events.relay)
        api_function = functions.function(
            self,
            "ApiFunction",
            handler=constants.API_HANDLER,
            description="assistec REST API (every route, through Powertools Routers)",
            environment={
                **db_env,
                "AUTH_SECRET_ID": auth.signing_key.secret_arn,
                "DEVICES_BUCKET": storage.photos.bucket_name,
                "UNLOCK_CODE_KEY_ID": storage.unlock_code_key.key_arn,
                "EVENT_BUS_NAME": domain_events.bus.event_bus_name,
                "PAYMENTS_KEY_ID": storage.unlock_code_key.key_arn,
                "PAYMENTS_QUEUE_URL": payments.queue.queue_url,
                "PAYMENT_FLOW_ARN": payment_flow.state_machine.state_machine_arn,
                **({"ASAAS_BASE_URL": config.asaas_base_url} if config.asaas_base_url else {}),
                **({} if config.native_authorizer else {"AUTHORIZER_EMULATION": "true"}),
            },
            vpc=vpc,
            security_groups=db_client_groups,
        )
        database.secret.grant_read(api_function)
        domain_events.grant_publish(api_function)
        payments.grant_send(api_function)
        payment_flow.grant_start(api_function)
        billing.grant_platform(api_function)
        storage.grant_api(api_function)
        schema = Schema(
            self,
            "Schema",
            config=config,
            database=database,
            functions=functions,
            monitoring=monitoring,
            vpc=vpc,
        )
        # The new code goes live only after its migrations are in.
        api_function.node.add_dependency(schema.resource)
        domain_events.relay.node.add_dependency(schema.resource)
        payments.consumer.node.add_dependency(schema.resource)
        payments.reconciler.node.add_dependency(schema.resource)
        payment_flow.function.node.add_dependency(schema.resource)
        billing.dunning.node.add_dependency(schema.resource)
        auth.signing_key.grant_read(api_function)
        monitoring.watch_function(api_function, "API")

        api = RestApi(
            self,
            "RestApi",
            config=config,
            handler=api_function,
            authorizer=auth.authorizer,
            monitoring=monitoring,
        )

        CfnOutput(self, "ApiUrl", value=api.url)
        CfnOutput(self, "ApiId", value=api.api.rest_api_id)
        CfnOutput(self, "ApiStageName", value=api.stage_name)
        CfnOutput(self, "ApiFunctionName", value=api_function.function_name)
        CfnOutput(self, "AuthorizerFunctionName", value=auth.function.function_name)
        CfnOutput(self, "AlarmTopicArn", value=monitoring.topic.topic_arn)
        CfnOutput(self, "AuthSecretArn", value=auth.signing_key.secret_arn)
        CfnOutput(self, "EventBusName", value=domain_events.bus.event_bus_name)
        CfnOutput(self, "OutboxRelayFunctionName", value=domain_events.relay.function_name)
        CfnOutput(self, "PaymentsQueueUrl", value=payments.queue.queue_url)
        CfnOutput(self, "PaymentsDlqUrl", value=payments.dlq.queue_url)
        CfnOutput(self, "PaymentsConsumerFunctionName", value=payments.consumer.function_name)
        CfnOutput(self, "ReconcilerFunctionName", value=payments.reconciler.function_name)
        CfnOutput(self, "PaymentFlowArn", value=payment_flow.state_machine.state_machine_arn)
        CfnOutput(self, "MailSender", value=config.mail_sender)
        CfnOutput(self, "DunningFunctionName", value=billing.dunning.function_name)
        CfnOutput(self, "PlatformAsaasSecretArn", value=billing.secret.secret_arn)
        CfnOutput(self, "SchemaFunctionName", value=schema.function.function_name)
