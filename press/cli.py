"""Command line: `python build.py [COMMAND] [FORMAT ...] [options]`. Arguments only; logic lives elsewhere."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from .model import Diagnostic, PressError

COMMANDS = ("build", "check", "submission", "serve")
FORMAT_NAMES = ("html", "pdf", "docx")

DESCRIPTION = """\
Build the manuscript in ROOT/manuscript (metadata.yaml + Markdown sections) with the
bibliography in ROOT/bib into the journal's HTML, PDF and DOCX, with CC BY attribution
and every citation checked.

commands:
  build        (default) build the formats named, or all: html pdf docx
  check        run every check without building; exit 1 on errors
  submission   build the submission bundle (dist/<slug>-submission-<date>.zip)
  serve        live HTML preview that rebuilds and reloads on save

examples:
  python build.py                 build html, pdf and docx into build/
  python build.py html            build just the HTML
  python build.py pdf docx --out /tmp/out
  python build.py --root ../next-paper
  python build.py check --format json
"""


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="build.py", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "words",
        nargs="*",
        metavar="COMMAND/FORMAT",
        help="a command (build, check, submission, serve) and/or formats (html, pdf, docx)",
    )
    p.add_argument("--root", type=Path, default=Path("."), help="the manuscript project folder (default: .)")
    p.add_argument("--out", type=Path, default=None, help="output folder (default: ROOT/build)")
    p.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        dest="report_format",
        help="how diagnostics are printed (default: text)",
    )
    p.add_argument("--strict", action="store_true", help="check: treat warnings as errors")
    p.add_argument(
        "--force",
        action="store_true",
        help="build: rebuild every output from scratch, ignoring the build record and the work kept in .press-kept.json",
    )
    p.add_argument(
        "--pdf-variant",
        choices=("pdf/a-3b", "pdf/ua-1"),
        default=None,
        help="build: write an archival (PDF/A-3b) or accessible (PDF/UA-1) PDF; the default PDF is tagged",
    )
    p.add_argument(
        "--host", default="127.0.0.1", help="serve: address to listen on (default: 127.0.0.1, loopback only)"
    )
    p.add_argument("--port", type=int, default=8000, help="serve: port (default: 8000)")
    p.add_argument("--open", action="store_true", dest="open_browser", help="serve: open the page in a browser")
    return p


def print_diagnostics(diagnostics: list[Diagnostic], report_format: str, stream=None) -> None:
    stream = stream or sys.stderr  # looked up at call time, so redirection (tests, the preview) sees it
    if report_format == "json":
        print(json.dumps([d.as_dict() for d in diagnostics], ensure_ascii=False, indent=2), file=stream)
        return
    for diagnostic in diagnostics:
        print(diagnostic.format(), file=stream)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    words = list(args.words)
    command = words.pop(0) if words and words[0] in COMMANDS else "build"
    unknown = [w for w in words if w not in FORMAT_NAMES]
    if unknown:
        parser().error(
            f"unknown command or format: {', '.join(unknown)} "
            f"(commands: {', '.join(COMMANDS)}; formats: {', '.join(FORMAT_NAMES)})"
        )
    root = args.root
    out = args.out if args.out is not None else root / "build"
    try:
        if command == "build":
            return run_build(root, out, words or None, args)
        if words:
            parser().error(f"'{command}' takes no formats")
        if command == "check":
            from .check import run as run_check

            return run_check(root, report_format=args.report_format, strict=args.strict)
        if command == "submission":
            from .submission import run as run_submission

            return run_submission(root, out=args.out, report_format=args.report_format)
        from .preview import run as run_preview

        return run_preview(root, out, host=args.host, port=args.port, open_browser=args.open_browser)
    except PressError as exc:
        print_diagnostics(exc.diagnostics, args.report_format)
        errors = sum(d.severity == "error" for d in exc.diagnostics)
        print(f"build failed: {errors} error(s); nothing was written", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted; earlier outputs are unchanged", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - a bug of ours must still not dump a traceback on authors
        if os.environ.get("PRESS_DEBUG"):
            raise
        print(
            f"internal error: {type(exc).__name__}: {exc}\n  (set PRESS_DEBUG=1 for the traceback and "
            "report it; earlier outputs are unchanged)",
            file=sys.stderr,
        )
        return 2
    return 0


def run_build(root: Path, out: Path, formats: list[str] | None, args: argparse.Namespace) -> int:
    from .build import build
    from .model import display_path

    def progress(output) -> None:
        detail = "up to date" if output.up_to_date else f"{output.seconds:.2f} s, {output.size / 1024:.0f} KiB"
        print(f"  {output.format:<5} {display_path(output.path)}  ({detail})")

    result = build(root, out, formats, progress, pdf_variant=args.pdf_variant, force=args.force)
    if result.warnings:
        print_diagnostics(result.warnings, args.report_format)
    print(
        f"built {len(result.rebuilt)} format(s)"
        + (f", {len(result.up_to_date)} up to date" if result.up_to_date else "")
        + f" in {result.seconds:.2f} s"
        + (f", {len(result.warnings)} warning(s)" if result.warnings else "")
    )
    return 0
