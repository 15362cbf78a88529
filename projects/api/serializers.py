import json
from datetime import timedelta
from decimal import Decimal

from django.core.serializers.json import DjangoJSONEncoder
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from projects import tracking
from projects.models import (
    IDEA_MAX_LENGTH,
    IDEA_MIN_LENGTH,
    MAX_VARIANTS,
    MIN_VARIANTS,
    PRICE_MAX,
    VARIANT_KEY_MAX_LENGTH,
    BusinessModel,
    CampaignPlatform,
    CtaKind,
    Currency,
    PageStatus,
)


class ProjectInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    idea_description = serializers.CharField(min_length=IDEA_MIN_LENGTH, max_length=IDEA_MAX_LENGTH)
    target_audience = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    price_point = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=Decimal("0"), max_value=PRICE_MAX)
    currency = serializers.ChoiceField(choices=Currency.choices, default=Currency.USD)
    business_model = serializers.ChoiceField(choices=BusinessModel.choices)


class ProjectUpdateSerializer(ProjectInputSerializer):
    """PATCH: any subset of the editable fields, no defaults filled in."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, partial=True, **kwargs)
        for field in self.fields.values():
            field.default = serializers.empty


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

    def get_public_url(self, page) -> str:
        return reverse("public:landing", kwargs={"slug": page.slug})

    def get_preview_url(self, page) -> str | None:
        """Opening it marks the founder's browser: their own views are not counted as visitors.
        None while the page is not public: the link would answer 404."""
        if page.status != PageStatus.PUBLISHED:
            return None
        return f"{reverse('public:landing', kwargs={'slug': page.slug})}?preview={tracking.preview_token(page.pk)}"


class ProjectOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    idea_description = serializers.CharField()
    target_audience = serializers.CharField()
    price_point = serializers.DecimalField(max_digits=10, decimal_places=2)
    currency = serializers.CharField()
    business_model = serializers.CharField()
    status = serializers.CharField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    completed_at = serializers.DateTimeField(allow_null=True)


class ProjectDetailOutputSerializer(ProjectOutputSerializer):
    current_prototype = serializers.SerializerMethodField()
    landing_pages = serializers.SerializerMethodField()
    signup_count = serializers.SerializerMethodField()

    @extend_schema_field(PrototypeOutputSerializer(allow_null=True))
    def get_current_prototype(self, project):
        current = project.current_prototypes
        return PrototypeOutputSerializer(current[0]).data if current else None

    @extend_schema_field(LandingPageOutputSerializer(many=True))
    def get_landing_pages(self, project):
        return LandingPageOutputSerializer(project.pages_with_counts, many=True).data

    def get_signup_count(self, project) -> int:
        return sum(page.signup_count for page in project.pages_with_counts)


def project_detail_representation(project) -> dict:
    """The detail as plain JSON data: plain dicts and lists rather than DRF's ReturnDict (which
    holds its serializer), so the cached copy pickles small and requests served from the
    in-process tier share nothing mutable with a serializer."""
    return json.loads(json.dumps(ProjectDetailOutputSerializer(project).data, cls=DjangoJSONEncoder))


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


class LandingPageUpdateSerializer(serializers.Serializer):
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

    def validate(self, attrs):
        if not attrs:
            raise serializers.ValidationError("Send at least one field to change.")
        return attrs


class SignupOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    landing_page_id = serializers.IntegerField()
    landing_page_slug = serializers.CharField()  # annotated by selectors.signup_list
    email = serializers.EmailField()
    name = serializers.CharField()
    qualifying_answer = serializers.CharField()
    utm_source = serializers.CharField()
    utm_medium = serializers.CharField()
    utm_campaign = serializers.CharField()
    utm_content = serializers.CharField()
    utm_term = serializers.CharField()
    referrer = serializers.CharField()
    consent = serializers.BooleanField()
    consent_at = serializers.DateTimeField(allow_null=True)
    confirmed_at = serializers.DateTimeField(allow_null=True)
    unsubscribed_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()


# --- Experiments -------------------------------------------------------------------------------


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


def _variant_count(variants: list) -> list:
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

    def validate_variants(self, variants: list) -> list:
        return _variant_count(variants)


class ExperimentUpdateSerializer(serializers.Serializer):
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

    def validate_variants(self, variants: list) -> list:
        return _variant_count(variants)

    def validate(self, attrs):
        if not attrs:
            raise serializers.ValidationError("Send at least one field to change.")
        return attrs


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

    def get_results_url(self, experiment) -> str:
        return reverse("experiment-results", kwargs={"pk": experiment.pk})


class AnalyticsQuerySerializer(serializers.Serializer):
    to = serializers.DateField(required=False)
    group_by = serializers.ChoiceField(
        choices=[("day", "day"), ("variant", "variant"), ("channel", "channel")], default="day"
    )

    MAX_DAYS = 366

    def get_fields(self):
        # "from" is a Python keyword, so it cannot be declared in the class body. It is added here,
        # unbound: renaming a declared field after binding keeps its old `source`, and the value
        # would be stored under the old name (the parameter silently ignored).
        return {"from": serializers.DateField(required=False), **super().get_fields()}

    def validate(self, attrs):
        today = timezone.now().date()
        until = attrs.get("to") or today
        since = attrs.get("from") or until - timedelta(days=29)
        if since > until:
            raise serializers.ValidationError({"from": ["Must be on or before 'to'."]})
        if (until - since).days >= self.MAX_DAYS:
            raise serializers.ValidationError({"from": [f"At most {self.MAX_DAYS} days at a time."]})
        return {"since": since, "until": until, "group_by": attrs["group_by"]}


# --- Campaigns ---------------------------------------------------------------------------------


class CampaignInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    platform = serializers.ChoiceField(choices=CampaignPlatform.choices)
    budget = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0"), max_value=Decimal("1e9"))
    utm_campaign = serializers.CharField(max_length=100)
    starts_on = serializers.DateField(required=False, allow_null=True)
    ends_on = serializers.DateField(required=False, allow_null=True)

    def validate(self, attrs):
        starts, ends = attrs.get("starts_on"), attrs.get("ends_on")
        if starts and ends and ends < starts:
            raise serializers.ValidationError({"ends_on": ["The end comes before the start."]})
        return attrs


class CampaignUpdateSerializer(CampaignInputSerializer):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, partial=True, **kwargs)

    def validate(self, attrs):
        if not attrs:
            raise serializers.ValidationError({"non_field_errors": ["Send at least one field to change."]})
        return super().validate(attrs)


class CampaignOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    project_id = serializers.IntegerField()
    name = serializers.CharField()
    platform = serializers.CharField()
    budget = serializers.DecimalField(max_digits=12, decimal_places=2)
    status = serializers.CharField()
    utm_campaign = serializers.CharField()
    starts_on = serializers.DateField(allow_null=True)
    ends_on = serializers.DateField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class SpendRowSerializer(serializers.Serializer):
    date = serializers.DateField()
    spend = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0"), max_value=Decimal("1e9"))
    impressions = serializers.IntegerField(min_value=0, max_value=10**15, required=False, default=0)
    clicks = serializers.IntegerField(min_value=0, max_value=10**15, required=False, default=0)

    def validate(self, attrs):
        if attrs["impressions"] and attrs["clicks"] > attrs["impressions"]:
            raise serializers.ValidationError({"clicks": ["More clicks than impressions."]})
        return attrs


class SpendInputSerializer(serializers.Serializer):
    rows = SpendRowSerializer(many=True, min_length=1, max_length=5000)

    def validate_rows(self, rows):
        days = [r["date"] for r in rows]
        if len(set(days)) != len(days):
            raise serializers.ValidationError("Each day may appear once.")
        return rows


class TestCardUpdateSerializer(serializers.Serializer):
    channel = serializers.CharField(max_length=20, required=False)
    expected_cpc = serializers.DecimalField(
        max_digits=8, decimal_places=2, min_value=Decimal("0.01"), required=False, allow_null=True
    )
    overrides = serializers.DictField(child=serializers.FloatField(), required=False)

    def validate(self, attrs):
        if not attrs:
            raise serializers.ValidationError({"non_field_errors": ["Send at least one field to change."]})
        return attrs
