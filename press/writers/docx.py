"""The DOCX: front matter from a template, body and references from the resolved AST, journal styles."""

from __future__ import annotations

import calendar
import datetime as dt
import io
import zipfile
from typing import TYPE_CHECKING

from .. import pandoc
from ..ast import elements, replaced
from ..context import meta_value
from ..equations import is_equation, unaligned
from ..templating import render
from .shared import Shared

if TYPE_CHECKING:
    from ..formats import WriteOptions
    from ..model import ReviewLayout


def source_date_epoch(date: str) -> str:
    return str(calendar.timegm(dt.date.fromisoformat(date).timetuple()))


def write(shared: Shared, options: WriteOptions) -> bytes:
    blinded = options.blinded
    document = shared.document
    metadata = document.metadata
    templates = document.manuscript.templates
    front_html = render(templates, "docx-front.html", **shared.context(blinded=blinded))
    front = pandoc.html_to_ast(front_html)["blocks"]
    # After the abstract div and its end marker; each figure its PNG or JPEG rendition, which pandoc embeds.
    body = shared.media.retarget({"blocks": document.ast["blocks"][2:]}, "docx")["blocks"]
    body = equations_apart(replaced(body, _unaligned_row))
    review = options.review
    if review is not None:  # the review manuscript (press.review)
        from ..review import docx_body

        body = docx_body(body, review)
    holders = "The authors" if blinded else ", ".join(metadata.copyright_holders)
    rights = f"Copyright © {metadata.copyright_year} {holders}. {metadata.license.name} ({metadata.license.url})"
    # Title and authors stay out of pandoc's metadata: pandoc would print its own title block over
    # ours. They go into the core properties afterwards; the licence goes into custom properties.
    meta = {"lang": metadata.lang, "license": metadata.license.url, "rights": rights}
    ast = {
        "pandoc-api-version": document.ast["pandoc-api-version"],
        "meta": {k: meta_value(v) for k, v in meta.items()},
        "blocks": front + body,
    }
    epoch = source_date_epoch(document.date)
    data = pandoc.ast_to(
        ast,
        "docx",
        ["--reference-doc", str(templates / "reference.docx"), "--resource-path", str(shared.media.folder)],
        env={"SOURCE_DATE_EPOCH": epoch},
        sandbox=False,
    )
    texs = [e["c"][1] for e in elements(ast["blocks"]) if e["t"] == "Math"]
    return set_core_properties(data, document, rights, blinded, review, texs)


def set_core_properties(
    data: bytes,
    document,
    rights: str,
    blinded: bool,
    review: ReviewLayout | None = None,
    texs: list[str] | None = None,
) -> bytes:
    """Title, creators, keywords and the licence in the DOCX core properties, with fixed dates; the
    review layout's page setup and styles when ``review`` is given (press.review); ``\\mathbf`` upright
    in the Word equations of ``texs``, the TeX of each in order (``upright_mathbf``), each script on a
    bracketed group set on the whole group (``scripts_on_groups``) and each bar or unpaired bracket
    a literal character (``literal_brackets``)."""
    from docx import Document as WordDocument

    metadata = document.metadata
    word = WordDocument(io.BytesIO(data))
    if texs:
        upright_mathbf(word.element.body, texs)
        scripts_on_groups(word.element.body)
        literal_brackets(word.element.body)
    if review is not None:
        from ..review import format_docx

        format_docx(word, review)
    props = word.core_properties
    props.title = metadata.full_title[:255]
    props.author = "" if blinded else "; ".join(a.name for a in metadata.authors)
    props.last_modified_by = ""
    props.keywords = ", ".join(metadata.keywords)[:255]
    props.subject = metadata.journal.name or ""
    # Core properties hold at most 255 characters: the licence goes in whole, the holders are in
    # the custom "rights" property and the visible statement.
    props.comments = f"{metadata.license.name} ({metadata.license.url})"
    props.category = metadata.article_type or ""
    props.language = metadata.lang
    props.revision = 1
    when = dt.datetime.fromisoformat(document.date + "T00:00:00")
    props.created = props.modified = when
    buffer = io.BytesIO()
    word.save(buffer)
    return normalise_zip(buffer.getvalue())


OMML = "{http://schemas.openxmlformats.org/officeDocument/2006/math}"


def _unaligned_row(element: dict) -> dict | None:
    """A display equation that is one row of ``aligned`` as the row alone (press.equations.unaligned)."""
    if element["t"] != "Math" or element["c"][0]["t"] != "DisplayMath":
        return None
    row = unaligned(element["c"][1])
    return None if row is None else {"t": "Math", "c": [element["c"][0], row]}


def equations_apart(node):
    """``node`` (blocks) with each numbered display equation in a paragraph of its own.

    pandoc's DOCX writer starts a new paragraph at a bare display equation, not at one in its Span
    (press.equations) with its number: the rows of an align numbered row by row stood side by side
    in one paragraph, "a = b (1)c = d (2)". A copy where a paragraph is split; the rest shared.
    """
    if isinstance(node, list):
        out: list = []
        for item in node:
            if isinstance(item, dict) and item.get("t") in ("Para", "Plain") and any(map(is_equation, item["c"])):
                out += _split_at_equations(item)
            else:
                out.append(equations_apart(item))
        return out
    if isinstance(node, dict) and isinstance(node.get("c"), list):
        return {**node, "c": equations_apart(node["c"])}
    return node


def _split_at_equations(paragraph: dict) -> list[dict]:
    parts: list[list[dict]] = [[]]
    for inline in paragraph["c"]:
        if is_equation(inline):
            parts += [[inline], []]
        else:
            parts[-1].append(inline)
    spaces = ("Space", "SoftBreak", "LineBreak")
    return [{"t": paragraph["t"], "c": part} for part in parts if any(i["t"] not in spaces for i in part)]


def upright_mathbf(body, texs: list[str]) -> None:
    """Each letter a Word equation's TeX sets in ``\\mathbf`` (and in no other bold) bold upright, as in
    LaTeX: pandoc 3.9 writes it bold italic, as for ``\\boldsymbol`` (press.mathml, the page's the same).
    ``texs``: the TeX of each equation pandoc wrote, in order; nothing is changed unless they and the
    document's equations are as many."""
    from ..mathml import mathbf_key, mathbf_letters

    equations = [e for e in body.iter(f"{OMML}oMath")]
    if len(equations) != len(texs):
        return
    for equation, tex in zip(equations, texs, strict=True):
        letters = mathbf_letters(tex)
        for run in equation.iter(f"{OMML}r") if letters else ():
            style, text = run.find(f"{OMML}rPr/{OMML}sty"), run.findtext(f"{OMML}t") or ""
            if style is None or style.get(f"{OMML}val") != "bi" or len(text) != 1:
                continue
            key = mathbf_key(text)
            if key in letters:  # a Latin letter bold upright; a small Greek one italic, as \mathbf leaves it
                style.set(f"{OMML}val", "b" if len(key) == 1 else "i")


# A closing bracket (as pandoc writes it in a Word equation's run) and the one that opens its group.
CLOSING = {
    ")": "(",
    "]": "[",
    "}": "{",
    "\u27e9": "\u27e8",
    "\u2309": "\u2308",
    "\u230b": "\u230a",
    "|": "|",
    "\u2016": "\u2016",
}
SCRIPTS = {f"{OMML}sSup", f"{OMML}sSub", f"{OMML}sSubSup"}


def scripts_on_groups(body) -> None:
    """Each script whose base is a lone closing bracket given the whole bracketed group as its base.

    pandoc writes ``(X^\\top X)^{-1}``, ``f(x)^2`` and ``[x]_i`` with the closing bracket alone as the
    script's base, and the group's opening bracket and contents before it. Word draws that as it
    should; LibreOffice cannot read a base that is a lone ``)``, shows "¿" and drops the rest of
    the equation. With the group as the base, both draw it, and the script is on what it belongs
    to. A bracket with no opening one before it, at the same depth in the same part of the
    equation, is left as it is."""
    for script in [element for element in body.iter() if element.tag in SCRIPTS]:
        base = script.find(f"{OMML}e")
        if base is None or len(base) != 1 or base[0].tag != f"{OMML}r":
            continue
        closer = _run_text(base[0])
        if closer not in CLOSING:
            continue
        group = _group_before(script, CLOSING[closer], closer)
        for position, element in enumerate(group or ()):
            base.insert(position, element)  # moved: lxml takes it from where it stood


def _group_before(script, opener: str, closer: str) -> list | None:
    """The runs and elements before ``script``, from the bracket that opens the group it closes; None
    when there is none."""
    group: list = []
    depth = 0
    for element in script.itersiblings(preceding=True):
        if not isinstance(element.tag, str) or not element.tag.startswith(OMML):
            return None  # a bookmark or anything else of Word's between: not one formula's group
        group.insert(0, element)
        text = _run_text(element) if element.tag == f"{OMML}r" else None
        if text == opener and depth == 0:
            return group
        if text == closer and opener != closer:
            depth += 1
        elif text == opener:
            depth -= 1
    return None


PAIRED = {")": "(", "]": "["}  # the brackets LibreOffice pairs as a group; "|" it reads as "or"


def literal_brackets(body) -> None:
    """Each bar, and each bracket without its partner in the same part of an equation, marked a literal
    character (``m:lit``), so that LibreOffice draws it as it is.

    LibreOffice reads a Word equation's characters as its own formula language, where ``|`` is the
    logical "or" (``P(A | B)`` became "P(A ∨ B)") and a bracket must be closed by its partner: an
    interval such as ``[0, 1)`` showed "¿" and lost the rest. A literal run it takes as text. Word
    draws a literal run as before: the mark only stops its reading the character as an operator
    when an equation is retyped (ECMA-376, 22.1.2.61). Brackets paired ``(…)`` and ``[…]`` are left
    as they are."""
    for part in {run.getparent() for run in body.iter(f"{OMML}r")}:
        opened: list = []
        for run in part.iterchildren(f"{OMML}r"):
            text = _run_text(run)
            if text == "|":
                _literal(run)
            elif text in ("(", "["):
                opened.append(run)
            elif text in PAIRED:
                if opened and _run_text(opened[-1]) == PAIRED[text]:
                    opened.pop()
                else:
                    _literal(run)
        for run in opened:
            _literal(run)


def _literal(run) -> None:
    # makeelement: made in the run's own document (and its parser's dictionary), as python-docx makes
    # its elements, not in a document of this thread's.
    properties = run.find(f"{OMML}rPr")
    if properties is None:
        properties = run.makeelement(f"{OMML}rPr", {})
        run.insert(0, properties)
    if properties.find(f"{OMML}lit") is None:
        properties.insert(0, properties.makeelement(f"{OMML}lit", {}))  # the first of m:rPr's children (CT_RPR)


def _run_text(run) -> str:
    return "".join(t.text or "" for t in run.iter(f"{OMML}t")).strip()


def normalise_zip(data: bytes) -> bytes:
    """Same entries in the same order with a fixed date, so equal content gives equal bytes."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for name in source.namelist():
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            target.writestr(info, source.read(name))
    return out.getvalue()
