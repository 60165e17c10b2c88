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
    in the Word equations of ``texs``, the TeX of each in order (``upright_mathbf``)."""
    from docx import Document as WordDocument

    metadata = document.metadata
    word = WordDocument(io.BytesIO(data))
    if texs:
        upright_mathbf(word.element.body, texs)
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
