"""Walking pandoc's JSON AST without rebuilding it.

pandocfilters.walk copies every node, which is fine for small documents but dominated the build of a
10 MB section. These walks are iterative (no recursion limit), visit nodes in document order, and
yield each element before its children, so a caller may change an element in place (a Cite into a
Span, a caption given its label) and the walk goes on into the changed element.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def elements(node: Any, prune: frozenset[str] = frozenset()) -> Iterator[dict]:
    """Every element (a dict with "t") under ``node``, in document order; ``prune`` kinds are yielded
    but not entered."""
    # Exact types and bound methods: a build walks the whole document about ten times.
    stack: list[Any] = [node]
    pop, push, extend = stack.pop, stack.append, stack.extend
    while stack:
        item = pop()
        if type(item) is list:
            extend(item[::-1])
            continue
        if type(item) is not dict:
            continue
        kind = item.get("t")
        if kind is not None:
            yield item
            if kind in prune:
                continue
        content = item.get("c")
        if type(content) is list:
            push(content)
        elif type(content) is dict:  # pandoc's MetaMap
            extend(list(content.values())[::-1])


def text_inlines(text: str) -> list[dict]:
    """Plain text as pandoc's inlines: words and the spaces between them."""
    inlines: list[dict] = []
    for word in text.split():
        inlines += [{"t": "Space"}, {"t": "Str", "c": word}] if inlines else [{"t": "Str", "c": word}]
    return inlines
