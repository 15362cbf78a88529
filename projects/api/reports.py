"""The report API: the live validation report, the kept snapshots, and the test card it judges
against."""

from decimal import Decimal

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from projects.api.partial import AtLeastOneFieldMixin
from projects.selectors.projects import project_get
from projects.selectors.reports import project_report, project_test_card, report_snapshots
from projects.services.reports import report_snapshot_create, test_card_update


class TestCardUpdateSerializer(AtLeastOneFieldMixin, serializers.Serializer):
    channel = serializers.CharField(max_length=20, required=False)
    expected_cpc = serializers.DecimalField(
        max_digits=8, decimal_places=2, min_value=Decimal("0.01"), required=False, allow_null=True
    )
    overrides = serializers.DictField(child=serializers.FloatField(), required=False)


class ProjectReportView(APIView):
    @extend_schema(
        responses=OpenApiResponse(description="The test card, the demand score, its components and the verdict.")
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(project_report(project=project_get(user=request.user, pk=pk)))


class ReportSnapshotListCreateView(APIView):
    @extend_schema(responses=OpenApiResponse(description="The project's kept reports, newest first."))
    def get(self, request: Request, pk: int) -> Response:
        project = project_get(user=request.user, pk=pk)
        rows = [
            {"id": s.pk, "created_at": s.created_at, "verdict": s.verdict, "score": s.score, "report": s.data}
            for s in report_snapshots(project=project)[:100]
        ]
        return Response({"project_name": project.name, "results": rows})

    @extend_schema(request=None, responses={201: OpenApiResponse(description="The report kept, with its inputs.")})
    def post(self, request: Request, pk: int) -> Response:
        project = project_get(user=request.user, pk=pk)
        report = project_report(project=project)
        snapshot = report_snapshot_create(project=project, report=report)
        body = {
            "id": snapshot.pk,
            "created_at": snapshot.created_at,
            "verdict": snapshot.verdict,
            "score": snapshot.score,
        }
        return Response({**body, "report": snapshot.data}, status=status.HTTP_201_CREATED)


class TestCardView(APIView):
    """The project's test card: what the report judges against; editable until traffic arrives."""

    @extend_schema(responses=OpenApiResponse(description="The test card as the report uses it."))
    def get(self, request: Request, pk: int) -> Response:
        project = project_get(user=request.user, pk=pk)
        return Response({"project_name": project.name, **project_test_card(project=project)})

    @extend_schema(request=TestCardUpdateSerializer, responses=OpenApiResponse(description="The test card."))
    def patch(self, request: Request, pk: int) -> Response:
        project = project_get(user=request.user, pk=pk)
        data = TestCardUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        test_card_update(project=project, data=data.validated_data)
        return Response({"project_name": project.name, **project_test_card(project=project)})
