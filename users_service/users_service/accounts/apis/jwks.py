"""``GET /.well-known/jwks.json``: the public keys that verify users_service's tokens (RFC 7517)."""

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from users_service.accounts import signing
from users_service.accounts.apis.public import PublicApi


class PublicKeySerializer(serializers.Serializer[dict[str, Any]]):
    kty = serializers.CharField()
    kid = serializers.CharField()
    alg = serializers.CharField()
    use = serializers.CharField()
    n = serializers.CharField()
    e = serializers.CharField()


class JwksApi(PublicApi):
    """The current signing key first, then retired keys still within their overlap. Public halves only."""

    class JwksOutputSerializer(serializers.Serializer[dict[str, list[dict[str, Any]]]]):
        keys = PublicKeySerializer(many=True)

    @extend_schema(operation_id="jwks", responses={200: JwksOutputSerializer})
    def get(self, request: Request) -> Response:
        response = Response(signing.published_jwks())
        # Verifiers cache it anyway; a short max-age keeps a rotation quick to propagate.
        response["Cache-Control"] = "public, max-age=300"
        return response
