-- One database, one schema and one login role per service.
--
-- Each role owns its schema, finds it first on its search_path and has no
-- privilege on the other schemas, so isolation is enforced by Postgres.
-- Idempotent: run it again to create what is missing and reset passwords.
--
-- psql variables (psql -v name=value):
--   users_password, catalog_password, orders_password   the roles' passwords
--   createdb                                             'true' lets the roles create
--                                                        their own test databases (local only)
-- Run it connected, as a superuser, to the database that the services use.

\set ON_ERROR_STOP on

SELECT format('CREATE ROLE %I LOGIN', role_name)
FROM (VALUES ('users_svc'), ('catalog_svc'), ('orders_svc')) AS roles(role_name)
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = role_name)
\gexec

SELECT format('ALTER ROLE %I WITH LOGIN PASSWORD %L %s', role_name, password,
              CASE WHEN :'createdb' = 'true' THEN 'CREATEDB' ELSE 'NOCREATEDB' END)
FROM (VALUES ('users_svc', :'users_password'),
             ('catalog_svc', :'catalog_password'),
             ('orders_svc', :'orders_password')) AS roles(role_name, password)
\gexec

ALTER ROLE users_svc SET search_path = users;
ALTER ROLE catalog_svc SET search_path = catalog;
ALTER ROLE orders_svc SET search_path = orders;

CREATE SCHEMA IF NOT EXISTS users AUTHORIZATION users_svc;
CREATE SCHEMA IF NOT EXISTS catalog AUTHORIZATION catalog_svc;
CREATE SCHEMA IF NOT EXISTS orders AUTHORIZATION orders_svc;

-- Nobody but the owner may use a service schema, and nobody may create objects in public.
REVOKE ALL ON SCHEMA users, catalog, orders FROM PUBLIC;
REVOKE ALL ON SCHEMA public FROM PUBLIC;

SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', current_database())
\gexec
SELECT format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO users_svc, catalog_svc, orders_svc', current_database())
\gexec
