"""Move every buffered event into the database and roll it up, then exit (the worker's loop,
once). Safe next to running workers: batches are claimed, and the rollup runs one at a time."""

from django.core.management.base import CommandError, CommandParser

from monitoring.operations import MonitoredCommand
from projects.events import worker


class Command(MonitoredCommand):
    help = "Flush the event buffer into the database and the daily rollups, once, until it is empty."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch", type=int, default=None, help="Events per batch (default EVENT_FLUSH_BATCH).")
        parser.add_argument("--max-batches", type=int, default=100_000, help="Stop after this many batches.")

    def handle(self, *args: object, **options: object) -> None:
        batch = options["batch"]
        if batch is not None and not 1 <= int(batch) <= 100_000:  # type: ignore[call-overload]
            raise CommandError("--batch must be between 1 and 100000.")
        total = worker.FlushResult()
        consumer = worker.consumer_name()
        for _ in range(int(options["max_batches"])):  # type: ignore[call-overload]
            result = worker.flush(consumer=consumer, batch=batch)  # type: ignore[arg-type]
            total.ingested += result.ingested
            total.rolled_up += result.rolled_up
            if not result.ingested and not result.rolled_up:
                break
        state = worker.backlog()
        self.stdout.write(
            f"moved {total.ingested} buffered events into the database, rolled up {total.rolled_up}; "
            f"waiting: {state.buffered if state.buffered is not None else '? (Redis unreachable)'} buffered, "
            f"{state.unrolled} not rolled up"
        )
