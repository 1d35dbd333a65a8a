"""The Russian catalogue: every message translated, and the compiled .mo the app loads matches."""

import ast
import gettext
from pathlib import Path

from django.utils import translation

from bizproc.models import ExecutionStatus, InstanceStatus, RunStatus

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
