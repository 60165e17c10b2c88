"""What figures cost a build: prints figures and ratios, asserts nothing.

    .venv/bin/python benchmarks/figures.py [--runs 5] [--copies 2]

On temporary copies of the minimal test manuscript, one with --copies figures of each format (PNG,
JPEG, TIFF, SVG, PDF: ten by default, a few MB in all, made as tests/figure_project.py makes them)
and the same manuscript without them, measured in turns, each command a fresh process:

- the clean full build (html, pdf, docx), with figures against without: every rendition is made;
- the HTML-only rebuild after a text edit, with figures: it must convert nothing (the renditions are
  kept in build/.press-media/), so it stays as fast as without figures;
- the number of renditions made by that rebuild (0 expected), read from the rendition folder.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TOOLCHAIN = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(TOOLCHAIN / "tests"))
from conftest import FIXTURES, copy_project  # noqa: E402
from figure_project import figure_project  # noqa: E402

BUILD = [sys.executable, str(TOOLCHAIN / "build.py")]


# An author's builds read (and write) Python's bytecode caches; with PYTHONDONTWRITEBYTECODE set, as
# some shells and containers do, each build would compile press's changed modules again (~0.1 s).
BUILD_ENV = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}


def timed(command: list[str]) -> float:
    began = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=tempfile.gettempdir(), env=BUILD_ENV)
    if done.returncode:
        raise SystemExit(f"failed: {' '.join(command)}\n{done.stderr}")
    return time.perf_counter() - began


def edit(project: Path, n: int) -> None:
    intro = project / "manuscript" / "intro.md"
    text = intro.read_text(encoding="utf-8").split("\nBenchmark edit ")[0].rstrip("\n")
    intro.write_text(f"{text}\n\nBenchmark edit {n}.\n", encoding="utf-8")


def describe(values: list[float]) -> str:
    return f"{statistics.median(values):6.3f} s (min {min(values):.3f}, max {max(values):.3f}, n={len(values)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--copies", type=int, default=2, help="figures of each format (default 2: ten figures)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="press-figures-") as temp:
        temp_dir = Path(temp)
        with_figures = figure_project(temp_dir / "figures", copies=args.copies)
        without = copy_project(FIXTURES / "minimal", temp_dir / "plain")
        size = sum(p.stat().st_size for p in with_figures.rglob("*") if p.is_file() and p.suffix != ".md")
        count = 5 * args.copies
        print(f"{count} figures, {size / 2**20:.1f} MB of files; {args.runs} runs per median\n")
        clean = {"figures": [], "plain": []}
        for n in range(args.runs):
            for name, project in (("figures", with_figures), ("plain", without)):
                out = temp_dir / f"out-{name}-{n}"
                clean[name].append(timed([*BUILD, "--root", str(project), "--out", str(out)]))
                if n:
                    shutil.rmtree(out)
        html = {"figures": [], "plain": []}
        made = []
        for n in range(args.runs):
            for name, project in (("figures", with_figures), ("plain", without)):
                out = temp_dir / f"out-{name}-0"
                media = out / ".press-media"
                before = set(media.iterdir()) if media.is_dir() else set()
                edit(project, n)
                html[name].append(timed([*BUILD, "html", "--root", str(project), "--out", str(out)]))
                if name == "figures":
                    made.append(len(set(media.iterdir()) - before))
        ratio = statistics.median(clean["figures"]) / statistics.median(clean["plain"])
        print(f"clean full build, with figures      {describe(clean['figures'])}")
        print(f"clean full build, without           {describe(clean['plain'])}")
        print(f"  with / without                    {ratio:.2f}")
        print(f"HTML-only rebuild after a text edit {describe(html['figures'])}  (target <= 0.5 s)")
        print(f"  the same without figures          {describe(html['plain'])}")
        print(f"  renditions made by those rebuilds {sum(made)}  (0 expected: unchanged figures convert nothing)")


if __name__ == "__main__":
    main()
