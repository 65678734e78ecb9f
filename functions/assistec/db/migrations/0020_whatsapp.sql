-- WhatsApp through the Evolution API (issue 11): the shop's number (its instance), the inbox of
-- Evolution's webhook deliveries, the conversations with their messages, and the bot's texts.

-- The shop's instance on the deployment's Evolution server: its token only as KMS ciphertext (context:
-- the shop) and as SHA-256 (compared with the apikey Evolution puts in each delivery's body), the
-- secret part of its webhook URL, and the SHA-256 of the secret Evolution sends back in a header.
create table whatsapp_instances (
    tenant_id uuid primary key references tenants (id),
    name text not null unique check (name ~ '^assistec-[0-9a-f-]{36}$'),
    token_ciphertext bytea not null,
    token_hash bytea not null,
    webhook_key text not null unique,
    webhook_secret_hash bytea not null,
    state text not null default 'connecting' check (state in ('connecting', 'open', 'close')),
    number text check (number ~ '^[0-9]{8,15}$'),
    state_changed_at timestamptz not null default now(),
    -- The send queue's pace per number: the next instant a message may leave (claimed atomically).
    next_send_at timestamptz not null default now(),
    version integer not null default 1,
    created_at timestamptz not null default now()
);

-- Every delivery, once per (instance, id): the message id for messages, a digest of the body for
-- the rest. The body is kept without its apikey (the instance token).
create table whatsapp_inbox (
    tenant_id uuid not null references tenants (id),
    instance text not null,
    delivery_id text not null check (length(delivery_id) between 1 and 200),
    event text not null check (length(event) between 1 and 100),
    chat text check (length(chat) <= 200),
    from_me boolean not null default false,
    payload text not null,
    received_at timestamptz not null default now(),
    processed_at timestamptz,
    outcome text,
    primary key (tenant_id, instance, delivery_id)
);
create index whatsapp_inbox_chat on whatsapp_inbox (tenant_id, chat, received_at);
create index whatsapp_inbox_pending on whatsapp_inbox (received_at) where processed_at is null;

-- One conversation per person who wrote to the shop (a contact: phone and/or WhatsApp Linked ID),
-- matched to the shop's customer when the phone is theirs. ``state`` is the bot's: answering (bot,
-- or waiting for the device/part it asked about) or silent (waiting for staff, with staff).
create table wa_conversations (
    id uuid primary key default gen_random_uuid(),
    tenant_id uuid not null references tenants (id),
    phone text check (phone ~ '^[0-9]{8,15}$'),
    lid text check (length(lid) between 1 and 64),
    customer_id uuid,
    push_name text check (length(push_name) <= 120),
    state text not null default 'bot'
        check (state in ('bot', 'awaiting_device', 'awaiting_part', 'waiting_staff', 'with_staff')),
    state_since timestamptz not null default now(),
    menu_shown boolean not null default false,
    unknown_count integer not null default 0 check (unknown_count >= 0),
    assigned_user_id uuid,
    unread integer not null default 0 check (unread >= 0),
    -- LGPD: "PARAR"/"SAIR" stops automatic messages until the person writes again; the message that
    -- asked is kept as evidence.
    opted_out_at timestamptz,
    opt_out_message_id uuid,
    last_message_at timestamptz,
    version integer not null default 1,
    created_at timestamptz not null default now(),
    check (phone is not null or lid is not null),
    unique (tenant_id, id),
    foreign key (tenant_id, customer_id) references customers (tenant_id, id)
);
create unique index wa_conversations_phone on wa_conversations (tenant_id, phone) where phone is not null;
create unique index wa_conversations_lid on wa_conversations (tenant_id, lid) where lid is not null;
create index wa_conversations_state on wa_conversations (tenant_id, state, last_message_at desc);

-- What was said, both ways: the customer's messages, the bot's and staff's replies (queued, then
-- sent through Evolution with the id it gave), and what staff typed on the phone (fromMe echoes).
create table wa_messages (
    id uuid primary key default gen_random_uuid(),
    tenant_id uuid not null references tenants (id),
    conversation_id uuid not null,
    direction text not null check (direction in ('in', 'out')),
    author text not null check (author in ('customer', 'bot', 'staff', 'phone')),
    user_id uuid,
    evolution_id text check (length(evolution_id) between 1 and 200),
    kind text not null check (kind in (
        'text', 'image', 'audio', 'document', 'video', 'sticker', 'reaction', 'protocol', 'other')),
    body text check (length(body) <= 8000),
    media jsonb,
    -- in: received; out: queued → sending → sent → delivered → read, or failed / unknown (an
    -- ambiguous send is never repeated: WhatsApp may have delivered it) / skipped (opted out since).
    status text not null check (status in (
        'received', 'queued', 'sending', 'sent', 'delivered', 'read', 'failed', 'unknown', 'skipped')),
    error text check (length(error) <= 300),
    -- The clock, not the transaction's start: a reply written in the transaction that stored the
    -- message it answers sorts after it.
    created_at timestamptz not null default clock_timestamp(),
    sent_at timestamptz,
    unique (tenant_id, id),
    foreign key (tenant_id, conversation_id) references wa_conversations (tenant_id, id)
);
create unique index wa_messages_evolution on wa_messages (tenant_id, evolution_id) where evolution_id is not null;
create index wa_messages_conversation on wa_messages (tenant_id, conversation_id, created_at);

-- The bot's texts a shop changed (the rest are pt-BR defaults in domain/wa_router.py).
create table whatsapp_settings (
    tenant_id uuid primary key references tenants (id),
    templates jsonb not null default '{}'::jsonb check (jsonb_typeof(templates) = 'object'),
    bot_enabled boolean not null default true,
    version integer not null default 1,
    updated_at timestamptz not null default now()
);

do $$
declare
    t text;
begin
    foreach t in array array['whatsapp_instances', 'whatsapp_inbox', 'wa_conversations', 'wa_messages',
                             'whatsapp_settings'] loop
        execute format('alter table %I enable row level security', t);
        execute format('alter table %I force row level security', t);
        execute format(
            'create policy tenant_isolation on %I '
            'using (tenant_id = nullif(current_setting(''app.tenant_id'', true), '''')::uuid) '
            'with check (tenant_id = nullif(current_setting(''app.tenant_id'', true), '''')::uuid)',
            t
        );
        execute format('create policy ops_read on %I for select to assistec_ops using (true)', t);
        execute format('grant select on %I to assistec_ops', t);
    end loop;
end
$$;
grant select, insert, update, delete on whatsapp_instances, wa_conversations, whatsapp_settings to assistec_app;
grant select, insert, update on whatsapp_inbox, wa_messages to assistec_app;
