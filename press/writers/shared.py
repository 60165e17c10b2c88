"""What several writers need from one document, each computed once per build."""

from __future__ import annotations

import functools
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from pandocfilters import walk

from .. import pandoc
from ..context import build_context, how_to_cite_html, split_fragments
from ..document import Document, stringify


def add_backlinks(ast: pandoc.Ast) -> pandoc.Ast:
    """Give each in-text citation an id and each reference entry links back to where it is cited."""
    uses: dict[str, list[str]] = {}
    wrapped: set[int] = set()  # walk() descends into our replacement: wrap each Cite once

    def visit(key: str, value: Any, _f: str, _m: Any) -> Any:
        if key == "Cite" and id(value) not in wrapped:
            wrapped.add(id(value))
            ident = f"cite-{len(wrapped)}"
            for citation in value[0]:
                uses.setdefault(citation["citationId"], []).append(ident)
            return {"t": "Span", "c": [[ident, ["cite-anchor"], []], [{"t": "Cite", "c": value}]]}
        return None

    blocks = walk(ast["blocks"], visit, "", {})
    for block in blocks:
        if block["t"] == "Div" and block["c"][0][0] == "refs":
            for entry in block["c"][1]:
                key = entry["c"][0][0].removeprefix("ref-")
                if entry["t"] != "Div" or not uses.get(key) or not entry["c"][1]:
                    continue
                links: list[dict] = [{"t": "Space"}]
                for n, ident in enumerate(uses[key], 1):
                    label = "↩" if len(uses[key]) == 1 else f"↩{n}"
                    links.append(
                        {
                            "t": "Link",
                            "c": [
                                ["", [], [["aria-label", f"Back to citation {n}"]]],
                                [{"t": "Str", "c": label}],
                                ["#" + ident, ""],
                            ],
                        }
                    )
                last = entry["c"][1][-1]
                if last["t"] in ("Para", "Plain"):
                    last["c"].append({"t": "Span", "c": [["", ["backrefs"], []], links]})
    return {**ast, "blocks": blocks}


class Shared:
    """Lazily computed pieces, safe to request from several writer threads."""

    def __init__(self, document: Document, pool: ThreadPoolExecutor):
        self.document = document
        self._fragments: Future = pool.submit(self._render_fragments)
        self._cite: Future = pool.submit(how_to_cite_html, document)

    def _render_fragments(self) -> tuple[str, str]:
        html = pandoc.ast_to(
            add_backlinks(self.document.ast), "html5", ["--shift-heading-level-by=1", "--wrap=none", "--html-q-tags"]
        ).decode("utf-8")
        return split_fragments(html)

    @property
    def abstract_html(self) -> str:
        return self._fragments.result()[0]

    @property
    def body_html(self) -> str:
        return self._fragments.result()[1]

    @property
    def how_to_cite(self) -> str:
        return self._cite.result()

    @functools.cached_property
    def description(self) -> str:
        abstract = self.document.ast["blocks"][0]["c"][1]
        text = " ".join(stringify(abstract).split())
        return text if len(text) <= 300 else text[:297].rsplit(" ", 1)[0] + "…"

    def context(self, **extra: Any) -> dict[str, Any]:
        context = build_context(self.document, blinded=extra.pop("blinded", False))
        context.update(
            abstract_html=self.abstract_html,
            body_html=self.body_html,
            how_to_cite=self.how_to_cite,
            description=self.description,
        )
        context.update(extra)
        return context
