"""The one check of a status move, against the state machine its model declares
(`projects.models.transitions.Transitions`): a move the current status does not allow raises
`ConflictError` (409) with the machine's code and refusal, and writes nothing."""

from mvpvalidator.exceptions import ConflictError
from projects.models.campaigns import Campaign
from projects.models.experiments import Experiment
from projects.models.projects import PROJECT_TRANSITIONS, Project
from projects.models.transitions import Transitions


def transition_check(
    subject: Project | Experiment | Campaign, *, transitions: Transitions, to: str, action: str = ""
) -> None:
    """Raise ConflictError unless `transitions` lets the subject's status move to `to`. The
    refusal names the status and `to` (or `action`, what the caller was doing); an explaining
    machine adds the status and the moves it allows (`extra`), so a client can offer them."""
    allowed = transitions.allowed(subject.status)
    if to in allowed:
        return
    raise ConflictError(
        transitions.refusal.format(status=subject.get_status_display().lower(), to=to, action=action),
        code=transitions.code,
        extra={"status": subject.status, "allowed": sorted(allowed)} if transitions.explain else None,
    )


def require_open(project: Project, action: str) -> None:
    """The project's content may still change (a move to its own status: see
    `PROJECT_TRANSITIONS`), or ConflictError naming the `action` refused."""
    transition_check(project, transitions=PROJECT_TRANSITIONS, to=project.status, action=action)
