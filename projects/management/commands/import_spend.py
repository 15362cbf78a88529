"""Import a campaign's daily ad spend from a CSV file (date,spend[,impressions,clicks]).

Every bad line is reported with its number and nothing is imported from a file that has one;
importing the same file twice leaves the same rows (one per day)."""

from pathlib import Path

from django.core.management.base import CommandError, CommandParser

from monitoring.operations import MonitoredCommand
from mvpvalidator.exceptions import ApplicationError
from projects.models.campaigns import Campaign
from projects.services.campaigns import SpendFileError, spend_import_csv


class Command(MonitoredCommand):
    help = "Import daily ad spend for a campaign from a CSV file (all or nothing, idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="The CSV file (date,spend[,impressions,clicks]).")
        parser.add_argument("--campaign", type=int, required=True, help="The campaign's id.")

    def handle(self, *args: object, **options: object) -> None:
        path = Path(str(options["file"]))
        if not path.is_file():
            raise CommandError(f"{path}: no such file.")
        campaign = Campaign.objects.filter(pk=options["campaign"]).first()
        if campaign is None:
            raise CommandError(f"No campaign has the id {options['campaign']}.")
        try:
            result = spend_import_csv(campaign=campaign, data=path.read_bytes())
        except SpendFileError as exc:
            lines = "\n".join(f"  line {e['line']}: {e['field']}: {e['message']}" for e in exc.extra["lines"])
            raise CommandError(f"{exc.message}\n{lines}") from exc
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"{path.name}: {result.created} day(s) added, {result.updated} updated for {campaign.name!r}")
