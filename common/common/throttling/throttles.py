"""The throttle every service's DRF views run (the rules: ``common.throttling``)."""

import logging
from typing import TYPE_CHECKING, Any

from django.conf import settings
from redis.exceptions import RedisError
from rest_framework.request import Request
from rest_framework.throttling import ScopedRateThrottle

if TYPE_CHECKING:  # rest_framework.views imports this module (DEFAULT_THROTTLE_CLASSES) while it loads
    from rest_framework.views import APIView

logger = logging.getLogger(__name__)


def rate_limits_on() -> bool:
    """False when the process was started with ``SHOP_RATE_LIMITS=off``."""
    return bool(getattr(settings, "RATE_LIMITS_ON", True))


def throttled(*, scope: str) -> None:
    """A request refused by the throttle of ``scope``: the one place such a refusal is counted."""
    logger.info("throttled: %s", scope)


class ScopedThrottle(ScopedRateThrottle):
    """DRF's ``ScopedRateThrottle`` with the rules above: methods, rates read per request, fail open, counted."""

    def allow_request(self, request: Request, view: "APIView") -> bool:
        scope = getattr(view, "throttle_scope", None)
        if not scope or not rate_limits_on():
            return True
        if request.method not in getattr(view, "throttle_methods", (request.method,)):
            return True
        self.scope = scope
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        try:
            # SimpleRateThrottle's: the scope's history for this caller, in the cache.
            return super(ScopedRateThrottle, self).allow_request(request, view)
        except RedisError as error:
            logger.warning("throttle %s not applied, the cache is unreachable: %s", scope, error)
            return True

    def get_rate(self) -> str | None:
        rates: dict[str, Any] = getattr(settings, "THROTTLE_RATES", {})
        return rates.get(str(self.scope))

    def get_ident(self, request: Request) -> str:
        return str(request.META.get("REMOTE_ADDR", ""))

    def throttle_failure(self) -> bool:
        throttled(scope=str(self.scope))
        return False
