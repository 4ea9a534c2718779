"""Test support shared by the services' test suites: the distribution shop-common-testing (``common/testing/``).

Kept out of ``common`` so that the runtime image, which installs only ``common``, ships no test code;
``./manage_all.sh`` installs both in the development environment.

- ``fixtures``: pytest fixtures (``pytest_plugins = ["common_testing.fixtures"]``).
- ``auth``: ``TestSigner``, a throwaway key pair that signs tokens as users_service would.
- ``messaging``: the ``broker`` fixture, ``deliver`` and ``queued_messages``.
- ``infrastructure``, ``auth_contract``, ``deactivation_contract``, ``admin_sso_contract``: tests every service
  runs against itself; ``infrastructure`` also brings common's own tests (``messaging_queries``,
  ``library_patches``), as common has no suite of its own.
"""
