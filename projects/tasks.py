"""The domain's Celery tasks (found by Celery's autodiscovery; sent through jobs.dispatch, run by
a Celery worker, or in-process without a broker).

Prototype generation with a model: the provider may take up to about 2 × OPENAI_TIMEOUT_SECONDS,
longer than a web request should wait, so with a model configured the API starts a job and
answers 202; the worker runs the same service the built-in generator answers with at once.

Scheduled (CELERY_BEAT_SCHEDULE, sent every hour from their time): the events table's partitions
ahead and the events prune, once per day each through jobs.schedule; the signup digest, on every
send, which claims each founder's email for the day itself, so a later send retries the founders an
earlier one failed to reach.
"""

import time
from typing import Any

from celery import shared_task
from django.conf import settings
from django.http import Http404

from jobs import schedule
from jobs.models import Job
from jobs.services import JobFailed, job_create, job_run
from mvpvalidator.exceptions import ApplicationError
from projects.models.projects import Project
from projects.selectors.projects import project_get
from projects.services.prototypes import prototype_generate
from projects.services.transitions import require_open

PROTOTYPE_GENERATE_KIND = "prototype.generate"


def prototype_generation_start(*, project: Project, owner_id: int | None) -> Job:
    """Refuse now what the job would refuse (a closed project: 409, nothing written), then
    write the job and send it once committed."""
    require_open(project, "generate a prototype")
    return job_create(
        kind=PROTOTYPE_GENERATE_KIND, task=prototype_generate_job, owner_id=owner_id, params={"project_id": project.pk}
    )


def _generate(job: Job) -> dict[str, Any]:
    # Imported here: the API module imports this one to start the job.
    from projects.api.prototypes import PrototypeOutputSerializer

    try:
        # Read as its owner, as the request did: a project deleted meanwhile is a failed job.
        project = project_get(user=job.owner, pk=job.params["project_id"])  # type: ignore[arg-type]
        prototype = prototype_generate(project=project)
    except ApplicationError as exc:
        raise JobFailed(exc.message) from exc
    except Http404 as exc:
        raise JobFailed("The project no longer exists.") from exc
    return {"prototype": dict(PrototypeOutputSerializer(prototype).data)}


@shared_task
def prototype_generate_job(job_id: str) -> None:
    job_run(job_id=job_id, work=_generate)


# --- Scheduled maintenance and the signup digest (CELERY_BEAT_SCHEDULE, jobs.schedule) -------


@shared_task  # type: ignore[untyped-decorator]  # celery ships no types
@schedule.once_per(schedule.DAILY)
def events_prune(period: str) -> dict[str, Any]:
    """Delete raw events (rolled up) and held signup forms older than EVENT_RETENTION_DAYS."""
    from projects.events.worker import prune

    return {"deleted": prune()}


@shared_task  # type: ignore[untyped-decorator]  # celery ships no types
@schedule.once_per(schedule.DAILY)
def events_partitions_ensure(period: str) -> dict[str, Any]:
    """On PostgreSQL, make the events table's partitions of today and the days ahead
    (EVENT_PARTITION_DAYS_AHEAD) and move into them any rows DEFAULT holds for them; nothing on a
    plain table. Once a day is enough: the days ahead leave that many failed runs of slack."""
    from projects.events.partitions import ensure

    return {"made": ensure()}


# The digest stops this long before the task's soft time limit, so the email in hand can end (at
# most EMAIL_TIMEOUT per step of the SMTP exchange) before the limit interrupts it.
DIGEST_TIME_MARGIN_SECONDS = 60


@shared_task  # type: ignore[untyped-decorator]  # celery ships no types
@schedule.per_period(schedule.DAILY)
def signup_digest_send(period: str) -> dict[str, Any]:
    """The run for a day sends the digest of the day before (complete by then) to the founders
    who have not had it: the first run sends it, later ones retry whom it missed."""
    from projects.services.digests import signup_digests_send

    started = time.monotonic()
    deadline = started + max(settings.CELERY_TASK_SOFT_TIME_LIMIT - DIGEST_TIME_MARGIN_SECONDS, 1)
    result = signup_digests_send(day=schedule.previous(period), deadline=deadline)
    return {
        "day": result.day,
        "sent": result.sent,
        "already_sent": result.already_sent,
        "failed": result.failed,
        "left": result.left,
    }
