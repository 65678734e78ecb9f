-- The quote flow (issue 11 §5): a Step Functions execution per quote sent to the customer, waiting
-- for the decision with a task token kept here (server-side, never in a link); the decision may now
-- come from a WhatsApp reply (its message kept as evidence) or from the flow's expiry.
alter table quotes drop constraint quotes_decided_via_check;
alter table quotes add constraint quotes_decided_via_check
    check (decided_via in ('link', 'staff', 'whatsapp', 'expired'));

create table quote_flows (
    tenant_id uuid not null references tenants (id),
    quote_id uuid not null,
    execution_arn text check (length(execution_arn) <= 2048),
    task_token text check (length(task_token) <= 4096),
    channel text check (channel in ('whatsapp', 'email', 'none')),
    -- The customer's WhatsApp reply that decided the quote (wa_messages.id): the evidence, as the
    -- link keeps its IP and browser.
    decision_message_id uuid,
    started_by uuid,
    started_at timestamptz not null default now(),
    finished_at timestamptz,
    outcome text,
    primary key (tenant_id, quote_id),
    foreign key (tenant_id, quote_id) references quotes (tenant_id, id)
);
alter table quote_flows enable row level security;
alter table quote_flows force row level security;
create policy tenant_isolation on quote_flows
    using (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
    with check (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);
create policy ops_read on quote_flows for select to assistec_ops using (true);
grant select on quote_flows to assistec_ops;
grant select, insert, update on quote_flows to assistec_app;
