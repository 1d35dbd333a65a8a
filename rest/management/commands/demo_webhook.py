from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from rest.demo import demo_webhook_create


class Command(BaseCommand):
    help = "Creates the demo admin's REST webhook once (its URL is printed by `manage.py serve`)."

    def handle(self, *args: object, **options: object) -> None:
        admin = get_user_model().objects.filter(username="admin").first()
        if admin is None:
            self.stderr.write("Run `manage.py demo_data` first: there is no demo admin.")
            raise SystemExit(1)
        demo_webhook_create(user=admin)
