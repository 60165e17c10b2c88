"""Equations in the parse: what pandoc's Markdown reader leaves for us to make of them.

- ``$$ ... $$ {#eq:name}``: pandoc has no attributes on math, and keeps ``{#eq:name}`` as text after
  it; the display equation is given that id (a Span of class ``equation`` around it), to be
  numbered and cross-referenced as ``@eq:name``.
- ``\\begin{equation} ... \\label{eq:name} \\end{equation}`` (and align, gather, multline, their
  starred forms), as papers first written for LaTeX carry them: pandoc keeps them as raw TeX, which
  every output but LaTeX drops. Each becomes a display equation, numbered unless starred, its
  ``\\label`` its id (the environments become the ones that math renderers set inside $$ ... $$).
- ``\\ref{eq:name}``, ``\\eqref{eq:name}`` and ``\\autoref{eq:name}`` (and the same for figures,
  tables and sections): cross-references, as ``@eq:name`` is; ``\\label{fig:name}`` in a figure's or
  a table's caption (JOSS's template) its id.
- ``\\cite{a,b}``, ``\\citep``, ``\\citet``, ``\\parencite``, ``\\textcite``, ``\\autocite`` (with their
  ``[see][p. 3]`` notes): citations, as ``[@a; @b]`` and ``@a`` are, so citeproc formats them.

Changed in place, on the parse, so that the checks and the document see the same equations.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from .ast import elements, text_inlines
from .siunitx import COMMAND as SIUNITX
from .tex import definitions_only

EQUATION_CLASS = "equation"
# LaTeX display environments -> what the renderers (MathJax, pandoc's texmath) set inside $$ ... $$.
ENVIRONMENTS = {
    "equation": None,  # its content as it is
    "displaymath": None,
    "align": "aligned",
    "flalign": "aligned",
    "alignat": "alignedat",
    "gather": "gathered",
    "multline": "gathered",
    "eqnarray": "aligned",
}
ENVIRONMENT = re.compile(
    r"^\s*\\begin\{(?P<name>[a-z]+)(?P<star>\*?)\}(?P<argument>\{\d+\})?(?P<body>.*)\\end\{(?P=name)\*?\}\s*$", re.S
)
LABEL = re.compile(r"\\label\{(?P<id>[^{}]*)\}")
REFERENCE = re.compile(r"^\\(?P<kind>ref|eqref|autoref|cref|Cref)\{(?P<id>[^{}]+)\}$")
ID_AFTER = re.compile(r"^\{#(?P<id>eq[:-][^\s{}]+)\}$")
# Ours (pandoc-crossref's) and Quarto's: @fig:x and @fig-x are the same kind of reference.
CROSSREF_PREFIXES = ("tbl:", "fig:", "sec:", "eq:", "tbl-", "fig-", "sec-", "eq-")


def normalise(blocks: list[dict]) -> tuple[bool, bool, list[dict]]:
    """Give display equations their ids, make LaTeX environments display math and ``\\ref`` cross-references.

    Returns whether ``blocks`` hold an image and whether they hold math, and the raw TeX left in the text
    (blocks and inlines) and the math with siunitx commands (press.latex_text and press.siunitx read
    them): this walk sees every element, and the media stage need not look for any of them in a
    document that has none. A citation's own TeX (``\\cite{a}`` made a Cite) is not walked.
    """
    images = math = False
    latex: list[dict] = []
    for element in elements(blocks, prune=frozenset({"Cite"})):
        kind = element["t"]
        images = images or kind == "Image"
        math = math or kind == "Math"
        content = element.get("c")
        if kind == "RawInline" and content[0] in ("tex", "latex") and not definitions_only(content[1]):
            latex.append(element)
        elif kind == "Math" and SIUNITX.search(content[1]):
            latex.append(element)
        if kind in ("Figure", "Table"):
            _caption_label(element)
        if element["t"] in ("Para", "Plain") and isinstance(content, list):
            element["c"] = _inlines(content)
        elif element["t"] == "RawBlock" and content[0] in ("tex", "latex"):
            equations = _environment(content[1])
            if equations is not None:
                element["t"], element["c"] = "Para", equations
            elif not definitions_only(content[1]):
                latex.append(element)
    return images, math, latex


def _inlines(inlines: list[dict]) -> list[dict]:
    out: list[dict] = []
    index = 0
    while index < len(inlines):
        item = inlines[index]
        kind = item.get("t")
        if kind == "RawInline" and item["c"][0] in ("tex", "latex"):
            equations = _environment(item["c"][1])
            replacement = None if equations else _reference(item["c"][1]) or _citation(item["c"][1])
            if equations or replacement is not None:
                if replacement is not None and out and out[-1]["t"] == "Str" and out[-1]["c"].endswith("~"):
                    # LaTeX's tie, "Figure~\ref{fig:x}": a no-break space (Markdown keeps the "~")
                    out[-1] = {"t": "Str", "c": out[-1]["c"][:-1] + "\u00a0"}
                out.extend(equations or [replacement])
                index += 1
                continue
        if kind == "Math" and item["c"][0]["t"] == "DisplayMath":
            after = index + 1
            if after < len(inlines) and inlines[after]["t"] in ("Space", "SoftBreak"):
                after += 1
            match = (
                ID_AFTER.match(inlines[after]["c"]) if after < len(inlines) and inlines[after]["t"] == "Str" else None
            )
            if match:
                out.append(equation_span(match.group("id"), item))
                index = after + 1
                continue
        out.append(item)
        index += 1
    return out


def _caption_label(element: dict) -> None:
    """``\\label{fig:x}`` in a figure's or table's caption (as JOSS's template writes it) as its id."""
    attr = element["c"][0]
    # The caption's inlines, and for a figure its image's alt text too (pandoc copies the caption there).
    holders = [block["c"] for block in element["c"][1][1] if block["t"] in ("Plain", "Para")]
    if element["t"] == "Figure":
        holders += [e["c"][1] for e in elements(element["c"][2]) if e["t"] == "Image"]
    for inlines in holders:
        for index, inline in enumerate(inlines):
            if inline["t"] == "RawInline" and inline["c"][0] in ("tex", "latex"):
                match = LABEL.fullmatch(inline["c"][1].strip())
                if match:
                    if not attr[0]:
                        attr[0] = match.group("id")
                    del inlines[index]
                    while inlines and inlines[-1]["t"] in ("Space", "SoftBreak"):
                        inlines.pop()  # the space before the label was the label's
                    break


def equation_span(ident: str, math: dict) -> dict:
    """A display equation with an id (or none: numbered all the same), as the document numbers it."""
    return {"t": "Span", "c": [[ident, [EQUATION_CLASS], []], [math]]}


def _environment(raw: str) -> list[dict] | None:
    """A LaTeX display environment as display math (in its numbered Span unless starred), else None.

    A numbered environment of rows (align, gather, ...) is one equation with one number, unless two
    or more of its rows have a ``\\label``: then, as in LaTeX, each row is an equation with its own
    number (not for a row with ``\\nonumber`` or ``\\notag`` and no label), so that each label
    names its row. Each row is then set on its own; the PDF lines their columns up (aligned_rows).
    """
    match = ENVIRONMENT.match(raw)
    if match is None or match.group("name") not in ENVIRONMENTS:
        return None
    name, star, body = match.group("name"), match.group("star"), match.group("body")
    labels = LABEL.findall(body)
    rows = _rows(body) if name in ROWS and len(labels) > 1 else []
    if len(rows) > 1 and all(len(LABEL.findall(row)) <= 1 for row in rows):
        equations = []
        for row in rows:
            label = LABEL.findall(row)
            math = _display(name, match.group("argument"), NONUMBER.sub("", LABEL.sub("", row)))
            numbered = bool(label) or not (star or NONUMBER.search(row))
            equations.append(equation_span(label[0] if label else "", math) if numbered else math)
        return equations
    math = _display(name, match.group("argument"), LABEL.sub("", body))
    if star and not labels:
        return [math]
    return [equation_span(labels[0] if labels else "", math)]


# Environments of rows, which LaTeX numbers row by row.
ROWS = frozenset({"align", "flalign", "alignat", "gather", "eqnarray"})
NONUMBER = re.compile(r"\\(?:nonumber|notag)(?![A-Za-z])")
_TOKEN = re.compile(r"\\\\(?:\s*\[[^\]]*\])?|\\begin\{[^{}]*\}|\\end\{[^{}]*\}|\\[A-Za-z]+|\\.|[{}&]")


def _display(name: str, argument: str | None, body: str) -> dict:
    """Display math of an environment's body, in the environment the renderers set inside $$ ... $$."""
    body = body.strip()
    inner = ENVIRONMENTS[name]
    if inner is not None:
        body = f"\\begin{{{inner}}}{argument or ''}{body}\\end{{{inner}}}"
    return {"t": "Math", "c": [{"t": "DisplayMath"}, body]}


def _rows(body: str) -> list[str]:
    """The body's rows: split at each ``\\\\`` outside braces and inner environments (a row's
    spacing, ``\\\\[2pt]``, dropped); an empty last row (a trailing ``\\\\``) left out."""
    rows = _split(body, lambda token: token.startswith("\\\\"))
    return rows[:-1] + ([rows[-1]] if rows[-1].strip() else [])


def _split(text: str, at: Callable[[str], bool]) -> list[str]:
    """``text`` split at each token ``at`` says, outside braces and inner environments."""
    parts, depth, start = [], 0, 0
    for token in _TOKEN.finditer(text):
        found = token.group()
        if found == "{" or found.startswith("\\begin{"):
            depth += 1
        elif found == "}" or found.startswith("\\end{"):
            depth = max(depth - 1, 0)
        elif depth == 0 and at(found):
            parts.append(text[start : token.start()])
            start = token.end()
    return [*parts, text[start:]]


# A row of an environment set on its own (_environment), as the renderers set it inside $$ ... $$.
ALIGNED_ROW = re.compile(
    r"^\\begin\{(?P<name>aligned|alignedat)\}(?P<argument>\{\d+\})?(?P<body>.*)\\end\{(?P=name)\}$", re.S
)
# What a cell may not be moved into a box for: it stands between rows, or numbers one.
UNBOXED = re.compile(r"\\(?:intertext|shortintertext|tag|displaybreak|noalign|hline)(?![A-Za-z])")


def aligned_rows(blocks: list[dict]) -> dict[int, str]:
    """The rows of each environment set one by one (_environment), for MathJax: each row's TeX with
    every column padded to the widest of its cells in any of the rows, so that each row is as wide
    as the environment and its columns stand where the environment has them. Centred like every
    display equation, the rows then line up as they do in LaTeX. Keyed by ``id`` of each row's Math.

    The rows of one environment are the display equations that _environment puts side by side in
    one paragraph, each bare or in its numbered Span, with nothing between them (pandoc's reading
    of ``$$...$$`` has at least a break between two). Left as they are: rows with \\intertext, a
    \\tag and the like, which no box may hold, and pandoc's texmath, which knows no \\mathllap (the
    web page, the DOCX and the JATS set the rows one by one).
    """
    padded: dict[int, str] = {}
    for element in elements(blocks):
        if element["t"] not in ("Para", "Plain"):
            continue
        group: list[tuple[dict, re.Match]] = []
        for item in [*element["c"], None]:
            math = _row_math(item)
            found = ALIGNED_ROW.match(math["c"][1]) if math is not None else None
            if found is not None and (not group or _same_environment(group[0][1], found)):
                group.append((math, found))
                continue
            if len(group) > 1:
                padded.update(_padded(group))
            group = [(math, found)] if found is not None else []
    return padded


def _row_math(item: dict | None) -> dict | None:
    """The display Math of a row: the item itself, or the first of its equation Span."""
    if item is not None and is_equation(item) and item["c"][1]:
        item = item["c"][1][0]
    return item if item is not None and item["t"] == "Math" and item["c"][0]["t"] == "DisplayMath" else None


def _same_environment(first: re.Match, other: re.Match) -> bool:
    return (first.group("name"), first.group("argument")) == (other.group("name"), other.group("argument"))


def _padded(group: list[tuple[dict, re.Match]]) -> dict[int, str]:
    rows = [_cells(found.group("body")) for _, found in group]
    if any(UNBOXED.search(cell) for cells in rows for cell in cells):
        return {}
    width = max(len(cells) for cells in rows)
    columns = [[cells[k].strip() if k < len(cells) else "" for cells in rows] for k in range(width)]
    name, argument = group[0][1].group("name"), group[0][1].group("argument") or ""
    padded = {}
    for index, (math, _) in enumerate(group):
        parts = []
        for k, column in enumerate(columns):
            if k % 2 == 0:  # set to the right, as the widest cell above or below
                parts.append(f"\\hphantom{{{_stack(column)}}}\\mathllap{{{column[index]}}}")
            else:  # set to the left, after the empty atom LaTeX puts before it (so "&=" is spaced)
                parts.append(f"{{}}\\mathrlap{{{{}}{column[index]}}}\\hphantom{{{_stack(['{}' + c for c in column])}}}")
        padded[id(math)] = f"\\begin{{{name}}}{argument}{' & '.join(parts)}\\end{{{name}}}"
    return padded


def unaligned(tex: str) -> str | None:
    """A one-row ``aligned`` (or ``alignedat``) as the row alone, its ``&`` dropped (``\\qquad`` between
    two column pairs, the space the environment puts there); None for any other TeX.

    A row set on its own aligns with nothing, and so looks the same either way; but LibreOffice reads
    the alignment mark of a Word equation array as a logical "and" with an empty operand ("∧¿"), so
    the DOCX gets the row without it."""
    found = ALIGNED_ROW.match(tex.strip())
    if found is None or len(_rows(found.group("body"))) != 1:
        return None
    cells = _cells(found.group("body"))
    if len(cells) == 1:
        return None
    row = cells[0].strip()
    for index, cell in enumerate(cells[1:], 1):
        row += (" " if index % 2 else " \\qquad ") + cell.strip()
    return row


def _stack(cells: list[str]) -> str:
    """The cells one above the other: as wide as the widest (inside a phantom, of no height)."""
    return "\\begin{gathered}" + " \\\\ ".join(cells) + "\\end{gathered}"


def _cells(row: str) -> list[str]:
    """A row's cells: split at each ``&`` outside braces and inner environments."""
    return _split(row, lambda token: token == "&")


def _reference(raw: str) -> dict | None:
    """``\\ref{eq:x}`` and its kin as the Cite that ``@eq:x`` parses to, the TeX kept in its content."""
    match = REFERENCE.match(raw.strip())
    if match is None or not match.group("id").startswith(CROSSREF_PREFIXES):
        return None
    citation = {
        "citationId": match.group("id"),
        "citationPrefix": [],
        "citationSuffix": [],
        "citationMode": {"t": "AuthorInText"},
        "citationNoteNum": 0,
        "citationHash": 0,
    }
    return {"t": "Cite", "c": [[citation], [{"t": "RawInline", "c": ["tex", raw]}]]}


CITE = re.compile(
    r"^\\(?P<command>cite[tp]?|parencite|textcite|autocite|citeauthor|citeyear)\*?"
    r"(?:\[(?P<first>[^\]]*)\])?(?:\[(?P<second>[^\]]*)\])?\{(?P<keys>[^{}]+)\}$"
)
IN_TEXT = {"citet", "textcite", "citeauthor"}


def _citation(raw: str) -> dict | None:
    """``\\cite{a,b}`` and its kin (natbib's, biblatex's) as the Cite that ``[@a; @b]`` parses to.

    One note is a suffix (``\\cite[p. 3]{a}``), two a prefix and a suffix (``\\cite[see][p. 3]{a}``);
    ``\\citet``/``\\textcite`` cite in the text (``@a``), ``\\citeyear`` without the author.
    """
    match = CITE.match(raw.strip())
    if match is None:
        return None
    keys = [key.strip() for key in match.group("keys").split(",") if key.strip()]
    if not keys:
        return None
    command = match.group("command")
    prefix, suffix = (
        (match.group("first"), match.group("second"))
        if match.group("second") is not None
        else (None, match.group("first"))
    )
    mode = "AuthorInText" if command in IN_TEXT else "SuppressAuthor" if command == "citeyear" else "NormalCitation"
    citations = []
    for index, key in enumerate(keys):
        citations.append(
            {
                "citationId": key,
                "citationPrefix": text_inlines(prefix) if index == 0 and prefix else [],
                "citationSuffix": text_inlines(", " + suffix if not suffix.startswith(",") else suffix)
                if index == len(keys) - 1 and suffix
                else [],
                "citationMode": {"t": mode},
                "citationNoteNum": 0,
                "citationHash": 0,
            }
        )
    return {"t": "Cite", "c": [citations, [{"t": "RawInline", "c": ["tex", raw]}]]}


def reference_style(cite: dict) -> str:
    """How a cross-reference is written: "name" ("Equation 1", as ``@eq:x``), "number" (``\\ref``) or
    "parenthesised" (``\\eqref``: "(1)")."""
    content = cite["c"][1]
    if len(content) == 1 and content[0]["t"] == "RawInline":
        match = REFERENCE.match(content[0]["c"][1].strip())
        if match and match.group("kind") == "ref":
            return "number"
        if match and match.group("kind") == "eqref":
            return "parenthesised"
    return "name"


def is_equation(element: dict) -> bool:
    return element["t"] == "Span" and EQUATION_CLASS in element["c"][0][1]
