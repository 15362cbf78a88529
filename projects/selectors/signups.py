"""Reads of a project's signups: the list and the CSV export's stream."""

from collections.abc import Iterator

from django.db.models import F, QuerySet

from projects.models import Project, Signup


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
