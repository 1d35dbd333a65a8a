from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BizprocConfig(AppConfig):
    name = "bizproc"
    verbose_name = _("Business processes")

    def ready(self) -> None:
        from bizproc.activities import standard  # noqa: F401  (registers the standard set)
