"""The robots' human form of expressions: ``{=Document:TITLE}`` ↔ ``{{Title}}``.

Both directions are plain text rewrites, inside formulas too (Bitrix writes
``{{=DateAdd({{Created}}, "5d")}}``). Only the canonical engine spelling is rewritten —
``{=Document:CODE}`` or ``{=Document:CODE > mod, mod}`` — and only for names that can come
back unambiguously: a display name that is empty, padded with spaces, contains a brace or
``>``, starts with ``=``, or is shared by two codes leaves its code in engine form. Hence
``parse_human(humanize(text)) == text`` for every text that ``parse_human`` leaves unchanged
(one that does not already contain a literal ``{{Known name}}``), and the same the other way.
"""

import re
from collections.abc import Mapping

_MODIFIERS = r"(?P<mods> > [A-Za-z_]+(?:, [A-Za-z_]+)*)?"
_ENGINE = re.compile(r"\{=Document:(?P<code>[A-Za-z_][A-Za-z0-9_]*)" + _MODIFIERS + r"\}")
_HUMAN = re.compile(r"\{\{(?P<name>[^{}]+?)" + _MODIFIERS + r"\}\}")
_CODE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _usable(names: Mapping[str, str]) -> dict[str, str]:
    """Code → display name, for the names that survive a round trip."""
    counts: dict[str, int] = {}
    for name in names.values():
        counts[name] = counts.get(name, 0) + 1
    return {
        code: name
        for code, name in names.items()
        if _CODE.fullmatch(code)
        and name
        and name == name.strip()
        and not any(char in name for char in "{}>")
        and not name.startswith("=")
        and counts[name] == 1
    }


def humanize(text: str, names: Mapping[str, str]) -> str:
    """Engine form to human form; ``names`` maps Document field codes to display names."""
    usable = _usable(names)

    def rewrite(match: re.Match[str]) -> str:
        name = usable.get(match["code"])
        return match[0] if name is None else "{{" + name + (match["mods"] or "") + "}}"

    return _ENGINE.sub(rewrite, text)


def parse_human(text: str, names: Mapping[str, str]) -> str:
    """Human form back to engine form; unknown ``{{…}}`` stay as they are."""
    codes = {name: code for code, name in _usable(names).items()}

    def rewrite(match: re.Match[str]) -> str:
        code = codes.get(match["name"])
        return match[0] if code is None else "{=Document:" + code + (match["mods"] or "") + "}"

    return _HUMAN.sub(rewrite, text)
