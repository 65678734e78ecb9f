-- Banking (issue 15): the shop's own bank agreements, its boletos, the remessa files sent to the
-- bank, the retorno and statement files received from it, and the reconciliation of statements.
--
-- bank_agreements        a shop's agreement (convênio) with one bank: where the money lands, the
--                        wallet, the layout of its files, the next nosso número and remessa sequence
--                        (allocated by UPDATE ... RETURNING: a rolled-back allocation returns its
--                        number, so committed numbers have no gaps), and the defaults of interest,
--                        fine and discount. Several per shop.
-- boletos                one boleto under one agreement, for an order or a free charge; nosso número
--                        unique per agreement; due date is the shop's (America/Sao_Paulo) calendar day.
-- remessa_files          a remessa the shop sent: its sequence, unique per agreement, and the file in S3.
-- remessa_items          which boleto went in which remessa with which instruction; a boleto is
--                        registered ('register') in one remessa only: anything else sent again is an
--                        explicit instruction (write-off, due-date change, ...).
-- bank_files             a retorno or statement the shop uploaded: once per (shop, SHA-256) — the same
--                        file again changes nothing — with its processing status and counts.
-- bank_file_lines        the retorno's occurrences (entry confirmed, settled, written off, rejected,
--                        fees), once per idempotency key (the same occurrence in another file changes
--                        nothing); one whose nosso número matches no boleto is 'unmatched': the list a
--                        person goes through.
-- statement_lines        the statement's lines (signed centavos: credits > 0), once per key.
-- statement_matches      a statement line matched to settlements or Asaas charges: suggested by the
--   + statement_match_items  matcher, then confirmed by a person. A confirmed match never changes: no
--                        update or delete of it or of its items (trigger), but for the in-place
--                        restore under an ops permit (migration 0034), which deletes and writes back.
--
-- Money: bigint centavos, never negative but the statement's signed amounts. Every table: tenant_id,
-- row-level security enabled and forced with the house policy, the ops role's read policy, app grants
-- without DELETE (nothing here is deleted by the app; a restore clears through backup_restore_clear).

create table bank_agreements (
    id uuid primary key default gen_random_uuid(),
    tenant_id uuid not null references tenants (id),
    name text not null check (length(btrim(name)) between 1 and 80),
    -- The banks whose layouts the project has (BB, Santander, Caixa, Bradesco, Itaú, Sicredi,
    -- Sicoob, Banrisul, BTG, Inter).
    bank_code text not null check (bank_code in ('001', '033', '104', '237', '341', '748', '756', '085', '208', '077')),
    branch text not null check (branch ~ '^[0-9]{1,5}$'),
    branch_digit text check (branch_digit ~ '^[0-9X]$'),
    account text not null check (account ~ '^[0-9]{1,12}$'),
    account_digit text check (account_digit ~ '^[0-9X]{1,2}$'),
    wallet text not null check (wallet ~ '^[0-9A-Z]{1,3}$'),
    agreement_code text not null check (agreement_code ~ '^[0-9]{1,20}$'),
    layout text not null check (layout in ('cnab240', 'cnab400')),
    next_nosso_numero bigint not null default 1 check (next_nosso_numero between 1 and 99999999999999999),
    next_remessa_sequence integer not null default 1 check (next_remessa_sequence between 1 and 9999999),
    -- Defaults a new boleto copies: interest per month and fine in basis points (1% = 100), a discount
    -- in centavos when paid up to discount_days days before the due date.
    interest_monthly_bp integer not null default 0 check (interest_monthly_bp between 0 and 1000),
    fine_bp integer not null default 0 check (fine_bp between 0 and 2000),
    discount_cents bigint not null default 0 check (discount_cents between 0 and 9999999999),
    discount_days integer not null default 0 check (discount_days between 0 and 365),
    active boolean not null default true,
    version integer not null default 1,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    unique (tenant_id, id),
    unique (tenant_id, bank_code, agreement_code, wallet, branch, account)
);
create index bank_agreements_shop on bank_agreements (tenant_id, created_at, id);

create table remessa_files (
    id uuid primary key default gen_random_uuid(),
    tenant_id uuid not null references tenants (id),
    agreement_id uuid not null,
    sequence integer not null check (sequence between 1 and 9999999),
    s3_key text not null check (length(s3_key) between 1 and 1024),
    sha256 bytea not null check (octet_length(sha256) = 32),
    item_count integer not null default 0 check (item_count >= 0),
    total_cents bigint not null default 0 check (total_cents >= 0),
    -- Who generated it (no foreign key, as the audit log: a restore replaces the users).
    created_by uuid,
    created_at timestamptz not null default now(),
    unique (tenant_id, id),
    unique (tenant_id, agreement_id, sequence),
    foreign key (tenant_id, agreement_id) references bank_agreements (tenant_id, id)
);

create table boletos (
    id uuid primary key default gen_random_uuid(),
    tenant_id uuid not null references tenants (id),
    agreement_id uuid not null,
    -- An order's boleto, or a free charge (null).
    order_id uuid,
    customer_id uuid not null,
    nosso_numero bigint not null check (nosso_numero between 1 and 99999999999999999),
    -- The barcode's value field holds 10 digits: R$ 99.999.999,99 at most.
    amount_cents bigint not null check (amount_cents between 1 and 9999999999),
    -- The shop's calendar days (America/Sao_Paulo).
    issued_on date not null,
    due_date date not null check (due_date >= issued_on),
    interest_monthly_bp integer not null default 0 check (interest_monthly_bp between 0 and 1000),
    fine_bp integer not null default 0 check (fine_bp between 0 and 2000),
    discount_cents bigint not null default 0 check (discount_cents >= 0 and discount_cents < amount_cents),
    discount_until date check (discount_until <= due_date),
    status text not null default 'issued' check (status in ('issued', 'registered', 'settled', 'written_off', 'cancelled')),
    barcode text check (barcode ~ '^[0-9]{44}$'),
    digitable_line text check (digitable_line ~ '^[0-9]{47}$'),
    paid_cents bigint not null default 0 check (paid_cents between 0 and 99999999999),
    fees_cents bigint not null default 0 check (fees_cents >= 0),
    paid_on date,
    -- The remessa that registered it (null until one did).
    remessa_id uuid,
    version integer not null default 1,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    unique (tenant_id, id),
    unique (tenant_id, agreement_id, nosso_numero),
    check ((status = 'settled') = (paid_on is not null and paid_cents > 0)),
    foreign key (tenant_id, agreement_id) references bank_agreements (tenant_id, id),
    foreign key (tenant_id, order_id) references service_orders (tenant_id, id),
    foreign key (tenant_id, customer_id) references customers (tenant_id, id),
    foreign key (tenant_id, remessa_id) references remessa_files (tenant_id, id)
);
create index boletos_order on boletos (tenant_id, order_id) where order_id is not null;
create index boletos_customer on boletos (tenant_id, customer_id);
-- What the next remessa of an agreement takes: issued, not yet in a remessa.
create index boletos_waiting on boletos (tenant_id, agreement_id) where status = 'issued' and remessa_id is null;

create table remessa_items (
    tenant_id uuid not null references tenants (id),
    remessa_id uuid not null,
    boleto_id uuid not null,
    instruction text not null check (instruction in (
        'register', 'write_off', 'change_due_date', 'change_amount', 'grant_discount', 'cancel_discount',
        'protest', 'cancel_protest')),
    line_number integer check (line_number > 0),
    created_at timestamptz not null default now(),
    primary key (tenant_id, remessa_id, boleto_id, instruction),
    foreign key (tenant_id, remessa_id) references remessa_files (tenant_id, id),
    foreign key (tenant_id, boleto_id) references boletos (tenant_id, id)
);
-- Never registered twice: a boleto's second appearance in a remessa must be another instruction.
create unique index remessa_items_registered_once on remessa_items (tenant_id, boleto_id)
    where instruction = 'register';
create index remessa_items_boleto on remessa_items (tenant_id, boleto_id);

create table bank_files (
    id uuid primary key default gen_random_uuid(),
    tenant_id uuid not null references tenants (id),
    kind text not null check (kind in ('retorno', 'statement')),
    -- How it arrived: the presigned upload's S3 object, or the API's inline body (stored in S3 too).
    source text not null check (source in ('upload', 'inline')),
    s3_key text not null check (length(s3_key) between 1 and 1024),
    filename text check (length(filename) between 1 and 255),
    size_bytes bigint not null check (size_bytes >= 0),
    sha256 bytea not null check (octet_length(sha256) = 32),
    -- pending_parser: stored, no parser for it yet; parsed; refused: not a file we can trust (not
    -- CNAB, another agreement, totals that do not add up), with the reason; failed: the parser broke.
    status text not null check (status in ('pending_parser', 'parsed', 'refused', 'failed')),
    -- What the parser found: cnab240, cnab400, ofx, csv; and the agreement a retorno is of.
    format text check (format in ('cnab240', 'cnab400', 'ofx', 'csv')),
    agreement_id uuid,
    error_code text check (length(error_code) between 1 and 60),
    error_message text check (length(error_message) between 1 and 1000),
    line_count integer not null default 0 check (line_count >= 0),
    occurrence_count integer not null default 0 check (occurrence_count >= 0),
    -- Lines already recorded from another file (their idempotency key was known): not counted again.
    duplicate_count integer not null default 0 check (duplicate_count >= 0),
    unmatched_count integer not null default 0 check (unmatched_count >= 0),
    settled_cents bigint not null default 0 check (settled_cents >= 0),
    uploaded_by uuid,
    received_at timestamptz not null default now(),
    processed_at timestamptz,
    version integer not null default 1,
    unique (tenant_id, id),
    -- Idempotency: one row per content per shop.
    unique (tenant_id, sha256),
    check ((status in ('refused', 'failed')) = (error_code is not null)),
    foreign key (tenant_id, agreement_id) references bank_agreements (tenant_id, id)
);
create index bank_files_recent on bank_files (tenant_id, received_at desc, id desc);

create table bank_file_lines (
    id uuid primary key default gen_random_uuid(),
    tenant_id uuid not null references tenants (id),
    bank_file_id uuid not null,
    line_number integer not null check (line_number > 0),
    -- The parser's key for this occurrence (bank, agreement, nosso número, occurrence, date, value):
    -- the same occurrence in a later file (a retorno re-sent by the bank) is recorded once.
    idempotency_key text not null check (length(idempotency_key) between 1 and 200),
    kind text not null check (kind in (
        'entry_confirmed', 'settled', 'written_off', 'rejected', 'fee', 'due_date_changed', 'other')),
    occurrence_code text check (length(occurrence_code) between 1 and 10),
    nosso_numero bigint check (nosso_numero > 0),
    boleto_id uuid,
    amount_cents bigint not null default 0 check (amount_cents >= 0),
    paid_cents bigint not null default 0 check (paid_cents >= 0),
    fee_cents bigint not null default 0 check (fee_cents >= 0),
    interest_cents bigint not null default 0 check (interest_cents >= 0),
    discount_cents bigint not null default 0 check (discount_cents >= 0),
    occurred_on date,
    credited_on date,
    -- pending: matched to a boleto, its effect not applied yet; applied; unmatched: no boleto of
    -- the shop has that nosso número (for a person); resolved / ignored: a person decided.
    status text not null check (status in ('pending', 'applied', 'unmatched', 'resolved', 'ignored')),
    resolved_by uuid,
    resolved_at timestamptz,
    note text check (length(note) <= 500),
    created_at timestamptz not null default now(),
    unique (tenant_id, id),
    unique (tenant_id, idempotency_key),
    check ((status = 'unmatched') <= (boleto_id is null)),
    check ((status in ('resolved', 'ignored')) = (resolved_at is not null)),
    foreign key (tenant_id, bank_file_id) references bank_files (tenant_id, id),
    foreign key (tenant_id, boleto_id) references boletos (tenant_id, id)
);
create index bank_file_lines_file on bank_file_lines (tenant_id, bank_file_id, line_number);
create index bank_file_lines_unmatched on bank_file_lines (tenant_id, created_at) where status = 'unmatched';
create index bank_file_lines_boleto on bank_file_lines (tenant_id, boleto_id) where boleto_id is not null;

create table statement_lines (
    id uuid primary key default gen_random_uuid(),
    tenant_id uuid not null references tenants (id),
    bank_file_id uuid not null,
    line_number integer not null check (line_number > 0),
    -- The parser's key (the bank's FITID when it has one): a statement overlapping an earlier one
    -- records each line once.
    idempotency_key text not null check (length(idempotency_key) between 1 and 200),
    posted_on date not null,
    -- Signed: credits are positive, debits negative; never zero.
    amount_cents bigint not null check (amount_cents <> 0 and abs(amount_cents) <= 99999999999),
    description text check (length(description) <= 500),
    reference text check (length(reference) <= 200),
    created_at timestamptz not null default now(),
    unique (tenant_id, id),
    unique (tenant_id, idempotency_key),
    foreign key (tenant_id, bank_file_id) references bank_files (tenant_id, id)
);
create index statement_lines_posted on statement_lines (tenant_id, posted_on, amount_cents);

create table statement_matches (
    id uuid primary key default gen_random_uuid(),
    tenant_id uuid not null references tenants (id),
    statement_line_id uuid not null,
    -- automatic: the matcher's; manual: a person's.
    method text not null check (method in ('automatic', 'manual')),
    status text not null default 'suggested' check (status in ('suggested', 'confirmed', 'rejected')),
    -- The matcher's confidence, 0..100 (null for a person's match).
    score integer check (score between 0 and 100),
    -- The line's amount minus the items' (fees the bank kept, say): 0 for an exact match.
    difference_cents bigint not null default 0,
    confirmed_by uuid,
    confirmed_at timestamptz,
    created_at timestamptz not null default now(),
    unique (tenant_id, id),
    check ((status = 'confirmed') = (confirmed_at is not null and confirmed_by is not null)),
    foreign key (tenant_id, statement_line_id) references statement_lines (tenant_id, id)
);
-- A statement line is confirmed against one match at most.
create unique index statement_matches_confirmed_once on statement_matches (tenant_id, statement_line_id)
    where status = 'confirmed';
create index statement_matches_line on statement_matches (tenant_id, statement_line_id);

create table statement_match_items (
    tenant_id uuid not null references tenants (id),
    match_id uuid not null,
    -- One of: a retorno's settlement, or an Asaas charge (its transfer/credit).
    bank_file_line_id uuid,
    charge_id uuid,
    amount_cents bigint not null check (amount_cents > 0),
    created_at timestamptz not null default now(),
    check (num_nonnulls(bank_file_line_id, charge_id) = 1),
    unique (tenant_id, match_id, bank_file_line_id),
    unique (tenant_id, match_id, charge_id),
    foreign key (tenant_id, match_id) references statement_matches (tenant_id, id),
    foreign key (tenant_id, bank_file_line_id) references bank_file_lines (tenant_id, id),
    foreign key (tenant_id, charge_id) references charges (tenant_id, id)
);
create index statement_match_items_match on statement_match_items (tenant_id, match_id);

do $$
declare t text;
begin
    foreach t in array array['bank_agreements', 'remessa_files', 'boletos', 'remessa_items', 'bank_files',
                             'bank_file_lines', 'statement_lines', 'statement_matches',
                             'statement_match_items'] loop
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
grant select, insert, update on bank_agreements, remessa_files, boletos, bank_files, bank_file_lines,
    statement_lines, statement_matches to assistec_app;
-- Items are written once with their remessa or match, never changed.
grant select, insert on remessa_items, statement_match_items to assistec_app;

-- A confirmed match never changes: neither the match (update, delete) nor its items (insert, update,
-- delete). The in-place restore (a used ops permit in this transaction, migration 0034) deletes the
-- shop's rows and writes them back as they were, so it may. The function runs as its caller: whoever
-- may see an item to change it (its shop's transaction, under row-level security) sees its match too.
-- It asks backup_restore_permitted, which tells only whether the current transaction used a permit for
-- the shop: the app role may call it.
grant execute on function backup_restore_permitted(uuid) to assistec_app;

create function statement_match_frozen() returns trigger
language plpgsql
set search_path = pg_catalog, public
as $$
declare
    v_match uuid;
    v_tenant uuid;
    v_confirmed boolean;
begin
    if tg_table_name = 'statement_matches' then
        if old.status <> 'confirmed' then
            return case when tg_op = 'DELETE' then old else new end;
        end if;
        v_tenant := old.tenant_id;
    else
        v_match := case when tg_op = 'INSERT' then new.match_id else old.match_id end;
        v_tenant := case when tg_op = 'INSERT' then new.tenant_id else old.tenant_id end;
        select m.status = 'confirmed' into v_confirmed
        from public.statement_matches m where m.tenant_id = v_tenant and m.id = v_match;
        if not coalesce(v_confirmed, false) then
            return case when tg_op = 'DELETE' then old else new end;
        end if;
    end if;
    if public.backup_restore_permitted(v_tenant) then
        return case when tg_op = 'DELETE' then old else new end;
    end if;
    raise exception 'a confirmed reconciliation match cannot be changed (%)', tg_table_name
        using errcode = 'P0001', constraint = 'statement_match_confirmed';
end
$$;
revoke all on function statement_match_frozen() from public;

create trigger statement_matches_frozen before update or delete on statement_matches
    for each row execute function statement_match_frozen();
create trigger statement_match_items_frozen before insert or update or delete on statement_match_items
    for each row execute function statement_match_frozen();
