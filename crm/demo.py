"""A believable demo company: users with different roles and CRM records of every type."""

import datetime
import json
import random
import secrets
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from crm.models import (
    Action,
    Company,
    Contact,
    Deal,
    EntityType,
    Lead,
    Level,
    Role,
    RolePermission,
    Status,
    StatusList,
)

CREDENTIALS_FILE = "demo-credentials.json"

# username, full name, language, role (None: CRM administrator)
USERS = [
    ("admin", "Irina Sokolova", "en", None),
    ("anna", "Anna Petrova", "ru", "Sales manager"),
    ("boris", "Boris Ivanov", "en", "Sales manager"),
    ("helen", "Helen Carter", "en", "Head of sales"),
    ("mark", "Mark Lee", "en", "Marketer"),
    ("olga", "Olga Smirnova", "ru", "Auditor"),
]

_RECORD_ACTIONS = [Action.READ, Action.ADD, Action.UPDATE, Action.DELETE, Action.START_PROCESSES]

ROLES: dict[str, dict[str, object]] = {
    "Sales manager": {
        "description": "Works with their own leads, contacts, companies and deals.",
        "levels": {action: Level.OWN for action in _RECORD_ACTIONS},
    },
    "Head of sales": {
        "description": "Sees and manages every record of the sales team.",
        "levels": {action: Level.ALL for action in _RECORD_ACTIONS},
    },
    "Marketer": {
        "description": "Reads every record, starts processes and designs automation.",
        "levels": {
            Action.READ: Level.ALL,
            Action.START_PROCESSES: Level.ALL,
            Action.DESIGN_AUTOMATION: Level.ALL,
        },
    },
    "Auditor": {
        "description": "Reads everything, changes nothing.",
        "levels": {Action.READ: Level.ALL},
    },
}

COMPANY_WORDS = (
    "Northwind Polar Orbital Granite Bright Silver Cedar Atlas Vector Harbor Summit Lumen "
    "Quartz Meridian Falcon Aurora Pioneer Beacon Crescent Nimbus"
).split()
COMPANY_SUFFIXES = ["Logistics", "Systems", "Foods", "Labs", "Trading", "Energy", "Media", "Works"]
FIRST_NAMES = (
    "Alexei Maria Dmitri Elena Sergei Olga Ivan Natalia Pavel Tatiana John Emma Liam Sophia "
    "Noah Mia Lucas Chloe Ethan Ava"
).split()
LAST_NAMES = (
    "Volkov Kuznetsova Morozov Popova Lebedev Kozlova Novikov Smith Johnson Brown Garcia "
    "Miller Davis Wilson Taylor Clark"
).split()
POSTS = ["CEO", "CFO", "Procurement manager", "Office manager", "CTO", "Head of marketing"]
DEAL_TOPICS = [
    "Annual license",
    "Warehouse automation",
    "Fleet tracking pilot",
    "Support contract",
    "Website redesign",
    "Hardware refresh",
    "Consulting package",
    "Cloud migration",
]


def credentials_path() -> Path:
    return Path(settings.VAR_DIR) / CREDENTIALS_FILE


def read_credentials() -> dict[str, str] | None:
    path = credentials_path()
    return json.loads(path.read_text()) if path.exists() else None


def _password() -> str:
    """One password for every demo user, made once and kept under var/."""
    existing = read_credentials()
    if existing:
        return existing["password"]
    password = secrets.token_urlsafe(9)
    path = credentials_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"username": USERS[0][0], "password": password}))
    path.chmod(0o600)
    return password


@transaction.atomic
def demo_users_create() -> dict[str, object]:
    """Creates the demo roles and users where missing; returns the users by username."""
    User = get_user_model()
    roles = {}
    for name, spec in ROLES.items():
        role, created = Role.objects.get_or_create(name=name, defaults={"description": spec["description"]})
        if created:
            RolePermission.objects.bulk_create(
                RolePermission(role=role, entity_type=et, action=action, level=level)
                for et in EntityType
                for action, level in spec["levels"].items()
            )
        roles[name] = role
    password = _password()
    users = {}
    for username, full_name, language, role_name in USERS:
        user = User.objects.filter(username=username).first()
        if user is None:
            admin = role_name is None
            user = User.objects.create_user(
                username=username,
                password=password,
                full_name=full_name,
                email=f"{username}@example.com",
                language=language,
                time_zone="Europe/Moscow" if language == "ru" else "UTC",
                is_crm_admin=admin,
                is_staff=admin,
                is_superuser=admin,
            )
            if role_name:
                roles[role_name].users.add(user)
        users[username] = user
    return users


def demo_records_create(*, users: dict[str, object], deals: int, seed: int = 42) -> None:
    """Bulk-inserts records: ``deals`` deals and leads, a sixth as many companies … (no hooks)."""
    rng = random.Random(seed)
    owners = [users["anna"], users["boris"], users["helen"]]
    now = timezone.now()
    batch = 5000

    def stamp(owner: object) -> dict:
        created = now - datetime.timedelta(days=rng.randint(0, 365), minutes=rng.randint(0, 1440))
        return {
            "assigned_by": owner,
            "created_by": owner,
            "modified_by": owner,
            "created_at": created,
            "modified_at": created,
        }

    def save(model: type, objects: list) -> list:
        return model.objects.bulk_create(objects, batch_size=batch)

    stages = list(Status.objects.filter(list=StatusList.DEAL_STAGE).values_list("code", flat=True))
    statuses = list(Status.objects.filter(list=StatusList.LEAD_STATUS).values_list("code", flat=True))
    sources = list(Status.objects.filter(list=StatusList.SOURCE).values_list("code", flat=True))
    types = list(Status.objects.filter(list=StatusList.COMPANY_TYPE).values_list("code", flat=True))
    industries = list(Status.objects.filter(list=StatusList.INDUSTRY).values_list("code", flat=True))

    companies = save(
        Company,
        [
            Company(
                title=f"{rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_SUFFIXES)}",
                company_type=rng.choice(types),
                industry=rng.choice(industries),
                revenue=Decimal(rng.randint(1, 500) * 100000),
                currency="USD",
                phone=[{"VALUE": f"+1 555 {rng.randint(1000000, 9999999)}", "VALUE_TYPE": "WORK"}],
                **stamp(rng.choice(owners)),
            )
            for _ in range(max(1, deals // 6))
        ],
    )
    contacts = save(
        Contact,
        [
            Contact(
                name=rng.choice(FIRST_NAMES),
                last_name=rng.choice(LAST_NAMES),
                post=rng.choice(POSTS),
                company=rng.choice(companies),
                source=rng.choice(sources),
                email=[{"VALUE": f"person{i}@example.com", "VALUE_TYPE": "WORK"}],
                **stamp(rng.choice(owners)),
            )
            for i in range(max(1, deals * 2 // 3))
        ],
    )
    save(
        Lead,
        [
            Lead(
                title=f"{rng.choice(DEAL_TOPICS)} — {rng.choice(COMPANY_WORDS)}",
                name=rng.choice(FIRST_NAMES),
                last_name=rng.choice(LAST_NAMES),
                company_title=f"{rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_SUFFIXES)}",
                status=rng.choice(statuses),
                source=rng.choice(sources),
                opportunity=Decimal(rng.randint(5, 500) * 100),
                currency="USD",
                **stamp(rng.choice(owners)),
            )
            for _ in range(deals)
        ],
    )
    deal_objects = []
    for _ in range(deals):
        company = rng.choice(companies)
        begin = (now - datetime.timedelta(days=rng.randint(0, 300))).date()
        deal_objects.append(
            Deal(
                title=f"{rng.choice(DEAL_TOPICS)} for {company.title}",
                stage=rng.choice(stages),
                probability=rng.choice([10, 25, 50, 75, 90]),
                opportunity=Decimal(rng.randint(10, 2000) * 100),
                currency=rng.choice(["USD", "EUR", "RUB"]),
                company=company,
                contact=rng.choice(contacts),
                begin_date=begin,
                close_date=begin + datetime.timedelta(days=rng.randint(7, 120)),
                source=rng.choice(sources),
                **stamp(rng.choice(owners)),
            )
        )
    save(Deal, deal_objects)
