"""press.flatten: MathJax's SVG redrawn as one path per colour draws the same picture, and what it
does not know it leaves alone; writers/pdf_equations draws what flatten wrote as WeasyPrint draws its SVG.

The pictures are compared as a reader sees them: each SVG laid out by WeasyPrint as the build does
(an <img> with a media: URL), the PDF rasterised by pdftoppm, the difference eroded by a 3x3 minimum
so that single edge pixels (anti-aliasing of coordinates rounded to 1/10,000 em) do not count and a
moved, missing or hollow stroke of a pixel or more does.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import re
import shutil
import subprocess
import tomllib
from pathlib import Path
from xml.etree import ElementTree

import pikepdf
import pytest
from lxml import etree
from PIL import Image, ImageChops, ImageFilter

from press import flatten, math
from press.writers import pdf, pdf_equations

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
        # A block of its own: only the drawing is compared here (the baseline: test_…_on_the_baseline_…).
        lines.append(f'<p><img src="media:{name}" style="display: block; height: 2.5em; width: auto"></p>')
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
            assert pdf_equations.FLAT_PATH.fullmatch(path.get("d")), path.get("d")[:80]


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


# --- writers/pdf_equations ---------------------------------------------------------------------------


@contextlib.contextmanager
def weasyprints_own_svgs():
    """WeasyPrint loads and draws every equation as the SVG it is, as without press.writers.pdf_equations."""
    from weasyprint import document

    pdf.import_weasyprint()
    pdf_equations.install()
    hook = document.original_get_image_from_uri
    document.original_get_image_from_uri = hook.weasyprint
    try:
        yield
    finally:
        document.original_get_image_from_uri = hook


def test_equations_drawn_as_forms_look_the_same_as_weasyprint_draws_their_svgs(mathjax_svgs, tmp_path):
    # Flattened SVGs (drawn by press.writers.pdf_equations), and MathJax's own (left to WeasyPrint).
    svgs = [flatten.flatten(svg) for svg in mathjax_svgs] + mathjax_svgs[:20]
    drawn = [svg for svg in svgs if pdf_equations.Equation.read("eq-x.svg", svg) is not None]
    # Left to WeasyPrint: strokes (\cancel, \boxed, \hline) and stretched pieces in a nested <svg>.
    assert len(drawn) >= 0.75 * len(mathjax_svgs)
    pdf.import_weasyprint()
    pdf_equations.install()
    forms = laid_out(svgs, tmp_path / "forms")
    with weasyprints_own_svgs():
        own = laid_out(svgs, tmp_path / "own")
    assert forms != own
    first, second = pages(forms, tmp_path), pages(own, tmp_path)
    assert len(first) == len(second) >= 2
    assert all(ImageChops.difference(a, b).getbbox() is None for a, b in zip(first, second, strict=True))


def test_inline_equations_stand_on_the_baseline_as_their_depth_as_vertical_align_did(mathjax_svgs, tmp_path):
    # The print HTML gives an equation no size and no vertical-align (it is not typeset yet when the
    # HTML is made): its size is the SVG's, and its depth seats it on the baseline in the layout
    # (pdf_equations.install). The same page as WeasyPrint lays out the sizes and the depths written out.
    svgs = [flatten.flatten(svg) for svg in mathjax_svgs[:40]] + mathjax_svgs[40:50]
    folder = tmp_path / "media"
    folder.mkdir()
    ours, written = [], []
    for svg in svgs:
        name = f"eq-{hashlib.sha1(svg).hexdigest()}.svg"
        (folder / name).write_bytes(svg)
        root = ElementTree.fromstring(svg)
        x, y, w, h = (float(n) for n in root.get("viewBox").split())
        style = f"width: {root.get('width')}; height: {root.get('height')}; vertical-align: -{(y + h) / 1000}em"
        ours.append(f'Before <img src="media:{name}"> after.')
        written.append(f'Before <img src="media:{name}" style="{style}"> after.')
    pdf.import_weasyprint()
    pdf_equations.install()
    from weasyprint import HTML

    def page(lines: list[str]) -> bytes:
        html = "<style>@page { size: 14cm 30cm; margin: 5mm } p { margin: 0 0 2mm }</style>"
        html += "".join(f"<p>{line}</p>" for line in lines)
        return HTML(string=html, url_fetcher=pdf.url_fetcher_for([folder], folder)).write_pdf()

    seated = page(ours)
    with weasyprints_own_svgs():
        styled = page(written)
    first, second = pages(seated, tmp_path), pages(styled, tmp_path)
    assert len(first) == len(second) >= 2
    assert all(ImageChops.difference(a, b).getbbox() is None for a, b in zip(first, second, strict=True))
    raised = page([line.replace("Before <img", "Before <img style='vertical-align: 0.2em'") for line in ours])
    assert any(ImageChops.difference(a, b).getbbox() for a, b in zip(pages(raised, tmp_path), first, strict=True))


def test_the_comparison_sees_a_form_drawn_wrong(monkeypatch, tmp_path):
    svg = flatten.flatten(mathjax_svg(r"\frac{a}{b} + \textcolor{red}{c}", True))
    pdf.import_weasyprint()
    pdf_equations.install()
    with weasyprints_own_svgs():
        own = laid_out([svg], tmp_path / "own")
    draw = pdf_equations.Equation.draw

    def shifted(self, stream, width, height, style):
        stream.transform(e=0.5)  # half a CSS pixel to the right
        draw(self, stream, width, height, style)

    monkeypatch.setattr(pdf_equations.Equation, "draw", shifted)
    moved = laid_out([svg], tmp_path / "moved")
    assert any(
        ImageChops.difference(a, b).getbbox() is not None
        for a, b in zip(pages(moved, tmp_path), pages(own, tmp_path), strict=True)
    )


def test_an_equation_drawn_twice_is_one_form(tmp_path):
    svg = flatten.flatten(mathjax_svg(r"x^2 + \frac{a}{b}", False))
    pdf.import_weasyprint()
    pdf_equations.install()
    with pikepdf.open(io.BytesIO(laid_out([svg] * 3, tmp_path))) as document:
        forms = [o for o in document.objects if isinstance(o, pikepdf.Stream) and o.get("/Subtype") == "/Form"]
        assert len(forms) == 1
        assert b"/" in forms[0].read_bytes() or b" c" in forms[0].read_bytes()


def test_other_images_are_left_to_weasyprint(tmp_path, monkeypatch):
    from weasyprint import HTML, document

    pdf.import_weasyprint()
    pdf_equations.install()
    hook = document.original_get_image_from_uri
    seen = []

    def spy(cache, url_fetcher, options, url, *args, own=hook.weasyprint, **kwargs):
        seen.append(url)
        return own(cache, url_fetcher, options, url, *args, **kwargs)

    monkeypatch.setattr(hook, "weasyprint", spy)
    figure = tmp_path / "figure.svg"
    figure.write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><path d="M0 0L10 0L10 10Z"/></svg>'
    )
    flat, kept = f"eq-{'0' * 40}.svg", f"eq-{'1' * 40}.svg"
    (tmp_path / flat).write_bytes(flatten.flatten(mathjax_svg("x", False)))
    (tmp_path / kept).write_bytes(mathjax_svg("x", False))  # as MathJax drew it: nested groups
    page = f'<img src="{figure.as_uri()}"><img src="media:{flat}"><img src="media:{kept}">'
    HTML(string=page, url_fetcher=pdf.url_fetcher_for([tmp_path], tmp_path)).write_pdf()
    assert seen == [figure.as_uri(), f"media:{kept}"]


@pytest.mark.parametrize(
    "body",
    [
        '<path d="M0 0L10 0L10 10Z" fill="red"></path>',  # the control: one this module draws
        '<path d="M0 0L10 0L10 10Z" fill="rgba(0,0,0,0.5)"></path>',
        '<path d="M0 0L10 0L10 10Z" fill="url(#g)"></path>',
        '<path d="M0 0 L10 0L10 10Z"></path>',  # not as press.flatten writes a path
        '<path d="M0 0L10.5 0L10 10Z"></path>',
        '<path d="M0 0L10 0L10 10Z" transform="scale(2)"></path>',
        '<rect x="0" y="0" width="10" height="2" stroke="black" stroke-width="3"></rect>',
        '<rect x="0" y="0" width="10" height="2" rx="1"></rect>',
        '<line x1="0" y1="0" x2="10" y2="0" stroke="black"></line>',
        '<g transform="matrix(1 0 0 1 5 5)"><svg viewBox="0 0 10 10"></svg></g>',
        "<text>x</text>",
    ],
)
def test_what_is_not_as_flatten_writes_it_is_weasyprints(body):
    svg = f'<svg xmlns="http://www.w3.org/2000/svg" width="1em" height="1em" viewBox="0 0 100 100">{body}</svg>'
    equation = pdf_equations.Equation.read("eq-x.svg", svg.encode())
    assert (equation is not None) == ('fill="red"' in body)


def test_equation_forms_were_checked_against_the_pinned_weasyprint():
    # A new WeasyPrint may load or draw images differently: the forms then stay off until they are
    # checked again (the tests above) and WEASYPRINT_FOR_EQUATIONS moved with the pin.
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    pins = [d for d in project["project"]["dependencies"] if d.replace(" ", "").startswith("weasyprint==")]
    assert pins == [f"weasyprint=={pdf_equations.WEASYPRINT_FOR_EQUATIONS}"]
