"""The other services' admins, linked from each admin's header (common/templates/admin/base_site.html).

Their addresses are the gateway's paths (``/orders/admin/``): one origin, so one browser holds the three
admins' sessions side by side (their cookies have the services' names and paths).
"""

from django.conf import settings
from django.http import HttpRequest

from common.settings import url_prefix

ADMINS = tuple(
    (name, f"{url_prefix(service=name)}admin/") for name in ("users_service", "catalog_service", "orders_service")
)


def other_admins(request: HttpRequest) -> dict[str, list[tuple[str, str]]]:
    return {"other_admins": [(name, url) for name, url in ADMINS if name != settings.SERVICE_NAME]}
