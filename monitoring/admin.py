"""Monitoring tables in the admin, for looking, not editing: every row is written by the
platform (upserted by fingerprint, rolled up, or sent), so staff get view-only pages. The one
write is marking error groups resolved, through the same service the rest of the code would use."""

from django.contrib import admin
from django.db.models import BooleanField, ExpressionWrapper, F, FloatField, Q, QuerySet
from django.db.models.functions import NullIf
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.text import Truncator

from monitoring import services
from monitoring.models import AlertDelivery, ErrorGroup, RequestMetricHour, SlowOperationGroup, SlowQueryGroup


class ReadOnlyAdmin(admin.ModelAdmin):
    """View-only: no add, no edit, no delete. The change page renders every field read-only,
    and nothing can be saved back over a row the platform may be updating at the same time."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object | None = None) -> bool:
        return False  # `prune_monitoring` is what deletes, by age


def _mean_ms() -> ExpressionWrapper:
    """Mean duration in the database, so the column sorts; NULL rather than a division by zero."""
    return ExpressionWrapper(F("total_ms") / NullIf(F("count"), 0), output_field=FloatField())


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


class ResolvedFilter(admin.SimpleListFilter):
    title = "resolved"
    parameter_name = "resolved"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> tuple[tuple[str, str], ...]:
        return (("yes", "Resolved"), ("no", "Open"))

    def queryset(self, request: HttpRequest, queryset: QuerySet[ErrorGroup]) -> QuerySet[ErrorGroup]:
        if self.value() == "yes":
            return queryset.filter(resolved_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(resolved_at__isnull=True)
        return queryset


@admin.register(ErrorGroup)
class ErrorGroupAdmin(ReadOnlyAdmin):
    list_display = (
        "exc_type", "short_message", "route", "count", "first_seen", "last_seen", "last_request_id", "resolved",
    )  # fmt: skip
    list_filter = ("handled", ResolvedFilter, "exc_type")
    search_fields = ("message", "exc_type", "route", "last_request_id")
    show_full_result_count = False
    actions = ["mark_resolved"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[ErrorGroup]:
        # The traceback (up to 10k characters a row) is only shown on the change page.
        return super().get_queryset(request).defer("sample_traceback")

    @admin.display(description="message")
    def short_message(self, obj: ErrorGroup) -> str:
        return Truncator(obj.message).chars(80)

    @admin.display(description="resolved", boolean=True, ordering="resolved_at")
    def resolved(self, obj: ErrorGroup) -> bool:
        return obj.resolved_at is not None

    @admin.action(description="Mark resolved", permissions=["resolve"])
    def mark_resolved(self, request: HttpRequest, queryset: QuerySet[ErrorGroup]) -> None:
        resolved = services.error_groups_resolve(ids=queryset.values_list("pk", flat=True))
        self.message_user(request, f"Marked {resolved} error group(s) resolved.")

    def has_resolve_permission(self, request: HttpRequest) -> bool:
        # The page itself is view-only; resolving is the one change, for those allowed to change.
        return request.user.has_perm(f"{self.opts.app_label}.change_{self.opts.model_name}")


@admin.register(SlowQueryGroup)
class SlowQueryGroupAdmin(ReadOnlyAdmin):
    list_display = (
        "short_fingerprint", "short_sql", "count", "mean_ms", "max_ms", "call_site", "last_seen", "has_plan",
    )  # fmt: skip
    list_filter = ("vendor",)
    search_fields = ("sql", "call_site")
    fields = (
        "fingerprint", "vendor", "sql_display", "count", "total_ms", "max_ms", "first_seen", "last_seen",
        "call_site", "last_request_id", "plan_display", "plan_captured_at",
    )  # fmt: skip
    readonly_fields = ("sql_display", "plan_display")

    def get_queryset(self, request: HttpRequest) -> QuerySet[SlowQueryGroup]:
        return (
            super()
            .get_queryset(request)
            .annotate(_mean_ms=_mean_ms(), _has_plan=ExpressionWrapper(~Q(plan=""), output_field=BooleanField()))
        )

    @admin.display(description="fingerprint", ordering="fingerprint")
    def short_fingerprint(self, obj: SlowQueryGroup) -> str:
        return obj.fingerprint[:12]

    @admin.display(description="sql")
    def short_sql(self, obj: SlowQueryGroup) -> str:
        return Truncator(obj.sql).chars(100)

    @admin.display(description="mean ms", ordering="_mean_ms")
    def mean_ms(self, obj: SlowQueryGroup) -> str:
        return _ms(obj.mean_ms)

    @admin.display(description="has plan", boolean=True, ordering="_has_plan")
    def has_plan(self, obj: SlowQueryGroup) -> bool:
        return bool(obj.plan)

    @admin.display(description="sql")
    def sql_display(self, obj: SlowQueryGroup) -> SafeString:
        return format_html("<pre>{}</pre>", obj.sql)

    @admin.display(description="plan")
    def plan_display(self, obj: SlowQueryGroup) -> SafeString | str:
        return format_html("<pre>{}</pre>", obj.plan) if obj.plan else "-"


@admin.register(SlowOperationGroup)
class SlowOperationGroupAdmin(ReadOnlyAdmin):
    list_display = ("kind", "name", "count", "mean_ms", "max_ms", "last_seen")
    list_filter = ("kind",)
    search_fields = ("name",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[SlowOperationGroup]:
        return super().get_queryset(request).annotate(_mean_ms=_mean_ms())

    @admin.display(description="mean ms", ordering="_mean_ms")
    def mean_ms(self, obj: SlowOperationGroup) -> str:
        return _ms(obj.mean_ms)


@admin.register(RequestMetricHour)
class RequestMetricHourAdmin(ReadOnlyAdmin):
    list_display = ("hour", "method", "route", "status_class", "count", "errors", "mean_ms")
    list_filter = ("method", "status_class")
    search_fields = ("route",)
    date_hierarchy = "hour"
    show_full_result_count = False

    @admin.display(description="mean ms")
    def mean_ms(self, obj: RequestMetricHour) -> str:
        return _ms(obj.total_ms / obj.count if obj.count else None)


@admin.register(AlertDelivery)
class AlertDeliveryAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "channel", "rule", "delivered", "response_status", "error")
    list_filter = ("channel", "delivered")
    search_fields = ("rule", "error")
