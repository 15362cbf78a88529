"""The prototypes API: generate a project's prototype, list its versions."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from jobs.api import JobOutputSerializer, job_accepted
from mvpvalidator.pagination import LimitOffsetPagination
from projects.api.pagination import paginated
from projects.generation import provider_configured
from projects.selectors.projects import project_get
from projects.selectors.prototypes import prototype_list
from projects.services.prototypes import prototype_generate
from projects.tasks import prototype_generation_start


class PrototypeOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    version = serializers.IntegerField()
    is_current = serializers.BooleanField()
    headline = serializers.CharField()
    subheadline = serializers.CharField()
    value_proposition = serializers.CharField()
    features = serializers.ListField(child=serializers.CharField())
    pricing_tiers = serializers.ListField(child=serializers.DictField())
    call_to_action = serializers.CharField()
    generator = serializers.CharField()
    fallback_reason = serializers.CharField()
    generation_ms = serializers.IntegerField()
    created_at = serializers.DateTimeField()


class PrototypeGenerateView(APIView):
    """The built-in generator answers at once (201, the prototype). With a model configured the
    generation runs as a job (202, the job; its result carries the prototype when it is done).
    The throttle and the project's checks (404, 409) come first either way."""

    throttle_scope = "generate_prototype"

    @extend_schema(
        request=None,
        responses={201: PrototypeOutputSerializer, 202: JobOutputSerializer, 409: OpenApiResponse()},
    )
    def post(self, request: Request, pk: int) -> Response:
        project = project_get(user=request.user, pk=pk)
        if provider_configured():
            return job_accepted(prototype_generation_start(project=project, owner_id=request.user.pk))
        prototype = prototype_generate(project=project)
        return Response(PrototypeOutputSerializer(prototype).data, status=status.HTTP_201_CREATED)


class PrototypeListView(APIView):
    pagination_class = LimitOffsetPagination

    @extend_schema(responses=PrototypeOutputSerializer(many=True))
    def get(self, request: Request, pk: int) -> Response:
        project = project_get(user=request.user, pk=pk)
        return paginated(request, self, prototype_list(project=project), PrototypeOutputSerializer)
