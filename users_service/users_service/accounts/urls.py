"""Routes of accounts, under ``/api/v1/`` (the JWKS is served at the root, see ``jwks_urlpatterns``)."""

from django.urls import path

from users_service.accounts.apis.auth import LogoutApi, RegisterApi, TokenObtainApi, TokenRefreshApi
from users_service.accounts.apis.jwks import JwksApi
from users_service.accounts.apis.users import MeApi, PasswordChangeApi, UserDetailApi, UserListApi

urlpatterns = [
    path("auth/register/", RegisterApi.as_view(), name="auth-register"),
    path("auth/token/", TokenObtainApi.as_view(), name="auth-token"),
    path("auth/token/refresh/", TokenRefreshApi.as_view(), name="auth-token-refresh"),
    path("auth/logout/", LogoutApi.as_view(), name="auth-logout"),
    path("users/", UserListApi.as_view(), name="users-list"),
    path("users/me/", MeApi.as_view(), name="users-me"),
    path("users/me/password/", PasswordChangeApi.as_view(), name="users-me-password"),
    path("users/<int:user_id>/", UserDetailApi.as_view(), name="users-detail"),
]

jwks_urlpatterns = [
    path(".well-known/jwks.json", JwksApi.as_view(), name="jwks"),
]
