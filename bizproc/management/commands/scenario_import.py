"""``manage.py scenario_import FILE [--user USERNAME]``: a smart scenario from its JSON export.

Goes through ``scenarios.scenario_import``, so a file is checked exactly as an upload would be
and refused as a whole, with every reason.
"""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from bizproc.scenarios import ScenarioRefused, scenario_import


class Command(BaseCommand):
    help = "Imports a smart scenario from a JSON export file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--user", default="admin", help="Who creates the scenario (a username)."
        )

    def handle(self, *args: object, file: Path, user: str, **options: object) -> None:
        author = get_user_model().objects.filter(username=user, is_active=True).first()
        if author is None:
            raise CommandError(f"No active user {user!r}.")
        try:
            scenario = scenario_import(data=file.read_bytes(), user=author)
        except OSError as error:
            raise CommandError(str(error)) from None
        except ScenarioRefused as refused:
            raise CommandError(refused.message) from None
        self.stdout.write(
            f"Imported smart scenario {scenario.pk} “{scenario.name}” "
            f"(robots template {scenario.template_id})."
        )
