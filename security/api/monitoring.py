"""Staff endpoints of the security layer, under /api/monitoring/: figures, blocks, clean-up."""

import ipaddress

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from monitoring.durations import parse_duration
from security import selectors, services
from security.models import BlockedIP, BlockRule


class SecurityStatsView(APIView):
    """Blocked addresses, events by kind and severity, top offenders, lockouts. Staff only."""

    permission_classes = [IsAdminUser]

    @extend_schema(
        parameters=[OpenApiParameter("window", str, enum=list(selectors.STATS_WINDOWS), default="24h")],
        responses=inline_serializer("SecurityStats", fields={"window": serializers.CharField()}),
    )
    def get(self, request: Request) -> Response:
        window = request.query_params.get("window", "24h")
        if window not in selectors.STATS_WINDOWS:
            raise ValidationError({"window": [f"Must be one of {', '.join(selectors.STATS_WINDOWS)}."]})
        return Response(selectors.security_stats(window))


class BlockInputSerializer(serializers.Serializer):
    ip = serializers.IPAddressField()
    minutes = serializers.IntegerField(min_value=1, max_value=60 * 24 * 365, required=False)
    reason = serializers.CharField(max_length=300)


class BlockedIPsView(APIView):
    """Active blocks (GET), or block an address by hand (POST). Staff only."""

    permission_classes = [IsAdminUser]

    @extend_schema(responses=inline_serializer("BlockedIPs", fields={"blocked_ips": serializers.ListField()}))
    def get(self, request: Request) -> Response:
        return Response({"blocked_ips": selectors.security_stats("24h")["blocked_ips"]})

    @extend_schema(request=BlockInputSerializer, responses={201: inline_serializer("Blocked", fields={})})
    def post(self, request: Request) -> Response:
        data = BlockInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        block = services.ip_block(
            ip=data.validated_data["ip"], rule=BlockRule.MANUAL, reason=data.validated_data["reason"],
            minutes=data.validated_data.get("minutes"), by=request.user, request=request,
        )  # fmt: skip
        if block is None:
            raise ValidationError({"ip": ["This address is on the allow-list and cannot be blocked."]})
        return Response({"ip": block.ip, "expires_at": block.expires_at}, status=status.HTTP_201_CREATED)


class UnblockView(APIView):
    """Lift the block on an address. Staff only; 404 when it is not blocked."""

    permission_classes = [IsAdminUser]

    @extend_schema(
        request=None, responses={200: inline_serializer("Unblocked", fields={"ip": serializers.CharField()})}
    )
    def post(self, request: Request, ip: str) -> Response:
        try:
            ip = str(ipaddress.ip_address(ip))
        except ValueError:
            raise ValidationError({"ip": ["Enter a valid IPv4 or IPv6 address."]}) from None
        get_object_or_404(BlockedIP, ip=ip, unblocked_at__isnull=True)
        lifted = services.ip_unblock(ip=ip, by=request.user)
        return Response({"ip": ip, "lifted": lifted})


class ClearSecurityDataInputSerializer(serializers.Serializer):
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
    """Delete old events (and finished blocks when asked). Staff only."""

    permission_classes = [IsAdminUser]

    @extend_schema(
        request=ClearSecurityDataInputSerializer,
        responses=inline_serializer("ClearedSecurityData", fields={"events": serializers.IntegerField()}),
    )
    def post(self, request: Request) -> Response:
        data = ClearSecurityDataInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = services.security_data_clear(
            older_than=parse_duration(data.validated_data["older_than"]),
            expired_blocks=data.validated_data["expired_blocks"],
            dry_run=data.validated_data["dry_run"],
        )
        return Response({"events": result.events, "blocks": result.blocks, "dry_run": data.validated_data["dry_run"]})
