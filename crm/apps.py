from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CrmConfig(AppConfig):
    name = "crm"
    verbose_name = _("CRM")

    def ready(self) -> None:
        from bizproc.documents import document_providers
        from crm import (
            activities,  # noqa: F401  (registers the CRM robots)
            counts,  # noqa: F401  (record writes make cached list counts stale)
        )
        from crm.documents import CrmDocumentProvider

        document_providers.register(CrmDocumentProvider())
