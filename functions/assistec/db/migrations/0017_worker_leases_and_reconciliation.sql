-- Workers that hold no locks across the network (issue 10 §4).

-- Provisioning calls Asaas with no transaction open: a short lease says which consumer is creating
-- the shop's Asaas customer and subscription, so a second one waits for the queue's next try.
alter table tenant_subscriptions add column provisioning_until timestamptz;

-- The reconciliation fans out one message per shop; the shops reconciled longest ago (never first)
-- go first, so a run that stops early does not starve the same shops every hour.
alter table payment_accounts add column last_reconciled_at timestamptz;
create index payment_accounts_reconcile_order on payment_accounts (last_reconciled_at nulls first, tenant_id);

-- A difference that is not repaired (an Asaas payment with no charge here, a settled charge gone from
-- Asaas) is recorded once: later runs only say they saw it again.
alter table reconciliation_mismatches
    add column last_seen_at timestamptz,
    add column times_seen integer not null default 1;
-- Every shop's rows (the table's row-level security is forced, for its owner too, while migrating).
alter table reconciliation_mismatches no force row level security;
update reconciliation_mismatches set last_seen_at = found_at;
alter table reconciliation_mismatches alter column last_seen_at set not null,
    alter column last_seen_at set default now();
-- The hourly runs so far recorded such a difference every hour: keep the first, count the rest.
with ranked as (
    select tenant_id, id,
        first_value(id) over w as keep_id,
        count(*) over w as seen,
        max(found_at) over w as last_seen
    from reconciliation_mismatches
    where not repaired
    window w as (partition by tenant_id, asaas_payment_id, local_status, remote_status
                 order by found_at, id rows between unbounded preceding and unbounded following)
), kept as (
    update reconciliation_mismatches m set times_seen = r.seen, last_seen_at = r.last_seen
    from ranked r where m.tenant_id = r.tenant_id and m.id = r.id and r.id = r.keep_id
)
delete from reconciliation_mismatches m using ranked r
    where m.tenant_id = r.tenant_id and m.id = r.id and r.id <> r.keep_id;
alter table reconciliation_mismatches force row level security;
create unique index reconciliation_mismatches_open on reconciliation_mismatches
    (tenant_id, asaas_payment_id, remote_status, local_status) nulls not distinct where not repaired;
grant update (last_seen_at, times_seen) on reconciliation_mismatches to assistec_app;
