"""The jobs API: a job's status and outcome, polled by whoever started it (staff read all).

Endpoints that start a job answer 202 with `job_accepted(job)`: the same representation, and
`Location` pointing at it."""

from typing import Any
from uuid import UUID

from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from jobs.models import Job, JobStatus
from jobs.selectors import job_get


def job_url(job: Job) -> str:
    return reverse("job-detail", kwargs={"pk": job.pk})


class JobOutputSerializer(serializers.Serializer[Job]):
    id = serializers.UUIDField()
    kind = serializers.CharField()
    status = serializers.ChoiceField(choices=JobStatus.choices)
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    attempts = serializers.IntegerField()
    error = serializers.CharField()
    result = serializers.DictField()
    url = serializers.SerializerMethodField()

    def get_url(self, job: Job) -> str:
        return job_url(job)


def job_accepted(job: Job) -> Response:
    """202 with the job as it was created (queued), and where to poll it. Not read again: the
    job may be running beside this request, and its progress is what the poll is for."""
    data: dict[str, Any] = JobOutputSerializer(job).data
    return Response(data, status=status.HTTP_202_ACCEPTED, headers={"Location": job_url(job)})


class JobDetailView(APIView):
    @extend_schema(responses=JobOutputSerializer)
    def get(self, request: Request, pk: UUID) -> Response:
        return Response(JobOutputSerializer(job_get(user=request.user, pk=pk)).data)
