"""URLs every service serves besides its API: health, OpenAPI schema and docs, and its admin.

Schema, docs and admin are under the service's prefix (``settings.URL_PREFIX``, ``/catalog/``), so that the
gateway routes them to it unchanged; their old addresses at the root redirect there.
"""

from django.conf import settings
from django.contrib import admin
from django.urls import URLPattern, URLResolver, path, re_path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from common.health.views import LivenessApi, ReadinessApi
from common.telemetry.metrics_api import MetricsApi

_prefix = settings.URL_PREFIX.removeprefix("/")


def _moved(old: str, new: str) -> URLPattern:
    """``old`` (and anything under it) answers 301 to the same under ``new``, query string kept."""
    return re_path(
        rf"^{old}(?P<rest>.*)$", RedirectView.as_view(url=f"/{new}%(rest)s", query_string=True, permanent=True)
    )


infrastructure_urlpatterns = [
    path("health/live/", LivenessApi.as_view(), name="health-live"),
    path("health/ready/", ReadinessApi.as_view(), name="health-ready"),
    path(f"{_prefix}api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path(f"{_prefix}api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    _moved("api/schema/", f"{_prefix}api/schema/"),
    _moved("api/docs/", f"{_prefix}api/docs/"),
    # Prometheus' scrape, on the service's own port only (common.telemetry.metrics_api says who may read it).
    path("metrics", MetricsApi.as_view(), name="metrics"),
]

# Each admin says which service it belongs to: an operator has three open, often in one browser (its header
# links to the other two: common/templates/admin/base_site.html).
admin.site.site_header = f"{settings.SERVICE_NAME} administration"
admin.site.site_title = f"{settings.SERVICE_NAME} admin"
admin_urlpatterns: list[URLPattern | URLResolver] = [
    path(settings.ADMIN_URL_PREFIX, admin.site.urls),
    _moved("admin/", settings.ADMIN_URL_PREFIX),
]

handler400 = "common.errors.bad_request"
handler403 = "common.errors.permission_denied"
handler404 = "common.errors.page_not_found"
handler500 = "common.errors.server_error"
