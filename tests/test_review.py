"""The review manuscript (press.review, press.line_numbers): line numbers on the baselines WeasyPrint laid
out, the review layout, Word's own line numbering in the DOCX, and figures after the references.

Everything through the real pipeline (`python build.py pdf docx --review`), read back with pypdf,
pdftotext, python-docx/lxml and LibreOffice.
"""

from __future__ import annotations

import io
import math
import re
import subprocess
import zipfile
from pathlib import Path

import pytest
from conftest import libreoffice_pdf, run_cli
from figure_project import figure_project
from lxml import etree
from pypdf import PdfReader
from pypdf.generic import ContentStream

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
MARGIN_PT = 25 * 72 / 25.4  # the review layout's 2.5 cm
SLUG = "ketamine-chronic-pain-review"


def set_profile(project: Path, journal: str) -> None:
    """Replace the metadata's journal: block with ``journal`` (YAML lines, indented under journal:)."""
    path = project / "manuscript" / "metadata.yaml"
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"^journal:\n(?:  .*\n)+", "", text, flags=re.M)
    path.write_text(text + "journal:\n" + journal, encoding="utf-8")


def runs(page) -> list[tuple[str, float, float, float]]:
    """Each piece of text on ``page``: (text, x, baseline y, font size), in PDF points."""
    found = []

    def visit(text, cm, tm, _font, size):
        if text.strip():
            x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
            y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
            scale = math.hypot(tm[0], tm[1]) * math.hypot(cm[0], cm[1])
            found.append((text, x, y, size * scale))

    page.extract_text(visitor_text=visit)
    return found


def margin_numbers(page, margin: float = MARGIN_PT) -> list[tuple[int, float]]:
    """The line numbers in the left margin: (number, baseline y), top to bottom."""
    numbers = [(int(t), y) for t, x, y, _s in runs(page) if x < margin - 4 and t.strip().isdigit()]
    return sorted(numbers, key=lambda n: -n[1])


def text_line_baselines(page, min_size: float = 11.5) -> list[float]:
    """Baselines of the lines of 12 pt text right of the margin (the review layout's text, headings,
    captions and references; the notes, tables and footer are set smaller), one per row."""
    ys = sorted({round(y, 1) for t, x, y, s in runs(page) if x >= MARGIN_PT - 1 and s >= min_size}, reverse=True)
    rows: list[float] = []
    for y in ys:
        if not rows or rows[-1] - y > 1.0:
            rows.append(y)
    return rows


@pytest.fixture(scope="session")
def review_build(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("review-build")
    result = run_cli("pdf", "docx", "--review", "--out", str(out))
    assert result.returncode == 0, result.stderr
    return out


@pytest.fixture(scope="session")
def review_pdf(review_build) -> PdfReader:
    return PdfReader(review_build / f"{SLUG}-review.pdf")


def test_review_build_writes_beside_the_typeset_outputs_and_says_so(review_build):
    assert sorted(p.name for p in review_build.iterdir() if p.is_file()) == [
        f"{SLUG}-review.docx",
        f"{SLUG}-review.pdf",
    ]


def test_every_text_line_has_one_number_on_its_baseline(review_pdf):
    lines_seen = 0
    for index, page in enumerate(review_pdf.pages):
        numbers = margin_numbers(page)
        lines = text_line_baselines(page)
        assert len(numbers) == len(lines), f"page {index + 1}: {len(numbers)} numbers for {len(lines)} lines"
        for (number, y), line in zip(numbers, lines, strict=True):
            assert abs(y - line) <= 1.0, f"page {index + 1}: number {number} at {y:.2f}, its line at {line:.2f}"
        lines_seen += len(lines)
    assert lines_seen > 500  # the shipped review is 25 pages of text: a check that found none proves nothing


def test_numbers_run_on_from_page_to_page(review_pdf):
    numbers = [n for page in review_pdf.pages for n, _y in margin_numbers(page)]
    assert numbers == list(range(1, len(numbers) + 1))
    assert len({len(margin_numbers(page)) > 0 for page in review_pdf.pages}) == 1  # every page numbered


def test_no_number_beside_the_footer_the_licence_notes_or_a_table(review_pdf):
    for index, page in enumerate(review_pdf.pages):
        numbered = [y for _n, y in margin_numbers(page)]
        [footer] = [y for t, _x, y, _s in runs(page) if t.strip() == f"{index + 1} of {len(review_pdf.pages)}"]
        small = [y for t, x, y, s in runs(page) if x >= MARGIN_PT - 1 and s < 11.5 and abs(y - footer) > 1]
        assert all(abs(y - footer) > 3 for y in numbered)
        assert all(abs(y - other) > 1 for y in numbered for other in small if other not in text_line_baselines(page))


def test_pdftotext_shows_the_numbers_at_the_start_of_lines(review_build):
    text = subprocess.run(
        ["pdftotext", "-layout", "-f", "3", "-l", "3", str(review_build / f"{SLUG}-review.pdf"), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    leading = [int(m.group(1)) for m in re.finditer(r"^\s*(\d+)\s{2,}\S", text, re.M)]
    assert len(leading) > 20
    assert leading == list(range(leading[0], leading[0] + len(leading)))


def test_numbers_are_one_artifact_a_page_outside_the_tags(review_pdf):
    page = review_pdf.pages[0]
    operations = ContentStream(page.get_contents(), review_pdf).operations
    stack, shown_in_artifact, marked_in_artifact = [], 0, 0
    for operands, operator in operations:
        if operator in (b"BMC", b"BDC"):
            if "/Artifact" in stack and operator == b"BDC":
                marked_in_artifact += 1
            stack.append(str(operands[0]))
        elif operator == b"EMC":
            stack.pop()
        elif operator in (b"Tj", b"TJ") and stack and stack[0] == "/Artifact" and len(stack) == 1:
            shown_in_artifact += 1
    assert shown_in_artifact >= len(margin_numbers(page))
    assert marked_in_artifact == 0  # no MCID inside: nothing of the numbers in the structure tree
    catalog = review_pdf.trailer["/Root"]
    assert "/StructTreeRoot" in catalog


def test_review_pdf_passes_qpdf_check(review_build):
    result = subprocess.run(
        ["qpdf", "--check", str(review_build / f"{SLUG}-review.pdf")], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_review_layout_is_12pt_left_aligned_with_25mm_margins_and_n_of_m(review_pdf):
    page = review_pdf.pages[2]
    assert round(float(page.mediabox.width)) == 595 and round(float(page.mediabox.height)) == 842
    body = [(x, s) for t, x, y, s in runs(page) if x >= MARGIN_PT - 1]
    assert min(x for x, _s in body) == pytest.approx(MARGIN_PT, abs=0.1)
    assert max(body, key=lambda b: [s for _x, s in body].count(b[1]))[1] == pytest.approx(12, abs=0.01)
    lines = text_line_baselines(page)
    gaps = [round(a - b, 1) for a, b in zip(lines, lines[1:], strict=False)]
    assert max(set(gaps), key=gaps.count) == pytest.approx(24, abs=0.1)  # double spaced: 2 x 12 pt
    text = page.extract_text()
    assert f"3 of {len(review_pdf.pages)}" in text


def test_review_docx_numbers_its_lines_with_words_own_numbering(review_build):
    with zipfile.ZipFile(review_build / f"{SLUG}-review.docx") as docx:
        document = etree.fromstring(docx.read("word/document.xml"))
        styles = etree.fromstring(docx.read("word/styles.xml"))
        footers = [etree.fromstring(docx.read(n)) for n in docx.namelist() if n.startswith("word/footer")]
    [numbering] = document.findall(f".//{W}sectPr/{W}lnNumType")
    assert numbering.get(f"{W}countBy") == "1" and numbering.get(f"{W}restart") == "continuous"
    spacing = styles.find(f".//{W}style[@{W}styleId='BodyText']/{W}pPr/{W}spacing")
    assert spacing.get(f"{W}line") == "480" and spacing.get(f"{W}lineRule") == "auto"  # double
    margin = document.find(f".//{W}sectPr/{W}pgMar")
    assert int(margin.get(f"{W}left")) == pytest.approx(1417, abs=2)  # 2.5 cm in twentieths of a point
    instructions = [f.get(f"{W}instr").strip() for footer in footers for f in footer.iter(f"{W}fldSimple")]
    assert instructions == ["PAGE", "NUMPAGES"]


def test_libreoffice_numbers_the_review_docx_lines(review_build, tmp_path):
    pdf = libreoffice_pdf(review_build / f"{SLUG}-review.docx", tmp_path)
    text = subprocess.run(
        ["pdftotext", "-layout", "-l", "2", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    leading = [int(m.group(1)) for m in re.finditer(r"^\s*(\d+)\s{2,}\S", text, re.M)]
    assert leading[:5] == [1, 2, 3, 4, 5]
    assert len(leading) > 30 and leading == sorted(leading)  # continuous onto page 2
    assert re.search(r"^\s*1 of \d+\s*$", text, re.M)  # the footer, itself unnumbered
    assert not re.search(r"^\s*\d+\s*$", text, re.M)  # no number beside an empty line


def test_the_typeset_pdf_has_no_line_numbers(shipped_build):
    reader = PdfReader(shipped_build / f"{SLUG}.pdf")
    typeset_margin = 20 * 72 / 25.4  # print.css
    assert all(min(x for _t, x, _y, _s in runs(page)) >= typeset_margin - 0.5 for page in reader.pages[:3])
    assert margin_numbers(reader.pages[2], typeset_margin) == []


# ---- figures at the end, numbers from 1 on each page: the vancouver-medical profile ----


def paints_an_image(reader: PdfReader, page) -> bool:
    """Whether the page's own content paints an image (WeasyPrint shares one Resources dictionary)."""
    return any(operator == b"Do" for _operands, operator in ContentStream(page.get_contents(), reader).operations)


@pytest.fixture(scope="session")
def figures_at_end(tmp_path_factory) -> tuple[Path, Path]:
    project = figure_project(tmp_path_factory.mktemp("figures-at-end"))
    set_profile(project, "  profile: vancouver-medical\n")
    out = project / "build"
    result = run_cli("--root", str(project), "pdf", "docx", "--review", "--out", str(out))
    assert result.returncode == 0, result.stderr
    return project, out


def test_figures_follow_the_references_one_a_page_after_a_captions_list(figures_at_end):
    _project, out = figures_at_end
    reader = PdfReader(out / "minimal-article-review.pdf")
    texts = [page.extract_text() for page in reader.pages]
    [references] = [i for i, t in enumerate(texts) if "References" in t]
    [captions] = [i for i, t in enumerate(texts) if "Figure captions" in t]
    assert captions > references
    for n in range(1, 6):
        assert f"Figure {n}." in texts[captions]
    figure_pages = [next(i for i, t in enumerate(texts) if i > captions and f"Figure {n}. A" in t) for n in range(1, 6)]
    assert figure_pages == sorted(set(figure_pages))  # one figure a page, in order, after the list
    for number, index in enumerate(figure_pages, 1):  # each page holds its caption and nothing else
        words = set(texts[index].split()) - {"Figure", f"{number}.", "1", f"{index + 1}", "of", f"{len(texts)}"}
        assert words <= {"A", "figure", "one", "colour.", *"PNG JPEG TIFF SVG PDF".split()}, words
    raster = [i for i, page in enumerate(reader.pages) if paints_an_image(reader, page)]
    assert len(raster) == 3 and set(raster) <= set(figure_pages)  # PNG, JPEG, TIFF (SVG and PDF are vector)
    [table] = [i for i, t in enumerate(texts) if "Table 1. Some measures." in t]
    assert captions < table < min(figure_pages)


def test_cross_references_still_link_to_the_moved_figures(figures_at_end):
    _project, out = figures_at_end
    reader = PdfReader(out / "minimal-article-review.pdf")
    names = set(reader.named_destinations)
    links = [
        annotation.get_object()
        for page in reader.pages
        for annotation in page.get("/Annots", [])
        if annotation.get_object().get("/Subtype") == "/Link"
    ]
    targets = {str(link["/Dest"]) for link in links if "/Dest" in link}
    assert {"fig:png", "fig:svg"} <= targets
    assert {"fig:png", "fig:svg"} <= names


def test_numbers_restart_on_each_page_when_the_profile_says_page(figures_at_end):
    _project, out = figures_at_end
    reader = PdfReader(out / "minimal-article-review.pdf")
    numbered = [[n for n, _y in margin_numbers(page)] for page in reader.pages]
    numbered = [numbers for numbers in numbered if numbers]
    assert len(numbered) >= 3
    assert all(numbers == list(range(1, len(numbers) + 1)) for numbers in numbered)
    with zipfile.ZipFile(out / "minimal-article-review.docx") as docx:
        document = etree.fromstring(docx.read("word/document.xml"))
    [numbering] = document.findall(f".//{W}sectPr/{W}lnNumType")
    assert numbering.get(f"{W}restart") == "newPage"


def test_docx_figures_follow_the_references_with_their_captions(figures_at_end):
    from docx import Document as WordDocument

    _project, out = figures_at_end
    word = WordDocument(io.BytesIO((out / "minimal-article-review.docx").read_bytes()))
    texts = [p.text for p in word.paragraphs]
    references = texts.index("References")
    captions = texts.index("Figure captions")
    assert captions > references
    body = word.element.body
    drawings = [p for p in body.iter(f"{W}p") if p.find(f".//{W}drawing") is not None]
    paragraphs = list(body.iter(f"{W}p"))
    assert len(drawings) == 5
    assert all(paragraphs.index(p) > paragraphs.index(word.paragraphs[captions]._p) for p in drawings)


def test_libreoffice_numbers_no_page_break_or_image_line(figures_at_end, tmp_path):
    _project, out = figures_at_end
    pdf = libreoffice_pdf(out / "minimal-article-review.docx", tmp_path)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    pages = text.split("\f")
    assert not re.search(r"^\s*\d+\s*$", text, re.M)  # the page breaks' empty lines and the images: unnumbered
    for page in pages[4:-1]:  # each figure's page: its caption, numbered 1 (from 1 on each page)
        assert re.search(r"^\s*1\s+Figure \d\.", page, re.M), page


def test_review_refuses_formats_it_does_not_lay_out():
    result = run_cli("html", "--review", "--out", "/tmp/never-written")
    assert result.returncode == 2
    assert "--review" in result.stderr and "Traceback" not in result.stderr
    assert not Path("/tmp/never-written").exists()
