"""Incremental builds: the build record decides what is rebuilt, and a rebuilt output equals a clean one.

A project (the minimal fixture with its own copy of the toolchain's templates) is built once; each
test works on a copy of that project and its build/, changes one input and builds again through the
real pipeline (pandoc, WeasyPrint), then reads what was rebuilt from the BuildResult and the record.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import FIXTURES, ROOT, copy_project

from press.build import build
from press.formats import BUILT_FORMATS
from press.model import PressError
from press.record import RECORD_NAME, read_record, sha256_file

ALL = sorted(BUILT_FORMATS)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """The minimal project with templates/ of its own, all formats built once."""
    base = tmp_path_factory.mktemp("incremental")
    project = copy_project(FIXTURES / "minimal", base / "project")
    shutil.copytree(ROOT / "templates", project / "templates")
    result = build(project, project / "build")
    assert sorted(result.rebuilt) == ALL
    return project


@pytest.fixture
def project(built: Path, tmp_path: Path) -> Path:
    """A fresh copy of the built project: its record still says every output is up to date."""
    copy = tmp_path / "project"
    shutil.copytree(built, copy)
    return copy


def append(relative: str, text: str) -> Callable[[Path], None]:
    def edit(project: Path) -> None:
        path = project / relative
        path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")

    return edit


def recompress_reference_docx(project: Path) -> None:
    """Same parts, stored instead of deflated: other bytes, an equally valid reference document."""
    path = project / "templates" / "reference.docx"
    source = zipfile.ZipFile(io.BytesIO(path.read_bytes()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as target:
        for info in source.infolist():
            target.writestr(info.filename, source.read(info.filename))
    path.write_bytes(out.getvalue())


def touch_only(project: Path) -> None:
    path = project / "manuscript" / "intro.md"
    path.write_bytes(path.read_bytes())  # a new modification time, the same content


EDITS = {
    "article.css": (append("templates/article.css", "\n/* edited */\n"), ["html"]),
    "article.js": (append("templates/article.js", "\n// edited\n"), ["html"]),
    "partial used by the HTML only": (append("templates/partials/head-meta.html", "\n"), ["html"]),
    "print.css": (append("templates/print.css", "\n/* edited */\n"), ["pdf"]),
    "reference.docx": (recompress_reference_docx, ["docx"]),
    "docx-front.html": (append("templates/docx-front.html", "\n"), ["docx"]),
    "partial used by every format": (append("templates/partials/attribution.html", "\n"), ALL),
    "a section": (append("manuscript/intro.md", "\nOne more sentence.\n"), ALL),
    "the bibliography": (append("bib/refs.bib", "\n% a comment\n"), ALL),
    "the metadata": (append("manuscript/metadata.yaml", "\n# a comment\n"), ALL),
    "nothing (a file touched, its content unchanged)": (touch_only, []),
}


@pytest.mark.parametrize("changed", list(EDITS))
def test_a_change_rebuilds_exactly_the_outputs_that_depend_on_it(project: Path, changed: str):
    edit, expected = EDITS[changed]
    before = read_record(project / "build")
    edit(project)
    result = build(project, project / "build")
    assert sorted(result.rebuilt) == expected
    assert sorted(result.up_to_date) == sorted(set(ALL) - set(expected))
    after = read_record(project / "build")
    for fmt in ALL:
        entry = after.outputs[fmt]
        assert sha256_file(project / "build" / entry.file) == entry.sha256
        if fmt in expected:
            assert entry.inputs != before.outputs[fmt].inputs  # the record now holds the new fingerprints
        else:
            assert entry == before.outputs[fmt]
    assert build(project, project / "build").rebuilt == []  # and now everything is up to date


def test_a_missing_or_altered_output_is_rebuilt_alone(project: Path):
    out = project / "build"
    record = read_record(out)
    (out / record.outputs["pdf"].file).unlink()
    with (out / record.outputs["docx"].file).open("ab") as handle:
        handle.write(b"\0")
    result = build(project, out)
    assert sorted(result.rebuilt) == ["docx", "pdf"]
    assert {o.format: o.reason for o in result.outputs if not o.up_to_date} == {
        "pdf": "output missing",
        "docx": "output changed since it was built",
    }


def test_options_and_force_count_as_inputs(project: Path):
    out = project / "build"
    assert build(project, out, pdf_variant="pdf/a-3b").rebuilt == ["pdf"]
    assert build(project, out, pdf_variant="pdf/a-3b").rebuilt == []
    assert build(project, out, ["html"], force=True).rebuilt == ["html"]


def test_a_partial_build_leaves_the_other_outputs_stale_but_recorded(project: Path):
    out = project / "build"
    append("manuscript/results.md", "\nA new result.\n")(project)
    assert build(project, out, ["html"]).rebuilt == ["html"]
    result = build(project, out)
    assert sorted(result.rebuilt) == ["docx", "pdf"]
    assert result.up_to_date == ["html"]


def test_incremental_outputs_are_byte_identical_to_a_clean_build(project: Path, tmp_path: Path):
    out = project / "build"
    append("templates/article.css", "\n/* edited */\n")(project)
    assert build(project, out).rebuilt == ["html"]
    append("manuscript/intro.md", "\nOne more sentence.\n")(project)
    build(project, out, ["html", "docx"])
    append("templates/print.css", "\n/* edited */\n")(project)
    assert build(project, out).rebuilt == ["pdf"]  # html and docx were rebuilt above, pdf twice stale
    clean = tmp_path / "clean"
    assert sorted(build(project, clean).rebuilt) == ALL
    for fmt in ALL:
        name = read_record(out).outputs[fmt].file
        assert (out / name).read_bytes() == (clean / name).read_bytes(), fmt


def test_a_failed_build_keeps_the_outputs_and_the_record(project: Path):
    out = project / "build"
    record_bytes = (out / RECORD_NAME).read_bytes()
    outputs = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    append("manuscript/intro.md", "\nSee [@nobody1999missing].\n")(project)
    with pytest.raises(PressError):
        build(project, out)
    assert (out / RECORD_NAME).read_bytes() == record_bytes
    assert {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()} == outputs


def test_a_no_op_build_runs_neither_pandoc_nor_weasyprint(project: Path):
    """In a fresh process, as an author runs it: nothing of the pipeline is even imported."""
    script = (
        "import json, sys; from pathlib import Path; from press.build import build; "
        f"r = build(Path({str(project)!r}), Path({str(project / 'build')!r})); "
        "print(json.dumps([r.rebuilt, r.up_to_date, [m for m in ('weasyprint', 'press.pandoc', "
        "'press.document', 'jinja2', 'pybtex') if m in sys.modules]]))"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, check=True)
    rebuilt, up_to_date, imported = json.loads(done.stdout)
    assert rebuilt == [] and sorted(up_to_date) == ALL
    assert imported == []


def test_the_command_line_says_up_to_date_and_force_rebuilds(project: Path):
    out = project / "build"
    run = [sys.executable, str(ROOT / "build.py"), "html", "--root", str(project), "--out", str(out)]
    quiet = subprocess.run(run, capture_output=True, text=True, check=True).stdout
    assert "(up to date)" in quiet and "built 0 format(s), 1 up to date" in quiet
    forced = subprocess.run([*run, "--force"], capture_output=True, text=True, check=True).stdout
    assert "(up to date)" not in forced and "built 1 format(s)" in forced


def test_the_record_lists_each_input_with_its_hash(project: Path):
    record = json.loads((project / "build" / RECORD_NAME).read_text(encoding="utf-8"))
    html = record["outputs"]["html"]["inputs"]
    pdf = record["outputs"]["pdf"]["inputs"]
    for relative in ("manuscript/intro.md", "manuscript/results.md", "manuscript/metadata.yaml", "bib/refs.bib"):
        assert html[f"file:{relative}"] == sha256_file(project / relative)
    assert "file:templates/article.css" in html and "file:templates/article.css" not in pdf
    assert "file:templates/print.css" in pdf and "package:weasyprint" in pdf and "option:pdf_variant" in pdf
    assert html["pandoc"] == pdf["pandoc"] and html["pandoc"].count(".") >= 1
    assert not list((project / "build").glob(".press-tmp-*"))


def test_an_unreadable_record_means_everything_is_rebuilt(project: Path):
    (project / "build" / RECORD_NAME).write_text("{not json", encoding="utf-8")
    assert sorted(build(project, project / "build").rebuilt) == ALL
    assert read_record(project / "build").outputs.keys() == set(ALL)
