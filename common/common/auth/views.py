"""``GET /api/v1/auth/whoami/``: the verified claims of the caller, on every service.

Useful to an operator debugging a token ("what does this service think I am?")
and to tests that check every service's verification against one endpoint.
"""

from typing import cast

from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.auth.tokens import Claims


class WhoAmIApi(APIView):
    permission_classes = [permissions.IsAuthenticated]

    class WhoAmIOutputSerializer(serializers.Serializer[dict[str, object]]):
        user_id = serializers.IntegerField()
        username = serializers.CharField()
        is_staff = serializers.BooleanField()
        is_superuser = serializers.BooleanField()
        roles = serializers.ListField(child=serializers.CharField())
        token_id = serializers.CharField(help_text="The access token's jti.")
        issued_at = serializers.IntegerField(help_text="The token's iat (seconds since the epoch, UTC).")
        expires_at = serializers.IntegerField(help_text="The token's exp (seconds since the epoch, UTC).")
        issuer = serializers.CharField()

    @extend_schema(operation_id="auth_whoami", responses={200: WhoAmIOutputSerializer})
    def get(self, request: Request) -> Response:
        claims = cast(Claims, request.auth)  # JWTAuthentication's: the verified token's claims
        roles = claims.get("roles")
        data = {
            "user_id": claims["user_id"],
            "username": claims["username"],
            "is_staff": bool(claims.get("is_staff", False)),
            "is_superuser": bool(claims.get("is_superuser", False)),
            "roles": sorted(role for role in roles if isinstance(role, str)) if isinstance(roles, list) else [],
            "token_id": str(claims["jti"]),
            "issued_at": int(claims["iat"]),
            "expires_at": int(claims["exp"]),
            "issuer": str(claims["iss"]),
        }
        return Response(self.WhoAmIOutputSerializer(data).data)
