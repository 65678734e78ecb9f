-- Restoring a shop in place needs a permit from the ops role (issue 13 §5, the ops console).
--
-- Migration 0031's backup_restore_clear deletes a shop's rows from tables the app role may never
-- delete from (orders, quotes, charges...). Its only caller is the in-place restore
-- (services/backup/restore.py), which must run as the app role: it writes the bundle's rows back in
-- the shop's own transaction, where row-level security checks every row written. So EXECUTE on it
-- cannot simply move to another role. What changes is that the app role alone can no longer use it:
-- the API and every worker connect as the app role, and an injected statement there could otherwise
-- empty a shop's orders. Each restore now needs a permit that only the ops role issues (the ops
-- console's function holds its credentials; the API and the workers do not): for one shop, used by
-- one transaction, valid for minutes. Without a used permit in the current transaction, clearing a
-- table (and advancing the identities) is refused with permission denied (42501).
--
-- The permit's token is known only to whoever asked for it (the table keeps its SHA-256).

create table backup_restore_permits (
    id bigint generated always as identity primary key,
    -- The shop it lets be restored (no foreign key: a record, like ops_audit; never a shop's data).
    shop_id uuid not null,
    token_sha256 bytea not null unique check (octet_length(token_sha256) = 32),
    -- Who asked (the operator's AWS identity, as the console passes it).
    operator text not null check (length(btrim(operator)) between 1 and 512),
    created_at timestamptz not null default now(),
    expires_at timestamptz not null,
    -- The transaction that used it (once; a restore rolled back leaves it unused).
    used_at timestamptz,
    used_by xid8,
    check ((used_at is null) = (used_by is null))
);
revoke all on backup_restore_permits from public;
grant select on backup_restore_permits to assistec_ops;

-- A permit for one restore of p_shop (the caller keeps the token; the table its SHA-256); when it
-- expires. Only the ops role may issue one. Permits older than 30 days are dropped meanwhile.
create function backup_restore_permit(p_shop uuid, p_token_sha256 bytea, p_operator text)
returns timestamptz
language plpgsql volatile security definer
set search_path = pg_catalog, public
as $$
declare
    v_expires timestamptz := now() + interval '20 minutes';
begin
    if not exists (select 1 from public.tenants where id = p_shop) then
        raise exception 'no shop %', p_shop using errcode = '22023';
    end if;
    delete from public.backup_restore_permits where expires_at < now() - interval '30 days';
    insert into public.backup_restore_permits (shop_id, token_sha256, operator, expires_at)
    values (p_shop, p_token_sha256, p_operator, v_expires);
    return v_expires;
end
$$;

-- Use a permit in the current shop's transaction (the app role, at the start of a restore): refused
-- unless it is this shop's, unused and not expired.
create function backup_restore_begin(p_token text) returns void
language plpgsql volatile security definer
set search_path = pg_catalog, public
as $$
declare
    v_tenant uuid := nullif(current_setting('app.tenant_id', true), '')::uuid;
begin
    if v_tenant is null then
        raise exception 'backup_restore_begin needs a shop''s transaction' using errcode = '42501';
    end if;
    update public.backup_restore_permits
    set used_at = now(), used_by = pg_current_xact_id()
    where token_sha256 = sha256(convert_to(p_token, 'UTF8')) and shop_id = v_tenant
      and used_at is null and expires_at > now();
    if not found then
        raise exception 'permission denied: no valid restore permit for this shop' using errcode = '42501';
    end if;
end
$$;

-- Whether the current transaction used a permit for the current shop.
create function backup_restore_permitted(p_tenant uuid) returns boolean
language sql stable security definer
set search_path = pg_catalog, public
as $$
    select exists (select 1 from public.backup_restore_permits
                   where shop_id = p_tenant and used_by = pg_current_xact_id())
$$;

-- Migration 0031's two functions, the same but for the permit (CREATE OR REPLACE keeps their owner
-- and grants: executable by the app role only).
create or replace function backup_restore_clear(p_table text) returns bigint
language plpgsql volatile security definer
set search_path = pg_catalog, public
as $$
declare
    v_tenant uuid := nullif(current_setting('app.tenant_id', true), '')::uuid;
    v_count bigint;
begin
    if v_tenant is null then
        raise exception 'backup_restore_clear needs a shop''s transaction' using errcode = '42501';
    end if;
    if not public.backup_restore_permitted(v_tenant) then
        raise exception 'permission denied for backup_restore_clear: no restore permit used in this transaction'
            using errcode = '42501';
    end if;
    if p_table in ('tenants', 'audit_log', 'outbox', 'webhook_inbox', 'whatsapp_inbox', 'tenant_subscriptions',
                   'subscription_invoices', 'billing_notices', 'backup_runs') then
        raise exception 'a restore never clears %', p_table using errcode = '42501';
    end if;
    if not exists (
        select 1 from pg_class c
        join pg_namespace n on n.oid = c.relnamespace
        join pg_attribute a on a.attrelid = c.oid and a.attname = 'tenant_id' and not a.attisdropped
        where n.nspname = 'public' and c.relname = p_table and c.relkind = 'r'
          and c.relrowsecurity and c.relforcerowsecurity
    ) then
        raise exception '% is not a tenant table', p_table using errcode = '42501';
    end if;
    execute format('delete from public.%I where tenant_id = $1', p_table) using v_tenant;
    get diagnostics v_count = row_count;
    return v_count;
end
$$;

create or replace function backup_advance_identities() returns void
language plpgsql volatile security definer
set search_path = pg_catalog, public
as $$
declare
    v_tenant uuid := nullif(current_setting('app.tenant_id', true), '')::uuid;
    r record;
    v_seq regclass;
    v_max bigint;
begin
    if v_tenant is null then
        raise exception 'backup_advance_identities needs a shop''s transaction' using errcode = '42501';
    end if;
    if not public.backup_restore_permitted(v_tenant) then
        raise exception 'permission denied for backup_advance_identities: no restore permit used'
            using errcode = '42501';
    end if;
    for r in
        select c.relname, a.attname from pg_class c
        join pg_namespace n on n.oid = c.relnamespace
        join pg_attribute a on a.attrelid = c.oid and a.attidentity <> '' and not a.attisdropped
        where n.nspname = 'public' and c.relkind = 'r'
          and exists (select 1 from pg_attribute t
                      where t.attrelid = c.oid and t.attname = 'tenant_id' and not t.attisdropped)
    loop
        v_seq := pg_get_serial_sequence(format('public.%I', r.relname), r.attname)::regclass;
        execute format('select max(%I) from public.%I where tenant_id = $1', r.attname, r.relname)
            into v_max using v_tenant;
        if v_max is not null and v_max > coalesce(pg_sequence_last_value(v_seq), 0) then
            perform setval(v_seq, v_max);
        end if;
    end loop;
end
$$;

revoke all on function backup_restore_permit(uuid, bytea, text) from public;
grant execute on function backup_restore_permit(uuid, bytea, text) to assistec_ops;
revoke all on function backup_restore_begin(text) from public;
grant execute on function backup_restore_begin(text) to assistec_app;
revoke all on function backup_restore_permitted(uuid) from public;
