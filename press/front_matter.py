"""A paper kept as one Markdown file: its YAML front matter (pandoc's, Quarto's or JOSS's) read into
press's metadata, validated by the same schema as ``manuscript/metadata.yaml``.

What the front matter says in another schema's words is translated (``author``/``authors`` as names or
mappings, affiliations by id, name or JOSS's index strings ``"1, 2"``, ``tags``, ``date: 13 August
2017``, ``abstract:``, ``bibliography:``, ``csl:``, ``license: CC BY``); a Quarto project's
``_quarto.yml`` supplies defaults. A field press does not use is left out with a warning naming it;
a fact the front matter leaves out that every output states (licence, copyright year) gets a default
and a warning saying which.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .metadata import LICENSES, read_yaml, validate_once
from .model import Diagnostic, Metadata, PressError, display_path, environment_epoch, error, warning
from .project import Project, front_matter_text

# Our own fields, which mean the same in a front matter.
OWN_FIELDS = ("short_title", "slug", "article_type", "declarations", "journal", "check", "allow_raw_html")
# The front-matter fields read here, each with what it becomes (the rest are unknown: a warning each).
READ_FIELDS = {
    "title",
    "subtitle",
    "author",
    "authors",
    "affiliation",
    "affiliations",
    "date",
    "abstract",
    "keywords",
    "tags",
    "bibliography",
    "csl",
    "lang",
    "license",
    "copyright",
    "shorttitle",
    "running-title",
    *OWN_FIELDS,
}
AUTHOR_FIELDS = {"name", "affiliation", "affiliations", "affil", "orcid", "email", "corresponding", "attributes"}
QUARTO_DEFAULTS = ("bibliography", "csl", "author", "authors", "lang", "affiliations")
OURS = {"csl": "journal.csl", "author": "authors"}  # a front-matter field's name in press's metadata
DATE_FORMATS = ("%d %B %Y", "%d %b %Y", "%B %d, %Y", "%b %d, %Y", "%B %d %Y", "%d.%m.%Y", "%Y/%m/%d")
DATE_WORDS = {"today", "now", "last-modified"}  # Quarto's: the build's date rules give the date instead


@dataclass
class FrontMatter:
    metadata: Metadata
    abstract: tuple[str, int] | None  # the abstract's text and the line it starts on
    body_start: int  # lines the front matter block takes: the body starts after them
    warnings: list[Diagnostic] = field(default_factory=list)


def read_front_matter(project: Project, text: str, validated: Any = None) -> FrontMatter:
    """The metadata of the paper ``project.source`` whose text is ``text``; PressError with every problem."""
    shown = display_path(project.source)
    block = front_matter_text(text)
    if block is None:
        raise PressError(
            [
                error(
                    shown,
                    1,
                    "metadata-missing",
                    "the Markdown file opens with no YAML front matter",
                    "begin it with a block between two '---' lines: title:, author:, date:, bibliography:",
                )
            ]
        )
    yaml_text, block_lines = block
    data, lines, problems = read_yaml("\n" + yaml_text, shown, what="the front matter")  # line 1 is the fence
    defaults_text = ""
    config = project.source.parent / "_quarto.yml"
    supplied: list[str] = []  # the fields _quarto.yml gives
    if config.is_file():
        defaults_text = config.read_text(encoding="utf-8", errors="replace")
        defaults, defaults_lines, _ = read_yaml(defaults_text, display_path(config), what="_quarto.yml")
        for name in QUARTO_DEFAULTS:
            if name in defaults and name not in data and not (name.startswith("author") and _authors_given(data)):
                data[name] = defaults[name]
                supplied.append(name)
                lines.update(
                    {k: v for k, v in defaults_lines.items() if k == name or k.startswith((name + ".", name + "["))}
                )
    translation = _Translation(data, lines, shown, project)
    ours = translation.run()
    metadata = validate_once(
        ours, translation.ours_lines, shown, project.source, problems, yaml_text + "\0" + defaults_text, validated
    )
    metadata.field_files = {OURS.get(name, name): display_path(config) for name in supplied}
    return FrontMatter(metadata, translation.abstract, block_lines, translation.warnings)


def _authors_given(data: dict[str, Any]) -> bool:
    return "author" in data or "authors" in data


class _Translation:
    """One front matter in press's schema: ``run()`` gives the mapping, ``ours_lines`` its lines."""

    def __init__(self, data: dict[str, Any], lines: dict[str, int], shown: str, project: Project):
        self.data, self.lines, self.shown, self.project = data, lines, shown, project
        self.ours: dict[str, Any] = {}
        self.ours_lines: dict[str, int] = {}
        self.warnings: list[Diagnostic] = []
        self.abstract: tuple[str, int] | None = None
        self.affiliations: dict[str, str] = {}
        self.unknown_author_fields: set[str] = set()

    def put(self, ours: str, value: Any, theirs: str) -> None:
        self.ours[ours] = value
        if theirs in self.lines:
            self.ours_lines[ours] = self.lines[theirs]

    def line(self, theirs: str) -> int:
        return self.lines.get(theirs, 1)

    def run(self) -> dict[str, Any]:
        data = self.data
        for name in data:
            if name not in READ_FIELDS:
                self.warnings.append(
                    warning(
                        self.shown,
                        self.line(name),
                        "front-matter-unknown-field",
                        f"front-matter field '{name}' is not used by press, and left out",
                        _unknown_hint(name),
                    )
                )
        for name in OWN_FIELDS:
            if name in data:
                self.put(name, data[name], name)
                self._copy_lines(name, name)
        for theirs in ("shorttitle", "running-title"):
            if theirs in data and "short_title" not in data:
                self.put("short_title", data[theirs], theirs)
        self._title()
        self._affiliations()
        self._authors()
        self._date_and_copyright()
        self._licence()
        keywords = [*_words(data.get("keywords")), *_words(data.get("tags"))]
        if keywords:
            self.put("keywords", list(dict.fromkeys(keywords)), "keywords" if "keywords" in data else "tags")
        if data.get("bibliography") is not None:
            self.put("bibliography", data["bibliography"], "bibliography")
            self._copy_lines("bibliography", "bibliography")
        if data.get("csl") is not None:
            journal = dict(self.ours.get("journal") or {}) if isinstance(self.ours.get("journal"), dict) else {}
            journal.setdefault("csl", data["csl"])
            self.ours["journal"] = journal
            self.ours_lines["journal.csl"] = self.line("csl")
        if data.get("lang") is not None:
            self.put("lang", data["lang"], "lang")
        abstract = data.get("abstract")
        if isinstance(abstract, str) and abstract.strip():
            start = self.line("abstract")
            self.abstract = (abstract, start)
        elif abstract is not None and not isinstance(abstract, str):
            self.warnings.append(
                warning(
                    self.shown, self.line("abstract"), "front-matter-unknown-field", "abstract is not text: left out"
                )
            )
        self.put("sections", [self.project.source.name], "")
        return self.ours

    def _copy_lines(self, theirs: str, ours: str) -> None:
        for key, line in self.lines.items():
            if key == theirs or key.startswith((theirs + ".", theirs + "[")):
                self.ours_lines[ours + key[len(theirs) :]] = line

    def _title(self) -> None:
        if "title" in self.data:
            self.put("title", self.data["title"], "title")
        if "subtitle" in self.data:
            self.put("subtitle", self.data["subtitle"], "subtitle")

    def _affiliations(self) -> None:
        raw = self.data.get("affiliations", self.data.get("affiliation"))
        where = "affiliations" if "affiliations" in self.data else "affiliation"
        if isinstance(raw, dict):  # press's own: id -> text
            for key, value in raw.items():
                self.affiliations[str(key)] = str(value)
                self.ours_lines[f"affiliations.{key}"] = self.line(f"{where}.{key}")
        elif isinstance(raw, list):
            for index, item in enumerate(raw):
                ident, text = _affiliation(item, f"a{index + 1}")
                if text:
                    self.affiliations[ident] = text
                    self.ours_lines[f"affiliations.{ident}"] = self.line(f"{where}[{index}]")
        if where in self.lines:
            self.ours_lines["affiliations"] = self.lines[where]

    def _authors(self) -> None:
        theirs = "authors" if "authors" in self.data else "author"
        raw = self.data.get(theirs)
        if raw is None:
            if self.affiliations:
                self.ours["affiliations"] = self.affiliations
            return
        people = raw if isinstance(raw, list) else [raw]
        authors: list[Any] = []
        for index, person in enumerate(people):
            here = f"{theirs}[{index}]" if isinstance(raw, list) else theirs
            authors.append(self._author(person, here, f"authors[{len(authors)}]"))
        self.put("authors", authors, theirs)
        self.ours["affiliations"] = self.affiliations
        for name in sorted(self.unknown_author_fields):
            line = next((v for k, v in self.lines.items() if k.startswith(theirs) and k.endswith("." + name)), None)
            self.warnings.append(
                warning(
                    self.shown,
                    line or self.line(theirs),
                    "front-matter-unknown-field",
                    f"author field '{name}' is not used by press, and left out",
                    "press keeps each author's name, orcid, email, affiliations and corresponding",
                )
            )

    def _author(self, person: Any, theirs: str, ours: str) -> Any:
        self.ours_lines[ours] = self.line(theirs)
        if not isinstance(person, dict):
            return person  # a name, or what the schema reports as no name
        author: dict[str, Any] = {}
        name = person.get("name")
        if isinstance(name, dict):  # Quarto/CSL: {given, family} or {literal}
            name = name.get("literal") or " ".join(str(name[k]) for k in ("given", "family") if name.get(k))
        if name is not None:
            author["name"] = name
            self.ours_lines[f"{ours}.name"] = self.line(f"{theirs}.name")
        for key in ("orcid", "email"):
            if person.get(key) is not None:
                author[key] = person[key]
                self.ours_lines[f"{ours}.{key}"] = self.line(f"{theirs}.{key}")
        attributes = person.get("attributes") if isinstance(person.get("attributes"), dict) else {}
        corresponding = person.get("corresponding", attributes.get("corresponding"))
        if corresponding is not None:
            author["corresponding"] = corresponding
            self.ours_lines[f"{ours}.corresponding"] = self.line(f"{theirs}.corresponding")
        key = next((k for k in ("affiliations", "affiliation", "affil") if k in person), None)
        if key is not None:
            author["affiliations"] = [self._affiliation_id(item) for item in _references(person[key])]
            self.ours_lines[f"{ours}.affiliations"] = self.line(f"{theirs}.{key}")
        self.unknown_author_fields |= set(map(str, person)) - AUTHOR_FIELDS
        return author

    def _affiliation_id(self, item: Any) -> str:
        """An author's affiliation, by id, JOSS index, name, or mapping: its id (a new one for a new name)."""
        if isinstance(item, dict):
            if "ref" in item:
                return str(item["ref"])
            ident, text = _affiliation(item, "")
            if ident and ident in self.affiliations:
                return ident
            item = text
        text = str(item).strip()
        if text in self.affiliations:
            return text
        same = next((k for k, v in self.affiliations.items() if v == text), None)
        if same is not None:
            return same
        if text.isdigit() or not text:
            return text  # an index with no affiliation: the schema's check names it
        ident = f"a{len(self.affiliations) + 1}"
        while ident in self.affiliations:
            ident += "'"
        self.affiliations[ident] = text
        return ident

    def _date_and_copyright(self) -> None:
        raw = self.data.get("date")
        year = None
        if raw is not None and str(raw).strip().lower() not in DATE_WORDS:
            date = _date(str(raw))
            if date is not None:
                self.put("date", date.isoformat(), "date")
                year = date.year
            elif re.fullmatch(r"\d{4}", str(raw).strip()):
                year = int(str(raw).strip())
            else:
                self.warnings.append(
                    warning(
                        self.shown,
                        self.line("date"),
                        "front-matter-date",
                        f"date '{raw}' is not a date press can read, and left out",
                        "write it as 2025-03-14 or 14 March 2025",
                    )
                )
        copyright_ = self.data.get("copyright")
        if isinstance(copyright_, dict):
            ours = {k: v for k, v in copyright_.items() if k in ("year", "holders")}
            if "holder" in copyright_ and "holders" not in ours:
                ours["holders"] = copyright_["holder"]
            self.put("copyright", ours, "copyright")
            self._copy_lines("copyright", "copyright")
            if "year" in ours:
                return
        else:
            self.ours["copyright"] = {}
        if year is None:
            epoch = environment_epoch()
            year = dt.datetime.fromtimestamp(epoch, dt.UTC).year if epoch is not None else dt.date.today().year
            self.warnings.append(
                warning(
                    self.shown,
                    1,
                    "front-matter-default",
                    f"the front matter has no date: the copyright year is {year}, this year's",
                    "add date: 2025-03-14 (or copyright: {year: 2025}) so that every build says the same",
                )
            )
        self.ours["copyright"]["year"] = year

    def _licence(self) -> None:
        raw = self.data.get("license")
        if raw is None:
            self.ours["license"] = "CC-BY-4.0"
            self.warnings.append(
                warning(
                    self.shown,
                    1,
                    "front-matter-default",
                    "the front matter names no licence: the outputs say CC BY 4.0",
                    "add license: CC-BY-4.0 (or CC-BY-SA-4.0, CC-BY-NC-4.0, CC-BY-NC-ND-4.0)",
                )
            )
            return
        self.put("license", licence_id(raw), "license")


def _squashed(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


# Every way of naming a licence seen in front matters, squashed: "CC BY", "cc-by-4.0", its address, its name.
LICENCE_NAMES = {
    alias: spdx
    for spdx, licence in LICENSES.items()
    for alias in (
        _squashed(spdx),
        _squashed(spdx).removesuffix("40"),
        _squashed(licence.name),
        _squashed(licence.name).removesuffix("license"),
        _squashed(licence.url),
        _squashed(licence.url.removeprefix("https://")),
    )
}


def licence_id(raw: Any) -> Any:
    """The SPDX id of a licence named as Quarto and pandoc users do ("CC BY", "CC BY 4.0", an address);
    what it cannot name goes to the schema as it is, which reports it."""
    if isinstance(raw, dict):
        raw = raw.get("type") or raw.get("url") or raw.get("text") or ""
    return LICENCE_NAMES.get(_squashed(str(raw)), str(raw))


def _affiliation(item: Any, fallback: str) -> tuple[str, str]:
    """(id, text) of one entry of a front matter's affiliations list (JOSS's, Quarto's, or a name)."""
    if not isinstance(item, dict):
        return fallback, str(item).strip()
    ident = item.get("index", item.get("id", fallback))
    parts = [item.get(k) for k in ("department", "name", "address", "city", "region", "state", "country")]
    text = ", ".join(str(p).strip() for p in parts if p not in (None, ""))
    return str(ident), text


def _references(value: Any) -> list[Any]:
    """An author's affiliations as a list: JOSS writes ``affiliation: "1, 2"``, Quarto a list."""
    if isinstance(value, list):
        return value
    if isinstance(value, str) and "," in value and all(p.strip().isdigit() for p in value.split(",")):
        return [p.strip() for p in value.split(",")]
    return [value]


def _words(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [w.strip() for w in value.split(",") if w.strip()]
    if isinstance(value, list):
        return [str(w).strip() for w in value if str(w).strip()]
    return [str(value)]


def _date(text: str) -> dt.date | None:
    text = re.sub(r"(\d)(st|nd|rd|th)\b", r"\1", text.strip())
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        pass
    for fmt in DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def _unknown_hint(name: str) -> str | None:
    if name in ("format", "execute", "jupyter", "engine", "knitr", "output", "editor", "crossref", "filters"):
        return "a setting of Quarto or R Markdown; press's outputs are set by its templates"
    if name in ("header-includes", "geometry", "fontsize", "documentclass", "classoption", "mainfont"):
        return "a LaTeX setting; the PDF is laid out by press's print template"
    if name.startswith("aas-"):
        return None  # JOSS's AAS fields: the name says what they are
    return "press keeps title, author(s), affiliations, date, abstract, keywords, bibliography, csl, lang, license"


def body_text(text: str, block_lines: int) -> str:
    """The text after the front matter, with the block's lines left blank so every line keeps its number."""
    lines = text.splitlines(keepends=True)
    return "\n" * block_lines + "".join(lines[block_lines:])


def abstract_text(abstract: str, line: int) -> str:
    """The abstract, after blank lines that put its first line on the line it has in the file."""
    return "\n" * line + abstract


def quarto_variables(folder: Path) -> dict[str, Any]:
    path = folder / "_variables.yml"
    if not path.is_file():
        return {}
    data, _, _ = read_yaml(path.read_text(encoding="utf-8", errors="replace"), display_path(path), "_variables.yml")
    return data
