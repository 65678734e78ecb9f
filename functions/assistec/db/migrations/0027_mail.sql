-- E-mail (issue 13): every message a shop's mail module sends, the addresses it must no longer
-- write to, the shop's own SMTP server and its own texts.

-- One row per message: written before the provider is called ('sending'), then 'sent' with the
-- provider's id or 'failed' with the reason; SES's delivery, bounce and complaint events move it on.
-- 'suppressed': not sent, the address is on the shop's suppression list.
create table email_messages (
    id uuid primary key default gen_random_uuid(),
    tenant_id uuid not null references tenants (id),
    template text not null check (template ~ '^[a-z0-9_]{1,64}$'),
    to_address text not null check (length(to_address) between 3 and 320),
    subject text check (length(subject) <= 300),
    transport text not null check (transport in ('ses', 'smtp')),
    status text not null default 'sending'
        check (status in ('sending', 'sent', 'failed', 'suppressed', 'delivered', 'delayed', 'bounced',
                          'complained', 'rejected')),
    provider_message_id text check (length(provider_message_id) <= 300),
    error_code text check (length(error_code) <= 64),
    detail text check (length(detail) <= 500),
    attachments text[] not null default '{}' check (cardinality(attachments) <= 10),
    order_id uuid,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);
create index email_messages_recent on email_messages (tenant_id, created_at desc);
create index email_messages_order on email_messages (tenant_id, order_id) where order_id is not null;
create unique index email_messages_provider_id on email_messages (tenant_id, provider_message_id)
    where provider_message_id is not null;

-- Addresses the shop no longer writes to: SES said the mailbox does not exist (permanent bounce)
-- or the person marked a message as spam (complaint). Staff see the reason and may lift it.
create table email_suppressions (
    tenant_id uuid not null references tenants (id),
    address text not null check (address = lower(address) and length(address) between 3 and 320),
    reason text not null check (reason in ('bounce', 'complaint')),
    detail text not null check (length(detail) <= 500),
    message_id uuid,
    created_at timestamptz not null default now(),
    primary key (tenant_id, address)
);

-- The shop's own SMTP server (instead of the platform's SES sender): the password KMS-encrypted
-- (purpose smtp-password, the shop in the context); credentials never travel in clear (STARTTLS or
-- implicit TLS only).
create table email_settings (
    tenant_id uuid primary key references tenants (id),
    smtp_host text not null check (length(smtp_host) between 1 and 253),
    smtp_port integer not null check (smtp_port between 1 and 65535),
    smtp_security text not null check (smtp_security in ('starttls', 'tls')),
    smtp_username text check (length(smtp_username) <= 320),
    smtp_password_enc bytea,
    from_address text not null check (length(from_address) between 3 and 320),
    verified_at timestamptz,
    last_error text check (length(last_error) <= 500),
    version integer not null default 1,
    updated_at timestamptz not null default now()
);

-- A shop's own subject and opening paragraph for a customer-facing message.
create table email_overrides (
    tenant_id uuid not null references tenants (id),
    template text not null check (template ~ '^[a-z0-9_]{1,64}$'),
    subject text check (length(subject) <= 200),
    intro text check (length(intro) <= 4000),
    version integer not null default 1,
    updated_at timestamptz not null default now(),
    primary key (tenant_id, template),
    check (subject is not null or intro is not null)
);

do $$
declare t text;
begin
    foreach t in array array['email_messages', 'email_suppressions', 'email_settings', 'email_overrides'] loop
        execute format('alter table %I enable row level security', t);
        execute format('alter table %I force row level security', t);
        execute format(
            'create policy tenant_isolation on %I '
            'using (tenant_id = nullif(current_setting(''app.tenant_id'', true), '''')::uuid) '
            'with check (tenant_id = nullif(current_setting(''app.tenant_id'', true), '''')::uuid)', t);
        execute format('create policy ops_read on %I for select to assistec_ops using (true)', t);
        execute format('grant select on %I to assistec_ops', t);
    end loop;
end
$$;
grant select, insert, update on email_messages to assistec_app;
grant select, insert, update, delete on email_suppressions, email_settings, email_overrides to assistec_app;
