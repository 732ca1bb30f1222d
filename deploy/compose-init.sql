-- Roles and database for djdash in the postgres:15 container (run once, when the data volume is
-- initialised, by the image's entrypoint as the superuser). The same roles deploy/pg.sh creates:
--   djdash_owner  owns database djdash and runs `djdash migrate` (which grants djdash_app its
--                 table, sequence and function rights);
--   djdash_app    the nodes' role: NOSUPERUSER NOBYPASSRLS, so row-level security applies to it.
-- Passwords come from the container environment (psql 15's \getenv), never from this file.
\set ON_ERROR_STOP on
\getenv owner_pw DJDASH_OWNER_PASSWORD
\getenv app_pw DJDASH_APP_PASSWORD
\if :{?owner_pw}
\else
  DO $$ BEGIN RAISE EXCEPTION 'DJDASH_OWNER_PASSWORD is not set in the postgres container'; END $$;
\endif
\if :{?app_pw}
\else
  DO $$ BEGIN RAISE EXCEPTION 'DJDASH_APP_PASSWORD is not set in the postgres container'; END $$;
\endif

CREATE ROLE djdash_owner LOGIN CREATEDB NOSUPERUSER NOCREATEROLE NOREPLICATION PASSWORD :'owner_pw';
CREATE ROLE djdash_app LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOREPLICATION PASSWORD :'app_pw';
CREATE DATABASE djdash OWNER djdash_owner;
-- Only the owner may create objects in the new database's public schema (PostgreSQL 15 default,
-- stated here so an older template cannot widen it).
\connect djdash
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
