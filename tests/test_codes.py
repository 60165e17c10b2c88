"""Every diagnostic code the package can emit is in press.codes, with a severity a setting may or may not change."""

from __future__ import annotations

import ast
from pathlib import Path

from press.codes import CODES, adjust, lookup
from press.metadata_schema import SCHEMA
from press.model import error, warning

PACKAGE = Path(__file__).resolve().parent.parent / "press"


def literal_codes(node: ast.expr) -> list[str]:
    """The codes an argument can be: a literal, either branch of a conditional, the literal start of an f-string."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return literal_codes(node.body) + literal_codes(node.orelse)
    if isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.Constant):
        return [node.values[0].value]
    return []


def emitted_codes() -> dict[str, str]:
    """code -> error or warning, for every error(...)/warning(...) call with a literal code, and the schema's."""
    found: dict[str, str] = {}
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("error", "warning"):
                assert not any(isinstance(a, ast.Starred) for a in node.args[:3]), f"{path}: write the code third"
                if len(node.args) >= 3:
                    for code in literal_codes(node.args[2]):
                        found[code] = node.func.id
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "_fail":
                for code in literal_codes(node.args[1]) if len(node.args) >= 2 else ():
                    found[code] = "error"
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "err":
                if len(node.args) >= 2 and isinstance(node.args[1], ast.Constant):
                    found[node.args[1].value] = "error"

    def schema_codes(node: object) -> None:
        if isinstance(node, dict):
            if "x-code" in node:
                found[node["x-code"]] = "error"
            for value in node.values():
                schema_codes(value)
        elif isinstance(node, list):
            for value in node:
                schema_codes(value)

    schema_codes(SCHEMA)
    return found


def test_every_code_emitted_is_registered_with_its_severity():
    emitted = emitted_codes()
    assert len(emitted) > 60
    for code, severity in emitted.items():
        info = lookup(code)
        assert info is not None, f"{code} is emitted but not in press.codes.CODES"
        if code != "bib-duplicate-doi":
            assert info.severity == severity, f"{code}: emitted as {severity}, registered as {info.severity}"


def test_settings_raise_and_ignore_but_never_lower_a_fixed_error():
    found = [
        warning("a.bib", 1, "bib-no-doi", "no DOI"),
        warning("a.bib", 2, "uncited-reference", "uncited"),
        error("a.md", 3, "unresolved-citation", "unresolved"),
        error("a.bib", 4, "bib-duplicate-doi", "same DOI"),
    ]
    levels = {"bib-no-doi": "error", "uncited-reference": "ignore", "unresolved-citation": "ignore"}
    levels["bib-duplicate-doi"] = "warning"
    result = {(d.code, d.severity) for d in adjust(found, levels)}
    assert result == {
        ("bib-no-doi", "error"),
        ("unresolved-citation", "error"),
        ("bib-duplicate-doi", "warning"),
    }
    assert CODES["unresolved-citation"].fixed and not CODES["bib-year"].fixed
