-- Devices left at the shop, and their photos (files in S3; rows here).

-- Composite keys so a child row can only point at a parent of its own shop.
alter table customers add constraint customers_tenant_id_key unique (tenant_id, id);
create table devices (
    id uuid primary key default gen_random_uuid(),
    tenant_id uuid not null references tenants (id),
    customer_id uuid not null,
    type text not null check (type in ('phone', 'tablet', 'computer', 'other')),
    brand text not null check (length(btrim(brand)) between 1 and 60),
    model text not null check (length(btrim(model)) between 1 and 120),
    serial text check (length(serial) between 1 and 60),
    imei char(15) check (imei ~ '^[0-9]{15}$'),
    condition text check (length(condition) <= 2000),
    accessories text[] not null default '{}' check (cardinality(accessories) <= 20),
    -- KMS ciphertext, bound to this shop and device by the encryption context; never stored in clear.
    unlock_code bytea,
    version integer not null default 1,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    -- The customer must belong to the same shop: the foreign key includes the tenant.
    foreign key (tenant_id, customer_id) references customers (tenant_id, id),
    unique (tenant_id, id)
);
create index devices_tenant_customer on devices (tenant_id, customer_id, created_at, id);
create index devices_tenant_imei on devices (tenant_id, imei) where imei is not null;

create table device_photos (
    id uuid primary key default gen_random_uuid(),
    tenant_id uuid not null references tenants (id),
    device_id uuid not null,
    s3_key text not null unique,
    content_type text not null check (content_type in ('image/jpeg', 'image/png', 'image/webp', 'image/heic')),
    created_at timestamptz not null default now(),
    foreign key (tenant_id, device_id) references devices (tenant_id, id)
);
create index device_photos_tenant_device on device_photos (tenant_id, device_id, created_at);

do $$
declare
    t text;
begin
    foreach t in array array['devices', 'device_photos'] loop
        execute format('alter table %I enable row level security', t);
        execute format('alter table %I force row level security', t);
        execute format(
            'create policy tenant_isolation on %I '
            'using (tenant_id = nullif(current_setting(''app.tenant_id'', true), '''')::uuid) '
            'with check (tenant_id = nullif(current_setting(''app.tenant_id'', true), '''')::uuid)',
            t
        );
        execute format('create policy ops_read on %I for select to assistec_ops using (true)', t);
        execute format('grant select, insert, update, delete on %I to assistec_app', t);
        execute format('grant select on %I to assistec_ops', t);
    end loop;
end
$$;
