"""Turn the loaded Manuscript into one resolved pandoc AST: parse once, resolve citations once."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import citeproc, equations, latex_text, pandoc, siunitx
from .ast import elements, text_inlines
from .checks.citations import citation_diagnostics
from .equations import CROSSREF_PREFIXES, is_equation, reference_style
from .kept import Kept
from .load import display_path
from .model import (
    FILE_MARK,
    CitationUse,
    LineIndex,
    Manuscript,
    Parsed,
    PressError,
    Section,
    environment_epoch,
    error,
    join_sections,
)

ABSTRACT_END = "<!--press:abstract-end-->"
REFERENCE_HEADINGS = {"references", "bibliography", "literature cited", "works cited", "reference list", "literature"}


@dataclass
class Document:
    """The resolved article every writer starts from."""

    manuscript: Manuscript
    ast: pandoc.Ast  # after citeproc: abstract div, ABSTRACT_END marker, body, reference list
    citations: list[CitationUse]
    crossrefs: list[CitationUse]
    tables: dict[str, int] = field(default_factory=dict)
    figures: dict[str, int] = field(default_factory=dict)
    date: str = ""
    equations: dict[str, int] = field(default_factory=dict)  # id -> number of each numbered display equation

    @property
    def metadata(self):
        return self.manuscript.metadata


def article_date(manuscript: Manuscript) -> str:
    """The article's date: metadata, else SOURCE_DATE_EPOCH, else 1 January of the copyright year."""
    if manuscript.metadata.date:
        return manuscript.metadata.date
    epoch = environment_epoch()
    if epoch is not None:
        return dt.datetime.fromtimestamp(epoch, dt.UTC).date().isoformat()
    return f"{manuscript.metadata.copyright_year}-01-01"


def source_text(manuscript: Manuscript) -> str:
    """All sections in order, each after a marker so the parsed blocks can be traced to their file."""
    return join_sections([section.text for section in _sections(manuscript)])


def _sections(manuscript: Manuscript) -> list[Section]:
    return ([manuscript.abstract] if manuscript.abstract else []) + manuscript.sections


def split_by_file(ast: pandoc.Ast, count: int) -> list[list[dict]]:
    groups: list[list[dict]] = [[] for _ in range(count)]
    current = 0
    for block in ast["blocks"]:
        if block["t"] == "RawBlock" and block["c"][1].startswith(f"<!--{FILE_MARK}"):
            current = int(block["c"][1][len(FILE_MARK) + 4 : -3])
            continue
        groups[current].append(block)
    return groups


def cite_ids(blocks: list[dict]) -> list[str]:
    """Citation keys in document order, as pandoc parsed them (never from a regex over the text)."""
    return [c["citationId"] for el in elements(blocks) if el["t"] == "Cite" for c in el["c"][0]]


def locate(text: str, keys: list[str], display: str) -> list[CitationUse]:
    """Find where each parsed key stands in the source, in order, for line:column messages."""
    uses = []
    cursor = 0
    index = LineIndex(text) if keys else None
    for key in keys:
        # @key, @{key}, or a LaTeX reference to a cross-reference target (press.equations).
        pattern = re.compile(
            r"(?:@\{?|\\(?:ref|eqref|autoref|cref|Cref)\{|\\[a-z]*cite[a-z]*\*?(?:\[[^\]]*\])*\{(?:[^{}]*,\s*)?)"
            + re.escape(key)
            + r"(?![\w:.#$%&+?<>~/-]*\w)"
        )
        match = pattern.search(text, cursor) or pattern.search(text)
        if match is None:
            uses.append(CitationUse(key, display, None, None))
            continue
        cursor = match.end()
        line, column = index.position(match.start())
        uses.append(CitationUse(key, display, line, column))
    return uses


def stringify(inlines: Any) -> str:
    parts: list[str] = []
    for element in elements(inlines):
        kind = element["t"]
        if kind == "Str":
            parts.append(element["c"])
        elif kind in ("Space", "SoftBreak", "LineBreak", "Para", "Plain", "Header"):
            parts.append(" ")
        elif kind == "Code":
            parts.append(element["c"][1])
    return "".join(parts).strip()


def number_targets(blocks: list[dict]) -> tuple[dict[str, int], dict[str, int], dict[str, str]]:
    """Number tables and figures in order and prefix their captions; collect section titles."""
    tables: dict[str, int] = {}
    figures: dict[str, int] = {}
    sections: dict[str, str] = {}

    for element in elements(blocks):
        key, value = element["t"], element.get("c")
        if key == "Table":
            ident = value[0][0]
            number = len(tables) + 1
            if ident:
                tables[ident] = number
            else:
                tables[f"press-table-{number}"] = number
            _prefix_caption(value[1], f"Table {number}.")
        elif key == "Figure":
            ident = value[0][0]
            number = len(figures) + 1
            figures[ident or f"press-figure-{number}"] = number
            _prefix_caption(value[1], f"Figure {number}.")
        elif key == "Header" and value[1][0]:
            sections[value[1][0]] = stringify(value[2])
    return tables, figures, sections


def number_equations(blocks: list[dict]) -> dict[str, int]:
    """Number the display equations in their Spans (press.equations) in order, the number after each."""
    numbered: dict[str, int] = {}
    count = 0
    for element in elements(blocks):
        if is_equation(element):
            count += 1
            numbered[element["c"][0][0] or f"press-equation-{count}"] = count
            number = {"t": "Span", "c": [["", ["equation-number"], []], [{"t": "Str", "c": f"({count})"}]]}
            element["c"][1] += [{"t": "Space"}, number]  # a space: Word sets the two in one paragraph
    return numbered


def _prefix_caption(caption: list, label: str) -> None:
    blocks = caption[1]
    strong = {
        "t": "Strong",
        "c": [{"t": "Str", "c": label.split()[0]}, {"t": "Space"}, {"t": "Str", "c": label.split()[1]}],
    }
    if blocks and blocks[0]["t"] in ("Plain", "Para"):
        blocks[0]["c"][:0] = [strong, {"t": "Space"}]
    else:
        blocks.insert(0, {"t": "Plain", "c": [strong]})


def replace_crossrefs(
    blocks: list[dict],
    tables: dict[str, int],
    figures: dict[str, int],
    sections: dict[str, str],
    equations: dict[str, int] | None = None,
) -> list[dict]:
    equations = equations or {}

    def link(ident: str, style: str) -> list[dict]:
        numbered = {**tables, **figures, **equations}
        if ident in numbered:
            number = numbered[ident]
            name = "Table" if ident in tables else "Figure" if ident in figures else "Equation"
            text = {"number": str(number), "parenthesised": f"({number})"}.get(style, f"{name} {number}")
        else:
            text = sections.get(ident, ident)
        words = text.split(" ")
        inlines: list[dict] = []
        for i, word in enumerate(words):
            if i:
                inlines.append({"t": "Space"})
            inlines.append({"t": "Str", "c": word})
        return [{"t": "Link", "c": [["", ["crossref"], []], inlines, ["#" + ident, ""]]}]

    for element in elements(blocks):
        if element["t"] != "Cite":
            continue
        value = element["c"]
        refs = [c for c in value[0] if c["citationId"].startswith(CROSSREF_PREFIXES)]
        if not refs:
            continue
        out: list[dict] = []
        for n, citation in enumerate(refs):
            if n:
                out += [{"t": "Str", "c": ","}, {"t": "Space"}]
            out += link(citation["citationId"], reference_style(element))
        # "@sec:x [@key]" parses as one Cite: the cross-reference becomes a link, the rest stays a citation.
        rest = [c for c in value[0] if not c["citationId"].startswith(CROSSREF_PREFIXES)]
        if rest:
            out += [{"t": "Space"}, {"t": "Cite", "c": [rest, []]}]
        element["t"], element["c"] = "Span", [["", [], []], out]  # in place: the walk goes on inside
    return blocks


def parse(manuscript: Manuscript, prefetched: pandoc.Prefetch | None = None) -> Parsed:
    """One pandoc pass over every section; citations and cross-references located in their files.

    ``prefetched``: the same pandoc run started before loading (press.build), used when its input
    turned out the same.
    """
    sections = _sections(manuscript)
    try:
        ast = pandoc.markdown_to_ast(source_text(manuscript), prefetched)
    except pandoc.PandocError as exc:
        raise PressError(
            [error(manuscript.metadata.path.name, None, "pandoc", f"pandoc could not parse the sections: {exc}")]
        ) from None
    groups = split_by_file(ast, len(sections))
    found = [equations.normalise(group) for group in groups]
    latex = [element for _, _, elements_with_latex in found for element in elements_with_latex]
    raw_blocks = [element for element in latex if element["t"] == "RawBlock"]
    if raw_blocks:  # a figure or table environment, a list: read first, then as the parse is (press.equations)
        sources = [siunitx.rewritten(element["c"][1].strip()) for element in raw_blocks]
        put = latex_text.as_blocks(raw_blocks, sources)
        if put:
            found.append(equations.normalise(put))
            latex += found[-1][2]
            for group in groups:
                latex_text.spliced(group)
    raws = [element for element in latex if element["t"] == "RawInline"]
    units = [element["c"][1] for element in latex if element["t"] == "Math"]
    if latex:  # one pandoc run reads them, the text's raw TeX and the math's siunitx (press.latex_text)
        sources = [siunitx.rewritten(element["c"][1].strip()) for element in raws]
        latex_text.read(sources + siunitx.sources_in(units))
        latex_text.in_text(raws, sources)
    citations: list[CitationUse] = []
    crossrefs: list[CitationUse] = []
    for section, section_blocks in zip(sections, groups, strict=True):
        for use in locate(section.text, cite_ids(section_blocks), section.display):
            (crossrefs if use.key.startswith(CROSSREF_PREFIXES) else citations).append(use)
    has_images, has_math = any(images for images, _, _ in found), any(math for _, math, _ in found)
    has_units = bool(units)
    return Parsed(groups, citations, crossrefs, ast["pandoc-api-version"], has_images, has_math, has_units)


def _citeproc_error(manuscript: Manuscript, exc: Exception) -> PressError:
    """pandoc's own BibTeX reader can refuse what pybtex accepted: point at its file, line and column."""
    message = str(exc)
    where = re.search(r"Error reading bibliography file (.+?):\s*\(line (\d+), column (\d+)\)", message, re.S)
    path = Path(where.group(1).strip()) if where else (manuscript.bib_paths[0] if manuscript.bib_paths else None)
    line, column = (int(where.group(2)), int(where.group(3))) if where else (None, None)
    reason = " ".join(message.split("\n")[-1].split()) if where else " ".join(message.split())
    return PressError(
        [
            error(
                display_path(path) if path else "bib/",
                line,
                "citeproc",
                f"pandoc could not read this bibliography: {reason}",
                "check the braces and special characters of this entry",
                column=column,
            )
        ]
    )


def unresolved_article(
    manuscript: Manuscript, parsed: Parsed
) -> tuple[pandoc.Ast, dict[str, int], dict[str, int], dict[str, int]]:
    """The article as one AST before citeproc, with its numbered tables, figures and equations.

    Abstract (in its div, then ABSTRACT_END), body with the cross-references replaced by links, and
    the References heading over an empty ``refs`` Div. Raises PressError for citation problems.
    """
    groups, citations, crossrefs = parsed.groups, parsed.citations, parsed.crossrefs
    abstract_blocks = groups[0] if manuscript.abstract else []
    body = [block for group in groups[1 if manuscript.abstract else 0 :] for block in group]
    tables, figures, sections = number_targets(body)
    numbered = number_equations(body)
    targets = set(tables) | set(figures) | set(sections) | set(numbered)
    problems = citation_diagnostics(manuscript, citations, crossrefs, targets)
    if problems:
        raise PressError(problems)
    body = replace_crossrefs(body, tables, figures, sections, numbered)
    heading = text_inlines(manuscript.metadata.journal.references_heading)  # the journal profile's
    if body and body[-1]["t"] == "Header" and stringify(body[-1]["c"][2]).strip().lower() in REFERENCE_HEADINGS:
        heading = body.pop()["c"][2]  # the paper's own heading over where pandoc puts the list (JOSS's papers)
    ast = {
        "pandoc-api-version": parsed.api_version,
        "meta": {},
        "blocks": [
            {"t": "Div", "c": [["abstract", [], []], abstract_blocks]},
            {"t": "RawBlock", "c": ["html", ABSTRACT_END]},
            *body,
            {"t": "Header", "c": [1, ["references", ["unnumbered"], []], heading]},
            {"t": "Div", "c": [[citeproc.REFS_ID, [], []], []]},
        ],
    }
    return ast, tables, figures, numbered


def build_document(
    manuscript: Manuscript,
    parsed: Parsed | None = None,
    kept: Kept | None = None,
    unresolved: Callable[[pandoc.Ast], None] | None = None,
) -> Document:
    """Parse (unless given the parse), check citations and cross-references, and resolve citations once.

    ``kept``: what an earlier build kept (press.kept); citeproc's renderings there are used when
    this document's citations are the same. ``unresolved`` is called with the article as it is
    before citeproc fills in its citations, while citeproc runs (if it runs): work that needs no
    citations starts there (it must be done with the article when it returns).
    """
    parsed = parsed if parsed is not None else parse(manuscript)
    ast, tables, figures, numbered = unresolved_article(manuscript, parsed)
    meanwhile = (lambda: unresolved(ast)) if unresolved is not None else None
    try:
        resolved, _ = citeproc.resolve(ast, manuscript, kept["citations"] if kept is not None else None, meanwhile)
    except pandoc.PandocError as exc:
        raise _citeproc_error(manuscript, exc) from None
    date = article_date(manuscript)
    return Document(manuscript, resolved, parsed.citations, parsed.crossrefs, tables, figures, date, numbered)
