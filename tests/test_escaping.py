"""Metadata is text, never markup or template code: a title with `<script>`, `&` and `{{ 7*7 }}`, an
author and a keyword with `<b>`, quotes and `{%`, appear literally in the HTML, the PDF and the DOCX."""

from __future__ import annotations

import json
import re
from pathlib import Path

import html5lib
import pytest
import yaml
from conftest import FIXTURES, copy_project, run_cli
from docx import Document as WordDocument
from pypdf import PdfReader

TITLE = "<script>alert(1)</script> & {{ 7*7 }} ü"
AUTHOR = 'Ann <b>"Bee"</b> {% raw %} Kowalska'
KEYWORD = '<b>bold</b> "quoted" {% set x = 7*7 %}{{ x }}'
SLUG = "minimal-article"
NS = {"h": "http://www.w3.org/1999/xhtml"}
SCRIPT = "{http://www.w3.org/1999/xhtml}script"
BOLD = "{http://www.w3.org/1999/xhtml}b"
# What the strings would become if a template evaluated them instead of printing them.
EVALUATED = [TITLE.replace("{{ 7*7 }}", "49"), KEYWORD.replace("{% set x = 7*7 %}{{ x }}", "49")]
# Script types a browser runs; JSON-LD (application/ld+json) is a data block it never executes.
SCRIPT_TYPES = {"", "text/javascript", "application/javascript", "module", "text/ecmascript"}


def squash(text: str) -> str:
    """Layout breaks lines and hyphenates; compare on single-spaced text."""
    return re.sub(r"\s+", " ", text.replace("\u00ad", "")).strip()


@pytest.fixture(scope="module")
def hostile_build(tmp_path_factory) -> Path:
    """The minimal project with hostile metadata, built into HTML, PDF and DOCX."""
    project = copy_project(FIXTURES / "minimal", tmp_path_factory.mktemp("hostile-project"))
    path = project / "manuscript" / "metadata.yaml"
    metadata = yaml.safe_load(path.read_text(encoding="utf-8"))
    metadata["title"] = TITLE
    metadata["authors"][0]["name"] = AUTHOR
    metadata["keywords"] = [KEYWORD, "testing"]
    path.write_text(yaml.safe_dump(metadata, allow_unicode=True, sort_keys=False), encoding="utf-8")
    out = tmp_path_factory.mktemp("hostile-build")
    result = run_cli("html", "pdf", "docx", "--root", str(project), "--out", str(out))
    assert result.returncode == 0, result.stdout + result.stderr
    return out


@pytest.fixture(scope="module")
def html_tree(hostile_build: Path):
    return html5lib.parse((hostile_build / f"{SLUG}.html").read_bytes(), treebuilder="lxml")


@pytest.fixture(scope="module")
def pdf(hostile_build: Path) -> PdfReader:
    return PdfReader(hostile_build / f"{SLUG}.pdf")


@pytest.fixture(scope="module")
def docx(hostile_build: Path):
    return WordDocument(str(hostile_build / f"{SLUG}.docx"))


def text_of(element) -> str:
    return "".join(element.itertext())


def assert_never_evaluated(text: str) -> None:
    for evaluated in EVALUATED:
        assert evaluated not in text, f"a template evaluated metadata: {evaluated!r} found"


# ---- HTML ----


def test_html_title_and_heading_are_the_literal_title(html_tree):
    titles = html_tree.findall(".//h:head/h:title", NS)
    headings = html_tree.findall(".//h:h1", NS)
    assert [text_of(t) for t in titles] == [TITLE]
    assert [text_of(h) for h in headings] == [TITLE]


def test_html_runs_no_script_from_metadata(html_tree):
    for script in html_tree.iter(SCRIPT):
        kind = (script.get("type") or "").strip().lower()
        if kind in SCRIPT_TYPES:
            assert "alert(1)" not in text_of(script), "the title became a script the browser runs"
    # The title's <b> tags and the author's are text, not elements.
    assert not [b for b in html_tree.iter(BOLD) if "bold" in text_of(b) or "Bee" in text_of(b)]


def test_html_json_ld_carries_the_literal_metadata(html_tree):
    blocks = [s for s in html_tree.iter(SCRIPT) if (s.get("type") or "").lower() == "application/ld+json"]
    assert len(blocks) == 1
    data = json.loads(text_of(blocks[0]))
    assert data["headline"] == TITLE
    assert data["author"][0]["name"] == AUTHOR
    assert KEYWORD in data["keywords"]


def test_html_author_and_keyword_appear_literally(html_tree):
    authors = " ".join(text_of(p) for p in html_tree.iterfind(".//h:p[@class='authors']", NS))
    assert AUTHOR in authors
    keywords = " ".join(text_of(p) for p in html_tree.iterfind(".//h:p[@class='keywords']", NS))
    assert KEYWORD in keywords
    meta = {m.get("name"): m.get("content") for m in html_tree.iterfind(".//h:head/h:meta", NS) if m.get("name")}
    assert KEYWORD in meta.get("keywords", ""), meta


def test_html_never_evaluates_template_code(html_tree):
    text = text_of(html_tree.getroot())
    assert "{{ 7*7 }}" in text and "{% set x = 7*7 %}" in text and "{% raw %}" in text
    assert_never_evaluated(text)


# ---- PDF ----


def test_pdf_text_shows_the_literal_metadata(pdf):
    text = squash(" ".join(page.extract_text() for page in pdf.pages))
    assert TITLE in text
    assert AUTHOR in text
    assert KEYWORD in text
    assert_never_evaluated(text)


def test_pdf_document_info_is_the_literal_metadata(pdf):
    info = pdf.metadata
    assert info.title == TITLE
    assert AUTHOR in info.author
    assert KEYWORD in info["/Keywords"]
    assert_never_evaluated(" ".join(str(value) for value in info.values()))


# ---- DOCX ----


def test_docx_paragraphs_show_the_literal_metadata(docx):
    paragraphs = [p.text for p in docx.paragraphs]
    assert TITLE in paragraphs, paragraphs[:6]
    text = "\n".join(paragraphs)
    assert AUTHOR in text
    assert KEYWORD in text
    assert_never_evaluated(text)


def test_docx_core_properties_are_the_literal_metadata(docx):
    core = docx.core_properties
    assert core.title == TITLE
    assert AUTHOR in core.author
    assert KEYWORD in core.keywords
