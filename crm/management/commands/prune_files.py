"""Deletes uploaded files that no record's file field holds any more.

A file stays stored when a field's value is replaced or removed, a record or a field is
deleted, or a refused form is never sent again; run this daily (cron) to take them off the
disk.
"""

import datetime

from django.core.management.base import BaseCommand, CommandParser

from crm.services import stored_files_prune


class Command(BaseCommand):
    help = "Deletes stored files no record holds, uploaded more than --hours ago (default 24)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--hours",
            type=int,
            default=24,
            help="keep files younger than this, which a form refused a moment ago may still hold",
        )

    def handle(self, *args: object, hours: int, **options: object) -> None:
        deleted = stored_files_prune(older_than=datetime.timedelta(hours=max(hours, 0)))
        self.stdout.write(f"Deleted {deleted} stored files no record holds.")
