"""Create the service's schema before its first migration, where the role may.

In the shared database the schemas are created by the bootstrap script
(``deploy/postgres/bootstrap.sql``) and the service role cannot create others.
In a test database, which the service role creates and owns, the schema does
not exist yet: it is made here, so tests run with the same search_path as
production.
"""

from django.conf import settings
from django.db import connections


def ensure_service_schema(*, using: str = "default", **kwargs: object) -> None:
    schema = settings.DATABASE_SCHEMA
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [schema])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE SCHEMA "{schema}"')
