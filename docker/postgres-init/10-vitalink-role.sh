#!/bin/sh
# Run once by the postgres image on an empty data volume (/docker-entrypoint-initdb.d),
# as the superuser POSTGRES_USER (docker-compose.yml). It creates the role the service
# connects as: no superuser, no CREATEDB, no CREATEROLE; it may connect to the
# vitalink database and create its tables in the public schema (the service applies
# its migrations at start, and owns the tables it creates). btree_gist, which the first
# migration asks for, is created here by the superuser.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v service_password="$VITALINK_DB_PASSWORD" -v db="$POSTGRES_DB" <<'SQL'
CREATE ROLE vitalink LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
  PASSWORD :'service_password';
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE :"db" TO vitalink;
GRANT USAGE, CREATE ON SCHEMA public TO vitalink;
CREATE EXTENSION IF NOT EXISTS btree_gist;
SQL
