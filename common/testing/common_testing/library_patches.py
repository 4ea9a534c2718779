"""``common.kombu_redis_patches`` still matches the libraries it patches, and is installed.

Every service's suite runs these (through ``common_testing.infrastructure``). A failure here after a
dependency upgrade is expected: it names the patch to re-check against the new code; once re-checked (and
changed if need be), record the new versions and hashes in ``common.kombu_redis_patches``
(``python -m common.kombu_redis_patches`` prints them).
"""

import uuid
from importlib.metadata import version
from typing import Any
from unittest import mock

from django.conf import settings
from kombu import Connection, Exchange, Queue

from common import kombu_redis_patches
from common.kombu_redis_patches import CHECKED_AGAINST, PATCHES, source_sha256

__all__ = [
    "test_a_claimed_delivery_is_recorded_in_redis_by_the_claim_alone",
    "test_kombu_patches_are_installed",
    "test_patched_internals_are_the_code_the_patches_were_checked_against",
    "test_patched_libraries_are_the_versions_the_patches_were_checked_against",
]


def test_patched_libraries_are_the_versions_the_patches_were_checked_against():
    installed = {name: version(name) for name in CHECKED_AGAINST}

    assert installed == CHECKED_AGAINST, (
        f"installed {installed}, but common.kombu_redis_patches was checked against {CHECKED_AGAINST}: re-check "
        "every patch there against the new versions, then update CHECKED_AGAINST (and the hashes that changed)"
    )


def test_patched_internals_are_the_code_the_patches_were_checked_against():
    changed = [
        f"{internal.path} changed (sha256 {source_sha256(internal.path)}, recorded {internal.source_sha256}): "
        f"re-check {patch.name}, which assumes that {patch.assumes}"
        for patch in PATCHES
        for internal in patch.internals
        if source_sha256(internal.path) != internal.source_sha256
    ]

    assert changed == [], "\n".join(changed)


def test_kombu_patches_are_installed():
    from kombu.transport import redis as kombu_redis

    # The messaging app installed them when Django set up; a second install changes nothing.
    patched = (kombu_redis.Channel._create_client, kombu_redis.QoS.ack)
    kombu_redis_patches.install()

    assert kombu_redis.Channel.reuses_sync_client is True
    assert kombu_redis.QoS.tolerates_closed_channel is True
    assert kombu_redis.Channel.claims_atomically is True
    assert (kombu_redis.Channel._create_client, kombu_redis.QoS.ack) == patched
    assert kombu_redis_patches.original("kombu.transport.redis:Channel._create_client") is not patched[0]


def test_a_claimed_delivery_is_recorded_in_redis_by_the_claim_alone():
    from kombu.transport import redis as kombu_redis

    name = f"patch-test-{uuid.uuid4().hex}"
    queue = Queue(name, Exchange(name, type="direct"), routing_key=name)
    received: list[Any] = []
    with Connection(settings.CELERY_BROKER_URL) as connection:
        channel = connection.default_channel
        client = channel.client
        try:
            producer = connection.Producer()
            for number in (1, 2):
                producer.publish({"n": number}, exchange=queue.exchange, routing_key=name, declare=[queue])

            # when: a consumer (with acknowledgements) receives the first; kombu's own record would use a pipeline
            with (
                mock.patch.object(kombu_redis.QoS, "pipe_or_acquire", side_effect=AssertionError("recorded twice")),
                connection.Consumer(queue, callbacks=[lambda body, message: received.append(message)]),
            ):
                connection.drain_events(timeout=5)

            # then: it is unacknowledged in Redis (the claim script recorded it) until it is acknowledged
            [message] = received
            assert message.payload == {"n": 1}
            assert client.hexists(channel.unacked_key, message.delivery_tag)
            assert client.zscore(channel.unacked_index_key, message.delivery_tag) is not None
            message.ack()
            assert not client.hexists(channel.unacked_key, message.delivery_tag)

            # and a message taken without the claim (basic_get) is recorded by kombu's own QoS.append
            taken = queue(channel).get()
            assert taken is not None
            assert taken.payload == {"n": 2}
            assert client.hexists(channel.unacked_key, taken.delivery_tag)
            taken.ack()
            assert not client.hexists(channel.unacked_key, taken.delivery_tag)
        finally:
            queue(channel).delete()
