-- Signup confirmed by e-mail, throttled per source address (issue 10 §5).
--
-- POST /signup no longer creates the shop: it keeps the request here and mails the owner a link;
-- the shop, its owner, its subscription and the ShopSignedUp event that provisions it at Asaas are
-- created only when that link is used. The request is kept before any shop exists (no tenant, no
-- row-level security, like login_attempts); the app reaches it only through the three functions
-- below, owned by the migrator. Rows hold no addresses (the source is hashed) and lose the
-- password hash when confirmed; they are purged once older than the link's lifetime.
create table signup_requests (
    id uuid primary key default gen_random_uuid(),
    -- SHA-256 of the link's token; null for an attempt on an e-mail already in use (no link: the
    -- existing owner gets a notice instead), kept so that it counts for the source's throttle.
    token_hash bytea unique,
    source_key bytea not null,
    email citext not null check (length(email) <= 254),
    -- The shop and owner as typed, the password already hashed; null once confirmed.
    shop jsonb,
    created_at timestamptz not null default now(),
    expires_at timestamptz not null,
    confirmed_at timestamptz
);
create index signup_requests_source_at on signup_requests (source_key, created_at);
create index signup_requests_created_at on signup_requests (created_at);
grant select on signup_requests to assistec_ops;

-- Record one signup request for ``p_source`` (0), unless the source already made ``p_max`` in the
-- last ``p_window_s`` seconds: then the seconds until the oldest of them leaves the window, and
-- nothing is written. Serialized per source by an advisory transaction lock, so parallel requests
-- cannot overrun the budget. Rows older than the window and the link's lifetime are purged.
create function signup_request_add(
    p_source bytea, p_max integer, p_window_s integer,
    p_token_hash bytea, p_email text, p_shop jsonb, p_ttl_s integer
) returns integer
language plpgsql volatile security definer
set search_path = pg_catalog, public
as $$
declare
    v_count integer;
    v_oldest timestamptz;
    v_window interval := make_interval(secs => p_window_s);
begin
    perform pg_advisory_xact_lock(hashtextextended('signup:' || encode(p_source, 'hex'), 0));
    delete from public.signup_requests
    where created_at <= now() - make_interval(secs => greatest(p_window_s, p_ttl_s));
    select count(*), min(created_at) into v_count, v_oldest
    from public.signup_requests where source_key = p_source and created_at > now() - v_window;
    if v_count >= p_max then
        return greatest(1, ceil(extract(epoch from v_oldest + v_window - now()))::integer);
    end if;
    insert into public.signup_requests (token_hash, source_key, email, shop, expires_at)
    values (p_token_hash, p_source, p_email, p_shop, now() + make_interval(secs => p_ttl_s));
    return 0;
end
$$;

-- The request behind a link's token (nothing when unknown).
create function signup_request_find(p_token_hash bytea)
returns table (id uuid, email text, shop jsonb, expires_at timestamptz, confirmed_at timestamptz)
language sql stable security definer
set search_path = pg_catalog, public
as $$
    select r.id, r.email::text, r.shop, r.expires_at, r.confirmed_at
    from public.signup_requests r where r.token_hash = p_token_hash
$$;

-- Mark the request confirmed and forget its password hash: true once, for an unexpired request
-- not confirmed before. Called in the transaction that creates the shop: both commit or neither,
-- and a second confirmation of the same link waits on the row and then gets false.
create function signup_request_claim(p_id uuid) returns boolean
language plpgsql volatile security definer
set search_path = pg_catalog, public
as $$
begin
    update public.signup_requests set confirmed_at = now(), shop = null
    where id = p_id and confirmed_at is null and expires_at > now();
    return found;
end
$$;

revoke all on function signup_request_add(bytea, integer, integer, bytea, text, jsonb, integer) from public;
revoke all on function signup_request_find(bytea) from public;
revoke all on function signup_request_claim(uuid) from public;
grant execute on function signup_request_add(bytea, integer, integer, bytea, text, jsonb, integer) to assistec_app;
grant execute on function signup_request_find(bytea) to assistec_app;
grant execute on function signup_request_claim(uuid) to assistec_app;
