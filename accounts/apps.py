from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Users")

    def ready(self) -> None:
        from accounts.directory import CompanyDirectory
        from accounts.services import notification_send
        from bizproc.directory import company
        from bizproc.notifications import notifiers

        notifiers.append(notification_send)
        company.directory = CompanyDirectory()
