-- Service orders (ordens de serviço), their status history, the shop's workflow rules, and the
-- outbox of domain events that leave for EventBridge after the transaction commits.

alter table users add constraint users_tenant_id_key unique (tenant_id, id);
alter table devices add constraint devices_tenant_customer_id_key unique (tenant_id, customer_id, id);

-- The last order number handed out per shop. Taking a number locks the shop's row until commit, so
-- numbers are sequential per shop and a rolled-back order gives its number back (never seen, never
-- reused).
create table order_counters (
    tenant_id uuid primary key references tenants (id),
    last_number integer not null
);

create table service_orders (
    id uuid primary key default gen_random_uuid(),
    tenant_id uuid not null references tenants (id),
    number integer not null check (number > 0),
    customer_id uuid not null,
    device_id uuid not null,
    status text not null default 'received' check (status in (
        'received', 'diagnosing', 'quote_sent', 'approved', 'rejected', 'waiting_parts',
        'repairing', 'quality_check', 'ready', 'delivered', 'cancelled')),
    reported_problem text not null check (length(btrim(reported_problem)) between 3 and 2000),
    diagnosis text check (length(diagnosis) <= 4000),
    technician_id uuid,
    priority text not null default 'normal' check (priority in ('low', 'normal', 'high', 'urgent')),
    promised_at timestamptz,
    warranty_of uuid,
    delivered_at timestamptz,
    warranty_until date,
    -- The public tracking link's secret ("<tenant>.<random>"): read-only status, re-sendable by the shop.
    tracking_token text not null unique,
    version integer not null default 1,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    unique (tenant_id, number),
    unique (tenant_id, id),
    -- The device must be this customer's, in this shop; the technician a user of this shop.
    foreign key (tenant_id, customer_id, device_id) references devices (tenant_id, customer_id, id),
    foreign key (tenant_id, technician_id) references users (tenant_id, id),
    foreign key (tenant_id, warranty_of) references service_orders (tenant_id, id),
    check ((status = 'delivered') = (delivered_at is not null))
);
create index service_orders_tenant_created on service_orders (tenant_id, created_at, id);
create index service_orders_tenant_status on service_orders (tenant_id, status, created_at, id);
create index service_orders_tenant_customer on service_orders (tenant_id, customer_id, created_at);
create index service_orders_tenant_technician on service_orders (tenant_id, technician_id, created_at)
    where technician_id is not null;
create index service_orders_tenant_warranty_of on service_orders (tenant_id, warranty_of)
    where warranty_of is not null;

-- Every status change, with who, when and why. Append-only for the app.
create table order_transitions (
    id bigint generated always as identity,
    tenant_id uuid not null references tenants (id),
    order_id uuid not null,
    from_status text,
    to_status text not null,
    reason text check (length(reason) <= 500),
    actor_user_id uuid,
    actor_label text,
    at timestamptz not null default now(),
    primary key (tenant_id, id),
    foreign key (tenant_id, order_id) references service_orders (tenant_id, id)
);
create index order_transitions_tenant_order on order_transitions (tenant_id, order_id, at, id);

-- A shop's tightening of the default status machine, and its warranty length. No row = defaults.
create table order_workflows (
    tenant_id uuid primary key references tenants (id),
    disabled_transitions jsonb not null default '[]'::jsonb check (jsonb_typeof(disabled_transitions) = 'array'),
    warranty_days integer not null default 90 check (warranty_days between 0 and 3650),
    version integer not null default 1,
    updated_at timestamptz not null default now()
);

-- Domain events written in the same transaction as the change they describe; the relay publishes
-- them to EventBridge and stamps published_at. Consumers dedupe on id (delivery is at-least-once).
create table outbox (
    id uuid primary key default gen_random_uuid(),
    tenant_id uuid not null references tenants (id),
    detail_type text not null,
    detail jsonb not null,
    created_at timestamptz not null default now(),
    published_at timestamptz,
    attempts integer not null default 0
);
create index outbox_pending on outbox (created_at) where published_at is null;

do $$
declare
    t text;
begin
    foreach t in array array['order_counters', 'service_orders', 'order_transitions', 'order_workflows', 'outbox'] loop
        execute format('alter table %I enable row level security', t);
        execute format('alter table %I force row level security', t);
        execute format(
            'create policy tenant_isolation on %I '
            'using (tenant_id = nullif(current_setting(''app.tenant_id'', true), '''')::uuid) '
            'with check (tenant_id = nullif(current_setting(''app.tenant_id'', true), '''')::uuid)',
            t
        );
        execute format('create policy ops_read on %I for select to assistec_ops using (true)', t);
        execute format('grant select on %I to assistec_ops', t);
    end loop;
end
$$;
grant select, insert, update on order_counters, service_orders, order_workflows, outbox to assistec_app;
grant select, insert on order_transitions to assistec_app;

-- The relay reads every shop's pending events and stamps them, nothing else: this policy opens the
-- outbox (and only it) to a transaction that declared itself the relay.
create policy relay on outbox for all to assistec_app
    using (current_setting('app.outbox_relay', true) = 'on')
    with check (current_setting('app.outbox_relay', true) = 'on');
