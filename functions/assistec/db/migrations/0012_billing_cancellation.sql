-- Cancellation, and one statement to enter a shop (its billing status included).
-- A shop that cancels keeps its access until the end of what it paid for (the next due date, or the
-- trial's end); the daily run then marks it cancelled. A shop in arrears is cancelled at once.
alter table tenant_subscriptions add column cancel_on date;
create index tenant_subscriptions_cancelling on tenant_subscriptions (cancel_on) where cancel_on is not null;

-- Entering a shop's unit of work: the transaction-local tenant and user, and the shop's billing
-- status, in one statement (one round trip). The API refuses a suspended shop from this answer
-- before any of the request's own statements run. Runs as the caller, so row-level security
-- applies to the read (it sees only the shop just set).
create function enter_tenant(p_tenant uuid, p_user text) returns text
language plpgsql volatile
as $$
begin
    perform set_config('app.tenant_id', p_tenant::text, true);
    perform set_config('app.user_id', coalesce(p_user, ''), true);
    return (select billing_status from tenants where id = p_tenant);
end
$$;
revoke all on function enter_tenant(uuid, text) from public;
grant execute on function enter_tenant(uuid, text) to assistec_app, assistec_ops;
