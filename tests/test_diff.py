"""The revision round: `python build.py diff REV` compares two resolved documents and marks what changed."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from conftest import libreoffice_pdf, run_cli
from diff_support import NS, REFERENCES, W, document_xml, docx_paragraphs, paragraphs, resolve_revisions, write_project
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree
from pypdf import PdfReader

from press import pandoc
from press.compare import CHANGED, DELETION, INSERTION, compare
from press.diff import changes_docx, changes_files, compare_versions
from press.formats import WriteOptions
from press.resolve import resolve
from press.writers import docx
from press.writers.shared import Shared

AUTHOR, DATE = "Reviewer Two", "2024-05-01T00:00:00Z"


# ---- the comparison, on pandoc's AST ----


def article(markdown: str) -> dict:
    """A document shaped as press.document resolves one: abstract, marker, body, References, refs."""
    ast = pandoc.markdown_to_ast(markdown)
    return {
        **ast,
        "blocks": [
            {"t": "Div", "c": [["abstract", [], []], []]},
            {"t": "RawBlock", "c": ["html", "<!--press:abstract-end-->"]},
            *ast["blocks"],
            {"t": "Header", "c": [1, ["references", ["unnumbered"], []], [{"t": "Str", "c": "References"}]]},
            {"t": "Div", "c": [["refs", [], []], []]},
        ],
    }


def spans(ast: dict, cls: str) -> list[dict]:
    from press.ast import elements

    return [e for e in elements(ast["blocks"]) if e["t"] == "Span" and cls in e["c"][0][1]]


def one_change(old: str, new: str) -> tuple[dict, dict, dict]:
    """The merged document of two one-paragraph articles that differ in one place, and its two Spans."""
    merged, changes = compare(article(old), article(new), AUTHOR, DATE)
    (inserted,) = spans(merged, INSERTION)
    (deleted,) = spans(merged, DELETION)
    return merged, inserted, deleted


def test_unchanged_document_has_no_marks():
    text = "One paragraph [@adams2001].\n\nAnother one.\n"
    merged, changes = compare(article(text), article(text), AUTHOR, DATE)
    assert not spans(merged, INSERTION) and not spans(merged, DELETION) and not changes.any


def test_rewrapped_paragraph_is_not_a_change():
    old = article("Chronic pain is common and costly\nfor every health system.\n")
    new = article("Chronic pain is common\nand costly for every\nhealth system.\n")
    merged, changes = compare(old, new, AUTHOR, DATE)
    assert not spans(merged, INSERTION) and not spans(merged, DELETION) and not changes.any


def test_moved_paragraph_is_not_a_change():
    old = article("First paragraph here.\n\nSecond paragraph here.\n\nThird paragraph here.\n")
    new = article("Third paragraph here.\n\nFirst paragraph here.\n\nSecond paragraph here.\n")
    merged, changes = compare(old, new, AUTHOR, DATE)
    assert not spans(merged, INSERTION) and not spans(merged, DELETION) and not changes.any
    assert merged["blocks"][2:-2] == new["blocks"][2:-2]


def test_changed_word_is_marked_with_author_and_date():
    merged, inserted, deleted = one_change(
        "Ketamine was given at a low dose.\n", "Ketamine was given at a moderate dose.\n"
    )
    assert inserted["c"][1] == [{"t": "Str", "c": "moderate"}] and deleted["c"][1] == [{"t": "Str", "c": "low"}]
    assert inserted["c"][0][2] == [["author", AUTHOR], ["date", DATE]]
    assert CHANGED in merged["blocks"][2]["c"][0][1]  # the paragraph carries the change bar


def test_citation_changes_as_one_unit():
    _, inserted, deleted = one_change("Pain is common [@adams2001].\n", "Pain is common [@adams2001; @baker2002].\n")
    assert [e["t"] for e in inserted["c"][1]] == ["Cite"] and [e["t"] for e in deleted["c"][1]] == ["Cite"]


def test_rewritten_sentence_is_one_change_not_a_jumble():
    one_change(  # exactly one insertion and one deletion
        "The first trial was small and short. It was stopped early.\n",
        "The first trial was small and short. Nobody expected that result.\n",
    )


def test_words_counted_per_section():
    old = article("# Introduction\n\nPain is common.\n\n# Methods\n\nWe searched PubMed.\n")
    new = article("# Introduction\n\nChronic pain is very common.\n\n# Methods\n\nWe searched PubMed.\n")
    _, changes = compare(old, new, AUTHOR, DATE)
    counts = {s.title: (s.words_added, s.words_removed) for s in changes.sections}
    assert counts == {"Abstract": (0, 0), "Introduction": (3, 1), "Methods": (0, 0)}


def test_paragraph_replaced_by_another_is_marked_whole():
    old = article("Ketamine blocks the NMDA receptor in the spinal cord.\n")
    new = article("The trials were small, short and rarely blinded at all.\n")
    merged, changes = compare(old, new, AUTHOR, DATE)
    assert [b["c"][0][1] for b in merged["blocks"][2:-2]] == [["press-deleted", CHANGED], ["press-inserted", CHANGED]]
    assert changes.words_removed == 9 and changes.words_added == 10


def test_removed_section_is_named_so_in_the_summary():
    old = article("# Introduction\n\nPain is common.\n\n# Methods\n\nWe searched PubMed.\n")
    new = article("# Introduction\n\nPain is common.\n")
    _, changes = compare(old, new, AUTHOR, DATE)
    assert [(s.title, s.words_removed) for s in changes.sections][-1] == ("Methods (removed)", 4)


# ---- through the whole pipeline: resolved documents ----


def _compare_projects(tmp_path: Path, old_body: str, new_body: str):
    old = write_project(tmp_path / "old", old_body)
    new = write_project(tmp_path / "new", new_body)
    return compare_versions(new, against=old, author=AUTHOR)


TABLE = "| Drug | Dose |\n|------|------|\n| {a} | {b} |\n| ketamine | 1 |\n\n: {caption} {{#tbl:{ident}}}\n\n"


def test_renumbered_table_is_not_a_change(tmp_path):
    first = TABLE.format(a="a", b="1", caption="First.", ident="first")
    second = TABLE.format(a="b", b="2", caption="Second.", ident="second")
    old = f"# Results\n\nSee @tbl:second.\n\n{first}{second}"
    new = f"# Results\n\nSee @tbl:second.\n\n{second}"
    comparison = _compare_projects(tmp_path, old, new)
    body = comparison.document.ast["blocks"][2:-2]
    assert body[1]["t"] == "Para" and body[1]["c"][0]["t"] == "Str"  # "See Table 1." is not marked
    assert [b["t"] for b in body] == ["Header", "Para", "Table", "Table"]
    assert "press-deleted" in body[2]["c"][0][1] and CHANGED not in body[3]["c"][0][1]
    assert comparison.changes.tables == ["Table 1 removed"]


def test_renumbered_equation_is_not_a_change(tmp_path):
    first, second = "$$ a = b $$ {#eq:first}\n\n", "$$ c = d $$ {#eq:second}\n\n"
    old = f"# Results\n\n{first}{second}As @eq:second shows.\n"
    new = f"# Results\n\n{second}As @eq:second shows.\n"
    comparison = _compare_projects(tmp_path, old, new)
    body = comparison.document.ast["blocks"][2:-2]
    deleted = [b for b in body if spans({"blocks": [b]}, DELETION)]
    assert len(deleted) == 1 and "a = b" in json.dumps(deleted[0])
    assert not spans({"blocks": body[-2:]}, INSERTION)  # "c = d", now (1), and "As Equation 1 shows."


def test_paragraph_with_an_unchanged_equation_is_not_deleted_whole(tmp_path):
    comparison = _compare_projects(tmp_path, "$x = y$ always.\n\nNext.\n", "$x = y$\n\nNext.\n")
    accepted_xml = resolve_revisions(changes_docx(comparison), accept=True)
    assert (
        accepted_xml.find(".//m:oMath", {"m": "http://schemas.openxmlformats.org/officeDocument/2006/math"}) is not None
    )


def test_changed_table_row_is_marked_whole(tmp_path):
    old = "# Results\n\n" + TABLE.format(a="a", b="1", caption="Doses.", ident="doses")
    new = "# Results\n\n" + TABLE.format(a="a", b="2", caption="Doses.", ident="doses")
    comparison = _compare_projects(tmp_path, old, new)
    (table,) = [b for b in comparison.document.ast["blocks"] if b["t"] == "Table"]
    rows = table["c"][4][0][3]
    assert [row[0][1] for row in rows] == [["press-deleted"], ["press-inserted"], []]
    assert comparison.changes.tables == ["Table 1 changed"]
    root = resolve_revisions(changes_docx(comparison), accept=True)
    cells = ["".join(t.text for t in tc.iter(f"{{{W}}}t")) for tc in root.iter(f"{{{W}}}tc")]
    assert cells == ["Drug", "Dose", "a", "2", "ketamine", "1"]


def _figure(root: Path, rgb: tuple[int, int, int]) -> None:
    from PIL import Image

    (root / "manuscript" / "img").mkdir(exist_ok=True)
    Image.new("RGB", (60, 30), rgb).save(root / "manuscript" / "img" / "a.png")


def test_figure_whose_file_changed_is_shown_old_and_new(tmp_path):
    body = "# Results\n\n![A figure.](img/a.png){#fig:a}\n"
    old, new = write_project(tmp_path / "old", body), write_project(tmp_path / "new", body)
    _figure(old, (200, 30, 30))
    _figure(new, (30, 30, 200))
    comparison = compare_versions(new, against=old)
    assert comparison.changes.figures == ["Figure 1 changed"]
    figures = [b for b in comparison.document.ast["blocks"] if b["t"] == "Figure"]
    assert [f["c"][0][1] for f in figures] == [["press-deleted", CHANGED], ["press-inserted", CHANGED]]
    assert [f["c"][0][0] for f in figures] == ["", "fig:a"]  # the deleted one keeps no id: it is the new one's
    word = changes_docx(comparison)
    media = [n for n in zipfile.ZipFile(io.BytesIO(word)).namelist() if n.startswith("word/media/")]
    assert len(media) == 2  # the earlier file, read from the earlier version, and the new one
    root = document_xml(word)
    assert root.find(".//w:del//w:drawing", NS) is not None and root.find(".//w:ins//w:drawing", NS) is not None


def test_unchanged_figure_file_is_no_change(tmp_path):
    body = "# Results\n\n![A figure.](img/a.png){#fig:a}\n"
    old, new = write_project(tmp_path / "old", body), write_project(tmp_path / "new", body)
    _figure(old, (200, 30, 30))
    _figure(new, (200, 30, 30))
    assert not compare_versions(new, against=old).changes.any


def test_changed_footnote_has_revisions_with_ids_of_their_own(tmp_path):
    old = "Text with a note.[^1]\n\n[^1]: The note as it was.\n"
    new = "Text with a note.[^1]\n\n[^1]: The note as it is now.\n"
    word = changes_docx(_compare_projects(tmp_path, old, new))
    notes = etree.fromstring(zipfile.ZipFile(io.BytesIO(word)).read("word/footnotes.xml"))
    assert notes.findall(".//w:ins", NS) and notes.findall(".//w:del", NS)
    kinds = (f"{{{W}}}ins", f"{{{W}}}del")
    ids = [e.get(f"{{{W}}}id") for part in (notes, document_xml(word)) for e in part.iter(*kinds)]
    assert len(ids) == len(set(ids))


def test_page_contents_and_description_are_the_new_version_s(tmp_path):
    import html5lib

    old = "# Introduction\n\nPain is common.\n\n# Methods\n\nWe searched.\n\n# Extra\n\nGone now.\n"
    new = "# Background\n\nPain is common.\n\n# Methods\n\nWe searched.\n"
    write_project(tmp_path / "old", old, abstract="Then the abstract.")
    write_project(tmp_path / "new", new, abstract="Now the abstract.")
    page = changes_files(compare_versions(tmp_path / "new", against=tmp_path / "old"))[".html"]
    root = html5lib.parse(page, namespaceHTMLElements=False)
    assert root.find(".//meta[@name='description']").get("content") == "Now the abstract."
    nav = root.find(".//nav[@class='toc']")
    assert [" ".join("".join(a.itertext()).split()) for a in nav.iter("a")] == ["Background", "Methods", "References"]


def test_references_added_and_removed(tmp_path):
    comparison = _compare_projects(tmp_path, "Text [@adams2001; @baker2002].\n", "Text [@adams2001; @clark2003].\n")
    assert [r.split(",")[0] for r in comparison.changes.references_added] == ["Clark"]
    assert [r.split(",")[0] for r in comparison.changes.references_removed] == ["Baker"]


# ---- the property: accepting all gives the new version, rejecting all the old ----

WORDS = ["pain", "ketamine", "dose", "trial", "the", "of", "was", "low", "high", "patients"]
KEYS = sorted(REFERENCES)
citation = st.lists(st.sampled_from(KEYS), min_size=1, max_size=2, unique=True).map(
    lambda keys: "[" + "; ".join(f"@{k}" for k in keys) + "]"
)
sentence = st.lists(st.one_of(st.sampled_from(WORDS), citation), min_size=1, max_size=6).map(
    lambda words: (" ".join(words) + ".").capitalize()
)
paragraph = st.lists(sentence, min_size=1, max_size=3)
document = st.lists(paragraph, min_size=1, max_size=4)


@st.composite
def edited(draw):
    """A document and the same after a few random edits of words, sentences, citations and paragraphs."""
    old = draw(document)
    new = [list(p) for p in old]
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["word", "sentence", "drop-sentence", "paragraph", "drop-paragraph", "cite"]))
        p = draw(st.integers(0, len(new) - 1)) if new else 0
        if op == "paragraph" or not new:
            new.insert(p, draw(paragraph))
        elif op == "drop-paragraph" and len(new) > 1:
            new.pop(p)
        elif op == "sentence":
            new[p].insert(draw(st.integers(0, len(new[p]))), draw(sentence))
        elif op == "drop-sentence" and len(new[p]) > 1:
            new[p].pop(draw(st.integers(0, len(new[p]) - 1)))
        else:
            s = draw(st.integers(0, len(new[p]) - 1))
            words = new[p][s].rstrip(".").split(" ")
            w = draw(st.integers(0, len(words) - 1))
            words[w] = draw(citation if op == "cite" else st.sampled_from(WORDS))
            new[p][s] = " ".join(words) + "."
    return old, new


def markdown(doc: list[list[str]]) -> str:
    return "# Body\n\n" + "\n\n".join(" ".join(p) for p in doc) + "\n"


def plain_docx(root: Path) -> bytes:
    resolved = resolve(root)
    with ThreadPoolExecutor(max_workers=2) as pool:
        return docx.write(Shared(resolved.document, pool, renderings=()), WriteOptions())


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edited())
def test_accept_all_gives_new_version_and_reject_all_the_old(tmp_path_factory, versions):
    old_doc, new_doc = versions
    tmp = tmp_path_factory.mktemp("versions")
    old = write_project(tmp / "old", markdown(old_doc))
    new = write_project(tmp / "new", markdown(new_doc))
    changes = changes_docx(compare_versions(new, against=old))
    assert paragraphs(resolve_revisions(changes, accept=True)) == docx_paragraphs(plain_docx(new))
    assert paragraphs(resolve_revisions(changes, accept=False)) == docx_paragraphs(plain_docx(old))


# ---- the command, on a git repository made here ----

GIT = ["git", "-c", "user.name=Test", "-c", "user.email=test@example.org", "-c", "commit.gpgsign=false"]
V1 = "# Introduction\n\nKetamine was given at a low dose [@adams2001].\n\nIt was stopped early.\n"
V2 = (
    "# Introduction\n\nKetamine was given at a moderate dose [@adams2001; @baker2002].\n\n"
    "It was stopped early.\n\n# Methods\n\nWe searched two databases.\n"
)


def _commit(repo: Path, message: str, tag: str | None = None) -> None:
    subprocess.run([*GIT, "add", "-A"], cwd=repo, check=True, capture_output=True)
    subprocess.run([*GIT, "commit", "-qm", message], cwd=repo, check=True, capture_output=True)
    if tag:
        subprocess.run([*GIT, "tag", tag], cwd=repo, check=True, capture_output=True)


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    """A project with four commits: nothing yet (tag empty), v1, a broken version (tag broken), v2."""
    root = tmp_path_factory.mktemp("repo") / "paper"
    root.mkdir()
    subprocess.run([*GIT, "init", "-q"], cwd=root, check=True)
    (root / "README.md").write_text("A paper.\n")
    _commit(root, "start", "empty")
    write_project(root, V1)
    _commit(root, "first submission", "v1")
    (root / "manuscript" / "body.md").write_text(V1 + "\nSee [@nobody1999].\n")
    _commit(root, "a citation of nothing", "broken")
    (root / "manuscript" / "body.md").write_text(V2)
    _commit(root, "revision")
    return root


def _status(repo: Path) -> str:
    return subprocess.run(["git", "status", "--porcelain"], cwd=repo, capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def diffed(repo, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("diff-out")
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1714521600"}
    result = run_cli("diff", "v1", "--root", str(repo), "--out", str(out), "--author", AUTHOR, env=env)
    assert result.returncode == 0, result.stderr
    assert "changes since v1: 7 word(s) added, 2 removed, 1 reference(s) added, 0 removed" in result.stdout
    return out


def test_diff_writes_the_three_files_and_changes_nothing_in_the_repository(repo, diffed):
    names = sorted(p.name for p in diffed.iterdir() if p.is_file())
    assert names == ["small-article-changes.docx", "small-article-changes.html", "small-article-changes.pdf"]
    assert _status(repo) == ""


def test_diff_docx_has_real_revisions(diffed):
    root = document_xml((diffed / "small-article-changes.docx").read_bytes())
    inserted = root.findall(".//w:ins", NS)
    deleted = root.findall(".//w:del", NS)
    assert inserted and deleted
    assert {e.get(f"{{{W}}}author") for e in inserted + deleted} == {AUTHOR}
    assert {e.get(f"{{{W}}}date") for e in inserted + deleted} == {"2024-05-01T00:00:00Z"}
    ids = [e.get(f"{{{W}}}id") for e in inserted + deleted]
    others = {e.get(f"{{{W}}}id") for e in root.iter() if e.tag not in (f"{{{W}}}ins", f"{{{W}}}del")}
    assert len(ids) == len(set(ids)) and not set(ids) & others  # bookmarks and revisions share one space
    texts = ["".join(t.text for t in e.iter(f"{{{W}}}delText")) for e in deleted]
    assert "low" in texts


def test_diff_summary_counts(diffed):
    import html5lib

    page = html5lib.parse((diffed / "small-article-changes.html").read_bytes(), namespaceHTMLElements=False)
    (summary,) = page.findall(".//section[@class='changes-summary']")
    rows = [[td.text for td in tr.findall("td")] for tr in summary.findall(".//tbody/tr")]
    # "moderate" and the new citation (one unit) for "low" and the old citation; the Methods section is new.
    assert rows == [["Introduction", "2", "2"], ["Methods", "5", "0"]]
    items = [li.text for li in summary.findall(".//ul/li")]
    assert len(items) == 1 and items[0].startswith("Baker, B. (2002)")
    assert page.findall(".//span[@class='insertion']") and page.findall(".//span[@class='deletion']")


def test_diff_pdf_has_the_summary_on_its_first_page(diffed):
    reader = PdfReader(diffed / "small-article-changes.pdf")
    first = reader.pages[0].extract_text()
    assert "Changes since v1" in first and "References added" in first


def test_diff_is_byte_reproducible(repo, diffed, tmp_path):
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1714521600"}
    result = run_cli("diff", "v1", "--root", str(repo), "--out", str(tmp_path), "--author", AUTHOR, env=env)
    assert result.returncode == 0, result.stderr
    for ext in ("docx", "pdf", "html"):
        name = f"small-article-changes.{ext}"
        assert (tmp_path / name).read_bytes() == (diffed / name).read_bytes(), name


def _fails(repo: Path, tmp_path: Path, *args: str) -> str:
    out = tmp_path / "out"
    result = run_cli("diff", *args, "--root", str(repo), "--out", str(out))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists()  # nothing written, not even the folder
    return result.stderr


def test_unknown_revision_is_one_clear_error(repo, tmp_path):
    stderr = _fails(repo, tmp_path, "v9-never")
    assert stderr.splitlines()[0].startswith("v9-never: error[unknown-revision]: 'v9-never' is not a revision")


def test_revision_without_the_manuscript_is_one_clear_error(repo, tmp_path):
    stderr = _fails(repo, tmp_path, "empty")
    assert stderr.splitlines()[0].startswith("empty: error[manuscript-absent]: there is no manuscript at revision")


def test_revision_that_does_not_build_shows_its_diagnostics_prefixed(repo, tmp_path):
    stderr = _fails(repo, tmp_path, "broken")
    assert "broken:manuscript/body.md:" in stderr and "nobody1999" in stderr


def test_not_a_git_repository_is_one_clear_error(tmp_path):
    project = write_project(tmp_path / "plain", V2)
    stderr = _fails(project, tmp_path, "v1")
    assert "error[not-a-repository]: not a git repository" in stderr.splitlines()[0]


def test_diff_against_a_folder(repo, tmp_path):
    old = write_project(tmp_path / "old", V1)
    result = run_cli("diff", "--against", str(old), "--root", str(repo), "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out" / "small-article-changes.docx").is_file()


def test_against_a_folder_without_a_manuscript_is_one_clear_error(repo, tmp_path):
    stderr = _fails(repo, tmp_path, "--against", str(tmp_path / "nowhere"))
    assert "error[manuscript-absent]: there is no manuscript in" in stderr.splitlines()[0]


def test_changes_pdf_has_an_identifier_of_its_own(repo, diffed, tmp_path):
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1714521600"}
    result = run_cli("pdf", "--root", str(repo), "--out", str(tmp_path), env=env)
    assert result.returncode == 0, result.stderr
    article = PdfReader(tmp_path / "small-article.pdf").trailer["/ID"][0]
    assert PdfReader(diffed / "small-article-changes.pdf").trailer["/ID"][0] != article


def test_submission_since_adds_the_changes_files_to_bundle_and_manifest(repo, tmp_path):
    result = run_cli("submission", "--since", "v1", "--root", str(repo), "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    (bundle,) = tmp_path.glob("*.zip")
    with zipfile.ZipFile(bundle) as archive:
        names = archive.namelist()
        manifest = archive.read("MANIFEST.txt").decode()
    for name in ("manuscript-changes.docx", "manuscript-changes.pdf", "manuscript-changes.html"):
        assert name in names and name in manifest
    assert _status(repo) == ""


def test_submission_since_an_unknown_revision_writes_no_bundle(repo, tmp_path):
    result = run_cli("submission", "--since", "v9-never", "--root", str(repo), "--out", str(tmp_path / "dist"))
    assert result.returncode == 1 and "error[unknown-revision]" in result.stderr
    assert not (tmp_path / "dist").exists()


def test_project_in_a_subfolder_of_the_repository(tmp_path):
    top = tmp_path / "repo"
    project = write_project(top / "papers" / "small", V1)
    subprocess.run([*GIT, "init", "-q"], cwd=top, check=True)
    _commit(top, "v1", "v1")
    (project / "manuscript" / "body.md").write_text(V2)
    result = run_cli("diff", "v1", "--root", str(project), "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    assert "7 word(s) added, 2 removed" in result.stdout


def test_libreoffice_shows_the_revisions(diffed, tmp_path):
    source = tmp_path / "changes.docx"
    shutil.copy(diffed / "small-article-changes.docx", source)
    text = PdfReader(libreoffice_pdf(source, tmp_path)).pages[0].extract_text()
    assert "moderate" in text and "low" in text  # LibreOffice shows both sides of a tracked change


def test_help_names_the_command_and_its_options():
    result = run_cli("--help")
    assert "diff " in result.stdout and "--against DIR" in result.stdout and "--since REV" in result.stdout


def test_diff_without_a_revision_says_what_to_give(tmp_path):
    stderr = _fails(write_project(tmp_path / "p", V1), tmp_path)
    assert "error[diff-usage]: name one git revision" in stderr


def test_diff_page_is_valid_html5(diffed):
    from test_html_page import nu_html_check

    result = nu_html_check(diffed / "small-article-changes.html")
    assert result.returncode == 0, result.stderr + result.stdout


@pytest.mark.parametrize("which", ["deleted", "inserted"])
def test_a_code_block_deleted_or_inserted_whole_is_a_revision_in_the_docx(tmp_path, which):
    code = "```python\nprint('one')\n\nprint('two')\n```\n\n"
    with_code, without = f"Before.\n\n{code}After.\n", "Before.\n\nAfter.\n"
    old, new = (with_code, without) if which == "deleted" else (without, with_code)
    comparison = _compare_projects(tmp_path, old, new)
    docx = changes_docx(comparison)
    accepted_text = paragraphs(resolve_revisions(docx, accept=True))
    rejected_text = paragraphs(resolve_revisions(docx, accept=False))
    after, before = (accepted_text, rejected_text) if which == "deleted" else (rejected_text, accepted_text)
    assert not any("print(" in p for p in after)  # Accept all (deleted) / Reject all (inserted): gone
    assert any("print('one')" in p and "print('two')" in p for p in before)
    assert "Before." in after and "After." in after
    html = changes_files(comparison)[".html"].decode("utf-8")
    assert "<pre" in html and f"press-{which}" in html  # the page and the PDF still show a code block
