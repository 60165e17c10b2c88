"""Walking pandoc's JSON AST without rebuilding it.

pandocfilters.walk copies every node, which is fine for small documents but dominated the build of a
10 MB section. These walks are iterative (no recursion limit), visit nodes in document order, and
yield each element before its children, so a caller may change an element in place (a Cite into a
Span, a caption given its label) and the walk goes on into the changed element.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
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


def replaced(node: Any, replacement: Callable[[dict], dict | None]) -> Any:
    """``node`` with each element for which ``replacement`` gives a new one replaced by it; ``node``
    itself when none is. The elements are offered as ``elements`` yields them (in document order, the
    walk going on into a new element), and each time they stand in the tree.

    Only the lists and dicts on the way from ``node`` to a replaced element are copied; the rest is
    shared with ``node``, which is left as it is (a document shared by every rendering: copying it
    whole for one cost more than the walk). So neither the result nor ``node`` may be changed in place.
    """
    result = node

    # A frame for each container on the way down: [container, its container's frame, its key there,
    # its copy once one of its children is replaced]. By the way taken, not by the container: one
    # that stands in two places is copied in each.
    def put(new: Any, frame: list | None, key: Any) -> None:
        nonlocal result
        while frame is not None:
            if frame[3] is not None:
                frame[3][key] = new
                return
            copy = frame[3] = frame[0].copy()
            copy[key] = new
            new, frame, key = copy, frame[1], frame[2]
        result = new

    stack: list[tuple[Any, list | None, Any]] = [(node, None, None)]
    pop, push = stack.pop, stack.append
    while stack:
        item, parent, key = pop()
        if type(item) is list:
            frame = [item, parent, key, None]
            for index in range(len(item) - 1, -1, -1):
                if type(item[index]) in (list, dict):
                    push((item[index], frame, index))
            continue
        if item.get("t") is not None and (new := replacement(item)) is not None:
            put(new, parent, key)
            item = new
        frame = [item, parent, key, None]
        content = item.get("c")
        if type(content) is list:
            push((content, frame, "c"))
        elif type(content) is dict:  # pandoc's MetaMap
            frame = [content, frame, "c", None]
            for name, value in reversed(list(content.items())):
                if type(value) in (list, dict):
                    push((value, frame, name))
    return result


def text_inlines(text: str) -> list[dict]:
    """Plain text as pandoc's inlines: words and the spaces between them."""
    inlines: list[dict] = []
    for word in text.split():
        inlines += [{"t": "Space"}, {"t": "Str", "c": word}] if inlines else [{"t": "Str", "c": word}]
    return inlines
