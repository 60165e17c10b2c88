"""Shared fixtures: the shipped manuscript built once per session through the real pipeline."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import settings

# Property tests: the same examples on every run by default, so that a run fails only for a change
# (twice, a new random example found a real bug in CI on a commit that had nothing to do with it).
# `bash scripts/test.sh --hypothesis-profile=explore` draws new examples each run: do that when
# changing what those tests cover, and add what it finds as an @example.
settings.register_profile("repeatable", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile("repeatable")

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
AUTHORS = [
    "Mathias Spitaleri",
    "Karol Kanon",
    "Filip Kieloch",
    "Julia Głowacka",
    "Agnieszka Fitas",
    "Wojciech Gąska",
    "Karolina Dębek-Kalinowska",
    "Oskar Sienkiel",
    "Wiktor Gąska",
    "Dawid Sewruk",
]
LICENSE_URL = "https://creativecommons.org/licenses/by/4.0/"
ATTRIBUTION = "This article is licensed under a Creative Commons Attribution 4.0 International License"


def run_cli(*args: str, cwd: Path = ROOT, env: dict | None = None, timeout: int = 300) -> subprocess.CompletedProcess:
    """Run `python build.py ...` as the authors do."""
    return subprocess.run(
        [sys.executable, str(ROOT / "build.py"), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )


def copy_project(source: Path, target: Path) -> Path:
    """A writable copy of a manuscript project (manuscript/, bib/, and templates/ when it has them)."""
    target.mkdir(parents=True, exist_ok=True)
    for name in ("manuscript", "bib", "templates"):
        if (source / name).is_dir():
            shutil.copytree(source / name, target / name)
    return target


@pytest.fixture(scope="session")
def shipped_build(tmp_path_factory) -> Path:
    """The shipped manuscript, all formats, built once into a temporary folder."""
    out = tmp_path_factory.mktemp("shipped-build")
    result = run_cli("--out", str(out))
    assert result.returncode == 0, result.stderr
    return out


@pytest.fixture(scope="session")
def minimal_build(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("minimal-build")
    result = run_cli("--root", str(FIXTURES / "minimal"), "--out", str(out))
    assert result.returncode == 0, result.stderr
    return out


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def unavailable(message: str) -> None:
    """Fail under CI (where every tool must be there), skip on a developer's machine without it."""
    import os

    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def needs_mathjax() -> None:
    """Skip (fail in CI) where node or the MathJax packages are missing."""
    from press import math

    try:
        math.node_modules()
    except math.MathUnavailable as exc:
        unavailable(str(exc))


def chromium(playwright):
    """Debian's Chromium, launched headless by Playwright (no downloaded browser)."""
    if not CHROMIUM.exists():
        unavailable("Chromium is missing at /usr/bin/chromium: install it with `apt-get install chromium`")
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)


def libreoffice_pdf(document: Path, folder: Path) -> Path:
    """``document`` converted to PDF by LibreOffice, headless, with a profile of its own in ``folder``."""
    soffice = shutil.which("soffice")
    if soffice is None:
        unavailable("LibreOffice is missing: apt-get install libreoffice-writer libreoffice-math")
    subprocess.run(
        [soffice, "--headless", f"-env:UserInstallation=file://{folder}/profile", "--convert-to", "pdf"]
        + ["--outdir", str(folder), str(document)],
        check=True,
        capture_output=True,
        timeout=180,
    )
    return folder / f"{document.stem}.pdf"
