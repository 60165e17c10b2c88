"""siunitx's numbers, units and quantities (``\\SI``, ``\\si``, ``\\num``, ``\\qty``, ``\\unit``, ``\\ang``, the
ranges and lists), as papers first written for LaTeX carry them, read by pandoc's LaTeX reader.

MathJax has no siunitx package, and pandoc's TeX math reader runs a quantity's units together
("5 mgkg⁻¹"); in the text pandoc's Markdown reader keeps them as raw TeX. pandoc's LaTeX reader reads
them as siunitx sets them by default ("5 mg kg⁻¹", "1.5 × 10⁻³", "37 °C"):

- in the text, as any raw LaTeX there (press.latex_text);
- in math (``expanded``): each command becomes that reading as TeX (``\\text{5 mg kg}^{\\text{−1}}``),
  which MathJax sets for the PDF (press.math) and pandoc for the page, the JATS and the DOCX
  (press.renditions), so every format shows the same. Offsets in it map back to the author's TeX
  (``replacements``), so an error elsewhere in the equation is told at its place.

A command pandoc makes nothing of stays as it is: in the text raw TeX (press.checks.latex says it is
left out), in math an error of MathJax's that names it.

pandoc's reading of ``\\per`` is wrong when it comes first or more than once (``\\si{\\per\\hour}`` gave
"h", ``\\milli\\gram\\per\\kilo\\gram\\per\\hour`` "mg kg h⁻⁻¹"); each ``\\per`` is given to it as the power
``\\tothe{-n}`` of the unit after it (``rewritten``), which pandoc reads right ("mg kg⁻¹ h⁻¹").
"""

from __future__ import annotations

import re

from .tex import group_end, substituted

# The number of brace arguments each takes (after an optional [options]); the last is the unit where
# the command has one (UNITS).
ARGUMENTS = {
    "SI": 2,
    "si": 1,
    "num": 1,
    "qty": 2,
    "unit": 1,
    "ang": 1,
    "SIrange": 3,
    "numrange": 2,
    "qtyrange": 3,
    "SIlist": 2,
    "numlist": 1,
    "qtylist": 2,
}
UNITS = {"SI", "si", "qty", "unit", "SIrange", "qtyrange", "SIlist", "qtylist"}
COMMAND = re.compile(r"\\(" + "|".join(sorted(ARGUMENTS, key=len, reverse=True)) + r")(?![A-Za-z])")
PREFIXES = frozenset(
    "quecto ronto yocto zepto atto femto pico nano micro milli centi deci deca deka hecto kilo mega giga "
    "tera peta exa zetta yotta ronna quetta kibi mebi gibi tebi pebi exbi zebi yobi".split()
)
BEFORE_POWERS = {"square": "2", "cubic": "3"}
AFTER_POWERS = {"squared": "2", "cubed": "3"}
_TOKEN = re.compile(r"\\[A-Za-z]+|\\.|\{|\}|\s+|[^\\{}\s]+")


def commands(tex: str) -> list[tuple[int, int, str]]:
    """(start, end, TeX as pandoc is given it) of each siunitx command in ``tex`` with its arguments;
    one whose arguments are not all there is left out (MathJax then names it)."""
    found = []
    for match in COMMAND.finditer(tex):
        if found and match.start() < found[-1][1]:
            continue  # inside the previous one's arguments
        name, position = match.group(1), match.end()
        arguments: list[tuple[int, int]] = []
        position = _skip_space(tex, position)
        if tex.startswith("[", position):
            close = tex.find("]", position)
            if close < 0:
                continue
            position = _skip_space(tex, close + 1)
        for _ in range(ARGUMENTS[name]):
            end = group_end(tex, position)
            if end is None:
                break
            arguments.append((position, end))
            position = _skip_space(tex, end)
        if len(arguments) != ARGUMENTS[name]:
            continue
        end = arguments[-1][1]
        source = tex[match.start() : end]
        if name in UNITS:
            start, stop = arguments[-1]
            unit = tex[start + 1 : stop - 1]
            source = tex[match.start() : start] + "{" + _powered(unit) + "}"
        found.append((match.start(), end, source))
    return found


def _skip_space(tex: str, position: int) -> int:
    while position < len(tex) and tex[position].isspace():
        position += 1
    return position


def _powered(unit: str) -> str:
    """A unit argument with each ``\\per`` written as the power of the unit it is on (``\\tothe{-1}``)."""
    if "\\per" not in unit:
        return unit
    tokens = [t for t in _TOKEN.findall(unit) if not t.isspace()]
    out: list[str] = []
    index = 0
    while index < len(tokens):
        if tokens[index] != "\\per":
            out.append(tokens[index])
            index += 1
            continue
        index += 1
        power, prefixes = "1", []
        while index < len(tokens) and tokens[index][1:] in BEFORE_POWERS and tokens[index].startswith("\\"):
            power = BEFORE_POWERS[tokens[index][1:]]
            index += 1
        while index < len(tokens) and tokens[index].startswith("\\") and tokens[index][1:] in PREFIXES:
            prefixes.append(tokens[index])
            index += 1
        if index >= len(tokens) or not tokens[index].startswith("\\"):
            return unit  # not a unit macro after \per: as written
        named = tokens[index]
        index += 1
        if index < len(tokens) and tokens[index].startswith("\\") and tokens[index][1:] in AFTER_POWERS:
            power = AFTER_POWERS[tokens[index][1:]]
            index += 1
        out += [*prefixes, named, "\\tothe{-" + power + "}"]
    return "".join(out)


def sources_in(texs: list[str]) -> list[str]:
    """Each command in ``texs`` (math) as pandoc's LaTeX reader is given it (``commands``)."""
    return [source for tex in texs if COMMAND.search(tex) for _, _, source in commands(tex)]


def read_in(texs: list[str]) -> None:
    """pandoc's reading of every command in ``texs`` (math) not yet read, in one run (press.latex_text)."""
    from . import latex_text

    latex_text.read(sources_in(texs))


def rewritten(tex: str) -> str:
    """``tex`` with each siunitx command as pandoc's LaTeX reader is given it (``\\per`` as powers)."""
    return substituted(tex, commands(tex)) if COMMAND.search(tex) else tex


def replacements(tex: str) -> list[tuple[int, int, str]]:
    """(start, end, TeX) for each command in math ``tex`` with a reading (``read_in`` first)."""
    from .latex_text import reading

    out = []
    for start, end, source in commands(tex) if COMMAND.search(tex) else ():
        made = reading(source)
        written = None if made is None else _as_tex(made)
        if written is not None:
            out.append((start, end, written))
    return out


def expanded(tex: str) -> str:
    """``tex`` with each siunitx command that has a reading written as that reading, in TeX."""
    return substituted(tex, replacements(tex))


_TEXT_SPECIAL = re.compile(r"([\\{}$&#^_%~])")


def _as_tex(inlines: list[dict]) -> str | None:
    """A reading (pandoc's inlines) as TeX math: text as ``\\text``, its super- and subscripts as scripts;
    None for anything else in it."""
    out = ["{"]
    for inline in inlines:
        kind = inline["t"]
        if kind == "Str":
            out.append(r"\text{" + _TEXT_SPECIAL.sub(r"\\\1", inline["c"]) + "}")
        elif kind == "Space":
            out.append(r"\text{ }")
        elif kind in ("Superscript", "Subscript"):
            inner = _as_tex(inline["c"])
            if inner is None or len(out) == 1:
                return None
            out.append(("^" if kind == "Superscript" else "_") + inner)
        else:
            return None
    out.append("}")
    return "".join(out)
