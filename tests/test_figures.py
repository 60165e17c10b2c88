"""Figures in every format: one PNG, JPEG, TIFF, SVG and PDF figure each, made by the tests, shown in the
PDF, the HTML page, the DOCX (also as LibreOffice renders it) and the submission bundle, proved by real
readers: the figures' colours on the rendered pages, the files beside the page loaded by Chromium,
word/media in the DOCX, the bundle's figure files and the JATS that names them."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from conftest import chromium, libreoffice_pdf, run_cli
from docx import Document as WordDocument
from figure_project import FIGURES, figure_project
from lxml import etree, html
from PIL import Image
from pypdf import PdfReader

from press import media
from press.build import build

SLUG = "minimal-article"
TEXT_WIDTH_MM = 170


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    project = figure_project(tmp_path_factory.mktemp("figures") / "project")
    result = run_cli("--root", str(project), "--out", str(project / "build"))
    assert result.returncode == 0, result.stderr
    return project


@pytest.fixture(scope="module")
def out(project: Path) -> Path:
    return project / "build"


def pages(pdf: Path, dpi: int = 50) -> list[Image.Image]:
    folder = pdf.parent / f"{pdf.stem}-pages-{dpi}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    subprocess.run(["pdftoppm", "-r", str(dpi), "-png", str(pdf), str(folder / "page")], check=True)
    return [Image.open(path).convert("RGB") for path in sorted(folder.glob("page-*.png"))]


def colour_box(image: Image.Image, rgb: tuple[int, int, int], tolerance: int = 40) -> tuple[int, int, int, int] | None:
    """The bounding box of the pixels of (about) ``rgb``, or None when there are hardly any."""
    mask = Image.new("1", image.size)
    pixels = image.load()
    marks = mask.load()
    count = 0
    for y in range(0, image.height):
        for x in range(0, image.width):
            if all(abs(a - b) <= tolerance for a, b in zip(pixels[x, y], rgb, strict=True)):
                marks[x, y] = 1
                count += 1
    return mask.getbbox() if count > 200 else None


def boxes(images: list[Image.Image]) -> dict[str, tuple[int, int, int, int]]:
    found = {}
    for spec in FIGURES:
        for image in images:
            if (box := colour_box(image, spec.rgb)) is not None:
                found[spec.kind] = box
                break
    return found


# ---- PDF ----


def test_every_figure_is_on_the_pdf_pages_at_the_width_asked(out: Path):
    found = boxes(pages(out / f"{SLUG}.pdf"))
    assert sorted(found) == sorted(spec.kind for spec in FIGURES), "a figure is missing from the PDF"
    text_px = TEXT_WIDTH_MM / 25.4 * 50
    for spec in FIGURES:
        width = found[spec.kind][2] - found[spec.kind][0]
        asked = float(spec.width.rstrip("%")) / 100 if spec.width else 1.0
        assert abs(width - asked * text_px) <= 4, (spec.kind, width, asked * text_px)


def test_pdf_and_svg_figures_stay_vector_and_rasters_keep_their_pixels(out: Path):
    # WeasyPrint gives every page the document's one resource dictionary: distinct images by name.
    images = {image.name: image for page in PdfReader(out / f"{SLUG}.pdf").pages for image in page.images}
    # The PNG, the JPEG and the TIFF: the SVG and the PDF figure are drawn as paths.
    assert len(images) == 3
    assert sorted(image.image.size for image in images.values()) == [(2100, 1050)] * 3, "resampled"


def test_figure_captions_are_numbered_and_kept_with_their_figure(out: Path):
    text = subprocess.run(["pdftotext", str(out / f"{SLUG}.pdf"), "-"], capture_output=True, text=True).stdout
    for number, spec in enumerate(FIGURES, 1):
        assert f"Figure {number}. A {spec.kind.upper()} figure of one colour." in text


# ---- HTML ----


def test_the_page_uses_renditions_published_beside_it(out: Path):
    page = html.parse(str(out / f"{SLUG}.html")).getroot()
    images = page.findall(".//figure//img")
    assert len(images) == len(FIGURES)
    for image, spec in zip(images, FIGURES, strict=True):
        source = image.get("src")
        assert source.startswith("figures/") and (out / source).is_file(), source
        assert image.get("loading") == "lazy" and image.get("alt")
        assert int(image.get("width")) > 0 and int(image.get("height")) > 0
        expected = {"pdf": "svg", "tiff": "png", "svg": "svg", "png": "png", "jpeg": "jpeg"}[spec.kind]
        assert media.sniff((out / source).read_bytes()) == expected
        if spec.width:
            assert f"width: {spec.width}" in image.get("style")


def test_every_figure_loads_in_chromium(out: Path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = chromium(playwright)
        tab = browser.new_page()
        failed: list[str] = []
        tab.on("requestfailed", lambda request: failed.append(request.url))
        tab.goto((out / f"{SLUG}.html").as_uri())
        for image in tab.query_selector_all("figure img"):
            image.scroll_into_view_if_needed()  # they load lazily
        tab.wait_for_function("[...document.images].every(i => i.complete)")
        sizes = tab.evaluate("[...document.querySelectorAll('figure img')].map(i => i.naturalWidth)")
        browser.close()
    assert failed == [] and len(sizes) == len(FIGURES) and all(width > 0 for width in sizes), sizes


# ---- DOCX ----


def test_the_docx_embeds_every_figure_at_the_width_asked(out: Path):
    data = (out / f"{SLUG}.docx").read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert len([n for n in archive.namelist() if n.startswith("word/media/")]) == len(FIGURES)
    word = WordDocument(io.BytesIO(data))
    shapes = word.inline_shapes
    assert len(shapes) == len(FIGURES)
    section = word.sections[0]
    text_width = section.page_width - section.left_margin - section.right_margin
    for shape, spec in zip(shapes, FIGURES, strict=True):
        asked = float(spec.width.rstrip("%")) / 100 if spec.width else 1.0
        assert abs(shape.width / text_width - asked) < 0.02, (spec.kind, shape.width / text_width)
    captions = [p for p in word.paragraphs if p.style.name == "Image Caption"]
    assert [p.text.split(".")[0] for p in captions] == [f"Figure {n}" for n in range(1, len(FIGURES) + 1)]
    assert captions[0].style.base_style.name == "Caption"  # Word's own caption style


def test_libreoffice_shows_every_figure_of_the_docx(out: Path, tmp_path: Path):
    converted = libreoffice_pdf(out / f"{SLUG}.docx", tmp_path)
    assert sorted(boxes(pages(converted))) == sorted(spec.kind for spec in FIGURES)


# ---- JATS and the submission bundle ----


def test_the_bundle_holds_each_figure_as_its_own_file_named_by_the_jats(project: Path, tmp_path: Path):
    result = run_cli("submission", "--root", str(project), "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    [bundle] = tmp_path.glob("*.zip")
    with zipfile.ZipFile(bundle) as archive:
        names = archive.namelist()
        expected = [f"figure-{n}.{suffix}" for n, suffix in enumerate(["png", "jpg", "tif", "svg", "pdf"], 1)]
        assert [n for n in names if n.startswith("figure-")] == expected
        manifest = archive.read("MANIFEST.txt").decode()
        assert all(re.search(rf"  {re.escape(name)}$", manifest, re.M) for name in expected)
        xml = etree.fromstring(archive.read("manuscript.xml"))
        for name in expected:
            assert media.sniff(archive.read(name)) == {"jpg": "jpeg", "tif": "tiff"}.get(name[-3:], name[-3:])
    figures = xml.findall(".//fig")
    assert [f.findtext("label") for f in figures] == [f"Figure {n}" for n in range(1, 6)]
    assert all(f.get("id") and f.find("caption") is not None for f in figures)
    hrefs = [g.get("{http://www.w3.org/1999/xlink}href") for g in xml.iter("graphic")]
    assert hrefs == expected
    assert "Figure 1." not in etree.tostring(figures[0].find("caption"), encoding="unicode")


def test_an_svg_figure_s_author_metadata_never_reaches_an_output(tmp_path: Path):
    project = figure_project(tmp_path / "project")
    svg = project / "manuscript" / "img" / "svg.svg"
    svg.write_text(
        svg.read_text(encoding="utf-8").replace(
            ">",
            '><metadata><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator>Zofia Łącka</dc:creator></rdf:RDF></metadata>',
            1,
        ),
        encoding="utf-8",
    )
    out = tmp_path / "out"
    assert run_cli("--root", str(project), "--out", str(out)).returncode == 0
    assert run_cli("submission", "--root", str(project), "--out", str(tmp_path / "dist")).returncode == 0
    published = [p for p in (out / "figures").iterdir() if p.suffix == ".svg"]
    assert published and not any("Łącka".encode() in p.read_bytes() for p in published)
    [bundle] = (tmp_path / "dist").glob("*.zip")
    with zipfile.ZipFile(bundle) as archive:
        assert "Łącka".encode() not in archive.read("figure-4.svg")
        with zipfile.ZipFile(io.BytesIO(archive.read("manuscript-blinded.docx"))) as word:
            assert not any("Łącka".encode() in word.read(n) for n in word.namelist() if n.startswith("word/media/"))


# ---- rebuilds ----


def test_a_text_edit_converts_no_figure_and_a_changed_figure_rebuilds(tmp_path: Path, monkeypatch):
    project = figure_project(tmp_path / "project")
    out = tmp_path / "out"
    build(project, out)
    first = {p.name: p.read_bytes() for p in (out / "figures").iterdir()}

    def no_conversion(*args, **kwargs):
        raise AssertionError("an unchanged figure was converted again")

    monkeypatch.setattr(media, "convert", no_conversion)
    intro = project / "manuscript" / "intro.md"
    intro.write_text(intro.read_text(encoding="utf-8") + "\nOne more sentence.\n", encoding="utf-8")
    assert sorted(build(project, out).rebuilt) == ["docx", "html", "pdf"]
    assert {p.name: p.read_bytes() for p in (out / "figures").iterdir()} == first
    monkeypatch.undo()

    Image.new("RGB", (2100, 1050), (10, 10, 10)).save(project / "figures" / "png.png", dpi=(300, 300))
    result = build(project, out)
    assert sorted(result.rebuilt) == ["docx", "html", "pdf"]
    assert all("figures/png.png changed" == o.reason for o in result.outputs)
    now = {p.name for p in (out / "figures").iterdir()}
    assert len(now) == len(first) and now != set(first), "the old rendition is gone, the new one there"
    assert build(project, out).rebuilt == []


def test_two_clean_builds_give_the_same_bytes_figures_included(project: Path, out: Path, tmp_path: Path):
    again = tmp_path / "again"
    assert run_cli("--root", str(project), "--out", str(again)).returncode == 0
    for path in [*out.glob(f"{SLUG}.*"), *(out / "figures").iterdir()]:
        if path.is_file():
            assert (again / path.relative_to(out)).read_bytes() == path.read_bytes(), path.name


# ---- interrupted and concurrent builds ----


def test_a_killed_build_leaves_the_previous_outputs_and_figures_as_they_were(tmp_path: Path):
    from test_bad_inputs import _start_build, _wait_for_pdf_work, snapshot

    project = figure_project(tmp_path / "project")
    out = tmp_path / "out"
    assert run_cli("--root", str(project), "--out", str(out)).returncode == 0
    before = {k: v for k, v in snapshot(out).items() if not k.startswith(".press-media/")}
    Image.new("RGB", (2100, 1050), (10, 10, 10)).save(project / "figures" / "png.png", dpi=(300, 300))
    intro = project / "manuscript" / "intro.md"
    paragraph = "Chronic pain is very common and the trials of ketamine are small [@smith2020pain]. " * 12
    intro.write_text(intro.read_text(encoding="utf-8") + ("\n\n" + paragraph) * 150, encoding="utf-8")
    process = _start_build(project, out)
    _wait_for_pdf_work(process, out)
    assert process.poll() is None, "the build ended before it could be killed"
    process.kill()
    process.communicate(timeout=60)
    after = snapshot(out)
    kept = {k: v for k, v in after.items() if not k.startswith(".press-media/") and ".press-tmp" not in k}
    assert kept == before
    result = run_cli("--root", str(project), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert not list(out.rglob(".press-tmp*"))


def test_two_builds_of_a_manuscript_with_figures_into_one_folder_do_not_interleave(tmp_path: Path):
    from test_bad_inputs import _start_build

    project = figure_project(tmp_path / "project")
    out = tmp_path / "out"
    first, second = _start_build(project, out), _start_build(project, out)
    errors = [process.communicate(timeout=120)[1] for process in (first, second)]
    assert first.returncode == 0 and second.returncode == 0, errors
    assert "another build is writing to" in "".join(errors)
    page = html.parse(str(out / f"{SLUG}.html")).getroot()
    assert all((out / image.get("src")).is_file() for image in page.findall(".//img"))
    assert len(PdfReader(out / f"{SLUG}.pdf").pages) >= 1
