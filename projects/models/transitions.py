"""The shape of a status field's state machine, declared once beside each status's choices
(`PROJECT_TRANSITIONS`, `EXPERIMENT_TRANSITIONS`, `CAMPAIGN_TRANSITIONS`); the services check
every move against it through one helper (`projects.services.transitions`)."""

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Transitions:
    """The moves each status allows, and what a refused move answers: the error `code`, the
    `refusal` message (formatted with `status`, the status's label in lower case, `to` and
    `action`), and whether the error lists the status and its allowed moves (`explain`)."""

    moves: Mapping[str, frozenset[str]]
    code: str
    refusal: str
    explain: bool = True

    def allowed(self, status: str) -> frozenset[str]:
        return self.moves.get(status, frozenset())

    def allows(self, status: str, to: str) -> bool:
        return to in self.allowed(status)
