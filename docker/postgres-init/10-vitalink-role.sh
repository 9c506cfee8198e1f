#!/bin/sh
# Run once by the postgres image on an empty data volume (/docker-entrypoint-initdb.d),
# as the superuser POSTGRES_USER (docker-compose.yml). It creates the two roles of
# README, "Database roles", neither a superuser, neither with CREATEDB or CREATEROLE:
# - vitalink_owner owns the vitalink database and its public schema: the migrations run
#   as this role (the compose service `migrate`, DATABASE_MIGRATION_URL) and own every
#   table; they grant the service role what it needs, nothing more.
# - vitalink is the role the service connects as (DATABASE_URL): CONNECT on the
#   database and USAGE on the schema here, its table privileges from the migrations.
#   It owns nothing, so it cannot UPDATE, DELETE or TRUNCATE audit_log, nor drop its
#   trigger.
# btree_gist, which the first migration asks for, is created here by the superuser.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v owner_password="$VITALINK_OWNER_PASSWORD" -v service_password="$VITALINK_DB_PASSWORD" \
  -v db="$POSTGRES_DB" <<'SQL'
CREATE ROLE vitalink_owner LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
  PASSWORD :'owner_password';
CREATE ROLE vitalink LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
  PASSWORD :'service_password';
ALTER DATABASE :"db" OWNER TO vitalink_owner;
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
GRANT CONNECT ON DATABASE :"db" TO vitalink;
ALTER SCHEMA public OWNER TO vitalink_owner;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO vitalink;
CREATE EXTENSION IF NOT EXISTS btree_gist;
SQL
