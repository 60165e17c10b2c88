"""The review manuscript: the layout journals ask for at submission, for the PDF and the DOCX.

12 pt text, double (or 1.5) line spacing, 2.5 cm margins, left aligned, page numbers "N of M", line
numbers in the left margin, and the figures and tables in place or after the references, one a page,
as the journal profile's ``review`` says (press.profiles; a ``ReviewLayout``). `submission` writes its
manuscripts in this layout when the profile has one; ``python build.py pdf docx --review`` writes
``<slug>-review.pdf`` and ``<slug>-review.docx`` beside the typeset outputs in build/, to look at
(press.review_build).

- PDF: templates/review.css over print.css, and the line numbers drawn from WeasyPrint's own layout
  (press.line_numbers).
- DOCX: Word's own line numbering (``w:lnNumType`` in the section properties) and the spacing in the
  styles, so Word and LibreOffice number and space the lines themselves.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .ast import text_inlines
from .model import ReviewLayout

REVIEW_CSS = "review.css"
FLOATS = ("Figure", "Table")
# The numbers: in the left margin, their right edge 8 mm from the text (the margin is 25 mm).
NUMBERS_RIGHT_MM = 17
NUMBERS_CSS = '.n { font: 9pt "Source Sans Pro"; color: #555; font-variant-numeric: tabular-nums; }'
MM = 96 / 25.4  # CSS px
# The print HTML's elements whose lines are not numbered: the licence and "How to cite" notes, which
# are none of title, abstract, body, captions or references (templates/print.html).
UNNUMBERED = frozenset({"first-page-notes"})


def rendering(layout: ReviewLayout) -> str:
    """The HTML rendering of the document (press.writers.shared) the review PDF shows."""
    if layout.figures != "end":
        return "print"
    return "print/end+captions" if layout.captions_list else "print/end"


def describe_layout(layout: ReviewLayout) -> str:
    """The layout in a few words, for the submission's listing."""
    spacing = "double spaced" if layout.line_spacing == 2 else f"{layout.line_spacing:g} spaced"
    numbers = {"continuous": "line numbers", "page": "line numbers by page", "none": "no line numbers"}
    figures = ", figures at the end" if layout.figures == "end" else ""
    return f"review layout: {spacing}, {numbers[layout.line_numbers]}{figures}"


def review_css(templates: Any, layout: ReviewLayout) -> str:
    """templates/review.css (a project may bring its own), with the layout's line spacing."""
    spacing = f"{layout.line_spacing:g}"
    return (
        templates.read(REVIEW_CSS)
        + f"\nhtml, .body p, .abstract, #refs, figcaption, caption {{ line-height: {spacing}; }}"
        + f"\nh1, h2, h3, h4 {{ line-height: {min(layout.line_spacing, 1.5):g}; }}\n"
    )


def pdf_review(layout: ReviewLayout) -> dict[str, Any]:
    """What the PDF job needs of the layout: how the lines are numbered and where the numbers stand."""
    return {
        "line_numbers": None if layout.line_numbers == "none" else layout.line_numbers,
        "numbers_right": NUMBERS_RIGHT_MM * MM,
        "numbers_css": NUMBERS_CSS,
        "unnumbered": UNNUMBERED,
    }


# ---- figures and tables after the references ----


def floats_at_end(ast: dict, captions_list: bool, page_break: dict | None = None) -> dict:
    """The document with its figures and tables moved after the reference list, each on a page of its own.

    ``captions_list``: a "Figure captions" section first, each figure's caption ("Figure 1. ...") in
    order. Each float keeps its id, so cross-references still link to it. ``page_break``: the block
    that starts a page (the DOCX's); by default each float is a ``review-float`` Div, which the
    review CSS starts on a new page.
    """
    floats: list[dict] = []
    blocks = list(_without_floats(ast["blocks"], floats))
    if not floats:
        return ast
    tail: list[dict] = []
    figures = [block for block in floats if block["t"] == "Figure"]
    if captions_list and figures:
        heading = {"t": "Header", "c": [1, ["figure-captions", ["unnumbered"], []], text_inlines("Figure captions")]}
        captions = [{"t": "Para", "c": _caption_inlines(figure)} for figure in figures]
        if page_break is not None:
            tail += [page_break, heading, *captions]
        else:
            tail.append({"t": "Div", "c": [["", ["figure-captions"], []], [heading, *captions]]})
    for block in floats:
        if page_break is not None:
            tail += [page_break, block]
        else:
            tail.append({"t": "Div", "c": [["", ["review-float"], []], [block]]})
    return {**ast, "blocks": blocks + tail}


def _without_floats(blocks: list[dict], floats: list[dict]) -> Iterator[dict]:
    """``blocks`` without the figures and tables in them (collected into ``floats``), Divs searched too."""
    for block in blocks:
        if block["t"] in FLOATS:
            floats.append(block)
        elif block["t"] == "Div":
            attr, inner = block["c"]
            yield {"t": "Div", "c": [attr, list(_without_floats(inner, floats))]}
        else:
            yield block


def _caption_inlines(figure: dict) -> list[dict]:
    """A figure's caption as one paragraph's inlines (its blocks run together)."""
    inlines: list[dict] = []
    for block in figure["c"][1][1]:
        if block["t"] in ("Plain", "Para"):
            inlines += ([{"t": "Space"}] if inlines else []) + block["c"]
    return inlines


# ---- the DOCX ----

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
# Its own paragraph, unnumbered: else Word and LibreOffice count the empty line it ends.
DOCX_PAGE_BREAK = {
    "t": "RawBlock",
    "c": [
        "openxml",
        f'<w:p xmlns:w="{W}"><w:pPr><w:suppressLineNumbers/></w:pPr><w:r><w:br w:type="page"/></w:r></w:p>',
    ],
}
# A figure's image stands in a paragraph of its own: a line to Word, but no text to number. The
# licence notes are left unnumbered as in the PDF (UNNUMBERED).
UNNUMBERED_STYLES = ("CaptionedFigure", "Figure", "Attribution")
TWIPS_PER_MM = 1440 / 25.4
# Styles the reference document keeps with the next paragraph: double spaced, the abstract held
# together is taller than what is left of the first page, and the title would stand alone on it.
UNGLUED_STYLES = ("Abstract",)
BODY_STYLES_MIN_HALF_POINTS = 24  # 12 pt: paragraph styles set smaller are set to it (footnotes aside)


def docx_body(blocks: list[dict], layout: ReviewLayout) -> list[dict]:
    """The DOCX's body blocks in the review layout: its floats after the references when the layout says so."""
    if layout.figures != "end":
        return blocks
    return floats_at_end({"blocks": blocks}, layout.captions_list, DOCX_PAGE_BREAK)["blocks"]


def format_docx(word: Any, layout: ReviewLayout) -> None:
    """Put the review layout into ``word`` (a python-docx Document): margins, line numbers, page numbers, spacing."""
    from docx.shared import Mm

    for section in word.sections:
        section.left_margin = section.right_margin = Mm(25)
        section.top_margin = section.bottom_margin = Mm(25)
        sect_pr = section._sectPr
        for old in sect_pr.findall(f"{{{W}}}lnNumType"):
            sect_pr.remove(old)
        if layout.line_numbers != "none":
            numbering = _element(
                "lnNumType",
                countBy="1",
                restart="newPage" if layout.line_numbers == "page" else "continuous",
                distance=str(round(6 * TWIPS_PER_MM)),
            )
            _insert_in_order(sect_pr, numbering)
        _page_of_pages(section)
    _styles_spacing(word, layout)


# The children of w:sectPr in the order the schema (CT_SectPr) requires them.
SECT_PR_ORDER = (
    "headerReference",
    "footerReference",
    "footnotePr",
    "endnotePr",
    "type",
    "pgSz",
    "pgMar",
    "paperSrc",
    "pgBorders",
    "lnNumType",
    "pgNumType",
    "cols",
    "formProt",
    "vAlign",
    "noEndnote",
    "titlePg",
    "textDirection",
    "bidi",
    "rtlGutter",
    "docGrid",
    "printerSettings",
    "sectPrChange",
)


def _element(tag: str, **attributes: str) -> Any:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    element = OxmlElement(f"w:{tag}")
    for name, value in attributes.items():
        element.set(qn(f"w:{name}"), value)
    return element


def _insert_in_order(sect_pr: Any, element: Any) -> None:
    """Insert ``element`` into w:sectPr where the schema's order puts it (Word refuses another order)."""
    rank = SECT_PR_ORDER.index(element.tag.split("}")[1])
    for index, child in enumerate(sect_pr):
        name = child.tag.split("}")[1]
        if name in SECT_PR_ORDER and SECT_PR_ORDER.index(name) > rank:
            sect_pr.insert(index, element)
            return
    sect_pr.append(element)


def _page_of_pages(section: Any) -> None:
    """The footer: "N of M", centred, as fields Word and LibreOffice fill in."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    footer = section.footer
    footer.is_linked_to_previous = False
    paragraph = footer.paragraphs[0]
    # Word never numbers a footer's lines; LibreOffice does, unless the paragraph says not to. Before
    # the alignment: python-docx puts w:jc in its place in w:pPr, after this.
    paragraph._p.get_or_add_pPr().append(_element("suppressLineNumbers"))
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    paragraph._p.append(_field("PAGE"))
    paragraph.add_run(" of ")
    paragraph._p.append(_field("NUMPAGES"))


def _field(instruction: str) -> Any:
    field = _element("fldSimple", instr=f" {instruction} ")
    run = _element("r")
    text = _element("t")
    text.text = "1"
    run.append(text)
    field.append(run)
    return field


def _styles_spacing(word: Any, layout: ReviewLayout) -> None:
    """Every paragraph style (and the document's default) at the layout's line spacing, left aligned, 12 pt or more."""
    from docx.oxml.ns import qn

    line = str(round(240 * layout.line_spacing))
    styles = word.styles.element
    defaults = styles.find(qn("w:docDefaults"))
    targets = [defaults.find(f"{qn('w:pPrDefault')}/{qn('w:pPr')}")] if defaults is not None else []
    for style in styles.findall(qn("w:style")):
        if style.get(qn("w:type")) == "paragraph" and style.get(qn("w:styleId")) not in ("FootnoteText", "Compact"):
            p_pr = style.get_or_add_pPr()
            targets.append(p_pr)
            if style.get(qn("w:styleId")) in UNNUMBERED_STYLES:
                _insert_in_ppr(p_pr, _element("suppressLineNumbers"))
            if style.get(qn("w:styleId")) in UNGLUED_STYLES:
                for glue in [*p_pr.findall(qn("w:keepNext")), *p_pr.findall(qn("w:keepLines"))]:
                    p_pr.remove(glue)
            run = style.find(qn("w:rPr"))
            size = run.find(qn("w:sz")) if run is not None else None
            if size is not None and int(size.get(qn("w:val"))) < BODY_STYLES_MIN_HALF_POINTS:
                size.set(qn("w:val"), str(BODY_STYLES_MIN_HALF_POINTS))
    for p_pr in targets:
        if p_pr is None:
            continue
        spacing = p_pr.find(qn("w:spacing"))
        if spacing is None:
            spacing = _element("spacing")
            _insert_in_ppr(p_pr, spacing)
        spacing.set(qn("w:line"), line)
        spacing.set(qn("w:lineRule"), "auto")
        justified = p_pr.find(qn("w:jc"))
        if justified is not None and justified.get(qn("w:val")) in ("both", "distribute"):
            justified.set(qn("w:val"), "left")


# The children of w:pPr that stand before w:spacing (CT_PPrBase's order).
BEFORE_SPACING = (
    "pStyle",
    "keepNext",
    "keepLines",
    "pageBreakBefore",
    "framePr",
    "widowControl",
    "numPr",
    "suppressLineNumbers",
    "pBdr",
    "shd",
    "tabs",
    "suppressAutoHyphens",
    "kinsoku",
    "wordWrap",
    "overflowPunct",
    "topLinePunct",
    "autoSpaceDE",
    "autoSpaceDN",
    "bidi",
    "adjustRightInd",
    "snapToGrid",
)


def _insert_in_ppr(p_pr: Any, element: Any) -> None:
    """Insert ``element`` (w:spacing or one of those before it) where CT_PPrBase's order puts it."""
    order = (*BEFORE_SPACING, "spacing")
    rank = order.index(element.tag.split("}")[1])
    for index, child in enumerate(p_pr):
        name = child.tag.split("}")[1]
        if name not in order or order.index(name) > rank:
            p_pr.insert(index, element)
            return
    p_pr.append(element)


def layout_of(metadata: Any) -> ReviewLayout:
    """The profile's review layout; a profile without one (``review: false``) is shown in the default one."""
    return metadata.journal.review or ReviewLayout()
