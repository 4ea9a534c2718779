"""Failed-login lockout, per account and per client address, in the shared Redis cache.

Rules (settings, all overridable from the environment):

- ``LOGIN_FAILURES_PER_ACCOUNT`` failed logins for one username within
  ``LOGIN_FAILURE_WINDOW_SECONDS`` lock that account for
  ``LOGIN_LOCKOUT_SECONDS``; ``LOGIN_FAILURES_PER_ADDRESS`` failures from one
  client address lock that address the same way.
- While locked, every attempt is refused with 429 and ``Retry-After`` — the
  right password too, so a locked account cannot be used as an oracle.
- A successful login clears its account's failure count (not the address's:
  one good account must not launder an address that guesses others').

Counters live in Django's cache, which is Redis (never a per-process locmem
cache, since the web server runs several worker processes). If Redis is unreachable the
check fails open with a warning: logins keep working while the broker/cache
is repaired, instead of every login turning into a 500.

The client address is ``REMOTE_ADDR``: behind a reverse proxy, have the web
server take it from the proxy's ``X-Forwarded-For`` for the proxy's address
only (granian: wrap the application in ``wsgi.py`` with
``granian.utils.proxies.wrap_wsgi_with_proxy_headers(application, trusted_hosts=...)``),
never trust a client-supplied header here. Usernames are compared case-insensitively and
hashed into the cache key.
"""

import hashlib
import logging
import time

from django.conf import settings
from django.core.cache import cache
from redis.exceptions import RedisError

from common.errors import RateLimitError

logger = logging.getLogger(__name__)


class LoginLocked(RateLimitError):
    default_message = "Too many failed logins. Try again later."
    default_code = "throttled"


def _account_key(username: str) -> str:
    return "login:account:" + hashlib.sha256(username.strip().lower().encode()).hexdigest()


def _address_key(client_address: str) -> str:
    return f"login:address:{client_address}"


def login_lock_check(*, username: str, client_address: str) -> None:
    """Raise ``LoginLocked`` (429) when the account or the address is locked out."""
    try:
        locks = cache.get_many([f"{_account_key(username)}:locked", f"{_address_key(client_address)}:locked"])
    except RedisError as error:
        logger.warning("login lockout check skipped, the cache is unreachable: %s", error)
        return
    if locks:
        wait = max(max(locks.values()) - time.time(), 1)
        raise LoginLocked(retry_after=wait)


def login_failure_record(*, username: str, client_address: str) -> None:
    """Count a failed login; lock the account or address that reaches its limit."""
    limits = (
        (_account_key(username), settings.LOGIN_FAILURES_PER_ACCOUNT),
        (_address_key(client_address), settings.LOGIN_FAILURES_PER_ADDRESS),
    )
    try:
        for key, limit in limits:
            counter = f"{key}:failures"
            cache.add(counter, 0, timeout=settings.LOGIN_FAILURE_WINDOW_SECONDS)
            failures = cache.incr(counter)
            if failures >= limit:
                locked_until = time.time() + settings.LOGIN_LOCKOUT_SECONDS
                cache.set(f"{key}:locked", locked_until, timeout=settings.LOGIN_LOCKOUT_SECONDS)
                cache.delete(counter)
                logger.warning(
                    "login locked for %ss after %s failures (%s)", settings.LOGIN_LOCKOUT_SECONDS, failures, key
                )
    except (RedisError, ValueError) as error:  # ValueError: the counter expired between add and incr
        logger.warning("failed login not counted: %s", error)


def login_success_record(*, username: str) -> None:
    try:
        cache.delete(f"{_account_key(username)}:failures")
    except RedisError as error:
        logger.warning("failure count not cleared: %s", error)
