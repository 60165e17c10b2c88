"""Citations resolved as one collection, and kept between builds.

Every Cite of the document goes to citeproc together, as a small document of its own (one
paragraph per distinct Cite, in order of first use, then the reference list); the renderings are
put back where the Cites stand. For a style whose renderings do not depend on where a citation
stands (no ``position`` tests, no notes, no citation numbers: APA and the other author-date
styles), that is exactly what citeproc gives over the whole document, for a fraction of the input.
Manubot works the same way: citations are a data set collected, checked and resolved as one.

The renderings are kept for the next build (press.kept), keyed by everything they depend on (the
collection, the bibliography files, the CSL style, pandoc's version). An edit that leaves the
citations alone, which is most edits, then costs no citeproc run: that is what makes the preview
reload fast.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from . import pandoc
from .ast import elements
from .kept import Memo, entry_key
from .model import Manuscript

REFS_ID = "refs"  # the Div citeproc fills with the reference list


@dataclass
class Renderings:
    """citeproc's output for one collection of citations."""

    key: str
    cites: list[list]  # each Cite's content, [citations, inlines], in document order
    references: dict  # the reference list: citeproc's ``refs`` Div
    meta: dict


def resolve(
    ast: pandoc.Ast,
    manuscript: Manuscript,
    kept: Memo | None = None,
    meanwhile: Callable[[], None] | None = None,
) -> tuple[pandoc.Ast, Renderings | None]:
    """``ast`` with its citations and its reference list rendered; the renderings, when collected.

    ``ast`` ends with an empty ``refs`` Div where the reference list goes. Renderings ``kept`` by an
    earlier build are used when their key matches this document's collection exactly, else
    citeproc runs (and the new renderings are kept). Styles that number or place citations by
    their position, and documents that put a reference list somewhere else, are resolved whole
    (no renderings returned).

    ``meanwhile`` is called while citeproc runs, if it runs (not when kept renderings are used): work
    on ``ast`` as it came must be done by the time it returns.
    """
    meanwhile = meanwhile or (lambda: None)
    cites, refs_divs = [], []
    for element in elements(ast["blocks"]):
        if element["t"] == "Cite":
            cites.append(element)
        elif element["t"] == "Div" and element["c"][0][0] == REFS_ID:
            refs_divs.append(element)
    csl = manuscript.csl_path.read_bytes()
    if not _resolves_as_collection(csl.decode("utf-8", "replace"), ast["blocks"], refs_divs):
        return _resolve_whole(ast, manuscript, meanwhile), None
    # Each distinct citation once: a Cite renders the same wherever it stands, so a repeated one
    # (the same keys, prefixes, suffixes and mode) needs no rendering of its own. About half of
    # this manuscript's Cites repeat one before them.
    distinct: dict[str, int] = {}
    which = [distinct.setdefault(_citation_identity(cite), len(distinct)) for cite in cites]
    firsts = list({index: cite for index, cite in zip(which, cites, strict=True)}.values())
    collection = {
        "pandoc-api-version": ast["pandoc-api-version"],
        "meta": {},
        "blocks": [{"t": "Para", "c": [{"t": "Cite", "c": [cite["c"][0], []]}]} for cite in firsts]
        + [{"t": "Div", "c": [[REFS_ID, [], []], []]}],
    }
    key = collection_key(collection, manuscript, csl)
    renderings = _from_kept(kept.get(key), key) if kept is not None else None
    if renderings is None:
        renderings = _render(collection, key, manuscript, meanwhile)
        if renderings is not None and kept is not None:
            kept.put(key, vars(renderings).copy())  # not asdict(): nothing here needs its deep copy
    if renderings is None or len(renderings.cites) != len(firsts):
        return _resolve_whole(ast, manuscript), None  # citeproc's output had an unexpected shape
    for cite, index in zip(cites, which, strict=True):
        # Its own citations (their hashes and note numbers are its own), the rendering of its kind;
        # a copy, as the renderings may serve another build.
        cite["c"] = [cite["c"][0], json.loads(json.dumps(renderings.cites[index][1]))]
    blocks = ast["blocks"]
    blocks[-1] = json.loads(json.dumps(renderings.references))
    return {**ast, "meta": renderings.meta, "blocks": blocks}, renderings


def _citation_identity(cite: dict) -> str:
    """What a Cite's rendering depends on in a style that ignores position: all but hash and note number."""
    return json.dumps(
        [{k: v for k, v in c.items() if k not in ("citationHash", "citationNoteNum")} for c in cite["c"][0]],
        sort_keys=True,
        ensure_ascii=False,
    )


def _from_kept(entry: dict | None, key: str) -> Renderings | None:
    try:
        renderings = Renderings(**entry) if entry is not None else None
    except TypeError:  # kept by another version of this module
        return None
    return renderings if renderings is not None and renderings.key == key else None


def _resolves_as_collection(csl: str, blocks: list[dict], refs_divs: list[dict]) -> bool:
    position_marks = (
        'position="',
        "et-al-subsequent",
        'class="note"',
        "citation-number",
        "first-reference-note-number",
    )
    if any(mark in csl for mark in position_marks):
        return False
    return len(refs_divs) == 1 and blocks and blocks[-1] is refs_divs[0]


def _resolve_whole(ast: pandoc.Ast, manuscript: Manuscript, meanwhile: Callable[[], None] = lambda: None) -> pandoc.Ast:
    running = pandoc.start_citeproc(ast, manuscript.bib_paths, manuscript.csl_path)
    _while_running(running, meanwhile)
    return json.loads(running.result() or b"")


def _while_running(running: pandoc.Running, meanwhile: Callable[[], None]) -> None:
    try:
        meanwhile()
    except BaseException:
        running.cancel()
        raise


def _render(
    collection: pandoc.Ast, key: str, manuscript: Manuscript, meanwhile: Callable[[], None]
) -> Renderings | None:
    running = pandoc.start_citeproc(collection, manuscript.bib_paths, manuscript.csl_path)
    _while_running(running, meanwhile)
    resolved = json.loads(running.result() or b"")
    *paras, references = resolved["blocks"]
    shaped = all(p["t"] == "Para" and len(p["c"]) == 1 and p["c"][0]["t"] == "Cite" for p in paras)
    if not shaped or references["t"] != "Div" or references["c"][0][0] != REFS_ID:
        return None
    return Renderings(key, [p["c"][0]["c"] for p in paras], references, resolved["meta"])


def collection_key(collection: pandoc.Ast, manuscript: Manuscript, csl: bytes) -> str:
    """The key of everything citeproc's output depends on: the collection, options, style and .bib files."""
    return entry_key(
        json.dumps(collection, sort_keys=True, ensure_ascii=False),
        "\0".join(pandoc.citeproc_args(manuscript.bib_paths, manuscript.csl_path)),
        csl,
        *(path.read_bytes() for path in manuscript.bib_paths),
    )
