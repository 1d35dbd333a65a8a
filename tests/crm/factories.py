"""Factories for CRM tests.

Records are created straight through the models' managers (never through ``crm.services``), so
tests of the services and of the rights do not depend on the code they test for their setup.
"""

import functools
from collections.abc import Iterable, Mapping

import factory
from django.contrib.auth.hashers import make_password
from factory.django import DjangoModelFactory

from accounts.models import User
from crm.models import Company, Contact, Deal, Lead, Role, RolePermission

PASSWORD = "correct horse battery staple"


@functools.cache
def _password_hash() -> str:
    """One hash for every test user: hashing is deliberately slow."""
    return make_password(PASSWORD)


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    full_name = factory.Sequence(lambda n: f"User {n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    password = factory.LazyFunction(_password_hash)
    is_active = True


class RoleFactory(DjangoModelFactory):
    class Meta:
        model = Role
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Role {n}")


class RolePermissionFactory(DjangoModelFactory):
    class Meta:
        model = RolePermission

    role = factory.SubFactory(RoleFactory)
    entity_type = "DEAL"
    action = "read"
    level = "all"


def role_with(levels: Mapping[tuple[str, str], str], users: Iterable[User] = ()) -> Role:
    """A role granting ``levels`` {(entity type, action): level}, held by ``users``."""
    role = RoleFactory()
    for (entity_type, action), level in levels.items():
        RolePermissionFactory(role=role, entity_type=entity_type, action=action, level=level)
    role.users.add(*users)
    return role


def user_with(levels: Mapping[tuple[str, str], str], **kwargs) -> User:
    """A fresh user holding one role that grants ``levels`` (nothing else)."""
    user = UserFactory(**kwargs)
    role_with(levels, users=[user])
    return User.objects.get(pk=user.pk)  # a fresh object: rights are cached per user object


class RecordFactory(DjangoModelFactory):
    class Meta:
        abstract = True

    assigned_by = factory.SubFactory(UserFactory)
    created_by = factory.SelfAttribute("assigned_by")
    modified_by = factory.SelfAttribute("assigned_by")


class CompanyFactory(RecordFactory):
    class Meta:
        model = Company

    title = factory.Sequence(lambda n: f"Company {n}")


class ContactFactory(RecordFactory):
    class Meta:
        model = Contact

    name = factory.Sequence(lambda n: f"Name{n}")
    last_name = factory.Sequence(lambda n: f"Surname{n}")


class LeadFactory(RecordFactory):
    class Meta:
        model = Lead

    title = factory.Sequence(lambda n: f"Lead {n}")
    status = "NEW"


class DealFactory(RecordFactory):
    class Meta:
        model = Deal
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Deal {n}")
    stage = "NEW"

    @factory.post_generation
    def contacts(self, create: bool, extracted, **kwargs) -> None:
        if create and extracted:
            self.contacts.set(extracted)


RECORD_FACTORIES = {
    "LEAD": LeadFactory,
    "CONTACT": ContactFactory,
    "COMPANY": CompanyFactory,
    "DEAL": DealFactory,
}
