"""The projects API: thin views that validate input, call one service or selector, and
shape the output. Every object is reached through an owner-scoped selector (another
user's id is a 404)."""

import csv
from collections.abc import Iterator

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from mvpvalidator.pagination import LimitOffsetOrKeysetPagination, LimitOffsetPagination, keyset_page, wants_keyset
from mvpvalidator.spreadsheet import CSV_CONTENT_TYPE, safe_row
from projects import selectors, services, spend_csv
from projects.api.negotiation import CsvExportNegotiation
from projects.api.parsers import TextCsvParser
from projects.api.serializers import (
    AnalyticsQuerySerializer,
    CampaignInputSerializer,
    CampaignOutputSerializer,
    CampaignUpdateSerializer,
    ExperimentInputSerializer,
    ExperimentOutputSerializer,
    ExperimentUpdateSerializer,
    LandingPageCreateSerializer,
    LandingPageOutputSerializer,
    LandingPageUpdateSerializer,
    ProjectDetailOutputSerializer,
    ProjectInputSerializer,
    ProjectOutputSerializer,
    ProjectUpdateSerializer,
    PrototypeOutputSerializer,
    SignupOutputSerializer,
    SpendInputSerializer,
    TestCardUpdateSerializer,
    project_detail_representation,
)
from projects.models import CampaignStatus, ExperimentStatus, ProjectStatus


def _paginated(request: Request, view: APIView, queryset, serializer_class) -> Response:
    paginator = view.pagination_class()
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(serializer_class(page, many=True).data)


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
        page = selectors.project_list_page(
            user=request.user, status=status_filter, limit=paginator.limit, offset=paginator.offset
        )
        paginator.count = page.count
        return paginator.get_paginated_response(ProjectOutputSerializer(page.items, many=True).data)

    @extend_schema(request=ProjectInputSerializer, responses={201: ProjectOutputSerializer})
    def post(self, request: Request) -> Response:
        data = ProjectInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        project = services.project_create(owner=request.user, **data.validated_data)
        return Response(ProjectOutputSerializer(project).data, status=status.HTTP_201_CREATED)


class ProjectDetailView(APIView):
    @extend_schema(responses=ProjectDetailOutputSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return Response(
            selectors.project_detail_data(user=request.user, pk=pk, represent=project_detail_representation)
        )

    @extend_schema(request=ProjectUpdateSerializer, responses=ProjectDetailOutputSerializer)
    def patch(self, request: Request, pk: int) -> Response:
        project = selectors.project_get(user=request.user, pk=pk)
        data = ProjectUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.project_update(project=project, data=data.validated_data)
        return Response(
            selectors.project_detail_data(user=request.user, pk=pk, represent=project_detail_representation)
        )

    @extend_schema(responses={204: None})
    def delete(self, request: Request, pk: int) -> Response:
        services.project_delete(project=selectors.project_get(user=request.user, pk=pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class ProjectArchiveView(APIView):
    @extend_schema(request=None, responses=ProjectOutputSerializer)
    def post(self, request: Request, pk: int) -> Response:
        project = services.project_archive(project=selectors.project_get(user=request.user, pk=pk))
        return Response(ProjectOutputSerializer(project).data)


class PrototypeGenerateView(APIView):
    throttle_scope = "generate_prototype"

    @extend_schema(request=None, responses={201: PrototypeOutputSerializer, 409: OpenApiResponse()})
    def post(self, request: Request, pk: int) -> Response:
        prototype = services.prototype_generate(project=selectors.project_get(user=request.user, pk=pk))
        return Response(PrototypeOutputSerializer(prototype).data, status=status.HTTP_201_CREATED)


class PrototypeListView(APIView):
    pagination_class = LimitOffsetPagination

    @extend_schema(responses=PrototypeOutputSerializer(many=True))
    def get(self, request: Request, pk: int) -> Response:
        project = selectors.project_get(user=request.user, pk=pk)
        return _paginated(request, self, selectors.prototype_list(project=project), PrototypeOutputSerializer)


class LandingPageListCreateView(APIView):
    pagination_class = LimitOffsetPagination

    @extend_schema(responses=LandingPageOutputSerializer(many=True))
    def get(self, request: Request, pk: int) -> Response:
        project = selectors.project_get(user=request.user, pk=pk)
        return _paginated(request, self, selectors.landing_page_list(project=project), LandingPageOutputSerializer)

    @extend_schema(request=LandingPageCreateSerializer, responses={201: LandingPageOutputSerializer})
    def post(self, request: Request, pk: int) -> Response:
        project = selectors.project_get(user=request.user, pk=pk)
        data = LandingPageCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        page = services.landing_page_create(project=project, **data.validated_data)
        return Response(LandingPageOutputSerializer(page).data, status=status.HTTP_201_CREATED)


class LandingPageDetailView(APIView):
    @extend_schema(responses=LandingPageOutputSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return Response(LandingPageOutputSerializer(selectors.landing_page_get(user=request.user, pk=pk)).data)

    @extend_schema(request=LandingPageUpdateSerializer, responses=LandingPageOutputSerializer)
    def patch(self, request: Request, pk: int) -> Response:
        page = selectors.landing_page_get(user=request.user, pk=pk)
        data = LandingPageUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        page = services.landing_page_update(page=page, data=data.validated_data)
        return Response(LandingPageOutputSerializer(page).data)


class LandingPagePublishView(APIView):
    @extend_schema(request=None, responses=LandingPageOutputSerializer)
    def post(self, request: Request, pk: int) -> Response:
        page = services.landing_page_publish(page=selectors.landing_page_get(user=request.user, pk=pk))
        return Response(LandingPageOutputSerializer(page).data)


class LandingPageArchiveView(APIView):
    @extend_schema(request=None, responses=LandingPageOutputSerializer)
    def post(self, request: Request, pk: int) -> Response:
        page = services.landing_page_archive(page=selectors.landing_page_get(user=request.user, pk=pk))
        return Response(LandingPageOutputSerializer(page).data)


class SignupListView(APIView):
    """Newest first; `?limit=&offset=` by default, `?pagination=cursor` for keyset pages
    (constant cost however deep: follow `next`)."""

    pagination_class = LimitOffsetOrKeysetPagination

    @extend_schema(responses=SignupOutputSerializer(many=True))
    def get(self, request: Request, pk: int) -> Response:
        project = selectors.project_get(user=request.user, pk=pk)
        signups = selectors.signup_list(project=project)
        if wants_keyset(request):
            return keyset_page(signups, request, lambda rows: SignupOutputSerializer(rows, many=True).data)
        return _paginated(request, self, signups, SignupOutputSerializer)


CSV_COLUMNS = (
    "email",
    "name",
    "landing_page",
    "created_at",
    "confirmed_at",
    "unsubscribed_at",
    "consent",
    "qualifying_answer",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_content",
    "utm_term",
    "referrer",
)


class _Echo:
    def write(self, value: str) -> str:
        return value


class SignupExportView(APIView):
    content_negotiation_class = CsvExportNegotiation

    @extend_schema(responses={(200, "text/csv"): OpenApiResponse(description="All signups as CSV, streamed.")})
    def get(self, request: Request, pk: int) -> StreamingHttpResponse:
        project = selectors.project_get(user=request.user, pk=pk)
        writer = csv.writer(_Echo())

        def rows() -> Iterator[str]:
            yield writer.writerow(CSV_COLUMNS)
            for s in selectors.signup_export_rows(project=project):
                yield writer.writerow(
                    safe_row(
                        (
                            s.email,
                            s.name,
                            s.landing_page_slug,
                            s.created_at,
                            s.confirmed_at,
                            s.unsubscribed_at,
                            s.consent,
                            s.qualifying_answer,
                            s.utm_source,
                            s.utm_medium,
                            s.utm_campaign,
                            s.utm_content,
                            s.utm_term,
                            s.referrer,
                        )
                    )
                )

        response = StreamingHttpResponse(rows(), content_type=CSV_CONTENT_TYPE)
        response["Content-Disposition"] = f'attachment; filename="project-{project.pk}-signups.csv"'
        return response


# --- Experiments -------------------------------------------------------------------------------


class ExperimentListCreateView(APIView):
    pagination_class = LimitOffsetPagination

    @extend_schema(responses=ExperimentOutputSerializer(many=True))
    def get(self, request: Request, pk: int) -> Response:
        project = selectors.project_get(user=request.user, pk=pk)
        return _paginated(request, self, selectors.experiment_list(project=project), ExperimentOutputSerializer)

    @extend_schema(request=ExperimentInputSerializer, responses={201: ExperimentOutputSerializer})
    def post(self, request: Request, pk: int) -> Response:
        project = selectors.project_get(user=request.user, pk=pk)
        data = ExperimentInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        page = selectors.landing_page_of_project(project=project, pk=fields.pop("landing_page_id"))
        experiment = services.experiment_create(page=page, **fields)
        return Response(
            ExperimentOutputSerializer(selectors.experiment_get(user=request.user, pk=experiment.pk)).data,
            status=status.HTTP_201_CREATED,
        )


class ExperimentDetailView(APIView):
    @extend_schema(responses=ExperimentOutputSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return Response(ExperimentOutputSerializer(selectors.experiment_get(user=request.user, pk=pk)).data)

    @extend_schema(request=ExperimentUpdateSerializer, responses=ExperimentOutputSerializer)
    def patch(self, request: Request, pk: int) -> Response:
        experiment = selectors.experiment_get(user=request.user, pk=pk)
        data = ExperimentUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.experiment_update(experiment=experiment, data=data.validated_data)
        return Response(ExperimentOutputSerializer(selectors.experiment_get(user=request.user, pk=pk)).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, pk: int) -> Response:
        services.experiment_delete(experiment=selectors.experiment_get(user=request.user, pk=pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class _ExperimentMoveView(APIView):
    to: str = ""

    @extend_schema(request=None, responses=ExperimentOutputSerializer)
    def post(self, request: Request, pk: int) -> Response:
        services.experiment_move(experiment=selectors.experiment_get(user=request.user, pk=pk), to=self.to)
        return Response(ExperimentOutputSerializer(selectors.experiment_get(user=request.user, pk=pk)).data)


class ExperimentStartView(_ExperimentMoveView):
    to = ExperimentStatus.RUNNING


class ExperimentPauseView(_ExperimentMoveView):
    to = ExperimentStatus.PAUSED


class ExperimentCompleteView(_ExperimentMoveView):
    to = ExperimentStatus.COMPLETED


class ExperimentResultsView(APIView):
    @extend_schema(responses=OpenApiResponse(description="Per-variant figures, statistics and the decision."))
    def get(self, request: Request, pk: int) -> Response:
        return Response(selectors.experiment_results(experiment=selectors.experiment_get(user=request.user, pk=pk)))


class ProjectAnalyticsView(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("from", OpenApiTypes.DATE, description="First day (default: 29 days before 'to')."),
            OpenApiParameter("to", OpenApiTypes.DATE, description="Last day, inclusive (default: today, UTC)."),
            OpenApiParameter("group_by", str, enum=["day", "variant", "channel"], description="Default: day."),
        ],
        responses=OpenApiResponse(description="The funnel from the daily rollups plus the events still waiting."),
    )
    def get(self, request: Request, pk: int) -> Response:
        project = selectors.project_get(user=request.user, pk=pk)
        query = AnalyticsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response(selectors.project_analytics(project=project, **query.validated_data))


# --- Campaigns ---------------------------------------------------------------------------------


def _campaign_body(campaign) -> dict:
    return {**CampaignOutputSerializer(campaign).data, "summary": selectors.campaign_summary(campaign=campaign)}


class CampaignListCreateView(APIView):
    pagination_class = LimitOffsetPagination

    @extend_schema(responses=CampaignOutputSerializer(many=True))
    def get(self, request: Request, pk: int) -> Response:
        project = selectors.project_get(user=request.user, pk=pk)
        return _paginated(request, self, selectors.campaign_list(project=project), CampaignOutputSerializer)

    @extend_schema(request=CampaignInputSerializer, responses={201: CampaignOutputSerializer})
    def post(self, request: Request, pk: int) -> Response:
        project = selectors.project_get(user=request.user, pk=pk)
        data = CampaignInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        campaign = services.campaign_create(project=project, **data.validated_data)
        return Response(_campaign_body(campaign), status=status.HTTP_201_CREATED)


class CampaignDetailView(APIView):
    @extend_schema(responses=CampaignOutputSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return Response(_campaign_body(selectors.campaign_get(user=request.user, pk=pk)))

    @extend_schema(request=CampaignUpdateSerializer, responses=CampaignOutputSerializer)
    def patch(self, request: Request, pk: int) -> Response:
        campaign = selectors.campaign_get(user=request.user, pk=pk)
        data = CampaignUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(_campaign_body(services.campaign_update(campaign=campaign, data=data.validated_data)))

    @extend_schema(responses={204: None})
    def delete(self, request: Request, pk: int) -> Response:
        services.campaign_delete(campaign=selectors.campaign_get(user=request.user, pk=pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class _CampaignMoveView(APIView):
    to: str = ""

    @extend_schema(request=None, responses=CampaignOutputSerializer)
    def post(self, request: Request, pk: int) -> Response:
        campaign = services.campaign_move(campaign=selectors.campaign_get(user=request.user, pk=pk), to=self.to)
        return Response(_campaign_body(campaign))


class CampaignStartView(_CampaignMoveView):
    to = CampaignStatus.ACTIVE


class CampaignPauseView(_CampaignMoveView):
    to = CampaignStatus.PAUSED


class CampaignCompleteView(_CampaignMoveView):
    to = CampaignStatus.COMPLETED


def _spend_rows(campaign) -> list[dict]:
    return [
        {"date": s.date, "spend": str(s.spend), "impressions": s.impressions, "clicks": s.clicks}
        for s in selectors.spend_list(campaign=campaign)
    ]


class CampaignSpendView(APIView):
    @extend_schema(responses=OpenApiResponse(description="The campaign's daily spend, oldest first."))
    def get(self, request: Request, pk: int) -> Response:
        campaign = selectors.campaign_get(user=request.user, pk=pk)
        return Response(
            {
                "campaign": {"id": campaign.pk, "name": campaign.name, "utm_campaign": campaign.utm_campaign},
                "rows": _spend_rows(campaign),
                "summary": selectors.campaign_summary(campaign=campaign),
            }
        )

    @extend_schema(request=SpendInputSerializer, responses=OpenApiResponse(description="Rows created and updated."))
    def post(self, request: Request, pk: int) -> Response:
        campaign = selectors.campaign_get(user=request.user, pk=pk)
        data = SpendInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        rows = [
            spend_csv.SpendRow(
                line=i + 1, date=r["date"], spend=r["spend"], impressions=r["impressions"], clicks=r["clicks"]
            )
            for i, r in enumerate(data.validated_data["rows"])
        ]
        result = services.spend_import(campaign=campaign, rows=rows)
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
        campaign = selectors.campaign_get(user=request.user, pk=pk)
        upload = request.data.get("file") if hasattr(request.data, "get") else None
        if upload is not None and hasattr(upload, "read"):
            if upload.size > spend_csv.MAX_BYTES:
                raise services.SpendFileError([spend_csv.LineError(0, "file", "The file is larger than 1000 kB.")])
            data = upload.read()
        elif isinstance(request.data, bytes | str):
            data = request.data
        else:
            raise services.SpendFileError(
                [spend_csv.LineError(0, "file", "Send the CSV as the body (text/csv) or a `file` field.")]
            )
        result = services.spend_import_csv(campaign=campaign, data=data)
        return Response({"created": result.created, "updated": result.updated})


class ProjectReportView(APIView):
    @extend_schema(
        responses=OpenApiResponse(description="The test card, the demand score, its components and the verdict.")
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(selectors.project_report(project=selectors.project_get(user=request.user, pk=pk)))


class ReportSnapshotListCreateView(APIView):
    @extend_schema(responses=OpenApiResponse(description="The project's kept reports, newest first."))
    def get(self, request: Request, pk: int) -> Response:
        project = selectors.project_get(user=request.user, pk=pk)
        rows = [
            {"id": s.pk, "created_at": s.created_at, "verdict": s.verdict, "score": s.score, "report": s.data}
            for s in selectors.report_snapshots(project=project)[:100]
        ]
        return Response({"project_name": project.name, "results": rows})

    @extend_schema(request=None, responses={201: OpenApiResponse(description="The report kept, with its inputs.")})
    def post(self, request: Request, pk: int) -> Response:
        project = selectors.project_get(user=request.user, pk=pk)
        report = selectors.project_report(project=project)
        snapshot = services.report_snapshot_create(project=project, report=report)
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
        project = selectors.project_get(user=request.user, pk=pk)
        return Response({"project_name": project.name, **selectors.project_test_card(project=project)})

    @extend_schema(request=TestCardUpdateSerializer, responses=OpenApiResponse(description="The test card."))
    def patch(self, request: Request, pk: int) -> Response:
        project = selectors.project_get(user=request.user, pk=pk)
        data = TestCardUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.test_card_update(project=project, data=data.validated_data)
        return Response({"project_name": project.name, **selectors.project_test_card(project=project)})
