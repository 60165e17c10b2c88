"""Citations come from pandoc's parse; an unresolved key stops the build before anything is written."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import FIXTURES, ROOT, run_cli

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
    project = tmp_path / "project"
    import shutil

    shutil.copytree(FIXTURES / "minimal", project)
    out = tmp_path / "out"
    assert run_cli("--root", str(project), "--out", str(out)).returncode == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    intro = project / "manuscript" / "intro.md"
    intro.write_text(intro.read_text(encoding="utf-8") + "\nMore [@missing2024].\n", encoding="utf-8")
    result = run_cli("--root", str(project), "--out", str(out))
    assert result.returncode == 1 and "missing2024" in result.stderr
    after = {p.name: p.read_bytes() for p in out.iterdir() if not p.name.startswith(".")}
    assert after == {k: v for k, v in before.items() if not k.startswith(".")}


def test_cross_reference_to_a_missing_table_is_an_error(tmp_path: Path):
    import shutil

    project = tmp_path / "project"
    shutil.copytree(FIXTURES / "minimal", project)
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
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == [
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
