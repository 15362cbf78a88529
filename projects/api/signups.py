"""The signups API: a project's signups as pages (limit/offset or keyset) and as a streamed CSV,
and the counts of signup forms held for a confirm button (the dropped ones among them)."""

import csv
from collections.abc import Iterator

from django.http import StreamingHttpResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from mvpvalidator.pagination import LimitOffsetOrKeysetPagination, keyset_page, wants_keyset
from mvpvalidator.spreadsheet import CSV_CONTENT_TYPE, safe_row
from projects.api.negotiation import CsvExportNegotiation
from projects.api.pagination import paginated
from projects.selectors.projects import project_get
from projects.selectors.signups import held_signup_counts, signup_csv_rows, signup_list


class SignupOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    landing_page_id = serializers.IntegerField()
    landing_page_slug = serializers.CharField()  # annotated by projects.selectors.signups.signup_list
    email = serializers.EmailField()
    name = serializers.CharField()
    qualifying_answer = serializers.CharField()
    utm_source = serializers.CharField()
    utm_medium = serializers.CharField()
    utm_campaign = serializers.CharField()
    utm_content = serializers.CharField()
    utm_term = serializers.CharField()
    referrer = serializers.CharField()
    # The rest of the visit's first touch ("" for signups stored before it was kept).
    click_platform = serializers.CharField()
    click_id = serializers.CharField()
    channel = serializers.CharField()
    variant = serializers.CharField()
    # "founder": the founder's own test signup (signed in, or through the preview link), left out of
    # every count.
    traffic = serializers.CharField()
    consent = serializers.BooleanField()
    consent_at = serializers.DateTimeField(allow_null=True)
    confirmed_at = serializers.DateTimeField(allow_null=True)
    unsubscribed_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()


class SignupListView(APIView):
    """Newest first; `?limit=&offset=` by default, `?pagination=cursor` for keyset pages
    (constant cost however deep: follow `next`)."""

    pagination_class = LimitOffsetOrKeysetPagination

    @extend_schema(responses=SignupOutputSerializer(many=True))
    def get(self, request: Request, pk: int) -> Response:
        project = project_get(user=request.user, pk=pk)
        signups = signup_list(project=project)
        if wants_keyset(request):
            return keyset_page(signups, request, lambda rows: SignupOutputSerializer(rows, many=True).data)
        return paginated(request, self, signups, SignupOutputSerializer)


class _Echo:
    def write(self, value: str) -> str:
        return value


class SignupExportView(APIView):
    content_negotiation_class = CsvExportNegotiation

    @extend_schema(responses={(200, "text/csv"): OpenApiResponse(description="All signups as CSV, streamed.")})
    def get(self, request: Request, pk: int) -> StreamingHttpResponse:
        project = project_get(user=request.user, pk=pk)
        writer = csv.writer(_Echo())

        def rows() -> Iterator[str]:
            for row in signup_csv_rows(project=project, preorders=False):
                yield writer.writerow(safe_row(row))

        response = StreamingHttpResponse(rows(), content_type=CSV_CONTENT_TYPE)
        response["Content-Disposition"] = f'attachment; filename="project-{project.pk}-signups.csv"'
        return response


class HeldReasonSerializer(serializers.Serializer):
    reason = serializers.CharField()
    label = serializers.CharField()
    held = serializers.IntegerField()
    confirmed = serializers.IntegerField()
    dropped = serializers.IntegerField()


class HeldPageSerializer(serializers.Serializer):
    slug = serializers.CharField()
    held = serializers.IntegerField()
    confirmed = serializers.IntegerField()
    dropped = serializers.IntegerField()


class HeldSignupCountsSerializer(serializers.Serializer):
    held = serializers.IntegerField(help_text="Signup forms doubted (possibly a bot's): shown a confirm button.")
    confirmed = serializers.IntegerField(help_text="Of those, confirmed by their visitor: stored as signups.")
    awaiting = serializers.IntegerField(help_text="Not confirmed yet; the confirm button still works.")
    dropped = serializers.IntegerField(help_text="Never confirmed, and the confirm button has expired: not stored.")
    by_reason = HeldReasonSerializer(many=True)
    by_page = HeldPageSerializer(many=True, help_text="The pages that held any, by their address (slug).")


class HeldSignupCountsView(APIView):
    """The project's signup forms held for a confirm button instead of stored at once: none is
    dropped in silence, and here the founder sees how many were, and why they were doubted."""

    @extend_schema(responses=HeldSignupCountsSerializer)
    def get(self, request: Request, pk: int) -> Response:
        project = project_get(user=request.user, pk=pk)
        return Response(HeldSignupCountsSerializer(held_signup_counts(project=project)).data)
