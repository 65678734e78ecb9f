-- Replies written as queued whose send-queue message was lost (SQS refused after the commit): the
-- scheduled relay finds them across shops through a SECURITY DEFINER function (owned by the migrator,
-- search_path pinned, executable by the app role only), like the inbox sweep of migration 0015, and
-- hands them to the send queue again (the sender sends a message once whatever the queue holds).

do $$
begin
    execute format('create policy definer_access on wa_messages for select to %I using (true)', current_user);
end
$$;

-- Our messages still queued after p_older_than_s seconds (and less than a day old: a reply a day late
-- is worse than none, and staff see it as queued): shop and message ids only.
create function whatsapp_stale_replies(p_older_than_s integer, p_limit integer)
returns table (tenant_id uuid, message_id uuid)
language sql stable security definer
set search_path = pg_catalog, public
as $$
    select m.tenant_id, m.id from public.wa_messages m
    where m.direction = 'out' and m.status = 'queued'
      and m.created_at < now() - make_interval(secs => p_older_than_s)
      and m.created_at > now() - interval '1 day'
    order by m.created_at
    limit p_limit
$$;

revoke all on function whatsapp_stale_replies(integer, integer) from public;
grant execute on function whatsapp_stale_replies(integer, integer) to assistec_app;
