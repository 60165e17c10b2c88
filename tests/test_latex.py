"""Raw LaTeX in the Markdown (papers first written for LaTeX, JOSS's template): what press reads as a
cross-reference or an id works, and what pandoc's LaTeX reader reads whole is shown; everything else is
reported at its place with what to write instead, never dropped without a word."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import FIXTURES, copy_project, run_cli
from lxml import html
from PIL import Image

from press.checks.latex import instead

TEXT = r"""
# Software

As shown in \autoref{fig:plot}, the tool works \cite{smith2020pain,jones2019ketamine}.

![Scores by week. \label{fig:plot}](../figures/plot.png)

Some \textbf{bold} LaTeX, and \ce{H2O}.
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    project = copy_project(FIXTURES / "minimal", tmp_path_factory.mktemp("latex") / "project")
    (project / "figures").mkdir()
    Image.new("RGB", (2100, 1050), (200, 20, 20)).save(project / "figures" / "plot.png", dpi=(300, 300))
    results = project / "manuscript" / "results.md"
    results.write_text(results.read_text(encoding="utf-8") + TEXT, encoding="utf-8")
    return project


def test_a_label_in_a_caption_is_the_figure_s_id_and_autoref_links_to_it(project: Path, tmp_path: Path):
    result = run_cli("html", "--root", str(project), "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    page = html.parse(str(next(tmp_path.glob("*.html")))).getroot()
    assert page.find(".//figure").get("id") == "fig:plot"
    assert page.find(".//a[@href='#fig:plot']").text == "Figure 1"
    assert "label" not in page.find(".//figure//img").get("alt")


def test_raw_latex_left_out_is_a_warning_at_its_place_with_the_markdown_to_write(project: Path):
    report = json.loads(run_cli("check", "--root", str(project), "--format", "json").stdout)
    raw = [d for d in report["diagnostics"] if d["code"] == "raw-latex"]
    lines = (project / "manuscript" / "results.md").read_text(encoding="utf-8").splitlines()
    line = next(n for n, text in enumerate(lines, 1) if "\\ce{" in text)
    # \cite is a citation, \textbf bold (pandoc's LaTeX reader reads it); mhchem's \ce it does not read
    assert [(d["line"], d["severity"]) for d in raw] == [(line, "warning")]
    assert raw[0]["column"] == lines[line - 1].index("\\ce") + 1
    assert "\\ce{H2O}" in raw[0]["message"]


def test_latex_that_pandoc_reads_is_shown(project: Path, tmp_path: Path):
    assert run_cli("html", "--root", str(project), "--out", str(tmp_path)).returncode == 0
    page = html.parse(str(next(tmp_path.glob("*.html")))).getroot()
    (paragraph,) = [p for p in page.iter("p") if "LaTeX, and" in p.text_content()]
    assert paragraph.find(".//strong").text == "bold" and "Some bold LaTeX, and ." in paragraph.text_content()


def test_latex_citations_are_citations(project: Path, tmp_path: Path):
    results = project / "manuscript" / "results.md"
    text = results.read_text(encoding="utf-8")
    results.write_text(
        text + "\nAs \\citet{smith2020pain} found \\cite[see][p. 3]{jones2019ketamine}.\n", encoding="utf-8"
    )
    try:
        result = run_cli("html", "--root", str(project), "--out", str(tmp_path))
        assert result.returncode == 0, result.stderr
        body = html.parse(str(next(tmp_path.glob("*.html")))).getroot().find(".//main").text_content()
        assert "\\cite" not in body
        assert "works (Jones & Richebé, 2019; Smith & Kowalski, 2020)" in " ".join(body.split())
        assert "As Smith & Kowalski (2020) found (see Jones & Richebé, 2019, p. 3)" in " ".join(body.split())
        report = json.loads(run_cli("check", "--root", str(project), "--format", "json").stdout)
        assert not [d for d in report["diagnostics"] if d["code"] in ("uncited-reference", "unresolved-citation")]
        broken = run_cli("check", "--root", str(project))
        assert broken.returncode == 0
    finally:
        results.write_text(text, encoding="utf-8")


@pytest.mark.parametrize(
    ("raw", "hint"),
    [
        (r"\citet{a}", "write @a (a citation in the text)"),
        (r"\citep[p.~3]{a, b}", "write [@a; @b] (pandoc's citation)"),
        (r"\ref{intro}", "write @intro for a cross-reference"),
        (r"\label{tab:x}", "give the figure, table or heading an id instead"),
    ],
)
def test_what_to_write_instead(raw: str, hint: str):
    assert instead(raw).startswith(hint)
