"""Turn the loaded Manuscript into one resolved pandoc AST: parse once, resolve citations once."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import pandoc
from .ast import elements
from .checks.citations import citation_diagnostics
from .load import display_path, environment_epoch
from .model import CitationUse, LineIndex, Manuscript, PressError, Section, error

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
    return join_sections([section.text for section in _sections(manuscript)])


def join_sections(texts: list[str]) -> str:
    parts = []
    for index, text in enumerate(texts):
        parts.append(f"\n\n<!--{FILE_MARK}{index}-->\n\n")
        parts.append(text)
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
    return [c["citationId"] for el in elements(blocks) if el["t"] == "Cite" for c in el["c"][0]]


def locate(text: str, keys: list[str], display: str) -> list[CitationUse]:
    """Find where each parsed key stands in the source, in order, for line:column messages."""
    uses = []
    cursor = 0
    index = LineIndex(text) if keys else None
    for key in keys:
        pattern = re.compile(r"@\{?" + re.escape(key) + r"(?![\w:.#$%&+?<>~/-]*\w)")
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
            out += link(citation["citationId"])
        # "@sec:x [@key]" parses as one Cite: the cross-reference becomes a link, the rest stays a citation.
        rest = [c for c in value[0] if not c["citationId"].startswith(CROSSREF_PREFIXES)]
        if rest:
            out += [{"t": "Space"}, {"t": "Cite", "c": [rest, []]}]
        element["t"], element["c"] = "Span", [["", [], []], out]  # in place: the walk goes on inside
    return blocks


@dataclass
class Parsed:
    groups: list[list[dict]]  # blocks of each section file, abstract first when there is one
    citations: list[CitationUse]
    crossrefs: list[CitationUse]
    api_version: list[int]
    # Set only by parse(resolve=True), when citeproc's work in that same pass can be used as is:
    resolved_meta: dict | None = None
    references: list[dict] = field(default_factory=list)  # citeproc's reference list (the refs Div)
    split_keys: list[list[list[dict]]] = field(default_factory=list)  # per group: see SPLIT_MIXED_CITES


def parse(manuscript: Manuscript, resolve: bool = False, prefetched: pandoc.Prefetch | None = None) -> Parsed:
    """One pandoc pass over every section; citations and cross-references located in their files.

    With ``resolve`` the same pandoc pass also runs citeproc, so a build runs pandoc's reader and
    citeproc in one process. ``resolved_meta`` is then set when that result equals resolving after
    the cross-references are replaced; when it is None, build_document runs citeproc itself.
    Citeproc only fills the Cite elements, so checks read either parse alike. ``prefetched``: the
    same pandoc run started before loading (press.build), used when its input turned out the same.
    """
    sections = _sections(manuscript)
    try:
        if resolve:
            ast = pandoc.markdown_to_resolved_ast(
                source_text(manuscript), manuscript.bib_paths, manuscript.csl_path, SPLIT_MIXED_CITES, prefetched
            )
        else:
            ast = pandoc.markdown_to_ast(source_text(manuscript))
    except pandoc.PandocError as exc:
        if resolve:
            raise _citeproc_error(manuscript, exc) from None
        raise PressError(
            [error(manuscript.metadata.path.name, None, "pandoc", f"pandoc could not parse the sections: {exc}")]
        ) from None
    blocks = ast["blocks"]
    references = [blocks.pop()] if resolve and blocks and _is_reference_list(blocks[-1]) else []
    groups = split_by_file(ast, len(sections))
    split_keys: list[list[list[dict]]] = [[] for _ in groups]
    if resolve and ast["meta"].pop(SPLIT_COUNT, None) is not None:
        for group, keys in zip(groups, split_keys, strict=True):
            _unsplit_mixed_cites(group, keys)
    citations: list[CitationUse] = []
    crossrefs: list[CitationUse] = []
    for section, section_blocks in zip(sections, groups, strict=True):
        for use in locate(section.text, cite_ids(section_blocks), section.display):
            (crossrefs if use.key.startswith(CROSSREF_PREFIXES) else citations).append(use)
    parsed = Parsed(groups, citations, crossrefs, ast["pandoc-api-version"], references=references)
    parsed.split_keys = split_keys
    if resolve:
        if not _one_pass_is_exact(manuscript, ast, references):
            return parse(manuscript)  # rare: citeproc runs after the cross-references are replaced
        parsed.resolved_meta = ast["meta"]
    return parsed


RESOLVE_META = {"bibliography", "csl", "link-citations", "link-bibliography", "suppress-bibliography"}
SPLIT_CLASS = "press-split-cite"
SPLIT_COUNT = "press-split-cites"  # set in the metadata when the filter split anything: else no walk

# Runs before citeproc in the one pass. "@sec:x [@key]" is one Cite mixing a cross-reference with a
# citation key; replace_crossrefs turns it into the link followed by a Cite of the keys alone, which
# citeproc must render on its own. So the keys get a Cite of their own here, kept beside the original.
SPLIT_MIXED_CITES = f"""
local prefixes = {{{", ".join(f'"{p}"' for p in CROSSREF_PREFIXES)}}}
local split = 0
local function is_crossref(id)
  for _, prefix in ipairs(prefixes) do
    if id:sub(1, #prefix) == prefix then return true end
  end
  return false
end
function Cite(cite)
  local crossrefs, keys = 0, {{}}
  for _, citation in ipairs(cite.citations) do
    if is_crossref(citation.id) then crossrefs = crossrefs + 1 else table.insert(keys, citation) end
  end
  if crossrefs == 0 or #keys == 0 then return nil end
  split = split + 1
  return pandoc.Span({{cite, pandoc.Cite({{}}, keys)}}, {{class = "{SPLIT_CLASS}"}})
end
function Meta(meta)
  if split > 0 then meta["{SPLIT_COUNT}"] = split end
  return meta
end
"""


def _unsplit_mixed_cites(node: Any, split_keys: list[list[dict]]) -> None:
    """Put each mixed Cite back as parsed, in place; keep citeproc's rendering of its keys, in document order."""
    # In place and without pandocfilters.walk, which copies the whole tree: this runs on every build.
    if isinstance(node, dict):
        node = [value for value in node.values() if isinstance(value, list | dict)]
    for index, item in enumerate(node):
        if isinstance(item, dict) and item.get("t") == "Span" and SPLIT_CLASS in item["c"][0][1]:
            item, keys_only = item["c"][1]
            node[index] = item
            split_keys.append(keys_only["c"][1])
        if isinstance(item, list | dict):
            _unsplit_mixed_cites(item, split_keys)


def _fill_split_keys(blocks: list[dict], split_keys: list[list[dict]]) -> bool:
    """Give the key-only Cites replace_crossrefs left (empty, for citeproc) the rendering made in the pass."""
    if not split_keys:
        return True  # no mixed Cite, so replace_crossrefs left no empty one
    empty = [cite["c"] for cite in elements(blocks) if cite["t"] == "Cite" and not cite["c"][1]]
    if len(empty) != len(split_keys):
        return False
    for value, rendering in zip(empty, split_keys, strict=True):
        value[1] = rendering
    return True


def _is_reference_list(block: dict) -> bool:
    return block["t"] == "Div" and block["c"][0][0] == "refs"


def _one_pass_is_exact(manuscript: Manuscript, ast: pandoc.Ast, references: list) -> bool:
    """Whether citeproc in the parsing pass gave what citeproc after the crossref replacement gives.

    In the one pass citeproc also sees the cross-references (as unknown keys, rendered, then replaced
    whole) and a mixed Cite twice (see SPLIT_MIXED_CITES). That is exact unless the style renders a
    citation by its place among the others (any position test, notes, citation numbers), a section's
    YAML block sets metadata citeproc reads, or a section places the reference list itself. Those
    documents take the two-pass route.
    """
    if set(ast["meta"]) - RESOLVE_META:
        return False
    if not references and any(b["t"] == "Div" and b["c"][0][0] == "refs" for b in ast["blocks"]):
        return False
    return not _position_dependent(manuscript.csl_path)


def _position_dependent(csl: Path) -> bool:
    text = csl.read_text(encoding="utf-8", errors="replace")
    return any(mark in text for mark in ('position="', "et-al-subsequent", 'class="note"', "citation-number"))


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


def build_document(manuscript: Manuscript, parsed: Parsed | None = None) -> Document:
    """Parse (unless given the parse), check citations and cross-references, and resolve citations once."""
    parsed = parsed if parsed is not None else parse(manuscript, resolve=True)
    groups, citations, crossrefs = parsed.groups, parsed.citations, parsed.crossrefs
    abstract_blocks = groups[0] if manuscript.abstract else []
    body = [block for group in groups[1 if manuscript.abstract else 0 :] for block in group]
    tables, figures, sections = number_targets(body)
    problems = citation_diagnostics(manuscript, citations, crossrefs, set(tables) | set(figures) | set(sections))
    if problems:
        raise PressError(problems)
    body = replace_crossrefs(body, tables, figures, sections)
    body_split_keys = [keys for group in parsed.split_keys[1 if manuscript.abstract else 0 :] for keys in group]
    if parsed.resolved_meta is not None and not _fill_split_keys(body, body_split_keys):
        return build_document(manuscript, parse(manuscript))  # unexpected shape: resolve after the parse
    one_pass = parsed.resolved_meta is not None  # citeproc already ran in the parsing pass
    references = [
        {"t": "Header", "c": [1, ["references", ["unnumbered"], []], [{"t": "Str", "c": "References"}]]},
        *(parsed.references if one_pass and parsed.references else [{"t": "Div", "c": [["refs", [], []], []]}]),
    ]
    ast = {
        "pandoc-api-version": parsed.api_version,
        "meta": parsed.resolved_meta if one_pass else {},
        "blocks": [
            {"t": "Div", "c": [["abstract", [], []], abstract_blocks]},
            {"t": "RawBlock", "c": ["html", ABSTRACT_END]},
            *body,
            *references,
        ],
    }
    if one_pass:
        resolved = ast
    else:
        try:
            resolved = pandoc.resolve_citations(ast, manuscript.bib_paths, manuscript.csl_path)
        except pandoc.PandocError as exc:
            raise _citeproc_error(manuscript, exc) from None
    return Document(manuscript, resolved, citations, crossrefs, tables, figures, article_date(manuscript))
