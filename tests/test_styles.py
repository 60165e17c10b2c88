"""CSL styles: an old style id resolves to its current style with a note, and `styles` finds ids."""

from __future__ import annotations

from pathlib import Path

from conftest import FIXTURES, copy_project, run_cli

from press import styles


def test_an_old_style_id_resolves_to_its_current_style_with_a_note(tmp_path: Path):
    project = copy_project(FIXTURES / "minimal", tmp_path / "project")
    metadata = project / "manuscript" / "metadata.yaml"
    text = metadata.read_text(encoding="utf-8")
    assert "csl: apa" in text
    metadata.write_text(text.replace("csl: apa", "csl: vancouver"), encoding="utf-8")
    line = text.splitlines().index(next(x for x in text.splitlines() if "csl: apa" in x)) + 1
    result = run_cli("html", "--root", str(project), "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    assert f"metadata.yaml:{line}: warning[metadata-csl-renamed]: CSL style 'vancouver' is now called" in result.stderr
    assert "nlm-citation-sequence" in result.stderr
    page = next((tmp_path / "out").glob("*.html")).read_text(encoding="utf-8")
    assert "Smith &amp; Kowalski, 2020" not in page, "still APA"
    assert 'data-cites="smith2020pain">(<a href="#ref-smith2020pain" role="doc-biblioref">1</a>)' in page


def test_an_unknown_style_says_how_to_find_one(tmp_path: Path):
    project = copy_project(FIXTURES / "minimal", tmp_path / "project")
    metadata = project / "manuscript" / "metadata.yaml"
    metadata.write_text(metadata.read_text(encoding="utf-8").replace("csl: apa", "csl: vancover"), encoding="utf-8")
    result = run_cli("check", "--root", str(project))
    assert result.returncode == 1
    assert "error[metadata-csl]: unknown CSL style 'vancover'" in result.stderr
    assert "python build.py styles" in result.stderr


def test_styles_lists_ids_titles_and_citation_formats():
    result = run_cli("styles", "vancouver")
    assert result.returncode == 0
    assert "'vancouver' is the old id of 'nlm-citation-sequence'" in result.stdout
    rows = {line.split()[0]: line.split()[1] for line in result.stdout.splitlines()[1:]}
    assert rows["nlm-citation-sequence"] == "numeric"
    assert rows["elsevier-vancouver-author-date"] == "author-date"
    assert run_cli("styles", "no-such-style-anywhere").returncode == 1


def test_resolve_finds_independent_dependent_and_renamed_styles():
    assert styles.resolve("apa")[0].name == "apa.csl"
    assert styles.resolve("apa.csl") == styles.resolve("apa")
    path, current = styles.resolve("vancouver")
    assert current == "nlm-citation-sequence" and path.stem == current
    dependent = next((styles.styles_dir() / "dependent").glob("*.csl")).stem
    assert styles.resolve(dependent)[0].parent.name == "dependent"
    assert styles.resolve("../apa") == (None, None)
