"""What a build keeps for the next one: only well-formed entries are read, only used ones are kept."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FIXTURES, ROOT, copy_project

from press.build import build
from press.kept import NAME, Kept
from press.model import PressError


def test_entries_of_the_wrong_shape_are_not_read():
    kept = Kept({"html-web": {"a": 5, "b": "<p>b</p>"}, "citations": ["not", "a", "map"], "unknown": {"x": "y"}})
    assert kept["html-web"].previous == {"b": "<p>b</p>"}
    assert kept["citations"].previous == {}
    assert set(kept.to_keep()) == {"citations", "html-print", "html-web", "how-to-cite", "metadata", "math"}
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


def test_metadata_found_valid_is_not_validated_again_and_a_changed_one_is(tmp_path: Path):
    project = copy_project(FIXTURES / "minimal", tmp_path / "project")
    out = tmp_path / "out"
    build(project, out, ["html"])
    intro = project / "manuscript" / "intro.md"
    intro.write_text(intro.read_text(encoding="utf-8") + "\nOne more line.\n", encoding="utf-8")
    code = (
        "import sys; from pathlib import Path; from press.build import build; "
        f"assert build(Path({str(project)!r}), Path({str(out)!r}), ['html']).rebuilt == ['html']; "
        "print('jsonschema' in sys.modules)"
    )
    rebuilt = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert rebuilt.stdout.strip() == "False", "the unchanged metadata was validated again"
    metadata = project / "manuscript" / "metadata.yaml"
    metadata.write_text(metadata.read_text(encoding="utf-8") + 'allow_raw_html: "false"\n', encoding="utf-8")
    with pytest.raises(PressError) as caught:
        build(project, out, ["html"])
    [problem] = caught.value.diagnostics
    assert problem.code == "metadata-type" and "expected true or false" in problem.message
