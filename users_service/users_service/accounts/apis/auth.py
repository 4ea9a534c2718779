"""``auth/``: register, token, token refresh (rotation), logout."""

from django.contrib.auth.validators import UnicodeUsernameValidator
from drf_spectacular.utils import extend_schema
from drf_standardized_errors.openapi_serializers import ErrorResponse401Serializer, ErrorResponse429Serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from users_service.accounts import services
from users_service.accounts.apis.public import PublicApi
from users_service.accounts.models import User
from users_service.accounts.tokens import TokenPair


class TokenPairSerializer(serializers.Serializer[TokenPair]):
    access = serializers.CharField(help_text="RS256 JWT, lives minutes; send as `Authorization: Bearer <access>`.")
    refresh = serializers.CharField(help_text="RS256 JWT, lives days; single use (rotated on refresh).")


class RegisterApi(PublicApi):
    throttle_scope = "register"  # per client address (common.throttling)

    class RegisterInputSerializer(serializers.Serializer[None]):
        username = serializers.CharField(max_length=150, validators=[UnicodeUsernameValidator()])
        email = serializers.EmailField(max_length=254)
        password = serializers.CharField(max_length=128, write_only=True, trim_whitespace=False)

    class RegisteredUserSerializer(serializers.Serializer[User]):
        id = serializers.IntegerField()
        username = serializers.CharField()
        email = serializers.EmailField()

    @extend_schema(
        operation_id="auth_register",
        request=RegisterInputSerializer,
        responses={201: RegisteredUserSerializer},
    )
    def post(self, request: Request) -> Response:
        serializer = self.RegisterInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = services.user_register(**serializer.validated_data)
        return Response(self.RegisteredUserSerializer(user).data, status=status.HTTP_201_CREATED)


class TokenObtainApi(PublicApi):
    throttle_scope = "token"

    class CredentialsInputSerializer(serializers.Serializer[None]):
        username = serializers.CharField(max_length=150)
        password = serializers.CharField(max_length=128, trim_whitespace=False)

    @extend_schema(
        operation_id="auth_token",
        request=CredentialsInputSerializer,
        responses={
            200: TokenPairSerializer,
            401: ErrorResponse401Serializer,
            429: ErrorResponse429Serializer,
        },
        description="Bad credentials are a 401; repeated failures lock the account or the address out (429).",
    )
    def post(self, request: Request) -> Response:
        serializer = self.CredentialsInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        pair = services.token_obtain(**serializer.validated_data, client_address=request.META.get("REMOTE_ADDR", ""))
        return Response(TokenPairSerializer(pair).data)


class RefreshInputSerializer(serializers.Serializer[None]):
    refresh = serializers.CharField(max_length=4096)


class TokenRefreshApi(PublicApi):
    throttle_scope = "refresh"

    @extend_schema(
        operation_id="auth_token_refresh",
        request=RefreshInputSerializer,
        responses={200: TokenPairSerializer, 401: ErrorResponse401Serializer},
        description="Rotation: the refresh token sent is blacklisted; using it again is a 401.",
    )
    def post(self, request: Request) -> Response:
        serializer = RefreshInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        pair = services.token_refresh(refresh=serializer.validated_data["refresh"])
        return Response(TokenPairSerializer(pair).data)


class LogoutApi(PublicApi):
    @extend_schema(
        operation_id="auth_logout",
        request=RefreshInputSerializer,
        responses={204: None, 401: ErrorResponse401Serializer},
        description="Blacklists the refresh token. The access token expires on its own within minutes.",
    )
    def post(self, request: Request) -> Response:
        serializer = RefreshInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.token_logout(refresh=serializer.validated_data["refresh"])
        return Response(status=status.HTTP_204_NO_CONTENT)
