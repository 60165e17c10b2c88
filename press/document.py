"""Turn the loaded Manuscript into one resolved pandoc AST: parse once, resolve citations once."""

from __future__ import annotations

import datetime as dt
import difflib
import re
from dataclasses import dataclass, field
from typing import Any

from pandocfilters import walk

from . import pandoc
from .load import environment_epoch
from .model import CitationUse, Diagnostic, Manuscript, PressError, Section, error

FILE_MARK = "press-file:"
ABSTRACT_END = "<!--press:abstract-end-->"
CROSSREF_PREFIXES = ("tbl:", "fig:", "sec:")
CROSSREF_NAMES = {"tbl:": "Table", "fig:": "Figure"}


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
    parts = []
    for index, section in enumerate(_sections(manuscript)):
        parts.append(f"\n\n<!--{FILE_MARK}{index}-->\n\n")
        parts.append(section.text)
    return "".join(parts) + "\n"


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
    found: list[str] = []

    def collect(key: str, value: Any, _format: str, _meta: Any) -> None:
        if key == "Cite":
            found.extend(c["citationId"] for c in value[0])

    walk(blocks, collect, "", {})
    return found


def locate(text: str, keys: list[str], display: str) -> list[CitationUse]:
    """Find where each parsed key stands in the source, in order, for line:column messages."""
    uses = []
    cursor = 0
    for key in keys:
        pattern = re.compile(r"@\{?" + re.escape(key) + r"(?![\w:.#$%&+?<>~/-]*\w)")
        match = pattern.search(text, cursor) or pattern.search(text)
        if match is None:
            uses.append(CitationUse(key, display, None, None))
            continue
        cursor = match.end()
        line = text.count("\n", 0, match.start()) + 1
        column = match.start() - (text.rfind("\n", 0, match.start()) + 1) + 1
        uses.append(CitationUse(key, display, line, column))
    return uses


def stringify(inlines: Any) -> str:
    parts: list[str] = []

    def go(key: str, value: Any, _f: str, _m: Any) -> None:
        if key == "Str":
            parts.append(value)
        elif key in ("Space", "SoftBreak", "LineBreak", "Para", "Plain", "Header"):
            parts.append(" ")
        elif key == "Code":
            parts.append(value[1])

    walk(inlines, go, "", {})
    return "".join(parts).strip()


def number_targets(blocks: list[dict]) -> tuple[dict[str, int], dict[str, int], dict[str, str]]:
    """Number tables and figures in order and prefix their captions; collect section titles."""
    tables: dict[str, int] = {}
    figures: dict[str, int] = {}
    sections: dict[str, str] = {}

    def visit(key: str, value: Any, _f: str, _m: Any) -> None:
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

    walk(blocks, visit, "", {})
    return tables, figures, sections


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
    blocks: list[dict], tables: dict[str, int], figures: dict[str, int], sections: dict[str, str]
) -> list[dict]:
    def link(ident: str) -> list[dict]:
        if ident in tables:
            text = f"Table {tables[ident]}"
        elif ident in figures:
            text = f"Figure {figures[ident]}"
        else:
            text = sections.get(ident, ident)
        words = text.split(" ")
        inlines: list[dict] = []
        for i, word in enumerate(words):
            if i:
                inlines.append({"t": "Space"})
            inlines.append({"t": "Str", "c": word})
        return [{"t": "Link", "c": [["", ["crossref"], []], inlines, ["#" + ident, ""]]}]

    def visit(key: str, value: Any, _f: str, _m: Any) -> Any:
        if key != "Cite":
            return None
        refs = [c for c in value[0] if c["citationId"].startswith(CROSSREF_PREFIXES)]
        if not refs:
            return None
        out: list[dict] = []
        for n, citation in enumerate(refs):
            if n:
                out += [{"t": "Str", "c": ","}, {"t": "Space"}]
            out += link(citation["citationId"])
        # "@sec:x [@key]" parses as one Cite: the cross-reference becomes a link, the rest stays a citation.
        rest = [c for c in value[0] if not c["citationId"].startswith(CROSSREF_PREFIXES)]
        if rest:
            out += [{"t": "Space"}, {"t": "Cite", "c": [rest, []]}]
        return {"t": "Span", "c": [["", [], []], out]}

    return walk(blocks, visit, "", {})


def closest(key: str, candidates: list[str]) -> str | None:
    matches = difflib.get_close_matches(key, candidates, n=3, cutoff=0.6)
    if not matches:
        return None
    return "did you mean " + " or ".join(f"'{m}'" for m in matches) + "?"


@dataclass
class Parsed:
    groups: list[list[dict]]  # blocks of each section file, abstract first when there is one
    citations: list[CitationUse]
    crossrefs: list[CitationUse]
    api_version: list[int]


def parse(manuscript: Manuscript) -> Parsed:
    """One pandoc pass over every section; citations and cross-references located in their files."""
    sections = _sections(manuscript)
    try:
        ast = pandoc.markdown_to_ast(source_text(manuscript))
    except pandoc.PandocError as exc:
        raise PressError(
            [error(manuscript.metadata.path.name, None, "pandoc", f"pandoc could not parse the sections: {exc}")]
        ) from None
    groups = split_by_file(ast, len(sections))
    citations: list[CitationUse] = []
    crossrefs: list[CitationUse] = []
    for section, blocks in zip(sections, groups, strict=True):
        for use in locate(section.text, cite_ids(blocks), section.display):
            (crossrefs if use.key.startswith(CROSSREF_PREFIXES) else citations).append(use)
    return Parsed(groups, citations, crossrefs, ast["pandoc-api-version"])


def citation_diagnostics(
    manuscript: Manuscript, citations: list[CitationUse], crossrefs: list[CitationUse], targets: set[str]
) -> list[Diagnostic]:
    known = sorted(manuscript.bibliography)
    found = []
    for use in citations:
        if use.key not in manuscript.bibliography:
            found.append(
                error(
                    use.file,
                    use.line,
                    "unresolved-citation",
                    f"unresolved citation '{use.key}'",
                    closest(use.key, known) or "add an entry with this key to a .bib file in bib/",
                    column=use.column,
                )
            )
    for use in crossrefs:
        if use.key not in targets:
            found.append(
                error(
                    use.file,
                    use.line,
                    "unresolved-crossref",
                    f"unresolved cross-reference '{use.key}'",
                    closest(use.key, sorted(targets)) or "give the table, figure or heading this id",
                    column=use.column,
                )
            )
    return found


def build_document(manuscript: Manuscript) -> Document:
    """Parse, check citations and cross-references, and resolve citations with citeproc, once."""
    parsed = parse(manuscript)
    groups, citations, crossrefs = parsed.groups, parsed.citations, parsed.crossrefs
    abstract_blocks = groups[0] if manuscript.abstract else []
    body = [block for group in groups[1 if manuscript.abstract else 0 :] for block in group]
    tables, figures, sections = number_targets(body)
    problems = citation_diagnostics(manuscript, citations, crossrefs, set(tables) | set(figures) | set(sections))
    if problems:
        raise PressError(problems)
    body = replace_crossrefs(body, tables, figures, sections)
    references = [
        {"t": "Header", "c": [1, ["references", ["unnumbered"], []], [{"t": "Str", "c": "References"}]]},
        {"t": "Div", "c": [["refs", [], []], []]},
    ]
    ast = {
        "pandoc-api-version": parsed.api_version,
        "meta": {},
        "blocks": [
            {"t": "Div", "c": [["abstract", [], []], abstract_blocks]},
            {"t": "RawBlock", "c": ["html", ABSTRACT_END]},
            *body,
            *references,
        ],
    }
    try:
        resolved = pandoc.resolve_citations(ast, manuscript.bib_paths, manuscript.csl_path)
    except pandoc.PandocError as exc:
        raise PressError(
            [
                error(
                    str(manuscript.bib_paths[0]) if manuscript.bib_paths else "bib/",
                    None,
                    "citeproc",
                    f"citation processing failed: {exc}",
                )
            ]
        ) from None
    return Document(manuscript, resolved, citations, crossrefs, tables, figures, article_date(manuscript))
