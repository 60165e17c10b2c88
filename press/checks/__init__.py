"""Checks over the loaded manuscript: each family in its own module, all returning Diagnostics.

``run_checks`` is what both ``build`` (before writing anything) and ``check`` call, so the two can never
disagree. Checks that need the text's structure (citations, cross-references, images, counts) take the
one pandoc parse of press.document; without it only the checks of the loaded model run.
"""

from __future__ import annotations

from ..model import Diagnostic, Manuscript, Parsed
from . import bibliography, citations, counts, declarations, figures, latex
from . import manuscript as manuscript_files


def run_checks(
    manuscript: Manuscript, parsed: Parsed | None = None, measured: list[counts.Count] | None = None
) -> list[Diagnostic]:
    """Every check, sorted by file and position; loading's own warnings included.

    ``measured``: the counts of ``parsed``, when the caller has them already.
    """
    found = list(manuscript.load_diagnostics)
    found += bibliography.check_bibliography(manuscript)
    found += manuscript_files.check_unlisted_files(manuscript)
    found += declarations.check_declarations(manuscript)
    if parsed is not None:
        found += citations.check_citations(manuscript, parsed)
        found += manuscript_files.check_images(manuscript, parsed)
        found += figures.check_figures(manuscript, parsed)
        found += latex.check_raw_latex(manuscript, parsed)
        found += manuscript_files.check_raw_html(manuscript, parsed)
        found += counts.check_limits(
            manuscript, measured if measured is not None else counts.measure(manuscript, parsed)
        )
    return sort_diagnostics(found)


def sort_diagnostics(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    """In file order, then line and column, so a reader (or an editor) can walk through them."""
    return sorted(diagnostics, key=lambda d: (d.file, d.line or 0, d.column or 0))
