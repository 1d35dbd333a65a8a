"""A believable demo company: users with different roles and CRM records of every type."""

import datetime
import itertools
import json
import random
import secrets
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone

from crm.counts import counts_invalidate
from crm.custom_fields import CustomField, code_of, index_sync
from crm.models import (
    Action,
    Company,
    Contact,
    Deal,
    EntityType,
    Lead,
    Level,
    Record,
    Role,
    RolePermission,
    Status,
    StatusList,
    TimelineEntry,
    TimelineKind,
    UserField,
)
from crm.services import userfield_create

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

COMPANY_WORDS = [
    "Northwind",
    "Polar",
    "Orbital",
    "Granite",
    "Bright",
    "Silver",
    "Cedar",
    "Atlas",
    "Vector",
    "Harbor",
    "Summit",
    "Lumen",
    "Quartz",
    "Meridian",
    "Falcon",
    "Aurora",
    "Pioneer",
    "Beacon",
    "Crescent",
    "Nimbus",
]
COMPANY_SUFFIXES = ["Logistics", "Systems", "Foods", "Labs", "Trading", "Energy", "Media", "Works"]
FIRST_NAMES = [
    "Alexei",
    "Maria",
    "Dmitri",
    "Elena",
    "Sergei",
    "Olga",
    "Ivan",
    "Natalia",
    "Pavel",
    "Tatiana",
    "John",
    "Emma",
    "Liam",
    "Sophia",
    "Noah",
    "Mia",
    "Lucas",
    "Chloe",
    "Ethan",
    "Ava",
]
LAST_NAMES = [
    "Volkov",
    "Kuznetsova",
    "Morozov",
    "Popova",
    "Lebedev",
    "Kozlova",
    "Novikov",
    "Smith",
    "Johnson",
    "Brown",
    "Garcia",
    "Miller",
    "Davis",
    "Wilson",
    "Taylor",
    "Clark",
]
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
    return Path(settings.DEMO_CREDENTIALS_FILE)


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
        role, created = Role.objects.get_or_create(
            name=name, defaults={"description": spec["description"]}
        )
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


COMMENTS = [
    "Called the client: they want a revised quote by Friday.",
    "Sent the commercial proposal.",
    "The budget is approved on their side, waiting for the purchase order.",
    "Met at their office, agreed on a pilot for one warehouse.",
    "They asked for references from clients in the same industry.",
    "Contract sent for signature.",
    "Follow up after the holidays.",
    "Decision maker is the CFO; the first contact only collects offers.",
    "Competitor offered a 10% discount, we need to answer.",
    "Invoice paid, handing over to the delivery team.",
]
# The way a deal goes through the funnel; a lost deal leaves it at some step.
DEAL_PATH = ["NEW", "PREPARATION", "PREPAYMENT_INVOICE", "EXECUTING", "FINAL_INVOICE", "WON"]


class _Stamps:
    """Creation times spread over the last year, handed out in order so ids follow time."""

    def __init__(self, rng: random.Random, now: datetime.datetime) -> None:
        self.rng = rng
        self.now = now

    def sorted_times(self, count: int) -> list[datetime.datetime]:
        minutes = sorted(self.rng.randint(60, 365 * 24 * 60) for _ in range(count))
        return [self.now - datetime.timedelta(minutes=m) for m in reversed(minutes)]

    def later(self, start: datetime.datetime) -> datetime.datetime:
        """A moment between ``start`` and now."""
        span = max(1, int((self.now - start).total_seconds() // 60))
        return start + datetime.timedelta(minutes=self.rng.randint(1, span))


def _labels(en: str, ru: str) -> dict[str, dict[str, str]]:
    return {"form": {"en": en, "ru": ru}}


def _items(*values: str) -> list[dict[str, object]]:
    return [{"value": value, "sort": 10 * (i + 1)} for i, value in enumerate(values)]


# The demo company's custom fields per entity type: code, type, English and Russian label,
# other definition values (``services.userfield_create``).
CUSTOM_FIELDS: dict[str, list[tuple[str, str, str, str, dict[str, object]]]] = {
    EntityType.DEAL: [
        ("SOURCE_DETAIL", "string", "Source detail", "Подробнее об источнике", {}),
        ("CONTRACT_NO", "string", "Contract no.", "Номер договора", {}),
        ("DELIVERY_DATE", "date", "Delivery date", "Дата поставки", {}),
        (
            "DEAL_KIND",
            "enumeration",
            "Deal kind",
            "Вид сделки",
            {"items": _items("Retail", "Wholesale", "Partner")},
        ),
        ("PRIORITY_SCORE", "integer", "Priority score", "Приоритет, баллы", {}),
        ("CURATOR", "employee", "Curator", "Куратор", {}),
        ("BUDGET", "money", "Budget", "Бюджет", {"settings": {"CURRENCY": "USD"}}),
        ("DISCOUNT", "double", "Discount, %", "Скидка, %", {}),
        ("SIGNED", "boolean", "Signed", "Подписана", {}),
        (
            "PARTNER_COMPANY",
            "crm",
            "Partner company",
            "Компания-партнёр",
            {"settings": {"COMPANY": "Y"}},
        ),
    ],
    EntityType.LEAD: [
        (
            "CONTACT_TIME",
            "enumeration",
            "Preferred contact time",
            "Удобное время для связи",
            {"items": _items("Morning", "Afternoon", "Evening")},
        ),
        ("NEWSLETTER", "boolean", "Newsletter consent", "Согласие на рассылку", {}),
    ],
    EntityType.CONTACT: [
        ("BIRTHDAY", "date", "Birthday", "День рождения", {}),
        ("TELEGRAM", "string", "Telegram", "Telegram", {}),
    ],
    EntityType.COMPANY: [
        ("WEBSITE", "url", "Website", "Сайт", {}),
        ("EMPLOYEES", "integer", "Employees", "Сотрудников", {}),
        ("TAX_ID", "string", "Tax ID", "ИНН", {}),
    ],
}


def demo_fields_create() -> dict[str, UserField]:
    """The demo company's custom fields (those missing), made as the system would make them;
    by code."""
    fields = {}
    for entity_type, rows in CUSTOM_FIELDS.items():
        for code, field_type, en, ru, extra in rows:
            field = UserField.objects.filter(entity_type=entity_type, code=code_of(code)).first()
            if field is None:
                values = {"code": code, "type": field_type, "labels": _labels(en, ru), **extra}
                field = userfield_create(entity_type=entity_type, values=values, user=None)
            fields[field.code] = field
    return fields


class _CustomValues:
    """The demo records' custom values, drawn from a generator of their own (seeded from the
    same seed) so that the built-in fields keep the values they always had. Most fields are
    left empty on some records, as in a real company."""

    def __init__(self, seed: int, fields: dict[str, UserField], users: list[object]) -> None:
        self.rng = random.Random(f"{seed}-custom-fields")  # noqa: S311 (demo data)
        self.options = {
            code: list(field.items.order_by("sort", "pk").values_list("pk", flat=True))
            for code, field in fields.items()
            if field.type == "enumeration"
        }
        self.user_ids = [user.pk for user in users]

    def filled(self, share: float) -> bool:
        return self.rng.random() < share

    def deal(self, created: datetime.datetime, company_ids: list[int]) -> dict[str, object]:
        rng, values = self.rng, {}
        if self.filled(0.6):
            values["UF_CRM_SOURCE_DETAIL"] = rng.choice(SOURCE_DETAILS)
        if self.filled(0.5):
            values["UF_CRM_CONTRACT_NO"] = f"C-{created:%Y}-{rng.randint(1, 99999):05d}"
        if self.filled(0.7):
            day = created.date() + datetime.timedelta(days=rng.randint(10, 150))
            values["UF_CRM_DELIVERY_DATE"] = day.isoformat()
        if self.filled(0.9):
            values["UF_CRM_DEAL_KIND"] = rng.choice(self.options["UF_CRM_DEAL_KIND"])
        if self.filled(0.85):
            values["UF_CRM_PRIORITY_SCORE"] = rng.randint(1, 100)
        if self.filled(0.5):
            values["UF_CRM_CURATOR"] = rng.choice(self.user_ids)
        if self.filled(0.6):
            values["UF_CRM_BUDGET"] = f"{rng.randint(10, 5000) * 100}.00|USD"
        if self.filled(0.4):
            values["UF_CRM_DISCOUNT"] = rng.choice([2.5, 5.0, 7.5, 10.0, 12.5, 15.0])
        values["UF_CRM_SIGNED"] = self.filled(0.3)
        if company_ids and self.filled(0.2):
            values["UF_CRM_PARTNER_COMPANY"] = str(rng.choice(company_ids))
        return values

    def lead(self) -> dict[str, object]:
        values: dict[str, object] = {"UF_CRM_NEWSLETTER": self.filled(0.4)}
        if self.filled(0.6):
            values["UF_CRM_CONTACT_TIME"] = self.rng.choice(self.options["UF_CRM_CONTACT_TIME"])
        return values

    def contact(self, name: str, last_name: str) -> dict[str, object]:
        values: dict[str, object] = {}
        if self.filled(0.5):
            born = datetime.date(1960, 1, 1) + datetime.timedelta(days=self.rng.randint(0, 15000))
            values["UF_CRM_BIRTHDAY"] = born.isoformat()
        if self.filled(0.4):
            values["UF_CRM_TELEGRAM"] = f"@{name}_{last_name}".lower()
        return values

    def company(self, title: str) -> dict[str, object]:
        values: dict[str, object] = {"UF_CRM_EMPLOYEES": self.rng.randint(5, 5000)}
        if self.filled(0.8):
            values["UF_CRM_WEBSITE"] = "https://" + title.lower().replace(" ", "-") + ".example.com"
        if self.filled(0.7):
            values["UF_CRM_TAX_ID"] = f"{self.rng.randint(10**9, 10**10 - 1)}"
        return values


SOURCE_DETAILS = [
    "Trade show 2026",
    "Partner referral",
    "Spring mailing",
    "Website chat",
    "Cold call",
    "Webinar",
]


@transaction.atomic
def demo_records_create(*, users: dict[str, object], deals: int, seed: int = 42) -> None:
    """Bulk-inserts ``deals`` deals and leads, a sixth as many companies, two thirds as many
    contacts, and their timelines: creation, a deal's way through the stages, comments.

    Bypasses the services (no hooks, no per-row checks) so that ``--size 100000`` takes
    seconds, not hours; the rows are what the services would have written.
    """
    rng = random.Random(seed)  # noqa: S311 (demo data, not secrets)
    stamps = _Stamps(rng, timezone.now())
    owners = [users["anna"], users["boris"], users["helen"]]
    fields = demo_fields_create()
    custom = _CustomValues(seed, fields, list(users.values()))
    # The fields' indexes are built once over the loaded rows: kept up to date row by row
    # they would double the load's time.
    definitions = [CustomField.of(field) for field in fields.values()]
    for definition in definitions:
        index_sync(definition=definition, drop=True)
    batch = 5000
    timeline: list[TimelineEntry] = []

    def add(entry: TimelineEntry) -> None:
        timeline.append(entry)
        if len(timeline) >= batch:
            TimelineEntry.objects.bulk_create(timeline)
            timeline.clear()

    def codes(status_list: str) -> list[str]:
        return list(Status.objects.filter(list=status_list).values_list("code", flat=True))

    def stamp(owner: object, created: datetime.datetime) -> dict:
        return {
            "assigned_by": owner,
            "created_by": owner,
            "modified_by": owner,
            "created_at": created,
            "modified_at": created,
        }

    def save(model: type, objects: list) -> list:
        saved = model.objects.bulk_create(objects, batch_size=batch)
        _created_entries_insert(model, [record.pk for record in saved])
        for record in saved:
            if rng.random() < 0.2:
                add(
                    TimelineEntry(
                        document_id=record.document_id,
                        kind=TimelineKind.COMMENT,
                        author_id=record.assigned_by_id,
                        text=rng.choice(COMMENTS),
                        created_at=stamps.later(record.created_at),
                    )
                )
        return saved

    stages, statuses = codes(StatusList.DEAL_STAGE), codes(StatusList.LEAD_STATUS)
    sources, types = codes(StatusList.SOURCE), codes(StatusList.COMPANY_TYPE)
    industries = codes(StatusList.INDUSTRY)

    company_objects = []
    for created in stamps.sorted_times(max(1, deals // 6)):
        company = Company(
            title=f"{rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_SUFFIXES)}",
            company_type=rng.choice(types),
            industry=rng.choice(industries),
            revenue=Decimal(rng.randint(1, 500) * 100000),
            currency="USD",
            phone=[{"VALUE": f"+1 555 {rng.randint(1000000, 9999999)}", "VALUE_TYPE": "WORK"}],
            **stamp(rng.choice(owners), created),
        )
        company.uf = custom.company(company.title)
        company_objects.append(company)
    companies = save(Company, company_objects)
    company_ids = [company.pk for company in companies]
    contacts = []
    for i, created in enumerate(stamps.sorted_times(max(1, deals * 2 // 3))):
        company = rng.choice(companies)  # a company's people are looked after by its manager
        name, last_name = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        email = f"{name}.{last_name}{i}@example.com".lower()
        contacts.append(
            Contact(
                name=name,
                last_name=last_name,
                post=rng.choice(POSTS),
                company=company,
                source=rng.choice(sources),
                phone=[{"VALUE": f"+7 9{rng.randint(10, 99)} {i:07d}", "VALUE_TYPE": "WORK"}],
                email=[{"VALUE": email, "VALUE_TYPE": "WORK"}],
                uf=custom.contact(name, last_name),
                **stamp(company.assigned_by, created),
            )
        )
    contacts = save(Contact, contacts)
    contacts_of: dict[int, list[Contact]] = {}
    for contact in contacts:
        contacts_of.setdefault(contact.company_id, []).append(contact)
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
                uf=custom.lead(),
                **stamp(rng.choice(owners), created),
            )
            for created in stamps.sorted_times(deals)
        ],
    )
    deal_objects = []
    histories = []
    for created in stamps.sorted_times(deals):
        company = rng.choice(companies)
        owner = company.assigned_by  # the account's manager runs its deals
        path = _deal_path(rng, stages)
        history = []
        moment = created
        for old, new in itertools.pairwise(path):
            moment = stamps.later(moment)
            history.append((old, new, moment))
        histories.append(history)
        deal = Deal(
            title=f"{rng.choice(DEAL_TOPICS)} for {company.title}",
            stage=path[-1],
            probability=rng.choice([10, 25, 50, 75, 90]),
            opportunity=Decimal(rng.randint(10, 2000) * 100),
            currency=rng.choice(["USD", "EUR", "RUB"]),
            company=company,
            contact=rng.choice(contacts_of.get(company.pk) or contacts),
            begin_date=created.date(),
            close_date=created.date() + datetime.timedelta(days=rng.randint(7, 120)),
            source=rng.choice(sources),
            uf=custom.deal(created, company_ids),
            **stamp(owner, created),
        )
        deal.version = 1 + len(history)
        deal.modified_at = moment
        deal_objects.append(deal)
    for deal, history in zip(save(Deal, deal_objects), histories, strict=True):
        for version, (old, new, moment) in enumerate(history, start=2):
            add(
                TimelineEntry(
                    document_id=deal.document_id,
                    kind=TimelineKind.CHANGED,
                    author_id=deal.assigned_by_id,
                    changes={"STAGE_ID": [old, new]},
                    version=version,
                    created_at=moment,
                )
            )
    TimelineEntry.objects.bulk_create(timeline)
    if connection.vendor == "postgresql":
        # PostgreSQL builds no index on a table with deferred foreign key checks pending.
        connection.check_constraints()
    for definition in definitions:
        index_sync(definition=definition)
    counts_invalidate()  # bulk inserts send no signals


def _created_entries_insert(model: type[Record], ids: list[int]) -> None:
    """The "created" timeline entries of the records just inserted (ids from the smallest
    to the largest of ``ids``), written by the database itself: a few hundred thousand rows
    would cost minutes as objects."""
    entry = TimelineEntry._meta
    empty_json = "CAST('{}' AS jsonb)" if connection.vendor == "postgresql" else "'{}'"
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {entry.db_table} "  # noqa: S608 (names from the models, no input)
            "(document_id, kind, author_id, by_process, text, changes, version, created_at) "
            f"SELECT %s || id, %s, created_by_id, %s, '', {empty_json}, 1, created_at "
            f"FROM {model._meta.db_table} WHERE id BETWEEN %s AND %s",
            [f"{model.entity_type}_", TimelineKind.CREATED, False, min(ids), max(ids)],
        )


def _deal_path(rng: random.Random, stages: list[str]) -> list[str]:
    """The stages a deal went through, from the first to where it stands now."""
    path = [stage for stage in DEAL_PATH if stage in stages] or stages[:1]
    reached = path[: rng.randint(1, len(path))]
    if "LOSE" in stages and len(reached) < len(path) and rng.random() < 0.25:
        reached.append("LOSE")
    return reached
