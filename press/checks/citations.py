"""Citations and cross-references, checked on pandoc's parse: unresolved keys and targets, uncited entries."""

from __future__ import annotations

import difflib

from ..ast import elements
from ..equations import is_equation
from ..model import CitationUse, Diagnostic, Manuscript, Parsed, display_path, error, warning


def closest(key: str, candidates: list[str]) -> str | None:
    """A "did you mean ...?" hint naming up to three close candidates, or None."""
    matches = difflib.get_close_matches(key, candidates, n=3, cutoff=0.6)
    if not matches:
        return None
    return "did you mean " + " or ".join(f"'{m}'" for m in matches) + "?"


def _unresolved_hint(key: str, manuscript: Manuscript) -> str:
    where = display_path(manuscript.layout.bib_dir)
    if ":" in key:  # Manubot's doi:, pmid:, arxiv: keys
        return (
            f"keys are resolved offline, from the project's bibliographies only (nothing is fetched): add an entry "
            f"whose key (or CSL id) is '{key}' to a bibliography file in {where}"
        )
    return f"add an entry with this key to a bibliography file in {where}"


def citation_diagnostics(
    manuscript: Manuscript, citations: list[CitationUse], crossrefs: list[CitationUse], targets: set[str]
) -> list[Diagnostic]:
    """Errors for citation keys not in the bibliography and cross-references to ids that do not exist."""
    known = sorted(manuscript.bibliography)
    found = []
    for use in citations:
        if use.key not in manuscript.bibliography:
            found.append(
                error(
                    use.file,
                    use.line,
                    "unresolved-citation",
                    f"unresolved citation '{use.key}'",
                    closest(use.key, known) or _unresolved_hint(use.key, manuscript),
                    column=use.column,
                )
            )
    for use in crossrefs:
        if use.key not in targets:
            found.append(
                error(
                    use.file,
                    use.line,
                    "unresolved-crossref",
                    f"unresolved cross-reference '{use.key}'",
                    closest(use.key, sorted(targets)) or "give the table, figure or heading this id",
                    column=use.column,
                )
            )
    return found


def crossref_targets(blocks: list[dict]) -> set[str]:
    """Ids a cross-reference may point at: tables, figures, equations and headings, as press.document numbers them.

    Read-only on purpose: document.number_targets prefixes captions in place, and the build hands the
    same parse to the writers after the checks.
    """
    targets: set[str] = set()
    for element in elements(blocks):
        kind, content = element["t"], element.get("c")
        if kind in ("Table", "Figure") and content[0][0]:
            targets.add(content[0][0])
        elif is_equation(element) and content[0][0]:
            targets.add(content[0][0])
        elif kind == "Header" and content[1][0]:
            targets.add(content[1][0])
    return targets


def check_citations(manuscript: Manuscript, parsed: Parsed) -> list[Diagnostic]:
    """Unresolved citations and cross-references (errors) and bibliography entries never cited (warnings)."""
    body = parsed.groups[1:] if manuscript.abstract else parsed.groups
    targets = crossref_targets([block for group in body for block in group])
    found = citation_diagnostics(manuscript, parsed.citations, parsed.crossrefs, targets)
    cited = {use.key for use in parsed.citations}
    for key, entry in manuscript.bibliography.items():
        if key not in cited:
            found.append(
                warning(
                    entry.file,
                    entry.line,
                    "uncited-reference",
                    f"bibliography entry '{key}' is never cited",
                    f"cite it ([@{key}]) or remove it: citeproc leaves uncited entries out of the reference list",
                )
            )
    return found
