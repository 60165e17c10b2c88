"""Small readings of TeX source that several stages share: where a brace group ends."""

from __future__ import annotations


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
