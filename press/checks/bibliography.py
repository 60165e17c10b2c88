"""Checks of each bibliography entry: required fields, DOIs, years, page ranges, author lists, titles.

Entries come parsed by pybtex (press.bibliography): ``fields`` decoded to Unicode for the checks on
meaning, ``raw_fields`` as written for the checks on spelling (a DOI, a page range). Each problem is
reported at the line of the field when the entry's text shows it, else at the entry's first line.
Syntax errors and duplicate keys are found while loading (press.bibliography, press.load).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from ..bibliography import ENTRY_START
from ..load import display_path
from ..model import BibEntry, Diagnostic, LineIndex, Manuscript, error, warning

YEAR_FIELDS = ("year", "date")
# Entry type -> fields it must have; a tuple of alternatives means any one of them will do.
REQUIRED: dict[str, tuple[tuple[str, ...], ...]] = {
    "article": (("author",), ("title",), ("journal", "journaltitle"), YEAR_FIELDS),
    "book": (("author", "editor"), ("title",), ("publisher",), YEAR_FIELDS),
    "inbook": (("author", "editor"), ("title",), ("booktitle", "publisher", "series"), YEAR_FIELDS),
    "incollection": (("author",), ("title",), ("booktitle",), ("publisher", "series"), YEAR_FIELDS),
    "inproceedings": (("author",), ("title",), ("booktitle",), YEAR_FIELDS),
    "conference": (("author",), ("title",), ("booktitle",), YEAR_FIELDS),
    "proceedings": (("title",), YEAR_FIELDS),
    "phdthesis": (("author",), ("title",), ("school", "institution"), YEAR_FIELDS),
    "mastersthesis": (("author",), ("title",), ("school", "institution"), YEAR_FIELDS),
    "thesis": (("author",), ("title",), ("school", "institution"), YEAR_FIELDS),
    "techreport": (("author",), ("title",), ("institution",), YEAR_FIELDS),
    "report": (("author",), ("title",), ("institution",), YEAR_FIELDS),
    "unpublished": (("author",), ("title",)),
    "online": (("title",), ("url",)),
    "misc": (("title",),),
    "manual": (("title",),),
    "booklet": (("title",),),
}
ARTICLE_DETAILS = (("volume", ("volume",)), ("issue", ("number", "issue")), ("pages", ("pages", "eid")))
PERSON_ROLES = ("author", "editor")

DOI = re.compile(r"10\.\d{4,9}/\S+")
DOI_PREFIX = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", re.IGNORECASE)
# Characters that look like an ASCII hyphen or like nothing at all, and what they stand for in a DOI.
LOOKALIKES: dict[str, str] = {
    **{chr(code): "-" for code in range(0x2010, 0x2016)},  # hyphen .. horizontal bar
    "\u2212": "-",  # minus sign
    "\u00a0": "",  # no-break space
    "\u2007": "",  # figure space
    "\u202f": "",  # narrow no-break space
    "\u200b": "",  # zero-width space
    "\u200c": "",  # zero-width non-joiner
    "\u200d": "",  # zero-width joiner
    "\u2060": "",  # word joiner
    "\ufeff": "",  # zero-width no-break space
}
SINGLE_HYPHEN_RANGE = re.compile(r"\s*([A-Za-z]*\d+[A-Za-z]*)\s*-\s*([A-Za-z]*\d+[A-Za-z]*)\s*")
YEAR_WORDS = {"in press", "forthcoming", "n.d."}  # what APA prints where a year is not (yet) known
OLDEST_YEAR = 1450  # printing with movable type


@dataclass(frozen=True)
class EntryText:
    """The raw text of one entry, to find the line and column of a field cheaply."""

    text: str
    first_line: int | None

    def field(self, name: str) -> tuple[int | None, int | None, int]:
        """Line and column of ``name = ...``, and the offset of its value in ``text`` (-1 when not found)."""
        match = re.search(rf"^[ \t]*({re.escape(name)})[ \t]*=[ \t]*", self.text, re.IGNORECASE | re.MULTILINE)
        if match is None or self.first_line is None:
            return self.first_line, None, -1
        return self.position(match.start(1)) + (match.end(),)

    def position(self, offset: int) -> tuple[int | None, int | None]:
        if self.first_line is None:
            return None, None
        line_start = self.text.rfind("\n", 0, offset) + 1
        return self.first_line + self.text.count("\n", 0, offset), offset - line_start + 1


def entry_texts(manuscript: Manuscript) -> dict[tuple[str, int | None], EntryText]:
    """(file as shown, first line) -> the entry's raw text: from its ``@type{`` to the next entry."""
    texts: dict[tuple[str, int | None], EntryText] = {}
    for path in manuscript.bib_paths:
        text = _read(path)
        index = LineIndex(text)
        starts = [index.position(m.start())[0] for m in ENTRY_START.finditer(text)]
        lines = text.splitlines(keepends=True)
        shown = display_path(path)
        for index, first in enumerate(starts):
            end = starts[index + 1] - 1 if index + 1 < len(starts) else len(lines)
            texts[(shown, first)] = EntryText("".join(lines[first - 1 : end]), first)
    return texts


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):  # load() has reported it already
        return ""


def check_bibliography(manuscript: Manuscript, today: dt.date | None = None) -> list[Diagnostic]:
    """Every per-entry check, then DOIs shared by two keys."""
    texts = entry_texts(manuscript)
    year_now = (today or dt.date.today()).year
    found: list[Diagnostic] = []
    for entry in manuscript.bibliography.values():
        if entry.broken:
            continue  # its syntax error is reported; what the error cut off would only repeat it
        source = texts.get((entry.file, entry.line), EntryText("", entry.line))
        found += check_required_fields(entry, source)
        found += check_doi(entry, source)
        found += check_year(entry, source, year_now)
        found += check_pages(entry, source)
        found += check_persons(entry, source)
        found += check_title(entry, source)
    found += check_duplicate_dois(manuscript)
    return found


def _has(entry: BibEntry, name: str) -> bool:
    if name in PERSON_ROLES:
        return bool(entry.persons.get(name))
    return bool(entry.fields.get(name, "").strip())


def check_required_fields(entry: BibEntry, source: EntryText) -> list[Diagnostic]:
    found: list[Diagnostic] = []
    for alternatives in REQUIRED.get(entry.entry_type, ()):
        if not any(_has(entry, name) for name in alternatives):
            wanted = " or ".join(f"'{name}'" for name in alternatives)
            found.append(
                warning(
                    entry.file,
                    entry.line,
                    "bib-required-field",
                    f"@{entry.entry_type} '{entry.key}' has no {wanted}",
                    f"add {alternatives[0]} = {{...}}: a reader cannot find the work without it",
                )
            )
    if entry.entry_type == "article":
        missing = [label for label, names in ARTICLE_DETAILS if not any(_has(entry, n) for n in names)]
        if missing:
            found.append(
                warning(
                    entry.file,
                    entry.line,
                    "bib-article-details",
                    f"article '{entry.key}' has no {', '.join(missing)}",
                    "add them from the journal's page; an article published online first may not have them yet",
                )
            )
    return found


def unescape(value: str) -> str:
    """A verbatim field as written, minus its enclosing braces and LaTeX escapes (``\\_`` is ``_``)."""
    return re.sub(r"\\([_%&#$])", r"\1", value.strip().strip("{}").strip())


def normalise_doi(value: str) -> str:
    """The DOI as written minus LaTeX escapes, enclosing braces, a URL or ``doi:`` prefix, look-alikes."""
    doi = "".join(LOOKALIKES.get(char, char) for char in unescape(value))
    prefix = DOI_PREFIX.match(doi)
    if prefix:
        doi = unquote(doi[prefix.end() :])
    return doi.strip()


def check_doi(entry: BibEntry, source: EntryText) -> list[Diagnostic]:
    raw = entry.raw_fields.get("doi")
    if raw is None or not raw.strip():
        return [
            warning(
                entry.file,
                entry.line,
                "bib-no-doi",
                f"entry '{entry.key}' has no DOI",
                "add doi = {10.…} if the work has one (look it up on the publisher's page or Crossref)",
            )
        ]
    line, column, value_at = source.field("doi")
    lookalikes = [(index, char) for index, char in enumerate(raw) if char in LOOKALIKES]
    if lookalikes:
        index, char = lookalikes[0]
        if value_at >= 0:
            at = source.text.find(char, value_at)
            line, column = source.position(at) if at >= 0 else (line, column)
        name = unicodedata.name(char, "").lower() or "invisible character"
        return [
            warning(
                entry.file,
                line,
                "bib-doi-lookalike",
                f"DOI of '{entry.key}' contains U+{ord(char):04X} ({name}), which only looks like ASCII",
                f"doi = {{{normalise_doi(raw)}}}",
                column=column,
            )
        ]
    doi = normalise_doi(raw)
    found: list[Diagnostic] = []
    if DOI_PREFIX.match(unescape(raw)):
        found.append(
            warning(
                entry.file,
                line,
                "bib-doi-prefix",
                f"DOI of '{entry.key}' is given as a URL or with a 'doi:' prefix",
                f"doi = {{{doi}}} (the style adds https://doi.org/ itself)",
                column=column,
            )
        )
    if not DOI.fullmatch(doi):
        found.append(
            warning(
                entry.file,
                line,
                "bib-doi-syntax",
                f"DOI '{doi}' of '{entry.key}' is not of the form 10.NNNN/suffix",
                "copy the DOI from the publisher's page: it starts with '10.', a registrant number and '/'",
                column=column,
            )
        )
    return found


def check_duplicate_dois(manuscript: Manuscript) -> list[Diagnostic]:
    """The same work under two keys shows up twice in the reference list."""
    first_with: dict[str, BibEntry] = {}
    found: list[Diagnostic] = []
    for entry in manuscript.bibliography.values():
        raw = entry.raw_fields.get("doi", "")
        doi = normalise_doi(raw).lower()  # DOIs are case-insensitive
        if not DOI.fullmatch(doi):
            continue
        first = first_with.setdefault(doi, entry)
        if first is not entry:
            found.append(
                error(
                    entry.file,
                    entry.line,
                    "bib-duplicate-doi",
                    f"entries '{first.key}' and '{entry.key}' have the same DOI {doi}",
                    f"keep one entry ('{first.key}' is at {first.file}:{first.line}) and cite its key everywhere",
                )
            )
    return found


def check_year(entry: BibEntry, source: EntryText, year_now: int) -> list[Diagnostic]:
    name = next((n for n in YEAR_FIELDS if entry.fields.get(n, "").strip()), None)
    if name is None:
        return []  # a required field: reported by check_required_fields
    value = entry.fields[name].strip()
    if value.lower() in YEAR_WORDS:
        return []
    year = value[:4] if name == "date" else value
    if year.isdigit() and len(year) == 4 and OLDEST_YEAR <= int(year) <= year_now + 1:
        return []
    line, column, _ = source.field(name)
    return [
        warning(
            entry.file,
            line,
            "bib-year",
            f"{name} '{value}' of '{entry.key}' is not a plausible year",
            f"a four-digit year between {OLDEST_YEAR} and {year_now + 1}, or 'in press'",
            column=column,
        )
    ]


def check_pages(entry: BibEntry, source: EntryText) -> list[Diagnostic]:
    raw = entry.raw_fields.get("pages", "")
    match = SINGLE_HYPHEN_RANGE.fullmatch(raw.strip().strip("{}"))
    if match is None:
        return []
    line, column, _ = source.field("pages")
    return [
        warning(
            entry.file,
            line,
            "bib-page-range",
            f"page range '{raw.strip()}' of '{entry.key}' uses a single hyphen",
            f"pages = {{{match.group(1)}--{match.group(2)}}} (BibTeX's '--' is the en dash of a range)",
            column=column,
        )
    ]


def check_persons(entry: BibEntry, source: EntryText) -> list[Diagnostic]:
    found: list[Diagnostic] = []
    for role in PERSON_ROLES:
        people = entry.persons.get(role) or []
        if people and people[-1].strip().lower() == "others":
            line, column, _ = source.field(role)
            found.append(
                warning(
                    entry.file,
                    line,
                    "bib-truncated-authors",
                    f"{role} list of '{entry.key}' ends with 'and others': the names after "
                    f"{people[-2] if len(people) > 1 else 'it'} are hidden behind 'et al.'",
                    "list every name: APA 7 shows up to 20 authors in the reference list",
                    column=column,
                )
            )
    return found


def check_title(entry: BibEntry, source: EntryText) -> list[Diagnostic]:
    title = entry.fields.get("title", "")
    letters = [char for char in title if char.isalpha()]
    # Short titles in capitals are usually acronyms ("DSM-5"); only a long one is a shouted title.
    if len(letters) < 10 or not all(char.isupper() for char in letters):
        return []
    line, column, _ = source.field("title")
    return [
        warning(
            entry.file,
            line,
            "bib-title-caps",
            f"title of '{entry.key}' is in capitals: '{title}'",
            "write it in sentence case and brace what must stay capitalised, e.g. {NMDA}",
            column=column,
        )
    ]
