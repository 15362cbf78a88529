"""Reads of a project's signups: the list, the CSV export's stream, and the counts of signup
forms held for a confirm button."""

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone

from projects.models import HeldSignup, HoldReason, Project, Signup
from projects.signup_tokens import HOLD_MAX_AGE_SECONDS


def signup_list(*, project: Project) -> QuerySet[Signup]:
    """Newest first, each with `landing_page_slug`: the one field of its page a list shows (a
    joined page would bring its whole content, copy and styles, once per row)."""
    return (
        Signup.objects.filter(project=project)
        .annotate(landing_page_slug=F("landing_page__slug"))
        .order_by("-created_at", "-id")
    )


def signup_export_rows(*, project: Project, chunk_size: int = 2000) -> Iterator[Signup]:
    """All signups for a CSV export, streamed from the database in chunks."""
    return signup_list(project=project).iterator(chunk_size=chunk_size)


def held_signup_counts(*, project: Project, now: datetime | None = None) -> dict[str, Any]:
    """The project's signup forms held for a confirm button (`HeldSignup`): how many, how many
    their visitors confirmed (stored as signups then), how many are still open, and how many were
    dropped (never confirmed, and the confirm button has expired), in all, by reason and by page
    (the pages that held any). One query."""
    now = now or timezone.now()
    expired = now - timedelta(seconds=HOLD_MAX_AGE_SECONDS)
    rows = list(
        HeldSignup.objects.filter(project=project)
        .values("reason", "landing_page__slug")
        .annotate(
            held=Count("id"),
            confirmed=Count("id", filter=Q(passed_at__isnull=False)),
            dropped=Count("id", filter=Q(passed_at__isnull=True, created_at__lt=expired)),
        )
        .order_by()
    )
    figures = ("held", "confirmed", "dropped")

    def summed(group: str, value: str) -> dict[str, int]:
        return {key: sum(int(row[key]) for row in rows if row[group] == value) for key in figures}

    reasons = [
        {"reason": reason.value, "label": reason.label, **summed("reason", reason.value)} for reason in HoldReason
    ]
    slugs = sorted({row["landing_page__slug"] for row in rows})
    pages = [{"slug": slug, **summed("landing_page__slug", slug)} for slug in slugs]
    totals = {key: sum(int(row[key]) for row in rows) for key in figures}
    return {
        **totals,
        "awaiting": totals["held"] - totals["confirmed"] - totals["dropped"],
        "by_reason": reasons,
        "by_page": pages,
    }
