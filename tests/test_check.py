"""`python build.py check`: every check has a fixture under tests/fixtures/check/ that triggers it."""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FIXTURES, ROOT, run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from press import pandoc
from press.check import check
from press.checks import run_checks
from press.checks.bibliography import normalise_doi
from press.checks.counts import Count, count_words, format_table
from press.document import cite_ids, parse
from press.load import display_path, load
from press.model import Section

CHECK = FIXTURES / "check"


def check_json(name: str, capsys: pytest.CaptureFixture[str], strict: bool = False) -> tuple[int, dict]:
    """Run `check --format json` in this process (no interpreter start-up) and parse what it printed."""
    status = check(CHECK / name, "json", strict)
    return status, json.loads(capsys.readouterr().out)


# fixture, code, file in the fixture, line, column, severity, exit status, a piece of the hint
CASES = [
    ("unresolved-citation", "unresolved-citation", "manuscript/intro.md", 3, 53, "error", 1, "mean 'smith2020pain'?"),
    ("uncited-reference", "uncited-reference", "bib/refs.bib", 12, None, "warning", 0, "[@jones2019ketamine]"),
    ("duplicate-doi", "bib-duplicate-doi", "bib/refs.bib", 12, None, "error", 1, "'smith2020pain' is at"),
    ("duplicate-key", "bib-duplicate-key", "bib/refs.bib", 12, None, "error", 1, "first defined at line 1"),
    ("duplicate-key-across-files", "bib-duplicate-key", "bib/more.bib", 1, None, "error", 1, "refs.bib:1"),
    ("bib-syntax", "bib-syntax", "bib/refs.bib", 4, None, "error", 1, None),
    ("required-field", "bib-required-field", "bib/refs.bib", 1, None, "warning", 0, "journal = {...}"),
    ("article-details", "bib-article-details", "bib/refs.bib", 1, None, "warning", 0, None),
    ("doi-syntax", "bib-doi-syntax", "bib/refs.bib", 9, 3, "warning", 0, None),
    ("doi-prefix", "bib-doi-prefix", "bib/refs.bib", 9, 3, "warning", 0, "doi = {10.1000/xyz123}"),
    ("doi-lookalike", "bib-doi-lookalike", "bib/refs.bib", 9, 25, "warning", 0, "doi = {10.1000/xyz-123}"),
    ("no-doi", "bib-no-doi", "bib/refs.bib", 1, None, "warning", 0, None),
    ("year", "bib-year", "bib/refs.bib", 5, 3, "warning", 0, None),
    ("page-range", "bib-page-range", "bib/refs.bib", 8, 3, "warning", 0, "pages = {100--110}"),
    ("truncated-authors", "bib-truncated-authors", "bib/refs.bib", 2, 3, "warning", 0, None),
    ("title-caps", "bib-title-caps", "bib/refs.bib", 3, 3, "warning", 0, None),
    ("section-missing", "section-missing", "manuscript/metadata.yaml", 16, None, "error", 1, None),
    ("section-unlisted", "section-unlisted", "manuscript/notes.md", None, None, "warning", 0, "under 'sections'"),
    ("image-missing", "image-missing", "manuscript/intro.md", 5, 22, "error", 1, "relative to"),
    ("image-outside-project", "image-outside-project", "manuscript/intro.md", 5, 24, "error", 1, None),
]


@pytest.mark.parametrize(
    ("fixture", "code", "file", "line", "column", "severity", "status", "hint"), CASES, ids=[c[0] for c in CASES]
)
def test_each_check_reports_its_problem_at_the_file_and_line(
    capsys, fixture, code, file, line, column, severity, status, hint
):
    result, report = check_json(fixture, capsys)
    assert [(d["code"], d["file"], d["line"], d["column"], d["severity"]) for d in report["diagnostics"]] == [
        (code, display_path(CHECK / fixture / file), line, column, severity)
    ]
    if hint:
        assert hint in report["diagnostics"][0]["hint"]
    assert result == status
    assert report["ok"] is (status == 0)


def test_cross_references_to_missing_tables_figures_and_sections_are_errors(capsys):
    status, report = check_json("unresolved-crossref", capsys)
    found = [(d["code"], d["line"], d["column"], d["message"]) for d in report["diagnostics"]]
    assert found == [
        ("unresolved-crossref", 5, 5, "unresolved cross-reference 'tbl:missing'"),
        ("unresolved-crossref", 5, 19, "unresolved cross-reference 'fig:none'"),
        ("unresolved-crossref", 5, 33, "unresolved cross-reference 'sec:intor'"),
    ]
    assert report["diagnostics"][2]["hint"] == "did you mean 'sec:intro'?"
    assert status == 1


def test_counts_over_the_journal_limits_are_warnings_and_shown_in_the_table(capsys):
    status, report = check_json("over-limit", capsys)
    metadata = display_path(CHECK / "over-limit" / "manuscript" / "metadata.yaml")
    abstract = display_path(CHECK / "over-limit" / "manuscript" / "abstract.md")
    assert [(d["code"], d["file"], d["line"]) for d in report["diagnostics"]] == [
        ("over-limit-abstract-words", abstract, 1),
        ("over-limit-main-words", metadata, 16),
        ("over-limit-references", metadata, 17),
        ("over-limit-figures", metadata, 18),
        ("over-limit-tables", metadata, 19),
    ]
    counts = {c["name"]: (c["value"], c["limit"], c["over"]) for c in report["counts"]}
    # abstract: "Background. Five words in this abstract."; main: the heading and a 12-word sentence,
    # not the figure caption, the table or the citation.
    assert counts == {
        "abstract_words": (6, 3, 3),
        "main_words": (13, 10, 3),
        "references": (1, 0, 1),
        "figures": (1, 0, 1),
        "tables": (1, 0, 1),
        "equations": (0, None, 0),
    }
    assert status == 0


def test_a_clean_project_passes_with_no_diagnostics(capsys):
    assert check(CHECK / "clean", "text", strict=True) == 0
    captured = capsys.readouterr()
    assert captured.err.splitlines()[-1].startswith("check passed: 0 errors, 0 warnings")
    assert "abstract words" in captured.out


def test_an_at_sign_in_an_email_address_a_url_or_code_is_never_a_citation(capsys):
    manuscript = load(CHECK / "at-signs")
    assert [use.key for use in parse(manuscript).citations] == ["smith2020pain"]
    status, report = check_json("at-signs", capsys, strict=True)
    assert (status, report["diagnostics"]) == (0, [])


def test_strict_turns_warnings_into_a_failure(capsys):
    assert check(CHECK / "no-doi", "text", strict=False) == 0
    assert "check passed: 0 errors, 1 warning" in capsys.readouterr().err
    assert check(CHECK / "no-doi", "text", strict=True) == 1
    assert "check failed: 0 errors, 1 warning (--strict: warnings count as errors)" in capsys.readouterr().err


def test_text_diagnostics_go_to_stderr_like_a_compiler(capsys):
    assert check(CHECK / "page-range", "text", strict=False) == 0
    err = capsys.readouterr().err
    shown = display_path(CHECK / "page-range" / "bib" / "refs.bib")
    assert f"{shown}:8:3: warning[bib-page-range]: page range '100-110' of 'smith2020pain' uses a single hyphen" in err
    assert "\n  hint: pages = {100--110}" in err


def test_the_shipped_manuscript_passes_check_with_no_errors():
    result = run_cli("check")
    assert result.returncode == 0, result.stderr
    assert "error[" not in result.stderr
    # Sun et al. (2023) has no DOI in the published record: a warning, never an error.
    assert re.search(r"bib/references\.bib:\d+: warning\[bib-no-doi\]: entry 'sun2023effects'", result.stderr)
    assert re.search(r"^abstract words\s+\d+\s+300\s+ok$", result.stdout, re.MULTILINE)
    assert re.search(r"^references\s+33\s+60\s+ok$", result.stdout, re.MULTILINE)
    assert result.stderr.splitlines()[-1].startswith("check passed: 0 errors")


def test_json_from_the_cli_parses_and_fails_on_errors():
    result = run_cli("check", "--root", str(CHECK / "unresolved-citation"), "--format", "json")
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False and report["errors"] == 1
    assert report["diagnostics"][0]["code"] == "unresolved-citation"
    assert result.stderr.startswith("check failed: 1 error")


def test_strict_from_the_cli():
    assert run_cli("check", "--root", str(CHECK / "uncited-reference")).returncode == 0
    assert run_cli("check", "--root", str(CHECK / "uncited-reference"), "--strict").returncode == 1


def test_check_never_loads_weasyprint_or_runs_citeproc():
    code = (
        "import sys; from pathlib import Path; from press.check import check; check(Path('.'), 'json', False); "
        "print(sorted(m for m in ('weasyprint', 'docx', 'press.writers') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert out.splitlines()[-1] == "[]"


def test_the_build_refuses_to_write_when_a_check_fails(tmp_path: Path):
    out = tmp_path / "out"
    result = run_cli("--root", str(CHECK / "image-missing"), "html", "--out", str(out))
    assert result.returncode == 1
    assert "error[image-missing]: image 'figures/map.png' does not exist" in result.stderr
    assert not out.exists() or not any(out.iterdir())


def test_the_build_and_check_share_the_checks():
    manuscript = load(CHECK / "title-caps")
    codes = [d.code for d in run_checks(manuscript, parse(manuscript))]
    assert codes == ["bib-title-caps"]
    # Without the parse (as in a caller that has none), the checks of the loaded model still run.
    assert [d.code for d in run_checks(manuscript)] == ["bib-title-caps"]


@pytest.mark.parametrize(
    ("written", "normalised"),
    [
        ("10.1000/xyz", "10.1000/xyz"),
        ("{https://doi.org/10.1000/a\\_b}", "10.1000/a_b"),
        ("http://dx.doi.org/10.1000%2Fxyz", "10.1000/xyz"),
        ("doi: 10.1000/xyz", "10.1000/xyz"),
        ("10.1000/x\u2013y\u200b", "10.1000/x-y"),
    ],
)
def test_doi_normal_form(written: str, normalised: str):
    assert normalise_doi(written) == normalised


def test_words_are_counted_on_the_parse_not_the_markup():
    blocks = pandoc.markdown_to_ast(
        "# A heading\n\nOne *two* **three** -- [four](https://x.org) `five six` [@key] 7.5 ![alt text](x.png)\n"
    )["blocks"]
    assert count_words(blocks) == 9


def test_the_counts_table_marks_what_is_over():
    table = format_table([Count("main_words", "main text words", 120, 100), Count("figures", "figures", 2, None)])
    assert table.splitlines() == [
        "                 count  limit",
        "main text words    120    100  over by 20",
        "figures              2      -  no limit",
    ]


# Citation syntaxes pandoc accepts, and look-alikes that must never be citations.
KEY = st.from_regex(r"[a-z][a-z0-9]{0,6}(_[a-z0-9]{1,3})?", fullmatch=True)
CITES = [
    lambda k: (f"[@{k}]", [k]),
    lambda k: (f"[see @{k}, p. 3]", [k]),
    lambda k: (f"[-@{k}]", [k]),
    lambda k: (f"@{k}", [k]),
    lambda k: (f"@{k} [p. 4]", [k]),
    lambda k: (f"[@{k}; also @{k}x, pp. 2-3]", [k, f"{k}x"]),
    lambda k: (f"@{{{k}}}", [k]),
    lambda k: (f"[@sec:{k}]", [f"sec:{k}"]),
]
DECOYS = [
    lambda k: f"{k}@example.org",
    lambda k: f"<{k}@example.org>",
    lambda k: f"`@{k}`",
    lambda k: f"https://example.org/@{k}",
    lambda k: f"<https://example.org/@{k}>",
    lambda k: f"[a link](https://example.org/@{k})",
]
TOKEN = st.one_of(
    st.tuples(st.sampled_from(CITES), KEY).map(lambda pair: pair[0](pair[1])),
    st.tuples(st.sampled_from(DECOYS), KEY).map(lambda pair: (pair[0](pair[1]), [])),
    st.sampled_from(["pain", "and", "ketamine,", "the"]).map(lambda word: (word, [])),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(st.lists(TOKEN, min_size=1, max_size=6), min_size=1, max_size=4))
def test_the_checker_sees_exactly_the_cite_keys_of_pandocs_ast(lines):
    # Each paragraph opens with a word: "@key." opening a paragraph is an example-list marker in pandoc.
    text = "\n\n".join("Text " + " ".join(token for token, _ in line) + "." for line in lines) + "\n"
    expected = {key for line in lines for _, keys in line for key in keys}
    manuscript = load(CHECK / "clean")
    section = Section(manuscript.sections[0].path, "generated.md", text)
    parsed = parse(dataclasses.replace(manuscript, sections=[section]))
    uses = parsed.citations + parsed.crossrefs
    assert {use.key for use in uses} == set(cite_ids(pandoc.markdown_to_ast(text)["blocks"])) == expected
    lines_of_text = text.split("\n")
    for use in uses:  # each use points at its own "@key" in the source
        rest = lines_of_text[use.line - 1][use.column - 1 :]
        assert rest.startswith((f"@{use.key}", f"@{{{use.key}}}")), (use, text)
