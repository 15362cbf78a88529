"""The analytics API: a project's funnel from the event rollups, grouped by day, variant or channel,
or broken down by referrer, UTM field or device class."""

from datetime import timedelta
from typing import Any

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.fields import Field
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from projects.selectors.events import GROUP_BY, project_analytics
from projects.selectors.projects import project_get


class AnalyticsQuerySerializer(serializers.Serializer):
    to = serializers.DateField(required=False)
    group_by = serializers.ChoiceField(choices=[(g, g) for g in GROUP_BY], default="day")

    MAX_DAYS = 366

    def get_fields(self) -> dict[str, Field]:
        # "from" is a Python keyword, so it cannot be declared in the class body. It is added here,
        # unbound: renaming a declared field after binding keeps its old `source`, and the value
        # would be stored under the old name (the parameter silently ignored).
        return {"from": serializers.DateField(required=False), **super().get_fields()}

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        today = timezone.now().date()
        until = attrs.get("to") or today
        since = attrs.get("from") or until - timedelta(days=29)
        if since > until:
            raise serializers.ValidationError({"from": ["Must be on or before 'to'."]})
        if (until - since).days >= self.MAX_DAYS:
            raise serializers.ValidationError({"from": [f"At most {self.MAX_DAYS} days at a time."]})
        return {"since": since, "until": until, "group_by": attrs["group_by"]}


class ProjectAnalyticsView(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("from", OpenApiTypes.DATE, description="First day (default: 29 days before 'to')."),
            OpenApiParameter("to", OpenApiTypes.DATE, description="Last day, inclusive (default: today, UTC)."),
            OpenApiParameter(
                "group_by",
                str,
                enum=list(GROUP_BY),
                description=(
                    "Default: day. `day`, `variant`, `channel` read the daily rollups; `referrer` (the referring "
                    "site), `utm_source`, `utm_medium`, `utm_campaign`, `utm_content`, `utm_term` and `device` "
                    "(phone, tablet, desktop, other) read the breakdowns, where a visitor counts once a day in "
                    "the values of their first event of the day. `(none)`: no referrer, tag or variant."
                ),
            ),
        ],
        responses=OpenApiResponse(
            description=(
                "The funnel (views, visitors, clicks, signups, confirmed signups, pre-orders, with the rates "
                "as shares of visitors) per group, the totals, cold and warm traffic apart (`traffic`), the "
                "views of known bots and of the founder left out (`excluded`), from the rollups plus the "
                "events still waiting (`live`). `confirmed` counts people's signups that were confirmed, by "
                "the signup's day; it is null in the breakdowns (referrer, UTM, device)."
            )
        ),
    )
    def get(self, request: Request, pk: int) -> Response:
        project = project_get(user=request.user, pk=pk)
        query = AnalyticsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response(project_analytics(project=project, **query.validated_data))
