"""The bad-input matrix: each case fails (or builds) cleanly, names the file, and loses nothing.

Every case starts from a copy of tests/fixtures/minimal with the files of tests/fixtures/bad/<case>/
laid over it (cases that cannot be small committed files are made by a function below). The output
folder already holds a good build; a failing case must leave it byte for byte as it was.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import FIXTURES, ROOT, copy_project, run_cli

BAD = FIXTURES / "bad"
SLUG = "minimal-article"


def _write(path: str, content: str | bytes) -> Callable[[Path], None]:
    def make(project: Path) -> None:
        target = project / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))

    return make


def _symlink_outside(project: Path) -> None:
    outside = project.parent / "outside.md"
    outside.write_text("# Secret\n\nNot part of the project.\n", encoding="utf-8")
    link = project / "manuscript" / "results.md"
    link.unlink()
    link.symlink_to(outside)


def _empty_manuscript(project: Path) -> None:
    shutil.rmtree(project / "manuscript")
    (project / "manuscript").mkdir()


def _section_is_a_folder(project: Path) -> None:
    (project / "manuscript" / "results.md").unlink()
    (project / "manuscript" / "results.md").mkdir()


# case, how the project is made (None: only the overlay folder), exit status, file named, line named
CASES: list[tuple[str, Callable[[Path], None] | None, int, str, int | None]] = [
    ("unresolved-key", None, 1, "manuscript/intro.md", 3),
    ("malformed-bibtex", None, 1, "bib/refs.bib", 8),
    ("duplicate-key", None, 1, "bib/refs.bib", 19),
    ("duplicate-doi", None, 1, "bib/refs.bib", 10),
    ("missing-section", None, 1, "manuscript/metadata.yaml", 12),
    (
        "section-not-utf8",
        _write("manuscript/results.md", "# Results\n\nCaf\xe9 au lait.\n".encode("latin-1")),
        1,
        "manuscript/results.md",
        3,
    ),
    (
        "section-nul-byte",
        _write("manuscript/results.md", b"# Results\n\nA \x00 byte.\n"),
        1,
        "manuscript/results.md",
        3,
    ),
    (
        "section-control-character",
        _write("manuscript/results.md", "# Results\n\nA \x1b[31mred\x1b[0m word.\n"),
        1,
        "manuscript/results.md",
        3,
    ),
    ("section-is-a-folder", _section_is_a_folder, 1, "manuscript/metadata.yaml", None),
    ("empty-manuscript", _empty_manuscript, 1, "manuscript/metadata.yaml", None),
    ("no-sections", None, 1, "manuscript/metadata.yaml", 9),
    ("yaml-syntax", None, 1, "manuscript/metadata.yaml", 5),
    ("metadata-not-mapping", None, 1, "manuscript/metadata.yaml", 1),
    ("unknown-field", None, 1, "manuscript/metadata.yaml", 5),
    ("missing-title", None, 1, "manuscript/metadata.yaml", 1),
    ("unknown-license", None, 1, "manuscript/metadata.yaml", 5),
    ("bad-affiliation", None, 1, "manuscript/metadata.yaml", 5),
    ("missing-image", None, 1, "manuscript/results.md", 3),
    ("image-outside", None, 1, "manuscript/results.md", 3),
    ("remote-image", None, 1, "manuscript/results.md", 3),
    ("file-url-image", None, 1, "manuscript/results.md", 3),
    ("raw-script", None, 1, "manuscript/intro.md", 5),
    ("template-syntax", None, 1, "templates/article.html", 3),
    ("symlink-outside", _symlink_outside, 1, "manuscript/results.md", None),
    ("empty-bib", None, 1, "manuscript/intro.md", 3),  # the empty file is a warning; its keys are unresolved
    ("not-bibtex", None, 1, "bib/refs.bib", 1),
    ("bib-not-utf8", _write("bib/refs.bib", "@article{x, title={Caf\xe9}}\n".encode("latin-1")), 1, "bib/refs.bib", 1),
]


def make_project(tmp_path: Path, case: str, maker: Callable[[Path], None] | None) -> Path:
    project = copy_project(FIXTURES / "minimal", tmp_path / "project")
    if (BAD / case).is_dir():
        shutil.copytree(BAD / case, project, dirs_exist_ok=True)
    if maker:
        maker(project)
    return project


@pytest.fixture
def previous_build(tmp_path: Path, minimal_build: Path) -> Path:
    """An output folder holding a good earlier build."""
    out = tmp_path / "out"
    shutil.copytree(minimal_build, out)
    return out


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize(("case", "maker", "status", "file", "line"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_fails_cleanly_and_keeps_the_previous_build(
    tmp_path, previous_build, case, maker, status, file, line
):
    project = make_project(tmp_path, case, maker)
    before = snapshot(previous_build)
    result = run_cli("--root", str(project), "--out", str(previous_build))
    assert result.returncode == status, result.stdout + result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    where = f"{project / file}:{line}:" if line else str(project / file)
    assert any(where in row and "error[" in row for row in result.stderr.splitlines()), result.stderr
    assert snapshot(previous_build) == before
    assert not [p for p in previous_build.rglob(".press-tmp*")]


def test_output_folder_that_is_a_file(tmp_path: Path):
    out = tmp_path / "out"
    out.write_text("not a folder")
    result = run_cli("--root", str(FIXTURES / "minimal"), "html", "--out", str(out))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert f"{out}: error[output-not-folder]" in result.stderr
    assert out.read_text() == "not a folder"


def test_unwritable_output_folder(tmp_path: Path, previous_build: Path):
    before = snapshot(previous_build)
    # Root ignores permission bits; the immutable attribute stops even root from writing.
    if subprocess.run(["chattr", "+i", str(previous_build)], capture_output=True).returncode != 0:
        pytest.skip("chattr +i is not supported on this file system")
    try:
        result = run_cli("--root", str(FIXTURES / "minimal"), "--force", "--out", str(previous_build))
    finally:
        subprocess.run(["chattr", "-i", str(previous_build)], check=True)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert f"{previous_build}: error[output-unwritable]" in result.stderr
    assert snapshot(previous_build) == before


def test_citation_keys_with_unicode_build(tmp_path: Path):
    project = make_project(tmp_path, "unicode-key", None)
    out = tmp_path / "out"
    result = run_cli("--root", str(project), "html", "--out", str(out))
    assert result.returncode == 0, result.stderr
    html = (out / f"{SLUG}.html").read_text(encoding="utf-8")
    assert "Łącka, Z. (2021). Ból przewlekły." in html
    assert 'href="#ref-łącka2021ból"' in html


def test_a_ten_megabyte_section_builds(tmp_path: Path):
    project = make_project(tmp_path, "large-section", None)
    prose = (
        "Chronic pain is common, and ketamine is one option among many for cases that do not respond to "
        "first-line treatment; the evidence for it is mixed and the trials are small. "
    ) * 6
    cited = prose + "See the community survey [@smith2020pain].\n\n"
    paragraphs = [cited if n % 20 == 0 else prose + "\n\n" for n in range(10 * 1024 * 1024 // (len(prose) + 2))]
    text = "# Results\n\n" + "".join(paragraphs)
    (project / "manuscript" / "results.md").write_text(text, encoding="utf-8")
    assert len(text.encode()) >= 10 * 1024 * 1024 - 4096
    out = tmp_path / "out"
    result = run_cli("--root", str(project), "html", "--out", str(out), timeout=900)
    assert result.returncode == 0, result.stderr
    assert (out / f"{SLUG}.html").stat().st_size > 10 * 1024 * 1024
    assert "over-limit-main-words" in result.stderr  # measured, and far over the fixture's limit


def test_a_bibliography_of_five_thousand_entries_builds(tmp_path: Path):
    project = make_project(tmp_path, "large-bibliography", None)
    entries = [
        f"@article{{gen{i:04d},\n  author = {{Author{i}, Anna and Second, Bob}},\n  title = {{Generated study {i}}},\n"
        f"  journal = {{Journal of Tests}},\n  year = {{{1950 + i % 70}}},\n  volume = {{{i % 90 + 1}}},\n"
        f"  number = {{1}},\n  pages = {{1--9}},\n  doi = {{10.1000/gen.{i}}}\n}}\n"
        for i in range(5000)
    ]
    (project / "bib" / "generated.bib").write_text("\n".join(entries), encoding="utf-8")
    intro = project / "manuscript" / "intro.md"
    intro.write_text(intro.read_text(encoding="utf-8") + "\nAlso [@gen0001; @gen4999].\n", encoding="utf-8")
    out = tmp_path / "out"
    result = run_cli("--root", str(project), "html", "--out", str(out), timeout=600)
    assert result.returncode == 0, result.stderr
    html = (out / f"{SLUG}.html").read_text(encoding="utf-8")
    assert "Generated study 4999" in html and "Generated study 2500" not in html
    assert "uncited-reference" in result.stderr  # 4,998 uncited entries are reported, as warnings


def _start_build(project: Path, out: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(ROOT / "build.py"), "--root", str(project), "--out", str(out), "--force"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for_pdf_work(process: subprocess.Popen, out: Path) -> None:
    """Wait until the build has loaded WeasyPrint's Pango and is laying out the PDF."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        if any("libpango" in line for line in _open_files_of(process.pid)):
            time.sleep(0.4)  # into the layout, well before the PDF is staged
            return
        time.sleep(0.02)


def _open_files_of(pid: int) -> list[str]:
    """Files mapped by the build and by its children (the PDF is laid out in a worker process)."""
    found: list[str] = []
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(child) for child in children]
    except OSError:
        pass
    for each in pids:
        try:
            found += [os.readlink(f"/proc/{each}/map_files/{name}") for name in os.listdir(f"/proc/{each}/map_files")]
        except OSError:
            continue
    return found


@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGKILL], ids=["sigint", "sigkill"])
def test_an_interrupted_build_leaves_the_previous_outputs(tmp_path: Path, previous_build: Path, how):
    project = make_project(tmp_path, "interrupted", None)
    intro = project / "manuscript" / "intro.md"
    # Some forty pages: the layout takes seconds, so the signal lands in the middle of the PDF work.
    paragraph = "Chronic pain is very common and the trials of ketamine are small [@smith2020pain]. " * 12
    intro.write_text(intro.read_text(encoding="utf-8") + ("\n\n" + paragraph) * 150, encoding="utf-8")
    before = snapshot(previous_build)
    process = _start_build(project, previous_build)
    _wait_for_pdf_work(process, previous_build)
    assert process.poll() is None, "the build ended before it could be interrupted"
    process.send_signal(how)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode != 0
    assert "Traceback" not in stderr
    if how == signal.SIGINT:
        assert "interrupted" in stderr
        assert not [p for p in previous_build.rglob(".press-tmp*")]
    assert {k: v for k, v in snapshot(previous_build).items() if not Path(k).name.startswith(".press-tmp")} == before
    # The next run cleans whatever a killed run left and builds normally.
    result = run_cli("--root", str(project), "--out", str(previous_build))
    assert result.returncode == 0, result.stderr
    assert not [p for p in previous_build.rglob(".press-tmp*")]


def test_two_builds_into_one_folder_do_not_interleave(tmp_path: Path):
    out = tmp_path / "out"
    first = _start_build(FIXTURES / "minimal", out)
    time.sleep(0.3)
    second = _start_build(FIXTURES / "minimal", out)
    _, first_err = first.communicate(timeout=120)
    _, second_err = second.communicate(timeout=120)
    assert first.returncode == 0 and second.returncode == 0, first_err + second_err
    assert "another build is writing to" in first_err + second_err
    from pypdf import PdfReader

    assert len(PdfReader(out / f"{SLUG}.pdf").pages) >= 1  # whole, readable outputs
    assert (out / f"{SLUG}.html").read_text(encoding="utf-8").rstrip().endswith("</html>")
    assert not [p for p in out.rglob(".press-tmp*")]
