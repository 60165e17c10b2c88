"""Load and validate the manuscript's metadata YAML, keeping the line of every field."""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Any

import yaml

from .model import Author, Diagnostic, JournalProfile, License, Metadata, PressError, error, unprintable

LICENSES: dict[str, License] = {
    "CC-BY-4.0": License(
        "CC-BY-4.0",
        "Creative Commons Attribution 4.0 International License",
        "https://creativecommons.org/licenses/by/4.0/",
        "CC BY 4.0",
    ),
    "CC-BY-SA-4.0": License(
        "CC-BY-SA-4.0",
        "Creative Commons Attribution-ShareAlike 4.0 International License",
        "https://creativecommons.org/licenses/by-sa/4.0/",
        "CC BY-SA 4.0",
    ),
    "CC-BY-NC-4.0": License(
        "CC-BY-NC-4.0",
        "Creative Commons Attribution-NonCommercial 4.0 International License",
        "https://creativecommons.org/licenses/by-nc/4.0/",
        "CC BY-NC 4.0",
    ),
    "CC-BY-NC-ND-4.0": License(
        "CC-BY-NC-ND-4.0",
        "Creative Commons Attribution-NonCommercial-NoDerivatives 4.0 International License",
        "https://creativecommons.org/licenses/by-nc-nd/4.0/",
        "CC BY-NC-ND 4.0",
    ),
}

# The schema: each mapping's allowed keys. Nested mappings are named by their dotted path.
FIELDS: dict[str, set[str]] = {
    "": {
        "title",
        "short_title",
        "slug",
        "lang",
        "article_type",
        "date",
        "authors",
        "affiliations",
        "keywords",
        "license",
        "copyright",
        "journal",
        "abstract",
        "sections",
        "bibliography",
        "declarations",
        "allow_raw_html",
    },
    "authors[]": {"name", "affiliations", "orcid", "email", "corresponding"},
    "copyright": {"year", "holders"},
    "journal": {"name", "csl", "limits"},
    "journal.limits": {"abstract_words", "main_words", "references", "figures", "tables"},
    "declarations": {
        "funding",
        "conflicts_of_interest",
        "ethics",
        "author_contributions",
        "data_availability",
        "acknowledgements",
    },
}

ORCID = re.compile(r"^\d{4}-\d{4}-\d{4}-\d{3}[\dX]$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def slugify(text: str) -> str:
    """An ASCII file-name slug; python-slugify transliterates letters NFKD cannot (ł, ø, ß)."""
    from slugify import slugify as transliterating_slugify

    return transliterating_slugify(text) or "article"


class _Reader:
    """Turns a composed YAML node tree into plain values, remembering each field's line."""

    def __init__(self, display: str):
        self.display = display
        self.lines: dict[str, int] = {}
        self.diagnostics: list[Diagnostic] = []
        self.loader = yaml.SafeLoader("")

    def value(self, node: yaml.Node, path: str) -> Any:
        self.lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            result: dict[str, Any] = {}
            for key_node, value_node in node.value:
                key = str(key_node.value)
                child = f"{path}.{key}" if path else key
                if key in result:
                    self.err(key_node, "metadata-duplicate-field", f"field '{child}' is given twice")
                self.lines[child] = key_node.start_mark.line + 1
                result[key] = self.value(value_node, child)
            return result
        if isinstance(node, yaml.SequenceNode):
            return [self.value(item, f"{path}[{i}]") for i, item in enumerate(node.value)]
        value = _scalar(self.loader, node)
        if isinstance(value, str) and (bad := unprintable(value)):
            self.err(
                node,
                "metadata-control-character",
                f"field '{path}' contains the control character {bad}",
                "delete it (it is invisible in most editors); no output format can carry it",
            )
        return value

    def err(self, node_or_line: Any, code: str, message: str, hint: str | None = None) -> None:
        line = (
            node_or_line if isinstance(node_or_line, int) or node_or_line is None else node_or_line.start_mark.line + 1
        )
        self.diagnostics.append(error(self.display, line, code, message, hint))


def _scalar(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    # Resolve the scalar with the safe loader's own rules (ints, bools, nulls; dates kept as text).
    value = loader.construct_object(node, deep=True)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def load_metadata(path: Path, display: str) -> Metadata:
    """Read and validate ``path``; raise PressError with every problem found."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PressError(
            [
                error(
                    display,
                    None,
                    "metadata-missing",
                    "metadata file not found",
                    "create manuscript/metadata.yaml (see README)",
                )
            ]
        ) from None
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise PressError([error(display, line, "encoding", "file is not valid UTF-8")]) from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        # "while scanning a quoted scalar" (context) is where the author must look; the problem mark
        # of an unclosed quote is the end of the file.
        mark = exc.context_mark or exc.problem_mark
        message = f"YAML syntax error: {exc.problem}"
        if exc.context:
            message += f" ({exc.context})"
        raise PressError(
            [
                error(
                    display,
                    mark.line + 1 if mark else None,
                    "yaml-syntax",
                    message,
                    column=mark.column + 1 if mark else None,
                )
            ]
        ) from None
    except yaml.YAMLError as exc:
        raise PressError([error(display, None, "yaml-syntax", f"YAML error: {exc}")]) from None
    reader = _Reader(display)
    if node is None or not isinstance(node, yaml.MappingNode):
        raise PressError(
            [
                error(
                    display,
                    1,
                    "metadata-not-mapping",
                    "metadata must be a YAML mapping of fields (title:, authors:, ...)",
                )
            ]
        )
    data = reader.value(node, "")
    metadata = _validate(data, reader, path, display)
    if reader.diagnostics:
        raise PressError(reader.diagnostics)
    return metadata


def _unknown_fields(data: dict[str, Any], schema_key: str, prefix: str, reader: _Reader) -> None:
    allowed = FIELDS[schema_key]
    for key in data:
        if key not in allowed:
            close = difflib.get_close_matches(key, sorted(allowed), n=1, cutoff=0.6)
            hint = f"did you mean '{close[0]}'?" if close else "allowed fields: " + ", ".join(sorted(allowed))
            reader.err(
                reader.lines.get(f"{prefix}{key}"), "metadata-unknown-field", f"unknown field '{prefix}{key}'", hint
            )


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _validate(data: dict[str, Any], reader: _Reader, path: Path, display: str) -> Metadata:
    lines = reader.lines
    _unknown_fields(data, "", "", reader)

    title = _text(data.get("title"))
    if not title:
        reader.err(
            lines.get("title", 1),
            "metadata-missing-title",
            "the manuscript has no title",
            "add a line 'title: ...' to the metadata",
        )

    affiliations_raw = data.get("affiliations") or {}
    affiliations: dict[str, str] = {}
    if isinstance(affiliations_raw, dict):
        affiliations = {str(k): str(v) for k, v in affiliations_raw.items() if _text(v)}
    else:
        reader.err(
            lines.get("affiliations"),
            "metadata-type",
            "'affiliations' must map ids to affiliation texts (e.g. a1: University of ...)",
        )

    authors: list[Author] = []
    raw_authors = data.get("authors") or []
    if not isinstance(raw_authors, list):
        reader.err(lines.get("authors"), "metadata-type", "'authors' must be a list")
        raw_authors = []
    for i, raw in enumerate(raw_authors):
        where = f"authors[{i}]"
        if isinstance(raw, str):
            raw = {"name": raw}
        if not isinstance(raw, dict):
            reader.err(lines.get(where), "metadata-type", f"author {i + 1} must be a name or a mapping")
            continue
        _unknown_fields(raw, "authors[]", f"{where}.", reader)
        name = _text(raw.get("name"))
        if not name:
            reader.err(lines.get(where), "metadata-author-name", f"author {i + 1} has no name")
            continue
        affs = raw.get("affiliations") or []
        if isinstance(affs, str):
            affs = [affs]
        for aff in affs:
            if str(aff) not in affiliations:
                reader.err(
                    lines.get(f"{where}.affiliations"),
                    "metadata-unknown-affiliation",
                    f"author '{name}' names affiliation '{aff}', which is not under 'affiliations'",
                )
        orcid = _text(raw.get("orcid"))
        if orcid:
            orcid = orcid.removeprefix("https://orcid.org/")
            if not ORCID.match(orcid):
                reader.err(
                    lines.get(f"{where}.orcid"),
                    "metadata-orcid",
                    f"ORCID '{orcid}' of '{name}' is not of the form 0000-0000-0000-0000",
                )
        email = _text(raw.get("email"))
        if email and not EMAIL.match(email):
            reader.err(lines.get(f"{where}.email"), "metadata-email", f"e-mail '{email}' of '{name}' is not valid")
        authors.append(Author(name, [str(a) for a in affs], orcid, email, bool(raw.get("corresponding"))))
    if not authors:
        reader.err(lines.get("authors", 1), "metadata-no-authors", "the manuscript lists no authors")

    keywords = [str(k) for k in (data.get("keywords") or [])] if isinstance(data.get("keywords") or [], list) else []

    license_id = _text(data.get("license")) or ""
    license_ = LICENSES.get(license_id)
    if license_ is None:
        close = difflib.get_close_matches(license_id, sorted(LICENSES), n=1, cutoff=0.5)
        hint = f"did you mean '{close[0]}'?" if close else "known SPDX ids: " + ", ".join(sorted(LICENSES))
        reader.err(
            lines.get("license", 1),
            "metadata-license",
            f"unknown licence id '{license_id}'" if license_id else "no licence given",
            hint,
        )
        license_ = LICENSES["CC-BY-4.0"]

    copyright_raw = data.get("copyright") or {}
    if not isinstance(copyright_raw, dict):
        reader.err(lines.get("copyright"), "metadata-type", "'copyright' must have 'year' and 'holders'")
        copyright_raw = {}
    _unknown_fields(copyright_raw, "copyright", "copyright.", reader)
    year = copyright_raw.get("year")
    if not isinstance(year, int) or not 1900 <= year <= 2200:
        reader.err(
            lines.get("copyright.year", lines.get("copyright", 1)),
            "metadata-copyright-year",
            f"copyright year '{year}' is not a year",
            "e.g. 'year: 2025'",
        )
        year = 1970
    holders_raw = copyright_raw.get("holders", "authors")
    if holders_raw == "authors":
        holders = [a.name for a in authors]
    elif isinstance(holders_raw, list):
        holders = [str(h) for h in holders_raw]
    else:
        holders = [str(holders_raw)]

    journal_raw = data.get("journal") or {}
    if not isinstance(journal_raw, dict):
        reader.err(lines.get("journal"), "metadata-type", "'journal' must be a mapping")
        journal_raw = {}
    _unknown_fields(journal_raw, "journal", "journal.", reader)
    limits = journal_raw.get("limits") or {}
    if isinstance(limits, dict):
        _unknown_fields(limits, "journal.limits", "journal.limits.", reader)
        for key, value in limits.items():
            if not isinstance(value, int) or value < 0:
                reader.err(lines.get(f"journal.limits.{key}"), "metadata-type", f"limit '{key}' must be a whole number")
    else:
        limits = {}
    journal = JournalProfile(
        _text(journal_raw.get("name")),
        _text(journal_raw.get("csl")) or "apa",
        {k: v for k, v in limits.items() if isinstance(v, int)},
    )

    sections = data.get("sections")
    if not isinstance(sections, list) or not sections:
        reader.err(
            lines.get("sections", 1),
            "metadata-no-sections",
            "'sections' must list the section files in order",
            "e.g. sections: [01-introduction.md]",
        )
        sections = []
    bibliography = data.get("bibliography")
    if bibliography is None:
        bibliography = []
    elif isinstance(bibliography, str):
        bibliography = [bibliography]

    date = _text(data.get("date"))
    if date and not DATE.match(date):
        reader.err(lines.get("date"), "metadata-date", f"date '{date}' is not YYYY-MM-DD")

    declarations_raw = data.get("declarations") or {}
    declarations: dict[str, str] = {}
    if isinstance(declarations_raw, dict):
        _unknown_fields(declarations_raw, "declarations", "declarations.", reader)
        declarations = {k: str(v).strip() for k, v in declarations_raw.items() if _text(v)}

    return Metadata(
        path=path,
        title=title or "",
        short_title=_text(data.get("short_title")),
        slug=_text(data.get("slug")) or slugify(title or ""),
        lang=_text(data.get("lang")) or "en",
        article_type=_text(data.get("article_type")),
        authors=authors,
        affiliations=affiliations,
        keywords=keywords,
        license=license_,
        copyright_year=year,
        copyright_holders=holders,
        journal=journal,
        abstract_file=_text(data.get("abstract")),
        section_files=[str(s) for s in sections],
        bibliography_files=[str(b) for b in bibliography],
        date=date,
        declarations=declarations,
        allow_raw_html=bool(data.get("allow_raw_html", False)),
        lines=lines,
    )
