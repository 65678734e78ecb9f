-- The hourly reconciliation lists the shops with an Asaas account through a SECURITY DEFINER
-- function (owned by the migrator, search_path pinned, executable by the app role only), like the
-- other cross-shop reads of migration 0015; the policy that opened payment_accounts to any
-- transaction setting app.reconciler (a flag the app role could set itself) is dropped.

-- The migrator sees payment_accounts' rows (row-level security is FORCED) through this policy,
-- which applies to it alone and lets it read, nothing else.
do $$
begin
    execute format('create policy definer_access on payment_accounts for select to %I using (true)',
                   current_user);
end
$$;

-- Shops not reconciled within p_not_since_s seconds, those reconciled longest ago (never first)
-- first: their ids only.
create function reconcile_shops_due(p_not_since_s integer, p_limit integer) returns setof uuid
language sql stable security definer
set search_path = pg_catalog, public
as $$
    select tenant_id from public.payment_accounts
    where last_reconciled_at is null or last_reconciled_at < now() - make_interval(secs => p_not_since_s)
    order by last_reconciled_at nulls first, tenant_id
    limit p_limit
$$;

revoke all on function reconcile_shops_due(integer, integer) from public;
grant execute on function reconcile_shops_due(integer, integer) to assistec_app;

drop policy reconciler on payment_accounts;
