"""The event worker's old address, kept while callers move: the homes are
`projects.events.ingest` (step 1: the buffer into rows, and reading the buffer),
`projects.events.rollup` (step 2: rows into rollups and exposures) and `projects.events.worker`
(the loop, pruning, the backlog). Import from those."""

from projects.events.ingest import buffered, buffered_events, ingest
from projects.events.rollup import (
    COUNTED,
    FIGURES,
    INTERACTIONS,
    Contribution,
    Prior,
    RowKey,
    VisitKey,
    contributions,
    pending_contribution,
    rollup,
)
from projects.events.worker import Backlog, FlushResult, backlog, consumer_name, flush, prune, run

__all__ = [
    "COUNTED",
    "FIGURES",
    "INTERACTIONS",
    "Backlog",
    "Contribution",
    "FlushResult",
    "Prior",
    "RowKey",
    "VisitKey",
    "backlog",
    "buffered",
    "buffered_events",
    "consumer_name",
    "contributions",
    "flush",
    "ingest",
    "pending_contribution",
    "prune",
    "rollup",
    "run",
]
