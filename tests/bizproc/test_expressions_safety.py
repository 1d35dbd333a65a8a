"""The expression package never reaches for Python's own evaluation or reflection."""

import ast
from pathlib import Path

import bizproc.expressions

PACKAGE = Path(bizproc.expressions.__file__).parent
FORBIDDEN = {
    "eval", "exec", "compile", "getattr", "setattr", "__import__", "globals", "locals", "vars",
    "builtins", "__builtins__",  # the way around the names above
}  # fmt: skip
FORBIDDEN_MODULES = {"importlib", "builtins"}


def forbidden_uses(source: str) -> list[str]:
    """Forbidden names, and imports of forbidden modules or names, in ``source``.

    ``re.compile`` is an attribute of ``re``, not the builtin ``compile``, and is allowed.
    """
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Name) and node.id in FORBIDDEN:
            found.append(f"{node.id} (line {node.lineno})")
        elif isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.split(".")[0] in FORBIDDEN_MODULES]
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            names = {a.name for a in node.names}
            if module.split(".")[0] in FORBIDDEN_MODULES or FORBIDDEN & names:
                found.append(f"from {module} import … (line {node.lineno})")
    return found


def test_checker_catches_each_kind_of_forbidden_use():
    assert forbidden_uses("x = eval('1')")
    assert forbidden_uses("f = getattr")
    assert forbidden_uses("import builtins")
    assert forbidden_uses("__builtins__['exec']('1')")
    assert forbidden_uses("import importlib.util")
    assert forbidden_uses("from importlib import import_module")
    assert forbidden_uses("from os import compile")
    assert not forbidden_uses("import re\nre.compile('x')\nevaluate('1')")


def test_expression_package_uses_no_eval_exec_reflection_or_importlib():
    files = sorted(PACKAGE.glob("*.py"))
    assert len(files) >= 8
    found = {f.name: uses for f in files if (uses := forbidden_uses(f.read_text()))}
    assert found == {}
