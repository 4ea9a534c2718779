"""Failed-login lockout, per account and per client address, in the service's shared Redis cache.

Every login of the system is under it: users_service's token endpoint and its admin, and the admins of catalog
and orders, whose single sign-on counts per operator and per real client address (the browser's, not the
address of the server that asks users_service), before users_service counts the same attempt itself.

Rules (settings, all overridable from the environment):

- ``LOGIN_FAILURES_PER_ACCOUNT`` failed logins for one username within
  ``LOGIN_FAILURE_WINDOW_SECONDS`` lock that account for
  ``LOGIN_LOCKOUT_SECONDS``; ``LOGIN_FAILURES_PER_ADDRESS`` failures from one
  client address lock that address the same way.
- While locked, every attempt is refused (429 with ``Retry-After`` from the API, a message on the admin's
  login page) — the right password too, so a locked account cannot be used as an oracle.
- A successful login clears its account's failure count (not the address's:
  one good account must not launder an address that guesses others').

Counters live in Django's cache, which is Redis (never a per-process locmem
cache, since the web server runs several worker processes). If Redis is unreachable the
check fails open with a warning: logins keep working while the broker/cache
is repaired, instead of every login turning into a 500.

The client address is ``REMOTE_ADDR``: behind the gateway, its trusted-proxy handling has put the real client's
address there; a client-supplied header is never read here. Usernames are compared case-insensitively and
hashed into the cache key.
"""

import hashlib
import logging
import time
from typing import Any

from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.cache import cache
from django.core.exceptions import ValidationError
from redis.exceptions import RedisError

from common.errors import RateLimitError
from common.throttling.throttles import throttled

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
        throttled(scope="login")
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


class LockoutAdminAuthenticationForm(AdminAuthenticationForm):
    """An admin's login form under the lockout: the same counters as the API's login, so the admin is no way
    around it. ``counts_as_failure`` says whether a refused login was the caller's fault (a subclass leaves out
    a dependency that did not answer)."""

    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "locked_out": "Too many failed logins for this account or address. Please wait and try again later.",
    }

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username") or ""
        client_address = self.request.META.get("REMOTE_ADDR", "") if self.request is not None else ""
        try:
            login_lock_check(username=username, client_address=client_address)
        except LoginLocked:
            raise ValidationError(self.error_messages["locked_out"], code="locked_out") from None
        try:
            cleaned = super().clean()
        except ValidationError:
            if self.counts_as_failure():
                login_failure_record(username=username, client_address=client_address)
            raise
        login_success_record(username=username)
        return cleaned

    def counts_as_failure(self) -> bool:
        return True
