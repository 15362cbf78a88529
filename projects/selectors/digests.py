"""Reads for the founders' daily signup digest: each founder's new signups per project over a
period (human traffic only: bots and test visits are not news), for the founders who want it
(`User.signup_digest`, turned off in their account settings) and whose address is confirmed:
an address typed at a browser sign-up and never confirmed may be someone else's."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count

from projects.models import Signup
from projects.models.events import Traffic


@dataclass(frozen=True)
class DigestLine:
    project_id: int
    project_name: str
    signups: int


def signup_digest_lines(*, start: datetime, end: datetime) -> dict[int, list[DigestLine]]:
    """Owner id -> the owner's projects that got signups in [start, end), most signups first
    (active owners with a confirmed address who have not turned the digest off; projects
    without a signup are left out).
    One query."""
    rows = (
        Signup.objects.filter(created_at__gte=start, created_at__lt=end, traffic=Traffic.HUMAN)
        .filter(
            project__owner__is_active=True,
            project__owner__email_confirmed=True,
            project__owner__signup_digest=True,
        )
        .values("project__owner_id", "project_id", "project__name")
        .annotate(n=Count("id"))
        .order_by("project__owner_id", "-n", "project__name")
    )
    lines: dict[int, list[DigestLine]] = {}
    for row in rows:
        line = DigestLine(project_id=row["project_id"], project_name=row["project__name"], signups=row["n"])
        lines.setdefault(row["project__owner_id"], []).append(line)
    return lines
