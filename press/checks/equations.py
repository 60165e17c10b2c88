"""Equations, checked by the renderer that typesets them (press.math): bad TeX is an error at its file,
line and column, with MathJax's own message, and never reaches an output as raw ``$...$``.

Typesetting is slow beside the other checks, so ``equations_in`` gathers the expressions from the parse
at once and ``check_equations`` may run beside the rest of the build; an expression found good before
(press.kept, "math") is not typeset again.

The web page, the JATS and the DOCX get their MathML and Word equations from pandoc's own TeX reader
(texmath), which knows fewer commands than MathJax (``\\textcolor``, ``\\cfrac``, ``\\fbox``, ...); for
those they are written from MathJax's MathML instead (press.mathml). Only an equation pandoc can read
neither way is a warning at its place, ``math-not-converted``: the DOCX shows its TeX.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .. import mathml
from ..ast import elements
from ..model import Diagnostic, InOrder, Manuscript, Parsed, Section, error, warning

if TYPE_CHECKING:
    from ..kept import Memo


# What the memo (press.kept, "math") says of an equation MathJax typeset: pandoc reads its TeX, or pandoc
# needs MathJax's MathML of it (press.mathml). Either way it is not checked again.
VALID = "valid"
FROM_MATHML = "mathml"
CHECKED = (VALID, FROM_MATHML)


@dataclass(frozen=True)
class Expression:
    tex: str
    display: bool
    file: str
    line: int | None
    column: int | None  # where the TeX starts in the source
    exact: bool = True  # the TeX is there as it is: a place in it is a place in the source (_moved)


def equations_in(manuscript: Manuscript, parsed: Parsed) -> list[Expression]:
    """Every math expression of the parse, located in its file (the TeX searched in order)."""
    sections: list[Section] = ([manuscript.abstract] if manuscript.abstract else []) + manuscript.sections
    found = []
    for section, blocks in zip(sections, parsed.groups, strict=True):
        places = InOrder(section.text)
        for element in elements(blocks):
            if element["t"] == "Math":
                tex, display = element["c"][1], element["c"][0]["t"] == "DisplayMath"
                line, column, exact = _find(places, tex, display)
                found.append(Expression(tex, display, section.display, line, column, exact))
    return found


# A math span as pandoc's Markdown reader takes one ($$...$$, or $...$ with no space inside the dollars),
# its TeX the group that matched.
MATH_SPAN = re.compile(r"(?<![\\$])(?:\$\$(.+?)\$\$|\$(?![\s$])((?:\\.|[^$\\])*?)(?<!\s)\$)", re.S)


# The environments press.equations wraps a LaTeX environment's body in: not in the author's text.
WRAPPER = re.compile(r"\\(?:begin|end)\{(?:aligned|gathered|alignedat)\}(?:\{\d+\})?")


def _find(places: InOrder, tex: str, display: bool) -> tuple[int | None, int | None, bool]:
    """Where ``tex`` starts in its text, and whether it is there as it is; for a LaTeX environment made
    display math, where its body does.

    The next math span of the text is it when its TeX is ``tex``; else ``tex`` is looked for before that
    span (a LaTeX environment's body has no dollars); else pandoc has applied the text's
    ``\\newcommand`` macros to it, and that span is it, written otherwise (if of its kind, inline or
    display)."""
    span = places.peek(MATH_SPAN)
    if span is not None and span.group(span.lastindex).strip() == tex.strip():
        return *places.take(span), True
    inner = WRAPPER.sub("", tex).strip()
    first_row = inner.split("\n", 1)[0].strip().removesuffix("\\\\").strip()
    for needle in (tex.strip(), inner, first_row):
        line, column = places.find(needle, past=False, before=span.start() if span is not None else None)
        if line is not None:
            return line, column, True
    if span is not None and (span.lastindex == 1) == display:  # $$...$$ for a display equation
        return *places.take(span), False
    return None, None, False


def check_equations(expressions: list[Expression], valid: Memo | None = None) -> list[Diagnostic]:
    """An error for each expression MathJax cannot typeset; ``valid``: a press.kept Memo of those it could."""
    from .. import math

    found: list[Diagnostic] = []
    typeset: list[tuple[Expression, str]] = []  # MathJax's good ones: pandoc's reader is asked next
    keys: dict[tuple[str, bool], str] = {}
    try:  # all at once, node typesetting the next while this thread takes in the one before
        key = math.keys()
        keys = {(e.tex, e.display): key(e.tex, e.display) for e in expressions}
        math.render_all([pair for pair, key in keys.items() if valid is None or valid.get(key) not in CHECKED])
    except math.MathUnavailable:
        pass  # said below, at the first expression it stops
    for expression in expressions:
        try:
            key = keys.get((expression.tex, expression.display)) or math.key(expression.tex, expression.display)
            known = valid.get(key) if valid is not None else None
            if known in CHECKED:
                mathml.record((expression.tex, expression.display), known == VALID)
                continue
            problem = math.check(expression.tex, expression.display)
        except math.MathUnavailable as exc:
            return [
                error(
                    expression.file,
                    expression.line,
                    "math-unavailable",
                    f"the manuscript has equations, and they cannot be typeset: {exc}",
                    "run `npm install` in the toolchain's folder (MathJax is pinned in its package.json)",
                    column=expression.column,
                )
            ]
        if problem is None:
            typeset.append((expression, key))
            continue
        line, column = expression.line, expression.column
        if line is not None and problem.offset is not None and expression.exact:
            line, column = _moved(expression, problem.offset)
        found.append(
            error(
                expression.file,
                line,
                "math-syntax",
                f"this equation cannot be typeset: {problem.message}",
                "check the TeX between the dollar signs: braces, \\left and \\right in pairs, commands spelt"
                " as in LaTeX",
                column=column,
            )
        )
    pairs = list(dict.fromkeys((e.tex, e.display) for e, _ in typeset))
    unreadable = mathml.unreadable(pairs)
    word = mathml.word_tex(sorted(unreadable)) if unreadable else {}
    for expression, key in typeset:
        pair = (expression.tex, expression.display)
        if pair not in unreadable or pair in word:
            if valid is not None:
                valid.put(key, VALID if pair not in unreadable else FROM_MATHML)
            continue
        # Not kept as checked: said again at each build.
        found.append(
            warning(
                expression.file,
                expression.line,
                "math-not-converted",
                "pandoc can read neither this equation's TeX nor MathJax's MathML of it, so the DOCX shows"
                " its TeX (the PDF has it typeset, the web page and the JATS have MathJax's MathML)",
                "write it with commands pandoc knows, e.g. \\color{c}{x} for \\textcolor{c}{x}, \\frac for"
                " \\cfrac, \\boxed for \\fbox",
                column=expression.column,
            )
        )
    return found


def _moved(expression: Expression, offset: int) -> tuple[int | None, int | None]:
    """The line and column ``offset`` characters into the expression's TeX."""
    before = expression.tex[:offset]
    lines = before.count("\n")
    if lines:
        return expression.line + lines, len(before) - before.rfind("\n")
    return expression.line, (expression.column or 1) + offset
