-- Parts and stock, price and discount rules, quote templates, and versioned quotes with their
-- public approval links. Money is integer centavos everywhere.

create table parts (
    id uuid primary key default gen_random_uuid(),
    tenant_id uuid not null references tenants (id),
    sku text check (length(sku) between 1 and 60),
    name text not null check (length(btrim(name)) between 2 and 120),
    brand text check (length(brand) <= 60),
    model text check (length(model) <= 120),
    -- On the shelf (quantity) and promised to approved quotes (reserved): reserved never exceeds
    -- what is on the shelf and neither goes below zero, whatever runs concurrently.
    quantity integer not null default 0 check (quantity >= 0),
    reserved integer not null default 0 check (reserved >= 0 and reserved <= quantity),
    min_quantity integer not null default 0 check (min_quantity >= 0),
    cost_cents bigint not null default 0 check (cost_cents >= 0),
    price_cents bigint not null check (price_cents >= 0),
    version integer not null default 1,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    search_text text generated always as (
        lower(immutable_unaccent(name || ' ' || coalesce(brand, '') || ' ' || coalesce(model, '') || ' ' || coalesce(sku, '')))
    ) stored,
    unique (tenant_id, id)
);
create unique index parts_tenant_sku on parts (tenant_id, lower(sku)) where sku is not null;
create index parts_tenant_created on parts (tenant_id, created_at, id);
create index parts_tenant_search on parts using gin (tenant_id, search_text gin_trgm_ops);

-- Every change of a part's quantity or reservation, with its reason (the stock's audit trail).
create table stock_movements (
    id bigint generated always as identity,
    tenant_id uuid not null references tenants (id),
    part_id uuid not null,
    kind text not null check (kind in ('receive', 'adjust', 'reserve', 'release', 'consume')),
    quantity integer not null,
    order_id uuid,
    note text check (length(note) <= 500),
    actor_user_id uuid,
    at timestamptz not null default now(),
    primary key (tenant_id, id),
    foreign key (tenant_id, part_id) references parts (tenant_id, id),
    foreign key (tenant_id, order_id) references service_orders (tenant_id, id)
);
create index stock_movements_tenant_part on stock_movements (tenant_id, part_id, at);

-- Service prices: device type x brand x model, most specific wins; brand and model null = fallback.
create table price_rules (
    id uuid primary key default gen_random_uuid(),
    tenant_id uuid not null references tenants (id),
    service text not null check (length(btrim(service)) between 2 and 120),
    device_type text not null check (device_type in ('phone', 'tablet', 'computer', 'other')),
    brand text check (length(brand) between 1 and 60),
    model text check (length(model) between 1 and 120),
    price_cents bigint not null check (price_cents >= 0),
    version integer not null default 1,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    check (model is null or brand is not null)
);
create unique index price_rules_tenant_key on price_rules (
    tenant_id, lower(service), device_type, lower(coalesce(brand, '')), lower(coalesce(model, '')));

-- Discounts a shop grants; today: loyal customers (registered at least N days ago).
create table discount_rules (
    id uuid primary key default gen_random_uuid(),
    tenant_id uuid not null references tenants (id),
    name text not null check (length(btrim(name)) between 2 and 120),
    kind text not null check (kind in ('customer_since_days')),
    min_days integer not null check (min_days between 1 and 36500),
    percent numeric(5, 2) not null check (percent > 0 and percent <= 100),
    active boolean not null default true,
    version integer not null default 1,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);
create index discount_rules_tenant on discount_rules (tenant_id) where active;

-- The shop's quote message; no row = the built-in template.
create table quote_templates (
    tenant_id uuid primary key references tenants (id),
    body text not null check (length(body) between 10 and 4000),
    validity_days integer not null default 7 check (validity_days between 1 and 90),
    version integer not null default 1,
    updated_at timestamptz not null default now()
);

create table quotes (
    id uuid primary key default gen_random_uuid(),
    tenant_id uuid not null references tenants (id),
    order_id uuid not null,
    version integer not null check (version > 0),
    status text not null default 'pending'
        check (status in ('pending', 'approved', 'rejected', 'superseded')),
    lines jsonb not null check (jsonb_typeof(lines) = 'array'),
    subtotal_cents bigint not null check (subtotal_cents >= 0),
    discount_cents bigint not null default 0 check (discount_cents >= 0 and discount_cents <= subtotal_cents),
    discount_rule text,
    total_cents bigint not null check (total_cents = subtotal_cents - discount_cents),
    deadline_days integer not null check (deadline_days between 0 and 365),
    valid_until date not null,
    rendered_text text not null,
    public_token text not null unique,
    public_expires_at timestamptz not null,
    decided_at timestamptz,
    decided_name text check (length(decided_name) <= 120),
    decided_ip text,
    decided_user_agent text check (length(decided_user_agent) <= 500),
    decided_via text check (decided_via in ('link', 'staff')),
    decided_by uuid,
    created_by uuid,
    created_at timestamptz not null default now(),
    unique (tenant_id, order_id, version),
    unique (tenant_id, id),
    foreign key (tenant_id, order_id) references service_orders (tenant_id, id),
    check ((status in ('approved', 'rejected')) = (decided_at is not null))
);
create unique index quotes_one_pending on quotes (tenant_id, order_id) where status = 'pending';
create index quotes_tenant_order on quotes (tenant_id, order_id, version desc);

-- What an approved quote holds on the shelf, per part; consumed when the repair starts, released
-- when the order is cancelled.
create table reservations (
    id uuid primary key default gen_random_uuid(),
    tenant_id uuid not null references tenants (id),
    order_id uuid not null,
    quote_id uuid not null,
    part_id uuid not null,
    needed integer not null check (needed > 0),
    reserved integer not null default 0 check (reserved >= 0 and reserved <= needed),
    state text not null default 'open' check (state in ('open', 'consumed', 'released')),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    unique (tenant_id, quote_id, part_id),
    foreign key (tenant_id, order_id) references service_orders (tenant_id, id),
    foreign key (tenant_id, quote_id) references quotes (tenant_id, id),
    foreign key (tenant_id, part_id) references parts (tenant_id, id)
);
create index reservations_tenant_order on reservations (tenant_id, order_id) where state = 'open';

-- The shop's logo on the public pages (an https URL the shop hosts).
alter table tenant_settings add column logo_url text check (logo_url ~ '^https://' and length(logo_url) <= 500);

do $$
declare
    t text;
begin
    foreach t in array array['parts', 'stock_movements', 'price_rules', 'discount_rules', 'quote_templates',
                             'quotes', 'reservations'] loop
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
grant select, insert, update, delete on parts, price_rules, discount_rules, quote_templates to assistec_app;
grant select, insert, update on quotes, reservations to assistec_app;
grant select, insert on stock_movements to assistec_app;
