"""TeX math to SVG for the PDF: the candidate renderers measured side by side. Prints figures, asserts nothing.

    .venv/bin/python benchmarks/math_renderers.py [--runs 3] [--mathjax3 DIR] [--mathjax4 DIR] [--pages DIR] [--show]

Candidates:

- ziamath (pure Python, STIX Two Math, TeX read by latex2mathml), in this process;
- MathJax 3 SVG output (npm mathjax-full, its TeX fonts), a long-lived node child process;
- press.math: MathJax 4 SVG output (npm mathjax with @mathjax/mathjax-stix2-font), as shipped.

A MathJax candidate is measured only when DIR (a folder holding node_modules/ with its packages) is
given or the packages are in the project's node_modules; otherwise it is reported as not installed:

    mkdir /tmp/mj3 && cd /tmp/mj3 && npm install mathjax-full@3.2.2
    mkdir /tmp/mj4 && cd /tmp/mj4 && npm install mathjax@4.1.3 @mathjax/mathjax-stix2-font@4.1.0

Figures, for the expressions of tests/fixtures/math/expressions.txt:

- coverage: expressions drawn without an error and without an unknown command drawn as text (ziamath's
  latex2mathml leaves an unknown ``\\cmd`` as an ``<mi>`` or ``<mtext>``; MathJax is run with
  ``noundefined`` and ``noerrors`` left out, so it raises), and without a missing glyph;
- bad refused: of a dozen bad expressions (BAD below), how many the renderer itself refuses with an
  error rather than drawing something (--show prints its messages);
- startup: for ziamath and press.math the import, then the first expression (press.math starts node
  and MathJax then); for MathJax 3 from spawning node to ready, then its first answer; medians of
  --runs fresh processes;
- per expression after warm-up: the median over the list, over --runs passes, in ms (MathJax's includes
  the pipe round trip, as the caller will pay it);
- install weight: the installed files (Python: the distributions' RECORD; npm: all of DIR/node_modules, so
  name a DIR that holds only the candidate: the project's also holds vnu-jar);
- deterministic: the SVG bytes of every expression hashed in two fresh processes, compared.

With --pages DIR, one PDF per renderer is written there (WeasyPrint, the PDF's text face Source Serif
Pro at 10.5 pt): the expressions inline in a sentence and as display equations, to look at after
``pdftoppm -r 150``.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import html
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXPRESSIONS = ROOT / "tests" / "fixtures" / "math" / "expressions.txt"


def expressions() -> list[tuple[str, bool]]:
    """(tex, display) for each line of the fixture list."""
    found = []
    for line in EXPRESSIONS.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        mode, _, tex = line.partition(":")
        found.append((tex.strip(), mode.strip() == "display"))
    return found


# Bad TeX a renderer should refuse by itself (not drawn as something else): a mistyped or unknown
# command, an unbalanced brace, \left or environment, a missing argument.
BAD = [
    r"\frac{a}{",
    r"\fracc{a}{b}",
    r"x + \frac{\alpha}{\betaa}",
    r"\text{if } x \qqqq y",
    "{a",
    "a}",
    r"\left( a",
    r"a \right)",
    r"\begin{pmatrix} a & b",
    r"\begin{foo} a \end{foo}",
    "x^",
    "a_b_c",
]


# --- ziamath -------------------------------------------------------------------------------------

# Run in a fresh interpreter for startup and determinism: prints JSON.
ZIAMATH_CHILD = r"""
import hashlib, json, sys, time, warnings
began = time.perf_counter()
import ziamath
ziamath.config.svg2 = False
imported = time.perf_counter()
ziamath.Latex("x", inline=True).svg()
first = time.perf_counter()
digests = []
if len(sys.argv) > 1:
    for tex, display in json.load(open(sys.argv[1])):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                svg = ziamath.Latex(tex, inline=not display, size=1000).svg()
            except Exception as error:
                svg = "error: " + type(error).__name__
        digests.append(hashlib.sha256(svg.encode()).hexdigest())
print(json.dumps({"import": imported - began, "first": first - imported, "digests": digests}))
"""


class Ziamath:
    name = "ziamath"

    def __init__(self) -> None:
        import ziamath

        self.ziamath = ziamath
        ziamath.config.svg2 = False  # paths, not <symbol id>/<use>: nothing to collide between SVGs

    def version(self) -> str:
        return f"ziamath {metadata.version('ziamath')} + latex2mathml {metadata.version('latex2mathml')}"

    def render(self, tex: str, display: bool) -> tuple[str, float, float, float]:
        """SVG, width, height, depth (em)."""
        size = 1000
        math = self.ziamath.Latex(tex, inline=not display, size=size, margin=0)
        svg = math.svg()
        bbox = math.node.bbox
        return svg, (bbox.xmax - bbox.xmin) / size, (bbox.ymax - bbox.ymin) / size, -bbox.ymin / size

    def problem(self, tex: str, display: bool) -> str | None:
        import warnings

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                mathml = self.ziamath.tex.tex2mml(tex, inline=not display)
                self.ziamath.Latex(tex, inline=not display).svg()
            except Exception as error:
                return f"{type(error).__name__} {error}".strip()
        if caught:
            return "warning: " + "; ".join(str(w.message) for w in caught)
        unknown = re.findall(r"<m(?:i|text|o)[^>]*>(\\[A-Za-z]+)", mathml)
        if unknown:
            return "drawn as text: " + " ".join(unknown)
        if "<merror" in mathml:
            return "merror"
        return None

    def refuses(self, tex: str, display: bool) -> str | None:
        try:
            self.ziamath.Latex(tex, inline=not display).svg()
        except Exception as error:  # noqa: BLE001 - latex2mathml's errors share no base class
            return f"{type(error).__name__} {error}".strip()
        return None

    def startup(self) -> tuple[float, float]:
        out = json.loads(subprocess.run([sys.executable, "-c", ZIAMATH_CHILD], capture_output=True, check=True).stdout)
        return out["import"], out["first"]

    def digests(self, exprs: list[tuple[str, bool]]) -> list[str]:
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
            json.dump(exprs, handle)
        try:
            done = subprocess.run([sys.executable, "-c", ZIAMATH_CHILD, handle.name], capture_output=True, check=True)
        finally:
            os.unlink(handle.name)
        return json.loads(done.stdout)["digests"]

    def weight(self) -> int:
        total = 0
        for dist in ("ziamath", "ziafont", "latex2mathml"):
            for file in metadata.files(dist) or []:
                path = file.locate()
                if path.is_file():
                    total += path.stat().st_size
        return total

    def close(self) -> None:
        pass


# --- MathJax -------------------------------------------------------------------------------------

# One JSON request a line on stdin ({"tex", "display"}), one JSON answer a line on stdout ({"svg"} or
# {"error", "id"}). Errors are thrown, not drawn: noundefined and noerrors are left out.
MATHJAX3_WORKER = r"""
const readline = require('readline');
const {mathjax} = require('mathjax-full/js/mathjax.js');
const {TeX} = require('mathjax-full/js/input/tex.js');
const {SVG} = require('mathjax-full/js/output/svg.js');
const {liteAdaptor} = require('mathjax-full/js/adaptors/liteAdaptor.js');
const {RegisterHTMLHandler} = require('mathjax-full/js/handlers/html.js');
require('mathjax-full/js/input/tex/base/BaseConfiguration.js');
require('mathjax-full/js/input/tex/ams/AmsConfiguration.js');
require('mathjax-full/js/input/tex/newcommand/NewcommandConfiguration.js');
require('mathjax-full/js/input/tex/textmacros/TextMacrosConfiguration.js');
require('mathjax-full/js/input/tex/boldsymbol/BoldsymbolConfiguration.js');
require('mathjax-full/js/input/tex/mathtools/MathtoolsConfiguration.js');
const adaptor = liteAdaptor();
RegisterHTMLHandler(adaptor);
const tex = new TeX({packages: ['base', 'ams', 'newcommand', 'textmacros', 'boldsymbol', 'mathtools'],
                     formatError: (jax, err) => { throw err; }});
const svg = new SVG({fontCache: 'none'});
const doc = mathjax.document('', {InputJax: tex, OutputJax: svg});
process.stdout.write(JSON.stringify({ready: true}) + '\n');
readline.createInterface({input: process.stdin}).on('line', (line) => {
  const req = JSON.parse(line);
  let out;
  try {
    const node = doc.convert(req.tex, {display: req.display, em: 16, ex: 8, containerWidth: 1280});
    out = {svg: adaptor.innerHTML(node)};
  } catch (e) {
    out = {error: e.message, id: e.id || ''};
  }
  process.stdout.write(JSON.stringify(out) + '\n');
});
"""


class MathJax:
    def __init__(self, name: str, folder: Path, package: str, worker: str, extra: tuple[str, ...] = ()) -> None:
        self.name, self.folder, self.package, self.extra = name, folder, package, extra
        self.script = Path(tempfile.mkdtemp()) / "worker.cjs"
        self.script.write_text(worker, encoding="utf-8")
        self.process: subprocess.Popen | None = None

    def version(self) -> str:
        found = [self.package, *self.extra]
        return " + ".join(
            f"{p} {json.loads((self.folder / 'node_modules' / p / 'package.json').read_text())['version']}"
            for p in found
        )

    def spawn(self) -> subprocess.Popen:
        env = {**os.environ, "NODE_PATH": str(self.folder / "node_modules")}
        process = subprocess.Popen(
            ["node", str(self.script)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,  # MathJax 4 warns that the stix2 font was built for 4.1.0
            text=True,
            env=env,
            cwd=self.folder,
        )
        assert process.stdout is not None
        json.loads(process.stdout.readline())  # {"ready": true}
        return process

    def ask(self, process: subprocess.Popen, tex: str, display: bool) -> dict:
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write(json.dumps({"tex": tex, "display": display}) + "\n")
        process.stdin.flush()
        return json.loads(process.stdout.readline())

    def answer(self, tex: str, display: bool) -> dict:
        if self.process is None:
            self.process = self.spawn()
        return self.ask(self.process, tex, display)

    def render(self, tex: str, display: bool) -> tuple[str, float, float, float]:
        out = self.answer(tex, display)
        if "error" in out:
            raise ValueError(out["error"])
        # MathJax 4 copies the TeX into data-latex attributes unescaped ("<" stays "<"): not XML.
        svg = re.sub(r' data-latex="[^"]*"', "", out["svg"])
        # The viewBox is in thousandths of an em: "xmin -ascent width ascent+depth".
        _x, y, w, h = (float(v) for v in re.search(r'viewBox="([^"]+)"', svg).group(1).split())
        return svg, w / 1000, h / 1000, (h + y) / 1000

    def problem(self, tex: str, display: bool) -> str | None:
        out = self.answer(tex, display)
        if "error" in out:
            return f"{out['id']}: {out['error']}"
        if "merror" in out["svg"] or 'fill="red"' in out["svg"]:
            return "drawn as an error"
        if 'data-c="?"' in out["svg"] or "mjx-unknown" in out["svg"]:
            return "missing glyph"
        return None

    def refuses(self, tex: str, display: bool) -> str | None:
        out = self.answer(tex, display)
        return f"{out['id']}: {out['error']}" if "error" in out else None

    def startup(self) -> tuple[float, float]:
        began = time.perf_counter()
        process = self.spawn()
        ready = time.perf_counter()
        self.ask(process, "x", False)
        first = time.perf_counter()
        process.kill()
        process.wait()
        return ready - began, first - ready

    def digests(self, exprs: list[tuple[str, bool]]) -> list[str]:
        process = self.spawn()
        try:
            return [hashlib.sha256(json.dumps(self.ask(process, t, d)).encode()).hexdigest() for t, d in exprs]
        finally:
            process.kill()
            process.wait()

    def weight(self) -> int:
        return sum(f.stat().st_size for f in (self.folder / "node_modules").rglob("*") if f.is_file())

    def close(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None


# The chosen one, as press.math ships it (MathJax 4, STIX Two), in this process; fresh processes for
# startup and determinism.
PRESS_CHILD = r"""
import hashlib, json, sys, time
began = time.perf_counter()
from press import math
imported = time.perf_counter()
math.render("x", False)
first = time.perf_counter()
digests = []
if len(sys.argv) > 1:
    for tex, display in json.load(open(sys.argv[1])):
        try:
            svg = math.render(tex, display).svg
        except math.MathError as error:
            svg = repr(error).encode()
        digests.append(hashlib.sha256(svg).hexdigest())
print(json.dumps({"import": imported - began, "first": first - imported, "digests": digests}))
"""


class PressMath:
    name = "press.math"

    def __init__(self, folder: Path) -> None:
        os.environ["PRESS_NODE_MODULES"] = str(folder / "node_modules")
        sys.path.insert(0, str(ROOT))
        from press import math

        self.math, self.folder = math, folder

    def version(self) -> str:
        return " + ".join(f"{name} {version}" for name, version in self.math.versions().items())

    def render(self, tex: str, display: bool) -> tuple[str, float, float, float]:
        try:
            r = self.math.render(tex, display)
        except self.math.MathError as error:
            raise ValueError(str(error)) from None
        return r.svg.decode(), r.width, r.height, r.depth

    def problem(self, tex: str, display: bool) -> str | None:
        error = self.math.check(tex, display)
        return None if error is None else str(error)

    refuses = problem

    def child(self, *args: str) -> dict:
        done = subprocess.run(
            [sys.executable, "-c", PRESS_CHILD, *args], capture_output=True, check=True, cwd=ROOT, env=os.environ
        )
        return json.loads(done.stdout)

    def startup(self) -> tuple[float, float]:
        out = self.child()
        return out["import"], out["first"]  # the first expression includes starting node and MathJax

    def digests(self, exprs: list[tuple[str, bool]]) -> list[str]:
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
            json.dump(exprs, handle)
        try:
            return self.child(handle.name)["digests"]
        finally:
            os.unlink(handle.name)

    def weight(self) -> int:
        return sum(f.stat().st_size for f in (self.folder / "node_modules").rglob("*") if f.is_file())

    def close(self) -> None:
        self.math.close()


# --- the page ------------------------------------------------------------------------------------

PAGE_CSS = """
@page { size: A5; margin: 15mm; }
body { font-family: "Source Serif Pro"; font-size: 10.5pt; line-height: 1.45; }
img.inline { vertical-align: baseline; }
.display { display: flex; align-items: center; margin: 0.6em 0; }
.display .eq { flex: 1; text-align: center; }
.display .num { width: 3em; text-align: right; }
h1 { font-size: 12pt; }
"""


def page(renderer, exprs: list[tuple[str, bool]], out: Path) -> None:
    """A PDF with each expression in a sentence (inline) or centred with a number (display)."""
    import weasyprint

    sys.path.insert(0, str(ROOT))
    from press import fonts

    parts = [f"<h1>{html.escape(renderer.version())}</h1>"]
    number = 0
    for tex, display in exprs:
        try:
            svg, width, height, depth = renderer.render(tex, display)
        except Exception as error:  # noqa: BLE001 - the page shows what failed
            parts.append(f"<p>failed: <code>{html.escape(tex)}</code> {html.escape(str(error))}</p>")
            continue
        svg = re.sub(r'^<svg([^>]*?) width="[^"]*" height="[^"]*"', r"<svg\1", svg)
        svg = re.sub(r'^<svg([^>]*?) style="[^"]*"', r"<svg\1", svg)
        uri = "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()
        style = f"width: {width:.4f}em; height: {height:.4f}em; vertical-align: {-depth:.4f}em"
        img = f'<img class="inline" style="{style}" src="{uri}">'
        if display:
            number += 1
            parts.append(f'<div class="display"><span class="eq">{img}</span><span class="num">({number})</span></div>')
        else:
            parts.append(f"<p>Here xyz {img} in a line of text, Hxg.</p>")
    css = fonts.font_face_css() + PAGE_CSS
    document = f"<html><head><style>{css}</style></head><body>{''.join(parts)}</body></html>"
    weasyprint.HTML(string=document).write_pdf(out)


# --- main ----------------------------------------------------------------------------------------


def candidates(args: argparse.Namespace) -> list:
    found: list = []
    try:
        found.append(Ziamath())
    except ImportError:
        print("ziamath: not installed (.venv/bin/pip install ziamath==0.13)")
    folders = [Path(d) for d in (args.mathjax3, args.mathjax4, ROOT) if d]
    mj3 = next((d for d in folders if (d / "node_modules" / "mathjax-full").is_dir()), None)
    mj4 = next(
        (
            d
            for d in folders
            if (d / "node_modules" / "mathjax").is_dir()
            and (d / "node_modules" / "@mathjax" / "mathjax-stix2-font").is_dir()
        ),
        None,
    )
    if shutil.which("node") and mj3:
        found.append(MathJax("mathjax3", mj3, "mathjax-full", MATHJAX3_WORKER))
    else:
        print("mathjax3: not installed (give --mathjax3 DIR)")
    if shutil.which("node") and mj4:
        found.append(PressMath(mj4))
    else:
        print("press.math (MathJax 4): not installed (npm install in the project, or give --mathjax4 DIR)")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--mathjax3", help="folder whose node_modules/ has mathjax-full")
    parser.add_argument(
        "--mathjax4", help="folder whose node_modules/ has mathjax and @mathjax/mathjax-stix2-font (else the project's)"
    )
    parser.add_argument("--pages", help="write one PDF per renderer into this folder")
    parser.add_argument("--show", action="store_true", help="print each expression that a renderer fails")
    args = parser.parse_args()
    exprs = expressions()
    rows = []
    for renderer in candidates(args):
        problems = [(tex, p) for tex, display in exprs if (p := renderer.problem(tex, display))]
        refused = [(tex, renderer.refuses(tex, True)) for tex in BAD]
        for _ in range(3):  # warm-up
            for tex, display in exprs[:10]:
                renderer.render(tex, display)
        per = []
        for _ in range(args.runs):
            for tex, display in exprs:
                began = time.perf_counter()
                try:
                    renderer.render(tex, display)
                except ValueError:
                    pass
                per.append(time.perf_counter() - began)
        starts = [renderer.startup() for _ in range(args.runs)]
        same = renderer.digests(exprs) == renderer.digests(exprs)
        sizes = []
        for tex, display in exprs:
            try:
                sizes.append(len(renderer.render(tex, display)[0].encode()))
            except ValueError:
                pass
        if args.pages:
            Path(args.pages).mkdir(parents=True, exist_ok=True)
            page(renderer, exprs, Path(args.pages) / f"{renderer.name}.pdf")
        rows.append(
            {
                "renderer": renderer.name,
                "version": renderer.version(),
                "coverage": f"{len(exprs) - len(problems)}/{len(exprs)}",
                "refused": f"{sum(1 for _, why in refused if why)}/{len(BAD)}",
                "ms": 1000 * statistics.median(per),
                "ms_max": 1000 * max(per),
                "start": statistics.median(s[0] for s in starts),
                "first": statistics.median(s[1] for s in starts),
                "weight": renderer.weight() / 2**20,
                "deterministic": same,
                "svg_kb": statistics.median(sizes) / 1024,
            }
        )
        if args.show:
            for tex, why in problems:
                print(f"  {renderer.name} fails {tex!r}: {why}")
            for tex, why in refused:
                print(f"  {renderer.name} on bad {tex!r}: {why or 'drawn, no error'}")
        renderer.close()
    print(f"{len(exprs)} expressions from {EXPRESSIONS.relative_to(ROOT)}, {args.runs} runs")
    header = (
        f"{'renderer':16} {'coverage':>9} {'bad refused':>12} {'ms/expr':>8} {'max ms':>7} {'startup s':>10} {'1st expr s':>11} "
        f"{'install MiB':>12} {'SVG KiB':>8} {'same bytes':>11}  version"
    )
    print(header)
    for r in rows:
        print(
            f"{r['renderer']:16} {r['coverage']:>9} {r['refused']:>12} {r['ms']:8.2f} {r['ms_max']:7.1f} {r['start']:10.3f} "
            f"{r['first']:11.3f} {r['weight']:12.1f} {r['svg_kb']:8.1f} {'yes' if r['deterministic'] else 'NO':>11}  "
            f"{r['version']}"
        )


if __name__ == "__main__":
    main()
