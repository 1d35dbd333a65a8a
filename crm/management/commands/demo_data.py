import time

from django.core.management.base import BaseCommand, CommandParser
from django.db import connection

from accounts.demo import demo_structure_create
from crm import demo
from crm.demo_automation import demo_automation_create
from crm.models import RECORD_MODELS, Deal, TimelineEntry


class Command(BaseCommand):
    help = (
        "Loads the demo company once: users with roles, its departments and absences, "
        "companies, contacts, leads and deals."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--size",
            type=int,
            default=300,
            help="How many deals (and leads) to create; other types scale with it (default 300).",
        )
        parser.add_argument(
            "--force", action="store_true", help="Add records even if there are deals already."
        )

    def handle(self, *args: object, size: int, force: bool, **options: object) -> None:
        if size < 1:
            self.stderr.write("--size must be at least 1")
            raise SystemExit(2)
        users = demo.demo_users_create()
        demo_structure_create(users=users)
        demo_automation_create(admin=users["admin"])
        if Deal.objects.exists() and not force:
            self.stdout.write("Demo records are loaded already.")
            return
        started = time.monotonic()
        demo.demo_records_create(users=users, deals=size)
        if connection.vendor == "postgresql":
            # Fresh statistics, so that the planner sees the bulk-loaded tables as they are.
            with connection.cursor() as cursor:
                for model in [*RECORD_MODELS.values(), TimelineEntry]:
                    cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
        self.stdout.write(
            f"Loaded the demo company with {size} deals in {time.monotonic() - started:.1f} s."
        )
