"""The Russian catalogue: every message translated, and the compiled .mo the app loads matches."""

import ast
import gettext
from pathlib import Path

from django.utils import translation
from django.utils.translation import pgettext

from bizproc.models import ExecutionResult, ExecutionStatus, InstanceStatus, RunStatus
from crm.models import Action, Level

PO = Path(__file__).resolve().parents[1] / "locale" / "ru" / "LC_MESSAGES" / "django.po"


def po_entries() -> list[dict[str, str]]:
    """(msgctxt, msgid, msgid_plural, msgstr, msgstr[n]) of each live entry of the .po file."""
    entries: list[dict[str, str]] = []
    entry: dict[str, str] = {}
    key = ""
    for line in [*PO.read_text(encoding="utf-8").splitlines(), ""]:
        if not line.strip():
            if entry.get("msgid"):
                entries.append(entry)
            entry, key = {}, ""
        elif line.startswith('"'):
            entry[key] += ast.literal_eval(line)
        elif not line.startswith("#"):
            key, _space, value = line.partition(" ")
            entry[key] = ast.literal_eval(value)
    return entries


def test_every_message_has_a_russian_translation() -> None:
    untranslated = [
        entry["msgid"]
        for entry in po_entries()
        if not all(value for name, value in entry.items() if name.startswith("msgstr"))
    ]
    assert untranslated == []


def test_the_compiled_catalogue_matches_the_po_file() -> None:
    with PO.with_suffix(".mo").open("rb") as compiled:
        catalogue = gettext.GNUTranslations(compiled)
    stale = []
    for entry in po_entries():
        context, message = entry.get("msgctxt"), entry["msgid"]
        if "msgid_plural" in entry:
            found = (
                catalogue.npgettext(context, message, entry["msgid_plural"], 1)
                if context
                else catalogue.ngettext(message, entry["msgid_plural"], 1)
            )
            expected = entry["msgstr[0]"]
        else:
            found = catalogue.pgettext(context, message) if context else catalogue.gettext(message)
            expected = entry["msgstr"]
        if found != expected:
            stale.append(message)
    assert stale == []


def test_status_words_read_as_bitrix_has_them_where_they_differ() -> None:
    """One English word, three Russian ones (DOMAIN.md §3, §6): a journal row is «Завершено», a
    process «Завершен»; a scenario run stopped is «Прерван», a process «Выполнение прервано»."""
    with translation.override("ru"):
        assert str(ExecutionStatus.CLOSED.label) == "Завершено"
        assert str(InstanceStatus.COMPLETED.label) == "Завершен"
        assert str(RunStatus.COMPLETED.label) == "Завершен"
        assert str(RunStatus.TERMINATED.label) == "Прерван"
        assert str(InstanceStatus.TERMINATED.label) == "Выполнение прервано"


# English words this product uses in more than one sense — a status or a result, an access level
# or a button, a verb or a noun, one thing's state or another's — which Russian tells apart
# («Нет» and «Нет доступа», «Удалить» and «Удаление», «Статус» and «Текущий статус»). Each use
# says which sense it is with a context: `pgettext("verb", "Delete")`,
# `{% translate "Status" context "process" %}`.
WORDS_WITH_SEVERAL_SENSES = (
    "Active", "Add", "All", "Canceled", "Close", "Completed", "Created", "Delete", "Details",
    "Done", "End", "Inactive", "Level", "Log in", "Name", "None", "Open", "Own", "Read",
    "Result", "Start", "State", "Status", "Stop", "Success", "System", "Terminated", "Title",
    "Type", "Update",
)  # fmt: skip
# Words of that list used here in one sense only, and why a context would add nothing yet; a use
# in another sense must take a context (and its earlier uses one too).
ONE_SENSE_HERE = {
    "Name": "always a thing's name — a template, scenario, parameter, webhook, block: «Название» "
    "(a person's would be «Имя»)",
    "Type": "always the kind of a thing — a journal row's, a parameter's: «Тип»",
}


def test_words_with_several_senses_are_translated_by_their_context() -> None:
    without_context = sorted(
        {
            entry["msgid"]
            for entry in po_entries()
            if entry["msgid"] in WORDS_WITH_SEVERAL_SENSES
            and entry["msgid"] not in ONE_SENSE_HERE
            and "msgctxt" not in entry
        }
    )
    assert without_context == []


def test_one_english_word_reads_as_its_sense_in_russian() -> None:
    with translation.override("ru"):
        assert str(ExecutionResult.NONE.label) == "Нет"
        assert str(Level.NONE.label) == "Нет доступа"
        assert str(Action.DELETE.label) == "Удаление"
        assert pgettext("verb", "Delete") == "Удалить"
        assert pgettext("process", "State") != pgettext("process", "Status")
        assert str(InstanceStatus.CREATED.label) == "Создан"


GETTEXT_CALLS = {
    "_": ("msgid",),
    "gettext": ("msgid",),
    "gettext_lazy": ("msgid",),
    "ngettext": ("msgid",),
    "ngettext_lazy": ("msgid",),
    "pgettext": ("msgctxt", "msgid"),
    "pgettext_lazy": ("msgctxt", "msgid"),
    "npgettext": ("msgctxt", "msgid"),
    "npgettext_lazy": ("msgctxt", "msgid"),
}
APPS = ("accounts", "bizproc", "config", "crm", "designer", "rest")


def messages_asked_for_in_python() -> set[tuple[str | None, str, str]]:
    """(context, message, where) of each translation call with literal arguments in the apps'
    code — including those inside f-strings, which makemessages does not see."""
    asked = set()
    for path in sorted(p for app in APPS for p in (PO.parents[3] / app).rglob("*.py")):
        for call in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(call, ast.Call) or not isinstance(call.func, ast.Name):
                continue
            names = GETTEXT_CALLS.get(call.func.id)
            arguments = call.args[: len(names or ())]
            if names and all(
                isinstance(a, ast.Constant) and isinstance(a.value, str) for a in arguments
            ):
                message = dict(zip(names, (a.value for a in arguments), strict=True))
                where = f"{path.relative_to(PO.parents[3])}:{call.lineno}"
                asked.add((message.get("msgctxt"), message["msgid"], where))
    return asked


def test_every_message_the_code_asks_for_is_in_the_catalogue() -> None:
    catalogued = {(entry.get("msgctxt"), entry["msgid"]) for entry in po_entries()}
    missing = sorted(
        where
        for context, message, where in messages_asked_for_in_python()
        if (context, message) not in catalogued
    )
    assert missing == []
