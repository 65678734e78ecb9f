"""The staff's real-time channel (issue 14 §1): a WebSocket API for the web panel, pushes of the shops'
domain events to their connected staff, and the staff chat.

One function (handlers/realtime.handler) serves the three triggers below: they share the database
and the management API's client, and it keeps the capability small. In prod the capability is a
nested stack of its own (StageConfig.nested_realtime): the stack with the panel's hosting would pass
CloudFormation's 500 resources with it.

- **The WebSocket** (prod: API Gateway's WebSocket API, stage ``v1``): ``$connect``, ``$disconnect``
  and ``$default`` are Lambda proxy integrations of the function (handlers/realtime.socket);
  ``$default`` has a route response (the answer to ping, chat.send, chat.history). ``$connect`` has
  no API Gateway authorizer: it checks the one-time ticket the REST API issued
  (``POST /realtime/ticket``, 60 s, once), so no JWT travels in a URL and the check is the same code
  in every stage.
- **The pushes**: a rule on the domain bus takes the event types the panel shows
  (``REALTIME_PUSHED_EVENTS``) to the function (handlers/realtime.push), which posts each to the
  shop's connections it concerns through the management API (``execute-api:ManageConnections`` on
  this stage's ``@connections`` only). A stale push is worth nothing (the panel reloads what it shows
  when it reconnects): EventBridge tries twice within 5 minutes, then drops it.
- **The sweep** (every 15 minutes; handlers/realtime.sweep): connections whose ``$disconnect`` was
  lost, and spent tickets. A gone connection is also dropped at its first failed post, so the sweep
  is housekeeping, without an alarm of its own (the function's errors alarm).

**Locally** LocalStack's community edition serves no WebSocket API: the stack declares the API in the
``WebSocketApi`` output instead (the routes' functions, the stage, and which functions read the
management endpoint from which variable), and `make up` starts the gateway stand-in
(localstack/ws_gateway) from it and points those functions at its management API.
"""

from __future__ import annotations

from aws_cdk import CfnOutput, Duration, Stack
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from assistec_infra import constants
from assistec_infra.capabilities.functions import FunctionSpec
from assistec_infra.capabilities.platform import WorkerPlatform
from assistec_infra.capabilities.settings import REALTIME
from assistec_infra.nag import acknowledge

FUNCTION = FunctionSpec(
    handler=constants.REALTIME_HANDLER,
    label="Realtime",
    description="assistec real time: the WebSocket ($connect ticket, $disconnect, chat), pushes, sweep",
    memory_mb=512,
    # The longest of its jobs: a push to a shop's connections (API Gateway waits 29 s for a route,
    # and a handshake takes milliseconds).
    timeout_s=30,
)
PUSH_RETRY_ATTEMPTS = 2
PUSH_MAX_EVENT_AGE = Duration.minutes(5)


class Realtime(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, platform: WorkerPlatform, bus: events.IEventBus
    ) -> None:
        super().__init__(scope, construct_id)
        config = platform.config
        # One function for the three triggers (handlers/realtime.handler): they share the database and
        # the management API's client.
        self.function = platform.worker(self, "Function", FUNCTION, REALTIME)
        events.Rule(
            self,
            "SweepSchedule",
            description="Delete the real-time connections whose $disconnect was lost, and spent tickets",
            schedule=constants.REALTIME_SWEEP_SCHEDULE,
            targets=[targets.LambdaFunction(self.function, retry_attempts=0)],
        )
        self.rule = events.Rule(
            self,
            "PushRule",
            description="The shops' domain events their staff's panel shows, to the real-time function",
            event_bus=bus,
            event_pattern=events.EventPattern(
                source=[constants.EVENT_SOURCE], detail_type=list(constants.REALTIME_PUSHED_EVENTS)
            ),
            targets=[
                targets.LambdaFunction(
                    self.function, retry_attempts=PUSH_RETRY_ATTEMPTS, max_event_age=PUSH_MAX_EVENT_AGE
                )
            ],
        )
        self.api: apigwv2.WebSocketApi | None = None
        self.stage: apigwv2.WebSocketStage | None = None
        if config.stage == "local":
            self._declare_for_local_gateway()
            # The gateway stand-in's WebSocket (devctl's port), handed out with each ticket.
            platform.settings.provide("realtime_url", config.local_realtime_url)
            platform.settings.provide("realtime_management_url", None)  # devctl sets it to the stand-in's
            return
        self.api, self.stage = self._websocket_api(platform)
        platform.settings.provide("realtime_url", self.stage.url)
        platform.settings.provide(
            "realtime_management_url", self.stage.callback_url, grant=self._grant_management
        )

    def _websocket_api(self, platform: WorkerPlatform) -> tuple[apigwv2.WebSocketApi, apigwv2.WebSocketStage]:
        config = platform.config
        api = apigwv2.WebSocketApi(
            self,
            "Api",
            api_name=config.resource_name("realtime"),
            description="assistec real time: the staff's panel (pushes and chat)",
            route_selection_expression=constants.REALTIME_ROUTE_SELECTION,
            connect_route_options=apigwv2.WebSocketRouteOptions(
                integration=integrations.WebSocketLambdaIntegration("ConnectIntegration", self.function)
            ),
            disconnect_route_options=apigwv2.WebSocketRouteOptions(
                integration=integrations.WebSocketLambdaIntegration("DisconnectIntegration", self.function)
            ),
            default_route_options=apigwv2.WebSocketRouteOptions(
                integration=integrations.WebSocketLambdaIntegration("DefaultIntegration", self.function),
                return_response=True,
            ),
        )
        acknowledge(
            api,
            "AwsSolutions-APIG4",
            "$connect checks a one-time ticket the REST API issued to a signed-in user (60 s, once, bound "
            "to shop, user and role; the handler refuses the handshake with 401/403 otherwise); "
            "$disconnect and $default act only on a connection $connect stored. An authorizer would need "
            "the JWT in the URL, which the design forbids.",
        )
        access_logs = logs.LogGroup(
            self,
            "AccessLogs",
            retention=constants.LOG_RETENTION[config.stage],
            removal_policy=config.removal_policy,
        )
        stage = apigwv2.WebSocketStage(
            self,
            "Stage",
            web_socket_api=api,
            stage_name=constants.REALTIME_STAGE_NAME,
            auto_deploy=True,
            throttle=apigwv2.ThrottleSettings(
                rate_limit=config.api_rate_limit_rps, burst_limit=config.api_burst_limit
            ),
        )
        cfn_stage = stage.node.default_child
        assert isinstance(cfn_stage, apigwv2.CfnStage)
        # The connection's id, route, status and the caller's address; never the query string (the ticket).
        cfn_stage.access_log_settings = apigwv2.CfnStage.AccessLogSettingsProperty(
            destination_arn=access_logs.log_group_arn,
            format=(
                '{"requestId":"$context.requestId","connectionId":"$context.connectionId",'
                '"routeKey":"$context.routeKey","eventType":"$context.eventType","status":"$context.status",'
                '"ip":"$context.identity.sourceIp","requestTime":"$context.requestTimeEpoch",'
                '"integrationError":"$context.integrationErrorMessage"}'
            ),
        )
        return api, stage

    def _grant_management(self, grantee: object) -> None:
        assert self.stage is not None
        assert isinstance(grantee, lambda_.Function)
        self.stage.grant_management_api_access(grantee)
        stack = Stack.of(self)
        assert grantee.role is not None
        acknowledge(
            grantee.role,
            f"AwsSolutions-IAM5[Resource::arn:aws:execute-api:{stack.region}:{stack.account}:"
            f"<{stack.get_logical_id(self._cfn_api())}>/{constants.REALTIME_STAGE_NAME}/*/@connections/*]",
            "Posting to a connection names it by its id, known only at run time (one per open panel); the "
            "grant is limited to this API's stage and its @connections resource.",
        )

    def _cfn_api(self) -> apigwv2.CfnApi:
        assert self.api is not None
        cfn = self.api.node.default_child
        assert isinstance(cfn, apigwv2.CfnApi)
        return cfn

    def _declare_for_local_gateway(self) -> None:
        """The ``WebSocketApi`` output devctl starts the gateway stand-in from (ws_gateway_proc.py)."""
        spec = {
            "stage": constants.REALTIME_STAGE_NAME,
            "route_selection_expression": constants.REALTIME_ROUTE_SELECTION,
            "routes": {
                "$connect": {"function": self.function.function_name},
                "$disconnect": {"function": self.function.function_name},
                "$default": {"function": self.function.function_name, "two_way": True},
            },
            "management_endpoint": {
                "variable": constants.REALTIME_MANAGEMENT_VARIABLE,
                "functions": [self.function.function_name],
            },
        }
        CfnOutput(self, "WebSocketApi", value=Stack.of(self).to_json_string(spec)).override_logical_id(
            constants.REALTIME_OUTPUT
        )
