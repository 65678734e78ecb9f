-- Backups a shop can restore (issue 13 §3): the record of each shop's daily bundle, and the narrow
-- SECURITY DEFINER functions (owned by the migrator, search_path pinned, executable by the app role
-- only) the backup flow needs across shops or beyond the app role's grants.
--
-- The bundle itself (services/backup) is read by the app role inside one read-only REPEATABLE READ
-- transaction of the shop: row-level security decides what is in it. A restore writes as the app
-- role in one transaction of the shop; only the two steps the app role's grants do not cover go
-- through functions here, and both act on the shop of the current transaction alone.

-- One row per shop and day: the outcome of that day's export (a re-run of the day updates a failed
-- row; a good one is never replaced: its bundle is in S3 under the same key).
create table backup_runs (
    tenant_id uuid not null references tenants (id),
    run_date date not null,
    status text not null check (status in ('ok', 'failed')),
    bundle_id uuid,
    s3_key text check (length(s3_key) <= 300),
    bytes bigint check (bytes >= 0),
    rows bigint check (rows >= 0),
    manifest_sha256 bytea check (octet_length(manifest_sha256) = 32),
    schema_version integer,
    retention text check (retention in ('daily', 'weekly', 'monthly')),
    copied boolean not null default false,
    error text check (length(error) <= 500),
    started_at timestamptz not null,
    finished_at timestamptz not null default now(),
    -- The weekly restore test of this bundle: when, and what it found (null error: it matched).
    restore_checked_at timestamptz,
    restore_error text check (length(restore_error) <= 500),
    primary key (tenant_id, run_date),
    check ((status = 'ok') = (s3_key is not null and bundle_id is not null and manifest_sha256 is not null))
);
create index backup_runs_ok on backup_runs (tenant_id, finished_at desc) where status = 'ok';

alter table backup_runs enable row level security;
alter table backup_runs force row level security;
create policy tenant_isolation on backup_runs
    using (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
    with check (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);
create policy ops_read on backup_runs for select to assistec_ops using (true);
grant select on backup_runs to assistec_ops;
grant select, insert, update on backup_runs to assistec_app;

-- The definer functions below read backup_runs across shops as their owner (the migrator).
do $$
begin
    execute format('create policy definer_access on backup_runs for select to %I using (true)', current_user);
end
$$;

-- A restore deletes every row of the shop, parents after children: each parent row deleted makes
-- PostgreSQL look for rows still pointing at it, through an index on the foreign key's columns when
-- there is one, else through all of the shop's rows of the child table (all of them, once per parent
-- row: an order's stock movements, reservations, status notices, appointments...). These foreign keys
-- had no such index; with them a restore's deletes are linear in the shop's size, not quadratic.
create index stock_movements_tenant_order on stock_movements (tenant_id, order_id) where order_id is not null;
create index reservations_tenant_order_all on reservations (tenant_id, order_id);
create index reservations_tenant_part on reservations (tenant_id, part_id);
create index wa_conversations_tenant_customer on wa_conversations (tenant_id, customer_id) where customer_id is not null;
create index wa_status_notices_tenant_order on wa_status_notices (tenant_id, order_id);
create index appointments_tenant_device on appointments (tenant_id, device_id) where device_id is not null;
create index appointments_tenant_order on appointments (tenant_id, order_id) where order_id is not null;
create index service_orders_tenant_device on service_orders (tenant_id, customer_id, device_id);

-- --- which shops are backed up --------------------------------------------------------------------
-- Every shop, except those cancelled more than 35 days ago: a cancelled shop cannot change its data,
-- and its last month of bundles (the last monthly one included) outlives it by the bucket's
-- retention. Ids only, in id order, a page at a time (p_after: the last id of the previous page).
create function backup_shops(p_after uuid, p_limit integer) returns setof uuid
language sql stable security definer
set search_path = pg_catalog, public
as $$
    select t.id from public.tenants t
    left join public.tenant_subscriptions s on s.tenant_id = t.id
    where (t.billing_status <> 'cancelled'
           or s.cancelled_at is null
           or s.cancelled_at > now() - interval '35 days')
      and (p_after is null or t.id > p_after)
    order by t.id
    limit p_limit
$$;

-- The age in hours of the oldest "newest good bundle" among the shops backed up (a shop with no good
-- bundle yet counts from its signup): the BackupAgeHours metric, one number for the alarm.
create function backup_age_hours() returns double precision
language sql stable security definer
set search_path = pg_catalog, public
as $$
    select coalesce(max(extract(epoch from now() - coalesce(r.last_ok, t.created_at)) / 3600.0), 0)::double precision
    from public.tenants t
    left join public.tenant_subscriptions s on s.tenant_id = t.id
    left join lateral (
        select max(b.finished_at) as last_ok from public.backup_runs b
        where b.tenant_id = t.id and b.status = 'ok'
    ) r on true
    where t.billing_status <> 'cancelled' or s.cancelled_at is null or s.cancelled_at > now() - interval '35 days'
$$;

-- The shops backed up (and signed up by the end of the day) that have no good bundle of the day: the
-- finish step's failures when the flow hands it no results (a Map's results outgrow a state's
-- 256 KB past a few thousand shops).
create function backup_day_missing(p_day date) returns setof uuid
language sql stable security definer
set search_path = pg_catalog, public
as $$
    select t.id from public.tenants t
    left join public.tenant_subscriptions s on s.tenant_id = t.id
    where (t.billing_status <> 'cancelled' or s.cancelled_at is null or s.cancelled_at > now() - interval '35 days')
      and t.created_at < ((p_day + 1)::timestamp at time zone 'America/Sao_Paulo')
      and not exists (select 1 from public.backup_runs b
                      where b.tenant_id = t.id and b.run_date = p_day and b.status = 'ok')
    order by t.id
$$;

-- The weekly restore test: each shop's newest good bundle, the shops tested longest ago (never first).
create function backup_restore_candidates(p_limit integer)
returns table (tenant_id uuid, run_date date, s3_key text)
language sql stable security definer
set search_path = pg_catalog, public
as $$
    select l.tenant_id, l.run_date, l.s3_key from (
        select distinct on (b.tenant_id) b.tenant_id, b.run_date, b.s3_key,
            (select max(c.restore_checked_at) from public.backup_runs c where c.tenant_id = b.tenant_id)
                as checked_at
        from public.backup_runs b
        where b.status = 'ok'
        order by b.tenant_id, b.run_date desc
    ) l
    order by l.checked_at nulls first, l.tenant_id
    limit p_limit
$$;

-- --- restore: what the app role's grants do not cover -----------------------------------------------
-- The app role may not delete from most tables (orders, quotes, charges, transitions... are never
-- deleted in normal work). A restore empties the shop's rows of one table before writing the
-- bundle's back: only in a shop's transaction, only that shop's rows (explicitly, whatever the
-- policies), only a tenant table of schema public with row-level security forced, and never one of
-- the ledgers a restore keeps (the audit log, the event outbox, the providers' inboxes, the
-- platform's billing records, the backups' own record).
create function backup_restore_clear(p_table text) returns bigint
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

-- Identity columns (audit_log, order_transitions, stock_movements, reconciliation_mismatches) draw
-- from one sequence for every shop. The ids a restore writes back came from that sequence, so it is
-- normally past them already; after the database itself went back in time (a point-in-time recovery
-- older than the bundle) it is not. Moves each sequence forward to the current shop's highest id,
-- never backwards.
create function backup_advance_identities() returns void
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

do $$
declare
    f text;
begin
    foreach f in array array[
        'backup_shops(uuid, integer)', 'backup_age_hours()', 'backup_day_missing(date)',
        'backup_restore_candidates(integer)',
        'backup_restore_clear(text)', 'backup_advance_identities()'] loop
        execute format('revoke all on function %s from public', f);
        execute format('grant execute on function %s to assistec_app', f);
    end loop;
end
$$;

-- --- the weekly restore test's scratch space ----------------------------------------------------------
-- The restore test writes a bundle back into tables of its own (LIKE the public ones, no foreign keys)
-- and exports them again to compare with the manifest. It runs as the ops role, which reads every
-- shop already and writes nowhere else: here it may create tables, in this schema only (on nobody's
-- search_path, so nothing there can stand in for the app's objects).
create schema backup_restore;
revoke all on schema backup_restore from public;
grant usage, create on schema backup_restore to assistec_ops;
