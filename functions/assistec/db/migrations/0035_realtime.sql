-- Real time (issue 14 §1): the staff's WebSocket channel and its chat.
--
-- realtime_tickets      a signed-in user asks the REST API for a ticket (POST /realtime/ticket) and
--                       opens the WebSocket with it (?ticket=), so no JWT ever travels in a URL. A
--                       ticket is good for 60 seconds and once; the table keeps its SHA-256 only.
--                       The ticket the client holds is "<shop id>.<secret>": $connect enters that
--                       shop's transaction and consumes it there, under row-level security like any
--                       other row of the shop (no function sees across shops for it).
-- realtime_connections  an open connection of the shop's staff: who (user, role at the time) and until
--                       when (API Gateway closes every connection after 2 hours). $connect inserts it,
--                       $disconnect deletes it, a post answered 410 Gone deletes it, and a scheduled
--                       sweep deletes the expired ones whose $disconnect was lost.
-- staff_chat_messages   the shop's internal chat, kept (history on reconnect).
--
-- $disconnect and the chat's messages know only API Gateway's connection id, not the shop:
-- realtime_connection(id) finds it (SECURITY DEFINER, one row by its key, nothing else), and
-- realtime_sweep deletes expired connections and tickets across shops.

create table realtime_tickets (
    id uuid primary key default gen_random_uuid(),
    tenant_id uuid not null references tenants (id),
    user_id uuid not null,
    role text not null check (role in ('owner', 'admin', 'technician', 'attendant')),
    token_sha256 bytea not null check (octet_length(token_sha256) = 32),
    created_at timestamptz not null default now(),
    expires_at timestamptz not null,
    used_at timestamptz,
    check (expires_at > created_at and expires_at <= created_at + interval '5 minutes')
);
create unique index realtime_tickets_token on realtime_tickets (tenant_id, token_sha256);
create index realtime_tickets_expiry on realtime_tickets (tenant_id, expires_at);

create table realtime_connections (
    -- API Gateway's connectionId (unique per API; one API per stage).
    connection_id text primary key check (length(connection_id) between 1 and 128),
    tenant_id uuid not null references tenants (id),
    user_id uuid not null,
    role text not null check (role in ('owner', 'admin', 'technician', 'attendant')),
    connected_at timestamptz not null default now(),
    expires_at timestamptz not null,
    check (expires_at > connected_at)
);
create index realtime_connections_shop on realtime_connections (tenant_id, expires_at);
create index realtime_connections_user on realtime_connections (tenant_id, user_id);
create index realtime_connections_expiry on realtime_connections (expires_at);

create table staff_chat_messages (
    id uuid primary key default gen_random_uuid(),
    tenant_id uuid not null references tenants (id),
    -- The author, without a foreign key (as the audit log: a restore replaces the users).
    user_id uuid not null,
    author_name text not null check (length(author_name) between 1 and 120),
    body text not null check (length(btrim(body)) between 1 and 2000),
    created_at timestamptz not null default now()
);
create index staff_chat_messages_recent on staff_chat_messages (tenant_id, created_at desc, id desc);

do $$
declare t text;
begin
    foreach t in array array['realtime_tickets', 'realtime_connections', 'staff_chat_messages'] loop
        execute format('alter table %I enable row level security', t);
        execute format('alter table %I force row level security', t);
        execute format(
            'create policy tenant_isolation on %I '
            'using (tenant_id = nullif(current_setting(''app.tenant_id'', true), '''')::uuid) '
            'with check (tenant_id = nullif(current_setting(''app.tenant_id'', true), '''')::uuid)', t);
        execute format('create policy ops_read on %I for select to assistec_ops using (true)', t);
        execute format('grant select on %I to assistec_ops', t);
    end loop;
    -- The definer functions below, as their owner (the migrator): find one connection by its id,
    -- and delete what expired (connections and tickets) across shops.
    execute format('create policy definer_access on realtime_connections for select to %I using (true)', current_user);
    execute format('create policy retention_read on realtime_tickets for select to %I using (true)', current_user);
    foreach t in array array['realtime_tickets', 'realtime_connections'] loop
        execute format('create policy retention_purge on %I for delete to %I using (true)', t, current_user);
    end loop;
end
$$;
grant select, insert, update on realtime_tickets to assistec_app;
grant select, insert, delete on realtime_connections to assistec_app;
grant select, insert on staff_chat_messages to assistec_app;

-- The shop, user and role of an open connection (nothing for an unknown or expired one).
create function realtime_connection(p_connection_id text)
returns table (tenant_id uuid, user_id uuid, role text, expires_at timestamptz)
language sql stable security definer
set search_path = pg_catalog, public
as $$
    select c.tenant_id, c.user_id, c.role, c.expires_at
    from public.realtime_connections c
    where c.connection_id = p_connection_id and c.expires_at > now()
$$;
revoke all on function realtime_connection(text) from public;
grant execute on function realtime_connection(text) to assistec_app;

-- Delete, across shops, connections expired at p_now (their $disconnect was lost) and tickets expired
-- a minute before (a bounded batch each; the next run goes on). Returns what it deleted.
create function realtime_sweep(p_now timestamptz, p_batch integer)
returns table (what text, deleted bigint)
language plpgsql volatile security definer
set search_path = pg_catalog, public
as $$
declare
    n bigint;
begin
    delete from public.realtime_connections where connection_id = any(array(
        select c.connection_id from public.realtime_connections c
        where c.expires_at <= p_now order by c.expires_at limit p_batch));
    get diagnostics n = row_count; what := 'realtime_connections'; deleted := n; return next;

    delete from public.realtime_tickets where id = any(array(
        select t.id from public.realtime_tickets t
        where t.expires_at <= p_now - interval '1 minute' limit p_batch));
    get diagnostics n = row_count; what := 'realtime_tickets'; deleted := n; return next;
end
$$;
revoke all on function realtime_sweep(timestamptz, integer) from public;
grant execute on function realtime_sweep(timestamptz, integer) to assistec_app;
