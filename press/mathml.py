"""Equations pandoc's own TeX reader cannot read, written from MathJax's MathML instead.

The web page, the JATS and the DOCX get their MathML and Word equations from pandoc's TeX reader
(texmath), which knows fewer commands than MathJax: ``\\textcolor``, ``\\colorbox``, ``\\fbox``,
``\\cfrac``, ``\\sideset``, ``\\prescript``, ``\\rule``, ``\\bra``, ``\\cancelto`` among them. For such
an equation pandoc writes the TeX itself (``<span class="math inline">$...$</span>`` in HTML, a
``<tex-math>`` alone in JATS, the TeX as text in a DOCX), saying so only on its stderr. Here it gets
MathJax's own MathML (press.math.mathml, from the parse that the PDF's SVG comes from):

- the page (``in_page``): pandoc's span becomes MathJax's ``<math>``, its TeX the annotation, as
  pandoc writes its own;
- the JATS (``in_jats``): the ``<mml:math>`` beside the ``<tex-math>``, in ``<alternatives>``;
- the DOCX (``word_tex``): pandoc reads MathML too (texmath), and what it reads it writes as a Word
  equation. So the DOCX gets pandoc's reading of MathJax's MathML, as TeX its writer takes. Colour is
  left out there, as it is for every Word equation pandoc writes (``\\color`` too).

Which equations pandoc cannot read is pandoc's to say (``unconvertible``: one run over them all);
what it says is remembered for the process (``unreadable``), and press.checks.equations tells it what
it knows from the memo of an earlier build (``record``).
"""

from __future__ import annotations

import html
import json
import re
import threading
import unicodedata
from collections import Counter

from .tex import group_end

Pair = tuple[str, bool]  # an expression's TeX and whether it is a display equation

MATHML_NS = "http://www.w3.org/1998/Math/MathML"
TEX_ENCODING = "application/x-tex"
# Between two equations in one pandoc run: each one's piece of the output is then known.
MARK = "<!--press-equation-->"
# What pandoc's HTML writer writes for math its TeX reader could not read (escaped, with its delimiters).
TEX_SPAN = re.compile(r'<span class="math (inline|display)">([^<]*)</span>')

_reads: dict[Pair, bool] = {}  # whether pandoc's TeX reader reads each, as far as this process knows
_word: dict[Pair, str | None] = {}
_lock = threading.Lock()


def record(pair: Pair, readable: bool) -> None:
    """What an earlier build found (press.checks.equations): whether pandoc reads this expression."""
    with _lock:
        _reads[pair] = readable


def unreadable(pairs: list[Pair]) -> set[Pair]:
    """Those of ``pairs`` that pandoc's TeX reader cannot read: pandoc asked about those not yet known."""
    with _lock:
        unknown = [pair for pair in dict.fromkeys(pairs) if pair not in _reads]
    if unknown:
        found = unconvertible(unknown)
        if found is not None:
            with _lock:
                for pair in unknown:
                    _reads[pair] = pair not in found
    with _lock:
        return {pair for pair in pairs if _reads.get(pair) is False}


def unconvertible(pairs: list[Pair]) -> set[Pair] | None:
    """The (TeX, display) of ``pairs`` that pandoc's own TeX reader cannot read (its HTML writer then
    writes the TeX, not MathML; its Word equations come from the same reader); None when pandoc
    cannot tell."""
    pieces = _pandoc_html(pairs)
    if pieces is None:
        return None
    return {pair for pair, piece in zip(pairs, pieces, strict=True) if "<math" not in piece}


def _pandoc_html(pairs: list[Pair]) -> list[str] | None:
    """pandoc's HTML (``--mathml``) of each expression, from one run; None when pandoc cannot tell."""
    from . import pandoc

    if not pairs:
        return []
    kind = {True: "DisplayMath", False: "InlineMath"}
    mark = {"t": "RawBlock", "c": ["html", MARK]}
    blocks: list[dict] = []
    for tex, display in pairs:
        blocks += [{"t": "Para", "c": [{"t": "Math", "c": [{"t": kind[display]}, tex]}]}, mark]
    document = {"pandoc-api-version": pandoc.api_version(), "meta": {}, "blocks": blocks}
    try:
        out = pandoc.run(["-f", "json", "-t", "html", "--mathml", "--wrap=none"], json.dumps(document).encode())
    except (pandoc.PandocError, OSError):
        return None
    pieces = out.decode("utf-8").split(MARK)[:-1]
    return pieces if len(pieces) == len(pairs) else None


def word_tex(pairs: list[Pair]) -> dict[Pair, str]:
    """For each of ``pairs`` (TeX pandoc cannot read), pandoc's reading of MathJax's MathML of it: TeX
    that pandoc's TeX reader reads, and its DOCX writer writes as a Word equation. Left out: those
    that MathJax cannot typeset, and those pandoc reads no formula from. Once a process for each."""
    from . import math, pandoc

    with _lock:
        unknown = [pair for pair in dict.fromkeys(pairs) if pair not in _word]
    if unknown:
        found: dict[Pair, str | None] = dict.fromkeys(unknown)
        pieces = []
        for pair in unknown:
            try:
                pieces.append(f"<p>{math.mathml(*pair)}</p>")
            except (math.MathError, math.MathUnavailable):
                pieces.append("<p></p>")
        try:
            ast = json.loads(pandoc.run(["-f", "html", "-t", "json"], "<hr>".join(pieces).encode("utf-8")))
        except (pandoc.PandocError, OSError, ValueError):
            ast = None
        if ast is not None:
            read = _math_between_rules(ast["blocks"])
            if len(read) == len(unknown):
                for pair, tex in zip(unknown, read, strict=True):
                    found[pair] = tex
                # What pandoc read must be TeX it reads back (or the DOCX shows it as text), and say what
                # MathJax's MathML says: texmath's MathML reader leaves some things out (the bar of a
                # fraction never is, so \tbinom would become a fraction), and then the TeX stays.
                written = [(pair, (tex, pair[1])) for pair, tex in found.items() if tex is not None]
                pieces = _pandoc_html([again for _, again in written])
                for n, (pair, _) in enumerate(written):
                    if pieces is None or _signature(pieces[n]) != _signature(math.mathml(*pair)):
                        found[pair] = None
        with _lock:
            _word.update(found)
    with _lock:
        return {pair: _word[pair] for pair in pairs if _word.get(pair) is not None}


# In what an equation shows: the MathML elements that carry meaning beside the tokens' text.
_COUNTED = {"msqrt", "mroot", "mtd", "menclose"}
_INVISIBLE = dict.fromkeys(map(ord, "\u2061\u2062\u2063\u2064\u200b \t\n\r"))


def _signature(markup: str) -> Counter | None:
    """What a reader sees in an equation's MathML (the first <math> in ``markup``): its tokens' text,
    and how many fraction bars, bar-less fractions, radicals, table cells and enclosures (by notation)
    it has. Leaves out colour, spacing, grouping, the scripts' placement, and what is invisible
    (<mphantom>, <annotation>). None when there is no <math> in ``markup``."""
    from lxml import etree

    start = markup.find("<math")
    end = markup.find("</math>", start)
    if start < 0 or end < 0:
        return None
    root = etree.fromstring(markup[start : end + len("</math>")].encode("utf-8"))
    seen: Counter = Counter()

    def walk(element) -> None:
        name = etree.QName(element).localname
        if name in ("mphantom", "annotation", "annotation-xml"):
            return
        if name in ("mi", "mn", "mo", "mtext", "ms"):
            text = "".join(element.itertext()).translate(_INVISIBLE)
            if text:
                seen[("token", text)] += 1
        elif name == "mfrac":
            thickness = (element.get("linethickness") or "").strip()
            seen[("fraction", "no bar" if re.fullmatch(r"0*\.?0*[a-z]*", thickness) and thickness else "bar")] += 1
        elif name in _COUNTED:
            seen[(name, " ".join(sorted((element.get("notation") or "").split())))] += 1
        for child in element:
            walk(child)

    walk(root)
    return seen


def _math_between_rules(blocks: list[dict]) -> list[str | None]:
    """The TeX of the one Math element in each stretch of ``blocks`` between two HorizontalRules."""
    from .ast import elements

    stretches: list[list[dict]] = [[]]
    for block in blocks:
        if block["t"] == "HorizontalRule":
            stretches.append([])
        else:
            stretches[-1].append(block)
    read = []
    for stretch in stretches:
        maths = [e for e in elements(stretch) if e["t"] == "Math"]
        read.append(maths[0]["c"][1] if len(maths) == 1 and maths[0]["c"][1].strip() else None)
    return read


def in_page(page: str) -> str:
    """``page`` (pandoc's HTML) with each equation pandoc left as TeX written as MathJax's MathML, the
    cells of an equation that is one ``aligned`` or ``gathered`` in display style (``display_style``),
    thin spaces around a function's name where TeX puts them (``FUNCTION``), and ``\\mathbf`` upright
    (``upright_bold``)."""
    if "<semantics><mtable>" in page:
        page = PAGE_TABLE.sub(_display_table, page)
    if 'mathvariant="normal">' in page:
        page = FUNCTION.sub(_spaced_function, page)
    if 'mathvariant="bold-italic"' in page:
        page = PAGE_MATH.sub(_upright_bold_math, page)
    if '<span class="math ' not in page:
        return page
    return TEX_SPAN.sub(_page_math, page)


# amsmath sets the cells of these environments in display style, as in $$ ... $$ (a fraction full
# size); texmath writes each as a bare <mtable>, whose cells MathML sets in text style (a fraction as
# small as in a line of text). Not cases, matrices or array: LaTeX sets their cells in text style.
DISPLAY_TABLE = re.compile(r"\\begin\{(?:aligned|alignedat|gathered|split)\}")
# pandoc's MathML of an equation that is one table: the <mtable> alone in <semantics>, before the TeX.
PAGE_TABLE = re.compile(
    r'(<semantics><mtable)(>(?:(?!<math[ >]).)*?</mtable><annotation encoding="application/x-tex">)([^<]*)(?=</annotation>)',
    re.S,
)


def display_style(tex: str) -> bool:
    """Whether the equation ``tex``, written by pandoc as one table, has its cells in display style."""
    return DISPLAY_TABLE.match(tex.strip()) is not None


def _display_table(match: re.Match) -> str:
    if not display_style(html.unescape(match.group(3))):
        return match.group(0)
    return f'{match.group(1)} displaystyle="true"{match.group(2)}{match.group(3)}'


# A function name (\sin, \ln, \operatorname{AUC}) as texmath writes it: the name, then U+2061 (the
# invisible function application), in one <mrow>; with scripts, inside an <msub> or the like (in
# display, \lim and \max take theirs in an <munder> without U+2061). TeX sets a thin space between
# the name and what it applies to (sin x, ln 2, log_2 n), none before a parenthesis (log(x)), and one
# before the name after an ordinary symbol, a fraction or a closing fence (RT ln K); in MathML Core
# U+2061 has no width, so a browser set "sinx", "ln2" and "RTln K". The space after goes after the
# name and its scripts, never between two children of a script element; the space before goes inside
# the name's <mrow>, which no parent counts.
_TOKEN_ELEMENT = r"<m[a-z]+(?: [^>]*)?>[^<]*</m[a-z]+>"
_NAMED = 'mrow><mi mathvariant="normal">[^<]+</mi><mo>&#8289;</mo></mrow>'  # after its "<"
_LIMITS = '<mi mathvariant="normal">(?:lim|max|min|sup|inf|det|gcd|Pr)</mi>'
_SCRIPT = rf"(?:{_TOKEN_ELEMENT}|<mrow>(?:{_TOKEN_ELEMENT})*</mrow>)"
# Looked for at each "<" (a literal first: the page is searched fast), not where a script opens before it.
_NOT_IN_A_SCRIPT = "".join(f"(?<!<{name}><)" for name in ("msub", "msup", "msubsup", "munder", "mover", "munderover"))
FUNCTION = re.compile(
    rf"<{_NOT_IN_A_SCRIPT}(?:{_NAMED}|(msub|msup|msubsup|munder|munderover)>(?:<{_NAMED}|{_LIMITS}){_SCRIPT}{{1,2}}</\1>)"
)
THIN_SPACE = '<mspace width="0.1667em"></mspace>'
_NO_SPACE_AFTER = re.compile(r'</|(?:<mrow>)*<mo(?: [^>]*)? form="prefix"')
_SPACE_BEFORE = re.compile(
    r'(?:</(?:mi|mn|mfrac|msqrt|mroot|msub|msup|msubsup|mover)>|form="postfix">[^<]*</mo>(?:</mrow>)?)$'
)


def _spaced_function(match: re.Match) -> str:
    found = match.group(0)
    if _SPACE_BEFORE.search(match.string, max(0, match.start() - 200), match.start()) and "<mrow>" in found:
        found = found.replace("<mrow>", f"<mrow>{THIN_SPACE}", 1)
    if not _NO_SPACE_AFTER.match(match.string, match.end()):
        found += THIN_SPACE
    return found


# pandoc's texmath (3.9) sets \mathbf{x} bold italic, as \boldsymbol{x}: in LaTeX (and MathJax, the
# PDF's) it is bold upright, and \mathbf leaves a small Greek letter as it is. In the page and the
# JATS, each bold italic letter that the TeX bolds with \mathbf (and not also with \boldsymbol, \bm,
# ... elsewhere in the equation: then which is which cannot be told) is made what LaTeX sets.
BOLD_COMMAND = re.compile(r"\\(mathbf|boldsymbol|bm|mathbfit|symbfit|symbf|pmb)(?![A-Za-z])\s*")
PAGE_MATH = re.compile(r"<math[ >].*?</math>", re.S)
_BOLD_ITALIC_MI = re.compile(r'<mi mathvariant="bold-italic">([^<]*)</mi>')
_ANNOTATION = re.compile(r'<annotation encoding="application/x-tex">([^<]*)</annotation>')
BOLD_ITALIC = "MATHEMATICAL BOLD ITALIC "


def mathbf_letters(tex: str) -> frozenset[str]:
    """The letters ``tex`` sets in ``\\mathbf`` and in no other bold (``x``, ``A``; ``beta`` for \\beta)."""
    bold: dict[str, set[str]] = {"mathbf": set(), "other": set()}
    for found in BOLD_COMMAND.finditer(tex):
        argument = _argument(tex, found.end())
        letters = set(re.findall(r"[A-Za-z]", re.sub(r"\\[A-Za-z]+", " ", argument)))
        letters |= set(re.findall(r"\\([A-Za-z]+)", argument))
        bold["mathbf" if found.group(1) == "mathbf" else "other"] |= letters
    return frozenset(bold["mathbf"] - bold["other"])


def _argument(tex: str, start: int) -> str:
    """The argument at ``start``: a braced group (its content), a command, or one character."""
    if tex.startswith("{", start):
        end = group_end(tex, start)
        return tex[start + 1 : end - 1] if end is not None else tex[start + 1 :]
    command = re.match(r"\\[A-Za-z]+", tex[start:])
    return command.group() if command else tex[start : start + 1]


def mathbf_key(char: str) -> str | None:
    """The letter a plain or bold italic ``char`` is, as ``mathbf_letters`` names it ("x", "A", "beta"
    for β); None for anything ``\\mathbf`` leaves as pandoc writes it (a capital Greek letter, which it
    sets bold upright already; a digit; a symbol)."""
    name = unicodedata.name(char, "").removeprefix(BOLD_ITALIC)
    found = re.fullmatch(r"(?:LATIN |GREEK )?(SMALL|CAPITAL)(?: LETTER)? ([A-Z]+)", name)
    if found is None:
        return None
    case, letter = found.groups()
    if len(letter) == 1:
        return letter.lower() if case == "SMALL" else letter
    return letter.lower() if case == "SMALL" else None


def as_mathbf(text: str, letters: frozenset[str]) -> tuple[str, str]:
    """A bold italic <mi>'s text with each of ``letters`` as ``\\mathbf`` sets it (a Latin letter bold
    upright, a small Greek one as it is), and its mathvariant then ("" for the default)."""
    out, variants = [], set()
    for char in text:
        key = mathbf_key(char) if unicodedata.name(char, "").startswith(BOLD_ITALIC) else None
        if key in letters and len(key) == 1:
            out.append(_in_alphabet(key, "bold")[0])
            variants.add("bold")
        elif key in letters:
            out.append(unicodedata.lookup(f"GREEK SMALL LETTER {key.upper()}"))
            variants.add("")
        else:
            out.append(char)
            variants.add("bold-italic")
    return "".join(out), variants.pop() if len(variants) == 1 else "bold-italic"


def _upright_bold_math(match: re.Match) -> str:
    math = match.group(0)
    annotation = _ANNOTATION.search(math)
    letters = mathbf_letters(html.unescape(annotation.group(1))) if annotation else frozenset()
    if not letters:
        return math

    def upright(found: re.Match) -> str:
        text, variant = as_mathbf(found.group(1), letters)
        return f'<mi mathvariant="{variant}">{text}</mi>' if variant else f"<mi>{text}</mi>"

    return _BOLD_ITALIC_MI.sub(upright, math)


def upright_bold_in_jats(math, tex: str) -> None:
    """The same for a JATS ``<mml:math>`` pandoc wrote."""
    letters = mathbf_letters(tex)
    for element in math.iter(f"{{{MATHML_NS}}}mi") if letters else ():
        if element.get("mathvariant") == "bold-italic" and element.text:
            element.text, variant = as_mathbf(element.text, letters)
            if variant:
                element.set("mathvariant", variant)
            else:
                del element.attrib["mathvariant"]


def display_style_in_jats(math, tex: str) -> None:
    """The same for a JATS ``<mml:math>`` pandoc wrote: its one <mml:mtable> in display style."""
    children = [child for child in math if isinstance(child.tag, str)]
    if len(children) == 1 and children[0].tag == f"{{{MATHML_NS}}}mtable" and display_style(tex):
        children[0].set("displaystyle", "true")


def _page_math(match: re.Match) -> str:
    from . import math

    display = match.group(1) == "display"
    tex = _undelimited(html.unescape(match.group(2)), display)
    if tex is None:
        return match.group(0)
    try:
        return page_mathml(tex, display)
    except (math.MathError, math.MathUnavailable):
        return match.group(0)  # the checks said why


def _undelimited(text: str, display: bool) -> str | None:
    for opening, closing in (("$$", "$$"), ("\\[", "\\]")) if display else (("$", "$"), ("\\(", "\\)")):
        if text.startswith(opening) and text.endswith(closing) and len(text) >= len(opening) + len(closing):
            return text[len(opening) : len(text) - len(closing)]
    return None


def page_mathml(tex: str, display: bool) -> str:
    """MathJax's MathML of ``tex`` as pandoc writes its own in a page: ``display`` inline or block, the
    content in ``<semantics>`` with the TeX as its annotation."""
    from lxml import etree

    element = _semantic(etree.fromstring(_mathml(tex, display)), tex, display)
    for token in element.iter(*(f"{{{MATHML_NS}}}{name}" for name in ("mi", "mn", "mo"))):
        if token.text and token.get("mathvariant") in ALPHABETS:
            token.text, unmapped = _in_alphabet(token.text, token.get("mathvariant"))
            if not unmapped:
                del token.attrib["mathvariant"]
    return etree.tostring(element, encoding="unicode")


# MathML's mathvariant -> the Unicode alphabet's name. MathML Core (Chromium) draws no mathvariant but
# "normal", so MathJax's <mi mathvariant="double-struck">R</mi> showed a plain R: the page gets the
# letter of the alphabet itself, as pandoc's texmath writes it (ℝ).
ALPHABETS = {
    "bold": "BOLD",
    "italic": "ITALIC",
    "bold-italic": "BOLD ITALIC",
    "double-struck": "DOUBLE-STRUCK",
    "script": "SCRIPT",
    "bold-script": "BOLD SCRIPT",
    "fraktur": "FRAKTUR",
    "bold-fraktur": "BOLD FRAKTUR",
    "sans-serif": "SANS-SERIF",
    "bold-sans-serif": "SANS-SERIF BOLD",
    "sans-serif-italic": "SANS-SERIF ITALIC",
    "sans-serif-bold-italic": "SANS-SERIF BOLD ITALIC",
    "monospace": "MONOSPACE",
}
# The letters the alphabets leave out, as they were in Unicode before them (the Letterlike Symbols).
_OLDER = {"ITALIC SMALL H": "PLANCK CONSTANT", "FRAKTUR": "BLACK-LETTER", "DOUBLE-STRUCK": "DOUBLE-STRUCK"}


def _in_alphabet(text: str, variant: str) -> tuple[str, bool]:
    """``text`` in the mathvariant's alphabet; and whether a character had no letter there."""
    alphabet, out, unmapped = ALPHABETS[variant], [], False
    for char in text:
        name = unicodedata.name(char, "")
        letter = re.sub(r"^(?:LATIN|GREEK) (CAPITAL|SMALL) LETTER ", r"\1 ", name)
        if letter == name and not name.startswith("DIGIT "):
            out.append(char)
            unmapped = unmapped or not char.isspace()
            continue
        try:
            out.append(unicodedata.lookup(f"MATHEMATICAL {alphabet} {letter}"))
        except KeyError:
            older = _OLDER.get(f"{alphabet} {letter}") or f"{_OLDER.get(alphabet, alphabet)} {letter}"
            try:
                out.append(unicodedata.lookup(older))
            except KeyError:
                out.append(char)
                unmapped = True
    return "".join(out), unmapped


def in_jats(formula, tex: str) -> bool:
    """Give a JATS ``<inline-formula>`` or ``<disp-formula>`` that pandoc wrote with the TeX alone (as its
    text, or in a ``<tex-math>``) MathJax's ``<mml:math>`` beside the TeX, in ``<alternatives>``, as
    press.writers.jats gives pandoc's own. False when there is none to give (MathJax cannot typeset
    it, or it is unavailable), and the formula is then left as it is."""
    from lxml import etree

    from . import math

    display = formula.tag == "disp-formula"
    tex_math = formula.find("tex-math")
    if tex_math is None and len(formula):
        return False
    try:
        source = etree.fromstring(_mathml(tex, display))
    except (math.MathError, math.MathUnavailable):
        return False
    alternatives = etree.Element("alternatives")
    if tex_math is None:
        formula.text = None
        formula.append(alternatives)
        tex_math = etree.SubElement(alternatives, "tex-math")
        tex_math.text = etree.CDATA(tex)
    else:
        tex_math.addprevious(alternatives)
        alternatives.append(tex_math)
    alternatives.append(_copied(source, "mml", display))
    return True


def _mathml(tex: str, display: bool) -> bytes:
    from . import math

    return math.mathml(tex, display).encode("utf-8")


def _semantic(source, tex: str, display: bool):
    """A new <math> of ``source``'s children: in <semantics> (one <mrow>) with the TeX as annotation."""
    from lxml import etree

    root = etree.Element(f"{{{MATHML_NS}}}math", nsmap={None: MATHML_NS})
    root.set("display", "block" if display else "inline")
    semantics = etree.SubElement(root, f"{{{MATHML_NS}}}semantics")
    if len(source) == 1 and source[0].tag == f"{{{MATHML_NS}}}mrow":
        semantics.append(source[0])  # already one row
    else:
        row = etree.SubElement(semantics, f"{{{MATHML_NS}}}mrow")
        for child in source:
            row.append(child)
    annotation = etree.SubElement(semantics, f"{{{MATHML_NS}}}annotation", encoding=TEX_ENCODING)
    annotation.text = tex
    return root


def _copied(source, prefix: str, display: bool):
    """``source`` (MathML in the default namespace) rebuilt with ``prefix`` for MathML, as JATS writes it."""
    from lxml import etree

    def copy(element, parent):
        made = (
            etree.Element(element.tag, nsmap={prefix: MATHML_NS})
            if parent is None
            else etree.SubElement(parent, element.tag)
        )
        for name, value in element.attrib.items():
            made.set(name, value)
        made.text, made.tail = element.text, element.tail if parent is not None else None
        for child in element:
            copy(child, made)
        return made

    made = copy(source, None)
    made.set("display", "block" if display else "inline")
    return made
