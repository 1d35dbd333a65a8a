"""Set permissions (Bitrix's ``SetPermissionsActivity``): who may read or edit the process's
document from now on. Its provider says which operations it grants
(``DocumentProvider.permission_operations``) and honours the grants on every surface; a list
element does, a CRM record does not (its access is decided by CRM roles), so a CRM template
holding the block is refused at publishing."""

from django.contrib.auth.models import Group
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from bizproc.activities.base import (
    Activity,
    ActivityFault,
    Category,
    Problem,
    Property,
    PropertyType,
    Status,
    ValidationContext,
    Widget,
    activities,
)
from bizproc.activities.context import Context
from bizproc.activities.standard import TITLE
from bizproc.documents import (
    DocumentError,
    DocumentType,
    PermissionMode,
    caption_of,
    document_providers,
)
from bizproc.fieldtypes import Field, FieldType
from bizproc.user_values import people_names, principals_resolve

MODES = {
    PermissionMode.CLEAR.value: gettext_lazy("Replace every permission processes granted before"),
    PermissionMode.REWRITE.value: gettext_lazy("Replace the permissions of these operations"),
    PermissionMode.HOLD.value: gettext_lazy("Add to the permissions granted before"),
}
SCOPES = {
    "1": gettext_lazy("The process"),
    "2": gettext_lazy("The document"),
}


def operations_of(document_type: tuple[str, str, str] | None) -> dict[str, str]:
    """The operations the block may grant on the type's documents (none: it does not apply)."""
    if document_type is None:
        return {}
    try:
        provider = document_providers.get(document_type[0])
    except DocumentError:
        return {}
    return provider.permission_operations(DocumentType(*document_type))


def not_applicable_message(document_type: tuple[str, str, str]) -> str:
    return _(
        "Set permissions does not apply to %(type)s: who may read or edit them is decided "
        "by their access rights, not by processes."
    ) % {"type": caption_of(document_type, plural=True)}


@activities.register
class SetPermissionsActivity(Activity):
    type = "SetPermissionsActivity"
    title = gettext_lazy("Set permissions")
    category = Category.DOCUMENT
    properties = (
        TITLE,
        Property(
            "Permission",
            gettext_lazy("Permissions"),
            PropertyType.MAP,
            widget=Widget.PERMISSIONS,
        ),
        Property(
            "SetMode",
            gettext_lazy("Permissions granted before"),
            PropertyType.SELECT,
            options=MODES,
            default=PermissionMode.CLEAR.value,
        ),
        # Kept for Bitrix files: the scope (the process's or the document's permissions) and
        # the older yes/no form of the mode.
        Property(
            "SetScope",
            gettext_lazy("Scope"),
            PropertyType.SELECT,
            options=SCOPES,
            default="1",
        ),
        Property(
            "Rewrite",
            gettext_lazy("Replace (older files)"),
            PropertyType.STRING,
            widget=Widget.READONLY,
        ),
    )

    def validate_properties(self, ctx: ValidationContext) -> list[Problem]:
        problems = [
            problem
            for problem in super().validate_properties(ctx)
            if problem.parameter != "Permission"
        ]
        granted = self.properties_values.get("Permission")
        if granted in (None, "", []):
            granted = {}
        if not isinstance(granted, dict):
            return [*problems, self.problem("Permission", _("The value must be a list of rows."))]
        for operation, users in granted.items():
            code = str(operation)
            target = Field(code, code, FieldType.USER, multiple=True, user_groups=True)
            problems.extend(self._validate_typed("Permission", target, users, ctx))
        if ctx.document_type is not None and not operations_of(ctx.document_type):
            # Code "structure": a draft keeps the block (an imported one, say); publishing
            # refuses it.
            problems.append(
                self.problem("", not_applicable_message(ctx.document_type), "structure")
            )
        return problems

    def execute(self, ctx: Context) -> Status:
        values = self.properties_values
        granted = values.get("Permission") or {}
        if not isinstance(granted, dict):
            raise ActivityFault(_("The permissions are damaged."))
        permissions = {
            str(operation): principals_resolve(ctx, users) for operation, users in granted.items()
        }
        try:
            ctx.provider.permissions_set(
                ctx.instance.document_id,
                permissions,
                mode=self._mode(ctx),
                workflow_id=str(ctx.instance.pk),
            )
        except DocumentError as error:
            raise ActivityFault(error.message) from None
        document_type = ctx.provider.document_type_of(ctx.instance.document_id)
        operations = ctx.provider.permission_operations(document_type)
        for operation, principals in permissions.items():
            ctx.journal.custom(
                self.node["Name"],
                self.display_title,
                _("%(operation)s: %(who)s")
                % {
                    "operation": operations.get(operation, operation),
                    "who": _who(principals) or _("nobody"),
                },
            )
        return Status.CLOSED

    def _mode(self, ctx: Context) -> PermissionMode:
        """Bitrix's rule: ``SetMode`` when given, else ``Rewrite`` (not "N": replace all)."""
        values = self.properties_values
        mode = str(ctx.evaluate(values.get("SetMode")) or "").strip()
        if mode in PermissionMode._value2member_map_:
            return PermissionMode(mode)
        rewrite = str(ctx.evaluate(values.get("Rewrite")) or "").strip().upper()
        return PermissionMode.HOLD if rewrite == "N" else PermissionMode.CLEAR

    def summary(self) -> str:
        granted = self.properties_values.get("Permission")
        return ", ".join(map(str, granted)) if isinstance(granted, dict) else ""


def _who(principals: list[str]) -> str:
    """People by name, groups by name."""
    users = [int(p.removeprefix("user_")) for p in principals if p.startswith("user_")]
    groups = [int(p.removeprefix("group_")) for p in principals if p.startswith("group_")]
    names = [people_names(users)] if users else []
    found = Group.objects.in_bulk(groups)
    names.extend(found[pk].name for pk in groups if pk in found)
    return ", ".join(names)
