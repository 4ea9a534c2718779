"""Calls from one service to another: a timeout, and a circuit breaker per remote service (pybreaker).

Every HTTP call a service makes to another (the JWKS fetch of ``common.auth.keys``, the admin single sign-on of
``common.admin_sso``) goes through ``call``:

- the request has a connect timeout (``REMOTE_CALL_CONNECT_TIMEOUT_SECONDS``) and the caller's read timeout;
- a connection error, a timeout or a 5xx counts as a failure of the remote service; after
  ``REMOTE_CALL_FAILURES_TO_OPEN`` failures in a row its breaker opens and every call fails at once, without
  a request, for ``REMOTE_CALL_OPEN_SECONDS``; then one call probes: a success closes the breaker, a failure
  opens it again. Any other answer (a 401 for bad credentials, say) is the remote service working.

A breaker lives in the process (each web worker has its own): it needs nothing that could itself be down, and a
worker learns of an outage from its own calls within ``REMOTE_CALL_FAILURES_TO_OPEN`` of them.
"""

import logging
import threading
from collections.abc import Callable

import pybreaker
import requests
from django.conf import settings
from django.core.signals import setting_changed

logger = logging.getLogger(__name__)

USERS_SERVICE = "users_service"  # the one remote service so far: its JWKS, and admin single sign-on


class RemoteUnavailable(Exception):
    """The remote service did not answer usefully, or its breaker is open; the message says which (for logs)."""


class _ServerError(Exception):
    """A 5xx: the remote service answered but is not working (counted by the breaker)."""


class _LogStateChanges(pybreaker.CircuitBreakerListener):
    def state_change(self, breaker: pybreaker.CircuitBreaker, old: object, new: object) -> None:
        state = getattr(new, "name", new)
        log = logger.warning if state == pybreaker.STATE_OPEN else logger.info
        log("circuit breaker %s: %s -> %s", breaker.name, getattr(old, "name", old), state)


_breakers: dict[str, pybreaker.CircuitBreaker] = {}
_breakers_lock = threading.Lock()


def breaker(name: str) -> pybreaker.CircuitBreaker:
    """The breaker of the remote service ``name`` in this process, made at its first use from the settings."""
    with _breakers_lock:
        if name not in _breakers:
            _breakers[name] = pybreaker.CircuitBreaker(
                fail_max=settings.REMOTE_CALL_FAILURES_TO_OPEN,
                reset_timeout=settings.REMOTE_CALL_OPEN_SECONDS,
                listeners=[_LogStateChanges()],
                name=name,
            )
        return _breakers[name]


def reset_breakers() -> None:
    """Forget every breaker (their settings are read again at the next call)."""
    with _breakers_lock:
        _breakers.clear()


def call(
    remote: str, send: Callable[[tuple[float, float]], requests.Response], *, read_timeout: float
) -> requests.Response:
    """``send(timeout)`` through the breaker of ``remote``: its response, or ``RemoteUnavailable``.

    ``send`` makes the one request, with the ``(connect, read)`` timeout it is given.
    """
    timeout = (settings.REMOTE_CALL_CONNECT_TIMEOUT_SECONDS, read_timeout)

    def guarded() -> requests.Response:
        response = send(timeout)
        if response.status_code >= 500:
            raise _ServerError(f"{remote} answered {response.status_code}")
        return response

    try:
        return breaker(remote).call(guarded)
    except pybreaker.CircuitBreakerError as error:
        raise RemoteUnavailable(f"{remote}: circuit breaker open ({error})") from error
    except (requests.RequestException, _ServerError) as error:
        raise RemoteUnavailable(f"{remote}: {error}") from error


def _reset_on_setting_change(*, setting: str, **kwargs: object) -> None:
    if setting.startswith("REMOTE_CALL_"):
        reset_breakers()


setting_changed.connect(_reset_on_setting_change)
