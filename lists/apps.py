from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ListsConfig(AppConfig):
    name = "lists"
    verbose_name = _("Lists")

    def ready(self) -> None:
        from bizproc.documents import document_providers
        from lists.documents import ListsDocumentProvider

        document_providers.register(ListsDocumentProvider())
