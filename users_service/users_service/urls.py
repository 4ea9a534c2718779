from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from common.urls import handler400, handler403, handler404, handler500, infrastructure_urlpatterns
from users_service.accounts.urls import jwks_urlpatterns

urlpatterns = [
    *infrastructure_urlpatterns,
    path(settings.ADMIN_URL_PREFIX, admin.site.urls),
    *jwks_urlpatterns,  # /.well-known/jwks.json
    path("api/v1/", include("users_service.accounts.urls")),
    path("api/v1/", include("users_service.notifications.urls")),
    path("api/v1/", include("common.auth.urls")),  # auth/whoami/
]

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]
