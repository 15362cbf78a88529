"""The campaigns API: a project's campaigns, one campaign's settings and moves, and its daily
spend (as JSON rows or an uploaded CSV file)."""

import datetime as dt
from decimal import Decimal
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from mvpvalidator.pagination import LimitOffsetPagination
from projects.analysis import spend_csv
from projects.analysis.money import money_decimal
from projects.api.pagination import paginated
from projects.api.parsers import TextCsvParser
from projects.api.partial import AtLeastOneFieldMixin
from projects.models import Campaign, CampaignPlatform, CampaignStatus
from projects.selectors.campaigns import campaign_get, campaign_list, campaign_summary, spend_list
from projects.selectors.projects import project_get
from projects.services.campaigns import (
    SpendFileError,
    campaign_create,
    campaign_delete,
    campaign_move,
    campaign_update,
    spend_import,
    spend_import_csv,
    spend_today,
)


class CampaignInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    platform = serializers.ChoiceField(choices=CampaignPlatform.choices)
    budget = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0"), max_value=Decimal("1e9"))
    utm_campaign = serializers.CharField(max_length=100)
    starts_on = serializers.DateField(required=False, allow_null=True)
    ends_on = serializers.DateField(required=False, allow_null=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        starts, ends = attrs.get("starts_on"), attrs.get("ends_on")
        if starts and ends and ends < starts:
            raise serializers.ValidationError({"ends_on": ["The end comes before the start."]})
        return attrs


class CampaignUpdateSerializer(AtLeastOneFieldMixin, CampaignInputSerializer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, partial=True, **kwargs)


class CampaignOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    project_id = serializers.IntegerField()
    name = serializers.CharField()
    platform = serializers.CharField()
    budget = serializers.SerializerMethodField()
    status = serializers.CharField()
    utm_campaign = serializers.CharField()
    starts_on = serializers.DateField(allow_null=True)
    ends_on = serializers.DateField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def get_budget(self, campaign: Campaign) -> str | None:
        return money_decimal(campaign.budget, campaign.project.currency)


class SpendRowSerializer(serializers.Serializer):
    date = serializers.DateField()
    spend = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0"), max_value=Decimal("1e9"))
    impressions = serializers.IntegerField(min_value=0, max_value=10**15, required=False, default=0)
    clicks = serializers.IntegerField(min_value=0, max_value=10**15, required=False, default=0)

    def validate_date(self, value: dt.date) -> dt.date:
        today, zone = spend_today()
        if error := spend_csv.future_day_error(value, today=today, zone=zone, line=0):
            raise serializers.ValidationError(error.message)
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["impressions"] and attrs["clicks"] > attrs["impressions"]:
            raise serializers.ValidationError({"clicks": ["More clicks than impressions."]})
        return attrs


class SpendInputSerializer(serializers.Serializer):
    rows = SpendRowSerializer(many=True, min_length=1, max_length=5000)

    def validate_rows(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        days = [r["date"] for r in rows]
        if len(set(days)) != len(days):
            raise serializers.ValidationError("Each day may appear once.")
        return rows


def _campaign_body(campaign: Campaign) -> dict[str, Any]:
    return {**CampaignOutputSerializer(campaign).data, "summary": campaign_summary(campaign=campaign)}


class CampaignListCreateView(APIView):
    pagination_class = LimitOffsetPagination

    @extend_schema(responses=CampaignOutputSerializer(many=True))
    def get(self, request: Request, pk: int) -> Response:
        project = project_get(user=request.user, pk=pk)
        return paginated(request, self, campaign_list(project=project), CampaignOutputSerializer)

    @extend_schema(request=CampaignInputSerializer, responses={201: CampaignOutputSerializer})
    def post(self, request: Request, pk: int) -> Response:
        project = project_get(user=request.user, pk=pk)
        data = CampaignInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        campaign = campaign_create(project=project, **data.validated_data)
        return Response(_campaign_body(campaign), status=status.HTTP_201_CREATED)


class CampaignDetailView(APIView):
    @extend_schema(responses=CampaignOutputSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return Response(_campaign_body(campaign_get(user=request.user, pk=pk)))

    @extend_schema(request=CampaignUpdateSerializer, responses=CampaignOutputSerializer)
    def patch(self, request: Request, pk: int) -> Response:
        campaign = campaign_get(user=request.user, pk=pk)
        data = CampaignUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(_campaign_body(campaign_update(campaign=campaign, data=data.validated_data)))

    @extend_schema(responses={204: None})
    def delete(self, request: Request, pk: int) -> Response:
        campaign_delete(campaign=campaign_get(user=request.user, pk=pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class _CampaignMoveView(APIView):
    to: str = ""

    @extend_schema(request=None, responses=CampaignOutputSerializer)
    def post(self, request: Request, pk: int) -> Response:
        campaign = campaign_move(campaign=campaign_get(user=request.user, pk=pk), to=self.to)
        return Response(_campaign_body(campaign))


class CampaignStartView(_CampaignMoveView):
    to = CampaignStatus.ACTIVE


class CampaignPauseView(_CampaignMoveView):
    to = CampaignStatus.PAUSED


class CampaignCompleteView(_CampaignMoveView):
    to = CampaignStatus.COMPLETED


def _spend_rows(campaign: Campaign) -> list[dict[str, Any]]:
    return [
        {
            "date": s.date,
            "spend": money_decimal(s.spend, campaign.project.currency),
            "impressions": s.impressions,
            "clicks": s.clicks,
        }
        for s in spend_list(campaign=campaign)
    ]


class CampaignSpendView(APIView):
    @extend_schema(responses=OpenApiResponse(description="The campaign's daily spend, oldest first."))
    def get(self, request: Request, pk: int) -> Response:
        campaign = campaign_get(user=request.user, pk=pk)
        return Response(
            {
                "campaign": {"id": campaign.pk, "name": campaign.name, "utm_campaign": campaign.utm_campaign},
                "rows": _spend_rows(campaign),
                "summary": campaign_summary(campaign=campaign),
            }
        )

    @extend_schema(request=SpendInputSerializer, responses=OpenApiResponse(description="Rows created and updated."))
    def post(self, request: Request, pk: int) -> Response:
        campaign = campaign_get(user=request.user, pk=pk)
        data = SpendInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        rows = [
            spend_csv.SpendRow(
                line=i + 1, date=r["date"], spend=r["spend"], impressions=r["impressions"], clicks=r["clicks"]
            )
            for i, r in enumerate(data.validated_data["rows"])
        ]
        result = spend_import(campaign=campaign, rows=rows)
        return Response({"created": result.created, "updated": result.updated})


class CampaignSpendCsvView(APIView):
    """POST a spend file: the raw body (`Content-Type: text/csv`) or a multipart `file` field."""

    parser_classes = [TextCsvParser, MultiPartParser]

    @extend_schema(
        request={
            "text/csv": OpenApiTypes.STR,
            "multipart/form-data": {"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}},
        },
        responses=OpenApiResponse(description="Rows created and updated; 400 with every bad line, nothing imported."),
    )
    def post(self, request: Request, pk: int) -> Response:
        campaign = campaign_get(user=request.user, pk=pk)
        upload = request.data.get("file") if hasattr(request.data, "get") else None
        if upload is not None and hasattr(upload, "read"):
            if upload.size > spend_csv.MAX_BYTES:
                raise SpendFileError([spend_csv.LineError(0, "file", "The file is larger than 1000 kB.")])
            data = upload.read()
        elif isinstance(request.data, bytes | str):
            data = request.data
        else:
            raise SpendFileError(
                [spend_csv.LineError(0, "file", "Send the CSV as the body (text/csv) or a `file` field.")]
            )
        result = spend_import_csv(campaign=campaign, data=data)
        return Response({"created": result.created, "updated": result.updated})
