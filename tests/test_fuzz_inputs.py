"""Arbitrary text in the metadata and the bibliography: the build either succeeds with well-formed
outputs or stops with a located diagnostic. Never an internal error, never a traceback."""

from __future__ import annotations

import re
import shutil
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

import html5lib
import yaml
from conftest import FIXTURES, copy_project
from docx import Document as WordDocument
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader

from press.cli import main

SLUG = "minimal-article"
NS = {"h": "http://www.w3.org/1999/xhtml"}
# `file:line[:col]: error[code]: message`, as press.model.Diagnostic.format prints it.
DIAGNOSTIC = re.compile(r"^\S[^\n]*?:\d+(?::\d+)?: error\[[\w.-]+\]: ", re.MULTILINE)
# The characters that mean something to YAML, BibTeX, LaTeX, HTML, Jinja or a shell, drawn often.
SPECIAL = list("{}\\%&\"'#@<>$~^_\n\r\t,:;[]|*!`") + [" and ", "{{", "}}", "{%", "%}", "\\&", "\\'e", "--"]
CHARACTER = st.one_of(st.sampled_from(SPECIAL), st.characters(codec="utf-8"))
ANYTHING = st.lists(CHARACTER, max_size=16).map("".join)  # blank included
# Brace groups balanced, as most real BibTeX values are; ANYTHING still brings unbalanced ones.
BRACELESS = st.lists(CHARACTER, max_size=8).map(lambda chars: "".join(chars).replace("{", "").replace("}", ""))
BALANCED = st.lists(st.one_of(BRACELESS, BRACELESS.map(lambda text: "{" + text + "}")), max_size=4).map("".join)
WORDS = st.sampled_from(["Ann", "Żółć", "東京", "Ωmega", "x"])


def mostly_words(strategy: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Three draws in four start with a word: a blank title or name is one error, reported at once,
    and the fuzzer should spend most examples on outputs that get written."""
    worded = st.tuples(WORDS, strategy).map(" ".join)
    return st.one_of(worded, worded, worded, ANYTHING)


METADATA_TEXT = mostly_words(ANYTHING)
BIBTEX_TEXT = mostly_words(BALANCED)

BIBLIOGRAPHY = """\
@article{{smith2020pain,
  author = {{{family1}, Anna and Kowalski, Jan}},
  title = {{{title}}},
  journal = {{{journal}}},
  year = {{2020}},
  volume = {{161}},
  pages = {{100--110}},
  doi = {{10.1000/xyz123}}
}}

@article{{jones2019ketamine,
  author = {{{family2}, Bob and Richeb{{\\'e}}, Philippe}},
  title = {{Ketamine for pain}},
  journal = {{Journal of Pain Research}},
  year = {{2019}},
  doi = {{10.1000/abc456}}
}}
"""


@dataclass
class Inputs:
    title: str
    authors: list[str]
    keywords: list[str]
    bib_title: str
    journal: str
    families: tuple[str, str]
    with_pdf: bool


inputs = st.builds(
    Inputs,
    title=METADATA_TEXT,
    authors=st.lists(METADATA_TEXT, min_size=1, max_size=3),
    keywords=st.lists(METADATA_TEXT, max_size=3),
    bib_title=BIBTEX_TEXT,
    journal=BIBTEX_TEXT,
    families=st.tuples(BIBTEX_TEXT, BIBTEX_TEXT),
    # The PDF takes ~1 s more: in about one example in eight.
    with_pdf=st.integers(0, 7).map(lambda n: n == 7),
)


def write_project(target: Path, case: Inputs) -> Path:
    """The minimal project with the drawn strings in its metadata and bibliography."""
    project = copy_project(FIXTURES / "minimal", target)
    path = project / "manuscript" / "metadata.yaml"
    metadata = yaml.safe_load(path.read_text(encoding="utf-8"))
    metadata["title"] = case.title
    metadata["authors"] = [{"name": name} for name in case.authors]
    metadata["keywords"] = case.keywords
    path.write_text(yaml.safe_dump(metadata, allow_unicode=True, sort_keys=False), encoding="utf-8")
    bib = BIBLIOGRAPHY.format(
        title=case.bib_title, journal=case.journal, family1=case.families[0], family2=case.families[1]
    )
    (project / "bib" / "refs.bib").write_text(bib, encoding="utf-8")
    return project


def squash(text: str) -> str:
    """Whitespace as a reader sees it: runs of any white space are one space (HTML, PDF layout)."""
    return " ".join(text.replace("\r\n", "\n").replace("\r", "\n").split())


def check_outputs(out: Path, case: Inputs) -> None:
    """Well-formed outputs that carry the title."""
    title = squash(case.title)
    # The toolchain's HTML has no parse errors at all (the shipped article has none), so any error
    # html5lib reports, a stray control character as much as a broken tag, comes from the input.
    parser = html5lib.HTMLParser(tree=html5lib.getTreeBuilder("etree"))
    tree = parser.parse((out / f"{SLUG}.html").read_bytes())
    assert not parser.errors, f"the HTML has parse errors (position, code): {parser.errors[:3]}"
    shown = [squash("".join(t.itertext())) for t in tree.findall(".//h:head/h:title", NS)]
    assert shown == [title], f"<title> is {shown!r}, the metadata says {title!r}"
    headings = [squash("".join(h.itertext())) for h in tree.findall(".//h:h1", NS)]
    assert headings == [title], f"<h1> is {headings!r}, the metadata says {title!r}"
    word = WordDocument(str(out / f"{SLUG}.docx"))
    assert squash(word.core_properties.title or "") == title  # drawn titles are shorter than its 255 limit
    if case.with_pdf:
        reader = PdfReader(out / f"{SLUG}.pdf")
        assert len(reader.pages) >= 1
        assert squash(reader.metadata.title or "") == title


SANE = Inputs(
    title="A title",
    authors=["Ann Bee"],
    keywords=["pandoc"],
    bib_title="Chronic pain",
    journal="Pain",
    families=("Smith", "Jones"),
    with_pdf=False,
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    # No explain phase: it re-runs a failing example hundreds of times (minutes) to annotate it.
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
)
@given(case=inputs)
# Tried on every run: one case that must build (with the PDF), then failures the fuzzer found.
@example(case=replace(SANE, title="<b>{{ 7*7 }}</b> & \\ % # @ \"'", with_pdf=True))
@example(case=replace(SANE, title="A\x08B"))  # a control character, written by YAML as "\b"
@example(case=replace(SANE, families=("Sm\x08ith", "Jones")))  # the same in a BibTeX name
@example(case=replace(SANE, families=("Smith", "Ann \\{}")))  # pybtex reads it; pandoc's BibTeX reader does not
@example(case=replace(SANE, families=("a, b, c", "Jones")))  # three commas: pybtex cannot split the name
def test_any_metadata_or_bibtex_text_builds_or_fails_with_a_diagnostic(tmp_path, capfd, case):
    work = Path(tempfile.mkdtemp(dir=tmp_path))  # tmp_path is shared by every example
    try:
        project = write_project(work / "project", case)
        out = work / "out"
        formats = ["html", "docx"] + (["pdf"] if case.with_pdf else [])
        capfd.readouterr()
        status = main(["--root", str(project), "--out", str(out), *formats])
        captured = capfd.readouterr()
        printed = captured.out + captured.err
        assert "Traceback (most recent call last)" not in printed, printed
        assert status in (0, 1), f"exit status {status}:\n{printed}"
        if status == 0:
            check_outputs(out, case)
        else:
            assert DIAGNOSTIC.search(captured.err), f"exit status 1 without a located error:\n{captured.err}"
    finally:
        shutil.rmtree(work, ignore_errors=True)
