-- Which tables hold a shop's rows, asked once per shop by the nightly backup (services/backup/export)
-- inside the shop's snapshot, without planning fifty-odd probes every time.
--
-- The export skips the COPY of a table that holds none of the shop's rows; it found them with one
-- statement of an EXISTS probe per table. That statement is planned again for every shop (the app
-- connects through RDS Proxy / PgBouncer in transaction mode: no prepared statements), and planning
-- it cost more than four times running it: ~4 ms of the database's CPU per shop, a quarter of a
-- shop's export. PL/pgSQL keeps the plans of its static statements for the life of the database
-- session, across transactions and whatever pooler is in between (no protocol-level prepare, no
-- session setting: nothing to pin): the same probes in a function are planned once per session.
--
-- backup_presence(shop) returns one boolean per table of backup_presence_tables(), in that order:
-- every table of schema public the app role may read that is `tenants` or has a `tenant_id`. It is
-- SECURITY INVOKER: run by the app role in the shop's transaction, row-level security applies as to
-- the probes it replaces. Both functions are written from the catalog by backup_refresh_presence(),
-- which this migration runs and the migration runner runs again after any migration it applies
-- (assistec.db.migrate), so they follow the tables. A table created, dropped or renamed outside the
-- migrations makes the list differ from the catalog: the export then probes with its own statement,
-- as before. A probed table gone at the call returns null instead of failing the shop's backup.

create or replace function backup_refresh_presence() returns void
language plpgsql
set search_path = pg_catalog, public
as $refresh$
declare
    probes text;
    names text;
begin
    select coalesce(string_agg(format('exists (select from public.%I where %I = $1)',
                                      c.relname, case when c.relname = 'tenants' then 'id' else 'tenant_id' end),
                               ', ' order by c.relname), ''),
           coalesce(string_agg(quote_literal(c.relname), ', ' order by c.relname), '')
      into probes, names
      from pg_class c
     where c.relnamespace = 'public'::regnamespace
       and c.relkind in ('r', 'p')
       and has_table_privilege('assistec_app', c.oid, 'SELECT')
       and (c.relname = 'tenants' or exists (
               select 1 from pg_attribute t
                where t.attrelid = c.oid and t.attname = 'tenant_id' and not t.attisdropped));

    execute format($f$
        create or replace function public.backup_presence(shop uuid) returns boolean[]
        language plpgsql stable
        as $body$
        begin
            return array[%s]::boolean[];
        exception when undefined_table or undefined_column or insufficient_privilege then
            return null;
        end
        $body$$f$, probes);
    execute format($f$
        create or replace function public.backup_presence_tables() returns text[]
        language sql immutable
        as $body$ select array[%s]::text[] $body$$f$, names);

    revoke all on function public.backup_presence(uuid) from public;
    revoke all on function public.backup_presence_tables() from public;
    grant execute on function public.backup_presence(uuid) to assistec_app;
    grant execute on function public.backup_presence_tables() to assistec_app;
end
$refresh$;

revoke all on function backup_refresh_presence() from public;

select backup_refresh_presence();
