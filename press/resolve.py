"""Resolve once, for every command: load, parse, check, then number, cross-reference and cite.

``build``, ``submission``, ``serve`` (through the build) and ``check`` all start from ``resolve``, so
they can never disagree about a diagnostic, a count or a citation. ``check`` stops after the checks;
the others go on to the resolved Document that every writer starts from.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from . import pandoc
from .checks import run_checks, sort_diagnostics
from .checks.counts import Count, measure
from .checks.equations import Expression, check_equations, equations_in
from .codes import adjust
from .document import Document, build_document, parse
from .kept import Kept
from .load import load
from .model import Diagnostic, Manuscript, Parsed, PressError
from .project import Project


@dataclass
class Resolved:
    """The manuscript as every command sees it."""

    manuscript: Manuscript
    parsed: Parsed  # the one pandoc parse (checks read it; resolving the document fills it in)
    diagnostics: list[Diagnostic]  # every check's findings, sorted, loading's warnings included
    counts: list[Count]  # what the journal limits, as the checks measured it
    document: Document | None = None  # None when only the checks were asked for
    expressions: list[Expression] = field(default_factory=list)  # every equation, where it is (checked)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]

    def release(self) -> None:
        """Let go of the parse and the document, once every writer that needs them is done."""
        self.parsed = self.document = None  # type: ignore[assignment]


def resolve(
    root: Path | Project,
    *,
    document: bool = True,
    kept: Kept | None = None,
    prefetched: pandoc.Prefetch | None = None,
    loaded: Callable[[Manuscript], None] | None = None,
    while_citeproc: Callable[[pandoc.Ast], None] | None = None,
    parsed_hook: Callable[[Parsed], None] | None = None,
    document_hook: Callable[[Document], None] | None = None,
) -> Resolved:
    """The manuscript at ``root``, checked and (with ``document``) resolved.

    Raises PressError when the project cannot be loaded, and, when a document is asked for, when
    any check finds an error: nothing is resolved from a manuscript that has errors. Without
    ``document`` the checks' errors are returned, not raised.

    ``kept``: work an earlier build kept (press.kept). ``prefetched``: the pandoc pass started
    before loading (used when its input is what was loaded). ``loaded`` is called with the
    manuscript as soon as it is loaded (work that needs only the metadata starts there),
    ``parsed_hook`` with the parse, ``while_citeproc`` with the article before its citations are
    filled in, while citeproc runs, and ``document_hook`` with the document as soon as it is resolved,
    while its equations may still be being typeset (if one is wrong, PressError follows all the same).
    """
    manuscript = load(root, kept)
    if loaded is not None:
        loaded(manuscript)
    parsed = parse(manuscript, prefetched=prefetched)
    if parsed_hook is not None:
        parsed_hook(parsed)
    counts = measure(manuscript, parsed)
    # Typesetting every equation is the one slow check: it runs beside the others and citeproc (node
    # does the work; this process mostly waits), and the build writes nothing before it is done.
    expressions = equations_in(manuscript, parsed) if parsed.has_math else []
    math_check = _beside(check_equations, expressions, kept["math"] if kept is not None else None)
    levels = manuscript.metadata.check_levels  # the manuscript's own severities (press.codes)
    diagnostics = adjust(run_checks(manuscript, parsed, counts), levels)
    resolved = Resolved(manuscript, parsed, diagnostics, counts, expressions=expressions)
    if not document or resolved.errors:
        resolved.diagnostics = sort_diagnostics(diagnostics + adjust(math_check.result(), levels))
        if document:
            raise PressError(resolved.diagnostics)
        return resolved
    resolved.document = build_document(manuscript, parsed, kept, while_citeproc)
    if document_hook is not None:
        document_hook(resolved.document)
    # A warning of the equations' (math-not-converted) is said, as the other checks' are; an error stops.
    resolved.diagnostics = sort_diagnostics(diagnostics + adjust(math_check.result(), levels))
    if resolved.errors:
        raise PressError(resolved.diagnostics)
    return resolved


def _beside(function: Callable[..., list[Diagnostic]], expressions: list, *args: object) -> Future:
    """``function(expressions, *args)`` in a thread of its own, or done now when there is nothing to typeset."""
    if not expressions:
        done: Future = Future()
        done.set_result([])
        return done
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="press-math")
    future = executor.submit(function, expressions, *args)
    executor.shutdown(wait=False)
    return future
