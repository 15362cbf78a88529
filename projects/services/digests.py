"""The founders' daily signup digest: one email per founder whose projects got signups the day
before, sent once per founder per day.

Each founder's email is claimed before it is sent (a `jobs.models.ScheduledRun` named after the
founder, for the day), so running the digest again for a day, or twice at once, sends nobody a
second copy; an email the relay refused gives its claim back and is counted as failed.
"""

import logging
from dataclasses import dataclass, field

from django.core.mail import get_connection

from jobs import schedule
from jobs.models import ScheduledRun
from projects.emails import signup_digest_message
from projects.selectors.digests import signup_digest_lines
from security.models import User

logger = logging.getLogger(__name__)


def digest_claim_name(owner_id: int) -> str:
    return f"signup-digest:{owner_id}"


@dataclass
class DigestResult:
    day: str
    sent: int = 0
    already_sent: int = 0
    failed: list[int] = field(default_factory=list)  # owner ids the relay refused


def signup_digests_send(*, day: str) -> DigestResult:
    """Send the digest of `day` ("2026-12-05", UTC) to each founder with new signups that day."""
    start, end = schedule.bounds(day)
    lines_by_owner = signup_digest_lines(start=start, end=end)
    result = DigestResult(day=day)
    if not lines_by_owner:
        return result
    owners = User.objects.in_bulk(list(lines_by_owner))
    connection = get_connection(fail_silently=False)
    for owner_id, lines in lines_by_owner.items():
        claim = schedule.claim(digest_claim_name(owner_id), day)
        if claim is None:
            result.already_sent += 1
            continue
        try:
            connection.send_messages([signup_digest_message(owner=owners[owner_id], day=day, lines=lines)])
        except OSError:  # smtplib's errors, refused connections and timeouts alike
            logger.warning("signup digest %s to founder %s failed", day, owner_id, exc_info=True)
            ScheduledRun.objects.filter(pk=claim.pk).delete()
            result.failed.append(owner_id)
            continue
        result.sent += 1
    connection.close()
    return result
