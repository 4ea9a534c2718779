from django.urls import include, path

from common.urls import admin_urlpatterns, handler400, handler403, handler404, handler500, infrastructure_urlpatterns

urlpatterns = [
    *infrastructure_urlpatterns,
    *admin_urlpatterns,
    path("api/v1/", include("orders_service.orders.urls")),
    path("api/v1/", include("common.auth.urls")),  # auth/whoami/
]

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]
