"""Checks over the loaded manuscript: each family in its own module, all returning Diagnostics."""

from __future__ import annotations

from ..model import Diagnostic, Manuscript


def run_checks(manuscript: Manuscript) -> list[Diagnostic]:
    """Every check that needs only the loaded model (citations are checked on pandoc's parse)."""
    return list(manuscript.warnings)
