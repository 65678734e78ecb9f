-- Reports to ops (issue 13 §4): a daily backup status, a weekly performance summary and a monthly
-- capacity report, e-mailed by the ops reports function (the metrics come from the stage's dashboard;
-- what only the database knows comes from here). Every read crosses shops, so it runs in a narrow
-- SECURITY DEFINER function (owned by the migrator, search_path pinned, executable by the app role
-- only); the app role has no privilege on the snapshots' table.
--
-- ops_backup_status reads backup_runs, the backup capability's table (its own migration, merged
-- before this one). It is PL/pgSQL so that it can be created before that table exists: the body is
-- checked when called, and on a database without backups it fails with "relation backup_runs does
-- not exist", which the daily report shows as its backup section's reason. It reads backup_runs
-- through that migration's definer_access policy (the migrator reads every shop's runs).

-- One row per day: the database's size and what fills it, taken by the daily report's first run of
-- the day (a second run of the day changes nothing). The monthly report compares today's with the
-- one of 30 days before. Platform data, no shop's: a global table (ops read it).
create table capacity_snapshots (
    taken_on date primary key,
    database_bytes bigint not null check (database_bytes >= 0),
    shops integer not null check (shops >= 0),
    orders bigint not null check (orders >= 0),
    taken_at timestamptz not null default now()
);
grant select on capacity_snapshots to assistec_ops;

-- The busiest shops' orders are counted across shops: the migrator reads them (as it reads
-- wa_messages since 0025, tenants and subscriptions since 0015).
do $$
begin
    execute format('create policy definer_access on service_orders for select to %I using (true)', current_user);
end
$$;

-- Today's snapshot, taken if the day has none yet; the day's snapshot either way.
create function ops_take_capacity_snapshot(p_day date)
returns table (taken_on date, database_bytes bigint, shops integer, orders bigint)
language plpgsql volatile security definer
set search_path = pg_catalog, public
as $$
#variable_conflict use_column
begin
    insert into public.capacity_snapshots (taken_on, database_bytes, shops, orders)
    select p_day, pg_database_size(current_database()),
           (select count(*) from public.tenants), (select count(*) from public.service_orders)
    on conflict do nothing;
    return query
        select c.taken_on, c.database_bytes, c.shops, c.orders
        from public.capacity_snapshots c where c.taken_on = p_day;
end
$$;

-- The newest snapshot taken on or before p_day (none: no history that old yet).
create function ops_capacity_on_or_before(p_day date)
returns table (taken_on date, database_bytes bigint, shops integer, orders bigint)
language sql stable security definer
set search_path = pg_catalog, public
as $$
    select c.taken_on, c.database_bytes, c.shops, c.orders
    from public.capacity_snapshots c where c.taken_on <= p_day
    order by c.taken_on desc limit 1
$$;

-- Every shop the backups cover (all but those cancelled more than 35 days ago: the backup
-- capability's rule, backup_shops) with its latest run, its newest good bundle's end and its newest
-- restore test; the shops whose latest run is not good (failed, or none yet) first, then the longest
-- since their latest run. shops_total: how many shops there are in all (the report says when p_limit
-- cut the list).
create function ops_backup_status(p_limit integer)
returns table (tenant_id uuid, shop_name text, run_date date, status text, bytes bigint, error text,
               last_ok_at timestamptz, restore_checked_at timestamptz, restore_error text,
               shops_total bigint)
language plpgsql stable security definer
set search_path = pg_catalog, public
as $$
#variable_conflict use_column
begin
    return query
        select t.id, t.name, l.run_date, l.status, l.bytes, l.error, ok.finished_at,
               rc.restore_checked_at, rc.restore_error, count(*) over ()
        from public.tenants t
        left join public.tenant_subscriptions s on s.tenant_id = t.id
        left join lateral (
            select b.run_date, b.status, b.bytes, b.error from public.backup_runs b
            where b.tenant_id = t.id order by b.run_date desc limit 1
        ) l on true
        left join lateral (
            select max(b.finished_at) as finished_at from public.backup_runs b
            where b.tenant_id = t.id and b.status = 'ok'
        ) ok on true
        left join lateral (
            select b.restore_checked_at, b.restore_error from public.backup_runs b
            where b.tenant_id = t.id and b.restore_checked_at is not null
            order by b.restore_checked_at desc limit 1
        ) rc on true
        where t.billing_status <> 'cancelled' or s.cancelled_at is null
              or s.cancelled_at > now() - interval '35 days'
        order by (l.status is distinct from 'ok') desc, l.run_date nulls first, t.name, t.id
        limit p_limit;
end
$$;

-- The shops with the most orders created, and those with the most WhatsApp messages (in and out),
-- in [p_from, p_to): the top p_limit of either ranking (ties by name), with both counts.
create function ops_busiest_shops(p_from timestamptz, p_to timestamptz, p_limit integer)
returns table (tenant_id uuid, shop_name text, orders bigint, whatsapp_messages bigint)
language sql stable security definer
set search_path = pg_catalog, public
as $$
    with o as (
        select so.tenant_id, count(*) as n from public.service_orders so
        where so.created_at >= p_from and so.created_at < p_to group by so.tenant_id
    ), w as (
        select m.tenant_id, count(*) as n from public.wa_messages m
        where m.created_at >= p_from and m.created_at < p_to group by m.tenant_id
    ), counted as (
        select t.id, t.name, coalesce(o.n, 0) as orders, coalesce(w.n, 0) as messages
        from o full join w on w.tenant_id = o.tenant_id
        join public.tenants t on t.id = coalesce(o.tenant_id, w.tenant_id)
    ), ranked as (
        select c.*, row_number() over (order by c.orders desc, c.name, c.id) as by_orders,
               row_number() over (order by c.messages desc, c.name, c.id) as by_messages
        from counted c
    )
    select r.id, r.name, r.orders, r.messages from ranked r
    where (r.by_orders <= p_limit and r.orders > 0) or (r.by_messages <= p_limit and r.messages > 0)
    order by r.orders desc, r.messages desc, r.name, r.id
$$;

do $$
declare
    f text;
begin
    foreach f in array array[
        'ops_take_capacity_snapshot(date)', 'ops_capacity_on_or_before(date)',
        'ops_backup_status(integer)', 'ops_busiest_shops(timestamptz, timestamptz, integer)'] loop
        execute format('revoke all on function %s from public', f);
        execute format('grant execute on function %s to assistec_app', f);
    end loop;
end
$$;
