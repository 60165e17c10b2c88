"""What equations cost a build: prints figures and ratios, asserts nothing.

    .venv/bin/python benchmarks/equations.py [--runs 5] [--equations 300]

On temporary copies of this manuscript: one with --equations distinct equations added (synthetic,
two in three inline, one in three display, some numbered), one with the same text and each equation
replaced by a word of the same place (so the added text and its layout cost the same), and the
manuscript as it is; each command a fresh process, in turns:

- the clean full build of each: with equations against the same text without them (the cost of
  typesetting), and against the manuscript as it is (the whole cost);
- the HTML-only rebuild after a text edit, with equations: it must typeset nothing (the SVGs are kept
  in build/.press-media/ and the checks remember which TeX was good), so it stays near the same
  rebuild without equations.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from figures import BUILD, TOOLCHAIN, describe, timed  # noqa: E402

SECTION = Path("manuscript") / "03-pharmacology.md"

TEMPLATES = [
    r"C_{{{n}}}(t) = \frac{{D_{{{n}}}}}{{V_d}} e^{{-k_{{{n}}} t}}",
    r"t_{{1/2,{n}}} = \frac{{\ln 2}}{{k_{{{n}}}}}",
    r"\bar{{x}}_{{{n}}} \pm 1.96\,\frac{{s_{{{n}}}}}{{\sqrt{{n_{{{n}}}}}}}",
    r"\sum_{{i=1}}^{{{n}}} x_i^2 = \left( \frac{{a_{{{n}}}}}{{b}} \right)^2",
    r"\hat{{\beta}}_{{{n}}} = (X^\top X)^{{-1}} X^\top y_{{{n}}}",
    r"\int_0^{{{n}}} f(x)\,\mathrm{{d}}x = F({n}) - F(0)",
]


def expressions(count: int) -> list[str]:
    return [TEMPLATES[n % len(TEMPLATES)].format(n=n + 1) for n in range(count)]


def with_equations(source: Path, destination: Path, count: int, as_words: bool) -> Path:
    shutil.copytree(
        source, destination, ignore=shutil.ignore_patterns("build", "dist", ".git", ".venv", "node_modules")
    )
    lines = ["", "## Worked equations", ""]
    for n, tex in enumerate(expressions(count)):
        if n % 3 == 2:
            label = f" {{#eq:e{n}}}" if n % 6 == 5 else ""
            lines += ["", "expression" if as_words else f"$$ {tex} $${label}", ""]
        else:
            lines.append(f"The quantity {'expression' if as_words else f'${tex}$'} follows in step {n}.")
    section = destination / SECTION
    section.write_text(section.read_text(encoding="utf-8") + "\n".join(lines) + "\n", encoding="utf-8")
    return destination


def edit(project: Path, n: int) -> None:
    path = project / "manuscript" / "02-methods.md"
    text = path.read_text(encoding="utf-8").split("\nBenchmark edit ")[0].rstrip("\n")
    path.write_text(f"{text}\n\nBenchmark edit {n}.\n", encoding="utf-8")


def io_wait() -> float:
    """Seconds the CPUs have spent idle waiting on I/O since boot (Linux's /proc/stat; 0 elsewhere)."""
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            fields = stat.readline().split()
        return int(fields[5]) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


def median(values: list[float]) -> float:
    return statistics.median(values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--equations", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="press-equations-") as temp:
        temp_dir = Path(temp)
        projects = {
            "with equations": with_equations(TOOLCHAIN, temp_dir / "math", args.equations, as_words=False),
            "same text, no equations": with_equations(TOOLCHAIN, temp_dir / "words", args.equations, as_words=True),
            "the manuscript as it is": with_equations(TOOLCHAIN, temp_dir / "plain", 0, as_words=True),
        }
        clean: dict[str, list[float]] = {name: [] for name in projects}
        waited = (0.0, 0.0)  # seconds of I/O wait (summed over the CPUs), seconds of clean builds
        for n in range(args.runs):
            for name, project in projects.items():
                out = temp_dir / f"out-{n}-{project.name}"
                before = io_wait()
                clean[name].append(timed([*BUILD, "--root", str(project), "--out", str(out)]))
                waited = (waited[0] + io_wait() - before, waited[1] + clean[name][-1])
        html: dict[str, list[float]] = {name: [] for name in projects}
        for n in range(args.runs):
            for name, project in projects.items():
                edit(project, n)
                html[name].append(
                    timed([*BUILD, "html", "--root", str(project), "--out", str(temp_dir / f"out-0-{project.name}")])
                )
        print(f"{args.equations} distinct equations; {args.runs} runs per median\n")
        for name in projects:
            print(
                f"clean full build, {name:<26} {median(clean[name]):6.3f} s   HTML-only rebuild {median(html[name]):6.3f} s"
            )
        print()
        for name in projects:
            print(f"clean full build, {name:<26} {describe(clean[name])}")
        math, words, plain = (median(clean[name]) for name in projects)
        print(f"\nwith equations / same text without them   {math / words:.2f}")
        print(f"with equations / the manuscript as it is   {math / plain:.2f}  (target <= 1.5)")
        print(f"the added text alone / as it is            {words / plain:.2f}")
        # What the host adds (a read from disk once its page cache gave a file up, another guest's
        # load) only ever adds time: each kind's fastest build is the one it touched least.
        fastest = [min(clean[name]) for name in projects]
        print(f"fastest with equations / fastest as it is  {fastest[0] / fastest[2]:.2f}")
        print(f"time the machine waited on its disk during the clean builds: {waited[0]:.1f} s of {waited[1]:.1f} s")


if __name__ == "__main__":
    main()
