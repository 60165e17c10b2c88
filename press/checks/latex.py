"""Raw LaTeX that would vanish: pandoc keeps LaTeX it does not read as raw TeX, which every output here
(none is LaTeX) drops without a word. Each piece is a warning at its place, with the Markdown to write
instead where there is one (``\\cite{a,b}`` → ``[@a; @b]``). Display environments and ``\\ref`` to a
figure, table, section or equation are not raw by then: press.equations has made them what they are;
nor is what pandoc's LaTeX reader reads whole (``\\emph``, ``\\footnote``, siunitx: press.latex_text),
nor a block of macro definitions, which pandoc has applied.
"""

from __future__ import annotations

import re

from ..ast import elements
from ..model import Diagnostic, InOrder, Manuscript, Parsed, Section, warning
from ..tex import definitions_only

CITE = re.compile(
    r"^\\(?P<command>cite[tp]?|citeauthor|citeyear|parencite|textcite|autocite)\*?(?:\[[^\]]*\])*\{(?P<keys>[^{}]+)\}$"
)
REFERENCE = re.compile(r"^\\(?:ref|autoref|eqref|cref|Cref|pageref)\{(?P<id>[^{}]+)\}$")
LABEL = re.compile(r"^\\label\{(?P<id>[^{}]+)\}$")


def check_raw_latex(manuscript: Manuscript, parsed: Parsed) -> list[Diagnostic]:
    """A warning for each piece of raw LaTeX left in the parse, at its file, line and column."""
    sections: list[Section] = ([manuscript.abstract] if manuscript.abstract else []) + manuscript.sections
    found: list[Diagnostic] = []
    for section, blocks in zip(sections, parsed.groups, strict=True):
        places = InOrder(section.text)
        # A Cite made from \ref keeps its TeX as its content (press.equations): not left out, pruned.
        for element in elements(blocks, prune=frozenset({"Cite"})):
            if element["t"] not in ("RawInline", "RawBlock") or element["c"][0] not in ("tex", "latex"):
                continue
            raw = element["c"][1]
            if definitions_only(raw):
                continue  # pandoc has applied them: nothing of them was meant to be shown
            line, column = places.find(raw)
            shown = raw.strip() if len(raw.strip()) <= 40 else raw.strip()[:37] + "..."
            found.append(
                warning(
                    section.display,
                    line,
                    "raw-latex",
                    f"the LaTeX '{shown}' is left out of every output",
                    instead(raw.strip()),
                    column=column,
                )
            )
    return found


def instead(raw: str) -> str:
    """What to write in Markdown instead of ``raw``."""
    if match := CITE.match(raw):
        keys = [key.strip() for key in match.group("keys").split(",") if key.strip()]
        if match.group("command") in ("citet", "textcite"):
            return "write " + " and ".join(f"@{key}" for key in keys) + " (a citation in the text)"
        return "write [" + "; ".join(f"@{key}" for key in keys) + "] (pandoc's citation)"
    if match := REFERENCE.match(raw):
        return (
            f"write @{match.group('id')} for a cross-reference, and give its target an id that starts "
            "with fig:, tbl:, sec: or eq:"
        )
    if match := LABEL.match(raw):
        return (
            "give the figure, table or heading an id instead: ![Caption.](file){#fig:name}, "
            "': Caption. {#tbl:name}', '# Heading {#sec:name}'"
        )
    return "write it in Markdown (or as $...$ if it is mathematics)"
