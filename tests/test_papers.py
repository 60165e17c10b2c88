"""Papers as authors already keep them: one Markdown file with front matter (JOSS's, Quarto's), CSL-JSON
bibliographies, the severities published practice needs, and every problem reported in one run.

Fixtures under tests/fixtures/joss and tests/fixtures/quarto were written for these tests (fictional
works and people); each test builds a copy in a temporary folder through the real pipeline.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import zipfile
from collections import Counter
from pathlib import Path

import pikepdf
import pytest
from conftest import FIXTURES, run_cli
from docx import Document as WordDocument
from lxml import html as lxml_html
from pypdf import PdfReader

JOSS_WARNINGS = {
    ("paper.bib", 1, "bib-required-field"),  # an @article without journal, as published bibliographies have
    ("paper.bib", 1, "bib-article-details"),
    ("paper.bib", 1, "bib-no-doi"),
    ("paper.bib", 7, "bib-no-doi"),
    ("paper.bib", 10, "bib-year"),  # year = {2003 - 2024} on a software entry
    ("paper.md", 2, "declaration-missing"),
    ("paper.md", 10, "front-matter-unknown-field"),  # equal-contrib
    ("paper.md", 24, "front-matter-unknown-field"),  # aas-journal
}


def paper(tmp_path: Path, name: str) -> Path:
    target = tmp_path / name
    shutil.copytree(FIXTURES / name, target)
    return target


def found(result: subprocess.CompletedProcess, root: Path) -> set[tuple[str, int | None, str]]:
    """(file relative to root, line, code) of every diagnostic printed."""
    text = result.stdout + result.stderr
    out = set()
    for match in re.finditer(r"^(\S+?):(\d+)(?::\d+)?: (?:error|warning)\[([\w-]+)\]", text, re.MULTILINE):
        out.add(
            (Path(match.group(1)).resolve().relative_to(root.resolve()).as_posix(), int(match.group(2)), match.group(3))
        )
    return out


def pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


def test_a_joss_paper_builds_every_format_as_it_is(tmp_path):
    root = paper(tmp_path, "joss")
    result = run_cli("--root", str(root))
    assert result.returncode == 0, result.stdout + result.stderr
    assert found(result, root) == JOSS_WARNINGS
    slug = "tidepool-a-small-python-package-for-tide-gauge-records"
    out = root / "build"  # beside the paper
    text = pdf_text(out / f"{slug}.pdf")
    for expected in ("Zoë Wiśniewska", "François Łęcki", "Institute of Coastal Studies", "ąę, łódź and café"):
        assert expected in text
    assert "Figure 1" in text and "autoref" not in text and "label" not in text
    assert "13 August 2017" not in text and "CC BY 4.0" in text
    assert text.count("References") == 1  # the paper's own trailing heading is the list's, not a second one
    page = lxml_html.parse(str(out / f"{slug}.html")).getroot()
    link = page.xpath("//a[@class='crossref']")[0]
    assert link.text_content() == "Figure 1" and link.get("href") == "#fig:gauge"
    assert page.xpath("//figure[@id='fig:gauge']")
    names = [a.text_content() for a in page.xpath("//*[contains(@class, 'author-name')]")] or page.xpath(
        "//meta[@name='citation_author']/@content"
    )
    assert "Zoë Wiśniewska" in " ".join(names)
    affiliations = [li.text_content().strip() for li in page.xpath("//ol[@class='affiliations']/li")]
    assert affiliations == [
        "1 Department of Marine Science, Example University, Country",
        "2 Institute of Coastal Studies, Example City, Country",
    ]
    assert page.xpath("//meta[@name='citation_publication_date']/@content")[0].replace("-", "/") == "2017/08/13"
    docx = "\n".join(p.text for p in WordDocument(str(out / f"{slug}.docx")).paragraphs)
    assert "tidepool: a small Python package" in docx and "Figure 1" in docx


def test_a_paper_named_on_the_command_line_builds_beside_itself(tmp_path):
    root = paper(tmp_path, "joss")
    (root / "paper.md").rename(root / "tidepool.md")
    (root / "notes.md").write_text("---\ntitle: Notes to self\n---\n\nnot the paper\n", encoding="utf-8")
    result = run_cli("html", str(root / "tidepool.md"))
    assert result.returncode == 0, result.stderr
    assert (root / "build" / "tidepool-a-small-python-package-for-tide-gauge-records.html").is_file()
    result = run_cli("check", "--root", str(root))  # two papers and no way to choose: say so
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "several Markdown files with front matter (notes.md, tidepool.md)" in result.stderr
    assert "python build.py notes.md" in result.stderr


def test_a_quarto_manuscript_builds_with_its_project_defaults(tmp_path):
    root = paper(tmp_path, "quarto")
    result = run_cli("--root", str(root))
    assert result.returncode == 0, result.stdout + result.stderr
    assert found(result, root) == {
        ("_quarto.yml", 12, "metadata-csl-renamed"),  # csl: vancouver, at its line in _quarto.yml
        ("index.qmd", 10, "front-matter-unknown-field"),  # execute:
        ("index.qmd", 34, "quarto-code-chunk"),
        ("references.json", 3, "bib-article-details"),
        # bib-no-doi and declaration-missing: ignored by the front matter's check: settings
    }
    out = root / "build"
    html = (out / "counting-seabirds-from-the-shore.html").read_text(encoding="utf-8")
    page = lxml_html.fromstring(html)
    links = {a.text_content(): a.get("href") for a in page.xpath("//a[@class='crossref']")}
    assert links == {
        "Figure 1": "#fig-site",
        "Table 1": "#tbl-counts",
        "Equation 1": "#eq-mean",
        "Methods": "#sec-methods",
        "Introduction": "#sec-intro",
    }
    assert page.xpath("//h1[@class='title']")[0].text_content() == "Counting seabirds from the shore"
    assert page.xpath("//p[@class='subtitle']")[0].text_content() == "a pilot survey"
    title = "Counting seabirds from the shore: a pilot survey"
    assert page.xpath("//meta[@name='citation_title']/@content") == [title] and page.findtext(".//title") == title
    text = page.text_content()
    assert "Example Field Station" in text and "120 times" in text and "{{<" not in text
    assert "(1)" in text and "(2)" in text  # Vancouver (nlm-citation-sequence): numbers, in order
    assert "Ingrid Østergård" in text  # the author from _quarto.yml
    assert page.xpath("//pre/code[contains(@class, 'python')]")  # the chunk, shown as code
    assert page.get("lang") == "en-GB"
    pdf = pdf_text(out / "counting-seabirds-from-the-shore.pdf")
    assert "How to cite:\nØstergård I. Counting seabirds from the shore: a pilot survey." in pdf or (
        "How to cite: Østergård I. Counting seabirds from the shore: a pilot survey." in pdf
    )  # no lone "1." line
    assert "Example A. A fictional study of seabird distance from the shore. Journal of Examples." in pdf
    # A table's caption stays with its table (it fell at the foot of page 1, the table on page 2).
    pages = [page.extract_text() for page in PdfReader(out / "counting-seabirds-from-the-shore.pdf").pages]
    assert [n for n, text in enumerate(pages) if "Counts per season" in text] == [
        n for n, text in enumerate(pages) if "Spring" in text
    ]


def test_a_quarto_shortcode_only_quarto_expands_is_an_error_at_its_line(tmp_path):
    root = paper(tmp_path, "quarto")
    index = root / "index.qmd"
    index.write_text(
        index.read_text(encoding="utf-8").replace("# Methods", "{{< video https://example.org/v.mp4 >}}\n\n# Methods"),
        encoding="utf-8",
    )
    result = run_cli("check", "--root", str(root))
    assert result.returncode == 1
    assert re.search(r"index\.qmd:21:1: error\[quarto-shortcode\]: the Quarto shortcode 'video'", result.stderr)
    assert "hint: link to the video" in result.stderr


def test_severities_per_code_from_the_metadata(tmp_path):
    root = paper(tmp_path, "joss")
    text = (root / "paper.md").read_text(encoding="utf-8")
    settings = "check:\n  error: [bib-no-doi]\n  ignore: [front-matter-unknown-field, bib-yaer, unresolved-citation]\n"
    (root / "paper.md").write_text(text.replace("license:", settings + "license:", 1), encoding="utf-8")
    result = run_cli("check", "--root", str(root))
    assert result.returncode == 1  # bib-no-doi made an error
    codes = found(result, root)
    assert ("paper.bib", 1, "bib-no-doi") in codes and "error[bib-no-doi]" in result.stderr
    assert not {c for c in codes if c[2] == "front-matter-unknown-field"}
    assert ("paper.md", 25, "metadata-check-code") in codes
    assert "did you mean 'bib-year'?" in result.stderr
    assert ("paper.md", 25, "metadata-check-fixed") in codes  # unresolved-citation stays an error


def test_every_problem_is_reported_in_one_run(tmp_path):
    root = paper(tmp_path, "joss")
    bib = root / "paper.bib"
    bib.write_text(bib.read_text(encoding="utf-8") + "\n@misc{hunter2003,\n  title = {Again},\n  year = {2001}\n}\n")
    text = (root / "paper.md").read_text(encoding="utf-8").replace("[@matplotlib]", "[@matplotlibb]", 1)
    (root / "paper.md").write_text(text, encoding="utf-8")
    for command in ("check", "build"):
        result = run_cli(command, "--root", str(root))
        assert result.returncode == 1
        codes = found(result, root)
        assert ("paper.bib", 14, "bib-duplicate-key") in codes, result.stderr
        assert ("paper.md", 32, "unresolved-citation") in codes, result.stderr
        assert "did you mean 'matplotlib'?" in result.stdout + result.stderr
    assert not (root / "build").exists() or not list((root / "build").glob("*.pdf"))


def test_csl_json_keys_with_a_colon_and_their_message_when_missing(tmp_path):
    root = paper(tmp_path, "quarto")
    index = root / "index.qmd"
    index.write_text(index.read_text(encoding="utf-8").replace("[@moreno2019]", "[@pmid:12345]"), encoding="utf-8")
    result = run_cli("check", "--root", str(root))
    assert result.returncode == 1
    assert "error[unresolved-citation]: unresolved citation 'pmid:12345'" in result.stderr
    assert "resolved offline, from the project's bibliographies only" in result.stderr
    references = json.loads((root / "references.json").read_text(encoding="utf-8"))
    references.append(dict(references[1]))  # the same id twice
    (root / "references.json").write_text(json.dumps(references, indent=2), encoding="utf-8")
    result = run_cli("check", "--root", str(root))
    duplicates = [line for file, line, code in found(result, root) if code == "bib-duplicate-key"]
    assert (
        duplicates
        and duplicates[0] > 25
        and all(f != "index.qmd" for f, _, c in found(result, root) if c == "bib-duplicate-key")
    )


def test_csl_yaml_bibliography_builds(tmp_path):
    root = paper(tmp_path, "quarto")
    items = json.loads((root / "references.json").read_text(encoding="utf-8"))
    import yaml

    (root / "references.yaml").write_text(yaml.safe_dump({"references": items}, allow_unicode=True), encoding="utf-8")
    config = root / "_quarto.yml"
    config.write_text(config.read_text(encoding="utf-8").replace("references.json", "references.yaml"))
    result = run_cli("html", "--root", str(root))
    assert result.returncode == 0, result.stdout + result.stderr
    html = (root / "build" / "counting-seabirds-from-the-shore.html").read_text(encoding="utf-8")
    assert "A fictional handbook of shore counts" in html


def test_front_matter_errors_name_the_file_line_and_column(tmp_path):
    root = paper(tmp_path, "joss")
    text = (root / "paper.md").read_text(encoding="utf-8")
    (root / "paper.md").write_text(text.replace("date: 13 August 2017", 'date: "13 August 2017'), encoding="utf-8")
    result = run_cli("--root", str(root))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert re.search(r"paper\.md:21:7: error\[yaml-syntax\]", result.stderr), result.stderr
    (root / "paper.md").write_text(text.replace("affiliation: 2\n", "affiliation: 3\n"), encoding="utf-8")
    result = run_cli("--root", str(root))
    assert result.returncode == 1
    assert re.search(r"paper\.md:13: error\[metadata-unknown-affiliation\].*'3'", result.stderr), result.stderr


def test_the_submission_bundle_of_a_single_file_paper(tmp_path):
    root = paper(tmp_path, "joss")
    result = run_cli("submission", "--root", str(root))
    assert result.returncode == 0, result.stdout + result.stderr
    (bundle,) = (root / "dist").glob("*.zip")
    names = zipfile.ZipFile(bundle).namelist()
    assert any(n.endswith("paper.md") for n in names), names
    assert any(n.endswith("manuscript-blinded.pdf") for n in names), names
    assert any("gauge" in n or n.startswith("figure") for n in names), names


@pytest.mark.parametrize(
    ("written", "spdx"),
    [
        ("CC BY", "CC-BY-4.0"),
        ("cc-by-sa-4.0", "CC-BY-SA-4.0"),
        ("https://creativecommons.org/licenses/by-nc/4.0/", "CC-BY-NC-4.0"),
    ],
)
def test_licences_as_front_matters_name_them(written, spdx):
    from press.front_matter import licence_id

    assert licence_id(written) == spdx
    assert licence_id("MIT") == "MIT"  # left to the schema, which says what is allowed


def test_the_revision_round_of_a_single_file_paper(tmp_path):
    old = paper(tmp_path / "v1", "joss")
    new = paper(tmp_path / "v2", "joss")
    text = (new / "paper.md").read_text(encoding="utf-8")
    (new / "paper.md").write_text(text.replace("long, gappy and", "long, often gappy and"), encoding="utf-8")
    result = run_cli("diff", "--against", str(old), "--root", str(new))
    assert result.returncode == 0, result.stdout + result.stderr
    changes = new / "build" / "tidepool-a-small-python-package-for-tide-gauge-records-changes.docx"
    xml = zipfile.ZipFile(changes).read("word/document.xml").decode("utf-8")
    assert re.search(r"<w:ins [^>]*>.*?often.*?</w:ins>", xml, re.DOTALL)


def test_diff_against_a_git_revision_of_a_single_file_paper(tmp_path):
    root = paper(tmp_path, "joss")
    git = ["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@example.org"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "v1"], check=True)
    text = (root / "paper.md").read_text(encoding="utf-8")
    (root / "paper.md").write_text(text.replace("long, gappy and", "long, often gappy and"), encoding="utf-8")
    result = run_cli("diff", "HEAD", str(root / "paper.md"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert (root / "build" / "tidepool-a-small-python-package-for-tide-gauge-records-changes.pdf").is_file()
    assert subprocess.run([*git, "status", "--porcelain"], capture_output=True, text=True).stdout.split() == [
        "M",
        "paper.md",
        "??",
        "build/",
    ]


def test_a_latex_first_draft_builds_with_its_environments_labels_and_cites(tmp_path):
    root = paper(tmp_path, "latex-first")
    result = run_cli("--root", str(root))
    assert result.returncode == 0, result.stdout + result.stderr
    assert found(result, root) == {
        ("draft.md", 2, "declaration-missing"),
        ("draft.md", 4, "corresponding-author-missing"),
        ("draft.md", 9, "metadata-csl-renamed"),
        ("refs.bib", 1, "bib-no-doi"),
    }  # no raw-latex: \cite, \ref, \eqref, \label, \newcommand, \SI and the environments are all understood
    out = root / "build"
    (pdf,) = out.glob("*.pdf")
    text = " ".join(pdf_text(pdf).replace("-\n", "").split())  # a word hyphenated at a line's end
    assert "decays as in (1), and the half-life follows from the rate constant (Equation 2)" in text
    assert "of 5 mg kg−1 gives" in text.replace("\xa0", " ") and "in l h−1." in text.replace("\xa0", " ")
    assert "The in vivo half-life1 is not always the one measured in vitro." in text  # \emph, \footnote, ...
    # The footnote at the foot of its call's page, after the text and before the running footer; no
    # "↩" (a back-link, in the web page's endnotes), which means nothing on paper.
    (page,) = [p.extract_text() for p in PdfReader(pdf).pages if "half-life1" in p.extract_text()]
    note = page.index("1. As the textbook has it (1).")
    assert page.index("References") < note < page.rindex("CC BY 4.0") and "↩" not in text
    assert "textbook material (1); see Table 1 for the symbols" in text
    assert "\\" not in text and "Émilie Garçon" in text and "Laboratoire d'exemple" in text
    page = lxml_html.parse(str(next(out.glob("*.html")))).getroot()
    assert len(page.xpath("//math[@display='block']")) == 2 and page.xpath("//*[@id='eq:half']")
    shown = [m.xpath("string(semantics/*[1])").replace("\u2061", "") for m in page.xpath("//math")]
    assert shown[2:4] == ["D", "AUC=D/CL"]  # the macros applied
    assert [e.text for e in page.xpath("//p//em")][:2] == ["in vivo", "in vitro"] and page.xpath("//p//strong")
    (endnote,) = page.xpath("//*[@role='doc-endnotes']//li")
    assert " ".join(endnote.text_content().split()).startswith("As the textbook has it (1).")
    docx = zipfile.ZipFile(next(out.glob("*.docx"))).read("word/document.xml").decode("utf-8")
    assert docx.count("<m:oMathPara>") == 2


LATEX_BLOCKS = r"""
\section{Discussion}\label{sec:disc}

The fitted curve is in Figure~\ref{fig:conc} and the doses in Table~\ref{tbl:doses}.

\begin{figure}[ht]
  \centering
  \includegraphics[width=0.7\textwidth]{figures/conc.pdf}
  \caption{Concentration over time after a single dose \cite{example2020}.}
  \label{fig:conc}
\end{figure}

\begin{table}[h]
\centering
\caption{Doses given.}\label{tbl:doses}
\begin{tabular}{lr}
\hline
Drug & Dose \\
\hline
Ketamine & \SI{0.5}{\milli\gram\per\kilo\gram} \\
\hline
\end{tabular}
\end{table}

\begin{itemize}
\item one arm \emph{in vivo},
\item one with \ce{H2O}.
\end{itemize}
"""


def test_a_latex_figure_table_and_list_in_the_markdown_are_in_every_format(tmp_path):
    # pandoc's Markdown reader keeps LaTeX environments as raw TeX, which every output dropped: the
    # figure (a PDF one), the table and the list of a LaTeX-first draft were gone. Read by pandoc's LaTeX
    # reader, they are a figure, a table and a list, numbered and referenced by \\ref as Markdown's are,
    # and a \\section is a heading of the document (in its contents, not inside a Div).
    from weasyprint import HTML

    root = paper(tmp_path, "latex-first")
    (root / "figures").mkdir()
    svg = '<svg width="400" height="200"><polyline points="10,190 100,90 390,40" fill="none" stroke="#8a1c1c"/></svg>'
    HTML(string=f"<style>@page{{size:110mm 55mm;margin:0}}</style>{svg}").write_pdf(root / "figures" / "conc.pdf")
    draft = root / "draft.md"
    text = draft.read_text(encoding="utf-8").replace("\n# References", LATEX_BLOCKS + "\n# References")
    draft.write_text(text, encoding="utf-8")
    result = run_cli("--root", str(root))
    assert result.returncode == 0, result.stdout + result.stderr
    line = next(n for n, row in enumerate(text.splitlines(), 1) if "\\ce{" in row)
    assert {(f, n, code) for f, n, code in found(result, root) if code in ("raw-latex", "unresolved-crossref")} == {
        ("draft.md", line, "raw-latex")
    }  # only mhchem's \ce, which pandoc does not read
    out = root / "build"
    pdf = " ".join(pdf_text(next(out.glob("*.pdf"))).split())
    assert "The fitted curve is in Figure 1 and the doses in Table 2." in pdf  # after the symbols table
    assert "Figure 1. Concentration over time after a single dose (1)." in pdf and "Table 2. Doses given." in pdf
    assert "0.5 mg kg−1" in pdf.replace("\xa0", " ") and "one arm in vivo," in pdf and "Figure~" not in pdf
    page = lxml_html.parse(str(next(out.glob("*.html")))).getroot()
    (figure,) = page.xpath("//figure[@id='fig:conc']")
    assert figure.xpath(".//img") and page.xpath("//table[@id='tbl:doses']")
    assert page.xpath("//a[@href='#fig:conc']")[0].text_content() == "1"
    toc = [a.text_content() for a in page.xpath("//nav[@class='toc']//a")]
    assert toc == ["Model", "Discussion", "References"] and page.xpath("//div[@class='body']/h2[@id='sec:disc']")
    assert "in Figure\xa01 and the doses in Table\xa02." in page.xpath("string(//p[.//a[@href='#fig:conc']])")  # "~"
    assert [li.text_content().strip() for li in page.xpath("//main//ul/li")][:1] == ["one arm in vivo,"]
    word = WordDocument(str(next(out.glob("*.docx"))))
    assert word.inline_shapes and any(c.text == "Ketamine" for t in word.tables for r in t.rows for c in r.cells)


def test_latex_that_pandoc_cannot_read_in_the_text_is_still_a_warning_at_its_place(tmp_path):
    # Read by pandoc's LaTeX reader, what it reads whole is shown (\emph, \footnote: the test above);
    # a command it does not know, and \today (the build's date), stay left out, and are said to be.
    root = paper(tmp_path, "latex-first")
    draft = root / "draft.md"
    text = draft.read_text(encoding="utf-8").replace(
        "\n# References", "\nWater \\ce{H2O}, \\todo{check} on \\today.\n\n# References"
    )
    draft.write_text(text, encoding="utf-8")
    line = next(n for n, row in enumerate(text.splitlines(), 1) if "todo" in row)
    result = run_cli("check", "--root", str(root))
    said = re.findall(r"draft\.md:(\d+):(\d+): warning\[raw-latex\]: the LaTeX '([^']*)'", result.stderr)
    assert said == [(str(line), "7", "\\ce{H2O}"), (str(line), "17", "\\todo{check}"), (str(line), "33", "\\today")]


def test_an_error_in_an_equation_that_uses_a_macro_is_at_its_line(tmp_path):
    # pandoc applies the draft's \newcommand macros to the math it reads: the TeX the checks get is not
    # the text's, and is found as the next math of the text instead.
    root = paper(tmp_path, "latex-first")
    draft = root / "draft.md"
    text = draft.read_text(encoding="utf-8").replace("$\\AUC = \\dose / CL$", "$\\AUC = \\dose / CL + \\fracc{a}$")
    draft.write_text(text, encoding="utf-8")
    line = next(n for n, row in enumerate(text.splitlines(), 1) if "fracc" in row)
    result = run_cli("check", "--root", str(root))
    assert result.returncode == 1
    assert (
        f"draft.md:{line}:2: error[math-syntax]: this equation cannot be typeset: Undefined control sequence \\fracc"
        in result.stderr
    )


@pytest.mark.parametrize("abstract", [False, True])
def test_a_single_file_paper_is_parsed_by_the_pandoc_pass_started_before_loading(tmp_path, monkeypatch, abstract):
    # As a manuscript folder's sections are: the body (and the front matter's abstract) as load() has them.
    from press import pandoc
    from press.build import build

    root = paper(tmp_path, "joss")
    if abstract:
        text = (root / "paper.md").read_text(encoding="utf-8")
        text = text.replace(
            "\ntags:", "\nabstract: |\n  Tide records, $x^2$ and all,\n  read into one table.\ntags:", 1
        )
        (root / "paper.md").write_text(text, encoding="utf-8")
    used = []
    result_for = pandoc.Prefetch.result_for
    monkeypatch.setattr(pandoc.Prefetch, "result_for", lambda self, *a: used.append(result_for(self, *a)) or used[-1])
    build(root / "paper.md", tmp_path / "out", ["html"])
    assert len(used) == 1 and used[0] is not None
    page = (tmp_path / "out" / next(p.name for p in (tmp_path / "out").glob("*.html"))).read_text(encoding="utf-8")
    assert ("read into one table" in page) == abstract


def test_math_in_a_title_is_a_warning_at_its_line(tmp_path):
    # Titles are plain text in every output: $\\alpha$ would show as written. A price is not math.
    root = paper(tmp_path, "joss")
    text = (root / "paper.md").read_text(encoding="utf-8")
    title = "title: 'tidepool: a small Python package for tide-gauge records'"
    assert title in text
    changed = text.replace(title, "title: 'tidepool: $\\alpha$-filtered tide-gauge records for $5 or $10'")
    (root / "paper.md").write_text(changed, encoding="utf-8")
    result = run_cli("check", "--root", str(root))
    assert ("paper.md", 2, "title-math") in found(result, root)
    assert result.stderr.count("title-math") == 1 and "($\\alpha$)" in result.stderr


def test_labels_on_two_rows_of_an_align_number_each_row_as_latex_does(tmp_path):
    # \label on two rows: each row its own equation and number, \nonumber's row none, and every
    # \ref and \eqref resolved (one number for the block left the second label unresolved: an error).
    root = paper(tmp_path, "latex-first")
    draft = root / "draft.md"
    text = draft.read_text(encoding="utf-8")
    text = text.replace(
        "(Equation \\ref{eq:half}).", "(Equation \\ref{eq:half}), and clearance is \\eqref{eq:clearance}."
    )
    text = text.replace(
        "CL &= k \\cdot V_d\n",
        "k &= \\frac{CL}{V_d} \\nonumber \\\\\nCL &= k \\cdot V_d \\label{eq:clearance} \\\\[2pt]\n",
    )
    draft.write_text(text, encoding="utf-8")
    result = run_cli("--root", str(root))
    assert result.returncode == 0, result.stdout + result.stderr
    assert not {code for _, _, code in found(result, root)} & {"unresolved-crossref", "raw-latex"}
    out = root / "build"
    text = " ".join(pdf_text(next(out.glob("*.pdf"))).replace("-\n", "").split())
    assert "(Equation 2), and clearance is (3)." in text and "(4)" not in text
    page = lxml_html.parse(str(next(out.glob("*.html")))).getroot()
    assert len(page.xpath("//math[@display='block']")) == 4
    numbered = page.xpath("//span[@class='equation']")
    assert [n.get("id") for n in numbered] == ["eq:decay", "eq:half", "eq:clearance"]
    assert [n.findtext("span[@class='equation-number']") for n in numbered] == ["(1)", "(2)", "(3)"]
    assert page.xpath("//a[@href='#eq:clearance']")[0].text_content() == "(3)"
    docx = zipfile.ZipFile(next(out.glob("*.docx"))).read("word/document.xml").decode("utf-8")
    assert docx.count("<m:oMathPara>") == 4 and "\\label" not in docx and "nonumber" not in docx
    # In the PDF the align's three rows are equally wide (their columns padded to line up), and each
    # is a formula whose alternative text is its own TeX, not the padding.
    widths = Counter(
        re.search(r'width="([0-9.]+)em"', svg.read_text()).group(1) for svg in (out / ".press-media").glob("eq-*.svg")
    )
    assert max(widths.values()) == 3  # (of nine: three inline ones in the text, two in the table, and (1))
    with pikepdf.open(next(out.glob("*.pdf"))) as pdf:
        alts = [str(node.get("/Alt")) for node in _structure(pdf.Root.StructTreeRoot) if node.get("/S") == "/Formula"]
    assert any(alt.startswith("\\begin{aligned}CL &= k \\cdot V_d") for alt in alts)
    assert len(alts) == 9 and not any("mathllap" in alt or "hphantom" in alt for alt in alts)


def _structure(root) -> list:
    """Every node of a tagged PDF's structure tree."""
    found, stack = [], [root]
    while stack:
        node = stack.pop()
        if isinstance(node, pikepdf.Dictionary):
            found.append(node)
            kids = node.get("/K")
            stack += list(kids) if isinstance(kids, pikepdf.Array) else [kids] if kids is not None else []
    return found
