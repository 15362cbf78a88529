from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from monitoring.health import run_checks

_HealthSerializer = inline_serializer(
    "Health",
    fields={
        "status": serializers.ChoiceField(choices=["ok", "degraded", "down"]),
        "checked_at": serializers.DateTimeField(),
        "checks": serializers.DictField(required=False),
    },
)


class HealthView(APIView):
    """Overall status (ok, degraded: 200; down: 503). Staff also see each check."""

    permission_classes = [AllowAny]

    @extend_schema(responses={200: _HealthSerializer, 503: OpenApiResponse(_HealthSerializer)})
    def get(self, request: Request) -> Response:
        report = run_checks()
        if not (request.user.is_authenticated and request.user.is_staff):
            report = {"status": report["status"], "checked_at": report["checked_at"]}
        return Response(report, status=503 if report["status"] == "down" else 200)


class LiveView(APIView):
    """Liveness: the process answers. Touches neither the database nor the cache."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(responses={200: inline_serializer("Live", fields={"status": serializers.CharField()})})
    def get(self, request: Request) -> Response:
        return Response({"status": "ok"})
