"""The only module that runs pandoc (the binary pinned through pypandoc-binary)."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import subprocess
import threading
from pathlib import Path
from typing import Any

from .model import FILE_MARK

Ast = dict[str, Any]


class PandocError(RuntimeError):
    pass


@functools.cache
def pandoc_path() -> str:
    """The pandoc that pypandoc-binary ships (the pinned one), else whatever pypandoc finds."""
    import importlib.util

    spec = importlib.util.find_spec("pypandoc")  # finding, not importing: pypandoc's import is slow
    if not os.environ.get("PYPANDOC_PANDOC") and spec and spec.submodule_search_locations:
        bundled = Path(spec.submodule_search_locations[0]) / "files" / "pandoc"
        if bundled.is_file() and os.access(bundled, os.X_OK):
            return str(bundled)
    import pypandoc

    return pypandoc.get_pandoc_path()


@functools.cache
def pandoc_version() -> str:
    out = subprocess.run([pandoc_path(), "--version"], capture_output=True, text=True, check=True).stdout
    return out.split()[1]


@functools.cache
def api_version() -> list[int]:
    """The pandoc-api-version of this pandoc's JSON, for ASTs made before any pandoc output is at hand."""
    return json.loads(run(["-f", "markdown", "-t", "json"], b""))["pandoc-api-version"]


class Running:
    """A pandoc run started now and collected later: the caller works while pandoc does."""

    def __init__(self, args: list[str], data: bytes):
        self.args, self.data = list(args), data
        self._process = subprocess.Popen(
            [pandoc_path(), *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        self._output: tuple[bytes, bytes] | None = None
        self._thread = threading.Thread(target=self._communicate, name="pandoc", daemon=True)
        self._thread.start()

    def _communicate(self) -> None:
        try:
            self._output = self._process.communicate(self.data)
        except (OSError, ValueError):  # stopped by cancel()
            self._output = None

    def result(self) -> bytes | None:
        """pandoc's output; None if the run was cancelled. Raises PandocError when pandoc failed."""
        self._thread.join()
        if self._output is None:
            return None
        stdout, stderr = self._output
        if self._process.returncode != 0:
            raise PandocError(
                stderr.decode("utf-8", "replace").strip() or f"pandoc exited with {self._process.returncode}"
            )
        return stdout

    def cancel(self) -> None:
        if self._process.poll() is None:
            self._process.kill()
        self._thread.join()


def start(args: list[str], data: bytes) -> Running:
    """Start pandoc with ``args`` on ``data``; ``result()`` waits for its output."""
    return Running(args, data)


class Prefetch(Running):
    """pandoc started early on what its input will probably be (a build starts it before loading).

    ``result_for`` hands the output over only for exactly the arguments and input it was started
    with; otherwise it stops the process and the caller runs pandoc as usual. Never a stale result.
    """

    def result_for(self, args: list[str], data: bytes) -> bytes | None:
        if args != self.args or data != self.data:
            self.cancel()
            return None
        return self.result()


# While a PDF is laid out in its worker process (press.pdf_worker), the layout is the build's critical
# path and every other pandoc run (the DOCX, the web page, the checks' runs) has time to spare: those
# start at this much lower a priority, so that on a machine with few cores they take the cores the
# layout leaves, not its share (README, "Measured"). Never raised back: nothing waits on them sooner.
BESIDE_LAYOUT_NICENESS = 10
_layout_running = threading.Event()


def beside_layout(running: bool) -> None:
    """Say that a PDF's layout has begun in its worker (True), or is over (False)."""
    if running:
        _layout_running.set()
    else:
        _layout_running.clear()


def run(args: list[str], data: bytes, env: dict[str, str] | None = None) -> bytes:
    """Run pandoc with ``args`` on ``data``; raise PandocError with pandoc's message on failure."""
    full_env = None
    if env:
        full_env = {**os.environ, **env}
    with subprocess.Popen(
        [pandoc_path(), *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=full_env
    ) as process:
        if _layout_running.is_set() and hasattr(os, "setpriority"):
            with contextlib.suppress(OSError):  # it may have ended already
                niceness = min(19, os.getpriority(os.PRIO_PROCESS, 0) + BESIDE_LAYOUT_NICENESS)
                os.setpriority(os.PRIO_PROCESS, process.pid, niceness)
        out, err = process.communicate(data)
    if process.returncode != 0:
        raise PandocError(err.decode("utf-8", "replace").strip() or f"pandoc exited with {process.returncode}")
    return out


# Bare URLs and e-mail addresses become links: otherwise pandoc reads the "@user" of
# "https://host/@user" as a citation. The extension costs about 40 % of the parse, and it can only
# act where the text has an absolute URI ("scheme:something") or an address ("name@host"). Text
# with neither (cross-reference labels like "sec:intro" and citations like "[-@key]" are neither)
# parses to the same AST without it, as tested with Hypothesis.
BARE_URI_READER = ["--sandbox", "-f", "markdown+autolink_bare_uris", "-t", "json"]
PLAIN_READER = ["--sandbox", "-f", "markdown", "-t", "json"]
# A scheme may follow anything but an ASCII letter or digit: in "_http://host_" the underscore
# is emphasis, and the link starts after it (Hypothesis found that in CI).
URI_LIKE = re.compile(r"(?<![A-Za-z0-9])([A-Za-z][\w+.-]*):\S")
NEVER_URIS = {"sec", "tbl", "fig", "eq"}  # cross-reference prefixes (press.equations): no scheme pandoc links
# The markers before each section (press.model.join_sections): an HTML comment, never linked, but
# "-file:0" in it looks like a URI.
FILE_MARKS = re.compile(r"<!--" + re.escape(FILE_MARK) + r"\d+-->")
CITATION_AT = re.compile(r"(?:^|(?<=[\s\[(]))-?@")  # "@key", "[@key", "(@key", "[-@key": never an address


def markdown_to_ast_args(text: str) -> list[str]:
    """pandoc's arguments for parsing ``text``: with bare-URI links only when something could be one."""
    if text.count("@") > len(CITATION_AT.findall(text)):  # an "@" inside a word: maybe an address
        return BARE_URI_READER
    if any(match.group(1).lower() not in NEVER_URIS for match in URI_LIKE.finditer(FILE_MARKS.sub("", text))):
        return BARE_URI_READER
    return PLAIN_READER


def markdown_to_ast(text: str, prefetched: Prefetch | None = None) -> Ast:
    """Parse pandoc Markdown. Sandboxed: the reader never touches the file system.

    ``prefetched``: the same run started early (press.build), used only for exactly this input.
    """
    args, data = markdown_to_ast_args(text), text.encode("utf-8")
    out = prefetched.result_for(args, data) if prefetched else None
    return json.loads(out if out is not None else run(args, data))


def citeproc_args(bibliography: list[Path], csl: Path) -> list[str]:
    args = ["--citeproc", "--csl", str(csl)]
    for path in bibliography:
        args += ["--bibliography", str(path)]
    return args + ["-M", "link-citations=true", "-M", "link-bibliography=true", "-M", "suppress-bibliography=false"]


def html_to_ast(html: str) -> Ast:
    out = run(["--sandbox", "-f", "html", "-t", "json"], html.encode("utf-8"))
    return json.loads(out)


def start_citeproc(ast: Ast, bibliography: list[Path], csl: Path) -> Running:
    """Start citeproc over ``ast`` (its citations, and the reference list in its ``refs`` Div),
    serialized now: the caller may change ``ast`` while it runs."""
    args = ["-f", "json", "-t", "json", *citeproc_args(bibliography, csl)]
    return start(args, json.dumps(ast).encode("utf-8"))


def ast_to(
    ast: Ast, to: str, extra: list[str] | None = None, env: dict[str, str] | None = None, sandbox: bool = True
) -> bytes:
    return json_to(json.dumps(ast).encode("utf-8"), to, extra, env, sandbox)


def json_to(
    data: bytes, to: str, extra: list[str] | None = None, env: dict[str, str] | None = None, sandbox: bool = True
) -> bytes:
    """pandoc's ``to`` output of a document already serialized as pandoc JSON."""
    args = (["--sandbox"] if sandbox else []) + ["-f", "json", "-t", to, *(extra or [])]
    return run(args, data, env)
