"""The one place diagnostics are printed: as compiler messages on stderr, or as JSON for tools."""

from __future__ import annotations

import json
import sys
from typing import TextIO

from .model import Diagnostic


def print_diagnostics(diagnostics: list[Diagnostic], report_format: str = "text", stream: TextIO | None = None) -> None:
    """``file:line:col: severity[code]: message`` lines (with their hints), or one JSON list."""
    stream = stream or sys.stderr  # looked up at call time, so redirection (tests, the preview) sees it
    if report_format == "json":
        print(json.dumps([d.as_dict() for d in diagnostics], ensure_ascii=False, indent=2), file=stream)
        return
    for diagnostic in diagnostics:
        print(diagnostic.format(), file=stream)
    stream.flush()  # before whatever the command prints next on stdout, in a terminal too


def print_failure(diagnostics: list[Diagnostic], report_format: str = "text") -> None:
    """What a command that stopped on errors prints: the diagnostics, then one line saying nothing was written."""
    print_diagnostics(diagnostics, report_format)
    errors = sum(d.severity == "error" for d in diagnostics)
    print(f"build failed: {errors} error(s); nothing was written", file=sys.stderr)
