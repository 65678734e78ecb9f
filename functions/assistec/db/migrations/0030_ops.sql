-- The ops console (issue 13 §5): what the platform's operator did, and the narrow cross-shop reads it
-- needs. The operator's commands run in the ops function (in the VPC, as the app role); everything
-- about one shop is read and written inside that shop's own transaction (row-level security, as for
-- any worker); only finding shops crosses them, through the definer functions below.
--
-- ops_audit is the platform's log of operator actions, not a shop's data (a shop never reads it): a
-- global table. The app role has no privilege on it and writes it only through ops_record (a new row)
-- and ops_finish (a started row's outcome, once); the ops role reads it.

create table ops_audit (
    id bigint generated always as identity primary key,
    at timestamptz not null default now(),
    finished_at timestamptz,
    -- Who: the caller's AWS identity (STS GetCallerIdentity's ARN), as the console passes it.
    operator text not null check (length(btrim(operator)) between 1 and 512),
    command text not null check (command ~ '^[a-z][a-z0-9_.-]{0,79}$'),
    -- What the command was given (never secrets: no command takes one).
    args jsonb not null default '{}'::jsonb check (jsonb_typeof(args) = 'object'),
    -- The shop it acted on, when one (no foreign key: the log outlives anything it names).
    shop_id uuid,
    -- Where it ran: the ops function itself, or the console on the operator's machine (a DLQ replay,
    -- a backup started) reporting what it did.
    origin text not null check (origin in ('function', 'console')),
    outcome text not null check (outcome in ('started', 'ok', 'refused', 'failed')),
    detail jsonb not null default '{}'::jsonb,
    request_id text check (length(request_id) <= 200)
);
create index ops_audit_at on ops_audit (at desc, id desc);
create index ops_audit_shop on ops_audit (shop_id, at desc) where shop_id is not null;
grant select on ops_audit to assistec_ops;

-- A new entry; its id.
create function ops_record(
    p_operator text, p_command text, p_args jsonb, p_shop uuid, p_origin text, p_outcome text,
    p_detail jsonb, p_request text
) returns bigint
language sql volatile security definer
set search_path = pg_catalog, public
as $$
    insert into public.ops_audit (operator, command, args, shop_id, origin, outcome, detail, request_id,
                                  finished_at)
    values (p_operator, p_command, coalesce(p_args, '{}'::jsonb), p_shop, p_origin, p_outcome,
            coalesce(p_detail, '{}'::jsonb), p_request, case when p_outcome = 'started' then null else now() end)
    returning id;
$$;

-- A started entry's outcome (and the shop it turned out to be about), once: a finished entry never
-- changes again. False when there was no such started entry.
create function ops_finish(p_id bigint, p_outcome text, p_shop uuid, p_detail jsonb) returns boolean
language plpgsql volatile security definer
set search_path = pg_catalog, public
as $$
begin
    if p_outcome = 'started' then
        raise exception 'an entry is finished with its outcome' using errcode = '22023';
    end if;
    update public.ops_audit
    set outcome = p_outcome, shop_id = coalesce(shop_id, p_shop), detail = coalesce(p_detail, '{}'::jsonb),
        finished_at = now()
    where id = p_id and outcome = 'started';
    return found;
end
$$;

-- The latest entries (newest first), before ``p_before`` (an id) when given.
create function ops_recent(p_before bigint, p_shop uuid, p_limit integer)
returns table (id bigint, at timestamptz, finished_at timestamptz, operator text, command text,
               args jsonb, shop_id uuid, origin text, outcome text, detail jsonb)
language sql stable security definer
set search_path = pg_catalog, public
as $$
    select a.id, a.at, a.finished_at, a.operator, a.command, a.args, a.shop_id, a.origin, a.outcome, a.detail
    from public.ops_audit a
    where (p_before is null or a.id < p_before) and (p_shop is null or a.shop_id = p_shop)
    order by a.id desc
    limit least(greatest(p_limit, 1), 500);
$$;

-- --- finding shops ----------------------------------------------------------------------------------
-- The migrator sees tenants, users and tenant_subscriptions through definer_access (migration 0015).

-- Shops, newest first (keyset on (created_at, id) before the cursor), with their billing state:
-- ``p_status`` one billing status (or null: any); ``p_search`` (or null) matches the shop's id, its
-- name (case and accents ignored), its CNPJ (punctuation ignored), or the shop's or a user's e-mail.
create function ops_find_shops(
    p_status text, p_search text, p_before_created timestamptz, p_before_id uuid, p_limit integer
)
returns table (id uuid, name text, cnpj text, email text, phone text, billing_status text,
               plan_code text, trial_ends_on date, next_due_date date, cancel_on date,
               provisioned boolean, provision_error text, created_at timestamptz)
language plpgsql stable security definer
set search_path = pg_catalog, public
as $$
declare
    v_q text := nullif(btrim(p_search), '');
    v_like text;
    v_cnpj text;
    v_id uuid;
begin
    if v_q is not null then
        -- The search's text, literal: LIKE's wildcards in it match themselves.
        v_like := '%' || replace(replace(replace(lower(public.immutable_unaccent(v_q)), '\', '\\'),
                                         '%', '\%'), '_', '\_') || '%';
        v_cnpj := upper(regexp_replace(v_q, '[.\-/\s]', '', 'g'));
        if v_cnpj !~ '^[0-9A-Z]{2,14}$' then
            v_cnpj := null;
        end if;
        if v_q ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then
            v_id := v_q::uuid;
        end if;
    end if;
    return query
    select t.id, t.name, t.cnpj::text, t.email::text, t.phone, t.billing_status, s.plan_code,
           s.trial_ends_on, s.next_due_date, s.cancel_on, s.asaas_subscription_id is not null,
           s.provision_error, t.created_at
    from public.tenants t
    left join public.tenant_subscriptions s on s.tenant_id = t.id
    where (p_status is null or t.billing_status = p_status)
      and (p_before_created is null
           or (t.created_at, t.id) < (p_before_created, coalesce(p_before_id, 'ffffffff-ffff-ffff-ffff-ffffffffffff'::uuid)))
      and (v_q is null
           or t.id = v_id
           or lower(public.immutable_unaccent(t.name)) like v_like
           or (v_cnpj is not null and t.cnpj like v_cnpj || '%')
           or t.email::text ilike v_like
           or exists (select 1 from public.users u where u.tenant_id = t.id and u.email::text ilike v_like))
    order by t.created_at desc, t.id desc
    limit least(greatest(p_limit, 1), 500);
end
$$;

-- The shops one reference names exactly: the shop's id, its CNPJ (punctuation ignored), or an e-mail
-- (the shop's own or one of its users'). More than one when an e-mail is the shop's address of
-- several shops.
create function ops_resolve_shop(p_ref text) returns setof uuid
language plpgsql stable security definer
set search_path = pg_catalog, public
as $$
declare
    v_ref text := btrim(coalesce(p_ref, ''));
    v_cnpj text := upper(regexp_replace(v_ref, '[.\-/\s]', '', 'g'));
begin
    if v_ref ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then
        return query select t.id from public.tenants t where t.id = v_ref::uuid;
    elsif position('@' in v_ref) > 0 then
        return query
        select t.id from public.tenants t where t.email = v_ref::public.citext
        union
        select u.tenant_id from public.users u where u.email = v_ref::public.citext;
    elsif v_cnpj ~ '^[0-9A-Z]{12}[0-9]{2}$' then
        return query select t.id from public.tenants t where t.cnpj = v_cnpj;
    end if;
end
$$;

do $$
declare
    f text;
begin
    foreach f in array array[
        'ops_record(text, text, jsonb, uuid, text, text, jsonb, text)',
        'ops_finish(bigint, text, uuid, jsonb)', 'ops_recent(bigint, uuid, integer)',
        'ops_find_shops(text, text, timestamptz, uuid, integer)', 'ops_resolve_shop(text)'] loop
        execute format('revoke all on function %s from public', f);
        execute format('grant execute on function %s to assistec_app', f);
    end loop;
end
$$;
