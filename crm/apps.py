from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CrmConfig(AppConfig):
    name = "crm"
    verbose_name = _("CRM")

    def ready(self) -> None:
        from bizproc.documents import document_providers
        from crm import activities  # noqa: F401  (registers the CRM robots)
        from crm.documents import CrmDocumentProvider

        document_providers.register(CrmDocumentProvider())
