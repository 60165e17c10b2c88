"""The document's HTML rendered part by part, with each citation rendered apart and put back in its
place, equals pandoc's HTML of the whole; an edit to one section sends only that section's part to
pandoc, and the parts can be rendered while citeproc runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import FIXTURES, ROOT, copy_project

from press import pandoc
from press.document import build_document, stringify
from press.kept import Kept, Memo
from press.load import load
from press.writers.html_parts import HTML_ARGS, HtmlParts
from press.writers.shared import add_backlinks_and_wrap_tables

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


# Citations wherever a Cite can stand: each is rendered once on its own and put in its place.
CITATIONS_EVERYWHERE = """
## A heading that cites [@smith2020pain]

*Emphasis [@jones2019ketamine, p. 3]*, a [link with @smith2020pain inside](https://example.org),
"quoted [-@smith2020pain]", and again [@jones2019ketamine, p. 3] and [see @smith2020pain; @jones2019ketamine].

| Column | Source |
|--------|--------|
| x      | @smith2020pain |

: A table cites [@jones2019ketamine]. {#tbl:cited}

![A figure cites [@smith2020pain].](figure.png){#fig:cited}

[A span [@jones2019ketamine]]{.note}
"""


@pytest.mark.parametrize("rendering", ["print", "web"])
def test_citations_anywhere_are_put_back_in_their_places(tmp_path: Path, rendering: str):
    project = copy_project(FIXTURES / "minimal", tmp_path / "project")
    intro = project / "manuscript" / "intro.md"
    intro.write_text(intro.read_text(encoding="utf-8") + CITATIONS_EVERYWHERE, encoding="utf-8")
    document = build_document(load(project))
    ast = add_backlinks_and_wrap_tables(document.ast) if rendering == "web" else document.ast
    parts = HtmlParts()
    html = parts.render(ast)
    assert html == whole_html(ast)
    assert "press-cite" not in html
    # The part with a citation in the figure's description keeps its citations; the others do not.
    assert 'alt="A figure cites (Smith' in html


def test_parts_rendered_before_citeproc_leave_only_the_citations_for_after(tmp_path: Path, monkeypatch):
    from concurrent.futures import ThreadPoolExecutor

    from press.writers.shared import html_parts_for, rendering_ast

    manuscript = load(FIXTURES / "minimal")
    kept = Kept()
    parts = html_parts_for(kept)["print"]
    sent = _sent_to_pandoc(monkeypatch)
    with ThreadPoolExecutor(max_workers=1) as pool:
        document = build_document(
            manuscript, kept=kept, unresolved=lambda ast: parts.prerender(pool, rendering_ast("print", ast))
        )
        html = parts.render(document.ast)  # waits for the parts rendered ahead
    monkeypatch.undo()
    assert html == whole_html(document.ast)
    assert len(sent) == 2
    ahead, after = stringify(sent[0]["blocks"]), stringify(sent[1]["blocks"])
    assert "Chronic pain is common" in ahead and "Smith" not in ahead, "the text, without its citations"
    assert "Chronic pain is common" not in after, "the text is not rendered again"
    assert "Smith" in after and "References" in after, "the citations and the reference list are rendered after"


def test_the_web_rendering_shares_the_document_and_leaves_it_as_it_was():
    document = build_document(load(ROOT))
    before = json.dumps(document.ast)
    web = json.dumps(add_backlinks_and_wrap_tables(document.ast))
    assert json.dumps(document.ast) == before
    cites = before.count('"t": "Cite"')
    assert web.count('"cite-anchor"') == cites and f'"cite-{cites}"' in web
    assert web.count('"table-wrap"') == before.count('"t": "Table"') > 0
    assert '"backrefs"' in web and '"backrefs"' not in before


def test_parts_go_to_pandoc_in_batches_of_bounded_size(monkeypatch):
    from press.writers import html_parts

    ast = build_document(load(ROOT)).ast
    monkeypatch.setattr(html_parts, "BATCH_CHARS", 20_000)
    sent = _sent_to_pandoc(monkeypatch)
    html = HtmlParts().render(ast)
    monkeypatch.undo()
    assert html == whole_html(ast)
    assert len(sent) > 2, "several batches"
    for batch in sent:
        marks = [b for b in batch["blocks"] if b["t"] == "RawBlock" and b["c"][1] == html_parts.PART_MARK]
        pieces = [b for b in batch["blocks"] if b not in marks]
        assert not marks or len(json.dumps(pieces)) <= 20_000, "within the bound, unless one part alone"


def _sent_to_pandoc(monkeypatch) -> list[pandoc.Ast]:
    """Every document sent to pandoc's HTML writer from now on."""
    sent: list[pandoc.Ast] = []
    real = pandoc.run

    def recording(args, data, env=None):
        if args[args.index("-t") + 1] == "html5":
            sent.append(json.loads(data))
        return real(args, data, env)

    monkeypatch.setattr(pandoc, "run", recording)
    return sent


def test_an_edit_to_one_section_renders_only_its_part(tmp_path: Path, monkeypatch):
    project = copy_project(FIXTURES / "minimal", tmp_path / "project")
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
    "a citation marker in the text": {"intro.md": "\nText <!--press-cite:0--> [@smith2020pain].\n"},
    # A part with a citation in a figure is not marked: its note must still be found.
    "a footnote after a figure that cites": {
        "intro.md": "\n![Adapted [@smith2020pain].](figure.png)\n\nA claim.^[A note.]\n"
    },
}


@pytest.mark.parametrize("case", WHOLE)
def test_a_document_that_cannot_be_cut_is_rendered_whole(tmp_path: Path, monkeypatch, case: str):
    project = copy_project(FIXTURES / "minimal", tmp_path / "project")
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
