"""Jobs and scheduled runs in the admin, for looking, not editing: every row is written by the
job system (a job's status by the worker that runs it, a run by the schedule's claim)."""

from django.contrib import admin
from django.http import HttpRequest

from jobs.models import Job, ScheduledRun


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object | None = None) -> bool:
        return False


@admin.register(Job)
class JobAdmin(ReadOnlyAdmin):
    list_display = ("id", "kind", "status", "owner", "attempts", "created_at", "sent_at", "started_at", "finished_at")
    list_filter = ("status", "kind")
    search_fields = ("id", "kind", "error")
    date_hierarchy = "created_at"
    list_select_related = ("owner",)


@admin.register(ScheduledRun)
class ScheduledRunAdmin(ReadOnlyAdmin):
    list_display = ("name", "period", "started_at", "finished_at", "error")
    list_filter = ("name",)
    search_fields = ("name", "period")
