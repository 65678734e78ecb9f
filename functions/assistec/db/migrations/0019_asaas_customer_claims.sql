-- A claim on making a customer's Asaas customer (issue 10 §2): two charges of different orders of the
-- same customer, at the same instant, each found no Asaas customer and each created one. The first
-- request claims the customer (committed state, not a lock held across the call); a second one that
-- finds a live claim is refused (409) before anything is written; a claim whose request died runs out.
create table asaas_customer_claims (
    tenant_id uuid not null references tenants (id),
    customer_id uuid not null,
    claim_token uuid not null,
    claimed_until timestamptz not null,
    primary key (tenant_id, customer_id),
    foreign key (tenant_id, customer_id) references customers (tenant_id, id)
);
alter table asaas_customer_claims enable row level security;
alter table asaas_customer_claims force row level security;
create policy tenant_isolation on asaas_customer_claims
    using (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
    with check (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);
create policy ops_read on asaas_customer_claims for select to assistec_ops using (true);
grant select on asaas_customer_claims to assistec_ops;
grant select, insert, update, delete on asaas_customer_claims to assistec_app;
