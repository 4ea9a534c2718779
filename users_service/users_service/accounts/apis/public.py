"""Base of the endpoints a caller uses before holding an access token."""

from rest_framework import permissions
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request
from rest_framework.views import APIView


class PublicApi(APIView):
    """No bearer token is read here (a stale ``Authorization`` header must not break a login).

    ``get_authenticate_header`` still names the Bearer scheme so DRF answers
    401, not 403, when credentials are refused.
    """

    authentication_classes: list[type[BaseAuthentication]] = []
    permission_classes = [permissions.AllowAny]

    def get_authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'
