-- Tenancy: shops (tenants), their users, refresh tokens, settings and the audit log.
--
-- Isolation rule of the house plan: every tenant table has row-level security ENABLED and FORCED,
-- with USING and WITH CHECK on the transaction-local setting app.tenant_id (set by tenant_tx with
-- set_config(..., true), never a session SET). With no tenant set, nothing is visible.

create table tenants (
    id uuid primary key,
    name text not null check (length(btrim(name)) between 2 and 120),
    -- Alphanumeric CNPJs (Receita Federal, from July 2026): 12 characters [0-9A-Z] + 2 check digits.
    cnpj char(14) not null unique check (cnpj ~ '^[0-9A-Z]{12}[0-9]{2}$'),
    email citext not null check (length(email) <= 254),
    phone text not null check (phone ~ '^\+[1-9][0-9]{7,14}$'),
    billing_status text not null default 'trial'
        check (billing_status in ('trial', 'active', 'past_due', 'suspended', 'cancelled')),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

create table users (
    id uuid primary key default gen_random_uuid(),
    tenant_id uuid not null references tenants (id),
    email citext not null unique check (length(email) <= 254),
    name text not null check (length(btrim(name)) between 2 and 120),
    password_hash text not null,
    role text not null check (role in ('owner', 'admin', 'technician', 'attendant')),
    active boolean not null default true,
    version integer not null default 1,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);
create index users_tenant_created on users (tenant_id, created_at, id);
-- Exactly one owner per shop.
create unique index users_one_owner on users (tenant_id) where role = 'owner';

create table refresh_tokens (
    id uuid primary key default gen_random_uuid(),
    tenant_id uuid not null references tenants (id),
    user_id uuid not null references users (id),
    family_id uuid not null,
    token_hash bytea not null unique,
    expires_at timestamptz not null,
    revoked_at timestamptz,
    created_at timestamptz not null default now()
);
create index refresh_tokens_tenant_family on refresh_tokens (tenant_id, family_id);
create index refresh_tokens_tenant_user on refresh_tokens (tenant_id, user_id);

create table tenant_settings (
    tenant_id uuid primary key references tenants (id),
    timezone text not null default 'America/Sao_Paulo',
    business_hours jsonb not null,
    welcome_message text not null check (length(welcome_message) <= 1000),
    out_of_hours_message text not null check (length(out_of_hours_message) <= 1000),
    version integer not null default 1,
    updated_at timestamptz not null default now()
);

create table audit_log (
    id bigint generated always as identity,
    tenant_id uuid not null references tenants (id),
    actor_user_id uuid,
    action text not null,
    entity text not null,
    entity_id text not null,
    changes jsonb not null default '{}'::jsonb,
    correlation_id text,
    at timestamptz not null default now(),
    primary key (tenant_id, id)
);
create index audit_log_tenant_entity on audit_log (tenant_id, entity, entity_id, at desc);
create index audit_log_tenant_at on audit_log (tenant_id, at desc, id desc);

-- Failed logins, keyed by a hash of the e-mail so the table holds no addresses. Pre-auth: no tenant.
create table login_failures (
    email_hash bytea not null,
    at timestamptz not null default now()
);
create index login_failures_email_at on login_failures (email_hash, at desc);

-- Row-level security.
alter table tenants enable row level security;
alter table tenants force row level security;
create policy tenant_isolation on tenants
    using (id = nullif(current_setting('app.tenant_id', true), '')::uuid)
    with check (id = nullif(current_setting('app.tenant_id', true), '')::uuid);

do $$
declare
    t text;
begin
    foreach t in array array['users', 'refresh_tokens', 'tenant_settings', 'audit_log'] loop
        execute format('alter table %I enable row level security', t);
        execute format('alter table %I force row level security', t);
        execute format(
            'create policy tenant_isolation on %I '
            'using (tenant_id = nullif(current_setting(''app.tenant_id'', true), '''')::uuid) '
            'with check (tenant_id = nullif(current_setting(''app.tenant_id'', true), '''')::uuid)',
            t
        );
    end loop;
end
$$;

-- Login happens before the tenant is known: this read-only policy shows exactly the one user whose
-- e-mail the transaction names in app.login_email, and nothing else.
create policy login_lookup on users for select
    using (email = nullif(current_setting('app.login_email', true), '')::citext);

-- The audit log is append-only for the app.
grant select, insert, update, delete on tenants, users, refresh_tokens, tenant_settings to assistec_app;
grant select, insert on audit_log to assistec_app;
grant select, insert, delete on login_failures to assistec_app;
