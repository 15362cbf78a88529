"""Staff endpoints of the security layer, under /api/monitoring/: figures, blocks, clean-up."""

from typing import Any, cast

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from jobs.api import JobOutputSerializer, job_accepted
from monitoring.interface import parse_duration
from security import selectors, services
from security.models import BlockedIP, BlockRule, User
from security.permissions import IsStaff
from security.tasks import security_data_clear_start


class SecurityStatsView(APIView):
    """Blocked addresses, events by kind and severity, top offenders, lockouts. Staff only."""

    permission_classes = [IsStaff]

    @extend_schema(
        parameters=[OpenApiParameter("window", str, enum=list(selectors.STATS_WINDOWS), default="24h")],
        responses=inline_serializer("SecurityStats", fields={"window": serializers.CharField()}),
    )
    def get(self, request: Request) -> Response:
        window = request.query_params.get("window", "24h")
        if window not in selectors.STATS_WINDOWS:
            raise ValidationError({"window": [f"Must be one of {', '.join(selectors.STATS_WINDOWS)}."]})
        return Response(selectors.security_stats(window))


class BlockInputSerializer(serializers.Serializer[Any]):
    ip = serializers.CharField(max_length=64, help_text="An address, or a network in CIDR notation (203.0.113.0/24).")
    minutes = serializers.IntegerField(min_value=1, max_value=60 * 24 * 365, required=False)
    reason = serializers.CharField(max_length=300)


class BlockedIPsView(APIView):
    """Active blocks (GET), or block an address or a network by hand (POST). Staff only. An IPv6
    address blocks its client's network (`IPV6_CLIENT_PREFIX`, a /64); a network wider than a /8
    (IPv4) or a /32 (IPv6), or one overlapping the allow-list or a trusted proxy, is refused."""

    permission_classes = [IsStaff]

    @extend_schema(responses=inline_serializer("BlockedIPs", fields={"blocked_ips": serializers.ListField()}))
    def get(self, request: Request) -> Response:
        return Response({"blocked_ips": selectors.security_stats("24h")["blocked_ips"]})

    @extend_schema(request=BlockInputSerializer, responses={201: inline_serializer("Blocked", fields={})})
    def post(self, request: Request) -> Response:
        data = BlockInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        block = services.ip_block(
            ip=data.validated_data["ip"], rule=BlockRule.MANUAL, reason=data.validated_data["reason"],
            minutes=data.validated_data.get("minutes"), by=cast(User, request.user), request=request,
        )  # fmt: skip
        block = cast(BlockedIP, block)  # a manual block is made or refused, never skipped
        return Response({"ip": block.ip, "expires_at": block.expires_at}, status=status.HTTP_201_CREATED)


class UnblockView(APIView):
    """Lift the block on an address (its client's: an IPv6 address lifts its /64) or on a network
    (`/blocked-ips/203.0.113.0/24/unblock`). Staff only; 404 when nothing by that name is
    blocked, a name that is no address or network included (the URL names no block)."""

    permission_classes = [IsStaff]

    @extend_schema(
        request=None, responses={200: inline_serializer("Unblocked", fields={"ip": serializers.CharField()})}
    )
    def post(self, request: Request, ip: str) -> Response:
        try:
            target = services.block_target(ip)
        except DjangoValidationError:
            raise Http404 from None
        lifted = services.ip_unblock(ip=ip, by=cast(User, request.user))
        if not lifted:
            raise Http404
        return Response({"ip": target, "lifted": lifted})


class ClearSecurityDataInputSerializer(serializers.Serializer[Any]):
    older_than = serializers.CharField(default="7d")
    expired_blocks = serializers.BooleanField(default=False)
    dry_run = serializers.BooleanField(default=False)

    def validate_older_than(self, value: str) -> str:
        try:
            parse_duration(value)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from exc
        return value


class ClearSecurityDataView(APIView):
    """Delete old events (and finished blocks when asked), as a job: 202, and the counts in the
    job's result. Staff only."""

    permission_classes = [IsStaff]

    @extend_schema(request=ClearSecurityDataInputSerializer, responses={202: JobOutputSerializer})
    def post(self, request: Request) -> Response:
        data = ClearSecurityDataInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return job_accepted(security_data_clear_start(owner_id=request.user.pk, **data.validated_data))
