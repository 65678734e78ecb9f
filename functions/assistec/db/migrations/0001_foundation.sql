-- Extensions the product relies on (all trusted: the database owner may create them, on RDS too).
create extension if not exists pgcrypto;   -- gen_random_uuid(), digests
create extension if not exists citext;     -- case-insensitive e-mails
create extension if not exists unaccent;   -- accent-insensitive search ("João" = "joao")
create extension if not exists pg_trgm;    -- prefix/substring search on names

-- The app role (NOBYPASSRLS, used by the Lambdas) reads the schema version for /health.
grant usage on schema public to assistec_app;
grant select on schema_migrations to assistec_app;
