-- The ops role (backups, cross-tenant jobs) reads every shop's rows through its own policy rather
-- than the BYPASSRLS attribute: on PostgreSQL 16+ only a role that has BYPASSRLS may grant it, which
-- RDS's master user is not guaranteed to have. The policy applies to assistec_ops alone; the app role
-- stays bound to its tenant. Writes stay with the app: ops only reads.
do $$
declare
    t text;
begin
    foreach t in array array['tenants', 'users', 'refresh_tokens', 'tenant_settings', 'audit_log'] loop
        execute format('create policy ops_read on %I for select to assistec_ops using (true)', t);
        execute format('grant select on %I to assistec_ops', t);
    end loop;
end
$$;
grant usage on schema public to assistec_ops;
grant select on schema_migrations, login_failures to assistec_ops;
