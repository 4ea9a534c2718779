from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from common.urls import handler400, handler403, handler404, handler500, infrastructure_urlpatterns

urlpatterns = [
    *infrastructure_urlpatterns,
    path(settings.ADMIN_URL_PREFIX, admin.site.urls),
    path("api/v1/", include("orders_service.orders.urls")),
    path("api/v1/", include("common.auth.urls")),  # auth/whoami/
]

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]
