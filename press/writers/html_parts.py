"""pandoc's HTML of a document, rendered part by part and kept, so that an edit re-renders one part."""

from __future__ import annotations

import json
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from .. import pandoc
from ..ast import elements
from ..citeproc import REFS_ID
from ..kept import Memo, entry_key

# --mathml: equations as MathML, which browsers show with no script (the PDF has them typeset already).
HTML_ARGS = ["--shift-heading-level-by=1", "--wrap=none", "--html-q-tags", "--mathml"]
PART_MARK = "<!--press-part-->"
CITE_MARK = "<!--press-cite:"  # then the citation's number in its part, and "-->"


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


# pandoc's HTML writer needs many times its JSON input in memory (README, "Measured"): pieces go to
# it in batches of about this much JSON (twice this manuscript), so a long document never needs one
# huge process.
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
