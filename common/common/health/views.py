from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.health.checks import readiness

_HealthSerializer = inline_serializer(
    name="Health",
    fields={
        "status": serializers.ChoiceField(choices=["ok", "unavailable"]),
        "checks": serializers.DictField(child=serializers.CharField()),
    },
)


class LivenessApi(APIView):
    """200 while the process serves requests."""

    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(responses={200: _HealthSerializer}, tags=["health"])
    def get(self, request: Request) -> Response:
        return Response({"status": "ok", "checks": {}})


class ReadinessApi(APIView):
    """200 when the database and the broker answer; 503 naming what is down."""

    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(responses={200: _HealthSerializer, 503: _HealthSerializer}, tags=["health"])
    def get(self, request: Request) -> Response:
        checks = readiness()
        ready = all(result == "ok" for result in checks.values())
        return Response({"status": "ok" if ready else "unavailable", "checks": checks}, status=200 if ready else 503)
