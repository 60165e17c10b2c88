"""`python build.py submission`: the bundle's contents, its manifest, reproducible bytes, and blinded
copies that name no author anywhere (text, headers, footers, document properties, XML parts)."""

from __future__ import annotations

import hashlib
import html
import io
import json
import os
import re
import unicodedata
import zipfile
from pathlib import Path

import pytest
from conftest import AUTHORS, FIXTURES, ROOT, copy_project, run_cli
from docx import Document as WordDocument
from lxml import etree
from pypdf import PdfReader

from press.checks.counts import measure
from press.checks.declarations import DECLARATIONS, check_declarations
from press.document import article_date, build_document, parse
from press.load import load
from press.submission import source_files, title_page_context
from press.templating import render

SLUG = "ketamine-chronic-pain-review"
DATE = article_date(load(ROOT))  # the metadata has no date: 1 January 2025 unless SOURCE_DATE_EPOCH says
BUNDLE = f"{SLUG}-submission-{DATE}.zip"
EXPECTED = [
    "MANIFEST.txt",
    "manuscript.pdf",
    "manuscript.docx",
    "manuscript-blinded.pdf",
    "manuscript-blinded.docx",
    "title-page.pdf",
    "title-page.docx",
    "manuscript.xml",
    "references.bib",
    "source/manuscript/metadata.yaml",
    "source/manuscript/abstract.md",
    "source/manuscript/01-introduction.md",
    "source/manuscript/02-methods.md",
    "source/manuscript/03-pharmacology.md",
    "source/manuscript/04-clinical-applications.md",
    "source/manuscript/05-safety.md",
    "source/manuscript/06-limitations.md",
    "source/manuscript/07-conclusions.md",
]


# ---- reading every text and metadata field back ----


def fold(text: str) -> str:
    """Case- and diacritic-insensitive form: "Głowacka" and "GLOWACKA" both become "glowacka".

    NFKD separates the combining marks of ą, ę, é...; ł and ø have no decomposition, so they are
    mapped by hand.
    """
    text = text.translate(str.maketrans({"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "đ": "d", "Đ": "D"}))
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def names_found(texts: list[str]) -> set[str]:
    """Which of the ten authors appear, by full name or by family name, in any of ``texts``.

    Full names are also searched with every non-letter removed (a name broken across lines or
    split over several Word runs is still found); family names as whole words, after undoing
    end-of-line hyphenation (on letters alone "benefit as" would contain "Fitas").
    """
    blob = fold("\n".join(texts)).replace("\u00ad", "")
    letters = re.sub(r"[^a-z]", "", blob)
    dehyphenated = re.sub(r"-[ \t]*\n\s*", "", blob)
    found = set()
    for author in AUTHORS:
        full, family = fold(author), fold(author.split()[-1])
        if full in blob or re.sub(r"[^a-z]", "", full) in letters:
            found.add(author)
        for text in (blob, dehyphenated):
            if re.search(rf"(?<![a-z]){re.escape(family)}(?![a-z])", text):
                found.add(author)
    return found


def pdf_fields(data: bytes) -> list[str]:
    """Every page's text and link targets, the document info, the XMP packet and the outline of a PDF."""
    reader = PdfReader(io.BytesIO(data))
    texts = [page.extract_text() for page in reader.pages]
    for page in reader.pages:  # link targets: an ORCID or mailto: link is invisible in the text
        for annotation in page.get("/Annots") or []:
            action = annotation.get_object().get("/A") or {}
            texts.append(str(action.get("/URI", "")))
    texts += [f"{key} {value}" for key, value in (reader.metadata or {}).items()]
    root = reader.trailer["/Root"]
    if "/Metadata" in root:
        texts.append(html.unescape(root["/Metadata"].get_object().get_data().decode("utf-8", "replace")))

    def outline(items) -> None:
        for item in items:
            if isinstance(item, list):
                outline(item)
            else:
                texts.append(str(item.title))

    outline(reader.outline)
    return texts


def docx_fields(data: bytes) -> list[str]:
    """python-docx's view (body, tables, headers, footers, core properties) and every XML part,
    both as raw XML and as its joined text nodes (a name split over two runs is one string)."""
    word = WordDocument(io.BytesIO(data))
    texts = [p.text for p in word.paragraphs]
    for table in word.tables:
        texts += [cell.text for row in table.rows for cell in row.cells]
    for section in word.sections:
        for part in (section.header, section.footer, section.first_page_header, section.first_page_footer):
            texts += [p.text for p in part.paragraphs]
    props = word.core_properties
    texts += [
        str(getattr(props, name) or "")
        for name in ("author", "last_modified_by", "title", "subject", "keywords", "comments", "category")
    ]
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        for name in package.namelist():
            if name.endswith((".xml", ".rels")):
                raw = package.read(name)
                texts.append(html.unescape(raw.decode("utf-8", "replace")))
                texts.append("".join(etree.fromstring(raw).itertext()))
    return texts


def fields(name: str, data: bytes) -> list[str]:
    return [name, *(pdf_fields(data) if name.endswith(".pdf") else docx_fields(data))]


# ---- the bundle, built once for the module ----


@pytest.fixture(scope="module")
def submission(tmp_path_factory) -> tuple[Path, str, str]:
    out = tmp_path_factory.mktemp("submission")
    result = run_cli("submission", "--out", str(out))
    assert result.returncode == 0, result.stderr
    return out / BUNDLE, result.stdout, result.stderr


@pytest.fixture(scope="module")
def bundle(submission) -> dict[str, bytes]:
    with zipfile.ZipFile(submission[0]) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def test_bundle_holds_exactly_the_listed_files_in_a_fixed_order(submission):
    with zipfile.ZipFile(submission[0]) as archive:
        assert archive.namelist() == EXPECTED
        assert archive.testzip() is None


def test_bundle_is_named_after_slug_and_article_date_and_nothing_else_is_left(submission):
    path = submission[0]
    assert path.name == BUNDLE
    assert sorted(p.name for p in path.parent.iterdir()) == [BUNDLE]  # no temporary files behind


def test_command_prints_every_file_in_the_bundle(submission):
    _, stdout, _ = submission
    assert BUNDLE in stdout
    for name in EXPECTED:
        assert name in stdout


def test_missing_declarations_are_reported_as_warnings(submission):
    _, _, stderr = submission
    [line] = [line for line in stderr.splitlines() if "warning[declaration-missing]" in line]
    for key, _label in DECLARATIONS:
        assert f"'{key}'" in line
    assert "error[" not in stderr


def test_manifest_lists_size_and_sha256_of_every_other_file(bundle):
    lines = [line for line in bundle["MANIFEST.txt"].decode().splitlines() if line and not line.startswith("#")]
    listed = {name: (int(size), digest) for size, digest, name in (line.split(None, 2) for line in lines)}
    assert list(listed) == EXPECTED[1:]
    for name, (size, digest) in listed.items():
        assert size == len(bundle[name]), name
        assert digest == hashlib.sha256(bundle[name]).hexdigest(), name


def test_zip_entries_carry_the_article_date_and_fixed_permissions(submission):
    with zipfile.ZipFile(submission[0]) as archive:
        for info in archive.infolist():
            assert info.date_time == (*map(int, DATE.split("-")), 0, 0, 0), info.filename
            assert info.external_attr >> 16 == 0o644, info.filename


def test_two_runs_give_identical_bytes(submission, tmp_path):
    again = run_cli("submission", "--out", str(tmp_path))
    assert again.returncode == 0, again.stderr
    assert (tmp_path / BUNDLE).read_bytes() == submission[0].read_bytes()


def test_date_comes_from_source_date_epoch_and_json_lists_the_bundle(tmp_path):
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1741651200"}  # 2025-03-11 00:00 UTC
    args = ("submission", "--root", str(FIXTURES / "minimal"), "--out", str(tmp_path), "--format", "json")
    result = run_cli(*args, env=env)
    assert result.returncode == 0, result.stderr
    bundle = tmp_path / "minimal-article-submission-2025-03-11.zip"
    with zipfile.ZipFile(bundle) as archive:
        assert {info.date_time for info in archive.infolist()} == {(2025, 3, 11, 0, 0, 0)}
        listing = json.loads(result.stdout)
        assert listing["bundle"] == str(bundle)
        assert [f["name"] for f in listing["files"]] == archive.namelist()
        for entry in listing["files"]:
            assert entry["sha256"] == hashlib.sha256(archive.read(entry["name"])).hexdigest()
        # This project has affiliations, an ORCID and an e-mail: none of them in the blinded copies.
        details = ["Łącka", "Müller", "Anonymous Helper", "Uniwersytet Testowy", "Essai", "0000-0002-1825-0097"]
        for name in ("manuscript-blinded.pdf", "manuscript-blinded.docx", "manuscript.pdf", "manuscript.docx"):
            text = fold(" ".join(fields(name, archive.read(name))))
            present = [detail for detail in details if fold(detail) in text]
            assert present == ([] if "blinded" in name else details), name
    codes = {d["code"] for d in listing["diagnostics"]}
    assert "declaration-missing" in codes and "corresponding-author-missing" not in codes


def test_sources_are_the_files_as_written(bundle):
    assert bundle["references.bib"] == (ROOT / "bib" / "references.bib").read_bytes()
    for name in EXPECTED:
        if name.startswith("source/"):
            assert bundle[name] == (ROOT / name.removeprefix("source/")).read_bytes(), name


@pytest.mark.parametrize("name", ["manuscript-blinded.pdf", "manuscript-blinded.docx"])
def test_blinded_copy_names_no_author_anywhere(bundle, name):
    assert names_found(fields(name, bundle[name])) == set()


@pytest.mark.parametrize("name", ["manuscript.pdf", "manuscript.docx", "title-page.pdf", "title-page.docx"])
def test_the_same_search_finds_every_author_in_the_unblinded_files(bundle, name):
    # Proves the search above can fail: the same extraction on the full files finds all ten.
    assert names_found(fields(name, bundle[name])) == set(AUTHORS)


def test_name_search_ignores_case_and_diacritics():
    assert names_found(["KAROLINA DEBEK-KALINOWSKA"]) == {"Karolina Dębek-Kalinowska"}
    assert names_found(["glowacka, j."]) == {"Julia Głowacka"}
    assert names_found(["Gas-\nka"]) == {"Wojciech Gąska", "Wiktor Gąska"}
    assert names_found(["The authors (2025). Ketamine in chronic pain."]) == set()


def test_blinded_copies_keep_the_licence_without_names(bundle):
    text = " ".join(pdf_fields(bundle["manuscript-blinded.pdf"]))
    assert "Copyright © 2025 The authors" in text
    assert "https://creativecommons.org/licenses/by/4.0/" in text.replace("\n", "")
    assert "How to cite" not in text
    word = WordDocument(io.BytesIO(bundle["manuscript-blinded.docx"]))
    assert word.core_properties.author == ""
    assert word.core_properties.last_modified_by == ""
    assert any("Copyright © 2025 The authors" in p.text for p in word.paragraphs)


def test_title_page_says_not_provided_for_missing_facts(bundle):
    text = re.sub(r"\s+", " ", " ".join(pdf_fields(bundle["title-page.pdf"])))
    # Six declarations, affiliations, corresponding author: none is in the shipped metadata.
    assert text.count("Not provided") == 8
    assert "Ketamine as an optional treatment in chronic pain" in text
    word = WordDocument(io.BytesIO(bundle["title-page.docx"]))
    paragraphs = [p.text for p in word.paragraphs]
    assert paragraphs.count("Not provided") == 8
    for _key, label in DECLARATIONS:
        assert label in paragraphs


# ---- title page and declarations on a small project (no PDF rendering: fast) ----


@pytest.fixture()
def declared(tmp_path) -> Path:
    project = copy_project(FIXTURES / "minimal", tmp_path / "declared")
    metadata = project / "manuscript" / "metadata.yaml"
    metadata.write_text(
        metadata.read_text(encoding="utf-8")
        + "declarations:\n"
        + "  funding: Funded by the <Test> Foundation, grant 42.\n"
        + "  conflicts_of_interest: The authors declare no conflicts of interest.\n",
        encoding="utf-8",
    )
    return project


def test_title_page_shows_given_declarations_and_marks_the_others(declared):
    manuscript = load(declared)
    document = build_document(manuscript)
    context = title_page_context(document, measure(manuscript, parse(manuscript)))
    html_text = render(document.manuscript.templates, "title-page-body.html", **context)
    assert "Funded by the &lt;Test&gt; Foundation, grant 42." in html_text  # escaped, never raw HTML
    assert "The authors declare no conflicts of interest." in html_text
    assert html_text.count("Not provided") == 4  # ethics, contributions, data, acknowledgements
    assert "https://orcid.org/0000-0002-1825-0097" in html_text
    assert "Uniwersytet Testowy, Kraków, Poland" in html_text
    assert "zofia@example.org" in html_text
    for count in context["counts"]:  # the counts `check` prints
        assert f"{count.label} {count.value}" in html_text


def test_the_title_page_counts_are_the_counts_check_prints(bundle):
    report = json.loads(run_cli("check", "--format", "json").stdout)
    word = WordDocument(io.BytesIO(bundle["title-page.docx"]))
    [line] = [p.text for p in word.paragraphs if p.text.startswith("Counts:")]
    expected = [
        f"{c['label']} {c['value']}" + (f" (limit {c['limit']})" if c["limit"] is not None else "")
        for c in report["counts"]
    ]
    assert line == "Counts: " + "; ".join(expected)  # with the limits of the metadata and its journal profile


def test_declarations_check_warns_only_for_the_missing_ones(declared):
    found = check_declarations(load(declared))
    assert all(d.severity == "warning" for d in found)
    [message] = [d.message for d in found if d.code == "declaration-missing"]
    missing = sorted(message.split(":")[0].split("'")[1::2])
    assert missing == ["acknowledgements", "author_contributions", "data_availability", "ethics"]
    assert all(d.file.endswith("metadata.yaml") and d.line for d in found)
    assert not [d for d in found if d.code.startswith("corresponding")]  # Zofia Łącka, with e-mail


def test_declarations_check_wants_a_corresponding_author():
    codes = [d.code for d in check_declarations(load(ROOT))]
    assert codes.count("declaration-missing") == 1
    assert "corresponding-author-missing" in codes


def test_submission_stops_on_errors_and_writes_nothing(tmp_path):
    project = copy_project(FIXTURES / "minimal", tmp_path / "broken")
    intro = project / "manuscript" / "intro.md"
    intro.write_text(intro.read_text(encoding="utf-8") + "\nSee [@smith2020pian].\n", encoding="utf-8")
    out = tmp_path / "dist"
    result = run_cli("submission", "--root", str(project), "--out", str(out))
    assert result.returncode == 1
    assert "intro.md:" in result.stderr and "unresolved-citation" in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists() or not any(out.iterdir())


def test_sources_include_local_images_and_nothing_outside_the_project(tmp_path):
    project = copy_project(FIXTURES / "minimal", tmp_path / "figures")
    (project / "manuscript" / "figures").mkdir()
    (project / "manuscript" / "figures" / "plot.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (tmp_path / "secret.png").write_bytes(b"not part of the project")
    results = project / "manuscript" / "results.md"
    results.write_text(
        results.read_text(encoding="utf-8")
        + "\n![A plot](figures/plot.png)\n\n![Outside](../../secret.png)\n\n![Remote](https://example.org/x.png)\n",
        encoding="utf-8",
    )
    names = [f.name for f in source_files(build_document(load(project)))]
    assert names == [
        "source/manuscript/metadata.yaml",
        "source/manuscript/abstract.md",
        "source/manuscript/intro.md",
        "source/manuscript/results.md",
        "source/manuscript/figures/plot.png",
    ]


# ---- the review layout (press.review), which the default journal profile asks for ----


def test_the_manuscripts_are_in_the_review_layout_with_line_numbers(bundle):
    from test_review import margin_numbers

    W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
    for name in ("manuscript.pdf", "manuscript-blinded.pdf"):
        reader = PdfReader(io.BytesIO(bundle[name]))
        numbers = [n for page in reader.pages for n, _y in margin_numbers(page)]
        assert len(numbers) > 500 and numbers == list(range(1, len(numbers) + 1)), name
        assert f"1 of {len(reader.pages)}" in reader.pages[0].extract_text()
    for name in ("manuscript.docx", "manuscript-blinded.docx"):
        with zipfile.ZipFile(io.BytesIO(bundle[name])) as docx:
            document = etree.fromstring(docx.read("word/document.xml"))
        assert document.find(f".//{W}sectPr/{W}lnNumType") is not None, name
    title_page = PdfReader(io.BytesIO(bundle["title-page.pdf"]))
    assert margin_numbers(title_page.pages[0]) == []  # the title page is no manuscript: no numbers


def test_a_preprint_profile_bundles_the_typeset_layout_and_no_blinded_copies(tmp_path):
    from test_review import margin_numbers, set_profile

    project = copy_project(FIXTURES / "minimal", tmp_path / "project")
    set_profile(project, "  profile: preprint\n")
    result = run_cli("submission", "--root", str(project), "--out", str(tmp_path / "dist"))
    assert result.returncode == 0, result.stderr
    [path] = (tmp_path / "dist").glob("*.zip")
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        pdf = PdfReader(io.BytesIO(archive.read("manuscript.pdf")))
    assert "manuscript-blinded.pdf" not in names and "manuscript-blinded.docx" not in names
    assert "manuscript.pdf" in names and "manuscript.docx" in names
    assert margin_numbers(pdf.pages[0], 20 * 72 / 25.4) == []  # the typeset layout: print.css margin
