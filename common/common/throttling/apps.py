import logging

from django.apps import AppConfig

logger = logging.getLogger("common.throttling")


class ThrottlingConfig(AppConfig):
    name = "common.throttling"
    label = "common_throttling"
    verbose_name = "Rate limits"

    def ready(self) -> None:
        from common.throttling.throttles import rate_limits_on

        if not rate_limits_on():
            logger.warning("rate limits are off (SHOP_RATE_LIMITS=off): no throttle of this service applies")
