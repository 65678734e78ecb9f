-- Charges for orders through each shop's own Asaas account, and the inbox of Asaas webhooks.

-- The shop's Asaas account: its API key only as KMS ciphertext (context: the shop), the secret
-- part of its webhook URL, and the SHA-256 of the token Asaas sends back in asaas-access-token.
create table payment_accounts (
    tenant_id uuid primary key references tenants (id),
    environment text not null check (environment in ('sandbox', 'production')),
    api_key_ciphertext bytea not null,
    webhook_key text not null unique,
    webhook_token_hash bytea not null,
    version integer not null default 1,
    updated_at timestamptz not null default now()
);

-- Our customer as an Asaas customer of that shop: created once, reused.
create table asaas_customers (
    tenant_id uuid not null references tenants (id),
    customer_id uuid not null,
    asaas_id text not null,
    created_at timestamptz not null default now(),
    primary key (tenant_id, customer_id),
    foreign key (tenant_id, customer_id) references customers (tenant_id, id)
);

create table charges (
    id uuid primary key default gen_random_uuid(),
    tenant_id uuid not null references tenants (id),
    order_id uuid not null,
    attempt integer not null check (attempt > 0),
    -- "assistec:<order id>:<attempt>": Asaas's record carries it, so a retry finds the first try.
    external_reference text not null unique,
    billing_type text not null check (billing_type in ('PIX', 'BOLETO', 'CREDIT_CARD')),
    value_cents bigint not null check (value_cents > 0),
    due_date date not null,
    status text not null default 'pending' check (status in (
        'pending', 'overdue', 'paid', 'refunded', 'chargeback', 'cancelled')),
    asaas_payment_id text unique,
    asaas_status text,
    invoice_url text,
    pix_payload text,
    pix_qr_image text,
    boleto_line text,
    paid_cents bigint not null default 0 check (paid_cents >= 0),
    paid_at timestamptz,
    receipt_url text,
    version integer not null default 1,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    unique (tenant_id, id),
    unique (tenant_id, order_id, attempt),
    foreign key (tenant_id, order_id) references service_orders (tenant_id, id)
);
create index charges_tenant_order on charges (tenant_id, order_id);

-- What the order has received (sum of its paid charges), kept with the order.
alter table service_orders add column paid_cents bigint not null default 0 check (paid_cents >= 0);

-- Every webhook delivery, once per Asaas event id: the durable queue between ingress and effect.
create table webhook_inbox (
    tenant_id uuid not null references tenants (id),
    event_id text not null check (length(event_id) between 1 and 200),
    event text not null,
    payment_id text,
    payload jsonb not null,
    received_at timestamptz not null default now(),
    processed_at timestamptz,
    outcome text,
    attempts integer not null default 0,
    primary key (tenant_id, event_id)
);
create index webhook_inbox_pending on webhook_inbox (received_at) where processed_at is null;

do $$
declare
    t text;
begin
    foreach t in array array['payment_accounts', 'asaas_customers', 'charges', 'webhook_inbox'] loop
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
grant select, insert, update on payment_accounts, asaas_customers, charges, webhook_inbox to assistec_app;

-- The sweeper re-enqueues deliveries whose queue message was lost, for every shop: like the
-- outbox relay, a transaction that declares itself may read (and count attempts on) the inbox.
create policy sweeper on webhook_inbox for all to assistec_app
    using (current_setting('app.inbox_sweeper', true) = 'on')
    with check (current_setting('app.inbox_sweeper', true) = 'on');
