"""The projects API: thin views that validate input, call one service or selector, and shape
the output. Every object is reached through an owner-scoped selector (another user's id is a
404); the other subjects' endpoints are in the modules beside this one."""

from decimal import Decimal
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseBase
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from mvpvalidator import cache as app_cache
from mvpvalidator.pagination import LimitOffsetPagination
from projects import cache as keys
from projects.api.pages import LandingPageOutputSerializer
from projects.api.prototypes import PrototypeOutputSerializer
from projects.models import IDEA_MAX_LENGTH, IDEA_MIN_LENGTH, PRICE_MAX, BusinessModel, Currency, Project, ProjectStatus
from projects.models.projects import Billing, Delivery
from projects.selectors.projects import project_detail_json, project_get, project_list_page
from projects.services.projects import project_archive, project_create, project_delete, project_update


class ProjectInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    idea_description = serializers.CharField(min_length=IDEA_MIN_LENGTH, max_length=IDEA_MAX_LENGTH)
    target_audience = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    price_point = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=Decimal("0"), max_value=PRICE_MAX)
    currency = serializers.ChoiceField(choices=Currency.choices, default=Currency.USD)
    business_model = serializers.ChoiceField(choices=BusinessModel.choices)
    # How the product is delivered and billed: the generated copy states these and nothing else.
    delivery = serializers.ChoiceField(choices=Delivery.choices, default=Delivery.UNSPECIFIED)
    billing = serializers.ChoiceField(choices=Billing.choices, default=Billing.UNSPECIFIED)


class ProjectUpdateSerializer(ProjectInputSerializer):
    """PATCH: any subset of the editable fields, no defaults filled in."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, partial=True, **kwargs)
        for field in self.fields.values():
            field.default = serializers.empty


class ProjectOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    idea_description = serializers.CharField()
    target_audience = serializers.CharField()
    price_point = serializers.DecimalField(max_digits=10, decimal_places=2)
    currency = serializers.CharField()
    business_model = serializers.CharField()
    delivery = serializers.CharField()
    billing = serializers.CharField()
    status = serializers.CharField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    completed_at = serializers.DateTimeField(allow_null=True)


class ProjectDetailOutputSerializer(ProjectOutputSerializer):
    current_prototype = serializers.SerializerMethodField()
    landing_pages = serializers.SerializerMethodField()
    signup_count = serializers.SerializerMethodField()

    @extend_schema_field(PrototypeOutputSerializer(allow_null=True))
    def get_current_prototype(self, project: Project) -> dict[str, Any] | None:
        current = project.current_prototypes
        return PrototypeOutputSerializer(current[0]).data if current else None

    @extend_schema_field(LandingPageOutputSerializer(many=True))
    def get_landing_pages(self, project: Project) -> list[dict[str, Any]]:
        return LandingPageOutputSerializer(project.pages_with_counts, many=True).data

    def get_signup_count(self, project: Project) -> int:
        return sum(page.signup_count for page in project.pages_with_counts)


def project_detail_body(project: Project) -> bytes:
    """The detail's JSON body, as the API's renderer writes it for a `Response` of its data:
    cached as bytes, a hit is neither serialised nor rendered again, and requests served from the
    in-process tier share nothing mutable."""
    return JSONRenderer().render(ProjectDetailOutputSerializer(project).data)


def _detail_response(body: bytes) -> HttpResponse:
    return HttpResponse(body, content_type=JSONRenderer.media_type)


class ProjectListCreateView(APIView):
    pagination_class = LimitOffsetPagination

    @extend_schema(responses=ProjectOutputSerializer(many=True))
    def get(self, request: Request) -> Response:
        status_filter = request.query_params.get("status")
        if status_filter and status_filter not in ProjectStatus.values:
            status_filter = "__none__"
        paginator = self.pagination_class()
        paginator.request = request
        paginator.limit = paginator.get_limit(request)
        paginator.offset = paginator.get_offset(request)
        page = project_list_page(
            user=request.user, status=status_filter, limit=paginator.limit, offset=paginator.offset
        )
        paginator.count = page.count
        return paginator.get_paginated_response(ProjectOutputSerializer(page.items, many=True).data)

    @extend_schema(request=ProjectInputSerializer, responses={201: ProjectOutputSerializer})
    def post(self, request: Request) -> Response:
        data = ProjectInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        project = project_create(owner=request.user, **data.validated_data)
        return Response(ProjectOutputSerializer(project).data, status=status.HTTP_201_CREATED)


class ProjectDetailView(APIView):
    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        # The owner's identity (read by the authentication) and the cached detail depend on
        # the generations of the account's, the family's and the project's namespaces: one round
        # trip reads them all, and on a hit both values come from the in-process tier.
        with app_cache.read_together(keys.detail_read_with_identity(project_id=kwargs["pk"])):
            return super().dispatch(request, *args, **kwargs)

    @extend_schema(responses=ProjectDetailOutputSerializer)
    def get(self, request: Request, pk: int) -> HttpResponse:
        return _detail_response(project_detail_json(user=request.user, pk=pk, render=project_detail_body))

    @extend_schema(request=ProjectUpdateSerializer, responses=ProjectDetailOutputSerializer)
    def patch(self, request: Request, pk: int) -> Response:
        project = project_get(user=request.user, pk=pk)
        data = ProjectUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        project_update(project=project, data=data.validated_data)
        return _detail_response(project_detail_json(user=request.user, pk=pk, render=project_detail_body))

    @extend_schema(responses={204: None})
    def delete(self, request: Request, pk: int) -> Response:
        project_delete(project=project_get(user=request.user, pk=pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class ProjectArchiveView(APIView):
    @extend_schema(request=None, responses=ProjectOutputSerializer)
    def post(self, request: Request, pk: int) -> Response:
        project = project_archive(project=project_get(user=request.user, pk=pk))
        return Response(ProjectOutputSerializer(project).data)
