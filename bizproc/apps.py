import pkgutil
from importlib import import_module

from django.apps import AppConfig
from django.conf import settings
from django.utils.translation import gettext_lazy as _


class BizprocConfig(AppConfig):
    name = "bizproc"
    verbose_name = _("Business processes")

    def ready(self) -> None:
        from bizproc import activities, runtime
        from bizproc.hooks import document_hooks

        # Every module of the activities package registers its blocks: a new block is one new
        # file there. Other apps name theirs in the setting.
        for found in pkgutil.iter_modules(activities.__path__):
            import_module(f"{activities.__name__}.{found.name}")
        for module in settings.BIZPROC_ACTIVITY_MODULES:
            import_module(module)
        document_hooks.on_created.append(runtime.on_document_created)
        document_hooks.on_updated.append(runtime.on_document_updated)
        document_hooks.on_deleted.append(runtime.on_document_deleted)
