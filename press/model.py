"""The manuscript model: plain dataclasses shared by loading, checks and writers."""

from __future__ import annotations

import bisect
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .project import Project

FILE_MARK = "press-file:"


def join_sections(texts: list[str]) -> str:
    """The sections as one Markdown text for one pandoc pass, each after a marker naming its index.

    Here, not in press.document, so that a build can start that pass before importing the pipeline.
    """
    parts = []
    for index, text in enumerate(texts):
        parts.append(f"\n\n<!--{FILE_MARK}{index}-->\n\n")
        parts.append(text)
    return "".join(parts) + "\n"


@dataclass(frozen=True)
class Diagnostic:
    """One problem found in the input, located like a compiler message."""

    file: str
    line: int | None
    column: int | None
    severity: str  # "error" | "warning"
    code: str
    message: str
    hint: str | None = None

    def format(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        text = f"{where}: {self.severity}[{self.code}]: {self.message}"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "severity": self.severity,
            "code": self.code,
            "message": self.message,
            "hint": self.hint,
        }


def error(
    file: str, line: int | None, code: str, message: str, hint: str | None = None, column: int | None = None
) -> Diagnostic:
    return Diagnostic(file, line, column, "error", code, message, hint)


def warning(
    file: str, line: int | None, code: str, message: str, hint: str | None = None, column: int | None = None
) -> Diagnostic:
    return Diagnostic(file, line, column, "warning", code, message, hint)


class PressError(Exception):
    """Raised when input is unusable; carries the diagnostics that explain why."""

    def __init__(self, diagnostics: list[Diagnostic]):
        self.diagnostics = list(diagnostics)
        super().__init__("\n".join(d.format() for d in self.diagnostics))


@dataclass
class Author:
    name: str
    affiliations: list[str] = field(default_factory=list)  # affiliation ids
    orcid: str | None = None
    email: str | None = None
    corresponding: bool = False

    @property
    def family(self) -> str:
        return self.name.split()[-1] if self.name.split() else self.name

    @property
    def initials(self) -> str:
        """APA-style initials of the given names: "Karolina Dębek-Kalinowska" -> "K."."""
        given = self.name.split()[:-1]
        return " ".join(f"{part[0]}." for part in given if part)


@dataclass
class License:
    spdx: str
    name: str
    url: str
    badge: str  # file name of the badge image in templates/assets


@dataclass(frozen=True)
class ReviewLayout:
    """The manuscript layout journals ask for at submission (press.review)."""

    line_spacing: float = 2.0  # 2: double spaced; 1.5
    line_numbers: str = "continuous"  # "continuous", "page" (from 1 on each page) or "none"
    figures: str = "in-place"  # "in-place", or "end": after the references, one a page
    captions_list: bool = True  # with figures at the end: a "Figure captions" list before them


@dataclass
class JournalProfile:
    """The journal's rules: its profile's (press.profiles), with what the metadata's ``journal`` sets over them."""

    name: str | None
    csl: str
    limits: dict[str, int]
    profile: str = "default"
    required_declarations: tuple[str, ...] = ()
    article_types: tuple[str, ...] = ()
    blinded: bool = True
    references_heading: str = "References"
    review: ReviewLayout | None = None  # None: the submission's manuscripts are the typeset layout
    given: dict[str, Any] = field(default_factory=dict)  # the metadata's own `journal` fields, as read
    profile_path: Path | None = None  # the profile's file, an input of every output
    profile_lines: dict[str, int] = field(default_factory=dict)  # its fields the metadata leaves to it -> line


@dataclass
class Metadata:
    path: Path
    title: str
    short_title: str | None
    slug: str
    lang: str
    article_type: str | None
    authors: list[Author]
    affiliations: dict[str, str]
    keywords: list[str]
    license: License
    copyright_year: int
    copyright_holders: list[str]
    journal: JournalProfile
    abstract_file: str | None
    section_files: list[str]
    bibliography_files: list[str]
    date: str | None
    declarations: dict[str, str]
    allow_raw_html: bool
    lines: dict[str, int]  # dotted field path -> line in the YAML file
    check_levels: dict[str, str] = field(default_factory=dict)  # code -> error, warning or ignore (press.codes)
    subtitle: str | None = None
    # A field read from another file than ``path`` (a Quarto project's _quarto.yml): field -> that file.
    field_files: dict[str, str] = field(default_factory=dict)

    def place(self, dotted: str) -> tuple[str, int | None]:
        """The file (as shown) and line a field was read from."""
        return self.field_files.get(dotted, display_path(self.path)), self.lines.get(dotted)

    @property
    def full_title(self) -> str:
        """Title and subtitle on one line, where a single title is wanted (metadata, references)."""
        return f"{self.title}: {self.subtitle}" if self.subtitle else self.title

    def line_of(self, dotted: str) -> int | None:
        return self.lines.get(dotted)


@dataclass
class Section:
    path: Path  # absolute
    display: str  # path as shown in messages, relative to the root
    text: str
    is_abstract: bool = False


@dataclass
class BibEntry:
    key: str
    entry_type: str
    fields: dict[str, str]
    persons: dict[str, list[str]]
    file: str
    line: int | None
    raw_fields: dict[str, str] = field(default_factory=dict)  # as written, LaTeX undecoded
    broken: bool = False  # a syntax error within it: what was read of it is cited, its data not checked


def display_path(path: Path) -> str:
    """How a path is shown in messages: relative to the working directory when inside it.

    Here rather than in press.load so that a no-op build can use it without importing PyYAML and pybtex.
    """
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


# C0/C1 controls other than tab and line breaks, surrogates and Unicode noncharacters: no HTML, XML or
# DOCX may contain them, so they are errors in the input rather than crashes (or broken files) later.
UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff]")


def unprintable(text: str) -> str | None:
    """The first character of ``text`` that no output format can carry, as U+XXXX, or None."""
    match = UNPRINTABLE.search(text)
    return f"U+{ord(match.group()):04X}" if match else None


class LineIndex:
    """Line starts of a text, so that offset -> (line, column) costs a bisection, not a scan.

    Diagnostics locate many things in one text; counting newlines from the start for each of them
    is quadratic in the text's length (README, "Measured").
    """

    def __init__(self, text: str):
        self.starts = [0]
        at = text.find("\n")
        while at >= 0:
            self.starts.append(at + 1)
            at = text.find("\n", at + 1)

    def position(self, offset: int) -> tuple[int, int]:
        """1-based line and column of ``offset``."""
        index = bisect.bisect_right(self.starts, offset) - 1
        return index + 1, offset - self.starts[index] + 1


class InOrder:
    """Where things of a text stand, looked up in the order the parse gives them: each search starts
    where the last one left off, so a string written twice is found at its next place."""

    def __init__(self, text: str):
        self.text = text
        self.cursor = 0
        self._index: LineIndex | None = None

    def find(self, needle: str, past: bool = True, before: int | None = None) -> tuple[int | None, int | None]:
        """1-based line and column of ``needle`` from the cursor, or (None, None) when it is not there
        (or not wholly ``before`` that offset, when given).

        The cursor moves past it, or with ``past=False`` one character on (the needle is only the start
        of what was looked for, and the next thing may begin inside it).
        """
        at = self.text.find(needle, self.cursor, len(self.text) if before is None else before) if needle else -1
        if at < 0:
            return None, None
        self.cursor = at + (len(needle) if past else 1)
        self._index = self._index or LineIndex(self.text)
        return self._index.position(at)

    def peek(self, pattern: re.Pattern) -> re.Match | None:
        """``pattern``'s next match from the cursor, the cursor left where it is (``take`` moves it)."""
        return pattern.search(self.text, self.cursor)

    def take(self, match: re.Match) -> tuple[int, int]:
        """1-based line and column where the group of ``match`` that matched starts (the match, without
        one); the cursor moves past the match."""
        self.cursor = match.end()
        self._index = self._index or LineIndex(self.text)
        return self._index.position(match.start(match.lastindex or 0))


@dataclass(frozen=True)
class Templates:
    """Where templates are found: the project's own templates/ first, then the toolchain's.

    A project overrides one file (say article.html) by putting its own copy in its templates/;
    everything else still comes from the toolchain. ``templates / name`` is the file in use.
    """

    dirs: tuple[Path, ...]

    def __truediv__(self, name: str) -> Path:
        for folder in self.dirs:
            if (folder / name).exists():
                return folder / name
        return self.dirs[-1] / name

    def read(self, name: str) -> str:
        return (self / name).read_text(encoding="utf-8")

    def names(self) -> list[str]:
        """Every file in use, as a path relative to its templates folder (an override hides the original)."""
        found: set[str] = set()
        for folder in self.dirs:
            found |= {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
        return sorted(found)


@dataclass
class Manuscript:
    root: Path
    metadata: Metadata
    abstract: Section | None
    sections: list[Section]
    bibliography: dict[str, BibEntry]
    bib_paths: list[Path]
    templates: Templates
    csl_path: Path
    layout: Project  # where its files are (press.project): the press layout or one paper's folder
    # What loading found that does not stop the checks (a missing file, a duplicate key, an unknown style).
    load_diagnostics: list[Diagnostic] = field(default_factory=list)


@dataclass
class CitationUse:
    key: str
    file: str
    line: int | None
    column: int | None


@dataclass
class Parsed:
    """The one pandoc parse of the sections, which the checks and the document both start from."""

    groups: list[list[dict]]  # blocks of each section file, abstract first when there is one
    citations: list[CitationUse]
    crossrefs: list[CitationUse]
    api_version: list[int]
    has_images: bool = True  # False: the media stage need not look for figures (True: it looks)
    has_math: bool = True
    has_units: bool = True  # siunitx commands in math (press.siunitx); False: no equation has one


def environment_epoch() -> int | None:
    value = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    return int(value) if value.isdigit() else None
