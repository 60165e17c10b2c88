"""Small readings of TeX source that several stages share: where a brace group ends, what is only macro
definitions, and TeX with pieces of it written otherwise."""

from __future__ import annotations

import re

# A macro definition as pandoc's Markdown reader applies it to the math and raw TeX after it
# (latex_macros): the name, then the argument count and a default, up to the definition's brace group.
DEFINITION = re.compile(
    r"\\(?:(?:re|provide)?newcommand\*?|DeclareMathOperator\*?)\s*(?:\{\s*\\[A-Za-z]+\s*\}|\\[A-Za-z]+)"
    r"\s*(?:\[\d\]\s*)?(?:\[[^\]]*\]\s*)?"
)


def group_end(tex: str, position: int) -> int | None:
    """The end (one past its ``}``) of the brace group that starts at ``position``; None if none starts
    there, or it is not closed. An escaped brace (``\\{``) is not one."""
    if not tex.startswith("{", position):
        return None
    depth = 0
    index = position
    while index < len(tex):
        char = tex[index]
        if char == "\\":
            index += 2
            continue
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return index + 1
        index += 1
    return None


def definitions_only(raw: str) -> bool:
    """Whether ``raw`` is nothing but macro definitions (``\\newcommand``, ``\\DeclareMathOperator``, ...)."""
    position = 0
    while True:
        while position < len(raw) and raw[position].isspace():
            position += 1
        if position == len(raw):
            return position > 0
        head = DEFINITION.match(raw, position)
        end = group_end(raw, head.end()) if head else None
        if end is None:
            return False
        position = end


def substituted(tex: str, replacements: list[tuple[int, int, str]]) -> str:
    """``tex`` with each (start, end, text) of ``replacements`` (in order, none overlapping) in its place."""
    for start, end, written in reversed(replacements):
        tex = tex[:start] + written + tex[end:]
    return tex
