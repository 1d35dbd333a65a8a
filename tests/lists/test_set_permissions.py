"""Set permissions on a list element: who may read or edit it from now on, honoured by the
element's page, the list's page and index, the engine's checks and REST; replacing or adding
to what processes granted before; groups; refused on CRM templates, saying why."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from bizproc import runtime
from bizproc.documents import Operation, document_providers
from bizproc.models import InstanceStatus, TrackingType
from bizproc.services import PublishRefused
from lists import permissions
from lists.documents import document_type_of_list
from tests.bizproc.builders import node, notes, published
from tests.crm.factories import UserFactory
from tests.lists.conftest import make_element, make_list
from tests.rest.test_methods import call, hook

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin():
    return UserFactory(is_superuser=True, full_name="Irina Admin")


@pytest.fixture
def trips(admin):
    return make_list(admin, "trips_rights", access={"add": ["AU"]})


@pytest.fixture
def author():
    return UserFactory(full_name="Anna Author")


@pytest.fixture
def approver():
    return UserFactory(full_name="Boris Approver")


def set_permissions(permission, **properties):
    return node(
        "SetPermissionsActivity", "A_rights", Title="Rights", Permission=permission, **properties
    )


def run(trips, admin, element, *blocks):
    template = published(*blocks, user=admin, document_type=document_type_of_list(trips))
    instance = runtime.workflow_start(
        template=template, document_id=element.document_id, user=admin
    )
    instance.refresh_from_db()
    return instance


def test_a_reader_granted_by_a_process_reads_the_element_everywhere_but_may_not_edit_it(
    client, trips, admin, author, approver
):
    element = make_element(trips, author, "Trip to Kazan")
    page = reverse("lists:element-detail", kwargs={"list_pk": trips.pk, "pk": element.pk})
    client.force_login(approver)
    assert client.get(page).status_code == 404

    instance = run(trips, admin, element, set_permissions({"R": [f"user_{approver.pk}"]}))
    assert instance.status == InstanceStatus.COMPLETED
    assert notes(instance, TrackingType.CUSTOM) == ["Read: Boris Approver"]

    assert client.get(page).status_code == 200
    listing = client.get(reverse("lists:element-list", kwargs={"list_pk": trips.pk}))
    assert "Trip to Kazan" in listing.text
    assert trips in permissions.visible_lists(approver)
    provider = document_providers.get("lists")
    assert provider.can(approver, Operation.READ, document_id=element.document_id)
    assert not provider.can(approver, Operation.WRITE, document_id=element.document_id)
    assert not permissions.can_edit(approver, element)


def test_an_editor_granted_by_a_process_may_edit_and_read(trips, admin, author, approver):
    element = make_element(trips, author)
    run(trips, admin, element, set_permissions({"W": [f"user_{approver.pk}"]}))
    assert permissions.can_edit(approver, element)
    assert permissions.can_read(approver, element)


def test_the_members_of_a_group_and_the_author_may_be_granted(trips, admin, author, approver):
    readers = Group.objects.create(name="Readers")
    readers.user_set.add(approver)
    other = UserFactory()
    element = make_element(trips, other)
    instance = run(
        trips, admin, element, set_permissions({"R": [f"group_{readers.pk}"], "W": ["author"]})
    )
    assert notes(instance, TrackingType.CUSTOM) == [
        "Read: Readers",
        "Edit: " + other.get_full_name(),
    ]
    assert permissions.can_read(approver, element)
    assert list(permissions.readable(approver, trips)) == [element]
    readers.user_set.remove(approver)
    approver = type(approver).objects.get(pk=approver.pk)  # its groups read afresh
    assert not permissions.can_read(approver, element)


def test_replacing_takes_back_what_processes_granted_before_and_adding_keeps_it(
    trips, admin, author, approver
):
    colleague = UserFactory()
    element = make_element(trips, author)
    run(trips, admin, element, set_permissions({"R": [f"user_{approver.pk}"]}))
    run(trips, admin, element, set_permissions({"R": [f"user_{colleague.pk}"]}, SetMode="1"))
    assert permissions.can_read(approver, element) and permissions.can_read(colleague, element)
    run(trips, admin, element, set_permissions({"R": [f"user_{colleague.pk}"]}, SetMode="3"))
    assert not permissions.can_read(approver, element)
    assert permissions.can_read(colleague, element)
    # Bitrix's older files: no mode, Rewrite "N" adds.
    run(trips, admin, element, set_permissions({"R": [f"user_{approver.pk}"]}, Rewrite="N"))
    assert permissions.can_read(approver, element) and permissions.can_read(colleague, element)


def test_the_bitrix_template_s_rights_block_grants_reading_to_the_author(trips, admin, author):
    """bp-179 writes ``{"R": ["author"]}`` with SetMode 1 and an empty Rewrite."""
    element = make_element(trips, author)
    instance = run(
        trips,
        admin,
        element,
        set_permissions({"R": ["author"]}, Rewrite="", SetMode="1", SetScope="1"),
    )
    assert instance.status == InstanceStatus.COMPLETED
    assert permissions.can_read(author, element)


def test_an_unknown_operation_faults_the_process_saying_so(trips, admin, author, approver):
    element = make_element(trips, author)
    instance = run(trips, admin, element, set_permissions({"Z": [f"user_{approver.pk}"]}))
    assert instance.status == InstanceStatus.TERMINATED
    assert notes(instance, TrackingType.FAULT) == ["Unknown permission: Z"]
    assert not permissions.can_read(approver, element)


def test_on_a_crm_template_set_permissions_is_refused_on_publishing_saying_why(approver):
    designer = UserFactory(is_crm_admin=True)
    with pytest.raises(PublishRefused) as refused:
        published(set_permissions({"R": [f"user_{approver.pk}"]}), user=designer)
    assert [p.message for p in refused.value.problems] == [
        "Action 'Rights': Set permissions does not apply to Deals: who may read or edit them "
        "is decided by their access rights, not by processes."
    ]


def test_rest_gets_the_elements_granted_to_the_caller(client, trips, admin, author, approver):
    element = make_element(trips, author, "Granted trip")
    make_element(trips, author, "Private trip")
    base = hook(approver)
    where = {"IBLOCK_TYPE_ID": trips.kind, "IBLOCK_ID": trips.pk}
    status, body = call(client, base, "lists.element.get", where)
    assert status != 200 or body.get("result") in (None, [])
    run(trips, admin, element, set_permissions({"R": [f"user_{approver.pk}"]}))
    status, body = call(client, base, "lists.element.get", where)
    assert status == 200, body
    assert [row["NAME"] for row in body["result"]] == ["Granted trip"]
