"""What every template sees: the article's front matter, attribution and fragments, computed once."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from . import pandoc
from .document import ABSTRACT_END, Document, stringify
from .kept import Memo, entry_key


@dataclass
class AuthorView:
    name: str
    marks: list[int]
    orcid: str | None
    email: str | None
    corresponding: bool


def author_views(document: Document) -> tuple[list[AuthorView], list[dict[str, Any]]]:
    """Authors with affiliation marks numbered by first appearance, and the numbered affiliations."""
    metadata = document.metadata
    order: dict[str, int] = {}
    for author in metadata.authors:
        for aff in author.affiliations:
            order.setdefault(aff, len(order) + 1)
    authors = [
        AuthorView(a.name, [order[x] for x in a.affiliations], a.orcid, a.email, a.corresponding)
        for a in metadata.authors
    ]
    affiliations = [{"mark": mark, "text": metadata.affiliations[aff]} for aff, mark in order.items()]
    return authors, affiliations


def short_citation(document: Document) -> str:
    authors = document.metadata.authors
    year = document.metadata.copyright_year
    if len(authors) == 1:
        return f"{authors[0].family} ({year})"
    if len(authors) == 2:
        return f"{authors[0].family} & {authors[1].family} ({year})"
    return f"{authors[0].family} et al. ({year})"


def self_reference(document: Document) -> dict[str, Any]:
    """The article itself as a CSL item, for the "How to cite" line."""
    metadata = document.metadata
    item: dict[str, Any] = {
        "id": "this-article",
        "type": "article-journal",
        "title": metadata.full_title,
        "author": [{"family": a.family, "given": " ".join(a.name.split()[:-1])} for a in metadata.authors],
        "issued": {"date-parts": [[metadata.copyright_year]]},
    }
    if metadata.journal.name:
        item["container-title"] = metadata.journal.name
    return item


def how_to_cite_html(document: Document, kept: Memo | None = None) -> str:
    """The article's own reference, formatted by citeproc in the journal's style.

    ``kept``: lines an earlier build kept (press.kept), used when metadata and style are the same.
    """
    ast = {
        "pandoc-api-version": document.ast["pandoc-api-version"],
        "meta": {
            "references": _meta_value([self_reference(document)]),
            "nocite": {
                "t": "MetaInlines",
                "c": [
                    {
                        "t": "Cite",
                        "c": [
                            [
                                {
                                    "citationId": "this-article",
                                    "citationPrefix": [],
                                    "citationSuffix": [],
                                    "citationMode": {"t": "NormalCitation"},
                                    "citationNoteNum": 0,
                                    "citationHash": 0,
                                }
                            ],
                            [],
                        ],
                    }
                ],
            },
        },
        "blocks": [],
    }
    csl = document.manuscript.csl_path
    request = json.dumps(ast, sort_keys=True)
    entry = entry_key(request, csl.read_bytes())
    line = kept.get(entry) if kept is not None else None
    if line is None:
        line = _formatted_reference(request, str(csl))
        if kept is not None:
            kept.put(entry, line)
    return line


def _formatted_reference(request: str, csl: str) -> str:
    out = pandoc.json_to(request.encode("utf-8"), "html", ["--citeproc", "--csl", csl], sandbox=False)
    html = out.decode("utf-8")
    start = html.find('<div id="ref-this-article"')
    inner = html[html.find(">", start) + 1 : html.rfind("</div>", 0, html.rfind("</div>"))].strip()
    # A numeric style puts the entry's number in a margin of its own: "1." would head the line alone.
    numbered = re.fullmatch(
        r'<div\s+class="csl-left-margin">.*?</div>\s*<div\s+class="csl-right-inline">(.*)</div>', inner, re.DOTALL
    )
    return numbered.group(1).strip() if numbered else inner


def _meta_value(value: Any) -> dict[str, Any]:
    """A plain Python value as pandoc metadata (strings stay literal, never parsed as Markdown)."""
    if isinstance(value, dict):
        return {"t": "MetaMap", "c": {k: _meta_value(v) for k, v in value.items()}}
    if isinstance(value, list):
        return {"t": "MetaList", "c": [_meta_value(v) for v in value]}
    if isinstance(value, bool):
        return {"t": "MetaBool", "c": value}
    return {"t": "MetaString", "c": str(value)}


def meta_value(value: Any) -> dict[str, Any]:
    return _meta_value(value)


def split_fragments(html: str) -> tuple[str, str]:
    """Pandoc's HTML of the resolved document, cut into the abstract and the body."""
    head, _, body = html.partition(ABSTRACT_END)
    head = head.strip()
    prefix = '<div id="abstract">'
    if head.startswith(prefix) and head.endswith("</div>"):
        head = head[len(prefix) : -len("</div>")].strip()
    return head, body.strip()


def table_of_contents(document: Document) -> list[dict[str, Any]]:
    entries = []
    for block in document.ast["blocks"]:
        if block["t"] == "Header" and block["c"][0] <= 2:
            entries.append({"level": block["c"][0], "id": block["c"][1][0], "text": stringify(block["c"][2])})
    return entries


def build_context(document: Document, *, blinded: bool = False) -> dict[str, Any]:
    """The template context shared by every format."""
    metadata = document.metadata
    authors, affiliations = author_views(document)
    holders = ", ".join(metadata.copyright_holders)
    if blinded:
        authors, affiliations, holders = [], [], "The authors"
    license_ = metadata.license
    json_ld = {
        "@context": "https://schema.org",
        "@type": "ScholarlyArticle",
        "headline": metadata.full_title,
        "name": metadata.full_title,
        "inLanguage": metadata.lang,
        "datePublished": document.date,
        "keywords": metadata.keywords,
        "license": license_.url,
        "copyrightYear": metadata.copyright_year,
        "author": [{"@type": "Person", "name": a.name} for a in authors],
    }
    if not blinded:
        json_ld["copyrightHolder"] = [{"@type": "Person", "name": h} for h in metadata.copyright_holders]
    if metadata.journal.name:
        json_ld["isPartOf"] = {"@type": "Periodical", "name": metadata.journal.name}
    return {
        "title": metadata.title,
        "subtitle": metadata.subtitle,
        "full_title": metadata.full_title,
        "short_title": metadata.short_title or metadata.title,
        "lang": metadata.lang,
        "article_type": metadata.article_type,
        "slug": metadata.slug,
        "journal": metadata.journal.name,
        "authors": authors,
        "affiliations": affiliations,
        "corresponding": [a for a in authors if a.corresponding],
        "keywords": metadata.keywords,
        "date": document.date,
        "year": metadata.copyright_year,
        "license": license_,
        "copyright": {"year": metadata.copyright_year, "holders": holders},
        "short_citation": "Anonymous (blinded)" if blinded else short_citation(document),
        "blinded": blinded,
        "json_ld": json.dumps(json_ld, ensure_ascii=False, indent=1).replace("</", "<\\/"),
        "toc": table_of_contents(document),
        "declarations": {} if blinded else metadata.declarations,
    }
