-- Status messages (issue 11 §6): which order statuses the shop tells its customers about on WhatsApp
-- (null: the defaults, domain/wa_router.py), and each transition told at most once.
alter table whatsapp_settings add column status_messages text[];

-- One row per domain event (the order's transition) that was told, or decided not to be (the
-- outcome): a redelivered event finds it and sends nothing.
create table wa_status_notices (
    tenant_id uuid not null references tenants (id),
    event_id uuid not null,
    order_id uuid not null,
    to_status text not null,
    outcome text not null,
    message_id uuid,
    created_at timestamptz not null default now(),
    primary key (tenant_id, event_id),
    foreign key (tenant_id, order_id) references service_orders (tenant_id, id)
);
alter table wa_status_notices enable row level security;
alter table wa_status_notices force row level security;
create policy tenant_isolation on wa_status_notices
    using (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
    with check (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);
create policy ops_read on wa_status_notices for select to assistec_ops using (true);
grant select on wa_status_notices to assistec_ops;
grant select, insert, update on wa_status_notices to assistec_app;
