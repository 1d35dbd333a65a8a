"""Deletes journal rows of finished processes past the retention period.

The worker runs the same once a day (``bizproc.journal.daily_prune``); this is for running it
by hand or from cron, or with another number of days than the setting.
"""

from django.core.management.base import BaseCommand, CommandParser

from bizproc.journal import journal_prune, retention_days


class Command(BaseCommand):
    help = "Deletes journal rows of finished processes older than BIZPROC_JOURNAL_RETENTION_DAYS."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--days",
            type=int,
            default=None,
            help="keep this many days instead of BIZPROC_JOURNAL_RETENTION_DAYS (0: keep all)",
        )

    def handle(self, *args: object, days: int | None, **options: object) -> None:
        days = retention_days() if days is None else days
        if days <= 0:
            self.stdout.write("Journal retention is off (0 days): nothing was deleted.")
            return
        deleted = journal_prune(days=days)
        self.stdout.write(f"Deleted {deleted} journal rows older than {days} days.")
