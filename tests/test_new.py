"""`python build.py new DIR`: a fresh project that builds at once, and never a file overwritten."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest
import yaml
from conftest import run_cli

from press.build import build
from press.new import scaffold_files

WRITTEN = {
    "manuscript/metadata.yaml",
    "manuscript/abstract.md",
    "manuscript/01-introduction.md",
    "manuscript/02-methods.md",
    "bib/references.bib",
    "figures/README.md",
}
# What only the authors can supply: the declarations, and the corresponding author's e-mail address
# (left empty rather than made up). The same check reports both (press.checks.declarations).
EXPECTED_WARNINGS = {"declaration-missing", "corresponding-email-missing"}


def files_under(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def html_title(page: Path) -> str:
    return html.unescape(re.search(r"<title>(.*?)</title>", page.read_text(encoding="utf-8"), re.S)[1])


def test_new_writes_the_press_layout(tmp_path: Path):
    result = run_cli("new", str(tmp_path / "paper"))
    assert result.returncode == 0, result.stderr
    assert set(files_under(tmp_path / "paper")) == WRITTEN
    assert {f.target.as_posix() for f in scaffold_files()} == WRITTEN
    assert "python build.py check --root" in result.stdout


def test_what_new_writes_builds_every_format_with_only_the_authors_facts_missing(tmp_path: Path):
    project = tmp_path / "paper"
    assert run_cli("new", str(project)).returncode == 0
    result = build(project, tmp_path / "out")
    assert sorted(o.format for o in result.outputs) == ["docx", "html", "pdf"]
    assert all(o.path.is_file() and o.size > 0 for o in result.outputs)
    assert {w.code for w in result.warnings} == EXPECTED_WARNINGS, [str(w) for w in result.warnings]
    page = next(o.path for o in result.outputs if o.format == "html").read_text(encoding="utf-8")
    # The citations, the table and the cross-references resolved: no key or id left as it was written.
    assert "Knuth, 1984" in page and "Wilson et al., 2017" in page and "Table 1" in page
    assert "https://doi.org/10.1093/comjnl/27.2.97" in page and "https://doi.org/10.1371/journal.pcbi.1005510" in page
    assert "@tbl:files" not in page and "@sec:methods" not in page and "@knuth1984literate" not in page


def test_check_passes_on_what_new_writes(tmp_path: Path):
    project = tmp_path / "paper"
    assert run_cli("new", str(project)).returncode == 0
    result = run_cli("check", "--root", str(project), "--format", "json")
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["errors"] == 0
    assert {d["code"] for d in report["diagnostics"]} == EXPECTED_WARNINGS


def test_new_invents_no_author_facts(tmp_path: Path):
    assert run_cli("new", str(tmp_path / "paper")).returncode == 0
    metadata = yaml.safe_load((tmp_path / "paper" / "manuscript" / "metadata.yaml").read_text(encoding="utf-8"))
    [author] = metadata["authors"]
    assert author["orcid"] is None and author["email"] is None and author["affiliations"] == []
    assert metadata["affiliations"] == {}
    assert all(value is None for value in metadata["declarations"].values())


@pytest.mark.parametrize(
    "title",
    [
        'Ząb: "quoted" ą ę ł é',
        "It's #1: a 'test' — [draft] {x} & <b>not bold</b>",
        "yes",  # YAML 1.1 would read it unquoted as true
        "1984",
        "- a list? no: a title",
    ],
)
def test_a_title_given_to_new_is_the_html_title_as_written(tmp_path: Path, title: str):
    project = tmp_path / "paper"
    result = run_cli("new", str(project), "--title", title)
    assert result.returncode == 0, result.stderr
    metadata = yaml.safe_load((project / "manuscript" / "metadata.yaml").read_text(encoding="utf-8"))
    assert str(metadata["title"]) == title
    [page] = build(project, tmp_path / "out", ["html"]).outputs
    assert html_title(page.path) == title


@pytest.mark.parametrize(
    "existing", ["manuscript/metadata.yaml", "bib/references.bib", "manuscript/03-results.md", "bib/mine.bib"]
)
def test_new_overwrites_nothing_and_writes_nothing_when_a_file_is_in_the_way(tmp_path: Path, existing: str):
    project = tmp_path / "paper"
    (project / existing).parent.mkdir(parents=True)
    (project / existing).write_text("the author's own words\n", encoding="utf-8")
    (project / "notes.txt").write_text("unrelated\n", encoding="utf-8")
    before = files_under(project)
    result = run_cli("new", str(project))
    assert result.returncode == 1
    assert f"paper/{existing}" in result.stderr and "nothing was written" in result.stderr
    assert "Traceback" not in result.stderr
    assert files_under(project) == before


def test_new_names_every_file_in_the_way_at_once(tmp_path: Path):
    project = tmp_path / "paper"
    for name in ("manuscript/metadata.yaml", "figures/README.md"):
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text("mine\n", encoding="utf-8")
    result = run_cli("new", str(project))
    assert result.returncode == 1
    assert "manuscript/metadata.yaml" in result.stderr and "figures/README.md" in result.stderr


def test_new_into_a_folder_with_other_files_keeps_them(tmp_path: Path):
    project = tmp_path / "paper"
    (project / "figures").mkdir(parents=True)
    (project / "figures" / "plot.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>\n", encoding="utf-8")
    (project / "README.md").write_text("my project\n", encoding="utf-8")
    result = run_cli("new", str(project))
    assert result.returncode == 0, result.stderr
    assert (project / "README.md").read_text(encoding="utf-8") == "my project\n"
    assert (project / "figures" / "plot.svg").is_file()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["new"], "name one folder"),
        (["new", "a", "b"], "name one folder"),
        (["new", "{dir}", "--title", "  "], "the title is empty"),
        (["new", "{dir}", "--title", "two\nlines"], "line break"),
    ],
)
def test_new_with_bad_arguments_says_why_and_writes_nothing(tmp_path: Path, args: list[str], message: str):
    result = run_cli(*[a.replace("{dir}", str(tmp_path / "paper")) for a in args], cwd=tmp_path)
    assert result.returncode == 1
    assert message in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "paper").exists() and not (tmp_path / "a").exists()


def test_new_on_a_file_says_it_is_not_a_folder(tmp_path: Path):
    (tmp_path / "paper").write_text("a file\n", encoding="utf-8")
    result = run_cli("new", str(tmp_path / "paper"))
    assert result.returncode == 1 and "not a folder" in result.stderr
    assert (tmp_path / "paper").read_text(encoding="utf-8") == "a file\n"
