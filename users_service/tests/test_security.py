"""Host header, security headers and the production settings: the checks every service shares."""

from common_testing.security import *  # noqa: F403
