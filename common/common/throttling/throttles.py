"""The throttle every service's DRF views run (the rules: ``common.throttling``)."""

import logging
from typing import TYPE_CHECKING, Any

from django.conf import settings
from redis.exceptions import RedisError
from rest_framework.request import Request
from rest_framework.throttling import ScopedRateThrottle

from common.telemetry import metrics, tracing

if TYPE_CHECKING:  # rest_framework.views imports this module (DEFAULT_THROTTLE_CLASSES) while it loads
    from rest_framework.views import APIView

logger = logging.getLogger(__name__)


def rate_limits_on() -> bool:
    """False when the process was started with ``SHOP_RATE_LIMITS=off``."""
    return bool(getattr(settings, "RATE_LIMITS_ON", True))


def throttled(*, scope: str) -> None:
    """A request refused by the throttle of ``scope`` (``login``: the failed-login lockout): the one place such a
    refusal is counted, in ``shop_throttled_total``."""
    logger.info("throttled: %s", scope)
    metrics.throttled(scope=scope)


def throttled_method(view: "APIView", method: str) -> bool:
    """Whether ``method`` requests to ``view`` are counted: it has a ``throttle_scope``, and the method is one of
    its ``throttle_methods`` (every method when it names none)."""
    return bool(getattr(view, "throttle_scope", None)) and method.upper() in getattr(
        view, "throttle_methods", (method.upper(),)
    )


class ScopedThrottle(ScopedRateThrottle):
    """DRF's ``ScopedRateThrottle`` with the rules above: methods, rates read per request, fail open, counted."""

    def allow_request(self, request: Request, view: "APIView") -> bool:
        if not rate_limits_on() or not throttled_method(view, request.method or ""):
            return True
        self.scope = view.throttle_scope  # type: ignore[attr-defined]  # throttled_method found it
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        try:
            # SimpleRateThrottle's: the scope's history for this caller, in the cache. Bookkeeping of every
            # request, so no span (the request's span shows a refusal: its 429).
            with tracing.untraced():
                return super(ScopedRateThrottle, self).allow_request(request, view)
        except RedisError as error:
            logger.warning("throttle %s not applied, the cache is unreachable: %s", self.scope, error)
            return True

    def get_rate(self) -> str | None:
        rates: dict[str, Any] = getattr(settings, "THROTTLE_RATES", {})
        return rates.get(str(self.scope))

    def get_ident(self, request: Request) -> str:
        return str(request.META.get("REMOTE_ADDR", ""))

    def throttle_failure(self) -> bool:
        throttled(scope=str(self.scope))
        return False
