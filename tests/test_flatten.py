"""press.flatten: MathJax's SVG redrawn as one path per colour draws the same picture, and what it
does not know it leaves alone; writers/pdf.equation_paths writes the same PDF as WeasyPrint's parser.

The pictures are compared as a reader sees them: each SVG laid out by WeasyPrint as the build does
(an <img> with a media: URL), the PDF rasterised by pdftoppm, the difference eroded by a 3x3 minimum
so that single edge pixels (anti-aliasing of coordinates rounded to 1/10,000 em) do not count and a
moved, missing or hollow stroke of a pixel or more does.
"""

from __future__ import annotations

import hashlib
import io
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pikepdf
import pytest
from lxml import etree
from PIL import Image, ImageChops, ImageFilter

from press import flatten, math
from press.writers import pdf

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "math"
SVG = "{http://www.w3.org/2000/svg}"

# Constructs whose MathJax SVG holds more than glyphs under translations: colours, strokes (\cancel's
# <line>, \boxed's <rect fill="none">), filled rects (\colorbox, \rule), rotations (\cancelto),
# nested <svg> with a clipping viewBox (the stretched middle of braces and long arrows), stretchy
# delimiters built from pieces, rules (fractions, radicals, \overline), tables with rules.
CONSTRUCTS = [
    r"\color{red}{x} + \textcolor{blue}{y} = z",
    r"\cancel{x} + \bcancel{y} + \xcancel{z}",
    r"\cancelto{0}{x}",
    r"\boxed{a = b}",
    r"\fbox{text}",
    r"\colorbox{yellow}{x}",
    r"\rule{1em}{0.5em}",
    r"\overline{abc} + \underline{x}",
    r"\underbrace{a+b+c}_{n} \overbrace{a+b+c+d+e+f+g+h+i+j}^{\text{long}}",
    r"\overleftarrow{AB} \overrightarrow{AB} \xrightarrow[under]{over} \xleftarrow{abc}",
    r"\widehat{abc} \widetilde{xyz} \vec{v} \dot{x} \ddot{x}",
    r"\left\{ \begin{array}{c|c} a & b \\ \hline c & d \end{array} \right.",
    r"\sqrt[3]{\frac{a}{b}} \sqrt{\sqrt{\sqrt{\frac{a}{\frac{b}{\frac{c}{d}}}}}}",
    r"\left( \frac{\frac{a}{b}}{\frac{c}{d}} \right) \left[ \sum_{i=1}^{\infty} \right] \left\| x \right\|",
    r"\left. \int_0^1 \frac{\frac{a}{b}}{\frac{c}{d}} \right|_{0}^{1} \left\langle \frac{\frac{a}{b}}{c} \right\rangle",
    r"\left\lfloor \frac{\frac{a}{b}}{c} \right\rfloor \left\lceil \frac{\frac{a}{b}}{c} \right\rceil",
    r"\left( \begin{matrix} 1 & 2 & 3 \\ 4 & 5 & 6 \\ 7 & 8 & 9 \\ 10 & 11 & 12 \end{matrix} \right)",
    r"\begin{vmatrix} a & b \\ c & d \end{vmatrix} \begin{Bmatrix} a \end{Bmatrix}",
    r"\Bigg( \bigg[ \Big\{ \big( x \big) \Big\} \bigg] \Bigg)",
    r"\not= \neq \not\in \overset{!}{=} \stackrel{def}{=} \underset{x}{\arg\min}",
    r"\mathcal{L} \mathfrak{g} \mathbb{R} \boldsymbol{\beta} \mathbf{x} \mathtt{code}",
    r"\sideset{_a^b}{_c^d}\sum \prescript{a}{b}{X} \cfrac{1}{1+\cfrac{1}{x}}",
    r"\begin{cases} 1 & x > 0 \\ 0 & \text{otherwise} \end{cases}",
    r"\begin{aligned} a &= b + c \\ &= d \end{aligned}",
]

try:
    math.render("x", False)
except math.MathUnavailable as missing:
    pytest.skip(f"MathJax is not installed ({missing})", allow_module_level=True)
if shutil.which("pdftoppm") is None:
    pytest.skip("pdftoppm (poppler-utils) is not installed", allow_module_level=True)


def fixture_expressions() -> list[tuple[str, bool]]:
    found = []
    for line in (FIXTURES / "expressions.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            mode, _, tex = line.partition(":")
            found.append((tex.strip(), mode.strip() == "display"))
    return found


EXPRESSIONS = fixture_expressions() + [(tex, display) for tex in CONSTRUCTS for display in (False, True)]


@pytest.fixture(scope="module")
def mathjax_svgs() -> list[bytes]:
    """MathJax's own SVG of each expression, as press.math wrote it before flattening."""
    return [mathjax_svg(tex, display) for tex, display in EXPRESSIONS]


def mathjax_svg(tex: str, display: bool) -> bytes:
    answer = math._ask(tex, display)
    x, y, w, h = (float(v) for v in answer["viewBox"].split())
    size = (math._number(v / 1000) for v in (w, h))
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{next(size)}em" height="{next(size)}em" '
        f'viewBox="{math._number(x)} {math._number(y)} {math._number(w)} {math._number(h)}">{answer["body"]}</svg>'
    ).encode()


def laid_out(svgs: list[bytes], folder: Path) -> bytes:
    """A PDF of the SVGs, each as an <img> on a line of its own, as the build loads an equation."""
    folder.mkdir(exist_ok=True)
    lines = []
    for svg in svgs:
        name = f"eq-{hashlib.sha1(svg).hexdigest()}.svg"  # 40 hex digits, as press.renditions names one
        (folder / name).write_bytes(svg)
        lines.append(f'<p><img src="media:{name}" style="height: 2.5em; width: auto"></p>')
    page = "<style>@page { size: 14cm 40cm; margin: 5mm } p { margin: 0 0 3mm }</style>" + "".join(lines)
    pdf.import_weasyprint()
    from weasyprint import HTML

    return HTML(string=page, url_fetcher=pdf.url_fetcher_for([folder], folder)).write_pdf()


def pages(document: bytes, folder: Path, dpi: int = 150) -> list[Image.Image]:
    target = folder / f"{hashlib.sha1(document).hexdigest()}.pdf"
    target.write_bytes(document)
    subprocess.run(["pdftoppm", "-r", str(dpi), "-gray", "-png", str(target), str(target.with_suffix(""))], check=True)
    return [Image.open(path).convert("L") for path in sorted(folder.glob(f"{target.stem}-*.png"))]


def visible_difference(a: bytes, b: bytes, folder: Path) -> int:
    """The largest difference between the two PDFs' pages that is more than an edge pixel (0-255)."""
    first, second = pages(a, folder), pages(b, folder)
    assert len(first) == len(second) >= 1
    return max(
        ImageChops.difference(x, y).filter(ImageFilter.MinFilter(3)).getextrema()[1]
        for x, y in zip(first, second, strict=True)
    )


# --- the same picture --------------------------------------------------------------------------------


def test_every_expression_is_flattened(mathjax_svgs):
    left = [tex for (tex, _), svg in zip(EXPRESSIONS, mathjax_svgs, strict=True) if flatten.flatten(svg) is None]
    assert left == []


def test_flattened_equations_look_the_same_as_mathjax_drew_them(mathjax_svgs, tmp_path):
    flat = [flatten.flatten(svg) for svg in mathjax_svgs]
    assert visible_difference(laid_out(mathjax_svgs, tmp_path), laid_out(flat, tmp_path), tmp_path) == 0


def test_the_comparison_sees_a_missing_glyph(mathjax_svgs, tmp_path):
    flat = flatten.flatten(mathjax_svg(r"a + b", False))
    assert flat is not None
    broken = re.sub(rb'd="M[^"]*?Z', b'd="', flat, count=1)  # the first glyph's first subpath gone
    assert broken != flat
    assert visible_difference(laid_out([flat], tmp_path), laid_out([broken], tmp_path), tmp_path) > 64


def test_the_svg_keeps_its_size_and_its_box():
    original = mathjax_svg(r"\frac{a}{b}", True)
    before, after = etree.fromstring(original), etree.fromstring(flatten.flatten(original))
    assert dict(after.attrib) == dict(before.attrib)


def test_one_path_per_run_of_one_colour():
    plain = etree.fromstring(flatten.flatten(mathjax_svg(r"\sum_{i=1}^{n} x_i^2 = \alpha", True)))
    assert [child.tag for child in plain] == [f"{SVG}path"]
    fraction = etree.fromstring(flatten.flatten(mathjax_svg(r"\frac{a}{b} + c", True)))
    assert [child.tag.removeprefix(SVG) for child in fraction] == ["path", "rect", "path"]  # the bar between
    coloured = etree.fromstring(flatten.flatten(mathjax_svg(r"a + \textcolor{red}{b} + c", False)))
    assert [(child.tag, child.get("fill")) for child in coloured] == [
        (f"{SVG}path", None),
        (f"{SVG}path", "red"),
        (f"{SVG}path", None),
    ]


def test_a_nested_svg_is_kept_in_a_group_that_places_it():
    root = etree.fromstring(flatten.flatten(mathjax_svg(r"\overbrace{a+b+c+d+e+f+g+h+i+j}^{n}", True)))
    nested = root.findall(f"{SVG}g/{SVG}svg")
    assert nested and all(group.get("transform").startswith("matrix(") for group in root.findall(f"{SVG}g"))


def test_path_data_is_absolute_moves_lines_and_curves_in_whole_numbers(mathjax_svgs):
    for svg in mathjax_svgs:
        for path in etree.fromstring(flatten.flatten(svg)).iter(f"{SVG}path"):
            if path.getparent().tag != f"{SVG}svg" or path.getparent().getparent() is not None:
                continue  # inside a nested svg: MathJax's own
            assert pdf.FLAT_PATH.fullmatch(path.get("d")), path.get("d")[:80]


def test_a_mirrored_glyph_over_another_still_fills_where_they_overlap(tmp_path):
    # Two overlapping squares, the second drawn through a mirror: as one path under the nonzero rule
    # their windings would cancel where they overlap, unless one is traced backwards.
    square = "M0 0L600 0L600 600L0 600Z"
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="1.5em" height="1em" viewBox="0 0 1500 1000">'
        f'<g><path d="{square}"></path><g transform="translate(1000,0) scale(-1,1)"><path d="{square}"></path></g></g>'
        "</svg>"
    ).encode()
    flat = flatten.flatten(svg)
    assert flat is not None and len(etree.fromstring(flat).findall(f"{SVG}path")) == 1
    assert visible_difference(laid_out([svg], tmp_path), laid_out([flat], tmp_path), tmp_path) == 0


def test_rules_and_frames_stay_rects_and_lines_where_they_stood(tmp_path):
    svg = (
        b'<svg xmlns="http://www.w3.org/2000/svg" width="1em" height="1em" viewBox="0 -900 1000 1000">'
        b'<g stroke="currentColor" fill="currentColor" stroke-width="0" transform="scale(1,-1)">'
        b'<g transform="translate(50,0)"><rect x="50" y="-50" width="800" height="800" fill="none" stroke-width="67">'
        b'</rect><rect x="100" y="400" width="600" height="60"></rect>'
        b'<line x1="50" y1="-50" x2="850" y2="750" stroke-width="67"></line>'
        b'<line class="mjx-solid" x1="100" y1="200" x2="800" y2="200"></line></g></g></svg>'
    )
    flat = etree.fromstring(flatten.flatten(svg))
    assert [child.tag.removeprefix(SVG) for child in flat] == ["rect", "rect", "line", "line"]
    frame, rule, stroke, table_rule = flat
    assert {k: frame.get(k) for k in ("x", "y", "width", "height", "stroke-width")} == {
        "x": "100",
        "y": "-750",
        "width": "800",
        "height": "800",
        "stroke-width": "67",
    }
    # A table rule MathJax leaves 0 wide stays as WeasyPrint draws it (a path of no area, filled).
    assert (table_rule.get("y1"), table_rule.get("stroke-width"), table_rule.get("fill")) == (
        "-200",
        "0",
        "currentColor",
    )
    assert visible_difference(laid_out([svg], tmp_path), laid_out([flatten.flatten(svg)], tmp_path), tmp_path) == 0


@pytest.mark.parametrize(
    "body",
    [
        '<text x="0" y="0">x</text>',  # a character MathJax has no outline for
        '<path d="M0 0A10 10 0 0 1 20 20Z"></path>',  # an arc
        '<g opacity="0.5"><path d="M0 0L10 0L10 10Z"></path></g>',
        '<path d="M0 0L10 0L10 10Z" stroke="black" stroke-width="5"></path>',  # a stroked outline
        '<line x1="0" y1="0" x2="10" y2="0" stroke="black" stroke-width="5" stroke-dasharray="2"></line>',
        '<image href="x.png" width="10" height="10"></image>',
        '<g transform="perspective(2)"><path d="M0 0L10 0L10 10Z"></path></g>',
    ],
)
def test_what_it_does_not_know_it_leaves_as_it_is(body):
    svg = f'<svg xmlns="http://www.w3.org/2000/svg" width="1em" height="1em" viewBox="0 0 100 100">{body}</svg>'
    assert flatten.flatten(svg.encode()) is None


def test_rendered_equations_are_flattened_and_their_key_says_so(monkeypatch):
    rendered = math.render(r"x^2 + y_i", False)
    assert [child.tag for child in etree.fromstring(rendered.svg)] == [f"{SVG}path"]
    # Renderings kept in build/.press-media are found by key: another SVG form must have another key.
    before = math.key("x", False)
    monkeypatch.setattr(math, "FORMAT", math.FORMAT + 1)
    assert math.key("x", False) != before


# --- writers/pdf.equation_paths ------------------------------------------------------------------------


def test_equation_paths_write_the_same_pdf_as_weasyprints_parser(mathjax_svgs, tmp_path):
    from weasyprint import svg as weasyprint_svg
    from weasyprint.svg.path import path as weasyprint_path

    # Flattened SVGs, and MathJax's own (whose paths are left to WeasyPrint's parser).
    svgs = [flatten.flatten(svg) for svg in mathjax_svgs] + mathjax_svgs[:20]
    pdf.import_weasyprint()
    pdf.equation_paths()
    assert weasyprint_svg.TAGS["path"] is not weasyprint_path
    fast = laid_out(svgs, tmp_path)
    patched = weasyprint_svg.TAGS["path"]
    try:
        weasyprint_svg.TAGS["path"] = weasyprint_path
        parsed = laid_out(svgs, tmp_path)
    finally:
        weasyprint_svg.TAGS["path"] = patched
    with pikepdf.open(io.BytesIO(fast)) as one, pikepdf.open(io.BytesIO(parsed)) as other:
        assert [p.Contents.read_bytes() for p in one.pages] == [p.Contents.read_bytes() for p in other.pages]
    assert fast == parsed


def test_equation_paths_leave_other_svgs_to_weasyprint(tmp_path, monkeypatch):
    from weasyprint import HTML
    from weasyprint import svg as weasyprint_svg

    pdf.import_weasyprint()
    pdf.equation_paths()
    patched = weasyprint_svg.TAGS["path"]
    seen = []

    def spy(drawing, node, font_size, own=patched.weasyprint_path):
        seen.append(drawing.url)
        return own(drawing, node, font_size)

    monkeypatch.setattr(patched, "weasyprint_path", spy)
    figure = tmp_path / "figure.svg"
    figure.write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><path d="M0 0L10 0L10 10Z"/></svg>'
    )
    name = f"eq-{'0' * 40}.svg"
    (tmp_path / name).write_bytes(flatten.flatten(mathjax_svg("x", False)))
    page = f'<img src="{figure.as_uri()}"><img src="media:{name}">'
    HTML(string=page, url_fetcher=pdf.url_fetcher_for([tmp_path], tmp_path)).write_pdf()
    assert seen == [figure.as_uri()]


def test_equation_paths_were_checked_against_the_pinned_weasyprint():
    # A new WeasyPrint may parse paths differently: equation_paths then stays off until it is checked
    # again (the test above) and WEASYPRINT_FOR_EQUATION_PATHS moved with the pin.
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    pins = [d for d in project["project"]["dependencies"] if d.replace(" ", "").startswith("weasyprint==")]
    assert pins == [f"weasyprint=={pdf.WEASYPRINT_FOR_EQUATION_PATHS}"]
