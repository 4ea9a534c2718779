"""``common.kombu_redis_patches`` still matches the libraries it patches, and is installed.

Every service's suite runs these (through ``common_testing.infrastructure``). A failure here after a
dependency upgrade is expected: it names the patch to re-check against the new code; once re-checked (and
changed if need be), record the new versions and hashes in ``common.kombu_redis_patches``
(``python -m common.kombu_redis_patches`` prints them).
"""

from importlib.metadata import version

from common import kombu_redis_patches
from common.kombu_redis_patches import CHECKED_AGAINST, PATCHES, source_sha256

__all__ = [
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
