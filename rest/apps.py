from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RestConfig(AppConfig):
    name = "rest"
    verbose_name = _("REST API")

    def ready(self) -> None:
        import rest.methods  # noqa: F401 (registers the methods)
        from accounts.profile import profile_sections
        from rest.webhook_views import webhooks_section

        profile_sections.append(webhooks_section)
