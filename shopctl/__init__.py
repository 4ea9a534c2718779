"""The local runtime of the shop: the one description of its processes (``processes``), and what starts
them: supervisor for ``./manage_all.sh up`` (``supervisor``), child processes for the cross-service tests
and the benchmark (``launcher``), and the command line (``cli``).

Development tooling: the runtime image does not contain it (.dockerignore).
"""
