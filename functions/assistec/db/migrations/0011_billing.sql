-- The shops' own subscription to assistec, charged through the platform's Asaas account.
--
-- tenants.billing_status (0002) stays the one place the API reads to refuse a suspended shop;
-- this migration adds the plans, each shop's subscription, its invoices (the platform's Asaas
-- payments), the dunning notices already sent, and the inbox of the platform account's webhooks.

create table plans (
    code text primary key check (code ~ '^[a-z0-9_]{2,40}$'),
    name text not null check (length(btrim(name)) between 2 and 80),
    price_cents integer not null check (price_cents >= 500),
    trial_days integer not null check (trial_days between 0 and 90),
    -- Days an unpaid invoice may stay overdue before the shop is suspended.
    grace_days integer not null check (grace_days between 1 and 60),
    active boolean not null default true,
    sort_order integer not null default 0,
    created_at timestamptz not null default now()
);
insert into plans (code, name, price_cents, trial_days, grace_days, sort_order) values
    ('essencial', 'Essencial', 7990, 14, 10, 1),
    ('profissional', 'Profissional', 14990, 14, 10, 2);
grant select on plans to assistec_app, assistec_ops;

create table tenant_subscriptions (
    tenant_id uuid primary key references tenants (id),
    plan_code text not null references plans (code),
    trial_ends_on date not null,
    asaas_customer_id text,
    asaas_subscription_id text unique,
    next_due_date date,
    past_due_since date,
    suspended_at timestamptz,
    cancelled_at timestamptz,
    provision_error text,
    version integer not null default 1,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);
create index tenant_subscriptions_unprovisioned on tenant_subscriptions (created_at)
    where asaas_subscription_id is null and cancelled_at is null;

create table subscription_invoices (
    tenant_id uuid not null references tenants (id),
    asaas_payment_id text not null,
    due_date date not null,
    value_cents integer not null check (value_cents >= 0),
    status text not null check (status in ('pending', 'overdue', 'paid', 'refunded', 'cancelled')),
    asaas_status text not null,
    invoice_url text,
    paid_on date,
    updated_at timestamptz not null default now(),
    primary key (tenant_id, asaas_payment_id)
);
create unique index subscription_invoices_payment on subscription_invoices (asaas_payment_id);

-- One row per (invoice, step): a notice goes out once, however often the daily run repeats.
create table billing_notices (
    tenant_id uuid not null references tenants (id),
    asaas_payment_id text not null,
    step text not null check (step in ('first', 'second', 'final', 'suspended', 'reactivated')),
    sent_to text not null,
    sent_at timestamptz not null default now(),
    primary key (tenant_id, asaas_payment_id, step)
);

do $$
declare
    t text;
begin
    foreach t in array array['tenant_subscriptions', 'subscription_invoices', 'billing_notices'] loop
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
grant select, insert, update on tenant_subscriptions, subscription_invoices to assistec_app;

-- Shops that signed up before billing existed start a trial today on the first plan (the daily
-- run then creates their Asaas subscription). The owner reads past row-level security only here.
alter table tenants no force row level security;
alter table tenant_subscriptions no force row level security;
insert into tenant_subscriptions (tenant_id, plan_code, trial_ends_on)
select t.id, 'essencial', (now() at time zone 'America/Sao_Paulo')::date + 14 from tenants t;
alter table tenants force row level security;
alter table tenant_subscriptions force row level security;
grant select, insert on billing_notices to assistec_app;

-- The daily dunning and the platform webhook work across shops: a transaction that declares itself
-- the billing job may find which shop a subscription belongs to and which shops need attention
-- (the subscription rows only; everything else it does inside each shop's own transaction).
create policy billing on tenant_subscriptions for select to assistec_app
    using (current_setting('app.billing', true) = 'on');

-- Deliveries of the platform account's webhook (the shops' subscription payments): not a shop's
-- data until the consumer finds whose subscription it is.
create table platform_webhook_inbox (
    event_id text primary key check (length(event_id) between 1 and 200),
    event text not null,
    payment_id text,
    payload jsonb not null,
    received_at timestamptz not null default now(),
    processed_at timestamptz,
    outcome text,
    attempts integer not null default 0
);
create index platform_webhook_inbox_pending on platform_webhook_inbox (received_at) where processed_at is null;
grant select, insert, update on platform_webhook_inbox to assistec_app;
grant select on platform_webhook_inbox to assistec_ops;
