from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from mvpvalidator.exceptions import ConflictError
from projects.models.events import DailyRollup, ExperimentExposure
from projects.models.experiments import Experiment, ExperimentStatus, Variant
from projects.models.pages import LandingPage
from projects.models.projects import Project
from projects.models.prototypes import Prototype
from projects.models.signups import Signup
from projects.services.experiments import experiment_move
from projects.services.pages import (
    PAGE_CONTENT_FIELDS,
    landing_page_archive,
    landing_page_clean_update,
    landing_page_update,
)


class PrototypeInline(admin.TabularInline):
    model = Prototype
    extra = 0
    fields = ("version", "is_current", "headline", "generator", "fallback_reason", "created_at")
    readonly_fields = fields
    show_change_link = True
    can_delete = False


class LandingPageInline(admin.TabularInline):
    model = LandingPage
    extra = 0
    fields = ("slug", "status", "cta_kind", "published_at")
    readonly_fields = fields
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Project | None = None) -> bool:
        return False  # a page is made from a prototype by `landing_page_create`


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "owner",
        "status",
        "business_model",
        "delivery",
        "billing",
        "price_point",
        "currency",
        "created_at",
    )
    list_filter = ("status", "business_model", "delivery", "billing", "currency")
    search_fields = ("name", "idea_description", "owner__email")
    list_select_related = ("owner",)
    raw_id_fields = ("owner",)
    readonly_fields = ("created_at", "updated_at", "completed_at")
    date_hierarchy = "created_at"
    inlines = (PrototypeInline, LandingPageInline)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows the platform writes (figures from the event worker, generated prototypes): staff
    read them, nobody edits them by hand."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Prototype)
class PrototypeAdmin(ReadOnlyAdmin):
    """The generator's versions, as generated (a page copies the current one when it is made)."""

    list_display = ("project", "version", "is_current", "headline", "generator", "generation_ms", "created_at")
    list_filter = ("is_current", "generator")
    search_fields = ("headline", "project__name")
    list_select_related = ("project",)


class LandingPageAdminForm(forms.ModelForm):
    """The page's copy, cleaned and checked by the service the API uses (`landing_page_update`):
    its HTML is rendered as it is stored, so no write path may skip the sanitiser."""

    class Meta:
        model = LandingPage
        fields = PAGE_CONTENT_FIELDS

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        changed = {name: cleaned[name] for name in self.changed_data if name in cleaned}
        try:
            self.page_changes = landing_page_clean_update(page=self.instance, data=changed)
        except ConflictError as exc:
            raise forms.ValidationError(exc.message, code=exc.code) from exc
        cleaned.update(self.page_changes)
        return cleaned


@admin.register(LandingPage)
class LandingPageAdmin(admin.ModelAdmin):
    """Staff edit a page's copy through the same service as its founder; its status moves only
    through the service too (the archive action)."""

    form = LandingPageAdminForm
    list_display = ("slug", "project", "status", "cta_kind", "double_opt_in", "published_at")
    list_filter = ("status", "cta_kind", "double_opt_in")
    search_fields = ("slug", "headline", "project__name")
    list_select_related = ("project",)
    readonly_fields = (
        "project", "prototype", "status", "content_version", "published_at", "created_at", "updated_at",
    )  # fmt: skip
    fields = (*PAGE_CONTENT_FIELDS, *readonly_fields)
    actions = ("archive_pages",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # a page is made from a prototype by `landing_page_create`

    def save_model(self, request: HttpRequest, obj: LandingPage, form: LandingPageAdminForm, change: bool) -> None:
        if form.page_changes:
            landing_page_update(page=obj, data=form.page_changes)

    @admin.action(description="Archive the selected pages")
    def archive_pages(self, request: HttpRequest, queryset: QuerySet[LandingPage]) -> None:
        for page in queryset:
            landing_page_archive(page=page)
        self.message_user(request, f"{len(queryset)} page(s) archived.", messages.SUCCESS)


@admin.register(Signup)
class SignupAdmin(admin.ModelAdmin):
    list_display = (
        "email", "landing_page", "confirmed_at", "unsubscribed_at", "confirmation_sent_at", "utm_source", "created_at",
    )  # fmt: skip
    list_filter = (
        "utm_source",
        ("confirmed_at", admin.EmptyFieldListFilter),
        ("confirmation_sent_at", admin.EmptyFieldListFilter),
        "consent",
    )
    search_fields = ("email", "name", "landing_page__slug")
    list_select_related = ("landing_page",)
    raw_id_fields = ("landing_page",)
    # `confirmation_due_at` stays editable: set to now, the worker sends the email (again).
    # The address stays as the signup path normalised it (`projects.visitor_text.signup_email`).
    readonly_fields = (
        "email", "visitor_hash", "created_at", "consent_at", "confirmation_sent_at", "confirmation_attempts",
    )  # fmt: skip
    date_hierarchy = "created_at"


# --- Experiments and their figures ------------------------------------------------------------


class VariantInline(admin.TabularInline):
    model = Variant
    extra = 0
    fields = (
        "position",
        "key",
        "name",
        "is_control",
        "weight",
        "headline",
        "subheadline",
        "cta_text",
        "preorder_price",
    )
    readonly_fields = fields
    ordering = ("position", "id")
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Experiment | None = None) -> bool:
        return False


@admin.register(Experiment)
class ExperimentAdmin(admin.ModelAdmin):
    """Read-only but for the status moves, which go through the service (its checks, and the
    cache bump that puts the public page in step). Founders edit experiments through the API."""

    list_display = ("name", "page", "status", "coverage", "started_at", "completed_at")
    list_filter = ("status",)
    search_fields = ("name", "page__slug", "page__project__name")
    list_select_related = ("page",)
    date_hierarchy = "created_at"
    readonly_fields = (
        "page", "name", "hypothesis", "status", "coverage", "minimum_detectable_effect", "seed", "started_at",
        "paused_at", "completed_at", "created_at", "updated_at",
    )  # fmt: skip
    inlines = (VariantInline,)
    actions = ("pause_experiments", "complete_experiments")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Experiment | None = None) -> bool:
        return False

    def _move(self, request: HttpRequest, queryset: QuerySet[Experiment], to: str) -> None:
        moved = 0
        for experiment in queryset:
            try:
                experiment_move(experiment=experiment, to=to)
            except ConflictError as exc:
                self.message_user(request, f"{experiment}: {exc.message}", messages.WARNING)
            else:
                moved += 1
        self.message_user(request, f"{moved} experiment(s) now {to}.", messages.SUCCESS)

    @admin.action(description="Pause the selected experiments")
    def pause_experiments(self, request: HttpRequest, queryset: QuerySet[Experiment]) -> None:
        self._move(request, queryset, ExperimentStatus.PAUSED)

    @admin.action(description="Complete the selected experiments")
    def complete_experiments(self, request: HttpRequest, queryset: QuerySet[Experiment]) -> None:
        self._move(request, queryset, ExperimentStatus.COMPLETED)


@admin.register(DailyRollup)
class DailyRollupAdmin(ReadOnlyAdmin):
    list_display = (
        "day", "page", "experiment", "variant", "channel", "traffic", "views", "visitors", "bounces", "cta_clicks",
        "signups", "preorders",
    )  # fmt: skip
    list_filter = ("traffic", "channel", "day")
    search_fields = ("page__slug", "variant")
    list_select_related = ("page", "experiment")
    date_hierarchy = "day"
    ordering = ("-day", "-id")


@admin.register(ExperimentExposure)
class ExperimentExposureAdmin(ReadOnlyAdmin):
    list_display = ("experiment", "variant", "short_visitor", "first_seen", "confirmed", "clicked", "signed_up",
                    "preordered")  # fmt: skip
    list_filter = ("confirmed", "signed_up", "preordered", "variant")
    search_fields = ("experiment__name", "variant")
    list_select_related = ("experiment",)
    ordering = ("-first_seen", "-id")

    @admin.display(description="Visitor")
    def short_visitor(self, exposure: ExperimentExposure) -> str:
        return exposure.visitor_hash[:12]
