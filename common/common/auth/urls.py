"""Routes every service includes under ``/api/v1/``: ``path("api/v1/", include("common.auth.urls"))``."""

from django.urls import path

from common.auth.views import WhoAmIApi

urlpatterns = [
    path("auth/whoami/", WhoAmIApi.as_view(), name="auth-whoami"),
]
