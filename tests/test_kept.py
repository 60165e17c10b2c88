"""What a build keeps for the next one: only well-formed entries are read, only used ones are kept."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import FIXTURES, copy_project

from press.build import build
from press.kept import NAME, Kept


def test_entries_of_the_wrong_shape_are_not_read():
    kept = Kept({"html-web": {"a": 5, "b": "<p>b</p>"}, "citations": ["not", "a", "map"], "unknown": {"x": "y"}})
    assert kept["html-web"].previous == {"b": "<p>b</p>"}
    assert kept["citations"].previous == {}
    assert set(kept.to_keep()) == {"citations", "html-print", "html-web", "how-to-cite"}
    assert not Kept("garbage")["how-to-cite"].previous


def test_a_section_used_now_keeps_only_what_was_used_and_others_stay():
    kept = Kept({"html-web": {"old": "<p>old</p>"}, "html-print": {"p": "<p>p</p>"}})
    assert not kept.changed
    kept["html-web"].put("new", "<p>new</p>")
    assert kept.changed
    assert kept.to_keep()["html-web"] == {"new": "<p>new</p>"}
    assert kept.to_keep()["html-print"] == {"p": "<p>p</p>"}, "not rendered this time: kept as found"


def test_an_html_only_rebuild_keeps_the_print_parts_of_the_full_build(tmp_path: Path):
    project = copy_project(FIXTURES / "minimal", tmp_path / "project")
    out = tmp_path / "out"
    build(project, out, ["html", "docx"])
    before = json.loads((out / NAME).read_text(encoding="utf-8"))
    assert before["html-print"] and before["html-web"] and before["citations"] and before["how-to-cite"]
    intro = project / "manuscript" / "intro.md"
    intro.write_text(intro.read_text(encoding="utf-8") + "\nOne more line.\n", encoding="utf-8")
    build(project, out, ["html"])
    after = json.loads((out / NAME).read_text(encoding="utf-8"))
    assert after["html-print"] == before["html-print"]
    assert after["html-web"] != before["html-web"] and len(after["html-web"]) == len(before["html-web"])
    assert after["citations"] == before["citations"]
