"""The ops console's function: the platform operator's commands (infra/assistec_ops) run here, inside
the stack, because the database of a real stage is in the VPC and unreachable from an operator's
machine. No trigger and no route: only principals IAM allows to invoke it (the operator's AWS
credentials) can run a command, and each is recorded in the operator's audit log (ops_audit).

It connects as the app role (cross-shop reads through narrow definer functions, the rest inside each
shop's transaction), provisions shops on the platform Asaas account as the payments consumer does
(``Billing.grant_platform``, by the stack), rotates the token-signing key (read here, written by
the stack's grant): the new key is generated inside the function and never leaves AWS; and handles
one shop's backup bundles on demand (``Backup.grant_console``, by the stack: the bundles' buckets, the
backup-bundle purpose of the shop-secrets key, and the ops role's connection for the scratch restore
and the in-place restore's permit).

Its timeout is Lambda's longest: restoring a large shop in place takes minutes (the 100,000-order
shop's took 155 s, besides its download and verification); the console's read timeout follows it
(infra/assistec_ops/aws.py)."""

from __future__ import annotations

from constructs import Construct

from assistec_infra import constants
from assistec_infra.capabilities.functions import FunctionSpec
from assistec_infra.capabilities.platform import WorkerPlatform
from assistec_infra.capabilities.settings import OPS

OPS_FUNCTION = FunctionSpec(
    handler=constants.OPS_HANDLER,
    label="Ops console",
    description="assistec ops console: the operator's commands (shops, provisioning, signing key, "
    "backups), audited",
    # A bundle is spooled in memory up to 64 MiB (services/ops.py), then in /tmp; as the export's.
    memory_mb=1024,
    timeout_s=900,
)


class Ops(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, platform: WorkerPlatform) -> None:
        super().__init__(scope, construct_id)
        self.function = platform.worker(self, "Function", OPS_FUNCTION, OPS)
