"""What several writers need from one document, each computed once per build."""

from __future__ import annotations

import functools
import json
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from .. import pandoc
from ..context import build_context, how_to_cite_html, split_fragments
from ..document import Document, stringify
from ..kept import Kept, Memo, entry_key


def add_backlinks_and_wrap_tables(ast: pandoc.Ast) -> pandoc.Ast:
    """The document as the HTML fragments show it: a copy, with

    - each in-text citation in a ``cite-N`` anchor, and each reference entry linking back to every one;
    - each table in a scrollable, keyboard-focusable region, so a wide table never widens a phone's page.
    """
    # A private copy changed in place in one pass: several times faster than pandocfilters.walk,
    # which matters to `serve`, where this runs on every save.
    blocks = json.loads(json.dumps(ast["blocks"]))
    uses: dict[str, list[str]] = {}
    _anchor_citations_and_wrap_tables(blocks, uses, [0])
    for block in blocks:
        if block["t"] == "Div" and block["c"][0][0] == "refs":
            for entry in block["c"][1]:
                if entry["t"] == "Div" and entry["c"][1]:
                    _add_backlinks(entry, uses.get(entry["c"][0][0].removeprefix("ref-"), []))
    return {**ast, "blocks": blocks}


def _anchor_citations_and_wrap_tables(node: Any, uses: dict[str, list[str]], count: list[int]) -> None:
    """Depth-first, in document order, so the anchors are numbered as they are read."""
    if isinstance(node, dict):  # an element: Cites and Tables only ever stand in its lists
        for value in node.values():
            if isinstance(value, list):
                _anchor_citations_and_wrap_tables(value, uses, count)
        return
    for index, item in enumerate(node):
        kind = item.get("t") if isinstance(item, dict) else None
        if kind == "Cite":
            count[0] += 1
            ident = f"cite-{count[0]}"
            for citation in item["c"][0]:
                uses.setdefault(citation["citationId"], []).append(ident)
            node[index] = {"t": "Span", "c": [[ident, ["cite-anchor"], []], [item]]}
            continue
        if kind == "Table":
            label = stringify(item["c"][1][1]) or "Table"
            attributes = [["role", "region"], ["tabindex", "0"], ["aria-label", label]]
            node[index] = {"t": "Div", "c": [["", ["table-wrap"], attributes], [item]]}
        if isinstance(item, (list, dict)):
            _anchor_citations_and_wrap_tables(item, uses, count)


def _add_backlinks(entry: dict, anchors: list[str]) -> None:
    last = entry["c"][1][-1]
    if not anchors or last["t"] not in ("Para", "Plain"):
        return
    links: list[dict] = [{"t": "Space"}]
    for n, ident in enumerate(anchors, 1):
        label = "↩" if len(anchors) == 1 else f"↩{n}"
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
    last["c"].append({"t": "Span", "c": [["", ["backrefs"], []], links]})


HTML_ARGS = ["--shift-heading-level-by=1", "--wrap=none", "--html-q-tags"]
PART_MARK = "<!--press-part-->"
RENDERINGS = ("print", "web")


class HtmlParts:
    """pandoc's HTML of a document, rendered part by part: only parts not seen before go to pandoc.

    The document is cut before each top-level heading. pandoc's HTML writer carries no state from
    one block to the next except footnotes (numbered, and gathered at the end), so the HTML of the
    whole is the HTML of its parts joined by newlines (tested on every fixture); a document with
    footnotes is rendered whole. Parts not ``kept`` by an earlier build go to one pandoc run,
    separated by a marker; an edit to one section re-renders one part (about a tenth of the whole).
    """

    def __init__(self, kept: Memo | None = None):
        self.kept = kept if kept is not None else Memo()  # part key -> its HTML

    def render(self, ast: pandoc.Ast) -> str:
        parts = _cut_before_headings(ast["blocks"])
        serialized = [json.dumps(part, sort_keys=True) for part in parts]
        # A Note element serializes with this pair (inside a string its quotes would be escaped);
        # a text that holds the marker itself could not be cut cleanly either.
        if any('"t": "Note"' in text or PART_MARK in text for text in serialized):
            return self._whole(ast)
        keys = [entry_key(" ".join(HTML_ARGS), text) for text in serialized]
        known = {key: html for key in keys if (html := self.kept.get(key)) is not None}
        missing = {key: part for key, part in zip(keys, parts, strict=True) if key not in known}
        if missing:
            marked: list[dict] = []
            for part in missing.values():
                if marked:
                    marked.append({"t": "RawBlock", "c": ["html", PART_MARK]})
                marked += part
            html = pandoc.ast_to({**ast, "blocks": marked}, "html5", HTML_ARGS).decode("utf-8")
            pieces = html.removesuffix("\n").split(f"\n{PART_MARK}\n")
            if len(pieces) != len(missing):  # a part that renders to nothing: no clean cut
                return self._whole(ast)
            for key, html in zip(missing, pieces, strict=True):
                known[key] = html
                self.kept.put(key, html)
        return "\n".join(known[key] for key in keys) + "\n"

    @staticmethod
    def _whole(ast: pandoc.Ast) -> str:
        return pandoc.ast_to(ast, "html5", HTML_ARGS).decode("utf-8")


def _cut_before_headings(blocks: list[dict]) -> list[list[dict]]:
    parts: list[list[dict]] = [[]]
    for block in blocks:
        if block["t"] == "Header" and block["c"][0] == 1 and parts[-1]:
            parts.append([])
        parts[-1].append(block)
    return parts


class Shared:
    """Lazily computed pieces, safe to request from several writer threads.

    The document's HTML comes in two renderings: ``web`` for the article page (each citation an
    anchor, back-links in the reference list, tables in scrollable regions) and ``print`` for the
    PDF and the DOCX front matter, which show none of that. The print one is leaner to lay out:
    WeasyPrint cascades and boxes every element, hidden or not (about a tenth of the PDF's layout).
    """

    def __init__(
        self,
        document: Document,
        pool: ThreadPoolExecutor,
        how_to_cite: Future | None = None,
        renderings: tuple[str, ...] = ("print", "web"),
        kept: Kept | None = None,
    ):
        self.document = document
        kept = kept if kept is not None else Kept()  # what an earlier build kept (press.kept)
        self._html_parts = {kind: HtmlParts(kept[f"html-{kind}"]) for kind in RENDERINGS}
        self._lock = threading.Lock()
        # Started now, in this order (the PDF is the longest job); any other is rendered on request.
        self._fragments: dict[str, Future] = {kind: pool.submit(self._render_fragments, kind) for kind in renderings}
        # A build may start the "How to cite" line before the parse (it needs only the metadata).
        self._cite: Future = how_to_cite or pool.submit(how_to_cite_html, document)

    def _render_fragments(self, kind: str) -> tuple[str, str]:
        ast = add_backlinks_and_wrap_tables(self.document.ast) if kind == "web" else self.document.ast
        return split_fragments(self._html_parts[kind].render(ast))

    def fragments(self, kind: str) -> tuple[str, str]:
        """The abstract's and the body's HTML in the ``kind`` rendering: ``web`` or ``print``."""
        with self._lock:
            future = self._fragments.get(kind)
            mine = future is None
            if mine:
                future = self._fragments[kind] = Future()
        if mine:  # rendered in the asking thread: waiting on the pool from a pool thread could starve it
            try:
                future.set_result(self._render_fragments(kind))
            except BaseException as exc:
                future.set_exception(exc)
        return future.result()

    @property
    def how_to_cite(self) -> str:
        return self._cite.result()

    @functools.cached_property
    def description(self) -> str:
        abstract = self.document.ast["blocks"][0]["c"][1]
        text = " ".join(stringify(abstract).split())
        return text if len(text) <= 300 else text[:297].rsplit(" ", 1)[0] + "…"

    def context(self, rendering: str = "print", **extra: Any) -> dict[str, Any]:
        blinded = extra.pop("blinded", False)
        context = build_context(self.document, blinded=blinded)
        abstract_html, body_html = self.fragments(rendering)
        context.update(
            abstract_html=abstract_html,
            body_html=body_html,
            # The article's own reference lists every author: a blinded copy has none.
            how_to_cite="" if blinded else self.how_to_cite,
            description=self.description,
        )
        context.update(extra)
        return context
