from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RestConfig(AppConfig):
    name = "rest"
    verbose_name = _("REST API")

    def ready(self) -> None:
        import rest.methods  # noqa: F401 (registers the methods)
