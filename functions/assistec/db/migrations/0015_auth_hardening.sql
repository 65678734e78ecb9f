-- Auth and least privilege (issue 10 §5).
--
-- 1. Login throttling that holds under concurrency: an attempt is reserved (a row, under an
--    advisory lock on its key) before the password is checked, so parallel guesses cannot all read
--    "4 failures so far". The key is the e-mail AND the source address: a guesser elsewhere cannot
--    lock the owner's own address out. Rows older than the window are purged as logins go by.
-- 2. Every cross-shop read or write the app needs runs inside a narrow SECURITY DEFINER function
--    owned by the migrator (a role the app cannot become), with a pinned search_path; the policies
--    that opened tables to a transaction setting a flag (app.login_email, app.inbox_sweeper,
--    app.outbox_relay, app.billing) are dropped: the app role could set any of them itself, so they
--    protected nothing against it. (app.reconciler stays until the reconciliation's fan-out query
--    of migration 0017 moves into such a function too.)
-- 3. The app role cannot set a shop's billing_status with a plain UPDATE (only through
--    set_billing_status, which acts on the shop of the current transaction), and has no TEMP.
-- 4. enter_user: the shop's entry statement for a signed-in user's request also checks that the
--    user is still active and the session (refresh-token family) the access token belongs to is
--    still open, and returns the user's current role: logout, deactivation and demotion take
--    effect on the next request, at no extra round trip.

-- The migrator owns the tables, and their row-level security is FORCED: the definer functions
-- below (owned by the migrator) see rows through these policies, which apply to the migrator alone.
do $$
declare
    t text;
begin
    foreach t in array array['users', 'webhook_inbox', 'outbox', 'tenant_subscriptions', 'tenants'] loop
        execute format('create policy definer_access on %I for all to %I using (true) with check (true)',
                       t, current_user);
    end loop;
end
$$;

-- --- login throttle ------------------------------------------------------------------------------
drop table login_failures;

-- One row per login attempt evaluated (a reservation; a success deletes its key's rows). The key
-- is SHA-256 of the e-mail and the source address: no addresses are stored.
create table login_attempts (
    key bytea not null,
    at timestamptz not null default now()
);
create index login_attempts_key_at on login_attempts (key, at);
create index login_attempts_at on login_attempts (at);
grant select on login_attempts to assistec_ops;

-- Reserve one attempt for ``p_key``: 0 when reserved (the caller may check the password now), else
-- the seconds until the oldest attempt in the window leaves it. Serialized per key by an advisory
-- transaction lock, so at most ``p_max`` attempts per window are ever evaluated.
create function login_reserve(p_key bytea, p_max integer, p_window_s integer) returns integer
language plpgsql volatile security definer
set search_path = pg_catalog, public
as $$
declare
    v_count integer;
    v_oldest timestamptz;
    v_window interval := make_interval(secs => p_window_s);
begin
    perform pg_advisory_xact_lock(hashtextextended('login:' || encode(p_key, 'hex'), 0));
    delete from public.login_attempts where key = p_key and at <= now() - v_window;
    select count(*), min(at) into v_count, v_oldest from public.login_attempts where key = p_key;
    if v_count >= p_max then
        return greatest(1, ceil(extract(epoch from (v_oldest + v_window) - clock_timestamp())))::integer;
    end if;
    insert into public.login_attempts (key) values (p_key);
    -- Purge a bounded batch of other keys' expired rows (keys nobody tries again).
    delete from public.login_attempts where ctid = any(array(
        select ctid from public.login_attempts where at <= now() - v_window
        limit 100 for update skip locked));
    return 0;
end
$$;

-- A successful login forgets its key's attempts.
create function login_clear(p_key bytea) returns void
language sql volatile security definer
set search_path = pg_catalog, public
as $$
    delete from public.login_attempts where key = p_key;
$$;

-- The one user with this e-mail, across shops (login happens before the shop is known).
create function login_lookup(p_email text)
returns table (id uuid, tenant_id uuid, password_hash text, role text, active boolean)
language sql stable security definer
set search_path = pg_catalog, public
as $$
    select u.id, u.tenant_id, u.password_hash, u.role, u.active
    from public.users u where u.email = p_email::public.citext;
$$;
drop policy login_lookup on users;

-- --- the webhook inbox sweeper -------------------------------------------------------------------
-- Unapplied deliveries older than p_older_than_s, each counted as swept once more (see
-- db/payments.py stale); returns which to enqueue again.
create function sweep_webhook_inbox(p_older_than_s integer, p_limit integer, p_max_sweeps integer)
returns table (tenant_id uuid, event_id text)
language sql volatile security definer
set search_path = pg_catalog, public
as $$
    update public.webhook_inbox w set attempts = w.attempts + 1
    where (w.tenant_id, w.event_id) in (
        select i.tenant_id, i.event_id from public.webhook_inbox i
        where i.processed_at is null and i.attempts < p_max_sweeps
          and i.received_at < now() - make_interval(secs => p_older_than_s)
        order by i.received_at limit p_limit
        for update skip locked)
    returning w.tenant_id, w.event_id;
$$;
drop policy sweeper on webhook_inbox;

-- --- the outbox relay ----------------------------------------------------------------------------
-- Pending events (only p_ids when given), locked for this transaction (skip locked).
-- Two statements, not one with "p_ids is null or …": the API's flush of its own events must find
-- them by primary key, not scan every pending event.
create function relay_lock_pending(p_ids uuid[], p_limit integer)
returns table (id uuid, tenant_id uuid, detail_type text, detail jsonb, created_at timestamptz)
language plpgsql volatile security definer
set search_path = pg_catalog, public
as $$
begin
    if p_ids is null then
        return query
        select o.id, o.tenant_id, o.detail_type, o.detail, o.created_at from public.outbox o
        where o.published_at is null
        order by o.created_at, o.id limit p_limit
        for update skip locked;
    else
        return query
        select o.id, o.tenant_id, o.detail_type, o.detail, o.created_at from public.outbox o
        where o.id = any(p_ids) and o.published_at is null
        order by o.created_at, o.id limit p_limit
        for update skip locked;
    end if;
end
$$;

create function relay_mark_published(p_ids uuid[]) returns void
language sql volatile security definer
set search_path = pg_catalog, public
as $$
    update public.outbox set published_at = now(), attempts = attempts + 1
    where id = any(p_ids) and published_at is null;
$$;

create function relay_count_attempt(p_ids uuid[]) returns void
language sql volatile security definer
set search_path = pg_catalog, public
as $$
    update public.outbox set attempts = attempts + 1 where id = any(p_ids) and published_at is null;
$$;

create function relay_oldest_pending_age_s() returns double precision
language sql stable security definer
set search_path = pg_catalog, public
as $$
    select coalesce(extract(epoch from now() - min(created_at)), 0)::double precision
    from public.outbox where published_at is null;
$$;
drop policy relay on outbox;

-- --- billing: which shops to visit, whose subscription an Asaas id is ----------------------------
create function billing_shops_to_visit(p_after uuid, p_limit integer) returns setof uuid
language sql stable security definer
set search_path = pg_catalog, public
as $$
    select s.tenant_id from public.tenant_subscriptions s
    where (s.cancelled_at is null
           or s.cancel_on >= (now() at time zone 'America/Sao_Paulo')::date - 31)
      and (p_after is null or s.tenant_id > p_after)
    order by s.tenant_id limit p_limit;
$$;

create function billing_tenant_of_subscription(p_subscription_id text) returns uuid
language sql stable security definer
set search_path = pg_catalog, public
as $$
    select s.tenant_id from public.tenant_subscriptions s where s.asaas_subscription_id = p_subscription_id;
$$;
drop policy billing on tenant_subscriptions;

-- --- billing_status: not the app's to set by hand -------------------------------------------------
revoke insert, update on tenants from assistec_app;
grant insert (id, name, cnpj, email, phone) on tenants to assistec_app;
grant update (name, email, phone, updated_at) on tenants to assistec_app;

-- The billing jobs move the status of the shop of the current transaction (and of no other).
create function set_billing_status(p_status text) returns void
language plpgsql volatile security definer
set search_path = pg_catalog, public
as $$
declare
    v_tenant uuid := nullif(current_setting('app.tenant_id', true), '')::uuid;
begin
    if v_tenant is null then
        raise exception 'set_billing_status needs a shop''s transaction' using errcode = '42501';
    end if;
    update public.tenants set billing_status = p_status, updated_at = now() where id = v_tenant;
end
$$;

-- --- the entry statement of a signed-in user's request --------------------------------------------
-- Sets the shop and the user for this transaction, like enter_tenant, and refuses (SQLSTATE AS401)
-- a user who is gone or inactive. Returns the shop's billing status, the user's current role (the
-- caller compares it with the token's: a demotion is refused at once) and whether the session
-- (refresh-token family) the token belongs to is still open (logout, a replayed refresh token, a
-- role change end it). Runs as the caller: row-level security scopes every read to the shop set.
create function enter_user(p_tenant uuid, p_user uuid, p_session uuid)
returns table (billing_status text, role text, session_open boolean)
language plpgsql volatile
set search_path = pg_catalog, public
as $$
declare
    v_role text;
    v_active boolean;
begin
    perform set_config('app.tenant_id', p_tenant::text, true);
    perform set_config('app.user_id', p_user::text, true);
    select u.role, u.active into v_role, v_active from public.users u where u.id = p_user;
    if v_role is null or not v_active then
        raise exception 'user inactive or gone' using errcode = 'AS401';
    end if;
    return query
    select t.billing_status, v_role, exists (
        select 1 from public.refresh_tokens r
        where r.tenant_id = p_tenant and r.family_id = p_session and r.user_id = p_user
          and r.revoked_at is null and r.expires_at > now())
    from public.tenants t where t.id = p_tenant;
end
$$;
revoke all on function enter_user(uuid, uuid, uuid) from public;
grant execute on function enter_user(uuid, uuid, uuid) to assistec_app;

-- Definer functions: nobody but the app role (and the migrator, their owner) may call them.
do $$
declare
    f text;
begin
    foreach f in array array[
        'login_reserve(bytea, integer, integer)', 'login_clear(bytea)', 'login_lookup(text)',
        'sweep_webhook_inbox(integer, integer, integer)', 'relay_lock_pending(uuid[], integer)',
        'relay_mark_published(uuid[])', 'relay_count_attempt(uuid[])', 'relay_oldest_pending_age_s()',
        'billing_shops_to_visit(uuid, integer)',
        'billing_tenant_of_subscription(text)', 'set_billing_status(text)'] loop
        execute format('revoke all on function %s from public', f);
        execute format('grant execute on function %s to assistec_app', f);
    end loop;
end
$$;

-- No temporary objects for the app (a temp table or function could shadow ours on a search_path).
do $$
begin
    execute format('revoke temporary on database %I from public', current_database());
    execute format('revoke temporary on database %I from assistec_app', current_database());
end
$$;
