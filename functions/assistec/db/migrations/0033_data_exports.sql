-- The owner's copy of the shop's data (LGPD, portability; issue 13 §3): one row per request. The API
-- writes it 'pending' (and a DataExportRequested event in the same transaction); the data exports
-- worker takes it ('running', from 'pending' only, or from a 'running' whose worker died: its lease
-- ran out), writes the zip to S3 and records it 'ready' with what it holds, or 'failed' with why.
--
-- requested_by names a user of the shop without a foreign key, as the audit log does: a restore
-- replaces the users and keeps this table as it is (services/backup/tables.py).
create table data_exports (
    id uuid primary key default gen_random_uuid(),
    tenant_id uuid not null references tenants (id),
    requested_by uuid not null,
    status text not null default 'pending' check (status in ('pending', 'running', 'ready', 'failed')),
    requested_at timestamptz not null default now(),
    -- The worker runs that took it: the run that records the outcome must still be the last one.
    attempts integer not null default 0 check (attempts >= 0),
    started_at timestamptz,
    finished_at timestamptz,
    s3_key text check (
        s3_key ~ '^exports/[0-9a-f-]{36}/[0-9a-f-]{36}\.zip$'
        and starts_with(s3_key, 'exports/' || tenant_id::text || '/')
    ),
    bytes bigint check (bytes >= 0),
    rows bigint check (rows >= 0),
    files integer check (files >= 0),
    expires_at timestamptz,
    error text check (length(error) between 1 and 500),
    -- 'ready' only whole: the file, what it holds and until when; never half of it.
    check ((status = 'ready') = (s3_key is not null and bytes is not null and rows is not null
                                 and files is not null and expires_at is not null and finished_at is not null)),
    check ((status = 'failed') = (error is not null)),
    check (status not in ('running', 'ready') or started_at is not null)
);
-- At most one export of a shop under way: a second request (two clicks at once too) is refused.
create unique index data_exports_active on data_exports (tenant_id) where status in ('pending', 'running');
create index data_exports_recent on data_exports (tenant_id, requested_at desc, id desc);

alter table data_exports enable row level security;
alter table data_exports force row level security;
create policy tenant_isolation on data_exports
    using (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
    with check (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);
create policy ops_read on data_exports for select to assistec_ops using (true);
grant select on data_exports to assistec_ops;
grant select, insert, update on data_exports to assistec_app;
