"""Names and literals of the CDK app, in one place."""

from __future__ import annotations

import re
from pathlib import Path

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs

REPO_ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS_DIR = REPO_ROOT / "functions"
PACKAGE_DIR = FUNCTIONS_DIR / "assistec"
MIGRATIONS_DIR = PACKAGE_DIR / "db" / "migrations"
LAYERS_DIR = REPO_ROOT / "layers"

APP_NAME = "assistec"
SERVICE_NAME = "assistec"
METRICS_NAMESPACE = "Assistec"
# The source of assistec's domain events on the bus (the code's outbox SOURCE), and signup's event.
EVENT_SOURCE = "assistec.orders"
SHOP_SIGNED_UP = "ShopSignedUp"
ORDER_STATUS_CHANGED = "OrderStatusChanged"
APPOINTMENT_CHANGED = "AppointmentChanged"
# The owner asked for a copy of the shop's data (the code's domain/data_exports.REQUESTED_EVENT).
DATA_EXPORT_REQUESTED = "DataExportRequested"
# The domain events the staff's panel is pushed (the code's domain/realtime.PUSHED_EVENTS).
REALTIME_PUSHED_EVENTS = (
    "OrderCreated",
    "OrderStatusChanged",
    "ChargeStatusChanged",
    "WhatsappMessageReceived",
    "ConversationWaitingForStaff",
    "AppointmentChanged",
)
# The WebSocket API's stage, its route selection, and the output that declares it to the local
# gateway stand-in (localstack/devctl/ws_gateway_proc.py reads it; LocalStack serves no WebSocket API).
REALTIME_STAGE_NAME = "v1"
REALTIME_ROUTE_SELECTION = "$request.body.action"
REALTIME_OUTPUT = "WebSocketApi"
REALTIME_MANAGEMENT_VARIABLE = "REALTIME_MANAGEMENT_URL"

# The project's Python (pyproject: requires-python ==3.13). cdk-nag's L1 asks for the newest runtime;
# moving runtimes is a deliberate upgrade of the whole project, not a side effect of a CDK bump.
PYTHON_RUNTIME = lambda_.Runtime.PYTHON_3_13
PYTHON_VERSION = "3.13"
ARCHITECTURE = lambda_.Architecture.X86_64

API_HANDLER = "assistec.handlers.api.handler"
AUTHORIZER_HANDLER = "assistec.handlers.authorizer.handler"
MIGRATE_HANDLER = "assistec.handlers.migrate.handler"
OUTBOX_RELAY_HANDLER = "assistec.handlers.outbox_relay.handler"
PAYMENTS_CONSUMER_HANDLER = "assistec.handlers.payments_consumer.handler"
RECONCILE_HANDLER = "assistec.handlers.reconcile.handler"
RECONCILE_SHOP_HANDLER = "assistec.handlers.reconcile_shop.handler"
PAYMENT_FLOW_HANDLER = "assistec.handlers.payment_flow.handler"
QUOTE_FLOW_HANDLER = "assistec.handlers.quote_flow.handler"
DUNNING_HANDLER = "assistec.handlers.dunning.handler"
WHATSAPP_CONSUMER_HANDLER = "assistec.handlers.whatsapp_worker.consumer"
WHATSAPP_SENDER_HANDLER = "assistec.handlers.whatsapp_worker.sender"
CALENDAR_WORKER_HANDLER = "assistec.handlers.calendar.worker"
CALENDAR_SCHEDULED_HANDLER = "assistec.handlers.calendar.scheduled"
REMINDERS_HANDLER = "assistec.handlers.calendar.reminders"
MAIL_EVENTS_HANDLER = "assistec.handlers.mail_events.handler"
RETENTION_HANDLER = "assistec.handlers.retention.handler"
BACKUP_SHOPS_HANDLER = "assistec.handlers.backup.shops"
BACKUP_EXPORT_HANDLER = "assistec.handlers.backup.export"
BACKUP_FINISH_HANDLER = "assistec.handlers.backup.finish"
RESTORE_TEST_HANDLER = "assistec.handlers.backup.restore_test"
OPS_HANDLER = "assistec.handlers.ops.handler"
OPS_REPORTS_HANDLER = "assistec.handlers.ops_reports.handler"
DATA_EXPORTS_HANDLER = "assistec.handlers.data_exports.worker"
# The shops' uploaded bank files (issue 15): read when S3 says they landed.
BANK_FILES_HANDLER = "assistec.handlers.bank_files.worker"
# The staff's real-time channel (issue 14 §1): one function for the WebSocket's routes, the pushes
# and the sweep.
REALTIME_HANDLER = "assistec.handlers.realtime.handler"

# When EventBridge runs the scheduled workers. 11:00 UTC is 08:00 in Brasília (no daylight saving
# since 2019): owners read the dunning e-mail at opening.
OUTBOX_RELAY_SCHEDULE = events.Schedule.rate(Duration.minutes(1))
RECONCILE_SCHEDULE = events.Schedule.rate(Duration.hours(1))
DUNNING_SCHEDULE = events.Schedule.cron(minute="0", hour="11")
# The calendar's pass (mirrors retried, each shop's Google calendar read back) and the reminders.
CALENDAR_SCHEDULE = events.Schedule.rate(Duration.minutes(5))
REMINDERS_SCHEDULE = events.Schedule.rate(Duration.minutes(5))
RETENTION_SCHEDULE = events.Schedule.cron(minute="30", hour="6")  # 03:30 in Brasília, a quiet hour
# The nightly per-shop backup runs at 02:00 in São Paulo, when no shop is open. EventBridge *rules*
# take a UTC cron only (EventBridge Scheduler takes a time zone, but LocalStack's community edition has
# no Scheduler); Brazil dropped daylight saving in 2019 and keeps UTC-3 all year, so 02:00 there is
# 05:00 UTC in every season (tests/infra/test_backup.py checks January and July). Should daylight
# saving come back, move the rule to EventBridge Scheduler with BACKUP_TIME_ZONE.
BACKUP_TIME_ZONE = "America/Sao_Paulo"
BACKUP_LOCAL_HOUR = 2
BACKUP_UTC_HOUR = 5
BACKUP_SCHEDULE = events.Schedule.cron(minute="0", hour=str(BACKUP_UTC_HOUR))
# The weekly restore test: Sundays 08:00 UTC (05:00 in São Paulo), hours after that night's backup.
RESTORE_TEST_SCHEDULE = events.Schedule.cron(minute="0", hour="8", week_day="SUN")
# The reports to ops, at 09:00 in Brasília: daily (backups), Mondays (the last week), the 1st (the
# last month). The daily one runs after the night's backups and retention.
OPS_DAILY_REPORT_SCHEDULE = events.Schedule.cron(minute="0", hour="12")
OPS_WEEKLY_REPORT_SCHEDULE = events.Schedule.cron(minute="0", hour="12", week_day="MON")
OPS_MONTHLY_REPORT_SCHEDULE = events.Schedule.cron(minute="0", hour="12", day="1")
# Connections whose $disconnect was lost, and spent tickets, deleted across shops.
REALTIME_SWEEP_SCHEDULE = events.Schedule.rate(Duration.minutes(15))

# The functions' own metrics that alarms and the dashboard watch (published through Powertools by
# the handlers, in METRICS_NAMESPACE with the dimension service=SERVICE_NAME).
OUTBOX_BACKLOG_METRIC = "OutboxOldestPendingSeconds"
OUTBOX_PUBLISHED_METRIC = "OutboxPublished"
INBOX_REQUEUED_METRIC = "InboxRequeued"
WHATSAPP_REPLIES_REQUEUED_METRIC = "WhatsappRepliesRequeued"
RECONCILIATION_MISMATCHES_METRIC = "ReconciliationMismatches"
RECONCILIATION_ERRORS_METRIC = "ReconciliationErrors"
RECONCILIATION_SHOPS_METRIC = "ReconciliationShops"
RECONCILIATION_ENQUEUED_METRIC = "ReconciliationShopsEnqueued"
DUNNING_NOTICES_METRIC = "DunningNotices"
SHOPS_PAST_DUE_METRIC = "ShopsPastDue"
SHOPS_SUSPENDED_METRIC = "ShopsSuspended"
SHOPS_REACTIVATED_METRIC = "ShopsReactivated"
DUNNING_ERRORS_METRIC = "DunningErrors"
PROVISIONING_REFUSED_METRIC = "ProvisioningRefused"
WHATSAPP_DISCONNECTED_METRIC = "WhatsappDisconnected"
WHATSAPP_SEND_FAILURES_METRIC = "WhatsappSendFailures"
WHATSAPP_BOT_ANSWERS_METRIC = "WhatsappBotAnswers"
CALENDAR_SYNC_FAILURES_METRIC = "CalendarSyncFailures"
CALENDAR_PASS_FAILURES_METRIC = "CalendarPassFailures"
REMINDERS_SENT_METRIC = "RemindersSent"
REMINDER_FAILURES_METRIC = "ReminderFailures"
# The backups' metrics (handlers/backup.py): the age of the newest good per-shop backup, in hours
# (Maximum over the shops), and the shops whose export failed (Sum), both from each night's finish;
# the shops whose bundle the weekly restore test could not restore.
BACKUP_AGE_METRIC = "BackupAgeHours"
BACKUP_FAILURES_METRIC = "BackupFailures"
# The bank reconciliation's automatic match rate (%) of the period each run covered, published by the
# matcher (services/banking/reconciliation.METRIC_RATE) from the bank files worker and the API.
RECONCILIATION_RATE_METRIC = "ReconciliationAutoMatchRate"
RESTORE_TEST_FAILURES_METRIC = "RestoreTestFailures"
MAIL_BOUNCES_METRIC = "MailBounces"
MAIL_COMPLAINTS_METRIC = "MailComplaints"
MAIL_EVENTS_UNREADABLE_METRIC = "MailEventsUnreadable"
RETENTION_PURGED_METRIC = "RetentionPurged"
RETENTION_BEHIND_METRIC = "RetentionBehind"
# The owners' data exports (handlers/data_exports.py): made, and failed (each one is worth a look).
DATA_EXPORTS_READY_METRIC = "DataExportsReady"
DATA_EXPORT_FAILURES_METRIC = "DataExportFailures"

API_STAGE_NAME = "v1"
SCHEMA_RESOURCE_TYPE = "Custom::AssistecSchema"
LOCAL_DB_SECRET_NAME = "assistec/local/database"
LOCAL_MIGRATOR_SECRET_NAME = "assistec/local/database-migrator"
LOCAL_OPS_SECRET_NAME = "assistec/local/database-ops"
DB_APP_USER = "assistec_app"
DB_OPS_USER = "assistec_ops"
DB_NAME = "assistec"
DB_MASTER_USER = "assistec_migrator"
# The CA bundle that verifies RDS and RDS Proxy (sslmode=verify-full), shipped in the functions' code
# asset (the package is unpacked under Lambda's task root, /var/task).
RDS_CA_BUNDLE = "assistec/db/certs/rds-ca-bundle.pem"
LAMBDA_TASK_ROOT = "/var/task"
# The encryption-context entries that say what a KMS ciphertext is (functions: integrations/kms.py).
# Grants on the shop-secrets key are conditioned on them: the payment workers decrypt Asaas keys only.
KMS_UNLOCK_CODE_CONTEXT = ("field", "unlock_code")
KMS_ASAAS_KEY_CONTEXT = ("purpose", "asaas-api-key")
KMS_EVOLUTION_TOKEN_CONTEXT = ("purpose", "evolution-instance-token")
KMS_GOOGLE_TOKEN_CONTEXT = ("purpose", "google-token")
KMS_SMTP_PASSWORD_CONTEXT = ("purpose", "smtp-password")
# A shop's backup bundle: its data key comes from the shop-secrets key under this purpose (and the
# shop's tenant_id), so the key's other ciphertexts stay out of the backup functions' reach.
KMS_BACKUP_CONTEXT = ("purpose", "backup-bundle")

# The per-shop backup bundles' S3 object tag (set by the export) and how long each kind is kept, in
# days: a week of dailies, four weeklies, twelve monthlies, each with a day to spare; an operator's
# bundle made on demand (the ops console's `backup export`) four weeks, like a weekly.
BACKUP_RETENTION_TAG = "retention"
BACKUP_RETENTION_DAYS = {"daily": 8, "weekly": 29, "monthly": 366, "manual": 29}
# An overwritten or deleted bundle's old version: gone after a day (object lock, in prod, holds every
# version for BACKUP_OBJECT_LOCK_DAYS first).
BACKUP_NONCURRENT_DAYS = 1
BACKUP_OBJECT_LOCK_DAYS = 7
# The whole database (prod, AWS Backup): a daily recovery point kept 35 days, in the stage's region and
# copied to a vault in another region. The vaults' lock refuses any recovery point kept less than 7
# days or more than 400 (what the plan asks for lies in between).
DB_BACKUP_RETENTION_DAYS = 35
# 04:00 in São Paulo: after the per-shop export (02:00) has had two hours.
DB_BACKUP_SCHEDULE = events.Schedule.cron(minute="0", hour="7")
BACKUP_VAULT_MIN_RETENTION_DAYS = 7
BACKUP_VAULT_MAX_RETENTION_DAYS = 400

# The devices bucket's key prefixes (the API's grants name each): device photos under the shop's id,
# customers' WhatsApp files, the rendered documents (PDFs made again on demand: kept two days) and
# the shops' logos.
PHOTOS_OBJECTS = "*/devices/*"
WHATSAPP_MEDIA_OBJECTS = "whatsapp/*"
DOCUMENTS_PREFIX = "documents/"
LOGOS_PREFIX = "logos/"
# Retornos and statements the shops upload: bank-files/<shop>/<kind>/<user>/<upload>/<name>
# (services/banking/intake.KEY_PREFIX).
BANK_FILES_PREFIX = "bank-files/"
# The remessa files the API generates: remessas/<shop>/<agreement>/<remessa>/<name>
# (services/banking/remessas.KEY_PREFIX); apart from bank-files/, whose events the retorno worker reads.
REMESSAS_PREFIX = "remessas/"
DOCUMENTS_EXPIRE_DAYS = 2

# The owners' data exports (LGPD): exports/<shop>/<export>.zip in their own bucket. The API hands a
# file out for 7 days after it is stored (domain/data_exports.FILE_DAYS); the bucket keeps it a day
# longer, so the last 5-minute link signed before then still finds it.
DATA_EXPORTS_PREFIX = "exports/"
DATA_EXPORTS_DAYS = 7
DATA_EXPORTS_EXPIRE_DAYS = DATA_EXPORTS_DAYS + 1

# Routes reachable without a token: everything else goes through the Lambda authorizer.
PUBLIC_ROUTES: tuple[tuple[str, str], ...] = (
    ("GET", "/health"),
    ("POST", "/signup"),
    ("POST", "/auth/login"),
    ("POST", "/auth/refresh"),
    ("POST", "/auth/logout"),
    # Google's consent sends the browser back here (the signed, one-time state is the credential).
    ("GET", "/integrations/google/callback"),
)
# The customer's public links and the providers' webhooks: every path under these prefixes, any
# method, without a token (the credential is in the path, and a header for webhooks).
PUBLIC_PREFIX = "/public"
WEBHOOK_PREFIX = "/webhooks"
# Swagger UI, served by the API Lambda in the local stage only.
LOCAL_ONLY_PUBLIC_ROUTES: tuple[tuple[str, str], ...] = (("GET", "/docs"),)

LOG_RETENTION = {
    "local": logs.RetentionDays.ONE_WEEK,
    "prod": logs.RetentionDays.THREE_MONTHS,
}


def app_version() -> str:
    """The package version, read from its source (the CDK app never imports Lambda code)."""
    text = (PACKAGE_DIR / "__init__.py").read_text()
    match = re.search(r'^__version__ = "([^"]+)"', text, re.MULTILINE)
    if match is None:
        raise ValueError("functions/assistec/__init__.py has no __version__")
    return match.group(1)
