"""Deleting a template from the designer (see ``designer.models`` for why some are kept)."""

from typing import Any

from django.db import transaction

from bizproc.design import template_set_active
from bizproc.models import Instance, Template
from designer.models import DeletedTemplate


@transaction.atomic
def template_delete(*, template: Template, user: Any) -> bool:
    """Deletes the template with its versions; if processes use a version, deactivates it and
    hides it instead. Returns whether the template was kept for its processes."""
    locked = Template.objects.select_for_update().get(pk=template.pk)
    if not Instance.objects.filter(version__template=locked).exists():
        locked.delete()
        return False
    template_set_active(template=locked, active=False, user=user)
    DeletedTemplate.objects.get_or_create(template=locked, defaults={"deleted_by": user})
    return True
