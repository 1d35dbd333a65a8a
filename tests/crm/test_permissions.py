"""CRM rights, with positive controls.

Every level is tried against records owned by the user and by others, so a check that always
says yes or always says no fails somewhere. Writes go through ``crm.services``. The services
ask only the level of the action itself (add / update / delete), not the read level, so the
roles in the write tests grant nothing but the action under test: that shows the action's own
level decides.
"""

import itertools

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.http import Http404

from accounts.models import User
from bizproc.documents import Operation
from crm import permissions, services
from crm.documents import DOCUMENT_TYPES
from crm.models import RECORD_MODELS, Action, Level, RolePermission
from tests.crm.factories import (
    RECORD_FACTORIES,
    RoleFactory,
    UserFactory,
    role_with,
    user_with,
)

pytestmark = pytest.mark.django_db

ENTITY_TYPES = ["LEAD", "CONTACT", "COMPANY", "DEAL"]
LEVELS = [Level.NONE, Level.OWN, Level.ALL]
RECORDS_PER_OWNER = 3

# The smallest valid set of values for a new record of each type.
CREATE_VALUES = {
    "LEAD": {"TITLE": "Fresh lead"},
    "CONTACT": {"NAME": "Fresh"},
    "COMPANY": {"TITLE": "Fresh company"},
    "DEAL": {"TITLE": "Fresh deal"},
}


def populate(owners: list[User]) -> dict[str, dict[int, set[int]]]:
    """RECORDS_PER_OWNER records of every type for every owner: {type: {owner pk: {pks}}}."""
    owned: dict[str, dict[int, set[int]]] = {}
    for entity_type, factory in RECORD_FACTORIES.items():
        owned[entity_type] = {
            owner.pk: {
                record.pk for record in factory.create_batch(RECORDS_PER_OWNER, assigned_by=owner)
            }
            for owner in owners
        }
    return owned


def readable_pks(user, entity_type: str) -> set[int]:
    return set(permissions.readable(user, entity_type).values_list("pk", flat=True))


def allowed(level: str, mine: bool) -> bool:
    return level == Level.ALL or (level == Level.OWN and mine)


# --- read ------------------------------------------------------------------------------------


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("entity_type", ENTITY_TYPES)
def test_readable_holds_exactly_the_records_the_read_level_allows(entity_type, level):
    user = user_with({(entity_type, Action.READ): level})
    alice, bob = UserFactory.create_batch(2)
    owned = populate([user, alice, bob])
    everything = set().union(*owned[entity_type].values())
    # The population is as intended: the user's records are a proper, non-empty subset.
    assert len(owned[entity_type][user.pk]) == RECORDS_PER_OWNER
    assert len(everything) == 3 * RECORDS_PER_OWNER

    expected = {
        Level.NONE: set(),
        Level.OWN: owned[entity_type][user.pk],
        Level.ALL: everything,
    }[level]
    assert readable_pks(user, entity_type) == expected


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("entity_type", ENTITY_TYPES)
def test_read_rights_on_one_type_show_nothing_of_the_other_types(entity_type, level):
    user = user_with({(entity_type, Action.READ): level})
    populate([user, UserFactory()])
    for other_type in ENTITY_TYPES:
        if other_type != entity_type:
            assert readable_pks(user, other_type) == set()
            assert not permissions.can_on_type(user, other_type, Action.READ)


@pytest.mark.parametrize("entity_type", ENTITY_TYPES)
def test_without_read_rights_every_record_page_is_forbidden(entity_type):
    user = user_with({(entity_type, Action.READ): Level.NONE})
    factory = RECORD_FACTORIES[entity_type]
    mine, foreign = factory(assigned_by=user), factory()
    for record in (mine, foreign):
        with pytest.raises(PermissionDenied):
            permissions.get_readable_or_404(user, entity_type, record.pk)


@pytest.mark.parametrize("entity_type", ENTITY_TYPES)
def test_own_read_shows_own_record_and_hides_foreign_one_as_not_found(entity_type):
    user = user_with({(entity_type, Action.READ): Level.OWN})
    factory = RECORD_FACTORIES[entity_type]
    mine, foreign = factory(assigned_by=user), factory()

    shown = permissions.get_readable_or_404(user, entity_type, mine.pk)
    assert (type(shown), shown.pk) == (RECORD_MODELS[entity_type], mine.pk)
    with pytest.raises(Http404):
        permissions.get_readable_or_404(user, entity_type, foreign.pk)


@pytest.mark.parametrize("entity_type", ENTITY_TYPES)
def test_all_read_shows_every_record_and_a_missing_one_is_not_found(entity_type):
    user = user_with({(entity_type, Action.READ): Level.ALL})
    factory = RECORD_FACTORIES[entity_type]
    mine, foreign = factory(assigned_by=user), factory()

    for record in (mine, foreign):
        assert permissions.get_readable_or_404(user, entity_type, record.pk).pk == record.pk
    for missing in (foreign.pk + 1000, "abc"):
        with pytest.raises(Http404):
            permissions.get_readable_or_404(user, entity_type, missing)


# --- add, update, delete ----------------------------------------------------------------------

ADD_CASES = [
    (entity_type, level, responsible, allowed(level, responsible == "self"))
    for entity_type, level, responsible in itertools.product(
        ENTITY_TYPES, LEVELS, ["self", "other"]
    )
]
RECORD_WRITE_CASES = [
    (entity_type, level, owner, allowed(level, owner == "mine"))
    for entity_type, level, owner in itertools.product(ENTITY_TYPES, LEVELS, ["mine", "foreign"])
]


def _ids(cases):
    return ["-".join(str(part) for part in case[:3]) for case in cases]


def _adder(entity_type, level, responsible):
    user = user_with({(entity_type, Action.ADD): level})
    other = UserFactory()
    populate([user, other])  # something that could be damaged
    assigned = user if responsible == "self" else other
    values = {**CREATE_VALUES[entity_type], "ASSIGNED_BY_ID": assigned.pk}
    return user, assigned, values


@pytest.mark.parametrize(
    ("entity_type", "level", "responsible"),
    [case[:3] for case in ADD_CASES if case[3]],
    ids=_ids([case for case in ADD_CASES if case[3]]),
)
def test_allowed_add_stores_the_record(entity_type, level, responsible, records_snapshot):
    user, assigned, values = _adder(entity_type, level, responsible)
    before = records_snapshot()

    record = services.record_create(entity_type=entity_type, values=values, user=user)

    stored = RECORD_MODELS[entity_type].objects.get(pk=record.pk)
    assert (stored.assigned_by_id, stored.created_by_id, stored.modified_by_id) == (
        assigned.pk,
        user.pk,
        user.pk,
    )
    after = records_snapshot()
    assert len(after[entity_type]) == len(before[entity_type]) + 1
    assert {k: v for k, v in after.items() if k != entity_type} == {
        k: v for k, v in before.items() if k != entity_type
    }


@pytest.mark.parametrize(
    ("entity_type", "level", "responsible"),
    [case[:3] for case in ADD_CASES if not case[3]],
    ids=_ids([case for case in ADD_CASES if not case[3]]),
)
def test_refused_add_leaves_the_database_unchanged(
    entity_type, level, responsible, records_snapshot
):
    user, _assigned, values = _adder(entity_type, level, responsible)
    before = records_snapshot()

    with pytest.raises(PermissionDenied):
        services.record_create(entity_type=entity_type, values=values, user=user)

    assert records_snapshot() == before


def _writer(entity_type, action, level, owner):
    user = user_with({(entity_type, action): level})
    other = UserFactory()
    populate([user, other])
    record = RECORD_FACTORIES[entity_type](assigned_by=user if owner == "mine" else other)
    return user, record


@pytest.mark.parametrize(
    ("entity_type", "level", "owner"),
    [case[:3] for case in RECORD_WRITE_CASES if case[3]],
    ids=_ids([case for case in RECORD_WRITE_CASES if case[3]]),
)
def test_allowed_update_changes_the_record(entity_type, level, owner, records_snapshot):
    user, record = _writer(entity_type, Action.UPDATE, level, owner)
    before = records_snapshot()

    changes = services.record_update(record=record, values={"COMMENTS": "Edited"}, user=user)

    assert changes == {"COMMENTS": ("", "Edited")}
    stored = RECORD_MODELS[entity_type].objects.get(pk=record.pk)
    assert (stored.comments, stored.version, stored.modified_by_id) == ("Edited", 2, user.pk)
    after = records_snapshot()
    changed_rows = [
        row
        for table in after
        for row in after[table]
        if row not in before[table]  # the one edited row, nothing else
    ]
    assert [row["id"] for row in changed_rows] == [record.pk]


@pytest.mark.parametrize(
    ("entity_type", "level", "owner"),
    [case[:3] for case in RECORD_WRITE_CASES if not case[3]],
    ids=_ids([case for case in RECORD_WRITE_CASES if not case[3]]),
)
def test_refused_update_leaves_the_database_unchanged(entity_type, level, owner, records_snapshot):
    user, record = _writer(entity_type, Action.UPDATE, level, owner)
    before = records_snapshot()

    with pytest.raises(PermissionDenied):
        services.record_update(record=record, values={"COMMENTS": "Edited"}, user=user)

    assert records_snapshot() == before


@pytest.mark.parametrize(
    ("entity_type", "level", "owner"),
    [case[:3] for case in RECORD_WRITE_CASES if case[3]],
    ids=_ids([case for case in RECORD_WRITE_CASES if case[3]]),
)
def test_allowed_delete_removes_the_record_and_nothing_else(
    entity_type, level, owner, records_snapshot
):
    user, record = _writer(entity_type, Action.DELETE, level, owner)
    pk = record.pk
    before = records_snapshot()

    services.record_delete(record=record, user=user)

    assert not RECORD_MODELS[entity_type].objects.filter(pk=pk).exists()
    after = records_snapshot()
    assert [row for row in before[entity_type] if row not in after[entity_type]] == [
        row for row in before[entity_type] if row["id"] == pk
    ]
    assert len(after[entity_type]) == len(before[entity_type]) - 1


@pytest.mark.parametrize(
    ("entity_type", "level", "owner"),
    [case[:3] for case in RECORD_WRITE_CASES if not case[3]],
    ids=_ids([case for case in RECORD_WRITE_CASES if not case[3]]),
)
def test_refused_delete_leaves_the_database_unchanged(entity_type, level, owner, records_snapshot):
    user, record = _writer(entity_type, Action.DELETE, level, owner)
    before = records_snapshot()

    with pytest.raises(PermissionDenied):
        services.record_delete(record=record, user=user)

    assert records_snapshot() == before


def test_own_level_delete_is_judged_on_the_stored_responsible_not_a_stale_copy(
    records_snapshot,
):
    """A record reassigned to someone else after the user loaded it is no longer theirs."""
    user = user_with({("DEAL", Action.DELETE): Level.OWN})
    deal = RECORD_FACTORIES["DEAL"](assigned_by=user)
    loaded = RECORD_MODELS["DEAL"].objects.get(pk=deal.pk)
    RECORD_MODELS["DEAL"].objects.filter(pk=deal.pk).update(assigned_by=UserFactory())
    before = records_snapshot()

    with pytest.raises(PermissionDenied):
        services.record_delete(record=loaded, user=user)

    assert records_snapshot() == before


# --- start processes, design automation, and the provider's view of rights ---------------------

START_CASES = [
    (entity_type, level, owner, allowed(level, owner == "mine"))
    for entity_type, level, owner in itertools.product(ENTITY_TYPES, LEVELS, ["mine", "foreign"])
]


@pytest.mark.parametrize(
    ("entity_type", "level", "owner", "expected"), START_CASES, ids=_ids(START_CASES)
)
def test_starting_processes_on_a_record_follows_the_level(
    entity_type, level, owner, expected, provider
):
    user = user_with({(entity_type, Action.START_PROCESSES): level})
    record = RECORD_FACTORIES[entity_type](assigned_by=user if owner == "mine" else UserFactory())

    assert permissions.can_on_record(user, Action.START_PROCESSES, record) is expected
    assert (
        provider.can(user.pk, Operation.START_PROCESS, document_id=record.document_id) is expected
    )
    # "Some records of the type" is true for own and all.
    assert permissions.can_on_type(user, entity_type, Action.START_PROCESSES) is (
        level != Level.NONE
    )
    assert provider.can(
        user.pk, Operation.START_PROCESS, document_type=DOCUMENT_TYPES[entity_type]
    ) is (level != Level.NONE)


@pytest.mark.parametrize("entity_type", ENTITY_TYPES)
def test_start_processes_right_on_one_type_does_not_extend_to_others(entity_type, provider):
    user = user_with({(entity_type, Action.START_PROCESSES): Level.ALL})
    for other_type in ENTITY_TYPES:
        record = RECORD_FACTORIES[other_type](assigned_by=user)
        expected = other_type == entity_type
        assert permissions.can_on_record(user, Action.START_PROCESSES, record) is expected
        assert (
            provider.can(user.pk, Operation.START_PROCESS, document_id=record.document_id)
            is expected
        )


@pytest.mark.parametrize(("level", "expected"), [(Level.NONE, False), (Level.ALL, True)])
@pytest.mark.parametrize("entity_type", ENTITY_TYPES)
def test_designing_automation_follows_the_level(entity_type, level, expected, provider):
    user = user_with({(entity_type, Action.DESIGN_AUTOMATION): level})
    foreign = RECORD_FACTORIES[entity_type]()

    assert permissions.can_on_type(user, entity_type, Action.DESIGN_AUTOMATION) is expected
    assert permissions.can_on_record(user, Action.DESIGN_AUTOMATION, foreign) is expected
    assert (
        provider.can(user.pk, Operation.DESIGN, document_type=DOCUMENT_TYPES[entity_type])
        is expected
    )
    assert provider.can(user.pk, Operation.DESIGN, document_id=foreign.document_id) is expected


PROVIDER_CASES = [
    (entity_type, operation, action, level, owner, allowed(level, owner == "mine"))
    for entity_type, (operation, action), level, owner in itertools.product(
        ENTITY_TYPES,
        [(Operation.READ, Action.READ), (Operation.WRITE, Action.UPDATE)],
        LEVELS,
        ["mine", "foreign"],
    )
]


@pytest.mark.parametrize(
    ("entity_type", "operation", "action", "level", "owner", "expected"),
    PROVIDER_CASES,
    ids=["-".join(str(part) for part in case[:5]) for case in PROVIDER_CASES],
)
def test_provider_read_and_write_rights_follow_read_and_update_levels(
    entity_type, operation, action, level, owner, expected, provider
):
    user = user_with({(entity_type, action): level})
    record = RECORD_FACTORIES[entity_type](assigned_by=user if owner == "mine" else UserFactory())

    assert provider.can(user.pk, operation, document_id=record.document_id) is expected
    assert provider.can(user.pk, operation, document_type=DOCUMENT_TYPES[entity_type]) is (
        level != Level.NONE
    )


def test_provider_read_right_does_not_grant_write_and_write_does_not_grant_read(provider):
    reader = user_with({("DEAL", Action.READ): Level.ALL})
    writer = user_with({("DEAL", Action.UPDATE): Level.ALL})
    deal = RECORD_FACTORIES["DEAL"]()

    assert provider.can(reader.pk, Operation.READ, document_id=deal.document_id)
    assert not provider.can(reader.pk, Operation.WRITE, document_id=deal.document_id)
    assert provider.can(writer.pk, Operation.WRITE, document_id=deal.document_id)
    assert not provider.can(writer.pk, Operation.READ, document_id=deal.document_id)


def test_provider_refuses_unknown_users_and_missing_documents(provider):
    admin = UserFactory(is_crm_admin=True)
    deal = RECORD_FACTORIES["DEAL"]()

    assert provider.can(admin.pk, Operation.READ, document_id=deal.document_id)
    assert not provider.can(admin.pk, Operation.READ, document_id=f"DEAL_{deal.pk + 1000}")
    assert not provider.can(admin.pk + 1000, Operation.READ, document_id=deal.document_id)


# --- several roles, administrators, inactive and anonymous users -------------------------------


@pytest.mark.parametrize(
    ("levels", "expected"),
    [
        ([Level.OWN, Level.ALL], Level.ALL),
        ([Level.ALL, Level.OWN], Level.ALL),
        ([Level.NONE, Level.OWN], Level.OWN),
        ([Level.OWN, Level.NONE], Level.OWN),
        ([Level.ALL, Level.NONE], Level.ALL),
        ([Level.NONE, Level.NONE], Level.NONE),
    ],
)
def test_the_highest_level_of_several_roles_wins(levels, expected):
    user = UserFactory()
    for level in levels:
        role_with({("DEAL", Action.READ): level}, users=[user])
    user = User.objects.get(pk=user.pk)
    owned = populate([user, UserFactory()])

    assert permissions.level_for(user, "DEAL", Action.READ) == expected
    assert (
        readable_pks(user, "DEAL")
        == {
            Level.NONE: set(),
            Level.OWN: owned["DEAL"][user.pk],
            Level.ALL: set().union(*owned["DEAL"].values()),
        }[expected]
    )


def test_a_role_the_user_does_not_hold_grants_nothing():
    holder, outsider = UserFactory.create_batch(2)
    role_with({("DEAL", Action.READ): Level.ALL}, users=[holder])
    populate([holder, outsider])
    holder = User.objects.get(pk=holder.pk)
    outsider = User.objects.get(pk=outsider.pk)

    assert readable_pks(holder, "DEAL")
    assert readable_pks(outsider, "DEAL") == set()


@pytest.mark.parametrize("flag", ["is_crm_admin", "is_superuser"])
def test_crm_administrator_and_superuser_may_do_everything(flag, provider, records_snapshot):
    admin = UserFactory(**{flag: True})  # no roles at all
    other = UserFactory()
    owned = populate([other])

    for entity_type in ENTITY_TYPES:
        assert readable_pks(admin, entity_type) == owned[entity_type][other.pk]
        foreign = RECORD_MODELS[entity_type].objects.get(pk=min(owned[entity_type][other.pk]))
        for action in Action:
            assert permissions.can_on_record(admin, action, foreign)
            assert permissions.can_on_type(admin, entity_type, action)
        for operation in Operation:
            assert provider.can(admin.pk, operation, document_id=foreign.document_id)

        created = services.record_create(
            entity_type=entity_type,
            values={**CREATE_VALUES[entity_type], "ASSIGNED_BY_ID": other.pk},
            user=admin,
        )
        created_pk = created.pk
        assert RECORD_MODELS[entity_type].objects.filter(pk=created_pk).exists()
        services.record_update(record=foreign, values={"COMMENTS": "By admin"}, user=admin)
        services.record_delete(record=created, user=admin)

        assert RECORD_MODELS[entity_type].objects.get(pk=foreign.pk).comments == "By admin"
        assert not RECORD_MODELS[entity_type].objects.filter(pk=created_pk).exists()


def _everything() -> dict[tuple[str, str], str]:
    return {(entity_type, action): Level.ALL for entity_type in ENTITY_TYPES for action in Action}


@pytest.mark.parametrize(
    "flags",
    [{}, {"is_crm_admin": True}, {"is_superuser": True}],
    ids=["with-all-roles", "crm-admin", "superuser"],
)
def test_inactive_user_may_do_nothing(flags, provider, records_snapshot):
    user = user_with(_everything(), is_active=False, **flags)
    populate([user])

    for entity_type in ENTITY_TYPES:
        assert readable_pks(user, entity_type) == set()
        for action in Action:
            assert not permissions.can_on_type(user, entity_type, action)
        mine = RECORD_MODELS[entity_type].objects.filter(assigned_by=user).first()
        for operation in Operation:
            assert not provider.can(user.pk, operation, document_id=mine.document_id)

        before = records_snapshot()
        with pytest.raises(PermissionDenied):
            services.record_update(record=mine, values={"COMMENTS": "Edited"}, user=user)
        with pytest.raises(PermissionDenied):
            services.record_delete(record=mine, user=user)
        assert records_snapshot() == before


def test_the_same_user_active_may_do_everything_positive_control(provider):
    user = user_with(_everything())
    owned = populate([user])
    for entity_type in ENTITY_TYPES:
        assert readable_pks(user, entity_type) == owned[entity_type][user.pk]
        mine = RECORD_MODELS[entity_type].objects.filter(assigned_by=user).first()
        assert all(
            provider.can(user.pk, operation, document_id=mine.document_id)
            for operation in Operation
        )


def test_anonymous_user_may_do_nothing(records_snapshot):
    anonymous = AnonymousUser()
    owner = UserFactory()
    populate([owner])

    for entity_type in ENTITY_TYPES:
        record = RECORD_MODELS[entity_type].objects.filter(assigned_by=owner).first()
        assert readable_pks(anonymous, entity_type) == set()
        for action in Action:
            assert not permissions.can_on_type(anonymous, entity_type, action)
            assert not permissions.can_on_record(anonymous, action, record)
        with pytest.raises(PermissionDenied):
            permissions.get_readable_or_404(anonymous, entity_type, record.pk)

        before = records_snapshot()
        with pytest.raises(PermissionDenied):
            services.record_create(
                entity_type=entity_type,
                values={**CREATE_VALUES[entity_type], "ASSIGNED_BY_ID": owner.pk},
                user=anonymous,
            )
        with pytest.raises(PermissionDenied):
            services.record_update(record=record, values={"COMMENTS": "Edited"}, user=anonymous)
        with pytest.raises(PermissionDenied):
            services.record_delete(record=record, user=anonymous)
        assert records_snapshot() == before


# --- the "design automation cannot be own" rule -------------------------------------------------


@pytest.mark.parametrize("entity_type", ENTITY_TYPES)
def test_design_automation_cannot_be_granted_at_own_level(entity_type):
    role = RoleFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        RolePermission.objects.create(
            role=role,
            entity_type=entity_type,
            action=Action.DESIGN_AUTOMATION,
            level=Level.OWN,
        )
    assert not RolePermission.objects.filter(role=role).exists()


@pytest.mark.parametrize(
    ("action", "level"),
    [
        (Action.DESIGN_AUTOMATION, Level.ALL),
        (Action.DESIGN_AUTOMATION, Level.NONE),
        (Action.START_PROCESSES, Level.OWN),
    ],
)
def test_other_levels_for_automation_rights_can_be_granted(action, level):
    role = RoleFactory()
    RolePermission.objects.create(role=role, entity_type="DEAL", action=action, level=level)
    assert list(RolePermission.objects.filter(role=role).values_list("action", "level")) == [
        (action, level)
    ]
