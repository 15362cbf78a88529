"""The founders' daily signup digest: one email per founder whose projects got signups the day
before, sent once per founder per day; a founder who turned it off (`User.signup_digest`, in
their account settings) gets none.

Each founder's email is claimed before it is sent (a `jobs.models.ScheduledRun` named after the
founder, for the day), so running the digest again for a day, or twice at once, sends nobody a
second copy. A send that fails for any reason (the relay refused or is down, an address the mail
library rejects, the task's time running out) gives its claim back and counts the founder as
failed: the next run for the day (beat sends it every hour) tries again, and only the founders
without an email yet.
"""

import contextlib
import logging
import time
from dataclasses import dataclass, field

from celery.exceptions import SoftTimeLimitExceeded
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
    failed: list[int] = field(default_factory=list)  # owner ids whose email did not leave
    left: int = 0  # founders not tried before the deadline: the next run's


def signup_digests_send(*, day: str, deadline: float | None = None) -> DigestResult:
    """Send the digest of `day` ("2026-12-05", UTC) to each founder with new signups that day who
    has not had it. Stops before the next founder once `deadline` (time.monotonic()) has passed:
    the rest are left, unclaimed, for the next run."""
    start, end = schedule.bounds(day)
    lines_by_owner = signup_digest_lines(start=start, end=end)
    result = DigestResult(day=day)
    if not lines_by_owner:
        return result
    owners = User.objects.in_bulk(list(lines_by_owner))
    connection = get_connection(fail_silently=False)
    opened = False  # one connection for the founders, opened at the first send
    try:
        for index, (owner_id, lines) in enumerate(lines_by_owner.items()):
            if deadline is not None and time.monotonic() >= deadline:
                result.left = len(lines_by_owner) - index
                logger.warning("signup digest %s: out of time, %d founders left for the next run", day, result.left)
                break
            owner = owners.get(owner_id)
            if owner is None:  # deleted since the signups were read (their signups with them)
                continue
            claim = schedule.claim(digest_claim_name(owner_id), day)
            if claim is None:
                result.already_sent += 1
                continue
            try:
                if not opened:
                    connection.open()
                    opened = True
                connection.send_messages([signup_digest_message(owner=owner, day=day, lines=lines)])
            except Exception as exc:
                # Whatever went wrong, the email is not known to have left: the claim goes back
                # for the next run (a relay that took it and then timed out may get it twice).
                logger.warning("signup digest %s to founder %s failed", day, owner_id, exc_info=True)
                ScheduledRun.objects.filter(pk=claim.pk).delete()
                result.failed.append(owner_id)
                # The connection may be dead (SMTPServerDisconnected, a timeout): the next
                # founder gets a new one rather than the same failure.
                with contextlib.suppress(Exception):
                    connection.close()
                opened = False
                if isinstance(exc, SoftTimeLimitExceeded):
                    raise  # the task's time is up: the founders not reached are the next run's
                continue
            result.sent += 1
    finally:
        with contextlib.suppress(Exception):
            connection.close()
    return result
