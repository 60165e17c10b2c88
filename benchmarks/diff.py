"""`python build.py diff` against a clean build of the same manuscript: prints figures, asserts nothing.

    .venv/bin/python benchmarks/diff.py [--runs 3] [--edits 50]

On a temporary git repository (the working tree is never written): this manuscript committed and
tagged v1, then a copy with --edits scattered edits committed on top of it: words replaced and
deleted, sentences inserted and deleted, a citation added to an existing one and a reference added
to the bibliography (the same seed each run, so every run compares the same two versions).

Measured, each as an author runs it (one fresh process per command) and interleaved, so that both
see the same machine: the clean full build of the revised version (`python build.py --out NEW`,
HTML, PDF and DOCX into a new folder) and `python build.py diff v1 --out NEW` (both versions
resolved, the three changes files written). Medians of --runs runs, and their ratio: the target is
at most 1.5 times the clean build.
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TOOLCHAIN = Path(__file__).resolve().parent.parent
BUILD = [sys.executable, str(TOOLCHAIN / "build.py")]
GIT = ["git", "-c", "user.name=Benchmark", "-c", "user.email=bench@example.org", "-c", "commit.gpgsign=false"]
NEW_REFERENCE = """
@article{newstudy2024,
  author = {Doe, Jane and Roe, Richard},
  title = {Low-dose ketamine infusions in chronic pain: a new trial},
  journal = {Pain Medicine},
  year = {2024},
  volume = {25},
  number = {3},
  pages = {101--110},
  doi = {10.1000/newstudy2024}
}
"""
SENTENCES = [
    "This point was raised by a reviewer and is now stated explicitly.",
    "The evidence for this use remains limited.",
    "Longer follow-up would be needed to confirm the effect.",
]
WORD = re.compile(r"(?<![@\w:\[{#-])[A-Za-z]{4,}(?![\w:\]}])")


def prose_lines(text: str) -> list[int]:
    """Indexes of the lines that are paragraphs of prose (no headings, tables, fences, captions)."""
    return [
        i
        for i, line in enumerate(text.split("\n"))
        if len(line) > 80 and not line.startswith(("#", "|", ":", "```", "!", "$$", "<", "    "))
    ]


def edit(root: Path, edits: int, seed: int = 18) -> None:
    """``edits`` scattered edits of the sections, one citation added and one reference added."""
    rng = random.Random(seed)
    sections = sorted((root / "manuscript").glob("[0-9]*.md"))
    texts = {path: path.read_text(encoding="utf-8") for path in sections}
    # One citation added to an existing one, and the reference it needs.
    first = next(path for path in sections if "[@" in texts[path])
    texts[first] = texts[first].replace("[@", "[@newstudy2024; @", 1)
    bib = root / "bib" / "references.bib"
    bib.write_text(bib.read_text(encoding="utf-8") + NEW_REFERENCE, encoding="utf-8")
    for n in range(edits - 2):
        path = rng.choice(sections)
        lines = texts[path].split("\n")
        index = rng.choice(prose_lines(texts[path]))
        line = lines[index]
        kind = ("replace", "delete", "insert", "drop-sentence")[n % 4]
        words = list(WORD.finditer(line))
        if kind in ("replace", "delete") and words:
            word = rng.choice(words)
            replacement = rng.choice(["notably", "clearly", "several", "moderate"]) if kind == "replace" else ""
            line = line[: word.start()] + replacement + line[word.end() :]
            line = line.replace("  ", " ")
        elif kind == "insert":
            stops = [m.end() for m in re.finditer(r"\. ", line)] or [len(line)]
            at = rng.choice(stops)
            line = line[:at] + rng.choice(SENTENCES) + " " + line[at:]
        else:
            sentences = re.split(r"(?<=\.) (?=[A-Z])", line)
            if len(sentences) > 2:
                sentences.pop(rng.randrange(1, len(sentences)))
                line = " ".join(sentences)
        lines[index] = line
        texts[path] = "\n".join(lines)
    for path, text in texts.items():
        path.write_text(text, encoding="utf-8")


def repository(folder: Path, edits: int) -> Path:
    root = folder / "paper"
    root.mkdir()
    for name in ("manuscript", "bib", "templates"):
        if (TOOLCHAIN / name).is_dir():
            shutil.copytree(TOOLCHAIN / name, root / name)
    subprocess.run([*GIT, "init", "-q"], cwd=root, check=True)
    subprocess.run([*GIT, "add", "-A"], cwd=root, check=True)
    subprocess.run([*GIT, "commit", "-qm", "v1"], cwd=root, check=True)
    subprocess.run([*GIT, "tag", "v1"], cwd=root, check=True)
    edit(root, edits)
    subprocess.run([*GIT, "commit", "-qam", "revision"], cwd=root, check=True)
    return root


def timed(command: list[str]) -> tuple[float, str]:
    began = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - began
    if result.returncode != 0:
        sys.exit(f"failed: {' '.join(command)}\n{result.stderr}")
    return seconds, result.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--edits", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="press-bench-diff-") as scratch:
        folder = Path(scratch)
        root = repository(folder, args.edits)
        timed([*BUILD, "check", "--root", str(root)])  # a first run: bytecode compiled, caches warm
        builds, diffs = [], []
        summary = ""
        for run in range(args.runs):
            builds.append(timed([*BUILD, "--root", str(root), "--out", str(folder / f"build-{run}")])[0])
            seconds, out = timed([*BUILD, "diff", "v1", "--root", str(root), "--out", str(folder / f"diff-{run}")])
            diffs.append(seconds)
            summary = out.strip().splitlines()[-1]
        build, diff = statistics.median(builds), statistics.median(diffs)
        print(
            f"manuscript: this one, and a copy with {args.edits} scattered edits; {args.runs} run(s) each, interleaved"
        )
        print(f"  {summary}")
        print(
            f"  clean build (html, pdf, docx)      median {build:6.2f} s   runs: {', '.join(f'{s:.2f}' for s in builds)}"
        )
        print(
            f"  diff v1 (docx, pdf, html changes)  median {diff:6.2f} s   runs: {', '.join(f'{s:.2f}' for s in diffs)}"
        )
        print(f"  ratio diff / clean build: {diff / build:.2f}  (target: at most 1.5)")


if __name__ == "__main__":
    main()
