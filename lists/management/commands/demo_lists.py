from django.core.management.base import BaseCommand

from lists.demo import DemoUsersMissing, demo_lists_create


class Command(BaseCommand):
    help = (
        "Adds the demo's process lists once: a leave request and an expense report, each with a "
        "published approval process (run after demo_data, whose people it uses)."
    )

    def handle(self, *args: object, **options: object) -> None:
        try:
            created = demo_lists_create()
        except DemoUsersMissing as missing:
            self.stderr.write(f"Run demo_data first: the demo users are missing ({missing}).")
            raise SystemExit(1) from None
        if created:
            self.stdout.write("Loaded the demo process lists: " + ", ".join(created) + ".")
        else:
            self.stdout.write("Demo process lists are loaded already.")
