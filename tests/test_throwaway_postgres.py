"""The throwaway Postgres cluster of the tests and the chaos run keeps every commit it acknowledged when killed.

The chaos run SIGKILLs it (a crash): an order answered 201 must still exist after the restart. With
``synchronous_commit=off`` a commit was acknowledged before its write-ahead log left Postgres's memory, and the
chaos run with seed 821417 lost an order so (its reservation, sent after the commit, was applied; the order was
not there any more).
"""

import contextlib
import signal

import psycopg2

from shopctl.launcher import throwaway_cluster


def test_commits_acknowledged_just_before_the_cluster_is_killed_are_there_after_its_restart():
    # given: a table, and 50 rows committed one by one, the last a moment before the crash
    with throwaway_cluster() as cluster:
        with contextlib.closing(psycopg2.connect(cluster.admin_url)) as connection:
            connection.autocommit = True
            with connection.cursor() as cursor:
                cursor.execute("CREATE TABLE committed (id integer PRIMARY KEY)")
                for number in range(50):
                    cursor.execute("INSERT INTO committed VALUES (%s)", [number])

            # when: the server and its backends are killed at once, and started again (recovery from the log)
            cluster.stop(sig=signal.SIGKILL)
        cluster.start()

        # then: every acknowledged commit is there
        with contextlib.closing(psycopg2.connect(cluster.admin_url)) as connection, connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM committed")
            [(count,)] = cursor.fetchall()
        assert count == 50
