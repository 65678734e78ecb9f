-- Banking (issue 15 §3): instructions to the bank about a boleto it already has, waiting for the
-- agreement's next remessa.
--
-- boleto_instructions    a write-off (baixa) or a due-date change (alteração de vencimento) asked for
--                        a boleto a remessa already sent and still open. 'pending' until the next
--                        remessa of the agreement carries it ('sent', with that remessa), or 'void'
--                        when the boleto closed before (settled, written off by the bank) or a later
--                        write-off made a pending due-date change pointless. One pending instruction
--                        of each kind per boleto: a second due-date change replaces the first one's
--                        date while it waits. A boleto never sent is not instructed: it is cancelled.
--
-- As every table: tenant_id, row-level security enabled and forced with the house policy, the ops
-- role's read policy, app grants without DELETE.

create table boleto_instructions (
    id uuid primary key default gen_random_uuid(),
    tenant_id uuid not null references tenants (id),
    agreement_id uuid not null,
    boleto_id uuid not null,
    instruction text not null check (instruction in ('write_off', 'change_due_date')),
    -- The new due date (the shop's calendar day) of a due-date change; null for anything else.
    due_date date,
    status text not null default 'pending' check (status in ('pending', 'sent', 'void')),
    -- The remessa that carried it (set when sent).
    remessa_id uuid,
    -- Who asked (no foreign key, as the audit log: a restore replaces the users).
    requested_by uuid,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    unique (tenant_id, id),
    check ((instruction = 'change_due_date') = (due_date is not null)),
    check ((status = 'sent') = (remessa_id is not null)),
    foreign key (tenant_id, agreement_id) references bank_agreements (tenant_id, id),
    foreign key (tenant_id, boleto_id) references boletos (tenant_id, id),
    foreign key (tenant_id, remessa_id) references remessa_files (tenant_id, id)
);
-- One waiting instruction of each kind per boleto.
create unique index boleto_instructions_one_pending on boleto_instructions (tenant_id, boleto_id, instruction)
    where status = 'pending';
-- What the next remessa of an agreement carries.
create index boleto_instructions_waiting on boleto_instructions (tenant_id, agreement_id)
    where status = 'pending';
create index boleto_instructions_boleto on boleto_instructions (tenant_id, boleto_id);

alter table boleto_instructions enable row level security;
alter table boleto_instructions force row level security;
create policy tenant_isolation on boleto_instructions
    using (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
    with check (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);
create policy ops_read on boleto_instructions for select to assistec_ops using (true);
grant select on boleto_instructions to assistec_ops;
grant select, insert, update on boleto_instructions to assistec_app;
