"""The event worker: moves buffered events into the database, rolls them up and sends the
confirmation emails that are due, in a loop, until stopped (SIGTERM / Ctrl-C finish the current
batch first). Run one or several, on any host: batches are claimed atomically, so nothing is
counted twice. Without a broker (CELERY_BROKER_URL unset) it is also the beat: every
SCHEDULE_TICK_SECONDS it sends the maintenance that is due (jobs.schedule), each run once per
period however many workers run; with a broker, `celery beat` does that instead."""

import signal
import threading
import time
from types import FrameType

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from projects.events import worker


class Command(BaseCommand):
    help = "Run the event worker: flush the event buffer into the database and the rollups, send due emails."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--interval", type=float, default=None, help="Pause when idle, seconds (default WORKER_INTERVAL_SECONDS)."
        )
        parser.add_argument(
            "--seconds", type=float, default=None, help="Stop after this long (default: run until stopped)."
        )

    def handle(self, *args: object, **options: object) -> None:
        interval = float(options["interval"] if options["interval"] is not None else settings.WORKER_INTERVAL_SECONDS)  # type: ignore[arg-type]
        if not 0 < interval <= 3600:
            raise CommandError("--interval must be between 0 and 3600 seconds.")
        stop = threading.Event()

        def ask_to_stop(signum: int, frame: FrameType | None) -> None:
            stop.set()

        signal.signal(signal.SIGTERM, ask_to_stop)
        signal.signal(signal.SIGINT, ask_to_stop)
        consumer = worker.consumer_name()
        beat = "runs the schedule" if settings.JOBS_IN_PROCESS else "schedule left to celery beat"
        self.stdout.write(f"event worker {consumer} started (idle pause {interval:g} s, {beat})")
        self.stdout.flush()
        deadline = time.monotonic() + float(options["seconds"]) if options["seconds"] is not None else None  # type: ignore[arg-type]
        total = worker.run(
            interval=interval,
            consumer=consumer,
            stop=stop,
            deadline=deadline,
            schedule_every=settings.SCHEDULE_TICK_SECONDS,
        )
        self.stdout.write(
            f"event worker {consumer} stopped: {total.ingested} moved, {total.rolled_up} rolled up, "
            f"{total.emailed} confirmation emails sent"
        )
