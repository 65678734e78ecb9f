-- Customers of a shop. One customer per phone number and shop: phones are stored in canonical E.164
-- (Brazilian mobiles always with their ninth digit), so both spellings of a number meet here.

create extension if not exists btree_gin;  -- lets tenant_id lead the trigram index too

-- unaccent() is STABLE (it reads a dictionary); an index needs an IMMUTABLE wrapper bound to it.
create function immutable_unaccent(text) returns text
    language sql immutable parallel safe strict
    return public.unaccent('public.unaccent'::regdictionary, $1);

create table customers (
    id uuid primary key default gen_random_uuid(),
    tenant_id uuid not null references tenants (id),
    name text not null check (length(btrim(name)) between 2 and 120),
    phone text not null check (phone ~ '^\+[1-9][0-9]{7,14}$'),
    document text check (document ~ '^([0-9]{11}|[0-9A-Z]{12}[0-9]{2})$'),
    email citext check (length(email) <= 254),
    address jsonb,
    notes text check (length(notes) <= 2000),
    version integer not null default 1,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    search_name text generated always as (lower(immutable_unaccent(name))) stored
);
create unique index customers_tenant_phone on customers (tenant_id, phone);
create unique index customers_tenant_document on customers (tenant_id, document) where document is not null;
create index customers_tenant_created on customers (tenant_id, created_at, id);
create index customers_tenant_search_name on customers using gin (tenant_id, search_name gin_trgm_ops);
create index customers_tenant_phone_prefix on customers (tenant_id, phone text_pattern_ops);

alter table customers enable row level security;
alter table customers force row level security;
create policy tenant_isolation on customers
    using (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
    with check (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);
create policy ops_read on customers for select to assistec_ops using (true);

grant select, insert, update, delete on customers to assistec_app;
grant select on customers to assistec_ops;
