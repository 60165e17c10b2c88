"""What several writers need from one document, each computed once per build."""

from __future__ import annotations

import functools
import json
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from .. import pandoc
from ..ast import elements
from ..citeproc import REFS_ID
from ..context import build_context, how_to_cite_html, split_fragments
from ..document import Document, stringify
from ..kept import Kept, Memo, entry_key


def add_backlinks_and_wrap_tables(ast: pandoc.Ast) -> pandoc.Ast:
    """The document as the HTML fragments show it: a copy, with

    - each in-text citation in a ``cite-N`` anchor, and each reference entry linking back to every one;
    - each table in a scrollable, keyboard-focusable region, so a wide table never widens a phone's page.

    The copy is new only where it differs (the elements on the way to a citation or a table, and the
    reference list) and shares the rest with ``ast``: a whole copy cost the document's memory again
    (~100 MiB at 30 times this manuscript). One pass, several times faster than pandocfilters.walk,
    which matters to `serve`, where this runs on every save.
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


HTML_ARGS = ["--shift-heading-level-by=1", "--wrap=none", "--html-q-tags"]
PART_MARK = "<!--press-part-->"
CITE_MARK = "<!--press-cite:"  # then the citation's number in its part, and "-->"
RENDERINGS = ("print", "web")


class HtmlParts:
    """pandoc's HTML of a document, rendered part by part: only parts not seen before go to pandoc.

    The document is cut before each top-level heading. pandoc's HTML writer carries no state from
    one block to the next except footnotes (numbered, and gathered at the end), so the HTML of the
    whole is the HTML of its parts joined by newlines (tested on every fixture); a document with
    footnotes is rendered whole. Parts not ``kept`` by an earlier build go to one pandoc run,
    separated by a marker; an edit to one section re-renders one part (about a tenth of the whole).

    Within a part, each citation stands as a marker, and each distinct citation's HTML is rendered
    once on its own and put in its markers' places: a Cite's HTML is the same wherever it stands
    (tested). So the parts need not wait for citeproc: ``prerender`` renders them from the document
    before its citations are resolved, while citeproc runs, and ``render`` then finds them kept and
    renders only the citations and the reference list. A part with a citation inside an image's
    description (pandoc writes that as plain text in the alt attribute) keeps its citations.
    """

    def __init__(self, kept: Memo | None = None):
        self.kept = kept if kept is not None else Memo()  # part or citation key -> its HTML
        self._early: Future | None = None

    def prerender(self, pool: ThreadPoolExecutor, unresolved: pandoc.Ast) -> None:
        """Start rendering the parts of the document before its citations are resolved, beside citeproc.

        The parts are marked and serialized here, in the calling thread: citeproc may then fill in
        ``unresolved`` while the pool renders.
        """
        parts = _marked_parts(unresolved["blocks"])
        if parts is None:
            return
        # The reference list is filled by citeproc: its part is rendered when it is.
        early = [(part.key, part.json) for part in parts if not part.refs]
        self._early = pool.submit(self._render_ahead, unresolved["pandoc-api-version"], early)

    def _render_ahead(self, api_version: list[int], parts: list[tuple[str, str]]) -> None:
        missing = {key: text for key, text in parts if self.kept.get(key) is None}
        for key, html in zip(missing, _render_pieces(api_version, list(missing.values())) or [], strict=True):
            self.kept.offer(key, html)

    def render(self, ast: pandoc.Ast) -> str:
        if self._early is not None:
            try:
                self._early.result()
            except Exception:  # noqa: BLE001 - only work done ahead: what it did not do is done now
                pass
            self._early = None
        parts = _marked_parts(ast["blocks"])
        if parts is None:
            return self._whole(ast)
        cites = {key: cite for part in parts for key, cite in zip(part.cite_keys, part.cites, strict=True)}
        known = {key: html for key in [*(p.key for p in parts), *cites] if (html := self.kept.get(key)) is not None}
        missing = {part.key: part.json for part in parts if part.key not in known}
        # Each citation alone in a paragraph: its HTML is that paragraph's content.
        missing.update(
            {key: json.dumps([{"t": "Para", "c": [cite]}]) for key, cite in cites.items() if key not in known}
        )
        if missing:
            pieces = _render_pieces(ast["pandoc-api-version"], list(missing.values()))
            if pieces is None:
                return self._whole(ast)
            for key, html in zip(missing, pieces, strict=True):
                if key in cites:
                    if not (html.startswith("<p>") and html.endswith("</p>")):
                        return self._whole(ast)
                    html = html[3:-4]
                known[key] = html
                self.kept.put(key, html)
        htmls = []
        for part in parts:
            html = _put_citations(known[part.key], [known[key] for key in part.cite_keys])
            if html is None:  # a marker lost or repeated by the writer: no clean splice
                return self._whole(ast)
            htmls.append(html)
        return "\n".join(htmls) + "\n"

    @staticmethod
    def _whole(ast: pandoc.Ast) -> str:
        return pandoc.ast_to(ast, "html5", HTML_ARGS).decode("utf-8")


# pandoc's HTML writer takes about 35 times its JSON input in memory: pieces go to it in batches of
# about this much JSON (twice this manuscript), so a long document never needs one huge process.
BATCH_CHARS = 2_000_000


def _render_pieces(api_version: list[int], pieces: list[str]) -> list[str] | None:
    """The HTML of each piece (a JSON list of blocks); None if it cannot be cut cleanly.

    One pandoc run per batch of pieces, separated by a marker.
    """
    if "[]" in pieces:
        return None  # a piece with no blocks: no clean cut
    batches: list[list[str]] = []
    size = BATCH_CHARS
    for piece in pieces:
        if size + len(piece) > BATCH_CHARS:
            batches.append([])
            size = 0
        batches[-1].append(piece)
        size += len(piece)
    mark = json.dumps({"t": "RawBlock", "c": ["html", PART_MARK]})
    htmls: list[str] = []
    for batch in batches:
        blocks = f",{mark},".join(piece[1:-1] for piece in batch)
        document = f'{{"pandoc-api-version": {json.dumps(api_version)}, "meta": {{}}, "blocks": [{blocks}]}}'
        html = pandoc.json_to(document.encode("utf-8"), "html5", HTML_ARGS).decode("utf-8")
        split = html.removesuffix("\n").split(f"\n{PART_MARK}\n")
        if len(split) != len(batch):
            return None  # a piece that renders to nothing: no clean cut
        htmls += split
    return htmls


@dataclass
class _Part:
    key: str
    json: str  # its blocks, each citation replaced by a marker, serialized
    cites: list[dict]  # the citations, in the markers' order
    cite_keys: list[str]
    refs: bool  # it holds the reference list


def _marked_parts(blocks: list[dict]) -> list[_Part] | None:
    """The document's parts, marked and serialized; None: render it whole.

    A document is rendered whole when it has footnotes, or when raw HTML in it holds one of the
    markers (it could not be cut or spliced cleanly).
    """
    parts = []
    for blocks_of_part in _cut_before_headings(blocks):
        try:
            marked, cites = _marked(blocks_of_part)
        except _Whole:
            return None
        text = json.dumps(marked, sort_keys=True)
        parts.append(
            _Part(
                entry_key(" ".join(HTML_ARGS), text),
                text,
                cites,
                [_cite_key(cite) for cite in cites],
                any(block["t"] == "Div" and block["c"][0][0] == REFS_ID for block in blocks_of_part),
            )
        )
    return parts


def _cut_before_headings(blocks: list[dict]) -> list[list[dict]]:
    parts: list[list[dict]] = [[]]
    for block in blocks:
        if block["t"] == "Header" and block["c"][0] == 1 and parts[-1]:
            parts.append([])
        parts[-1].append(block)
    return parts


# Elements that hold no other element: nothing to mark inside them.
LEAVES = frozenset({"Str", "Space", "SoftBreak", "LineBreak", "Code", "Math", "CodeBlock", "HorizontalRule"})


def _marked(part: list[dict]) -> tuple[Any, list[dict]]:
    """The part with each citation replaced by a numbered marker, and its citations in that order.

    What is returned shares the part's unchanged elements: serialize it before the part changes.
    A part with a citation in an image's description is returned as it is, with no citations.
    """
    cites: list[dict] = []

    def mark(node: Any, in_image: bool) -> Any:
        if type(node) is list:
            return [mark(item, in_image) if type(item) in (list, dict) else item for item in node]
        kind = node.get("t")
        if kind in LEAVES:
            return node
        if kind == "Cite":
            if in_image:
                raise _Unmarkable
            cites.append(node)
            return {"t": "RawInline", "c": ["html", f"{CITE_MARK}{len(cites) - 1}-->"]}
        if _stops_cutting(node):
            raise _Whole
        in_image = in_image or kind == "Image"
        return {key: mark(value, in_image) if type(value) in (list, dict) else value for key, value in node.items()}

    try:
        return mark(part, False), cites
    except _Unmarkable:  # the walk stopped there: the rest of the part is yet to be looked at
        if any(_stops_cutting(element) for element in elements(part)):
            raise _Whole from None
        return part, []


def _stops_cutting(element: dict) -> bool:
    """A footnote (numbered across the document), or raw HTML holding one of the markers."""
    kind = element.get("t")
    if kind == "Note":
        return True
    return kind in ("RawInline", "RawBlock") and (PART_MARK in element["c"][1] or CITE_MARK in element["c"][1])


class _Unmarkable(Exception):
    """A citation where its marker would not stand for it."""


class _Whole(Exception):
    """Something that stops the document being cut into parts."""


def _cite_key(cite: dict) -> str:
    # What pandoc writes of a Cite: its keys (data-cites) and its rendered content.
    ids = [citation["citationId"] for citation in cite["c"][0]]
    return entry_key(" ".join(HTML_ARGS), "cite", json.dumps([ids, cite["c"][1]], sort_keys=True))


def _put_citations(html: str, cites: list[str]) -> str | None:
    """``html`` with each citation's marker replaced by its HTML; None unless each marker is there once.

    pandoc may write a part's pieces in another order than they stand in the AST (a figure's caption
    after its image): each marker's number says which citation it is.
    """
    pieces = html.split(CITE_MARK)
    out, seen = [pieces[0]], set()
    for piece in pieces[1:]:
        number, closed, rest = piece.partition("-->")
        if not (closed and number.isdigit() and int(number) < len(cites)) or number in seen:
            return None
        seen.add(number)
        out += [cites[int(number)], rest]
    return "".join(out) if len(seen) == len(cites) else None


def html_parts_for(kept: Kept) -> dict[str, HtmlParts]:
    """Each rendering's HtmlParts, with what an earlier build kept (press.kept)."""
    return {kind: HtmlParts(kept[f"html-{kind}"]) for kind in RENDERINGS}


def rendering_ast(kind: str, ast: pandoc.Ast) -> pandoc.Ast:
    """The document as the ``kind`` rendering shows it (see Shared)."""
    return add_backlinks_and_wrap_tables(ast) if kind == "web" else ast


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
    ):
        self.document = document
        # Given by a build that started rendering before citeproc was done (html_parts_for).
        self._html_parts = html_parts or html_parts_for(kept if kept is not None else Kept())
        self._lock = threading.Lock()
        # Started now, in this order (the PDF is the longest job); any other is rendered on request.
        self._fragments: dict[str, Future] = {kind: pool.submit(self._render_fragments, kind) for kind in renderings}
        # A build may start the "How to cite" line before the parse (it needs only the metadata).
        self._cite: Future = how_to_cite or pool.submit(how_to_cite_html, document)

    def _render_fragments(self, kind: str) -> tuple[str, str]:
        return split_fragments(self._html_parts[kind].render(rendering_ast(kind, self.document.ast)))

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
