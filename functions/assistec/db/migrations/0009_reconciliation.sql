-- Reconciliation with Asaas: what differed, when, and whether it was repaired.

create table reconciliation_mismatches (
    id bigint generated always as identity,
    tenant_id uuid not null references tenants (id),
    charge_id uuid,
    asaas_payment_id text not null,
    local_status text,
    remote_status text not null,
    repaired boolean not null,
    found_at timestamptz not null default now(),
    primary key (tenant_id, id)
);
create index reconciliation_mismatches_tenant_found on reconciliation_mismatches (tenant_id, found_at desc);

alter table reconciliation_mismatches enable row level security;
alter table reconciliation_mismatches force row level security;
create policy tenant_isolation on reconciliation_mismatches
    using (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
    with check (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);
create policy ops_read on reconciliation_mismatches for select to assistec_ops using (true);
grant select on reconciliation_mismatches to assistec_ops;
grant select, insert on reconciliation_mismatches to assistec_app;

-- The hourly reconciliation visits every shop with an Asaas account: a transaction that declares
-- itself the reconciler may list which shops those are (their ids, nothing else is read this way).
create policy reconciler on payment_accounts for select to assistec_app
    using (current_setting('app.reconciler', true) = 'on');
