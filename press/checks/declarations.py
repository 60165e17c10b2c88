"""Declarations a journal asks for on the title page: each one missing from the metadata is a warning.

A missing declaration is never filled in: the title page prints "Not provided" and this check
tells the authors which ones to write.
"""

from __future__ import annotations

from ..load import display_path
from ..model import Diagnostic, Manuscript, warning

# metadata key -> heading on the title page, in the order journals list them.
DECLARATIONS: tuple[tuple[str, str], ...] = (
    ("funding", "Funding"),
    ("conflicts_of_interest", "Conflicts of interest"),
    ("ethics", "Ethics approval"),
    ("author_contributions", "Author contributions"),
    ("data_availability", "Data availability"),
    ("acknowledgements", "Acknowledgements"),
)


REQUIRED_CODE = "declaration-required"  # an error for `submission` (press.submission)


def check_declarations(manuscript: Manuscript) -> list[Diagnostic]:
    """A warning naming the missing declarations, and one for a missing corresponding author or e-mail."""
    metadata = manuscript.metadata
    shown = display_path(metadata.path)
    found: list[Diagnostic] = []
    missing = [key for key, _label in DECLARATIONS if not metadata.declarations.get(key)]
    required = [key for key in metadata.journal.required_declarations if key in missing]
    for key in required:
        found.append(
            warning(
                shown,
                metadata.line_of("declarations") or metadata.line_of("title"),
                REQUIRED_CODE,
                f"the journal profile '{metadata.journal.profile}' requires the declaration '{key}', "
                "which the metadata lacks: `submission` stops here",
                f"add '{key}: ...' under 'declarations:' in the metadata",
            )
        )
    missing = [key for key in missing if key not in required]
    if missing:
        # One warning for all of them: eight near-identical lines on every build would bury the rest.
        found.append(
            warning(
                shown,
                metadata.line_of("declarations") or metadata.line_of("title"),
                "declaration-missing",
                "no declaration of "
                + ", ".join(f"'{key}'" for key in missing)
                + ": the title page will say 'Not provided'",
                "add them under 'declarations:' in the metadata; where there is nothing to declare, "
                "say so in a sentence (e.g. 'None.')",
            )
        )
    corresponding = [a for a in metadata.authors if a.corresponding]
    if not corresponding:
        found.append(
            warning(
                shown,
                metadata.line_of("authors"),
                "corresponding-author-missing",
                "no author is marked as corresponding author",
                "add 'corresponding: true' and an 'email:' to one author",
            )
        )
    for index, author in enumerate(metadata.authors):
        if author.corresponding and not author.email:
            found.append(
                warning(
                    shown,
                    metadata.line_of(f"authors[{index}]"),
                    "corresponding-email-missing",
                    f"corresponding author '{author.name}' has no e-mail address",
                    "add 'email:' to this author",
                )
            )
    kinds = metadata.journal.article_types
    if kinds and metadata.article_type and metadata.article_type not in kinds:
        found.append(
            warning(
                shown,
                metadata.line_of("article_type"),
                "article-type-unknown",
                f"article type '{metadata.article_type}' is not one the journal profile "
                f"'{metadata.journal.profile}' lists",
                "one of: " + ", ".join(kinds),
            )
        )
    return found
