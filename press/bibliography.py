"""Read BibTeX files with pybtex into BibEntry records, with each entry's line."""

from __future__ import annotations

import functools
import re
from pathlib import Path

import pybtex.errors
from pybtex.backends.plaintext import Backend as PlainTextBackend
from pybtex.database import BibliographyDataError
from pybtex.database.input.bibtex import Parser
from pybtex.richtext import Text
from pybtex.scanner import PybtexError, PybtexSyntaxError

from .model import UNPRINTABLE, BibEntry, Diagnostic, LineIndex, error, unprintable, warning

ENTRY_START = re.compile(r"^[ \t]*@[ \t]*([A-Za-z]+)[ \t]*[{(][ \t]*([^,\s]*)", re.MULTILINE)


# Text that LaTeX decoding leaves as it is: no markup character, ligature ("--", "``", "''", ",,",
# "<<", ">>") or whitespace other than single spaces between words. Most fields are such text, and
# latexcodec is slow to find that out field by field (this is tested against it with Hypothesis).
PLAIN_TEXT = re.compile(r"(?!.*(?:--|''|,,|<<|>>))[^\\{}~$%#_^&`\s]+(?: [^\\{}~$%#_^&`\s]+)*", re.DOTALL)


@functools.lru_cache(maxsize=8192)  # pure, and most of a load's time: a warm process (serve) decodes each field once
def latex_to_text(value: str) -> str:
    """Decode LaTeX markup in a field (accents, braces, ``\\&``, ``--``) to plain Unicode."""
    if PLAIN_TEXT.fullmatch(value):
        return value
    try:
        # render() with the backend itself: render_as("text") scans every entry point on each call.
        return Text.from_latex(value).render(PlainTextBackend())
    except (PybtexError, ValueError, IndexError):
        return value


def entry_lines(text: str) -> dict[str, list[int]]:
    """Where each key's entries start, as 1-based lines (several when a key is repeated)."""
    found: dict[str, list[int]] = {}
    index = LineIndex(text)
    for match in ENTRY_START.finditer(text):
        if match.group(1).lower() in {"comment", "preamble", "string"}:
            continue
        found.setdefault(match.group(2), []).append(index.position(match.start())[0])
    return found


def read_bib_file(path: Path, display: str) -> tuple[list[BibEntry], list[Diagnostic]]:
    """Parse one .bib file. Never raises for bad content: problems come back as diagnostics."""
    diagnostics: list[Diagnostic] = []
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return [], [error(display, line, "encoding", "bibliography file is not valid UTF-8")]
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        return [], [error(display, line, "nul-byte", "bibliography file contains a NUL byte")]
    bad = unprintable(text)
    if bad:
        at = UNPRINTABLE.search(text).start()
        line, column = LineIndex(text).position(at)
        return [], [
            error(
                display,
                line,
                "bib-control-character",
                f"bibliography file contains the control character {bad}",
                "delete it (it is invisible in most editors); no output format can carry it",
                column=column,
            )
        ]
    lines = entry_lines(text)
    parser = Parser()
    with pybtex.errors.capture() as captured:
        try:
            data = parser.parse_string(text)
        except PybtexError as exc:  # an error pybtex cannot recover from
            captured.append(exc)
            data = parser.data
    for exc in captured:
        if isinstance(exc, PybtexSyntaxError):
            diagnostics.append(
                error(
                    display,
                    exc.lineno,
                    "bib-syntax",
                    f"BibTeX syntax error: {exc.message if hasattr(exc, 'message') else exc}",
                )
            )
        elif isinstance(exc, BibliographyDataError) and "repeated" in str(exc):
            key = str(exc).rsplit(":", 1)[-1].strip()
            where = lines.get(key, [None])
            diagnostics.append(
                error(
                    display,
                    where[-1],
                    "bib-duplicate-key",
                    f"entry key '{key}' is defined twice in this file",
                    f"first defined at line {where[0]}" if where[0] else None,
                )
            )
        else:
            diagnostics.append(
                error(display, getattr(exc, "lineno", None) or _line_of_quoted(text, str(exc)), "bib-error", str(exc))
            )
    entries = []
    for key, entry in data.entries.items():
        fields = {name.lower(): latex_to_text(value) for name, value in entry.fields.items()}
        raw_fields = {name.lower(): value for name, value in entry.fields.items()}
        persons = {role.lower(): [latex_to_text(str(p)) for p in people] for role, people in entry.persons.items()}
        line = (lines.get(key) or [None])[0]
        entries.append(BibEntry(key, entry.type.lower(), fields, persons, display, line, raw_fields))
    if not entries and not diagnostics:
        if text.strip():
            diagnostics.append(
                error(
                    display,
                    1,
                    "bib-no-entries",
                    "no BibTeX entries found: is this a BibTeX file?",
                    "entries look like @article{key, author = {...}, ...}",
                )
            )
        else:
            diagnostics.append(warning(display, None, "bib-empty", "bibliography file is empty"))
    return entries, diagnostics


def _line_of_quoted(text: str, message: str) -> int | None:
    """pybtex names the offending value in quotes ("Too many commas in 'a, b, c'"): find its line."""
    quoted = re.search(r"'([^']+)'", message)
    if not quoted:
        return None
    at = text.find(quoted.group(1))
    return LineIndex(text).position(at)[0] if at >= 0 else None
