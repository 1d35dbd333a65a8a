"""Publishes a small process with a pause, to watch the live journal (and for the browser
tests): set the state, write to the report, pause, write again, set the state.

    manage.py demo_process --pause 2
"""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from bizproc import services
from bizproc.documents import document_providers
from bizproc.tree import root_node

NAME = "Pause demo"


def block(type_: str, name: str, **properties: str) -> dict:
    return {"Type": type_, "Name": name, "Properties": properties, "Children": []}


class Command(BaseCommand):
    help = "Publishes the “Pause demo” process for deals (a report, a pause, a report)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--pause", type=int, default=2, help="seconds (default 2)")
        parser.add_argument("--entity", default="DEAL", help="LEAD, CONTACT, COMPANY or DEAL")

    def handle(self, *args: object, pause: int, entity: str, **options: object) -> None:
        provider = document_providers.get("crm")
        types = {document_type.type: document_type for document_type in provider.document_types()}
        if entity.upper() not in types:
            raise CommandError(f"Unknown entity type: {entity}")
        user = get_user_model().objects.filter(is_superuser=True).order_by("pk").first()
        template = services.template_create(
            document_type=types[entity.upper()], name=NAME, user=user
        )
        tree = root_node()
        tree["Children"] = [
            block("SetStateTitleActivity", "A1_demo", Title="State", TargetStateTitle="Pausing"),
            block("LogActivity", "A2_demo", Title="Before", Text=f"Pausing for {pause} s"),
            block(
                "DelayActivity",
                "A3_demo",
                Title="Pause",
                TimeoutDuration=str(pause),
                TimeoutDurationType="s",
            ),
            block("LogActivity", "A4_demo", Title="After", Text="The pause is over"),
            block("SetStateTitleActivity", "A5_demo", Title="State", TargetStateTitle="Done"),
        ]
        template.tree = tree
        template.save()
        services.template_publish(template=template, user=user)
        self.stdout.write(f"Published “{NAME}” (template {template.pk}) for {entity.upper()}.")
