"""Create the demo accounts (and their data) a new user signs in with.

Idempotent: running it again leaves one of each and resets the demo passwords, so the
logins printed by `make run` always work.
"""

from monitoring.operations import MonitoredCommand
from projects.demo import DEMO_DAYS, DEMO_FOUNDER, DEMO_PAGE_PATH, DEMO_PROJECTS, DEMO_STAFF, demo_seed


class Command(MonitoredCommand):
    help = "Create or refresh the demo staff and founder accounts and their demo data."

    def handle(self, *args: object, **options: object) -> None:
        result = demo_seed()
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        for label, account in (("Staff", DEMO_STAFF), ("Founder", DEMO_FOUNDER)):
            state = "created" if result.created.get(account.email) else "refreshed"
            self.stdout.write(f"  {label} login: {account.email} / {account.password} ({state})")
        self.stdout.write(f"  Demo projects created this run: {result.projects_created}")
        self.stdout.write(f"  Demo landing page: {DEMO_PAGE_PATH}")
        self.stdout.write(
            f"  {DEMO_PROJECTS[0]['name']}: {DEMO_DAYS} days of traffic, a running experiment, two campaigns "
            "with daily spend and a report kept a week ago"
        )
