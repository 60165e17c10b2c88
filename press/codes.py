"""Every diagnostic code, its default severity, and whether a manuscript may change it.

An error by default is only what makes an output wrong or unsafe (a citation that resolves to
nothing, a file that is missing or outside the project, unsafe raw HTML, bad TeX, a broken
bibliography file); such an error stays an error whatever the metadata says. Everything else (odd or
incomplete bibliographic data, limits, style) is a warning that a manuscript may raise to an error or
ignore, per code, under ``check:`` in its metadata, in the spirit of Ruff's ``select``/``ignore``:

    check:
      error: [bib-no-doi]          # this journal insists on DOIs
      ignore: [uncited-reference]  # a reading list on purpose

Standard library only: the CLI's help and the settings' check import this.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .model import Diagnostic


@dataclass(frozen=True)
class Code:
    severity: str  # the default: "error" or "warning"
    fixed: bool  # True: an output would be wrong or unsafe; no setting makes it less than an error
    summary: str


def _error(summary: str) -> Code:
    return Code("error", True, summary)


def _warning(summary: str) -> Code:
    return Code("warning", False, summary)


CODES: dict[str, Code] = {
    # The bibliography: broken files and keys are errors; incomplete or odd data are warnings.
    "bib-syntax": _error("BibTeX syntax error"),
    "bib-error": _error("a BibTeX entry pybtex cannot read"),
    "bib-duplicate-key": _error("two entries with the same key"),
    "bib-missing": _error("a bibliography file that does not exist"),
    "bib-no-entries": _error("a bibliography file with no entries in it"),
    "bib-control-character": _error("a control character in a bibliography file"),
    "bib-empty": _warning("an empty bibliography file"),
    "bib-required-field": _warning("an entry without a field its type needs (a journal, a title, a year)"),
    "bib-article-details": _warning("an article without volume, issue or pages"),
    "bib-year": _warning("a year that is a range, a word or implausible"),
    "bib-no-doi": _warning("an entry without a DOI"),
    "bib-doi-syntax": _warning("a DOI that is not of the form 10.NNNN/..."),
    "bib-doi-lookalike": _warning("a DOI with a look-alike character (a dash or a space)"),
    "bib-doi-prefix": _warning("a DOI written as an address or with 'doi:'"),
    "bib-duplicate-doi": Code("error", False, "two entries with the same DOI: the reference list shows the work twice"),
    "bib-page-range": _warning("a page range with a single hyphen"),
    "bib-truncated-authors": _warning("an author list cut short with 'others' or 'et al.'"),
    "bib-title-caps": _warning("a title in capitals"),
    # Citations and cross-references.
    "unresolved-citation": _error("a citation of a key no bibliography has"),
    "unresolved-crossref": _error("a cross-reference to an id nothing has"),
    "uncited-reference": _warning("a bibliography entry the text never cites"),
    "citeproc": _error("citeproc failed"),
    "pandoc": _error("pandoc failed"),
    # Files of the manuscript.
    "section-missing": _error("a section file the metadata names that does not exist"),
    "section-unlisted": _warning("a Markdown file in manuscript/ that no section names"),
    "manuscript-empty": _error("a manuscript with no sections"),
    "path-outside-project": _error("a section that links to a file outside the project"),
    "encoding": _error("a file that is not UTF-8"),
    "nul-byte": _error("a NUL byte in a text file"),
    "control-character": _error("a control character in a section"),
    "raw-html-unsafe": _error("raw HTML that would run code in the reader's browser"),
    "raw-latex": _warning("raw LaTeX that no output but LaTeX would show"),
    "quarto-shortcode": _error("a Quarto shortcode that only Quarto expands"),
    "quarto-code-chunk": _warning("an executable code chunk, shown as code and not run"),
    # Figures and images.
    "image-missing": _error("an image file that does not exist"),
    "image-outside-project": _error("an image outside the project"),
    "image-remote": _error("an image on the network"),
    "image-file-url": _error("an image given as a file: address"),
    "image-unsupported": _error("an image of a kind no format can show"),
    "image-unreadable": _error("an image file that cannot be read"),
    "image-no-alt": _warning("an image without alternative text"),
    "figure-duplicate-id": _error("two figures with the same id"),
    "figure-tool-missing": _error("a figure that needs a conversion tool that is not installed"),
    "figure-conversion": _error("a figure that could not be converted"),
    "figure-unreferenced": _warning("a figure the text never refers to"),
    "figure-no-caption": _warning("a figure without a caption"),
    "figure-low-resolution": _warning("a raster figure too coarse for print"),
    "figure-large-file": _warning("a figure file larger than submission systems like"),
    # Equations.
    "math-syntax": _error("TeX the math renderer cannot typeset"),
    "math-unavailable": _error("equations, and no math renderer installed"),
    "math-too-wide": _warning("an equation the PDF sets smaller than its size, to fit its line or cell"),
    "math-not-converted": _warning(
        "an equation pandoc cannot write as a faithful Word equation: the DOCX shows its TeX"
    ),
    # The metadata (and a paper's front matter).
    "metadata-missing": _error("no metadata file"),
    "metadata-not-mapping": _error("metadata that is not a mapping of fields"),
    "yaml-syntax": _error("a YAML syntax error"),
    "metadata-type": _error("a metadata field of the wrong type"),
    "metadata-missing-field": _error("a required metadata field left out"),
    "metadata-missing-title": _error("no title"),
    "metadata-no-authors": _error("no authors"),
    "metadata-no-sections": _error("no sections"),
    "metadata-author-name": _error("an author without a name"),
    "metadata-orcid": _error("an ORCID iD of the wrong form"),
    "metadata-email": _error("an e-mail address of the wrong form"),
    "metadata-date": _error("a date of the wrong form"),
    "metadata-license": _error("an unknown licence"),
    "metadata-copyright-year": _error("a missing or implausible copyright year"),
    "metadata-unknown-field": _error("a field the metadata schema does not know"),
    "metadata-unknown-affiliation": _error("an author's affiliation id that is not under affiliations"),
    "metadata-duplicate-field": _error("a metadata field given twice"),
    "metadata-control-character": _error("a control character in a metadata field"),
    "metadata-csl": _error("an unknown CSL style"),
    "metadata-csl-renamed": _warning("a CSL style by its old id"),
    "title-math": _warning("TeX math in the title, which is plain text in every output"),
    "metadata-check-code": _warning("an unknown code under check:"),
    "metadata-check-fixed": _warning("an error under check: that cannot be made less than an error"),
    "front-matter-unknown-field": _warning("a front-matter field press does not use"),
    "front-matter-default": _warning("a fact the front matter leaves out, and the default used"),
    "front-matter-date": _warning("a front-matter date that is not a date"),
    "declaration-missing": _warning("a declaration the journal asks for left out"),
    "declaration-required": _warning("a declaration the journal profile requires left out (an error for submission)"),
    "article-type-unknown": _warning("an article type the journal profile does not list"),
    # Journal profiles (press.profiles; their fields' own errors are the metadata's codes).
    "metadata-profile": _error("an unknown journal profile"),
    "profile-unreadable": _error("a journal profile file that cannot be read"),
    "profile-missing-description": _error("a journal profile without its one-line description"),
    "corresponding-author-missing": _warning("no corresponding author"),
    "corresponding-email-missing": _warning("a corresponding author without an e-mail address"),
    # Templates, outputs and the tools (never the manuscript's fault alone, so never adjustable).
    "template-missing": _error("a template file that does not exist"),
    "template-syntax": _error("a template with a Jinja syntax error"),
    "template-undefined": _error("a template that uses an undefined name"),
    "resource-refused": _error("a file the PDF may not load"),
    "jats-references": _error("references the JATS writer cannot match"),
    "output-not-folder": _error("--out names something that is not a folder"),
    "output-unwritable": _error("an output folder that cannot be written"),
    "new-folder": _error("`new` given no folder, or more than one"),
    "new-not-folder": _error("`new` given a path that is a file"),
    "new-title": _error("`new --title` empty or with a line break"),
    "new-file-exists": _error("a file `new` would write, or one in its way, is already there"),
    "new-unwritable": _error("a file `new` cannot write"),
    "build": _error("the preview's build failed"),
    # The revision round (diff).
    "diff-usage": _error("diff given no revision, or both a revision and --against"),
    "not-a-repository": _error("diff REV outside a git repository, or without git"),
    "unknown-revision": _error("a revision git does not know"),
    "manuscript-absent": _error("no manuscript at the revision or in the --against folder"),
    "internal-error": _error("a bug of press"),
}
# Codes made from a name: the journal limit of each count ("over-limit-main_words").
PREFIXES: dict[str, Code] = {"over-limit-": _warning("a count over the journal's limit")}
LEVELS = ("error", "warning", "ignore")


def lookup(code: str) -> Code | None:
    if code in CODES:
        return CODES[code]
    return next((info for prefix, info in PREFIXES.items() if code.startswith(prefix)), None)


def suggestion(code: str) -> str | None:
    """The known code nearest to ``code``, for a did-you-mean."""
    close = difflib.get_close_matches(code, list(CODES), n=1, cutoff=0.6)
    return close[0] if close else None


def adjust(diagnostics: list[Diagnostic], levels: dict[str, str]) -> list[Diagnostic]:
    """The diagnostics at the severities ``levels`` (code → error, warning or ignore) sets; a fixed error stays one."""
    result = []
    for diagnostic in diagnostics:
        info = lookup(diagnostic.code)
        level = levels.get(diagnostic.code, diagnostic.severity)
        if info is not None and info.fixed and diagnostic.severity == "error":
            level = "error"
        if level == "ignore":
            continue
        result.append(diagnostic if level == diagnostic.severity else replace(diagnostic, severity=level))
    return result
