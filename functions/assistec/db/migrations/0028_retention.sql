-- Retention (issue 13 §4): what the policies say is kept no longer is purged by a daily job, a bounded
-- batch per table per run (the next run goes on), through one SECURITY DEFINER function: the app role
-- never deletes across shops itself.
--
--   webhook_inbox, platform_webhook_inbox  processed deliveries, 90 days (Asaas stops retrying long before)
--   whatsapp_inbox                          processed deliveries, 30 days (the messages live in wa_messages)
--   outbox                                  published events, 30 days (the bus's archive keeps them)
--   login_attempts                          30 days (the lockout window is minutes)
--   signup_requests                         expired or confirmed, 30 days
--   refresh_tokens                          30 days after they expire (a revoked one is kept until then:
--                                           replaying it must still end its session)
--   google_oauth_states                     expired, 1 day
--   email_messages                          13 months (the shop's mail log; the audit log is kept)
-- Kept: the audit log, orders and everything a shop owns (its backups and its LGPD export carry them).

-- The owner (the migrator) sees rows under FORCE ROW LEVEL SECURITY only through policies naming it:
-- reading them (to find the expired ones) and deleting them, nothing else.
do $$
declare t text;
begin
    foreach t in array array['whatsapp_inbox', 'refresh_tokens', 'google_oauth_states', 'email_messages'] loop
        execute format('create policy retention_read on %I for select to %I using (true)', t, current_user);
        execute format('create policy retention_purge on %I for delete to %I using (true)', t, current_user);
    end loop;
end
$$;

create function purge_expired(p_now timestamptz, p_batch integer)
returns table (what text, purged bigint)
language plpgsql security definer set search_path = pg_catalog, public as $$
declare
    n bigint;
begin
    delete from webhook_inbox where ctid = any(array(
        select ctid from webhook_inbox where processed_at < p_now - interval '90 days' limit p_batch));
    get diagnostics n = row_count; what := 'webhook_inbox'; purged := n; return next;

    delete from platform_webhook_inbox where ctid = any(array(
        select ctid from platform_webhook_inbox where processed_at < p_now - interval '90 days' limit p_batch));
    get diagnostics n = row_count; what := 'platform_webhook_inbox'; purged := n; return next;

    delete from whatsapp_inbox where ctid = any(array(
        select ctid from whatsapp_inbox where processed_at < p_now - interval '30 days' limit p_batch));
    get diagnostics n = row_count; what := 'whatsapp_inbox'; purged := n; return next;

    delete from outbox where ctid = any(array(
        select ctid from outbox where published_at < p_now - interval '30 days' limit p_batch));
    get diagnostics n = row_count; what := 'outbox'; purged := n; return next;

    delete from login_attempts where ctid = any(array(
        select ctid from login_attempts where at < p_now - interval '30 days' limit p_batch));
    get diagnostics n = row_count; what := 'login_attempts'; purged := n; return next;

    delete from signup_requests where ctid = any(array(
        select ctid from signup_requests
        where greatest(expires_at, coalesce(confirmed_at, expires_at)) < p_now - interval '30 days' limit p_batch));
    get diagnostics n = row_count; what := 'signup_requests'; purged := n; return next;

    delete from refresh_tokens where ctid = any(array(
        select ctid from refresh_tokens where expires_at < p_now - interval '30 days' limit p_batch));
    get diagnostics n = row_count; what := 'refresh_tokens'; purged := n; return next;

    delete from google_oauth_states where ctid = any(array(
        select ctid from google_oauth_states where expires_at < p_now - interval '1 day' limit p_batch));
    get diagnostics n = row_count; what := 'google_oauth_states'; purged := n; return next;

    delete from email_messages where ctid = any(array(
        select ctid from email_messages where created_at < p_now - interval '13 months' limit p_batch));
    get diagnostics n = row_count; what := 'email_messages'; purged := n; return next;
end
$$;
revoke all on function purge_expired(timestamptz, integer) from public;
grant execute on function purge_expired(timestamptz, integer) to assistec_app;
