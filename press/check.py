"""`python build.py check`: every check, no outputs; diagnostics like a compiler's, then counts and a summary.

One load, one pandoc parse; no citeproc and no WeasyPrint, so it answers in well under a second.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from .checks import sort_diagnostics
from .checks.counts import Count, format_table
from .model import Diagnostic, PressError
from .report import print_diagnostics
from .resolve import Resolved, resolve


def run(args: argparse.Namespace) -> int:
    """The ``check`` command."""
    return check(args.root, report_format=args.report_format, strict=args.strict)


def check(root: Path, report_format: str = "text", strict: bool = False) -> int:
    """Check the project at ``root``; 0 when clean or warnings only, 1 on errors (or warnings with ``strict``)."""
    started = time.perf_counter()
    counts: list[Count] = []
    try:
        resolved = _resolve_early(root)
    except PressError as exc:  # unusable input: what loading found is all there is to say
        diagnostics = sort_diagnostics(exc.diagnostics)
    else:
        diagnostics, counts = resolved.diagnostics, resolved.counts
    errors = sum(d.severity == "error" for d in diagnostics)
    warnings = len(diagnostics) - errors
    failed = errors > 0 or (strict and warnings > 0)
    line = summary(errors, warnings, failed, strict, time.perf_counter() - started)
    if report_format == "json":
        print(json.dumps(report(diagnostics, counts, errors, warnings, failed), ensure_ascii=False, indent=2))
    else:
        print_diagnostics(diagnostics)
        if counts:
            print(format_table(counts), flush=True)
    print(line, file=sys.stderr)
    return 1 if failed else 0


def _resolve_early(root: Path) -> Resolved:
    """The checks, with the build's head start: the pandoc pass started before loading, and the
    equations it finds typeset beside loading (with equations, typesetting is most of a check)."""
    from .build import start_pandoc_early, start_typesetting
    from .project import NoManuscript, locate, peek_metadata

    try:
        project = locate(root)
    except NoManuscript:
        return resolve(root, document=False)  # which reports it
    prefetch = start_pandoc_early(project, peek_metadata(project))
    start_typesetting(prefetch)
    try:
        return resolve(project, document=False, prefetched=prefetch)
    finally:
        if prefetch is not None:
            prefetch.cancel()  # a no-op when it was used


def summary(errors: int, warnings: int, failed: bool, strict: bool, seconds: float) -> str:
    found = f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}"
    if strict and warnings and not errors:
        found += " (--strict: warnings count as errors)"
    return f"check {'failed' if failed else 'passed'}: {found} in {seconds:.2f} s"


def report(
    diagnostics: list[Diagnostic], counts: list[Count], errors: int, warnings: int, failed: bool
) -> dict[str, object]:
    """The JSON document: stable keys for editors and CI."""
    return {
        "ok": not failed,
        "errors": errors,
        "warnings": warnings,
        "diagnostics": [d.as_dict() for d in diagnostics],
        "counts": [count.as_dict() for count in counts],
    }
