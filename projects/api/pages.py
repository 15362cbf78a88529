"""The landing pages API: a project's pages, one page's copy, publishing and archiving."""

from decimal import Decimal

from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from mvpvalidator.pagination import LimitOffsetPagination
from projects.api.pagination import paginated
from projects.api.partial import AtLeastOneFieldMixin
from projects.events.cookies import preview_token
from projects.models import PRICE_MAX, CtaKind, LandingPage, PageStatus
from projects.selectors.pages import landing_page_get, landing_page_list
from projects.selectors.projects import project_get
from projects.services.pages import landing_page_archive, landing_page_create, landing_page_publish, landing_page_update


class LandingPageOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    project_id = serializers.IntegerField()
    slug = serializers.CharField()
    status = serializers.CharField()
    public_url = serializers.SerializerMethodField()
    preview_url = serializers.SerializerMethodField()
    headline = serializers.CharField()
    subheadline = serializers.CharField()
    value_proposition = serializers.CharField()
    features = serializers.ListField(child=serializers.CharField())
    pricing_tiers = serializers.ListField(child=serializers.DictField())
    cta_text = serializers.CharField()
    cta_kind = serializers.CharField()
    preorder_price = serializers.DecimalField(max_digits=10, decimal_places=2, allow_null=True)
    qualifying_question = serializers.CharField()
    double_opt_in = serializers.BooleanField()
    content_version = serializers.IntegerField()
    signup_count = serializers.IntegerField(required=False)
    confirmed_count = serializers.IntegerField(required=False)
    published_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def get_public_url(self, page: LandingPage) -> str:
        return reverse("public:landing", kwargs={"slug": page.slug})

    def get_preview_url(self, page: LandingPage) -> str | None:
        """Opening it marks the founder's browser: their own views are not counted as visitors.
        None while the page is not public: the link would answer 404."""
        if page.status != PageStatus.PUBLISHED:
            return None
        return f"{reverse('public:landing', kwargs={'slug': page.slug})}?preview={preview_token(page.pk)}"


class PricingTierSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=40)
    price = serializers.DecimalField(max_digits=9, decimal_places=2, min_value=Decimal("0"))
    period = serializers.ChoiceField(choices=["month", "year", "one-time"])
    features = serializers.ListField(
        child=serializers.CharField(max_length=140), max_length=8, required=False, default=list
    )


class LandingPageCreateSerializer(serializers.Serializer):
    slug = serializers.SlugField(max_length=80, required=False)
    cta_kind = serializers.ChoiceField(choices=CtaKind.choices, default=CtaKind.EMAIL)
    preorder_price = serializers.DecimalField(
        max_digits=10, decimal_places=2, min_value=Decimal("0"), max_value=PRICE_MAX, required=False, allow_null=True
    )
    qualifying_question = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    double_opt_in = serializers.BooleanField(default=True)


class LandingPageUpdateSerializer(AtLeastOneFieldMixin, serializers.Serializer):
    slug = serializers.SlugField(max_length=80, required=False)
    headline = serializers.CharField(max_length=120, required=False)
    subheadline = serializers.CharField(max_length=240, required=False, allow_blank=True)
    value_proposition = serializers.CharField(max_length=2000, required=False)
    features = serializers.ListField(child=serializers.CharField(max_length=140), max_length=8, required=False)
    pricing_tiers = PricingTierSerializer(many=True, required=False, max_length=4)
    cta_text = serializers.CharField(max_length=60, required=False)
    cta_kind = serializers.ChoiceField(choices=CtaKind.choices, required=False)
    preorder_price = serializers.DecimalField(
        max_digits=10, decimal_places=2, min_value=Decimal("0"), max_value=PRICE_MAX, required=False, allow_null=True
    )
    qualifying_question = serializers.CharField(max_length=200, required=False, allow_blank=True)
    double_opt_in = serializers.BooleanField(required=False)


class LandingPageListCreateView(APIView):
    pagination_class = LimitOffsetPagination

    @extend_schema(responses=LandingPageOutputSerializer(many=True))
    def get(self, request: Request, pk: int) -> Response:
        project = project_get(user=request.user, pk=pk)
        return paginated(request, self, landing_page_list(project=project), LandingPageOutputSerializer)

    @extend_schema(request=LandingPageCreateSerializer, responses={201: LandingPageOutputSerializer})
    def post(self, request: Request, pk: int) -> Response:
        project = project_get(user=request.user, pk=pk)
        data = LandingPageCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        page = landing_page_create(project=project, **data.validated_data)
        return Response(LandingPageOutputSerializer(page).data, status=status.HTTP_201_CREATED)


class LandingPageDetailView(APIView):
    @extend_schema(responses=LandingPageOutputSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return Response(LandingPageOutputSerializer(landing_page_get(user=request.user, pk=pk)).data)

    @extend_schema(request=LandingPageUpdateSerializer, responses=LandingPageOutputSerializer)
    def patch(self, request: Request, pk: int) -> Response:
        page = landing_page_get(user=request.user, pk=pk)
        data = LandingPageUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        page = landing_page_update(page=page, data=data.validated_data)
        return Response(LandingPageOutputSerializer(page).data)


class LandingPagePublishView(APIView):
    @extend_schema(request=None, responses=LandingPageOutputSerializer)
    def post(self, request: Request, pk: int) -> Response:
        page = landing_page_publish(page=landing_page_get(user=request.user, pk=pk))
        return Response(LandingPageOutputSerializer(page).data)


class LandingPageArchiveView(APIView):
    @extend_schema(request=None, responses=LandingPageOutputSerializer)
    def post(self, request: Request, pk: int) -> Response:
        page = landing_page_archive(page=landing_page_get(user=request.user, pk=pk))
        return Response(LandingPageOutputSerializer(page).data)
