"""The review PDF's build time against the typeset PDF's, in the same run: prints figures, asserts nothing.

    .venv/bin/python benchmarks/review.py [--runs 5] [--root .]

Two measurements, each interleaved (typeset, review, typeset, ...) so that both see the same machine:

- the PDF writer alone, in one warm process on one resolved document: ``pdf.write`` with the
  typeset options and with the profile's review layout (its CSS, and the line numbers: the second
  small WeasyPrint document and the overlay; press.line_numbers). This is the cost of the layout.
- the command an author runs, one fresh process each: ``python build.py pdf --force`` (the typeset
  build, with its PDF worker) against ``python build.py pdf --review``.

Target: review / typeset <= 1.3.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def writer_times(root: Path, runs: int) -> tuple[list[float], list[float]]:
    from press.formats import WriteOptions
    from press.resolve import resolve
    from press.review import layout_of, rendering
    from press.writers import pdf
    from press.writers.shared import Shared

    resolved = resolve(root)
    layout = layout_of(resolved.manuscript.metadata)
    typeset, review = [], []
    with ThreadPoolExecutor(max_workers=4) as pool:
        shared = Shared(resolved.document, pool, renderings=("print", rendering(layout)))
        shared.fragments(rendering(layout))  # both renderings ready: only the layout is timed
        shared.fragments("print")
        pdf.write(shared, WriteOptions())  # warm: WeasyPrint imported, fonts and hyphenation loaded
        for _ in range(runs):
            started = time.perf_counter()
            pdf.write(shared, WriteOptions())
            typeset.append(time.perf_counter() - started)
            started = time.perf_counter()
            pdf.write(shared, WriteOptions(review=layout))
            review.append(time.perf_counter() - started)
    return typeset, review


def command_times(root: Path, runs: int) -> tuple[list[float], list[float]]:
    typeset, review = [], []
    with tempfile.TemporaryDirectory() as scratch:
        for n in range(runs):
            for args, times in ((["pdf", "--force"], typeset), (["pdf", "--review"], review)):
                out = Path(scratch) / f"{args[-1].strip('-')}-{n}"
                started = time.perf_counter()
                subprocess.run(
                    [sys.executable, str(ROOT / "build.py"), "--root", str(root), "--out", str(out), *args],
                    check=True,
                    capture_output=True,
                )
                times.append(time.perf_counter() - started)
    return typeset, review


def line(label: str, typeset: list[float], review: list[float]) -> str:
    t, r = statistics.median(typeset), statistics.median(review)
    return f"{label:<34} typeset {t:6.2f} s   review {r:6.2f} s   ratio {r / t:4.2f}  (target <= 1.3)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--root", type=Path, default=ROOT)
    args = parser.parse_args()
    root = args.root.resolve()
    print(f"{args.runs} runs each, interleaved; medians. Manuscript: {root}")
    print(line("PDF writer, one warm process", *writer_times(root, args.runs)))
    print(line("python build.py pdf (--review)", *command_times(root, args.runs)))


if __name__ == "__main__":
    main()
