"""URLs every service serves besides its API: health, OpenAPI schema and docs, and its admin."""

from django.conf import settings
from django.contrib import admin
from django.urls import URLPattern, URLResolver, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from common.health.views import LivenessApi, ReadinessApi
from common.telemetry.metrics_api import MetricsApi

infrastructure_urlpatterns = [
    path("health/live/", LivenessApi.as_view(), name="health-live"),
    path("health/ready/", ReadinessApi.as_view(), name="health-ready"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    # Prometheus' scrape, on the service's own port only (common.telemetry.metrics_api says who may read it).
    path("metrics", MetricsApi.as_view(), name="metrics"),
]

# Each admin says which service it belongs to: an operator has three open, often in one browser.
admin.site.site_header = f"{settings.SERVICE_NAME} administration"
admin.site.site_title = f"{settings.SERVICE_NAME} admin"
admin_urlpatterns: list[URLPattern | URLResolver] = [path(settings.ADMIN_URL_PREFIX, admin.site.urls)]

handler400 = "common.errors.bad_request"
handler403 = "common.errors.permission_denied"
handler404 = "common.errors.page_not_found"
handler500 = "common.errors.server_error"
