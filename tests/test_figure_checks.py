"""Figures are checked before anything is built, like a compiler: each problem at its file, line and
column, with what to do about it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import run_cli
from figure_project import figure_project
from PIL import Image

from press.checks.figures import printed_inches


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    return figure_project(tmp_path / "project")


def check(project: Path) -> tuple[int, list[dict]]:
    result = run_cli("check", "--root", str(project), "--format", "json")
    report = json.loads(result.stdout)
    figures = [d for d in report["diagnostics"] if d["code"].startswith(("figure-", "image-"))]
    return result.returncode, figures


def append(project: Path, text: str) -> int:
    """Add ``text`` to the end of the results section; the line of its last line."""
    results = project / "manuscript" / "results.md"
    results.write_text(results.read_text(encoding="utf-8") + text, encoding="utf-8")
    return results.read_text(encoding="utf-8").rstrip("\n").count("\n") + 1


def test_one_figure_of_each_format_checks_clean(project: Path):
    status, found = check(project)
    assert status == 0 and found == []


def test_an_unsupported_format_is_an_error_with_a_conversion_hint(project: Path):
    (project / "figures" / "old.eps").write_bytes(b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n")
    line = append(project, "\n@fig:old\n\n![An old figure.](../figures/old.eps){#fig:old}\n")
    status, [problem] = check(project)
    assert status == 1
    assert (problem["code"], problem["severity"], problem["line"]) == ("image-unsupported", "error", line)
    assert problem["file"].endswith("manuscript/results.md")
    assert problem["column"] == len("![An old figure.](") + 1
    assert "EPS" in problem["message"] and "ps2pdf" in problem["hint"]


def test_a_file_that_is_not_what_it_claims_is_unreadable(project: Path):
    (project / "figures" / "png.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    status, found = check(project)
    assert status == 1
    assert [(d["code"], d["line"]) for d in found] == [("image-unreadable", 15)]


def test_two_figures_with_one_id_is_an_error_at_the_second(project: Path):
    line = append(project, "\n![The PNG again.](../figures/png.png){#fig:png width=50%}\n")
    status, found = check(project)
    assert status == 1
    [problem] = [d for d in found if d["code"] == "figure-duplicate-id"]
    assert problem["line"] == line and "results.md:15" in problem["hint"]


def test_a_figure_never_referred_to_is_a_warning(project: Path):
    line = append(project, "\n![A lonely figure.](../figures/jpeg.jpg){#fig:lonely}\n")
    status, found = check(project)
    assert status == 0
    assert [(d["code"], d["severity"], d["line"]) for d in found] == [("figure-unreferenced", "warning", line)]
    assert "@fig:lonely" in found[0]["hint"]


def test_an_image_without_alt_text_is_a_warning(project: Path):
    line = append(project, "\nA mark: ![](../figures/png.png){width=5%}\n")
    status, found = check(project)
    assert status == 0
    assert [(d["code"], d["severity"], d["line"]) for d in found] == [("image-no-alt", "warning", line)]


def test_a_raster_under_300_dpi_at_its_printed_width_is_a_warning_with_its_dpi(project: Path):
    Image.new("RGB", (600, 300), (220, 30, 30)).save(project / "figures" / "png.png")  # printed at 50%: 8.5 cm
    status, [problem] = check(project)
    assert status == 0
    assert problem["code"] == "figure-low-resolution" and problem["line"] == 15
    assert "179 dpi" in problem["message"] and "8.5 cm" in problem["message"]
    assert "1004 px" in problem["hint"]


def test_a_file_over_20_mb_is_a_warning(project: Path):
    # A valid PNG of 21 MB: noise does not compress.
    Image.frombytes("RGB", (2700, 2700), bytes(range(256)) * (2700 * 2700 * 3 // 256 + 1)).save(
        project / "figures" / "png.png", compress_level=0
    )
    status, found = check(project)
    assert status == 0
    assert [d["code"] for d in found] == ["figure-large-file"]


def test_printed_width_from_the_width_attribute():
    assert printed_inches(None) == pytest.approx(170 / 25.4)
    assert printed_inches("50%") == pytest.approx(85 / 25.4)
    assert printed_inches("8cm") == pytest.approx(8 / 2.54)
    assert printed_inches("2in") == 2.0
    assert printed_inches("300px") == pytest.approx(300 / 96)
    assert printed_inches("wide") is None
