"""What several writers need from one document, each computed once per build."""

from __future__ import annotations

import functools
import json
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from .. import pandoc
from ..ast import replaced
from ..citeproc import REFS_ID
from ..context import build_context, how_to_cite_html, split_fragments
from ..document import Document, stringify
from ..kept import Kept
from ..renditions import Media
from .html_parts import HtmlParts


def add_backlinks_and_wrap_tables(ast: pandoc.Ast) -> pandoc.Ast:
    """The document as the HTML fragments show it: a copy, with

    - each in-text citation in a ``cite-N`` anchor, and each reference entry linking back to every one;
    - each table in a scrollable, keyboard-focusable region, so a wide table never widens a phone's page.

    The copy is new only where it differs (the elements on the way to a citation or a table, and the
    reference list) and shares the rest with ``ast``: a whole copy would hold the document's memory
    twice while the PDF is laid out. One pass, faster than pandocfilters.walk, which matters to
    `serve`, where this runs on every save.
    """
    uses: dict[str, list[str]] = {}
    blocks = list(_anchored(ast["blocks"], uses, [0]))
    for index, block in enumerate(blocks):
        if block["t"] == "Div" and block["c"][0][0] == REFS_ID:
            blocks[index] = block = json.loads(json.dumps(block))  # changed in place below: a copy
            for entry in block["c"][1]:
                if entry["t"] == "Div" and entry["c"][1]:
                    _add_backlinks(entry, uses.get(entry["c"][0][0].removeprefix("ref-"), []))
    return {**ast, "blocks": blocks}


def _anchored(node: Any, uses: dict[str, list[str]], count: list[int]) -> Any:
    """``node`` with its citations anchored and its tables wrapped; ``node`` itself if neither is in it.

    Depth-first, in document order, so the anchors are numbered as they are read.
    """
    if isinstance(node, dict):  # an element: Cites and Tables only ever stand in its lists
        changed = None
        for key, value in node.items():
            if isinstance(value, list):
                new = _anchored(value, uses, count)
                if new is not value:
                    changed = changed or dict(node)
                    changed[key] = new
        return changed or node
    out = None
    for index, item in enumerate(node):
        kind = item.get("t") if isinstance(item, dict) else None
        if kind == "Cite":
            count[0] += 1
            ident = f"cite-{count[0]}"
            for citation in item["c"][0]:
                uses.setdefault(citation["citationId"], []).append(ident)
            new = {"t": "Span", "c": [[ident, ["cite-anchor"], []], [item]]}
        else:
            new = _anchored(item, uses, count) if isinstance(item, (list, dict)) else item
            if kind == "Table":
                label = stringify(item["c"][1][1]) or "Table"
                attributes = [["role", "region"], ["tabindex", "0"], ["aria-label", label]]
                new = {"t": "Div", "c": [["", ["table-wrap"], attributes], [new]]}
        if new is not item and out is None:
            out = list(node[:index])
        if out is not None:
            out.append(new)
    return out if out is not None else node


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


RENDERINGS = ("print", "web")


def html_parts_for(kept: Kept) -> dict[str, HtmlParts]:
    """Each rendering's HtmlParts, with what an earlier build kept (press.kept)."""
    return {kind: HtmlParts(kept[f"html-{kind}"]) for kind in RENDERINGS}


# The format whose figure renditions each rendering shows: the page's, and the PDF's (the print HTML).
RENDITION_FORMAT = {"web": "html", "print": "pdf"}


def rendering_ast(kind: str, ast: pandoc.Ast, media: Media | None = None) -> pandoc.Ast:
    """The document as the ``kind`` rendering shows it (see Shared), its figures ``media``'s renditions."""
    if media is not None:
        ast = media.retarget(ast, RENDITION_FORMAT[kind])
    if kind == "print":
        return footnotes_on_their_pages(ast)
    return add_backlinks_and_wrap_tables(ast) if kind == "web" else ast


FOOTNOTE_CLASS = "footnote"


def footnotes_on_their_pages(ast: pandoc.Ast) -> pandoc.Ast:
    """``ast`` with each footnote a span that the PDF floats to the foot of the page its call is on
    (print.css: ``float: footnote``, numbered there by WeasyPrint), as a journal prints them; a copy
    where it changes.

    pandoc's HTML writer gathers the notes at the end of the document, each with a "↩" back to its
    call, which means nothing on paper. A note of more than paragraphs (a list, a table, a quotation)
    stays such an endnote; the paragraphs of a note are kept apart by a line break."""

    def footnote(element: dict) -> dict | None:
        if element["t"] != "Note" or not all(block["t"] in ("Para", "Plain") for block in element["c"]):
            return None
        inlines: list[dict] = []
        for block in element["c"]:
            inlines += [{"t": "LineBreak"}] * bool(inlines) + block["c"]
        return {"t": "Span", "c": [["", [FOOTNOTE_CLASS], []], inlines]}

    blocks = replaced(ast["blocks"], footnote)
    return ast if blocks is ast["blocks"] else {**ast, "blocks": blocks}


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
        html_parts: dict[str, HtmlParts] | None = None,
        media: Media | None = None,
    ):
        self.document = document
        # The figures' renditions: kept in the build's output folder, else made in a scratch folder.
        self.media = media if media is not None else Media(document.manuscript.root)
        # Given by a build that started rendering before citeproc was done (html_parts_for).
        self._html_parts = html_parts or html_parts_for(kept if kept is not None else Kept())
        self._lock = threading.Lock()
        # Started now, in this order (the PDF is the longest job); any other is rendered on request.
        self._fragments: dict[str, Future] = {kind: pool.submit(self._render_fragments, kind) for kind in renderings}
        # A build may start the "How to cite" line before the parse (it needs only the metadata).
        self._cite: Future = how_to_cite or pool.submit(how_to_cite_html, document)

    def _render_fragments(self, kind: str) -> tuple[str, str]:
        base, _, floats = kind.partition("/")
        ast = rendering_ast(base, self.document.ast, self.media)
        if not floats:
            return split_fragments(self.media.finished(self._html_parts[kind].render(ast)))
        # The review layout's "print/end" (press.review): figures and tables after the references. Its
        # parts are the print rendering's, but for those that moved: kept in the same memo.
        from ..review import floats_at_end

        ast = floats_at_end(ast, captions_list=floats == "end+captions")
        return split_fragments(self.media.finished(HtmlParts(self._html_parts[base].kept).render(ast)))

    def fragments(self, kind: str) -> tuple[str, str]:
        """The abstract's and the body's HTML in the ``kind`` rendering: ``web`` or ``print`` (or a review
        layout's ``print/end``, ``print/end+captions``: press.review)."""
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

    def release(self) -> None:
        """Let go of the document and its renderings, once every writer is done with them."""
        self.document = None  # type: ignore[assignment]
        self._fragments.clear()
        self._html_parts.clear()

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
