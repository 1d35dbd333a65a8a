"""The one place that answers "may this user do X to this record / this entity type".

Every page, partial, websocket consumer, REST method and service asks here. A user's level for
an (entity type, action) is the highest level any of their roles grants; CRM administrators and
superusers may do everything. Levels: none; own (the record's responsible is the user); all.
"""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404

from crm.models import LEVEL_ORDER, RECORD_MODELS, Action, EntityType, Level, Record, RolePermission


def is_crm_admin(user: Any) -> bool:
    return bool(
        user.is_authenticated and user.is_active and (user.is_superuser or user.is_crm_admin)
    )


def _levels(user: Any) -> dict[tuple[str, str], str]:
    """All of the user's (entity type, action) levels, read once per user object."""
    cached = getattr(user, "_crm_levels", None)
    if cached is None:
        cached = {}
        rows = RolePermission.objects.filter(role__users=user).values_list(
            "entity_type", "action", "level"
        )
        for entity_type, action, level in rows:
            key = (entity_type, action)
            if LEVEL_ORDER[level] > LEVEL_ORDER[cached.get(key, Level.NONE)]:
                cached[key] = level
        user._crm_levels = cached
    return cached


def level_for(user: Any, entity_type: str, action: str) -> Level:
    if not user.is_authenticated or not user.is_active:
        return Level.NONE
    if is_crm_admin(user):
        return Level.ALL
    return Level(_levels(user).get((entity_type, action), Level.NONE))


def can_on_type(user: Any, entity_type: str, action: str) -> bool:
    """Whether the user may do the action to some records of the type (own or all)."""
    return level_for(user, entity_type, action) != Level.NONE


def can_on_record(user: Any, action: str, record: Record) -> bool:
    level = level_for(user, record.entity_type, action)
    if level == Level.ALL:
        return True
    return level == Level.OWN and record.assigned_by_id == user.pk


def can_add(user: Any, entity_type: str, *, assigned_by_id: int | None) -> bool:
    """With "own" add rights a user may add only records they are responsible for."""
    level = level_for(user, entity_type, Action.ADD)
    if level == Level.ALL:
        return True
    return level == Level.OWN and assigned_by_id == user.pk


def readable(user: Any, entity_type: str) -> QuerySet[Record]:
    """The records of the type the user may read."""
    queryset = RECORD_MODELS[entity_type].objects.all()
    level = level_for(user, entity_type, Action.READ)
    if level == Level.ALL:
        return queryset
    if level == Level.OWN:
        return queryset.filter(assigned_by=user)
    return queryset.none()


def get_readable_or_404(user: Any, entity_type: str, pk: Any) -> Record:
    """A record for a page: 403 for a type the user may not read, 404 for a record."""
    if not can_on_type(user, entity_type, Action.READ):
        raise PermissionDenied
    try:
        return readable(user, entity_type).get(pk=pk)
    except (RECORD_MODELS[entity_type].DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def entity_types_readable(user: Any) -> list[EntityType]:
    return [et for et in EntityType if can_on_type(user, et, Action.READ)]
