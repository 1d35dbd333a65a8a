from importlib import import_module

from django.apps import AppConfig
from django.conf import settings
from django.utils.translation import gettext_lazy as _


class BizprocConfig(AppConfig):
    name = "bizproc"
    verbose_name = _("Business processes")

    def ready(self) -> None:
        from bizproc import runtime
        from bizproc.activities import (  # noqa: F401 (registers them)
            notify,
            standard,
            start_script,
            tasks,
        )
        from bizproc.hooks import document_hooks

        for module in settings.BIZPROC_ACTIVITY_MODULES:
            import_module(module)
        document_hooks.on_created.append(runtime.on_document_created)
        document_hooks.on_updated.append(runtime.on_document_updated)
        document_hooks.on_deleted.append(runtime.on_document_deleted)
