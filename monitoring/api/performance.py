"""Staff statistics: request, query, operation and external-call figures with the KPIs, every
KPI of the production guide, error groups, and the Prometheus exposition for scrapers."""

import hmac
from typing import Any, cast

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import BasePermission
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from monitoring import kpis, prometheus, selectors
from monitoring.api.renderers import PrometheusTextRenderer
from monitoring.kpi_catalog import GROUPS
from mvpvalidator.pagination import LimitOffsetPagination
from security import interface as security


def _window(request: Request) -> str:
    window = request.query_params.get("window", "1h")
    if window not in selectors.WINDOWS:
        raise ValidationError({"window": [f"Must be one of {', '.join(selectors.WINDOWS)}."]})
    return window


class PerformanceView(APIView):
    """Per route: count, p50/p95/p99, error rate and throughput over `?window=` (5m, 1h, 24h);
    query latency, slow queries and operations, external calls, pool figures and the KPIs."""

    permission_classes = [security.IsStaff]

    @extend_schema(
        parameters=[OpenApiParameter("window", str, enum=list(selectors.WINDOWS), default="1h")],
        responses=inline_serializer("Performance", fields={"window": serializers.CharField()}),
    )
    def get(self, request: Request) -> Response:
        return Response(selectors.performance(_window(request)))


_Kpi = inline_serializer(
    "Kpi",
    fields={
        "id": serializers.CharField(),
        "group": serializers.ChoiceField(choices=[group for group, _ in GROUPS]),
        "name": serializers.CharField(),
        "target": serializers.CharField(),
        "unit": serializers.CharField(),
        "source": serializers.CharField(help_text="The production guide's line this KPI comes from."),
        "value": serializers.FloatField(allow_null=True),
        "pass": serializers.BooleanField(allow_null=True, help_text="null: no figure yet, or tracked without a bar."),
        "detail": serializers.DictField(),
        "note": serializers.CharField(allow_blank=True),
        "spark": serializers.ListField(child=serializers.FloatField(allow_null=True), help_text="7 daily values."),
        "failing_since": serializers.DateTimeField(allow_null=True),
    },
)


class KpiHoursSerializer(serializers.Serializer[Any]):
    hours = serializers.IntegerField(min_value=1, max_value=720, default=24)


class KpisView(APIView):
    """Every KPI of the production guide over the last `?hours=` (1 to 720, default 24): its
    figure, pass/fail against its bar, detail, 7 daily values and since when it fails. Staff only."""

    permission_classes = [security.IsStaff]

    @extend_schema(
        parameters=[KpiHoursSerializer],
        responses=inline_serializer(
            "Kpis",
            fields={"hours": serializers.IntegerField(), "kpis": serializers.ListField(child=_Kpi)},
        ),
    )
    def get(self, request: Request) -> Response:
        serializer = KpiHoursSerializer(data=request.query_params)
        serializer.is_valid(raise_exception=True)
        hours = serializer.validated_data["hours"]
        return Response({"hours": hours, "kpis": kpis.evaluate(hours=hours)})


class ErrorGroupsView(APIView):
    """Error groups, most recently seen first (paginated). Staff only."""

    permission_classes = [security.IsStaff]
    pagination_class = LimitOffsetPagination

    @extend_schema(responses=inline_serializer("ErrorGroup", fields={"exc_type": serializers.CharField()}, many=True))
    def get(self, request: Request) -> Response:
        paginator = self.pagination_class()
        page = cast(list[Any], paginator.paginate_queryset(selectors.error_groups(), request, view=self))
        return paginator.get_paginated_response([selectors.error_group_row(g) for g in page])


def _wire_bytes(value: str) -> bytes:
    # A header reaches Django as the bytes sent read as Latin-1 (PEP 3333): encoding it back
    # gives those bytes. Text that cannot be Latin-1 only comes from in-process callers.
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        return value.encode("utf-8", "surrogatepass")


def _presents_metrics_token(request: Request) -> bool:
    """Whether the request carries `Authorization: Bearer <METRICS_TOKEN>`. Compared as bytes in
    constant time: `compare_digest` refuses (raises on) text outside ASCII."""
    token = settings.METRICS_TOKEN
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if not token or not header.startswith("Bearer "):
        return False
    return hmac.compare_digest(_wire_bytes(header[7:].strip()), token.encode("utf-8", "surrogatepass"))


class IsStaffOrMetricsToken(BasePermission):
    """Staff (session or JWT), or a scraper presenting `Authorization: Bearer <METRICS_TOKEN>`."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        if _presents_metrics_token(request):
            return True
        if request.user and request.user.is_authenticated and request.user.is_staff:
            return True
        security.api_permission_denied(request)
        return False


class MetricsView(APIView):
    """Prometheus text format, for scrapers; refusals in the API's JSON error shape."""

    permission_classes = [IsStaffOrMetricsToken]
    renderer_classes = [PrometheusTextRenderer]

    def perform_authentication(self, request: Request) -> None:
        # The metrics token is not a JWT: let the permission read it instead of failing
        # authentication with "token not valid".
        if _presents_metrics_token(request):
            return
        super().perform_authentication(request)

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)
        if isinstance(response, Response) and response.status_code >= 400:
            # An error body is data, not an exposition: JSON, whatever the scraper accepts.
            response.accepted_renderer = JSONRenderer()
            response.accepted_media_type = JSONRenderer.media_type
        return response

    @extend_schema(responses={(200, "text/plain"): str})
    def get(self, request: Request) -> Response:
        return Response(prometheus.exposition(), content_type=prometheus.CONTENT_TYPE)
