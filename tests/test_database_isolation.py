"""Each service's role reaches its own schema and no other: Postgres enforces it."""

import itertools

import psycopg2
import pytest
from psycopg2 import errors

from tests.conftest import SERVICES

SCHEMAS = {service: queue for service, queue in SERVICES.items()}


def connect_as(system, service):
    return psycopg2.connect(system.role_database_url(service))


@pytest.mark.parametrize("service", list(SERVICES))
def test_role_search_path_is_its_own_schema(system, service):
    with connect_as(system, service) as connection, connection.cursor() as cursor:
        cursor.execute("SHOW search_path")
        assert cursor.fetchone()[0] == SCHEMAS[service]
        cursor.execute("SELECT count(*) FROM django_migrations")
        assert cursor.fetchone()[0] > 0


@pytest.mark.parametrize(("service", "other"), list(itertools.permutations(SERVICES, 2)))
def test_role_cannot_read_another_service_schema(system, service, other):
    connection = connect_as(system, service)
    try:
        with connection.cursor() as cursor, pytest.raises(errors.InsufficientPrivilege):
            cursor.execute(f"SELECT * FROM {SCHEMAS[other]}.django_migrations")  # noqa: S608 - fixed names
    finally:
        connection.close()


def test_catalog_role_cannot_read_the_orders_schema(system):
    connection = connect_as(system, "catalog_service")
    try:
        with connection.cursor() as cursor, pytest.raises(errors.InsufficientPrivilege, match="schema orders"):
            cursor.execute("SELECT * FROM orders.django_migrations")
    finally:
        connection.close()


@pytest.mark.parametrize("service", list(SERVICES))
def test_role_cannot_create_objects_in_public(system, service):
    connection = connect_as(system, service)
    try:
        with connection.cursor() as cursor, pytest.raises(errors.InsufficientPrivilege):
            cursor.execute("CREATE TABLE public.intruder (id int)")
    finally:
        connection.close()
