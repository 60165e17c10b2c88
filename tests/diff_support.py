"""What the revision-round tests share: small projects to compare, and Word's "Accept all" and "Reject all"."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from lxml import etree

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
NS = {"w": W}

# One author and year each: no two entries ever need citeproc's disambiguation, in any version.
REFERENCES = {
    "adams2001": ("Adams, Ann", "2001", "Ketamine in low doses"),
    "baker2002": ("Baker, Bob", "2002", "Infusions for neuropathic pain"),
    "clark2003": ("Clark, Cleo", "2003", "A trial of oral ketamine"),
    "dunn2004": ("Dunn, Dora", "2004", "Safety of repeated doses"),
    "evans2005": ("Evans, Eve", "2005", "Cancer pain and NMDA antagonists"),
}

METADATA = """\
title: "A small article"
slug: small-article
authors:
  - name: Ada Author
affiliations: {}
license: CC-BY-4.0
copyright:
  year: 2024
  holders: authors
journal:
  name: Journal of Tests
  csl: apa
abstract: abstract.md
sections:
  - body.md
"""


def bibliography(keys: list[str] | None = None) -> str:
    entries = []
    for key in keys or REFERENCES:
        author, year, title = REFERENCES[key]
        entries.append(
            f"@article{{{key},\n  author = {{{author}}},\n  title = {{{title}}},\n  journal = {{Pain}},\n"
            f"  year = {{{year}}},\n  volume = {{1}},\n  number = {{2}},\n  pages = {{1--9}},\n"
            f"  doi = {{10.1000/{key}}}\n}}\n"
        )
    return "\n".join(entries)


def write_project(root: Path, body: str, abstract: str = "A short abstract of the article.") -> Path:
    (root / "manuscript").mkdir(parents=True, exist_ok=True)
    (root / "bib").mkdir(exist_ok=True)
    (root / "manuscript" / "metadata.yaml").write_text(METADATA, encoding="utf-8")
    (root / "manuscript" / "abstract.md").write_text(abstract + "\n", encoding="utf-8")
    (root / "manuscript" / "body.md").write_text(body, encoding="utf-8")
    (root / "bib" / "refs.bib").write_text(bibliography(), encoding="utf-8")
    return root


def document_xml(docx: bytes) -> etree._Element:
    return etree.fromstring(zipfile.ZipFile(io.BytesIO(docx)).read("word/document.xml"))


def _mark(element: etree._Element, properties: str, kind: str) -> bool:
    return element.find(f"w:{properties}/w:{kind}", NS) is not None or (
        properties == "pPr" and element.find(f"w:pPr/w:rPr/w:{kind}", NS) is not None
    )


def resolve_revisions(docx: bytes, accept: bool) -> etree._Element:
    """word/document.xml as Word's "Accept all" (or "Reject all") leaves it.

    Accepting drops every deletion (a paragraph or row whose mark is deleted goes with it) and keeps
    the insertions' content; rejecting does the opposite.
    """
    root = document_xml(docx)
    drop, keep = ("del", "ins") if accept else ("ins", "del")
    for paragraph in list(root.iter(f"{{{W}}}p")):
        if _mark(paragraph, "pPr", drop):
            paragraph.getparent().remove(paragraph)
    for row in list(root.iter(f"{{{W}}}tr")):
        if _mark(row, "trPr", drop):
            row.getparent().remove(row)
    for element in list(root.iter(f"{{{W}}}{drop}")):
        element.getparent().remove(element)
    for element in list(root.iter(f"{{{W}}}{keep}")):
        parent = element.getparent()
        index = parent.index(element)
        for offset, child in enumerate(list(element)):
            parent.insert(index + offset, child)
        parent.remove(element)
    for text in root.iter(f"{{{W}}}delText"):
        text.tag = f"{{{W}}}t"
    return root


def paragraphs(root: etree._Element) -> list[str]:
    """The text of each paragraph of the body, in order."""
    body = root.find("w:body", NS)
    return ["".join(t.text or "" for t in p.iter(f"{{{W}}}t")) for p in body.iter(f"{{{W}}}p")]


def docx_paragraphs(docx: bytes) -> list[str]:
    return paragraphs(document_xml(docx))
