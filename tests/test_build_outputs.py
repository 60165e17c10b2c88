"""The three formats of the shipped manuscript, read back with real readers (pypdf, python-docx, html5lib)."""

from __future__ import annotations

import re
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import html5lib
import pytest
from conftest import ATTRIBUTION, AUTHORS, LICENSE_URL, ROOT
from docx import Document as WordDocument
from pypdf import PdfReader

from press.document import build_document
from press.load import load
from press.writers.shared import Shared

TITLE = "Ketamine as an optional treatment in chronic pain – a review"
SLUG = "ketamine-chronic-pain-review"
NS = {"h": "http://www.w3.org/1999/xhtml"}


def squash(text: str) -> str:
    """Text extraction breaks lines and hyphenates; compare on single-spaced text."""
    return re.sub(r"\s+", " ", text.replace("\u00ad", "")).strip()


@pytest.fixture(scope="module")
def pdf_text(shipped_build: Path) -> str:
    reader = PdfReader(shipped_build / f"{SLUG}.pdf")
    return squash(" ".join(page.extract_text() for page in reader.pages))


@pytest.fixture(scope="module")
def html_tree(shipped_build: Path):
    return html5lib.parse((shipped_build / f"{SLUG}.html").read_bytes(), treebuilder="lxml")


@pytest.fixture(scope="module")
def docx_document(shipped_build: Path):
    return WordDocument(str(shipped_build / f"{SLUG}.docx"))


def test_build_writes_the_three_formats_named_from_the_slug(shipped_build: Path):
    for ext in ("html", "pdf", "docx"):
        assert (shipped_build / f"{SLUG}.{ext}").stat().st_size > 10_000


def test_pdf_has_title_authors_attribution_and_references(pdf_text: str):
    assert TITLE.replace(" – ", " ") in pdf_text.replace(" – ", " ")
    for name in AUTHORS:
        assert name in pdf_text, name
    assert ATTRIBUTION in pdf_text
    assert LICENSE_URL in pdf_text
    assert "References" in pdf_text
    assert "Reich, D. L., & Silvay, G. (1989)" in pdf_text
    assert "https://doi.org/10.1007/BF03011442" in pdf_text


def test_pdf_metadata_carries_title_authors_keywords_and_licence(shipped_build: Path):
    reader = PdfReader(shipped_build / f"{SLUG}.pdf")
    info = reader.metadata
    assert info.title == TITLE
    for name in AUTHORS:
        assert name in info.author
    assert "ketamine" in info["/Keywords"]
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode("utf-8")
    assert LICENSE_URL in xmp
    assert "Creative Commons Attribution 4.0 International License" in xmp


def test_pdf_is_a4_and_numbers_its_pages(shipped_build: Path):
    reader = PdfReader(shipped_build / f"{SLUG}.pdf")
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)
    last = len(reader.pages)
    assert f"{last} / {last}" in reader.pages[-1].extract_text()
    assert "Spitaleri et al. (2025)" in reader.pages[1].extract_text()


def test_pdf_embeds_only_the_shipped_fonts(shipped_build: Path):
    reader = PdfReader(shipped_build / f"{SLUG}.pdf")
    fonts = set()
    for page in reader.pages:
        for font in (page["/Resources"].get("/Font") or {}).values():
            font = font.get_object()
            descriptor = font.get("/FontDescriptor")
            if descriptor is None and "/DescendantFonts" in font:
                descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"]
            descriptor = descriptor.get_object()
            assert any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")), font["/BaseFont"]
            fonts.add(str(font["/BaseFont"]).split("+")[-1])
    assert fonts and all(f.startswith(("Source-Serif-Pro", "Source-Sans-Pro")) for f in fonts), fonts


def test_html_has_lang_title_authors_attribution_and_references(html_tree):
    root = html_tree.getroot()
    assert root.get("lang") == "en"
    text = squash("".join(root.itertext()))
    assert root.find(".//h:h1", NS) is not None and squash("".join(root.find(".//h:h1", NS).itertext())) == TITLE
    for name in AUTHORS:
        assert name in text
    assert ATTRIBUTION in text
    assert root.find(".//h:link[@rel='license']", NS).get("href") == LICENSE_URL
    entries = root.findall(".//h:div[@class='csl-entry']", NS)
    assert len(entries) == 33
    dois = [a.get("href") for a in root.findall(".//h:div[@class='csl-entry']//h:a", NS)]
    assert "https://doi.org/10.1016/S0140-6736(21)00393-7" in dois


def test_html_citations_link_to_their_reference_entries(html_tree):
    root = html_tree.getroot()
    ids = {el.get("id") for el in root.iter() if el.get("id")}
    links = root.findall(".//h:a[@role='doc-biblioref']", NS)
    assert len(links) > 100
    assert all(link.get("href")[1:] in ids for link in links)


def test_html_is_self_contained(shipped_build: Path):
    html = (shipped_build / f"{SLUG}.html").read_text(encoding="utf-8")
    assert "<style>" in html
    assert not re.search(r'<link[^>]+rel="stylesheet"', html)
    assert not re.search(r"<script[^>]+src=", html)


def test_docx_has_front_matter_attribution_and_references(docx_document):
    paragraphs = docx_document.paragraphs
    styles = {p.style.name for p in paragraphs}
    assert {"Title", "Author", "Abstract", "Heading 1", "Bibliography"} <= styles
    title = next(p for p in paragraphs if p.style.name == "Title")
    assert title.text == TITLE
    author_line = next(p for p in paragraphs if p.style.name == "Author").text
    for name in AUTHORS:
        assert name in author_line
    text = squash("\n".join(p.text for p in paragraphs))
    assert ATTRIBUTION in text and LICENSE_URL in text
    assert sum(p.style.name == "Bibliography" for p in paragraphs) == 33


def test_docx_core_properties_carry_title_creators_keywords_and_licence(docx_document):
    props = docx_document.core_properties
    assert props.title == TITLE
    assert props.author == "; ".join(AUTHORS)
    assert "ketamine" in props.keywords
    assert LICENSE_URL in props.comments


def test_docx_table_caption_is_a_caption_paragraph_not_a_table_cell(shipped_build: Path):
    document_xml = zipfile.ZipFile(shipped_build / f"{SLUG}.docx").read("word/document.xml").decode()
    caption = re.search(r'<w:pStyle w:val="TableCaption"\s*/>.*?</w:p>', document_xml, re.S)
    assert caption and "Overview of clinical evidence" in caption.group(0)
    doc = WordDocument(str(shipped_build / f"{SLUG}.docx"))
    assert len(doc.tables) == 1
    assert all("Overview of clinical evidence" not in cell.text for row in doc.tables[0].rows for cell in row.cells)


def test_every_format_renders_the_same_reference_list(shipped_build: Path, pdf_text: str, docx_document, html_tree):
    html_entries = []
    for entry in html_tree.getroot().findall(".//h:div[@class='csl-entry']", NS):
        for backrefs in entry.findall(".//h:span[@class='backrefs']", NS):
            backrefs.getparent().remove(backrefs)
        html_entries.append(squash("".join(entry.itertext())))
    docx_entries = [squash(p.text) for p in docx_document.paragraphs if p.style.name == "Bibliography"]
    assert html_entries == docx_entries
    for entry in docx_entries:
        assert entry[:40] in pdf_text


def test_print_rendering_leaves_out_what_only_the_web_page_shows():
    """The PDF's HTML has no citation anchors, back-links or table regions: WeasyPrint would box them
    for nothing. The article page has them all, from the same document."""
    document = build_document(load(ROOT))
    with ThreadPoolExecutor(max_workers=2) as pool:
        shared = Shared(document, pool, renderings=("print",))
        print_abstract, print_body = shared.fragments("print")
        web_abstract, web_body = shared.fragments("web")  # not started with the others: rendered on request
    for marker in ('class="cite-anchor"', 'class="backrefs"', 'class="table-wrap"'):
        assert marker not in print_body
        assert marker in web_body
    assert print_body.count('role="doc-biblioref"') == web_body.count('role="doc-biblioref"') > 0
    assert print_abstract and web_abstract


def test_a_short_table_is_never_split_across_pages_and_a_long_one_is(tmp_path: Path):
    # Forty tables of two or three rows, of unequal heights, one after another: without the rule, the end
    # of a page falls inside some of them (a row left alone on a page, its table's caption on the other).
    from conftest import FIXTURES, copy_project, run_cli

    project = copy_project(FIXTURES / "minimal", tmp_path / "tables")
    tables = []
    for n in range(40):
        rows = "\n".join(f"| {kind}{n} | {n} mg |" for kind in "abc"[: 2 + n % 2])
        caption = "Doses " + "and more doses " * (n % 5)
        tables.append(f"| Drug | Dose |\n|---|---|\n{rows}\n\n: {caption}{n}. {{#tbl:t{n}}}\n")
    long = (
        "| Row | Value |\n|---|---|\n" + "\n".join(f"| r{n} | v{n} |" for n in range(90)) + "\n\n: Long. {#tbl:long}\n"
    )
    refs = " ".join(f"@tbl:t{n}" for n in range(40))
    results = project / "manuscript" / "results.md"
    text = results.read_text(encoding="utf-8") + f"\n\nSee {refs} and @tbl:long.\n\n" + "\n".join(tables) + "\n" + long
    results.write_text(text, encoding="utf-8")
    assert run_cli("pdf", "--root", str(project), "--out", str(tmp_path / "out")).returncode == 0
    pages = [page.extract_text() for page in PdfReader(next((tmp_path / "out").glob("*.pdf"))).pages]
    for n in range(40):
        (page,) = [p for p in pages if re.search(rf"\b{n}\.\n", p) and f"a{n} " in p] or [None]
        assert page is not None and f"b{n} " in page, f"table {n} is split across pages"
    assert len([p for p in pages if re.search(r"\br\d+ v", p)]) >= 2  # the long one is
