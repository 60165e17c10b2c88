"""TeX math typeset as SVG for the PDF: MathJax 4's SVG output in STIX Two Math, from a long-lived node process.

WeasyPrint has no MathML, so every equation reaches the PDF already typeset. MathJax was chosen by
measuring (benchmarks/math_renderers.py): it spaces and sizes math as TeX does (binary and unary
minus, text-style limits inline, matrix and cases columns) where ziamath's latex2mathml reading does
not, it is faster per expression, and its TeX parser names the unknown commands itself.

    render(tex, display)  -> Rendered: the SVG and its size in em of the surrounding text
    check(tex, display)   -> MathError | None: MathJax's own message and the offset in tex
    key(tex, display)     -> str: SHA-256 of the input and of everything that shapes the output

The node packages (npm, from the project's package.json): ``mathjax`` (the components, Apache-2.0)
and ``@mathjax/mathjax-stix2-font`` (STIX Two Math's outlines as MathJax data; the font is the STIX
Fonts Project's, SIL OFL 1.1). They are looked up in the project's node_modules/, or in the folder
named by the environment variable PRESS_NODE_MODULES. Without them (or without node), ``render``,
``check`` and ``key`` raise MathUnavailable saying what to install.

STIX Two Math's x-height is 0.473 em (0.479 as MathJax measures its "x", overshoot included) and
Source Serif Pro's (the PDF's text face) 0.475 em, so math set at the text's font size (1 em = 1000
SVG units) matches the text's x-height without scaling.
"""

from __future__ import annotations

import atexit
import functools
import hashlib
import json
import os
import re
import select
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import siunitx
from .siunitx import COMMAND as SIUNITX
from .tex import substituted

ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES_ENV = "PRESS_NODE_MODULES"
PACKAGES = {"mathjax": "4.1.3", "@mathjax/mathjax-stix2-font": "4.1.0"}  # the pins package.json should carry
# STIX Two Math for the article page's MathML (OFL 1.1, with its licence), beside the same outlines in the PDF.
WEB_FONT = ("@fontsource/stix-two-math", "files/stix-two-math-latin-400-normal.woff2", "LICENSE")
FONT = "STIX Two Math"
FONT_LICENCE = "SIL Open Font License 1.1 (STIX Fonts Project); MathJax's conversion: Apache-2.0"

# Bumped whenever this module or press.flatten changes the SVG it hands out, so that kept renderings
# are not reused. 2: one path per colour (press.flatten).
FORMAT = 2

# The TeX packages MathJax reads with. Left out on purpose: noundefined and noerrors (they draw an
# unknown command or an error in red instead of raising), autoload and require (they would load
# more at run time), newcommand and configmacros (a \newcommand would outlive its expression and
# make one rendering depend on those before it). mhchem needs a font extension package of its own.
TEX_PACKAGES = ("base", "ams", "textmacros", "boldsymbol", "mathtools", "cancel", "color", "upgreek", "braket")

# One JSON request a line on stdin ({"tex", "display"}, and "mathml": true for MathML); one JSON answer
# a line on stdout: {"viewBox", "width", "body"}, {"mathml"} or {"error", "id", "parsers"}. The SVG is
# serialised here rather than with the adaptor's outerHTML, which writes attribute values unescaped
# (MathJax 4's data-latex="p < 0.05" is not XML); data-* attributes (MathJax's bookkeeping and a copy
# of the TeX) are left out.
WORKER = r"""
'use strict';
// V8's optimizing tiers up to Maglev, not TurboFan: for a manuscript's few hundred expressions
// TurboFan's compiling took ~0.5 s of CPU on other cores for no sooner answer, CPU that a build
// running beside it needs (README, "Measured"). An unknown flag is ignored: the same SVGs either way.
require('v8').setFlagsFromString('--max-opt=2');
const readline = require('readline');
const PACKAGES = __PACKAGES__;
let parsers = null;
global.MathJax = {
  loader: {
    load: ['input/tex-base', ...PACKAGES.filter((p) => p !== 'base').map((p) => '[tex]/' + p), 'output/svg',
           'adaptors/liteDOM'],
    require: require,
    paths: {mathjax: 'mathjax'},
  },
  tex: {
    packages: PACKAGES,
    tags: 'none',
    formatError: (jax, err) => {
      // The parsers still open when the error was thrown, innermost first: where it happened.
      parsers = jax.parseOptions.parsers.map((p) => ({i: p.i, string: p.string}));
      throw err;
    },
  },
  output: {font: 'mathjax-stix2', fontCache: 'none', linebreaks: {inline: false}},
  startup: {typeset: false},
};
require('mathjax/startup.js');
MathJax.startup.promise.then(() => {
  const adaptor = MathJax.startup.adaptor;
  const escape = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
  const xml = (node) => {
    const kind = adaptor.kind(node);
    if (kind === '#text') return escape(adaptor.value(node));
    if (kind === '#comment') return '';
    const attributes = adaptor.allAttributes(node).filter((a) => !a.name.startsWith('data-'))
      .map((a) => ` ${a.name}="${escape(a.value)}"`).join('');
    return `<${kind}${attributes}>${adaptor.childNodes(node).map(xml).join('')}</${kind}>`;
  };
  const font = MathJax.startup.output.font;
  process.stdout.write(JSON.stringify({ready: MathJax.version, xHeight: font.params.x_height}) + '\n');
  let queue = Promise.resolve();
  readline.createInterface({input: process.stdin}).on('line', (line) => {
    queue = queue.then(async () => {
      const request = JSON.parse(line);
      let answer;
      try {
        parsers = null;
        // Labels (and any other TeX state) are forgotten between expressions: each rendering depends
        // on its own TeX alone (a second \label{eq:x} would otherwise be "multiply defined").
        MathJax.texReset();
        if (request.mathml) {
          answer = {mathml: await MathJax.tex2mmlPromise(request.tex, {display: request.display})};
        } else {
          const container = await MathJax.tex2svgPromise(request.tex, {display: request.display, em: 16, ex: 8,
                                                                      containerWidth: 1280});
          const svg = adaptor.firstChild(container);
          answer = {viewBox: adaptor.getAttribute(svg, 'viewBox'), width: adaptor.getAttribute(svg, 'width'),
                    body: adaptor.childNodes(svg).map(xml).join('')};
        }
      } catch (err) {
        answer = {error: String(err.message || err), id: err.id || '', parsers: parsers};
      }
      process.stdout.write(JSON.stringify(answer) + '\n');
    });
  });
}).catch((err) => { console.error(err); process.exit(1); });
""".replace("__PACKAGES__", json.dumps(list(TEX_PACKAGES)))

# Commands papers use that MathJax's packages lack, asked of node as the MathJax command that sets the
# same: the bm package's \bm is amsmath's \boldsymbol, and the double-struck letters of dsfont and bbm
# (an indicator function's 1) are \mathbb's. Errors are told in the author's TeX: their offsets and
# MathJax's message mapped back (_error).
ALIASES = {"bm": "boldsymbol", "mathds": "mathbb", "mathbbm": "mathbb"}
_ALIAS = re.compile(r"\\(" + "|".join(ALIASES) + r")(?![A-Za-z])")

PIPELINE_BYTES = 16384  # of requests ahead in node's stdin: far below a pipe's 64 KiB
STARTUP_TIMEOUT = 60.0  # seconds: node and MathJax's components load in about 0.2 s
ANSWER_TIMEOUT = 60.0  # the first use of a font range loads it from node_modules; no expression takes this long


class MathUnavailable(RuntimeError):
    """node or the MathJax packages are missing: says what to install."""


class MathError(Exception):
    """TeX that MathJax cannot typeset: its message, and where in the TeX (a character offset) if known."""

    def __init__(self, message: str, offset: int | None, code: str = ""):
        super().__init__(message if offset is None else f"{message} (at character {offset})")
        self.message = message
        self.offset = offset
        self.code = code  # MathJax's error id, e.g. "UndefinedControlSequence"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, MathError):
            return NotImplemented
        return (self.message, self.offset, self.code) == (other.message, other.offset, other.code)

    def __hash__(self) -> int:
        return hash((self.message, self.offset, self.code))

    def __repr__(self) -> str:
        return f"MathError({self.message!r}, {self.offset!r}, code={self.code!r})"


@dataclass(frozen=True)
class Rendered:
    """One typeset expression.

    ``svg`` is a standalone SVG document (UTF-8): paths only, no ids (so any number can be inlined in
    one HTML page), no metadata, ``currentColor`` for ink, ``width``/``height`` attributes in em.
    ``width``, ``height`` and ``depth`` are in em of the surrounding text's font size; ``depth`` is how
    far the expression reaches below the baseline, so ``vertical-align: -{depth}em`` seats it on the
    text's baseline. ``height`` includes ``depth``.
    """

    tex: str
    display: bool
    svg: bytes
    width: float
    height: float
    depth: float


# --- finding the packages ------------------------------------------------------------------------


def node_modules() -> Path:
    """The node_modules folder that holds the MathJax packages; MathUnavailable if there is none."""
    named = os.environ.get(NODE_MODULES_ENV)
    folder = Path(named) if named else ROOT / "node_modules"
    missing = [name for name in PACKAGES if not (folder / name / "package.json").is_file()]
    if missing:
        pins = " ".join(f"{name}@{version}" for name, version in PACKAGES.items())
        raise MathUnavailable(
            f"math needs the npm packages {pins} in {folder} (missing: {', '.join(missing)}): "
            f"run `npm install` in {ROOT} with them in package.json"
        )
    return folder


def _installed_versions(folder: Path) -> tuple[tuple[str, str], ...]:
    # Keyed on the files' times too: an `npm install` under a long-running preview changes the keys.
    files = [folder / name / "package.json" for name in PACKAGES]
    return _read_versions(tuple(files), tuple(f.stat().st_mtime_ns for f in files))


@functools.cache
def _read_versions(files: tuple[Path, ...], _mtimes: tuple[int, ...]) -> tuple[tuple[str, str], ...]:
    return tuple(
        (name, json.loads(f.read_text(encoding="utf-8"))["version"]) for name, f in zip(PACKAGES, files, strict=True)
    )


def versions() -> dict[str, str]:
    """The installed version of each MathJax package (npm name -> version)."""
    return dict(_installed_versions(node_modules()))


def key(tex: str, display: bool) -> str:
    """SHA-256 (hex) of the expression, its mode, and all that shapes its SVG: MathJax's and the font
    package's versions, the worker script and this module's output format. Equal keys, equal SVGs.
    Needs no node process, only the installed packages' package.json files."""
    return keys()(tex, display)


def keys() -> Callable[[str, bool], str]:
    """``key`` for many expressions: the installed versions read once, now, for all of them.

    Reading them (four file system calls) is nearly all of a key's cost, and a build keys each of
    its equations two or three times; it reads them once a step (the checks, the media stage).
    Raises MathUnavailable like ``key``."""
    return functools.partial(_key, packages=dict(_installed_versions(node_modules())))


_WORKER_SHA256 = hashlib.sha256(WORKER.encode("utf-8")).hexdigest()


def _key(tex: str, display: bool, packages: dict[str, str]) -> str:
    material = {"tex": tex, "display": bool(display), "packages": packages, "worker": _WORKER_SHA256, "format": FORMAT}
    if SIUNITX.search(tex):  # node is asked for pandoc's reading of its siunitx commands (_replacements)
        from .pandoc import pandoc_version

        material["pandoc"] = pandoc_version()
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode("utf-8")).hexdigest()


# --- the node process ----------------------------------------------------------------------------


class _Worker:
    """The node process running MathJax: one request at a time, answers read with a time limit."""

    def __init__(self, folder: Path):
        node = shutil.which("node")
        if node is None:
            raise MathUnavailable("math needs node (Node.js; tested with 20) on PATH")
        self.owner = os.getpid()
        # A temporary file, not a pipe: a pipe that nobody reads could fill and stall node. MathJax
        # writes a line there for each font range it loads (the font was built for 4.1.0).
        self.errors = tempfile.TemporaryFile()
        env = {**os.environ, "NODE_PATH": str(folder)}
        self.process = subprocess.Popen(
            [node, "-e", WORKER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.errors,
            cwd=folder.parent,
            env=env,
        )
        self.buffer = b""
        ready = self.answer(STARTUP_TIMEOUT)
        expected = dict(_installed_versions(folder))["mathjax"]
        if ready.get("ready") != expected:
            self.close()
            raise MathUnavailable(f"node loaded MathJax {ready.get('ready')}, not the installed {expected}")
        self.x_height: float = ready["xHeight"]

    def alive(self) -> bool:
        return self.process.poll() is None and self.owner == os.getpid()

    def stderr(self) -> str:
        self.errors.seek(0)
        return self.errors.read().decode("utf-8", "replace").strip()[-2000:]

    def answer(self, timeout: float) -> dict[str, Any]:
        """The next JSON line from node, within timeout seconds."""
        assert self.process.stdout is not None
        fd = self.process.stdout.fileno()
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                self.close()
                raise RuntimeError(f"MathJax did not answer within {timeout:.0f} s")
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                message = self.stderr()
                self.close()
                raise MathUnavailable(f"the MathJax node process stopped: {message or 'no message'}")
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        return json.loads(line)

    def ask(self, tex: str, display: bool, mathml: bool = False) -> dict[str, Any]:
        assert self.process.stdin is not None
        request = {"tex": _sent(tex), "display": bool(display), **({"mathml": True} if mathml else {})}
        self.process.stdin.write(json.dumps(request).encode("utf-8") + b"\n")
        self.process.stdin.flush()
        return self.answer(ANSWER_TIMEOUT)

    def ask_many(self, requests: list[tuple[str, bool]]) -> Iterator[dict[str, Any]]:
        """The answers to ``requests``, in order, node typesetting the next ones while each is handled.

        A few requests are in the pipe ahead of the answer being read (never more than PIPELINE_BYTES
        of them): node never waits for this process, and neither pipe can fill up while the other
        side waits to write (a deadlock)."""
        assert self.process.stdin is not None
        lines = [
            json.dumps({"tex": _sent(tex), "display": bool(display)}).encode("utf-8") + b"\n"
            for tex, display in requests
        ]
        sent = answered = in_flight = 0
        while answered < len(lines):
            while sent < len(lines) and (sent == answered or in_flight + len(lines[sent]) <= PIPELINE_BYTES):
                self.process.stdin.write(lines[sent])
                in_flight += len(lines[sent])
                sent += 1
            self.process.stdin.flush()
            answer = self.answer(ANSWER_TIMEOUT)
            in_flight -= len(lines[answered])
            answered += 1
            yield answer

    def close(self) -> None:
        if self.process.poll() is None and self.owner == os.getpid():
            self.process.kill()
            self.process.wait()
        self.errors.close()


_lock = threading.Lock()
_worker: _Worker | None = None


def _ask(tex: str, display: bool, mathml: bool = False) -> dict[str, Any]:
    global _worker
    with _lock:  # the build renders from several threads; node answers in order, one line each
        if _worker is None or not _worker.alive():
            _worker = _Worker(node_modules())
        try:
            return _worker.ask(tex, display, mathml)
        except BrokenPipeError:
            message = _worker.stderr()
            _worker.close()
            _worker = None
            raise MathUnavailable(f"the MathJax node process stopped: {message or 'no message'}") from None
        except RuntimeError:
            _worker = None  # closed by answer(): the next call starts a new one
            raise


def _ask_many(requests: list[tuple[str, bool]]) -> Iterator[dict[str, Any]]:
    """``_ask`` for each request, in order, pipelined (_Worker.ask_many); holds the node process throughout."""
    global _worker
    with _lock:
        if _worker is None or not _worker.alive():
            _worker = _Worker(node_modules())
        complete = False
        try:
            yield from _worker.ask_many(requests)
            complete = True
        except BrokenPipeError:
            message = _worker.stderr()
            raise MathUnavailable(f"the MathJax node process stopped: {message or 'no message'}") from None
        finally:
            if not complete and _worker is not None:
                # Answers may still be on their way: they must not be taken for the next request's.
                _worker.close()
                _worker = None


def start() -> None:
    """Start the node process and load MathJax (~0.3 s) if not yet done, in a thread of its own: a
    build that will have equations starts it before its pandoc pass, so it is ready for the checks.
    Says nothing when it cannot: the first render raises MathUnavailable then."""

    def starting() -> None:
        global _worker
        with _lock:
            if _worker is None or not _worker.alive():
                try:
                    _worker = _Worker(node_modules())
                except (MathUnavailable, RuntimeError, OSError):
                    _worker = None

    threading.Thread(target=starting, name="press-math-start", daemon=True).start()


def close() -> None:
    """Stop the node process (a later render starts a new one). Also done at exit."""
    global _worker
    with _lock:
        if _worker is not None:
            _worker.close()
            _worker = None


atexit.register(close)


# --- typesetting ---------------------------------------------------------------------------------


# Each expression typeset once a process: the checks typeset them all, in a thread of their own, while
# the build's print rendering asks for the same ones; whoever asks second waits for the first.
# _typeset holds node's answer, checked (what ``check`` needs); _finished its SVG, written and
# flattened when first asked for (``render``): so the checks, which need no SVG, take none of this
# process's time for one while the build's other threads want it.
_typeset: dict[tuple[str, bool], Future] = {}
_finished: dict[tuple[str, bool], Future] = {}
_typeset_lock = threading.Lock()


def render(tex: str, display: bool) -> Rendered:
    """Typeset ``tex`` (the TeX between the dollars, without them) inline or as a display equation.

    Raises MathError for TeX that ``check`` reports, MathUnavailable without node or the packages.
    The same (tex, display) gives the same bytes, whatever was rendered before and in any process
    with the same ``key``; in one process it is typeset once.
    """
    return _once(_finished, (tex, bool(display)), lambda tex, display: _rendered(tex, display, _answer(tex, display)))


def _answer(tex: str, display: bool) -> dict[str, Any]:
    """node's answer for the expression, checked (_checked); asked once a process."""
    return _once(_typeset, (tex, bool(display)), _ask_checked)


def _once(done: dict[tuple[str, bool], Future], pair: tuple[str, bool], work: Callable[[str, bool], Any]) -> Any:
    """``work(*pair)``, done once a process (its result, or what it raised, kept in ``done``); whoever
    asks while it is being done waits for it."""
    with _typeset_lock:
        future = done.get(pair)
        mine = future is None
        if mine:
            future = done[pair] = Future()
    if mine:
        try:
            future.set_result(work(*pair))
        except BaseException as exc:
            future.set_exception(exc)
    return future.result()


def render_all(expressions: list[tuple[str, bool]]) -> None:
    """Typeset every (tex, display) not yet typeset in this process, node working through them without
    waiting for this process between two (the checks typeset a manuscript's equations this way).
    What each gives (its answer, or its MathError) is then what ``check`` and ``render`` go by."""
    mine: list[tuple[str, bool, Future]] = []
    with _typeset_lock:
        for tex, display in dict.fromkeys((tex, bool(display)) for tex, display in expressions):
            if (tex, display) not in _typeset:
                _typeset[(tex, display)] = future = Future()
                mine.append((tex, display, future))
    asked = []
    for tex, display, future in mine:
        problem = _before(tex)
        if problem is not None:
            future.set_exception(problem)
        else:
            asked.append((tex, display, future))
    if not asked:
        return  # all typeset already, or kept as valid: no node process is started for nothing
    siunitx.read_in([tex for tex, _, _ in asked])  # what node is asked for them (_replacements)
    done = 0
    try:
        for answer in _ask_many([(tex, display) for tex, display, _ in asked]):
            tex, display, future = asked[done]
            done += 1
            try:
                future.set_result(_checked(tex, answer))
            except Exception as error:  # noqa: BLE001 - as render() would raise it, for this expression alone
                future.set_exception(error)
    except BaseException as exc:
        for _, _, future in asked[done:]:
            future.set_exception(exc)
        raise


def forget() -> None:
    """Forget what this process typeset (for a test that must see the next typesetting)."""
    with _typeset_lock:
        _typeset.clear()
        _finished.clear()
        _mathml.clear()


def _ask_checked(tex: str, display: bool) -> dict[str, Any]:
    """MathJax typesets ``tex``: its answer, checked (_checked)."""
    return _checked(tex, _asked(tex, display))


def _asked(tex: str, display: bool, mathml: bool = False) -> dict[str, Any]:
    """node's answer for ``tex``, unless MathJax would accept it but the caller cannot use it (_before)."""
    problem = _before(tex)
    if problem is not None:
        raise problem
    siunitx.read_in([tex])  # what node is asked for its siunitx commands (_replacements)
    return _ask(tex, display, mathml)


def _checked(tex: str, answer: dict[str, Any]) -> dict[str, Any]:
    """MathJax's answer, if it is one SVG of the expression; else its MathError."""
    if "error" in answer:
        raise _error(tex, answer)
    if not answer.get("viewBox") or not str(answer.get("width", "")).endswith("ex"):
        # MathJax sizes an expression to its container ("100%") only for a tag or a line to break.
        # A line break in inline math (a \\ b) gives no one SVG at all.
        raise MathError("this expression is laid out across the page, not as one formula", None, "Layout")
    return answer


def _rendered(tex: str, display: bool, answer: dict[str, Any]) -> Rendered:
    """The Rendered of MathJax's (checked) answer: the SVG written, and flattened."""
    x, y, w, h = (float(v) for v in answer["viewBox"].split())
    # The viewBox is in thousandths of an em of the math font, which is set at the text's size.
    # Rounded as written into the SVG, so that the numbers and the attributes agree.
    width, height, depth = (float(_number(v / 1000)) for v in (w, h, y + h))
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_number(width)}em" height="{_number(height)}em" '
        f'viewBox="{_number(x)} {_number(y)} {_number(w)} {_number(h)}">{answer["body"]}</svg>'
    ).encode()
    # WeasyPrint draws the nested groups node by node; the same outlines as one path cost it far less.
    # Imported here: ElementTree's import is ~25 ms of an HTML-only rebuild, which flattens nothing.
    from .flatten import flatten

    svg = flatten(svg) or svg
    return Rendered(tex=tex, display=bool(display), svg=svg, width=width, height=height, depth=depth)


_mathml: dict[tuple[str, bool], Future] = {}


def mathml(tex: str, display: bool) -> str:
    """MathJax's MathML of ``tex``: one ``<math>`` element (``display="block"`` for a display equation),
    without MathJax's bookkeeping (``data-*``) or the whitespace between elements. For what pandoc's
    own TeX reader cannot read (press.mathml); once a process for each expression.

    Raises MathError for TeX that ``check`` reports, MathUnavailable like ``render``."""
    return _once(_mathml, (tex, bool(display)), _mathml_of)


def _mathml_of(tex: str, display: bool) -> str:
    answer = _asked(tex, display, mathml=True)
    if "error" in answer:
        raise _error(tex, answer)
    return _clean_mathml(answer["mathml"], display)


def _clean_mathml(text: str, display: bool) -> str:
    from lxml import etree

    root = etree.fromstring(text.encode("utf-8"), etree.XMLParser(resolve_entities=False, no_network=True))
    for element in root.iter():
        for name in [n for n in element.attrib if n.startswith("data-")]:
            del element.attrib[name]
        # MathJax indents its MathML: between elements whitespace means nothing, and a token element
        # (<mi>, <mtext>, ...) holds text alone.
        if len(element) and element.text is not None and not element.text.strip():
            element.text = None
        if element.tail is not None and not element.tail.strip():
            element.tail = None
    if display:
        root.set("display", "block")
    return etree.tostring(root, encoding="unicode")


def check(tex: str, display: bool) -> MathError | None:
    """None if ``render(tex, display)`` would succeed, else the MathError it would raise: MathJax's
    message (an unknown command is "Undefined control sequence \\name") and the character offset in
    ``tex`` where the problem is (the unknown command, the brace or \\left left open, the extra
    closing one), or None where it cannot be told. Raises MathUnavailable like ``render``."""
    try:
        _answer(tex, display)
    except MathError as error:
        return error
    return None


def _number(value: float) -> str:
    """Four decimals at most, no trailing zeros: the same text for the same float, always."""
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


_TAG = re.compile(r"\\tag\*?(?![A-Za-z])")


def _before(tex: str) -> MathError | None:
    """What MathJax would accept but the caller cannot use."""
    if not tex.strip():
        return MathError("empty expression: nothing to typeset", 0, "Empty")
    tag = _TAG.search(tex)
    if tag:
        # With tags off MathJax still sets \tag at the page's right edge, across the whole width.
        return MathError("\\tag: equation numbers come from the document, not from the TeX", tag.start(), "Tag")
    return None


# --- where an error is ---------------------------------------------------------------------------

_TOKEN = re.compile(r"\\(?:[A-Za-z]+|.)|%[^\n]*|.", re.S)


def _tokens(tex: str) -> list[tuple[int, str]]:
    """(offset, token) for TeX's tokens, comments dropped: a control word, a control symbol, a character."""
    return [(m.start(), m.group()) for m in _TOKEN.finditer(tex) if not m.group().startswith("%")]


def _unmatched(tex: str, opening: str, closing: str) -> tuple[int | None, int | None]:
    """(the last opening token left open, the first closing token without an opening) in tex."""
    stack: list[int] = []
    for at, token in _tokens(tex):
        if token == opening:
            stack.append(at)
        elif token == closing:
            if not stack:
                return None, at
            stack.pop()
    return (stack[-1] if stack else None), None


def _parser_position(tex: str, parsers: list[dict[str, Any]] | None) -> int | None:
    """Where MathJax's innermost open parser stood, as an offset in tex.

    An inner parser reads a substring (an argument) that ends before its parent's position; a macro
    that expands in place (\\iff) rewrites the parser's string, but what follows the position is still
    the end of the original."""
    if not parsers:
        return None
    chain = parsers[::-1]  # outermost first
    outer = chain[0]
    if outer["string"] != tex:
        return max(0, min(len(tex), len(tex) - (len(outer["string"]) - outer["i"])))
    start, string, position = 0, tex, outer["i"]
    for inner in chain[1:]:
        found = string.rfind(inner["string"], 0, position - start) if inner["string"] else -1
        if found < 0:
            break
        start += found
        string, position = inner["string"], start + inner["i"]
    return max(0, min(len(tex), position))


_NAMED = re.compile(r"\\(?:begin|end)\{[^}]*\}|\\[A-Za-z]+|'([^']*)'")


def _named_offset(tex: str, code: str, message: str, near: int | None) -> int | None:
    """The offset of the command or environment that the message names, the last one before ``near``."""
    names = []
    for match in _NAMED.finditer(message):
        if match.group(1) is not None:  # Unknown environment 'foo'
            names.append(f"\\begin{{{match.group(1)}}}")
        elif code == "EnvMissingEnd" and match.group().startswith("\\end{"):
            names.append("\\begin" + match.group()[4:])  # Missing \end{x}: the \begin{x} left open
        else:
            names.append(match.group())
    for name in names:
        hits = [m.start() for m in re.finditer(re.escape(name) + (r"(?![A-Za-z])" if name[-1].isalpha() else ""), tex)]
        if hits:
            before = [at for at in hits if near is None or at < near]
            return before[-1] if before else hits[0]
    return None


def _offset(tex: str, code: str, message: str, parsers: list[dict[str, Any]] | None) -> int | None:
    position = _parser_position(tex, parsers)
    found: int | None = None
    if code in ("ExtraOpenMissingClose", "MissingCloseBrace"):
        found = _unmatched(tex, "{", "}")[0]
    elif code == "ExtraCloseMissingOpen":
        found = _unmatched(tex, "{", "}")[1]
    elif code == "ExtraLeftMissingRight":
        found = _unmatched(tex, "\\left", "\\right")[0]
    elif code == "MissingLeftExtraRight":
        found = _unmatched(tex, "\\left", "\\right")[1]
    if found is None:
        found = _named_offset(tex, code, message, position)
    if found is None and position is not None:
        # MathJax stands just past the token it could not take ("x^": past the "^"): point at that token.
        before = [at for at, token in _tokens(tex) if at < position and not token.isspace()]
        found = before[-1] if before else position
    return found


def _error(tex: str, answer: dict[str, Any]) -> MathError:
    message = answer["error"].split("\n")[0]
    code = answer.get("id") or ""
    if not code:  # not a TeX error: MathJax itself failed on this input
        return MathError(f"MathJax failed: {message}", None, "Internal")
    offset = _offset(_sent(tex), code, message, answer.get("parsers"))
    offset = None if offset is None else _unsent(tex, offset)
    # MathJax names the command it was asked for: the author's, where the error is at one of ALIASES.
    at = _ALIAS.match(tex, offset) if offset is not None else None
    if at is not None:
        asked = re.compile(rf"\\{ALIASES[at.group(1)]}(?![A-Za-z])")
        if not asked.search(tex):
            message = asked.sub(lambda _: at.group(), message)
    return MathError(message, offset, code)


def _replacements(tex: str) -> list[tuple[int, int, str]]:
    """(start, end, TeX) of what node is asked instead, in order: each of ALIASES as MathJax's command,
    and each siunitx command as pandoc's reading of it (press.siunitx)."""
    out = [(m.start(), m.end(), "\\" + ALIASES[m.group(1)]) for m in _ALIAS.finditer(tex)]
    if SIUNITX.search(tex):
        units = siunitx.replacements(tex)
        out = sorted([r for r in out if not any(s <= r[0] < e for s, e, _ in units)] + units)
    return out


def _sent(tex: str) -> str:
    """``tex`` as node is asked to typeset it (_replacements)."""
    return substituted(tex, _replacements(tex))


def _unsent(tex: str, offset: int) -> int:
    """The offset in ``tex`` of ``offset`` in _sent(tex): within a replacement, where the author's command starts."""
    shift = 0
    for start, end, written in _replacements(tex):
        grown = len(written) - (end - start)
        if offset < start + shift:
            break
        if offset < start + shift + len(written):
            return start
        shift += grown
    return offset - shift


def web_font() -> tuple[bytes, bytes] | None:
    """STIX Two Math as WOFF2 and its licence text, for the article page's MathML; None if not installed."""
    try:
        folder = node_modules() / WEB_FONT[0]
        return (folder / WEB_FONT[1]).read_bytes(), (folder / WEB_FONT[2]).read_bytes()
    except (MathUnavailable, OSError):
        return None
