"""Citations come from pandoc's parse; an unresolved key stops the build before anything is written."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import FIXTURES, ROOT, copy_project, run_cli

from press.ast import elements
from press.document import parse
from press.load import load


def test_every_citation_in_the_shipped_manuscript_resolves():
    manuscript = load(ROOT)
    parsed = parse(manuscript)
    keys = {use.key for use in parsed.citations}
    assert keys, "the manuscript cites nothing?"
    assert keys <= set(manuscript.bibliography), keys - set(manuscript.bibliography)
    assert keys == set(manuscript.bibliography), "every reference is cited at least once"


def test_unresolved_keys_are_reported_with_file_line_column_and_a_hint(tmp_path: Path):
    out = tmp_path / "out"
    result = run_cli("--root", str(FIXTURES / "missing-key"), "--out", str(out))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    intro = "tests/fixtures/missing-key/manuscript/intro.md"
    assert f"{intro}:5:27: error[unresolved-citation]: unresolved citation 'jones2019ketamin'" in result.stderr
    assert "did you mean 'jones2019ketamine'?" in result.stderr
    assert f"{intro}:5:57: error[unresolved-citation]: unresolved citation 'nobody2000'" in result.stderr
    assert not out.exists() or not any(out.iterdir()), "nothing may be written"


def test_email_addresses_and_code_are_not_citations():
    manuscript = load(FIXTURES / "missing-key")
    keys = [use.key for use in parse(manuscript).citations]
    assert keys == ["smith2020pain", "jones2019ketamin", "nobody2000", "jones2019ketamine"]


def test_a_failed_build_leaves_the_previous_outputs_untouched(tmp_path: Path, minimal_build: Path):
    project = copy_project(FIXTURES / "minimal", tmp_path / "project")
    out = tmp_path / "out"
    assert run_cli("--root", str(project), "--out", str(out)).returncode == 0
    before = {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    intro = project / "manuscript" / "intro.md"
    intro.write_text(intro.read_text(encoding="utf-8") + "\nMore [@missing2024].\n", encoding="utf-8")
    result = run_cli("--root", str(project), "--out", str(out))
    assert result.returncode == 1 and "missing2024" in result.stderr
    after = {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    after = {k: v for k, v in after.items() if not k.startswith(".")}
    assert after == {k: v for k, v in before.items() if not k.startswith(".")}


def test_cross_reference_to_a_missing_table_is_an_error(tmp_path: Path):
    project = copy_project(FIXTURES / "minimal", tmp_path / "project")
    results = project / "manuscript" / "results.md"
    results.write_text(results.read_text(encoding="utf-8").replace("@tbl:data", "@tbl:dta"), encoding="utf-8")
    result = run_cli("--root", str(project), "html", "--out", str(tmp_path / "out"))
    assert result.returncode == 1
    assert re.search(
        r"results\.md:3:\d+: error\[unresolved-crossref\]: unresolved cross-reference 'tbl:dta'", result.stderr
    )
    assert "did you mean 'tbl:data'?" in result.stderr


def test_single_formats_and_out_folder(tmp_path: Path):
    out = tmp_path / "elsewhere"
    result = run_cli("--root", str(FIXTURES / "minimal"), "html", "docx", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.iterdir() if p.is_file() and not p.name.startswith(".")) == [
        "minimal-article.docx",
        "minimal-article.html",
    ]
    assert re.search(r"html\s+\S+minimal-article\.html\s+\(\d+\.\d+ s", result.stdout)


def test_unknown_format_is_a_usage_error():
    result = run_cli("epub")
    assert result.returncode == 2 and "unknown command or format: epub" in result.stderr


def test_a_cross_reference_followed_by_a_citation_keeps_both():
    """`@sec:intro [@smith2020pain]` parses as one Cite: the link and the citation must both survive."""
    from press.document import number_targets, replace_crossrefs
    from press.pandoc import markdown_to_ast

    blocks = markdown_to_ast("# Intro {#sec:intro}\n\nSee @sec:intro [@smith2020pain].\n")["blocks"]
    tables, figures, sections = number_targets(blocks)
    para = replace_crossrefs(blocks, tables, figures, sections)[1]
    span = para["c"][2]["c"][1]
    assert span[0]["t"] == "Link" and span[0]["c"][2][0] == "#sec:intro"
    assert span[-1]["t"] == "Cite" and [c["citationId"] for c in span[-1]["c"][0]] == ["smith2020pain"]


def _project(tmp_path: Path, csl: str = "apa", extra: str = "") -> Path:
    """The minimal fixture, with another CSL style and more text in its introduction."""
    project = copy_project(FIXTURES / "minimal", tmp_path / "project")
    metadata = project / "manuscript" / "metadata.yaml"
    metadata.write_text(metadata.read_text(encoding="utf-8").replace("csl: apa", f"csl: {csl}"), encoding="utf-8")
    intro = project / "manuscript" / "intro.md"
    intro.write_text(intro.read_text(encoding="utf-8") + extra, encoding="utf-8")
    return project


MIXED = (
    "\nAs @sec:intro [@jones2019ketamine] shows, and @smith2020pain [-@smith2020pain; @jones2019ketamine, ch. 2].\n"
    "\nAgain [@jones2019ketamine], and [see @jones2019ketamine], and @smith2020pain once more.\n"
)


@pytest.mark.parametrize("which", ["shipped", "minimal with a mixed cross-reference and citation"])
def test_citations_resolved_as_a_collection_equal_citeproc_over_the_whole_document(tmp_path: Path, which: str):
    import copy

    from press import citeproc, pandoc
    from press.document import unresolved_article

    manuscript = load(ROOT if which == "shipped" else _project(tmp_path, extra=MIXED))
    ast, *_ = unresolved_article(manuscript, parse(manuscript))
    whole = json.loads(pandoc.start_citeproc(ast, manuscript.bib_paths, manuscript.csl_path).result())
    collected, renderings = citeproc.resolve(copy.deepcopy(ast), manuscript)
    assert renderings is not None, "APA resolves as a collection"
    cites = sum(1 for el in elements(ast["blocks"]) if el["t"] == "Cite")
    assert len(renderings.cites) < cites, "a repeated citation is rendered once"
    assert collected["blocks"] == whole["blocks"]
    assert collected["meta"] == whole["meta"]


def test_a_style_that_renders_by_position_is_resolved_over_the_whole_document(tmp_path: Path):
    from press import citeproc
    from press.document import unresolved_article

    manuscript = load(_project(tmp_path, csl="chicago-notes-bibliography-17th-edition"))
    ast, *_ = unresolved_article(manuscript, parse(manuscript))
    resolved, renderings = citeproc.resolve(ast, manuscript)
    assert renderings is None
    assert any(el["t"] == "Note" for el in elements(resolved["blocks"])), "a note style puts citations in notes"


def _citeproc_runs(monkeypatch) -> list[list[str]]:
    """Every citeproc run over the article's citations (not the "How to cite" line) from now on."""
    from press import pandoc

    runs: list[list[str]] = []
    real = pandoc.start

    def counting(args, data):
        if "--citeproc" in args and args[args.index("-t") + 1] == "json":
            runs.append(args)
        return real(args, data)

    monkeypatch.setattr(pandoc, "start", counting)
    return runs


def test_an_edit_that_leaves_the_citations_alone_reuses_the_kept_renderings(tmp_path: Path, monkeypatch):
    from press.build import build

    project = _project(tmp_path)
    out = tmp_path / "out"
    runs = _citeproc_runs(monkeypatch)
    build(project, out, ["html"])
    assert len(runs) == 1
    intro = project / "manuscript" / "intro.md"
    intro.write_text(intro.read_text(encoding="utf-8") + "\nA sentence without citations.\n", encoding="utf-8")
    runs.clear()
    build(project, out, ["html"])
    assert runs == [], "nothing about the citations changed: citeproc must not run"
    fresh = tmp_path / "fresh"
    build(project, fresh, ["html"])
    page = "minimal-article.html"
    assert (out / page).read_bytes() == (fresh / page).read_bytes()

    intro.write_text(
        intro.read_text(encoding="utf-8") + "\nNow cited again [@smith2020pain, p. 9].\n", encoding="utf-8"
    )
    runs.clear()
    build(project, out, ["html"])
    assert len(runs) == 1, "a new citation: citeproc renders the collection again"
    fresh_again = tmp_path / "fresh2"
    build(project, fresh_again, ["html"])
    assert (out / page).read_bytes() == (fresh_again / page).read_bytes()
    assert "p. 9" in (out / page).read_text(encoding="utf-8")


def test_kept_renderings_that_cannot_be_read_are_ignored(tmp_path: Path, monkeypatch):
    from press.build import build
    from press.kept import NAME

    project = _project(tmp_path)
    out = tmp_path / "out"
    build(project, out, ["html"])
    (out / NAME).write_text('{"schema": 1, "citations": {"x": [}', encoding="utf-8")
    intro = project / "manuscript" / "intro.md"
    intro.write_text(intro.read_text(encoding="utf-8") + "\nMore prose.\n", encoding="utf-8")
    runs = _citeproc_runs(monkeypatch)
    build(project, out, ["html"])
    assert len(runs) == 1
    assert json.loads((out / NAME).read_text(encoding="utf-8"))["schema"] == 1


def test_a_bibliography_change_renders_the_citations_again(tmp_path: Path, monkeypatch):
    from press.build import build

    project = _project(tmp_path)
    out = tmp_path / "out"
    build(project, out, ["html"])
    bib = next((project / "bib").glob("*.bib"))
    text = bib.read_text(encoding="utf-8")
    bib.write_text(text.replace("year = {2020}", "year = {2021}", 1), encoding="utf-8")
    runs = _citeproc_runs(monkeypatch)
    build(project, out, ["html"])
    assert len(runs) == 1
    assert "2021" in (out / "minimal-article.html").read_text(encoding="utf-8")
