-- Scheduling with Google Calendar (issue 12): the shop's scheduling rules, its Google connection,
-- appointments whose capacity the database enforces, the reminders sent, and the bot's booking.
create extension if not exists btree_gist;  -- uuid/text equality inside a gist exclusion constraint

-- Per shop: each appointment type's duration, buffer (after it, the same counter or technician is
-- still busy) and capacity (how many at once); the slot grid, notice and horizon; closed dates and
-- whether the widely observed optional holidays (Carnaval, Corpus Christi) close the shop; when the
-- reminders go out (minutes before); optional booking hours (null: the business hours).
create table scheduling_settings (
    tenant_id uuid primary key references tenants (id),
    types jsonb not null default '{}'::jsonb check (jsonb_typeof(types) = 'object'),
    step_min integer not null default 30 check (step_min between 5 and 240),
    min_notice_min integer not null default 60 check (min_notice_min between 0 and 10080),
    horizon_days integer not null default 30 check (horizon_days between 1 and 180),
    closed_dates date[] not null default '{}' check (cardinality(closed_dates) <= 400),
    observe_optional_holidays boolean not null default true,
    reminder_offsets integer[] not null default '{1440,120}'
        check (cardinality(reminder_offsets) <= 4 and 0 < all (reminder_offsets)),
    booking_hours jsonb check (booking_hours is null or jsonb_typeof(booking_hours) = 'object'),
    version integer not null default 1,
    updated_at timestamptz not null default now()
);

-- The shop's Google account: tokens KMS-encrypted (purpose google-token), the calendar our events go
-- to and the calendars whose busy times block slots (≤ 50, freeBusy's limit); 'reconnect' after
-- Google refused the refresh token (invalid_grant): the shop keeps working without Google.
create table google_connections (
    tenant_id uuid primary key references tenants (id),
    status text not null default 'connected' check (status in ('connected', 'reconnect')),
    account_email text check (length(account_email) <= 320),
    refresh_token_enc bytea not null,
    access_token_enc bytea,
    access_expires_at timestamptz,
    scopes text[] not null default '{}',
    calendar_id text not null check (length(calendar_id) between 1 and 1024),
    busy_calendar_ids text[] not null default '{}' check (cardinality(busy_calendar_ids) <= 50),
    sync_token text check (length(sync_token) <= 4096),
    synced_at timestamptz,
    last_error text check (length(last_error) <= 500),
    reconnect_noticed_at timestamptz,
    busy_synced_at timestamptz,  -- when google_busy was last read from free/busy
    connected_by uuid,
    connected_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    version integer not null default 1
);

-- The busy times of the shop's calendars (Google free/busy, our own events taken out), refreshed by
-- the scheduled calendar job and by staff availability reads: the WhatsApp bot offers slots from
-- here, without calling Google inside its transaction.
create table google_busy (
    tenant_id uuid not null references tenants (id),
    starts_at timestamptz not null,
    ends_at timestamptz not null,
    check (ends_at > starts_at)
);
create index google_busy_when on google_busy (tenant_id, starts_at);

-- A consent in progress: the PKCE verifier kept server-side for the state's nonce, used once.
create table google_oauth_states (
    nonce text primary key check (length(nonce) between 20 and 100),
    tenant_id uuid not null references tenants (id),
    user_id uuid not null,
    code_verifier text not null check (length(code_verifier) between 43 and 128),
    redirect_uri text not null check (length(redirect_uri) <= 2048),
    expires_at timestamptz not null,
    used_at timestamptz,
    created_at timestamptz not null default now()
);

create table appointments (
    id uuid primary key default gen_random_uuid(),
    tenant_id uuid not null references tenants (id),
    type text not null check (type in ('drop_off', 'pickup', 'visit')),
    status text not null default 'booked'
        check (status in ('booked', 'confirmed', 'cancelled', 'no_show', 'done')),
    starts_at timestamptz not null,
    ends_at timestamptz not null,
    -- What the booking holds: [start, end + buffer) on one of the type's seats (1..capacity). Two
    -- active bookings never hold the same seat at the same instant, so never more than the capacity
    -- at once, whatever races: the database decides, not a check-then-insert.
    seat smallint not null check (seat between 1 and 50),
    during tstzrange not null,
    customer_id uuid not null,
    device_id uuid,
    order_id uuid,
    address text check (length(address) <= 500),
    notes text check (length(notes) <= 2000),
    source text not null check (source in ('staff', 'whatsapp', 'public', 'google')),
    public_token text not null unique check (length(public_token) <= 120),
    google_event_id text not null unique
        check (google_event_id ~ '^[a-v0-9]+$' and length(google_event_id) between 5 and 1024),
    -- The mirror in Google: pending until the sync worker wrote this version there.
    sync_state text not null default 'pending'
        check (sync_state in ('pending', 'synced', 'failed', 'off')),
    sync_error text check (length(sync_error) <= 500),
    sync_attempts integer not null default 0,
    synced_version integer,
    google_calendar_id text,
    version integer not null default 1,
    created_by uuid,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    confirmed_at timestamptz,
    cancelled_at timestamptz,
    cancelled_via text check (cancelled_via in ('staff', 'whatsapp', 'public', 'google')),
    no_show_at timestamptz,
    check (ends_at > starts_at),
    check (lower(during) = starts_at and upper(during) >= ends_at),
    check (type <> 'visit' or address is not null),
    unique (tenant_id, id),
    foreign key (tenant_id, customer_id) references customers (tenant_id, id),
    foreign key (tenant_id, device_id) references devices (tenant_id, id),
    foreign key (tenant_id, order_id) references service_orders (tenant_id, id),
    constraint appointments_capacity exclude using gist (
        tenant_id with =, type with =, seat with =, during with &&
    ) where (status in ('booked', 'confirmed'))
);
create index appointments_when on appointments (tenant_id, starts_at);
create index appointments_customer on appointments (tenant_id, customer_id, starts_at);
create index appointments_sync on appointments (sync_state, updated_at) where sync_state in ('pending', 'failed');

-- A reminder sent (or being sent) for one appointment and offset: never twice.
create table appointment_reminders (
    tenant_id uuid not null references tenants (id),
    appointment_id uuid not null,
    offset_min integer not null,
    channel text not null check (channel in ('whatsapp', 'email', 'none')),
    sent_at timestamptz not null default now(),
    primary key (appointment_id, offset_min),
    foreign key (tenant_id, appointment_id) references appointments (tenant_id, id)
);

do $$
declare t text;
begin
    foreach t in array array['scheduling_settings', 'google_connections', 'google_oauth_states', 'google_busy',
                             'appointments', 'appointment_reminders'] loop
        execute format('alter table %I enable row level security', t);
        execute format('alter table %I force row level security', t);
        execute format(
            'create policy tenant_isolation on %I '
            'using (tenant_id = nullif(current_setting(''app.tenant_id'', true), '''')::uuid) '
            'with check (tenant_id = nullif(current_setting(''app.tenant_id'', true), '''')::uuid)', t);
        execute format('create policy ops_read on %I for select to assistec_ops using (true)', t);
        execute format('grant select on %I to assistec_ops', t);
    end loop;
    -- The definer functions below read across shops as their owner (the migrator).
    execute format('create policy definer_access on appointments for select to %I using (true)', current_user);
    execute format('create policy definer_access on google_connections for select to %I using (true)', current_user);
end
$$;
grant select, insert, update on scheduling_settings, google_connections, appointments to assistec_app;
grant delete on google_connections to assistec_app;
grant select, insert, update, delete on google_oauth_states to assistec_app;
grant select, insert, update on appointment_reminders to assistec_app;
grant select, insert, delete on google_busy to assistec_app;

-- The bot offers numbered slots and waits for the customer's choice.
alter table wa_conversations drop constraint wa_conversations_state_check;
alter table wa_conversations add constraint wa_conversations_state_check
    check (state in ('bot', 'awaiting_device', 'awaiting_part', 'waiting_staff', 'with_staff', 'awaiting_slot'));
alter table wa_conversations add column booking jsonb
    check (booking is null or jsonb_typeof(booking) = 'object');

-- Reminders due at p_now across shops (the scheduled rule's input carries p_now): active
-- appointments still ahead whose offset has come, not yet reminded for that offset, and booked
-- before that moment (an appointment made 3 h ahead gets no 24 h reminder).
create function appointment_reminders_due(p_now timestamptz, p_limit integer)
returns table (tenant_id uuid, appointment_id uuid, offset_min integer)
language sql stable security definer
set search_path = pg_catalog, public
as $$
    select a.tenant_id, a.id, o.offset_min
    from public.appointments a
    left join public.scheduling_settings s on s.tenant_id = a.tenant_id
    cross join lateral unnest(coalesce(s.reminder_offsets, '{1440,120}'::integer[])) as o (offset_min)
    where a.status in ('booked', 'confirmed')
      and a.starts_at > p_now
      and a.starts_at <= p_now + interval '8 days'
      and a.starts_at - make_interval(mins => o.offset_min) <= p_now
      and a.created_at <= a.starts_at - make_interval(mins => o.offset_min)
      and not exists (
          select 1 from public.appointment_reminders r
          where r.appointment_id = a.id and r.offset_min = o.offset_min
      )
    order by a.starts_at
    limit p_limit
$$;

-- Google mirrors to retry (pending or failed, not touched for p_older_than_s seconds) and the shops
-- whose calendar is read back for changes made in Google.
create function google_sync_backlog(p_older_than_s integer, p_limit integer)
returns table (tenant_id uuid, appointment_id uuid)
language sql stable security definer
set search_path = pg_catalog, public
as $$
    select a.tenant_id, a.id from public.appointments a
    where a.sync_state in ('pending', 'failed')
      and a.updated_at < now() - make_interval(secs => p_older_than_s)
      and a.sync_attempts < 50
    order by a.updated_at
    limit p_limit
$$;

create function google_connected_shops(p_limit integer)
returns table (tenant_id uuid)
language sql stable security definer
set search_path = pg_catalog, public
as $$
    select g.tenant_id from public.google_connections g
    where g.status = 'connected'
    order by g.synced_at nulls first
    limit p_limit
$$;

revoke all on function appointment_reminders_due(timestamptz, integer) from public;
revoke all on function google_sync_backlog(integer, integer) from public;
revoke all on function google_connected_shops(integer) from public;
grant execute on function appointment_reminders_due(timestamptz, integer) to assistec_app;
grant execute on function google_sync_backlog(integer, integer) to assistec_app;
grant execute on function google_connected_shops(integer) to assistec_app;
