from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from jobs.api import JobOutputSerializer, job_accepted
from monitoring import health, uptime
from monitoring.tasks import db_optimize_start
from mvpvalidator.cache import FAMILIES, CacheUnavailable
from mvpvalidator.cache import stats as cache_stats
from mvpvalidator.cache.operators import backend_info, clear_all, clear_family
from mvpvalidator.exceptions import ServiceUnavailableError
from security import interface as security

_HealthSerializer = inline_serializer(
    "Health",
    fields={
        "status": serializers.ChoiceField(choices=["ok", "degraded", "down"]),
        "checked_at": serializers.DateTimeField(),
        "cached": serializers.BooleanField(required=False),
        "checks": serializers.DictField(required=False),
    },
)


class HealthView(APIView):
    """Overall status (ok, degraded: 200; down: 503), answered within about the check timeout
    and cached for a few seconds. Staff also see each check and whether the answer was cached."""

    permission_classes = [AllowAny]

    @extend_schema(responses={200: _HealthSerializer, 503: OpenApiResponse(_HealthSerializer)})
    def get(self, request: Request) -> Response:
        report = health.report()
        # The minute's answer is uptime's history; the write never fails the answer.
        uptime.record(report["status"])
        if not (request.user.is_authenticated and request.user.is_staff):
            report = {"status": report["status"], "checked_at": report["checked_at"]}
        return Response(report, status=503 if report["status"] == "down" else 200)


class LiveView(APIView):
    """Liveness: the process answers. Touches neither the database nor the cache."""

    permission_classes = [AllowAny]
    authentication_classes: list[type[Any]] = []

    @extend_schema(responses={200: inline_serializer("Live", fields={"status": serializers.CharField()})})
    def get(self, request: Request) -> Response:
        return Response({"status": "ok"})


class CacheStatsView(APIView):
    """Hit rates per family and overall (shared across processes on Redis), backend facts, and
    per-minute hit rates for the last `?minutes=` (default 60). Staff only."""

    permission_classes = [security.IsStaff]

    @extend_schema(responses=inline_serializer("CacheStats", fields={"stats": serializers.DictField()}))
    def get(self, request: Request) -> Response:
        minutes = _bounded_int(request.query_params.get("minutes"), default=60, low=1, high=24 * 60)
        return Response(
            {"stats": cache_stats.snapshot(), "backend": backend_info(), "series": cache_stats.series(minutes=minutes)}
        )


class ClearCacheInputSerializer(serializers.Serializer[Any]):
    family = serializers.ChoiceField(choices=sorted(FAMILIES), required=False)
    all = serializers.BooleanField(default=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if bool(attrs.get("family")) == bool(attrs.get("all")):
            raise serializers.ValidationError("Send either a family or all=true.")
        return attrs


class ClearCacheView(APIView):
    permission_classes = [security.IsStaff]

    @extend_schema(
        request=ClearCacheInputSerializer,
        responses=inline_serializer("ClearCache", fields={"cleared": serializers.CharField()}),
    )
    def post(self, request: Request) -> Response:
        data = ClearCacheInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            if data.validated_data["all"]:
                return Response({"cleared": "all", "deleted_keys": clear_all()})
            clear_family(data.validated_data["family"])
        except CacheUnavailable as exc:
            raise ServiceUnavailableError(f"The cache is unavailable: {exc}") from exc
        return Response({"cleared": data.validated_data["family"]})


class OptimizeDbInputSerializer(serializers.Serializer[Any]):
    vacuum = serializers.BooleanField(default=False)
    dry_run = serializers.BooleanField(default=False)


class OptimizeDbView(APIView):
    """ANALYZE (and VACUUM when asked) every table, with a report of sizes, unused indexes and
    foreign keys without an index, as a job (it can outlast a request): 202, and the report in
    the job's result. Staff only."""

    permission_classes = [security.IsStaff]

    @extend_schema(request=OptimizeDbInputSerializer, responses={202: JobOutputSerializer})
    def post(self, request: Request) -> Response:
        data = OptimizeDbInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return job_accepted(db_optimize_start(owner_id=request.user.pk, **data.validated_data))


def _bounded_int(raw: str | None, *, default: int, low: int, high: int) -> int:
    try:
        value = int(raw) if raw is not None else default
    except ValueError:
        raise ValidationError({"minutes": ["Must be a whole number."]}) from None
    return max(low, min(high, value))
