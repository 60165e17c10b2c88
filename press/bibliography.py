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


def bibliography_text(path: Path, display: str) -> tuple[str | None, list[Diagnostic]]:
    """A bibliography file's text, or None and why not: not UTF-8, a NUL byte, a control character."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return None, [error(display, line, "encoding", "bibliography file is not valid UTF-8")]
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        return None, [error(display, line, "nul-byte", "bibliography file contains a NUL byte")]
    bad = unprintable(text)
    if bad:
        at = UNPRINTABLE.search(text).start()
        line, column = LineIndex(text).position(at)
        return None, [
            error(
                display,
                line,
                "bib-control-character",
                f"bibliography file contains the control character {bad}",
                "delete it (it is invisible in most editors); no output format can carry it",
                column=column,
            )
        ]
    return text, []


def read_bib_file(path: Path, display: str) -> tuple[list[BibEntry], list[Diagnostic]]:
    """Parse one .bib file. Never raises for bad content: problems come back as diagnostics."""
    text, diagnostics = bibliography_text(path, display)
    if text is None:
        return [], diagnostics
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
    # An entry a syntax error cuts short is kept (its citations resolve), but what it lost is no news.
    starts = sorted(line for found_lines in lines.values() for line in found_lines)
    error_lines = [d.line for d in diagnostics if d.code == "bib-syntax" and d.line]
    broken = {max((s for s in starts if s <= at), default=0) for at in error_lines}
    entries = []
    for key, entry in data.entries.items():
        fields = {name.lower(): latex_to_text(value) for name, value in entry.fields.items()}
        raw_fields = {name.lower(): value for name, value in entry.fields.items()}
        persons = {role.lower(): [latex_to_text(str(p)) for p in people] for role, people in entry.persons.items()}
        line = (lines.get(key) or [None])[0]
        entries.append(
            BibEntry(key, entry.type.lower(), fields, persons, display, line, raw_fields, broken=line in broken)
        )
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


BIBLIOGRAPHY_SUFFIXES = (".bib", ".json", ".yaml", ".yml")
# CSL variables under the names the checks know from BibTeX.
CSL_FIELDS = {
    "title": "title",
    "container-title": "journal",
    "volume": "volume",
    "issue": "number",
    "page": "pages",
    "DOI": "doi",
    "URL": "url",
    "publisher": "publisher",
    "ISBN": "isbn",
}
# CSL types by the BibTeX entry types whose rules the checks apply.
CSL_TYPES = {
    "article-journal": "article",
    "book": "book",
    "chapter": "incollection",
    "paper-conference": "inproceedings",
    "thesis": "phdthesis",
    "report": "techreport",
    "software": "software",
    "dataset": "dataset",
    "webpage": "online",
}


def read_bibliography(path: Path, display: str) -> tuple[list[BibEntry], list[Diagnostic]]:
    """One bibliography file, BibTeX or CSL (JSON or YAML, as Zotero and Manubot write them)."""
    if path.suffix.lower() == ".bib":
        return read_bib_file(path, display)
    return read_csl_file(path, display)


def read_csl_file(path: Path, display: str) -> tuple[list[BibEntry], list[Diagnostic]]:
    """A CSL-JSON or CSL-YAML file: a list of items (or, in YAML, ``references:`` holding one)."""
    import json

    text, problems = bibliography_text(path, display)
    if text is None:
        return [], problems
    if path.suffix.lower() == ".json":
        try:
            items = json.loads(text)
        except json.JSONDecodeError as exc:
            return [], [error(display, exc.lineno, "bib-syntax", f"CSL-JSON syntax error: {exc.msg}", column=exc.colno)]
    else:
        import yaml

        try:
            items = yaml.safe_load(text)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark
            return [], [
                error(display, mark.line + 1 if mark else None, "bib-syntax", f"CSL-YAML syntax error: {exc.problem}")
            ]
        if isinstance(items, dict):
            items = items.get("references")
    if not isinstance(items, list):
        return [], [
            error(
                display,
                1,
                "bib-no-entries",
                "a CSL bibliography must be a list of items",
                "export CSL JSON from Zotero, or write [{id: ..., type: ..., title: ...}]",
            )
        ]
    starts = _item_lines(text)
    entries, found, seen = [], [], {}
    for index, item in enumerate(items):
        line = starts[index] if index < len(starts) else None
        if not isinstance(item, dict) or not str(item.get("id", "")).strip():
            found.append(error(display, line, "bib-error", f"item {index + 1} has no id"))
            continue
        key = str(item["id"]).strip()
        if key in seen:
            found.append(
                error(
                    display,
                    line,
                    "bib-duplicate-key",
                    f"entry key '{key}' is defined twice in this file",
                    f"first defined at line {seen[key]}" if seen[key] else None,
                )
            )
            continue
        seen[key] = line
        entries.append(_csl_entry(key, item, display, line))
    if not entries and not found:
        found.append(warning(display, None, "bib-empty", "bibliography file is empty"))
    return entries, found


def _csl_entry(key: str, item: dict, display: str, line: int | None) -> BibEntry:
    fields = {ours: _csl_text(item[theirs]) for theirs, ours in CSL_FIELDS.items() if item.get(theirs) is not None}
    issued = item.get("issued")
    if isinstance(issued, dict):
        parts = issued.get("date-parts") or [[]]
        if parts and parts[0]:
            fields["year"] = "-".join(str(p) for p in parts[0][:1])
            if len(parts) > 1 and parts[1]:  # a range: 2008 to 2019
                fields["year"] += f" - {parts[1][0]}"
        elif issued.get("literal"):
            fields["year"] = str(issued["literal"])
        elif issued.get("raw"):
            fields["year"] = str(issued["raw"])
    elif issued is not None:
        fields["year"] = str(issued)
    persons = {}
    for role, ours in (("author", "author"), ("editor", "editor")):
        people = item.get(role)
        if isinstance(people, list):
            persons[ours] = [_csl_name(p) for p in people]
    entry_type = CSL_TYPES.get(str(item.get("type", "")), str(item.get("type", "misc")))
    # No raw fields: CSL text is no LaTeX, and its page ranges take a plain hyphen (citeproc sets the dash).
    return BibEntry(key, entry_type, fields, persons, display, line)


def _csl_text(value: object) -> str:
    return " ".join(str(v) for v in value) if isinstance(value, list) else str(value)


def _csl_name(person: object) -> str:
    if not isinstance(person, dict):
        return str(person)
    if person.get("literal"):
        return str(person["literal"])
    family, given = person.get("family", ""), person.get("given", "")
    return f"{family}, {given}" if given else str(family)


def _item_lines(text: str) -> list[int]:
    """The line each item of a CSL file starts on: at its `"id"` (JSON) or `- id:` (YAML) line."""
    index = LineIndex(text)
    return [index.position(m.start())[0] for m in re.finditer(r'"id"\s*:|^\s*-\s+id\s*:', text, re.MULTILINE)]
