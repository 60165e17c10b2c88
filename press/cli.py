"""Command line: `python build.py [COMMAND] [FORMAT ...] [options]`. Arguments only; logic lives elsewhere.

The help, the dispatch and the list of formats come from two tables: ``COMMANDS`` here and
``press.formats.FORMATS``. A new command is one entry below and one module with ``run(args)``.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from .formats import BUILT_FORMATS, FORMATS
from .model import PressError
from .project import MARKDOWN_SUFFIXES, choose


@dataclass(frozen=True)
class Command:
    name: str
    module: str  # holds ``run(args: argparse.Namespace) -> int``
    help: str
    takes_formats: bool = False
    takes_words: bool = False  # the words after it are its query (args.query), not formats


COMMANDS: dict[str, Command] = {
    command.name: command
    for command in (
        Command("build", "press.build", f"(default) build the formats named, or all: {' '.join(BUILT_FORMATS)}", True),
        Command("check", "press.check", "run every check without building; exit 1 on errors"),
        Command("submission", "press.submission", "build the submission bundle (dist/<slug>-submission-<date>.zip)"),
        Command("serve", "press.preview", "live HTML preview that rebuilds and reloads on save"),
        Command(
            "diff",
            "press.diff",
            "what changed since git revision REV (or --against DIR): tracked-changes DOCX, marked PDF and HTML",
            takes_words=True,
        ),
        Command(
            "styles", "press.styles", "list the CSL styles whose id or title has the words given", takes_words=True
        ),
        Command(
            "new",
            "press.new",
            "new DIR: write a new manuscript project there that builds at once; never overwrites",
            takes_words=True,
        ),
        Command("profiles", "press.profiles", "list the journal profiles (journal: {profile: NAME} picks one)"),
    )
}
DEFAULT_COMMAND = "build"
REVIEW_MODULE = "press.review_build"  # what `build --review` runs

EXAMPLES = """\
examples:
  python build.py                 build html, pdf and docx into build/
  python build.py html            build just the HTML
  python build.py pdf docx --out /tmp/out
  python build.py --root ../next-paper
  python build.py drafts/paper.md  a paper in one Markdown file (outputs in drafts/build/)
  python build.py check --format json
  python build.py styles vancouver  find a CSL style's id
  python build.py pdf docx --review  the review layout (line numbers, double spacing) into build/
  python build.py profiles        the journal profiles, one a line
  python build.py diff v1-submitted  tracked changes since the tag v1-submitted (DOCX, PDF, HTML)
  python build.py submission --since v1-submitted  the bundle, with those changes files in it
  python build.py new my-paper --title "My article"  start a new manuscript in my-paper/
"""


def description() -> str:
    width = max(len(name) for name in [*COMMANDS, *BUILT_FORMATS]) + 3
    commands = "\n".join(f"  {c.name:<{width}}{c.help}" for c in COMMANDS.values())
    formats = "\n".join(f"  {name:<{width}}{FORMATS[name].description}" for name in BUILT_FORMATS)
    return (
        "Build the manuscript in ROOT/manuscript (metadata.yaml + Markdown sections) with the\n"
        "bibliography in ROOT/bib, or a paper kept as one Markdown file with YAML front matter\n"
        "(python build.py PAPER.md), into the journal's HTML, PDF and DOCX, with CC BY attribution\n"
        "and every citation checked.\n\n"
        f"commands:\n{commands}\n\nformats:\n{formats}\n\n{EXAMPLES}"
    )


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="build.py", description=description(), formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "words",
        nargs="*",
        metavar="COMMAND/FORMAT",
        help=f"a command ({', '.join(COMMANDS)}) and/or formats ({', '.join(BUILT_FORMATS)})",
    )
    p.add_argument(
        "--root", type=Path, default=Path("."), help="the manuscript project folder, or a paper's .md file (default: .)"
    )
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
        "--review",
        action="store_true",
        help="build: the review layout of the pdf and docx (line numbers, double spacing; the journal profile's) "
        "as <slug>-review.pdf and <slug>-review.docx",
    )
    p.add_argument(
        "--host", default="127.0.0.1", help="serve: address to listen on (default: 127.0.0.1, loopback only)"
    )
    p.add_argument("--port", type=int, default=8000, help="serve: port (default: 8000)")
    p.add_argument("--open", action="store_true", dest="open_browser", help="serve: open the page in a browser")
    p.add_argument(
        "--against",
        type=Path,
        default=None,
        metavar="DIR",
        help="diff: compare with this copy of the project (the folder with manuscript/ and bib/) instead of a revision",
    )
    p.add_argument(
        "--author", default=None, help="diff, submission --since: the tracked changes' author (default: press)"
    )
    p.add_argument(
        "--since",
        default=None,
        metavar="REV",
        help="submission: add what changed since git revision REV (python build.py diff REV) to the bundle",
    )
    p.add_argument("--title", default=None, help='new: the new manuscript\'s title (default: "Untitled manuscript")')
    return p


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The arguments, with ``command`` (a Command), ``formats`` and ``out_dir`` (--out, else ROOT/build)."""
    p = parser()
    args = p.parse_args(argv)
    words = list(args.words)
    command = COMMANDS[words.pop(0) if words and words[0] in COMMANDS else DEFAULT_COMMAND]
    # A paper's file among the words (a query's words are papers only when they are files).
    papers = [
        w
        for w in words
        if Path(w).suffix.lower() in MARKDOWN_SUFFIXES and (not command.takes_words or Path(w).is_file())
    ]
    if len(papers) > 1:
        p.error(f"one paper at a time: {', '.join(papers)}")
    if papers:  # python build.py drafts/paper.md: its folder is the project, the file its paper
        words.remove(papers[0])
        args.root = Path(papers[0])
    if args.root.suffix.lower() in MARKDOWN_SUFFIXES:
        args.root = choose(args.root)
    args.query = words if command.takes_words else []
    unknown = [] if command.takes_words else [w for w in words if w not in BUILT_FORMATS]
    if unknown:
        p.error(
            f"unknown command or format: {', '.join(unknown)} "
            f"(commands: {', '.join(COMMANDS)}; formats: {', '.join(BUILT_FORMATS)})"
        )
    if words and not command.takes_formats and not command.takes_words:
        p.error(f"'{command.name}' takes no formats")
    args.command, args.formats = command, words
    args.out_dir = args.out if args.out is not None else args.root / "build"
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # build --review: the review layout beside the typeset outputs, a command of its own underneath.
    module = REVIEW_MODULE if args.command.name == "build" and args.review else args.command.module
    try:
        return importlib.import_module(module).run(args)
    except PressError as exc:
        from .report import print_failure

        print_failure(exc.diagnostics, args.report_format)
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
