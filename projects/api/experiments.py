"""The experiments API: a project's experiments, one experiment's settings and moves, and its
results."""

from decimal import Decimal
from typing import Any

from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from mvpvalidator.pagination import LimitOffsetPagination
from projects.api.pagination import paginated
from projects.api.partial import AtLeastOneFieldMixin
from projects.models import MAX_VARIANTS, MIN_VARIANTS, PRICE_MAX, VARIANT_KEY_MAX_LENGTH, Experiment, ExperimentStatus
from projects.selectors.experiments import experiment_get, experiment_list, experiment_results
from projects.selectors.pages import landing_page_of_project
from projects.selectors.projects import project_get
from projects.services.experiments import experiment_create, experiment_delete, experiment_move, experiment_update


class VariantSerializer(serializers.Serializer):
    key = serializers.SlugField(max_length=VARIANT_KEY_MAX_LENGTH)
    name = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")
    is_control = serializers.BooleanField(required=False, default=False)
    weight = serializers.IntegerField(min_value=1, max_value=1000, required=False, default=1)
    headline = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")
    subheadline = serializers.CharField(max_length=240, required=False, allow_blank=True, default="")
    cta_text = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")
    preorder_price = serializers.DecimalField(
        max_digits=10, decimal_places=2, min_value=Decimal("0"), max_value=PRICE_MAX, required=False, allow_null=True
    )


def _variant_count(variants: list[Any]) -> list[Any]:
    # Here rather than as the list's min/max length, whose error DRF nests under
    # "non_field_errors": the same flat message as the service's check of the same rule.
    if not MIN_VARIANTS <= len(variants) <= MAX_VARIANTS:
        raise serializers.ValidationError(f"Give between {MIN_VARIANTS} and {MAX_VARIANTS} variants.")
    return variants


class ExperimentInputSerializer(serializers.Serializer):
    landing_page_id = serializers.IntegerField(min_value=1)
    name = serializers.CharField(max_length=120)
    hypothesis = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    coverage = serializers.DecimalField(
        max_digits=4, decimal_places=3, min_value=Decimal("0.01"), max_value=Decimal("1"), required=False
    )
    minimum_detectable_effect = serializers.DecimalField(
        max_digits=5, decimal_places=3, min_value=Decimal("0.01"), max_value=Decimal("10"), required=False
    )
    variants = VariantSerializer(many=True)

    def validate_variants(self, variants: list[Any]) -> list[Any]:
        return _variant_count(variants)


class ExperimentUpdateSerializer(AtLeastOneFieldMixin, serializers.Serializer):
    """PATCH: any subset; variants and coverage only while the experiment is a draft."""

    name = serializers.CharField(max_length=120, required=False)
    hypothesis = serializers.CharField(max_length=500, required=False, allow_blank=True)
    coverage = serializers.DecimalField(
        max_digits=4, decimal_places=3, min_value=Decimal("0.01"), max_value=Decimal("1"), required=False
    )
    minimum_detectable_effect = serializers.DecimalField(
        max_digits=5, decimal_places=3, min_value=Decimal("0.01"), max_value=Decimal("10"), required=False
    )
    variants = VariantSerializer(many=True, required=False)

    def validate_variants(self, variants: list[Any]) -> list[Any]:
        return _variant_count(variants)


class VariantOutputSerializer(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()
    is_control = serializers.BooleanField()
    weight = serializers.IntegerField()
    headline = serializers.CharField()
    subheadline = serializers.CharField()
    cta_text = serializers.CharField()
    preorder_price = serializers.DecimalField(max_digits=10, decimal_places=2, allow_null=True)


class ExperimentOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    landing_page_id = serializers.IntegerField(source="page_id")
    name = serializers.CharField()
    hypothesis = serializers.CharField()
    status = serializers.CharField()
    coverage = serializers.DecimalField(max_digits=4, decimal_places=3)
    minimum_detectable_effect = serializers.DecimalField(max_digits=5, decimal_places=3)
    variants = VariantOutputSerializer(many=True, source="variants.all")
    results_url = serializers.SerializerMethodField()
    started_at = serializers.DateTimeField(allow_null=True)
    paused_at = serializers.DateTimeField(allow_null=True)
    completed_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def get_results_url(self, experiment: Experiment) -> str:
        return reverse("api-experiment-results", kwargs={"pk": experiment.pk})


class ExperimentListCreateView(APIView):
    pagination_class = LimitOffsetPagination

    @extend_schema(responses=ExperimentOutputSerializer(many=True))
    def get(self, request: Request, pk: int) -> Response:
        project = project_get(user=request.user, pk=pk)
        return paginated(request, self, experiment_list(project=project), ExperimentOutputSerializer)

    @extend_schema(request=ExperimentInputSerializer, responses={201: ExperimentOutputSerializer})
    def post(self, request: Request, pk: int) -> Response:
        project = project_get(user=request.user, pk=pk)
        data = ExperimentInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        page = landing_page_of_project(project=project, pk=fields.pop("landing_page_id"))
        experiment = experiment_create(page=page, **fields)
        return Response(
            ExperimentOutputSerializer(experiment_get(user=request.user, pk=experiment.pk)).data,
            status=status.HTTP_201_CREATED,
        )


class ExperimentDetailView(APIView):
    @extend_schema(responses=ExperimentOutputSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return Response(ExperimentOutputSerializer(experiment_get(user=request.user, pk=pk)).data)

    @extend_schema(request=ExperimentUpdateSerializer, responses=ExperimentOutputSerializer)
    def patch(self, request: Request, pk: int) -> Response:
        experiment = experiment_get(user=request.user, pk=pk)
        data = ExperimentUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        experiment_update(experiment=experiment, data=data.validated_data)
        return Response(ExperimentOutputSerializer(experiment_get(user=request.user, pk=pk)).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, pk: int) -> Response:
        experiment_delete(experiment=experiment_get(user=request.user, pk=pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class _ExperimentMoveView(APIView):
    to: str = ""

    @extend_schema(request=None, responses=ExperimentOutputSerializer)
    def post(self, request: Request, pk: int) -> Response:
        experiment_move(experiment=experiment_get(user=request.user, pk=pk), to=self.to)
        return Response(ExperimentOutputSerializer(experiment_get(user=request.user, pk=pk)).data)


class ExperimentStartView(_ExperimentMoveView):
    to = ExperimentStatus.RUNNING


class ExperimentPauseView(_ExperimentMoveView):
    to = ExperimentStatus.PAUSED


class ExperimentCompleteView(_ExperimentMoveView):
    to = ExperimentStatus.COMPLETED


class ExperimentResultsView(APIView):
    @extend_schema(responses=OpenApiResponse(description="Per-variant figures, statistics and the decision."))
    def get(self, request: Request, pk: int) -> Response:
        return Response(experiment_results(experiment=experiment_get(user=request.user, pk=pk)))
