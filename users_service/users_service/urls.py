from django.urls import include, path

from common.urls import admin_urlpatterns, handler400, handler403, handler404, handler500, infrastructure_urlpatterns
from users_service.accounts.urls import jwks_urlpatterns

urlpatterns = [
    *infrastructure_urlpatterns,
    *admin_urlpatterns,
    *jwks_urlpatterns,  # /.well-known/jwks.json
    path("api/v1/", include("users_service.accounts.urls")),
    path("api/v1/", include("users_service.notifications.urls")),
    path("api/v1/", include("common.auth.urls")),  # auth/whoami/
]

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]
