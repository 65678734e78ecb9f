-- Reconciliation of bank statements (issue 15 §5): what the matcher and people decide about the
-- statement lines of migration 0036.
--
-- charges                 what Asaas credits for a paid charge: its net value (the value less Asaas's
--                         fee) and the day it is credited (creditDate, else estimatedCreditDate), as
--                         the payment Asaas reports says. Null for a charge paid before, or when
--                         Asaas did not say: the matcher then expects the paid value on the day paid.
-- statement_matches       + reason: the matcher's rule (reference, batch_day, amount_date, ...) or
--                         'manual'; + 'withdrawn': a suggestion a later run of the matcher no longer
--                         makes (new lines or settlements changed the picture), kept for the record
--                         (the app never deletes a match); + who rejected a suggestion, and when.
--                         One live suggestion per statement line (the matcher's runs are serialized
--                         per shop by an advisory lock; the index holds even if one were not).
-- statement_match_lines   every statement line of a match: its credit line(s) — a day's settlements
--                         may be credited in two or three lines — and the tariff debits accounted
--                         to its settlements. statement_matches.statement_line_id is the first credit
--                         line. Frozen with its match once confirmed (the trigger of migration 0036).

alter table charges
    add column net_cents bigint check (net_cents >= 0),
    add column credit_on date;

alter table statement_matches drop constraint statement_matches_status_check;
alter table statement_matches add constraint statement_matches_status_check
    check (status in ('suggested', 'confirmed', 'rejected', 'withdrawn'));
alter table statement_matches
    add column reason text check (length(reason) between 1 and 40),
    add column rejected_by uuid,
    add column rejected_at timestamptz,
    add column withdrawn_at timestamptz,
    add constraint statement_matches_rejected_check check ((rejected_at is not null) <= (status = 'rejected')),
    add constraint statement_matches_withdrawn_check check ((withdrawn_at is not null) = (status = 'withdrawn'));
create unique index statement_matches_live_suggestion on statement_matches (tenant_id, statement_line_id)
    where status = 'suggested';
create index statement_matches_status on statement_matches (tenant_id, status, created_at);
create index statement_match_items_line on statement_match_items (tenant_id, bank_file_line_id)
    where bank_file_line_id is not null;
create index statement_match_items_charge on statement_match_items (tenant_id, charge_id)
    where charge_id is not null;
create index charges_credited on charges (tenant_id, credit_on) where status in ('paid', 'refunding');
create index bank_file_lines_credited on bank_file_lines (tenant_id, credited_on) where kind = 'settled';

create table statement_match_lines (
    tenant_id uuid not null references tenants (id),
    match_id uuid not null,
    statement_line_id uuid not null,
    role text not null check (role in ('credit', 'fee')),
    -- The line's signed amount (credits > 0, tariff debits < 0).
    amount_cents bigint not null check (amount_cents <> 0),
    created_at timestamptz not null default now(),
    primary key (tenant_id, match_id, statement_line_id),
    check ((role = 'credit') = (amount_cents > 0)),
    foreign key (tenant_id, match_id) references statement_matches (tenant_id, id),
    foreign key (tenant_id, statement_line_id) references statement_lines (tenant_id, id)
);
create index statement_match_lines_line on statement_match_lines (tenant_id, statement_line_id);

alter table statement_match_lines enable row level security;
alter table statement_match_lines force row level security;
create policy tenant_isolation on statement_match_lines
    using (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
    with check (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);
create policy ops_read on statement_match_lines for select to assistec_ops using (true);
grant select on statement_match_lines to assistec_ops;
-- Written once with their match, never changed (as statement_match_items).
grant select, insert on statement_match_lines to assistec_app;

create trigger statement_match_lines_frozen before insert or update or delete on statement_match_lines
    for each row execute function statement_match_frozen();
