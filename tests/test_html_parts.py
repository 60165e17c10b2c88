"""The document's HTML rendered part by part equals pandoc's HTML of the whole, and an edit to one
section sends only that section's part to pandoc."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path

import pytest
from conftest import FIXTURES, ROOT

from press import pandoc
from press.document import build_document, stringify
from press.kept import Memo
from press.load import load
from press.writers.shared import HTML_ARGS, HtmlParts, add_backlinks_and_wrap_tables

PROJECTS = {
    "shipped": ROOT,
    "minimal": FIXTURES / "minimal",
    "clean": FIXTURES / "check" / "clean",
    "at-signs": FIXTURES / "check" / "at-signs",
}


def whole_html(ast: pandoc.Ast) -> str:
    return pandoc.ast_to(ast, "html5", HTML_ARGS).decode("utf-8")


@pytest.mark.parametrize("rendering", ["print", "web"])
@pytest.mark.parametrize("name", PROJECTS)
def test_html_of_the_parts_equals_html_of_the_whole(name: str, rendering: str):
    document = build_document(load(PROJECTS[name]))
    ast = add_backlinks_and_wrap_tables(document.ast) if rendering == "web" else document.ast
    parts = HtmlParts()
    assert parts.render(ast) == whole_html(ast)
    assert len(parts.kept.used) > 1, "the document is cut before its top-level headings"


def _sent_to_pandoc(monkeypatch) -> list[pandoc.Ast]:
    sent: list[pandoc.Ast] = []
    real = pandoc.ast_to

    def recording(ast, to, extra=None, env=None, sandbox=True):
        sent.append(copy.deepcopy(ast))
        return real(ast, to, extra, env, sandbox)

    monkeypatch.setattr(pandoc, "ast_to", recording)
    return sent


def test_an_edit_to_one_section_renders_only_its_part(tmp_path: Path, monkeypatch):
    project = tmp_path / "project"
    shutil.copytree(FIXTURES / "minimal", project)
    before = HtmlParts()
    before.render(build_document(load(project)).ast)
    results = project / "manuscript" / "results.md"
    results.write_text(results.read_text(encoding="utf-8") + "\nOne more sentence.\n", encoding="utf-8")
    ast = build_document(load(project)).ast
    sent = _sent_to_pandoc(monkeypatch)
    after = HtmlParts(Memo(before.kept.used))
    html = after.render(ast)
    assert len(sent) == 1
    sent_text = stringify(sent[0]["blocks"])
    assert "One more sentence." in sent_text
    assert "Chronic pain is common" not in sent_text, "the unchanged introduction is not re-rendered"
    monkeypatch.undo()
    assert html == whole_html(ast)
    assert len(after.kept.used) == len(before.kept.used), "the next build keeps this build's parts only"


# Footnotes are numbered across the document and gathered at its end: no part can stand alone.
# A text that holds the part marker itself could not be cut where the marker is.
WHOLE = {
    "footnotes": {"intro.md": "\nA claim.^[A note.]\n", "results.md": "\nAnother.^[Second note.]\n"},
    "the part marker in the text": {"intro.md": "\n<!--press-part-->\n\nAfter the marker.\n"},
}


@pytest.mark.parametrize("case", WHOLE)
def test_a_document_that_cannot_be_cut_is_rendered_whole(tmp_path: Path, monkeypatch, case: str):
    project = tmp_path / "project"
    shutil.copytree(FIXTURES / "minimal", project)
    for name, addition in WHOLE[case].items():
        section = project / "manuscript" / name
        section.write_text(section.read_text(encoding="utf-8") + addition, encoding="utf-8")
    ast = build_document(load(project)).ast
    sent = _sent_to_pandoc(monkeypatch)
    html = HtmlParts().render(ast)
    assert len(sent) == 1 and sent[0]["blocks"] == ast["blocks"]
    monkeypatch.undo()
    assert html == whole_html(ast)
    if case == "footnotes":
        assert html.count('role="doc-noteref"') == 2 and "fn2" in html
