"""Word, reference, figure and table counts against the journal's limits (``journal.limits`` in the metadata).

Words are counted on pandoc's parse, the way pandoc's own word-count filter does: every ``Str`` with a
letter or digit is a word. The main text is every section after the abstract, headings and footnotes
included; tables, figures (with their captions), code blocks, raw blocks, maths and citations are not
words of the text. The reference count is the number of entries cited, which is what the list shows.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from ..ast import elements
from ..load import display_path
from ..model import Diagnostic, Manuscript, Parsed, warning

NOT_WORDS = frozenset({"Table", "Figure", "CodeBlock", "RawBlock", "RawInline", "Math", "Cite", "Image"})
# metadata key under journal.limits -> what is counted, as the table labels it.
LABELS = {
    "abstract_words": "abstract words",
    "main_words": "main text words",
    "references": "references",
    "figures": "figures",
    "tables": "tables",
    "equations": "equations",  # no journal limits them: counted for the table
}


@dataclass(frozen=True)
class Count:
    name: str  # the key under journal.limits
    label: str
    value: int
    limit: int | None

    @property
    def over(self) -> int:
        """How far over the limit (0 when within it or when there is no limit)."""
        return max(0, self.value - self.limit) if self.limit is not None else 0

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "over": self.over}


def tally(node: Any) -> dict[str, int]:
    """Words, figures, tables and equations under ``node``, in one walk (a large manuscript makes walks costly).

    Equations are the Math outside tables and figures, inline and display; they are not words.
    """
    words = figures = tables = equations = 0
    for element in elements(node, prune=NOT_WORDS):
        kind = element["t"]
        if kind == "Str":
            words += any(char.isalnum() for char in element["c"])
        elif kind == "Code":
            words += len(element["c"][1].split())
        elif kind == "Figure":
            figures += 1
        elif kind == "Table":
            tables += 1
        elif kind == "Math":
            equations += 1
    return {"words": words, "figures": figures, "tables": tables, "equations": equations}


def count_words(node: Any) -> int:
    return tally(node)["words"]


def measure(manuscript: Manuscript, parsed: Parsed) -> list[Count]:
    """The counts a journal limits, each with its limit from the metadata (None when it sets none)."""
    abstract = parsed.groups[0] if manuscript.abstract else []
    body = parsed.groups[1:] if manuscript.abstract else parsed.groups
    cited = {use.key for use in parsed.citations if use.key in manuscript.bibliography}
    main = tally(body)
    values = {
        "abstract_words": count_words(abstract),
        "main_words": main["words"],
        "references": len(cited),
        "figures": main["figures"],
        "tables": main["tables"],
        "equations": main["equations"],
    }
    limits = manuscript.metadata.journal.limits
    return [Count(name, LABELS[name], value, limits.get(name)) for name, value in values.items()]


def check_limits(manuscript: Manuscript, counts: list[Count]) -> list[Diagnostic]:
    """A warning for each count over the journal's limit, at the limit's line in the metadata."""
    metadata = manuscript.metadata
    found: list[Diagnostic] = []
    for count in counts:
        if not count.over:
            continue
        if count.name == "abstract_words" and manuscript.abstract:
            where, line = manuscript.abstract.display, 1
        elif f"limits.{count.name}" in metadata.journal.profile_lines:  # the journal profile sets this limit
            where = display_path(metadata.journal.profile_path)
            line = metadata.journal.profile_lines[f"limits.{count.name}"]
        else:
            where, line = display_path(metadata.path), metadata.line_of(f"journal.limits.{count.name}")
        found.append(
            warning(
                where,
                line,
                f"over-limit-{count.name.replace('_', '-')}",
                f"{count.label}: {count.value}, {count.over} over the journal's limit of {count.limit}",
                f"shorten, or check journal.limits.{count.name} in {display_path(metadata.path)}",
            )
        )
    return found


def format_table(counts: list[Count]) -> str:
    """The counts as a small aligned table, one row per count."""
    rows = [("", "count", "limit", "")]
    for count in counts:
        limit = str(count.limit) if count.limit is not None else "-"
        status = f"over by {count.over}" if count.over else ("ok" if count.limit is not None else "no limit")
        rows.append((count.label, str(count.value), limit, status))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = [
        f"{label:<{widths[0]}}  {value:>{widths[1]}}  {limit:>{widths[2]}}  {status}".rstrip()
        for label, value, limit, status in rows
    ]
    return "\n".join(lines)
