"""JATS XML (Article Authoring tag set) by pandoc's JATS writer, from the resolved document.

Front matter goes in as pandoc metadata, which pandoc's own template turns into <article-meta>;
the references go in as CSL items so pandoc writes <element-citation>s with their DOIs instead of
the formatted APA strings.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from .. import pandoc
from ..ast import elements
from ..context import build_context, meta_value
from ..document import ABSTRACT_END, Document
from ..load import display_path
from ..model import PressError, error
from ..templating import render
from .shared import Shared

if TYPE_CHECKING:
    from ..formats import WriteOptions

WRITER = "jats_articleauthoring+element_citations"

# JATS article-type values (JATS tag library, "article-type") for the metadata's free-text type.
ARTICLE_TYPES = {
    "review": "review-article",
    "review article": "review-article",
    "systematic review": "review-article",
    "research": "research-article",
    "research article": "research-article",
    "original article": "research-article",
    "original research": "research-article",
    "case report": "case-report",
    "editorial": "editorial",
    "letter": "letter",
    "commentary": "article-commentary",
    "brief report": "brief-report",
}


def article_type(document: Document) -> str:
    given = (document.metadata.article_type or "").strip().lower()
    return ARTICLE_TYPES.get(given, "other")


def reference_items(document: Document) -> dict[str, Any]:
    """The bibliography as pandoc metadata (CSL items), read by pandoc's own BibLaTeX reader.

    The files are passed on stdin, so pandoc stays sandboxed; citeproc read them the same way.
    """
    manuscript = document.manuscript
    text = "\n".join(path.read_text(encoding="utf-8") for path in manuscript.bib_paths)
    try:
        converted = json.loads(pandoc.run(["--sandbox", "-f", "biblatex", "-t", "json", "-s"], text.encode("utf-8")))
    except pandoc.PandocError as exc:
        shown = display_path(manuscript.bib_paths[0]) if manuscript.bib_paths else "bib/"
        raise PressError(
            [error(shown, None, "jats-references", f"pandoc could not read the bibliography: {exc}")]
        ) from None
    return converted["meta"].get("references", {"t": "MetaList", "c": []})


def attribution_inlines(document: Document, context: dict[str, Any]) -> list[dict]:
    """The licence statement from its one home, the attribution partial, as pandoc inlines."""
    html = render(document.manuscript.templates, "partials/attribution.html", **context)
    blocks = pandoc.html_to_ast(html)["blocks"]
    inlines: list[dict] = []
    for block in blocks:
        if block["t"] in ("Para", "Plain"):
            inlines += ([{"t": "Space"}] if inlines else []) + block["c"]
    return inlines


def front_matter(document: Document, blinded: bool = False) -> dict[str, Any]:
    """Pandoc metadata that the JATS template renders as <article-meta>."""
    metadata = document.metadata
    context = build_context(document, blinded=blinded)
    holders = context["copyright"]["holders"]
    authors: list[dict[str, Any]] = []
    for number, author in enumerate([] if blinded else metadata.authors, 1):
        entry: dict[str, Any] = {
            "surname": author.family,
            "given-names": " ".join(author.name.split()[:-1]),
            # pandoc writes each affiliation inside its contrib: give every copy its own id.
            "affiliation": [
                {"id": f"{aff}-{number}", "name": metadata.affiliations[aff]} for aff in author.affiliations
            ],
        }
        if author.orcid:
            entry["orcid"] = f"https://orcid.org/{author.orcid}"
        if author.email:
            entry["email"] = author.email
        authors.append(entry)
    meta = {
        "title": meta_value(metadata.title),
        **({"subtitle": meta_value(metadata.subtitle)} if metadata.subtitle else {}),
        "lang": meta_value(metadata.lang),
        "article": meta_value({"type": article_type(document)}),
        "author": meta_value(authors),
        "tags": meta_value(metadata.keywords),
        "copyright": meta_value(
            {
                "statement": f"Copyright © {metadata.copyright_year} {holders}",
                "year": str(metadata.copyright_year),
                "holder": holders,
                "type": "open-access",
                "link": metadata.license.url,
            }
        ),
        "abstract": {"t": "MetaBlocks", "c": document.ast["blocks"][0]["c"][1]},
        "references": reference_items(document),
    }
    meta["copyright"]["c"]["text"] = {"t": "MetaInlines", "c": attribution_inlines(document, context)}
    return meta


def body_blocks(document: Document) -> list[dict]:
    """The body and reference list: everything after the abstract and its end marker."""
    blocks = document.ast["blocks"]
    marker = next(i for i, block in enumerate(blocks) if block["t"] == "RawBlock" and block["c"][1] == ABSTRACT_END)
    return blocks[marker + 1 :]


def write(shared: Shared, options: WriteOptions) -> bytes:
    """A standalone JATS article: article-meta, body, and <ref-list> of <element-citation>s.

    Each <graphic> names its figure's file in the submission bundle (``assets``).
    """
    document = shared.document
    blinded = options.blinded
    body, _files = shared.media.bundled({"blocks": body_blocks(document)})
    ast = {
        "pandoc-api-version": document.ast["pandoc-api-version"],
        "meta": front_matter(document, blinded),
        "blocks": body["blocks"],
    }
    texs = [e["c"][1] for e in elements(body["blocks"]) if e["t"] == "Math"]
    return labelled(pandoc.ast_to(ast, WRITER, ["-s"]), texs)


def assets(shared: Shared, options: WriteOptions) -> dict[str, bytes]:
    """The figure files the article's <graphic>s name, each its own upload: figure-1.png, ..."""
    return shared.media.bundled({"blocks": body_blocks(shared.document)})[1]


LABEL = re.compile(r"^(Figure|Table) \d+\.$")


MML = "{http://www.w3.org/1998/Math/MathML}math"


def labelled(xml: bytes, texs: list[str] = ()) -> bytes:
    """Each <fig> and <table-wrap> with its number in a <label>, as JATS has it, not in its caption;
    each formula with its TeX (``texs``, in document order) beside its MathML, and each numbered
    display formula with its id and its number as a <label>.

    press.document puts "Figure N." in bold at the start of each caption, which pandoc's JATS writer
    keeps there, and an equation's number after it; the article is unchanged when it has none of these.
    """
    if b"<fig" not in xml and b"<table-wrap" not in xml and b"-formula" not in xml:
        return xml
    from lxml import etree

    tree = etree.fromstring(xml, etree.XMLParser(resolve_entities=False, no_network=True, remove_blank_text=False))
    _formulas(tree, list(texs))
    for element in tree.iter("fig", "table-wrap"):
        caption = element.find("caption")
        first = caption.find("p") if caption is not None else None
        bold = first[0] if first is not None and len(first) else None
        if bold is None or bold.tag != "bold" or (first.text or "").strip() or not LABEL.match(bold.text or ""):
            continue
        label = etree.Element("label")
        label.text = bold.text.rstrip(".")
        label.tail = element.text  # the indentation before the caption, now before the label too
        caption.addprevious(label)
        first.text = (bold.tail or "").lstrip()
        first.remove(bold)
    return (
        etree.tostring(
            tree.getroottree(), xml_declaration=True, encoding="utf-8", doctype=tree.getroottree().docinfo.doctype
        )
        + b"\n"
    )


def _formulas(tree, texs: list[str]) -> None:
    from lxml import etree

    from .. import mathml

    formulas = [e for e in tree.iter("inline-formula", "disp-formula")]
    for formula, tex in zip(formulas, texs, strict=False):
        math = formula.find(MML)
        if math is None:
            if formula.find(f".//{MML}") is None:
                mathml.in_jats(formula, tex)  # pandoc's TeX reader could not read it: MathJax's MathML
            continue
        mathml.display_style_in_jats(math, tex)
        mathml.upright_bold_in_jats(math, tex)
        alternatives = etree.Element("alternatives")
        tex_math = etree.SubElement(alternatives, "tex-math")
        tex_math.text = etree.CDATA(tex)
        math.addprevious(alternatives)
        alternatives.append(math)  # moves it inside, after the TeX
    for wrapper in list(tree.iter("named-content")):
        if wrapper.get("content-type") != "equation":
            continue
        formula = wrapper.find("disp-formula")
        number = next((n for n in wrapper if n.get("content-type") == "equation-number"), None)
        if formula is None:
            continue
        if wrapper.get("id"):
            formula.set("id", wrapper.get("id"))
        if number is not None:
            label = etree.Element("label")
            label.text = "".join(number.itertext())
            formula.insert(0, label)
            wrapper.remove(number)
        parent = wrapper.getparent()
        formula.tail = wrapper.tail
        parent.replace(wrapper, formula)
