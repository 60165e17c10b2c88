"""The only module that runs pandoc (the binary pinned through pypandoc-binary)."""

from __future__ import annotations

import functools
import json
import os
import subprocess
from pathlib import Path
from typing import Any

Ast = dict[str, Any]


class PandocError(RuntimeError):
    pass


@functools.cache
def pandoc_path() -> str:
    import pypandoc

    return pypandoc.get_pandoc_path()


@functools.cache
def pandoc_version() -> str:
    out = subprocess.run([pandoc_path(), "--version"], capture_output=True, text=True, check=True).stdout
    return out.split()[1]


def run(args: list[str], data: bytes, env: dict[str, str] | None = None) -> bytes:
    """Run pandoc with ``args`` on ``data``; raise PandocError with pandoc's message on failure."""
    full_env = None
    if env:
        full_env = {**os.environ, **env}
    proc = subprocess.run([pandoc_path(), *args], input=data, capture_output=True, env=full_env)
    if proc.returncode != 0:
        raise PandocError(proc.stderr.decode("utf-8", "replace").strip() or f"pandoc exited with {proc.returncode}")
    return proc.stdout


def markdown_to_ast(text: str) -> Ast:
    """Parse pandoc Markdown. Sandboxed: the reader never touches the file system."""
    out = run(["--sandbox", "-f", "markdown", "-t", "json"], text.encode("utf-8"))
    return json.loads(out)


def html_to_ast(html: str) -> Ast:
    out = run(["--sandbox", "-f", "html", "-t", "json"], html.encode("utf-8"))
    return json.loads(out)


def resolve_citations(ast: Ast, bibliography: list[Path], csl: Path) -> Ast:
    """Run citeproc once over the whole document: citations and the reference list."""
    args = ["-f", "json", "-t", "json", "--citeproc", "--csl", str(csl)]
    for path in bibliography:
        args += ["--bibliography", str(path)]
    args += ["-M", "link-citations=true", "-M", "link-bibliography=true", "-M", "suppress-bibliography=false"]
    return json.loads(run(args, json.dumps(ast).encode("utf-8")))


def ast_to(
    ast: Ast, to: str, extra: list[str] | None = None, env: dict[str, str] | None = None, sandbox: bool = True
) -> bytes:
    args = (["--sandbox"] if sandbox else []) + ["-f", "json", "-t", to, *(extra or [])]
    return run(args, json.dumps(ast).encode("utf-8"), env)
