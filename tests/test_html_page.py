"""The article page as a reader, a validator and a search engine see it (the browser parts: test_browser.py)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import html5lib
import pytest
from conftest import AUTHORS, FIXTURES, LICENSE_URL, ROOT, copy_project, run_cli
from PIL import Image

SLUG = "ketamine-chronic-pain-review"
MINIMAL_SLUG = "minimal-article"
VNU_JAR = ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
NS = {"h": "http://www.w3.org/1999/xhtml"}


def parse(path: Path):
    return html5lib.parse(path.read_bytes(), treebuilder="lxml").getroot()


def text_of(element) -> str:
    return " ".join("".join(element.itertext()).split())


def meta(root, name: str) -> list[str]:
    return [m.get("content") for m in root.findall(f".//h:meta[@name='{name}']", NS)]


@pytest.fixture(scope="module")
def shipped(shipped_build: Path):
    """The shipped manuscript with every format built: the page links the PDF and DOCX."""
    return parse(shipped_build / f"{SLUG}.html")


@pytest.fixture(scope="module")
def minimal_with_figure(tmp_path_factory) -> Path:
    """The minimal fixture (affiliations, ORCID, journal) plus a figure, built as HTML only."""
    project = copy_project(FIXTURES / "minimal", tmp_path_factory.mktemp("page") / "project")
    # A small PNG, made by Pillow: the build reads every figure, so it must be a whole image file.
    Image.new("RGB", (40, 20), (20, 90, 160)).save(project / "manuscript" / "plot.png")
    with (project / "manuscript" / "results.md").open("a", encoding="utf-8") as results:
        results.write("\n![Pain scores by week.](plot.png){#fig:plot}\n")
    result = run_cli("html", "--root", str(project), "--out", str(project / "build"))
    assert result.returncode == 0, result.stderr
    return project / "build" / f"{MINIMAL_SLUG}.html"


@pytest.fixture(scope="module")
def minimal(minimal_with_figure: Path):
    return parse(minimal_with_figure)


def nu_html_check(*pages: Path) -> subprocess.CompletedProcess:
    """The Nu Html Checker (vnu-jar from npm, on the machine's Java) over ``pages``: errors only.

    Skipped when Java or node_modules are missing on a developer's machine; a failure under CI.
    """
    missing = [what for what, ok in (("java", shutil.which("java")), (str(VNU_JAR), VNU_JAR.is_file())) if not ok]
    if missing:
        message = (
            f"the Nu Html Checker needs {' and '.join(missing)}: `apt-get install default-jre-headless`, `npm install`"
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return subprocess.run(
        ["java", "-jar", str(VNU_JAR), "--errors-only", *map(str, pages)], capture_output=True, text=True, timeout=120
    )


def test_pages_are_valid_html5_by_the_nu_html_checker(shipped_build: Path, minimal_with_figure: Path):
    result = nu_html_check(shipped_build / f"{SLUG}.html", minimal_with_figure)
    assert result.returncode == 0, result.stderr + result.stdout


def test_language_and_viewport_are_set(shipped):
    assert shipped.get("lang") == "en"
    assert "width=device-width" in meta(shipped, "viewport")[0]


@pytest.mark.parametrize("page", ["shipped", "minimal"])
def test_headings_go_down_one_level_at_a_time_from_a_single_h1(page: str, request):
    root = request.getfixturevalue(page)
    levels = [
        int(el.tag[-1])
        for el in root.iter()
        if isinstance(el.tag, str) and el.tag[-2:-1] == "h" and el.tag[-1].isdigit()
    ]
    assert levels[0] == 1 and levels.count(1) == 1
    for previous, current in zip(levels, levels[1:], strict=False):
        assert current <= previous + 1, levels
    body = root.find(".//h:div[@class='body']", NS)
    top = [child.tag.split("}")[1] for child in body if child.tag.split("}")[1] in ("h1", "h2", "h3")]
    assert top[0] == "h2" and "h1" not in top  # sections are h2 under the title's h1 (--shift-heading-level-by=1)


def test_every_image_has_alt_text(minimal):
    images = minimal.findall(".//h:img", NS)
    assert images
    assert all(img.get("alt", "").strip() for img in images)
    assert images[0].get("alt") == "Pain scores by week."


def test_title_block_has_authors_affiliations_and_orcid_links(minimal):
    front = minimal.find(".//h:header[@class='front']", NS)
    assert text_of(front.find(".//h:h1", NS)) == "Żółć and café: a minimal test article"
    authors = [text_of(a) for a in front.findall(".//h:span[@class='author']", NS)]
    assert authors[0].startswith("Zofia Łącka") and authors[1].startswith("François Müller")
    orcid = front.find(".//h:a[@class='orcid']", NS)
    assert orcid.get("href") == "https://orcid.org/0000-0002-1825-0097"
    assert orcid.get("aria-label") == "ORCID record of Zofia Łącka"
    affiliations = [text_of(li) for li in front.findall(".//h:ol[@class='affiliations']/h:li", NS)]
    assert affiliations == ["1 Uniwersytet Testowy, Kraków, Poland", "2 Université d'Essai, Besançon, France"]


def test_abstract_keywords_and_table_of_contents(shipped):
    abstract = shipped.find(".//h:section[@class='abstract']", NS)
    assert text_of(abstract).startswith("Abstract Background. Chronic pain is a common")
    assert "Keywords: ketamine; chronic pain;" in text_of(abstract)
    ids = {el.get("id") for el in shipped.iter() if el.get("id")}
    toc = [a.get("href") for a in shipped.findall(".//h:nav[@class='toc']//h:a", NS)]
    sections = [f"#{h.get('id')}" for h in shipped.findall(".//h:div[@class='body']/h:h2", NS)]
    assert toc == sections and len(toc) == 8  # seven sections and the references
    assert all(href[1:] in ids for href in toc)


def test_licence_badge_statement_and_link(shipped):
    badges = shipped.findall(".//h:a[@class='license-badge']", NS)
    assert badges and all(a.get("href") == LICENSE_URL and a.get("rel") == "license" for a in badges)
    assert text_of(badges[0]) == "CC BY 4.0"
    licence = shipped.find(".//h:section[@class='license']", NS)
    assert "This article is licensed under a Creative Commons Attribution 4.0 International License" in text_of(licence)


def test_download_links_for_the_pdf_and_docx_that_were_built(shipped, shipped_build: Path):
    links = {text_of(a): a.get("href") for a in shipped.findall(".//h:p[@class='downloads']/h:a", NS)}
    assert links == {"PDF": f"{SLUG}.pdf", "DOCX": f"{SLUG}.docx"}
    assert all((shipped_build / href).is_file() for href in links.values())


def test_no_download_links_when_only_the_html_was_built(minimal):
    assert minimal.find(".//h:p[@class='downloads']", NS) is None
    assert meta(minimal, "citation_pdf_url") == []


def test_how_to_cite_in_apa_with_a_copy_button(shipped):
    cite = shipped.find(".//h:section[@class='cite']", NS)
    text = text_of(cite.find(".//h:p[@id='how-to-cite']", NS))
    assert text.startswith("Spitaleri, M., Kanon, K., Kieloch, F., Głowacka, J., Fitas, A., Gąska, W.")
    assert "Sewruk, D. (2025). Ketamine as an optional treatment in chronic pain – a review." in text
    button = cite.find(".//h:button", NS)
    assert button.get("data-copy") == "how-to-cite" and text_of(button) == "Copy citation"


def test_each_reference_links_back_to_every_place_it_is_cited(shipped):
    anchors = {el.get("id"): el for el in shipped.iter() if el.get("class") == "cite-anchor"}
    entries = shipped.findall(".//h:div[@id='refs']/h:div", NS)
    assert len(entries) == 33
    for entry in entries:
        backlinks = [a.get("href")[1:] for a in entry.findall(".//h:span[@class='backrefs']/h:a", NS)]
        assert backlinks, entry.get("id")
        for anchor_id in backlinks:
            cited = [a.get("href") for a in anchors[anchor_id].findall(".//h:a", NS)]
            assert f"#{entry.get('id')}" in cited


def test_dois_are_links(shipped):
    for entry in shipped.findall(".//h:div[@id='refs']/h:div", NS):
        if "doi.org/" in text_of(entry):
            hrefs = [a.get("href") for a in entry.findall(".//h:a", NS)]
            assert any(h.startswith("https://doi.org/10.") for h in hrefs), text_of(entry)


def test_google_scholar_tags(shipped, minimal):
    assert meta(shipped, "citation_title") == ["Ketamine as an optional treatment in chronic pain – a review"]
    assert meta(shipped, "citation_author") == AUTHORS
    assert meta(shipped, "citation_publication_date")[0].startswith("2025/")
    assert meta(shipped, "citation_pdf_url") == [f"{SLUG}.pdf"]
    assert meta(shipped, "citation_license") == [LICENSE_URL]
    assert meta(minimal, "citation_journal_title") == ["Journal of Tests"]


def test_json_ld_scholarly_article_and_open_graph(shipped):
    [script] = shipped.findall(".//h:script[@type='application/ld+json']", NS)
    data = json.loads(script.text)
    assert data["@type"] == "ScholarlyArticle"
    assert data["license"] == LICENSE_URL
    assert data["headline"] == "Ketamine as an optional treatment in chronic pain – a review"
    assert [a["name"] for a in data["author"]] == AUTHORS
    og = {m.get("property"): m.get("content") for m in shipped.findall(".//h:meta[@property]", NS)}
    assert og["og:title"] == data["headline"] and og["og:type"] == "article"
    assert og["og:description"].startswith("Background. Chronic pain is a common")


def test_the_page_has_a_print_stylesheet(shipped):
    css = "".join(style.text for style in shipped.findall(".//h:style", NS))
    assert "@media print" in css
