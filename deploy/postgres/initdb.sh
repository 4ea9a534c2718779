#!/bin/sh
# Postgres container entrypoint hook: create the services' schemas and roles
# in the database the official image has just created (POSTGRES_DB).
set -eu
psql --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v users_password="$USERS_DB_PASSWORD" \
  -v catalog_password="$CATALOG_DB_PASSWORD" \
  -v orders_password="$ORDERS_DB_PASSWORD" \
  -v createdb=false \
  -f /docker-entrypoint-initdb.d/bootstrap.sql.in
