from django.contrib import admin

from projects.models import LandingPage, Project, Prototype, Signup


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


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ("name", "owner", "status", "business_model", "price_point", "currency", "created_at")
    list_filter = ("status", "business_model", "currency")
    search_fields = ("name", "idea_description", "owner__email")
    list_select_related = ("owner",)
    raw_id_fields = ("owner",)
    readonly_fields = ("created_at", "updated_at", "completed_at")
    date_hierarchy = "created_at"
    inlines = (PrototypeInline, LandingPageInline)


@admin.register(Prototype)
class PrototypeAdmin(admin.ModelAdmin):
    list_display = ("project", "version", "is_current", "headline", "generator", "generation_ms", "created_at")
    list_filter = ("is_current", "generator")
    search_fields = ("headline", "project__name")
    list_select_related = ("project",)
    raw_id_fields = ("project",)


@admin.register(LandingPage)
class LandingPageAdmin(admin.ModelAdmin):
    list_display = ("slug", "project", "status", "cta_kind", "double_opt_in", "published_at")
    list_filter = ("status", "cta_kind", "double_opt_in")
    search_fields = ("slug", "headline", "project__name")
    list_select_related = ("project",)
    raw_id_fields = ("project", "prototype")
    readonly_fields = ("content_version", "published_at", "created_at", "updated_at")


@admin.register(Signup)
class SignupAdmin(admin.ModelAdmin):
    list_display = ("email", "landing_page", "confirmed_at", "unsubscribed_at", "utm_source", "created_at")
    list_filter = ("utm_source", ("confirmed_at", admin.EmptyFieldListFilter), "consent")
    search_fields = ("email", "name", "landing_page__slug")
    list_select_related = ("landing_page",)
    raw_id_fields = ("landing_page",)
    readonly_fields = ("visitor_hash", "created_at", "consent_at")
    date_hierarchy = "created_at"
