"""press.math: TeX to SVG through MathJax in node, errors with offsets, deterministic bytes, cache keys.

Needs node and the npm packages mathjax and @mathjax/mathjax-stix2-font (`npm install` from the
project's package.json). Without them every test here is skipped with the reason, except under CI=true
once package.json lists them: then a missing install is a failure.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest
from lxml import etree

import press.flatten
import press.mathml
from press import math

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "math"
ROOT = Path(__file__).resolve().parent.parent
SVG = "{http://www.w3.org/2000/svg}"


def expressions() -> list[tuple[str, bool]]:
    """(tex, display) for each line of tests/fixtures/math/expressions.txt."""
    found = []
    for line in (FIXTURES / "expressions.txt").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        mode, _, tex = line.partition(":")
        assert mode in ("inline", "display"), line
        found.append((tex.strip(), mode == "display"))
    return found


def _declared() -> bool:
    package = ROOT / "package.json"
    if not package.is_file():
        return False
    data = json.loads(package.read_text(encoding="utf-8"))
    listed = {**data.get("dependencies", {}), **data.get("devDependencies", {})}
    return all(name in listed for name in math.PACKAGES)


try:
    math.render("x", False)
except math.MathUnavailable as missing:
    if os.environ.get("CI") == "true" and _declared():
        raise
    pytest.skip(f"MathJax is not installed ({missing})", allow_module_level=True)


def parse(rendered: math.Rendered) -> etree._Element:
    return etree.fromstring(rendered.svg)


EXPRESSIONS = expressions()


def test_the_fixture_list_is_long_and_has_both_modes():
    assert len(EXPRESSIONS) >= 60
    assert {display for _, display in EXPRESSIONS} == {True, False}


@pytest.mark.parametrize("tex, display", EXPRESSIONS, ids=[f"{'d' if d else 'i'}:{t[:40]}" for t, d in EXPRESSIONS])
def test_every_fixture_expression_renders_and_passes_check(tex, display):
    assert math.check(tex, display) is None
    rendered = math.render(tex, display)
    root = parse(rendered)
    assert root.tag == f"{SVG}svg"
    assert root.findall(f".//{SVG}path"), "no glyph outlines"
    assert rendered.width > 0 and rendered.height > 0
    assert rendered.height >= rendered.depth >= -0.05
    # Standalone and inline-safe: sizes in em, no ids to collide between SVGs of one page, no metadata.
    assert root.get("width") == f"{math._number(rendered.width)}em"
    assert root.get("height") == f"{math._number(rendered.height)}em"
    assert not root.xpath("//@id") and not root.xpath("//@*[starts-with(name(), 'data-')]")
    assert not root.findall(f".//{SVG}metadata") and not root.findall(f".//{SVG}title")
    assert (rendered.tex, rendered.display) == (tex, display)


BAD = [
    # tex, display, what the message says, offset
    (r"\frac{a}{", False, "Missing close brace", 8),
    (r"\fracc{a}{b}", False, r"Undefined control sequence \fracc", 0),
    (r"x + \frac{\alpha}{\betaa}", True, r"Undefined control sequence \betaa", 18),
    (r"\text{if } x \qqqq y", False, r"Undefined control sequence \qqqq", 13),
    (r"\iff \fooo", False, r"Undefined control sequence \fooo", 5),  # \iff expands in place first
    ("{a", False, "missing close brace", 0),
    ("a + {b", False, "missing close brace", 4),
    ("a}", False, "missing open brace", 1),
    (r"\left( a", True, r"Extra \left or missing \right", 0),
    (r"a + \left( b \right) + \left[ c", True, r"Extra \left or missing \right", 23),
    (r"a \right)", False, r"Missing \left or extra \right", 2),
    (r"\begin{pmatrix} a & b", True, r"Missing \end{pmatrix}", 0),
    (r"x = \begin{foo} a \end{foo}", True, "Unknown environment 'foo'", 4),
    ("x^", False, "Missing superscript or subscript argument", 1),
    ("a_b_c", False, "Double subscripts", 3),
    (r"a = b \tag{2}", True, r"\tag", 6),
    (r"\newcommand{\x}{y} \x", False, r"Undefined control sequence \newcommand", 0),
    ("  ", True, "empty expression", 0),
    # \bm is typeset as \boldsymbol: what goes wrong after it is still found in the author's TeX
    (r"\bm{x} + \bm{y} + \fooo", False, r"Undefined control sequence \fooo", 18),
    (r"\bmod x \bm", False, r"Missing argument for \bm", 8),
    (r"\mathds{R} + \mathbbm", False, r"Missing argument for \mathbbm", 13),
]


@pytest.mark.parametrize("tex, display, says, offset", BAD, ids=[b[0] for b in BAD])
def test_bad_tex_gives_mathjax_message_and_offset(tex, display, says, offset):
    error = math.check(tex, display)
    assert isinstance(error, math.MathError)
    assert says.lower() in error.message.lower()
    assert error.offset == offset, (error, tex[error.offset or 0 :])
    with pytest.raises(math.MathError) as raised:
        math.render(tex, display)
    assert raised.value == error


def test_the_bold_and_double_struck_of_bm_dsfont_and_bbm_are_typeset():
    # \bm (the bm package, common in papers first written for LaTeX), \mathds and \mathbbm (an
    # indicator's 1) are no MathJax commands: they were errors at the build. They set what
    # \boldsymbol and \mathbb set.
    assert math.check(r"\bm{x}^\top \bm\beta", False) is None
    assert math.render(r"\bm{x} + \bm\beta", True).svg == math.render(r"\boldsymbol{x} + \boldsymbol\beta", True).svg
    assert math.render(r"\mathbbm{1}_A + \mathds{R}", False).svg == math.render(r"\mathbb{1}_A + \mathbb{R}", False).svg
    # pandoc reads no \mathbbm: the page has MathJax's MathML, its letters those of their alphabet
    # (Chromium draws no mathvariant but "normal": MathJax's <mn mathvariant="double-struck">1</mn>
    # showed a plain 1).
    page = press.mathml.page_mathml(r"\mathbbm{1}_A + \mathcal{L} + \mathfrak{g} + \mathbf{x}", False)
    assert all(letter in page for letter in "\U0001d7d9ℒ\U0001d524\U0001d431") and "mathvariant" not in page


def test_renderings_are_byte_identical_whatever_came_before_and_in_a_new_process():
    samples = [(r"\hat{\beta} = (X^\top X)^{-1} X^\top y", True), (r"\mathbb{E}[X] \pm \mathcal{N}", False)]
    first = [math.render(tex, display).svg for tex, display in samples]
    for tex, display in reversed(EXPRESSIONS[::7]):
        math.render(tex, display)
    assert [math.render(tex, display).svg for tex, display in samples] == first
    math.close()
    assert [math.render(tex, display).svg for tex, display in samples[::-1]] == first[::-1]


def test_renderings_from_several_threads_match():
    sample = EXPRESSIONS[::5]
    expected = [math.render(tex, display) for tex, display in sample]
    got: list[list[math.Rendered]] = []

    def work() -> None:
        got.append([math.render(tex, display) for tex, display in sample])

    threads = [threading.Thread(target=work) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert got == [expected] * 3


def test_depth_is_how_far_below_the_baseline():
    assert math.render("y_{i}", False).depth > 0.15
    assert abs(math.render("x", False).depth) < 0.03
    assert math.render("x", False).depth < math.render("g", False).depth


def test_display_fraction_is_taller_than_inline():
    assert math.render(r"\frac{a}{b}", True).height > math.render(r"\frac{a}{b}", False).height + 0.3


def test_math_x_height_matches_the_pdf_text_face():
    from fontTools.ttLib import TTFont

    from press import fonts

    serif = TTFont(next(f for f in fonts.font_files() if f.name == "SourceSerifPro-Regular.ttf"))
    text_x_height = serif["OS/2"].sxHeight / serif["head"].unitsPerEm
    x = math.render("x", False)
    assert x.height - x.depth == pytest.approx(text_x_height, rel=0.03)


def test_key_is_sha256_of_tex_mode_and_versions():
    assert len(math.key("x", False)) == 64 and int(math.key("x", False), 16) >= 0
    assert math.key("x", False) == math.key("x", False)
    assert math.key("x", False) != math.key("x", True)
    assert math.key("x", False) != math.key("x ", False)
    assert set(math.versions()) == set(math.PACKAGES)


def test_labels_do_not_carry_over_between_expressions():
    # MathJax remembers \label across expressions unless reset: the second would be "multiply defined".
    tex = r"\begin{align} a &= b \label{eq:x} \\ c &= d \end{align}"
    assert math.check(tex, True) is None
    assert math.render(tex, True) == math.render(tex, True)


def test_typesetting_all_at_once_gives_what_one_at_a_time_gives():
    # More requests than fit in the pipe ahead of node (math.PIPELINE_BYTES), a bad one among them.
    many = [(rf"x_{{{n}}} + \frac{{{n}}}{{y}} + \text{{{'w' * 60}}}", n % 2 == 0) for n in range(300)]
    many.insert(7, (r"\frac{a}{", False))
    assert sum(len(json.dumps({"tex": t, "display": d})) for t, d in many) > 2 * math.PIPELINE_BYTES
    math.forget()
    math.render_all(many)
    at_once = {pair: math.check(*pair) or math.render(*pair) for pair in many}
    math.forget()
    one_at_a_time = {pair: math.check(*pair) or math.render(*pair) for pair in many}
    assert at_once == one_at_a_time
    assert isinstance(at_once[(r"\frac{a}{", False)], math.MathError)
    assert sum(isinstance(v, math.MathError) for v in at_once.values()) == 1


def test_the_checks_flatten_no_svg_and_a_rendering_is_flattened_once(monkeypatch):
    # The checks need node's answer, not the SVG: writing and flattening it waits for render().
    flattened = []
    monkeypatch.setattr(press.flatten, "flatten", lambda svg: flattened.append(svg) or None)
    pairs = [(rf"y^{{{n}}} + \sqrt{{{n}}}", False) for n in range(5)]
    math.forget()
    math.render_all(pairs)
    assert all(math.check(*pair) is None for pair in pairs) and flattened == []
    first = math.render(*pairs[0])
    assert math.render(*pairs[0]) is first and len(flattened) == 1


def test_a_line_break_in_inline_math_is_a_math_error_not_a_crash():
    problem = math.check(r"a \\ b", False)
    assert isinstance(problem, math.MathError) and "laid out across the page" in str(problem)


def test_equations_kept_as_valid_start_no_node_process():
    from press.checks.equations import Expression, check_equations
    from press.kept import Memo

    expressions = [Expression(r"\alpha_{kept}", False, "a.md", 1, 1), Expression(r"\beta^{kept}", True, "a.md", 2, 1)]
    valid = Memo({math.key(e.tex, e.display): "valid" for e in expressions})
    math.close()
    assert check_equations(expressions, valid) == []
    assert math._worker is None  # an HTML-only rebuild paid ~0.17 s to start node for nothing


def test_keys_read_the_versions_once_and_change_with_them(tmp_path: Path, monkeypatch):
    key = math.keys()
    assert key("x", False) == math.key("x", False) and key("x", True) == math.key("x", True)
    # Another MathJax installed (in a long-running preview, say): every key made after it changes.
    for name in math.PACKAGES:
        package = tmp_path / name / "package.json"
        package.parent.mkdir(parents=True)
        data = json.loads((math.node_modules() / name / "package.json").read_text(encoding="utf-8"))
        package.write_text(json.dumps({**data, "version": data["version"] + "-other"}), encoding="utf-8")
    monkeypatch.setenv(math.NODE_MODULES_ENV, str(tmp_path))
    assert math.key("x", False) != key("x", False)
    assert math.keys()("x", False) == math.key("x", False)
