"""Equations typeset in every format: vector math in the PDF (with its TeX as the tagged PDF's alt
text), MathML in the HTML and the JATS, Word equations in the DOCX; numbered display equations with
cross-references; bad TeX an error at its file, line and column; never raw TeX in an output."""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import time
import zipfile
from pathlib import Path

import pikepdf
import pytest
from conftest import FIXTURES, chromium, copy_project, libreoffice_pdf, needs_mathjax, run_cli
from lxml import etree, html

from press import math
from press.build import build
from press.model import PressError

SLUG = "minimal-article"
TEXT = r"""
# Pharmacokinetics {#sec:pk}

Clearance is $CL = k \cdot V_d$, and the dose at steady state is $D = \frac{C_{ss} \cdot CL \cdot \tau}{F}$.

$$ C(t) = \frac{D}{V_d} e^{-k t} $$ {#eq:conc}

The half-life follows from @eq:conc, as \eqref{eq:sum} and \ref{eq:conc} say again.

\begin{equation}
\sum_{i=1}^{n} x_i^2 = \left( \frac{a}{b} \right)^2 \label{eq:sum}
\end{equation}

\begin{align*}
\bar{x} &= \frac{1}{n} \sum_{i} x_i \\
\hat{\beta} &= (X^\top X)^{-1} X^\top y
\end{align*}

$$ f(x) = \begin{cases} \sqrt{x} & x \ge 0 \\ \operatorname{sgn}(x) & x < 0 \end{cases} $$ {#eq:cases}

$$ M = \begin{pmatrix} 1 & 0 \\ 0 & \mathrm{e}^{\lambda t} \end{pmatrix} $$
"""
INLINE = [r"CL = k \cdot V_d", r"D = \frac{C_{ss} \cdot CL \cdot \tau}{F}"]
COUNT = 7  # two inline, five display


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    needs_mathjax()
    project = copy_project(FIXTURES / "minimal", tmp_path_factory.mktemp("equations") / "project")
    results = project / "manuscript" / "results.md"
    results.write_text(results.read_text(encoding="utf-8") + TEXT, encoding="utf-8")
    return project


@pytest.fixture(scope="module")
def out(project: Path) -> Path:
    result = run_cli("--root", str(project), "--out", str(project / "build"))
    assert result.returncode == 0, result.stderr
    return project / "build"


def guessed_wrongly(monkeypatch, guess: str) -> list:
    """The early pandoc pass (press.build) reads ``guess``, not what is loaded, and is done before loading
    starts: a wrong guess found later stops no pandoc mid-way. The passes started, in a list."""
    from press import build as build_module
    from press import pandoc

    started = []

    def wrong_guess(*args):
        started.append(pandoc.Prefetch(pandoc.markdown_to_ast_args(guess), guess.encode("utf-8")))
        started[-1].result()
        return started[-1]

    monkeypatch.setattr(build_module, "start_pandoc_early", wrong_guess)
    return started


def with_line_in_intro(project: Path, folder: Path, line: str) -> tuple[Path, int]:
    """A copy of ``project`` with ``line`` added to its introduction, and that line's number."""
    copy = copy_project(project, folder)
    intro = copy / "manuscript" / "intro.md"
    lines = intro.read_text(encoding="utf-8").splitlines()
    intro.write_text("\n".join([*lines, "", line]) + "\n", encoding="utf-8")
    return copy, len(lines) + 2


def typeset_within(pair: tuple[str, bool], seconds: float = 30) -> bool:
    """Whether this process has (or starts) typesetting ``pair`` within ``seconds``."""
    deadline = time.monotonic() + seconds
    while pair not in math._typeset and time.monotonic() < deadline:
        time.sleep(0.05)
    return pair in math._typeset


def test_check_counts_the_equations_and_not_their_words(project: Path):
    report = json.loads(run_cli("check", "--root", str(project), "--format", "json").stdout)
    counts = {c["name"]: c["value"] for c in report["counts"]}
    assert counts["equations"] == COUNT
    assert report["errors"] == 0


def test_the_pdf_has_the_equations_typeset_with_their_tex_as_formula_alt_text(out: Path):
    text = subprocess.run(["pdftotext", "-layout", str(out / f"{SLUG}.pdf"), "-"], capture_output=True, text=True)
    assert not re.search(r"\\frac|\\begin|\$\$|\\label|\\eqref", text.stdout), "raw TeX in the PDF"
    assert re.search(r"\(1\)\s*$", text.stdout, re.M) and re.search(r"\(3\)\s*$", text.stdout, re.M)
    assert "Equation 1" in text.stdout and "(2)" in text.stdout
    formulas = []
    with pikepdf.open(out / f"{SLUG}.pdf") as pdf:
        stack = [pdf.Root.StructTreeRoot]
        while stack:
            node = stack.pop()
            if isinstance(node, pikepdf.Dictionary):
                if node.get("/S") == "/Formula":
                    formulas.append(str(node.get("/Alt")))
                kids = node.get("/K")
                stack += list(kids) if isinstance(kids, pikepdf.Array) else [kids] if kids is not None else []
    assert len(formulas) == COUNT and all(formulas)
    assert INLINE[0] in formulas and any(alt.startswith(r"\sum_{i=1}") for alt in formulas)


def test_each_equation_is_drawn_in_the_pdf_as_vector_math(out: Path):
    # Each equation is drawn as paths, in a form the page draws (press.writers.pdf_equations) or on the
    # page itself (an SVG WeasyPrint draws): no raster image, and the glyphs are outlines, so pdftotext
    # reads no math text either (test above).
    with pikepdf.open(out / f"{SLUG}.pdf") as pdf:
        streams = [o for o in pdf.objects if isinstance(o, pikepdf.Stream)]
        images = [o for o in streams if o.get("/Subtype") == "/Image"]
        forms = [o for o in streams if o.get("/Subtype") == "/Form"]
        drawn = b"".join(page.Contents.read_bytes() for page in pdf.pages if "/Contents" in page)
        drawn += b"".join(form.read_bytes() for form in forms)
        used = b"".join(page.Contents.read_bytes() for page in pdf.pages if "/Contents" in page)
    assert images == []
    assert drawn.count(b" c\n") + drawn.count(b" l\n") > 100 * COUNT, "hardly any paths on the pages"
    assert forms and used.count(b" Do") >= len(forms)  # each form drawn where its equation stands


def test_the_html_has_mathml_with_the_tex_and_numbered_display_equations(out: Path):
    root = html.parse(str(out / f"{SLUG}.html")).getroot()
    maths = root.findall(".//{http://www.w3.org/1998/Math/MathML}math") or root.findall(".//math")
    assert len(maths) == COUNT
    annotations = [a.text for a in root.iter("annotation") if a.get("encoding") == "application/x-tex"]
    assert INLINE[0] in annotations
    numbered = root.findall(".//span[@class='equation']")
    assert [n.get("id") for n in numbered] == ["eq:conc", "eq:sum", "eq:cases"]
    assert [n.findtext("span[@class='equation-number']") for n in numbered] == ["(1)", "(2)", "(3)"]
    assert root.find(".//a[@href='#eq:conc']").text == "Equation 1"
    assert (out / "fonts" / "STIXTwoMath-Regular.woff2").is_file() and (out / "fonts" / "OFL-STIXTwoMath.txt").is_file()


def test_the_page_with_mathml_is_valid_html5_by_the_nu_html_checker(out: Path):
    from test_html_page import nu_html_check

    result = nu_html_check(out / f"{SLUG}.html")
    assert result.returncode == 0, result.stderr + result.stdout


def in_chromium(page: Path, *scripts: str) -> tuple[list[str], list]:
    """The console's errors for ``page`` in Chromium, and what each of ``scripts`` evaluates to there,
    once its fonts are loaded."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = chromium(playwright)
        tab = browser.new_page()
        problems: list[str] = []
        tab.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
        tab.goto(page.as_uri())
        tab.wait_for_function("document.fonts.status === 'loaded'")
        results = [tab.evaluate(script) for script in scripts]
        browser.close()
    return problems, results


def test_chromium_renders_the_mathml_without_errors(out: Path):
    problems, (heights, fonts) = in_chromium(
        out / f"{SLUG}.html",
        "[...document.querySelectorAll('math')].map(m => m.getBoundingClientRect().height)",
        "[...document.fonts].filter(f => f.status === 'loaded').map(f => f.family)",
    )
    assert problems == [] and len(heights) == COUNT and all(h > 5 for h in heights), (problems, heights)
    assert "STIX Two Math" in fonts


def test_chromium_sets_the_fractions_of_an_aligned_environment_as_display_math(out: Path):
    # amsmath sets aligned's cells in display style; texmath's bare <mtable> would set them in text
    # style in a browser (1/n as small as in a line): the page asks for display style.
    problems, (fractions,) = in_chromium(
        out / f"{SLUG}.html",
        "[...document.querySelectorAll('math')].map(m => [m.querySelector('annotation').textContent.trim(),"
        " [...m.querySelectorAll('mfrac')].map(f => f.getBoundingClientRect().height)])",
    )
    heights = dict(fractions)
    aligned = next(h[0] for tex, h in heights.items() if tex.startswith(r"\begin{aligned}\bar{x}"))
    display, inline = heights[r"C(t) = \frac{D}{V_d} e^{-k t}"][0], heights[INLINE[1]][0]
    assert problems == [] and aligned > 1.2 * inline and abs(aligned - display) < 0.15 * display, heights


def test_chromium_sets_thin_spaces_around_a_function_name_as_tex_does(project: Path, tmp_path: Path):
    # texmath's U+2061 after \sin has no width in MathML Core: "sinx", "ln2", "log2n", "RTln K" until
    # the page adds TeX's thin spaces; none before a parenthesis, "log(x)", or after an operator, "= ln".
    line = r"Functions: $\sin x$, $\ln 2$, $\log_2 n$, $\log(x)$, $RT \ln K$, $y = \ln x$ and $$\max_i x_i$$"
    changed, _ = with_line_in_intro(project, tmp_path / "functions", line)
    assert run_cli("html", "--root", str(changed), "--out", str(tmp_path / "out")).returncode == 0
    problems, (gaps,) = in_chromium(
        tmp_path / "out" / f"{SLUG}.html",
        # For each equation with a function's name: the gaps (in em) before the name (its scripts
        # with it) and after it, to the glyphs on either side.
        "[...document.querySelectorAll('math')].filter(m => m.querySelector('mi[mathvariant=normal]')).map(m => {"
        " const name = m.querySelector('mi[mathvariant=normal]'); const box = name.closest('msub, munder') || name;"
        " const glyphs = [...m.querySelectorAll('mi, mn, mo')].filter(e => !box.contains(e)"
        " && e.textContent.trim() && e.textContent !== '\\u2061');"
        " const em = parseFloat(getComputedStyle(m).fontSize), at = box.getBoundingClientRect();"
        " const before = glyphs.filter(e => e.getBoundingClientRect().right <= at.left + 0.5).pop();"
        " const after = glyphs.find(e => e.getBoundingClientRect().left >= at.right - 0.5);"
        " return [m.querySelector('annotation').textContent.trim(),"
        " [before ? (at.left - before.getBoundingClientRect().right) / em : null,"
        " (after.getBoundingClientRect().left - at.right) / em]]; })",
    )
    em = dict(gaps)
    assert problems == [], problems
    for tex in (r"\sin x", r"\ln 2", r"\log_2 n", r"\max_i x_i", r"RT \ln K", r"y = \ln x"):
        assert 0.12 < em[tex][1] < 0.3, (tex, em)  # after: a thin space
    assert abs(em[r"\log(x)"][1]) < 0.05, em
    assert 0.12 < em[r"RT \ln K"][0] < 0.3, em  # before, after a letter: a thin space
    assert 0.2 < em[r"y = \ln x"][0] < 0.4, em  # after "=": its own thick space, nothing added


def test_mathbf_is_bold_upright_in_the_page_and_the_jats_as_in_latex(project: Path, tmp_path: Path):
    # pandoc 3.9's texmath reads \mathbf{X} as bold italic, like \boldsymbol: the regression model's
    # matrix and vectors must be upright, its coefficients (\boldsymbol) bold italic, as the PDF has them.
    line = r"Model: $\mathbf{y} = \mathbf{X}\boldsymbol{\beta} + \mathbf{\gamma}$, and $\boldsymbol{x}$."
    changed, _ = with_line_in_intro(project, tmp_path / "bold", line)
    assert run_cli("html", "docx", "--root", str(changed), "--out", str(tmp_path / "out")).returncode == 0
    assert run_cli("submission", "--root", str(changed), "--out", str(changed / "dist")).returncode == 0
    page = html.parse(str(tmp_path / "out" / f"{SLUG}.html")).getroot()
    mml = "{http://www.w3.org/1998/Math/MathML}"
    jats = {
        f.findtext("alternatives/tex-math"): f.find(f"alternatives/{mml}math")
        for f in bundled_jats(changed).iter("inline-formula")
    }
    for model in (
        next(m for m in page.iter("math") if m.findtext(".//annotation").startswith(r"\mathbf{y}")),
        jats[r"\mathbf{y} = \mathbf{X}\boldsymbol{\beta} + \mathbf{\gamma}"],
    ):
        shown = [(mi.text, mi.get("mathvariant")) for mi in model.iter("mi", f"{mml}mi")]
        assert shown == [("\U0001d432", "bold"), ("\U0001d417", "bold"), ("\U0001d737", "bold-italic"), ("γ", None)]
    bm = next(m for m in page.iter("math") if m.findtext(".//annotation") == r"\boldsymbol{x}")
    assert [(mi.text, mi.get("mathvariant")) for mi in bm.iter("mi")] == [("\U0001d499", "bold-italic")]
    # Word's: each run's style, b(old) upright or b(old) i(talic)
    omml = "{http://schemas.openxmlformats.org/officeDocument/2006/math}"
    with zipfile.ZipFile(tmp_path / "out" / f"{SLUG}.docx") as word:
        body = etree.fromstring(word.read("word/document.xml"))
    styles = [
        [
            (run.findtext(f"{omml}t"), run.xpath("string(m:rPr/m:sty/@m:val)", namespaces={"m": omml[1:-1]}) or None)
            for run in equation.iter(f"{omml}r")
        ]
        for equation in body.iter(f"{omml}oMath")
    ]
    assert [("y", "b"), ("=", "p"), ("X", "b"), ("β", "bi"), ("+", "p"), ("γ", "i")] in styles
    assert [("x", "bi")] in styles


def test_each_numbered_row_of_an_align_is_a_paragraph_of_its_own_in_the_docx(project: Path, tmp_path: Path):
    # pandoc starts a paragraph at a bare display equation, not at one in its numbered Span: two
    # numbered rows stood on one line, "a = b (1)c = d (2)", in LibreOffice as in Word.
    raw = r"\begin{align} a &= b \label{eq:r1} \\ cc &= d \label{eq:r2} \end{align}"
    changed, _ = with_line_in_intro(project, tmp_path / "rows", raw)
    assert run_cli("docx", "--root", str(changed), "--out", str(tmp_path / "out")).returncode == 0
    w = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
    omml = "{http://schemas.openxmlformats.org/officeDocument/2006/math}"
    with zipfile.ZipFile(tmp_path / "out" / f"{SLUG}.docx") as word:
        body = etree.fromstring(word.read("word/document.xml"))
    rows = [
        p for p in body.iter(f"{w}p") if any("".join(e.itertext()).startswith("cc") for e in p.iter(f"{omml}oMath"))
    ]
    assert len(rows) == 1 and len(list(rows[0].iter(f"{omml}oMathPara"))) == 1
    before = rows[0].getprevious()
    assert len(list(before.iter(f"{omml}oMathPara"))) == 1 and "".join(before.itertext()).strip().endswith("(1)")
    assert "".join(rows[0].itertext()).strip().endswith("(2)")
    names = [b.get(f"{w}name") for b in body.iter(f"{w}bookmarkStart")]
    assert "eq:r1" in names and "eq:r2" in names  # each row still the target of its \ref
    # A row set on its own has no alignment mark ("&", which LibreOffice reads as "∧¿"); the
    # align* of two rows, set as one equation, keeps its marks for Word to align the rows by.
    marks = [[t.text for t in p.iter(f"{omml}t") if t.text == "&"] for p in (before, rows[0])]
    assert marks == [[], []]
    whole = next(e for e in body.iter(f"{omml}oMath") if "(X⊤X)" in "".join(e.itertext()))  # TEXT's align*
    assert [t.text for t in whole.iter(f"{omml}t")].count("&") == 2


@pytest.mark.parametrize(
    ("tex", "row"),
    [
        (r"\begin{aligned}CL &= k \cdot V_d\end{aligned}", r"CL = k \cdot V_d"),
        (r"\begin{aligned}x &= 1 & y &= 2\end{aligned}", r"x = 1 \qquad y = 2"),
        (r"\begin{alignedat}{2}a &= b & c &= {d \& e}\end{alignedat}", r"a = b \qquad c = {d \& e}"),
        (r"\begin{aligned}a &= b \\ c &= d\end{aligned}", None),  # rows to align: kept
        (r"\begin{aligned}a\end{aligned}", None),
        (r"x = \begin{aligned}a &= b\end{aligned}", None),
    ],
)
def test_a_one_row_aligned_goes_to_word_without_its_alignment_marks(tex: str, row: str | None):
    from press.equations import unaligned

    assert unaligned(tex) == row


def test_the_docx_has_word_equations_that_libreoffice_shows(out: Path, tmp_path: Path):
    with zipfile.ZipFile(out / f"{SLUG}.docx") as word:
        document = word.read("word/document.xml").decode()
    assert document.count("<m:oMath>") + document.count("<m:oMath ") >= COUNT
    assert "\\frac" not in document
    converted = libreoffice_pdf(out / f"{SLUG}.docx", tmp_path)
    text = subprocess.run(["pdftotext", str(converted), "-"], capture_output=True, text=True).stdout
    squashed = re.sub(r"\s+", "", text)
    assert "CL=k⋅V" in squashed, "LibreOffice dropped the Word equations (is libreoffice-math installed?)"
    assert "(1)" in squashed and "(3)" in squashed
    assert "(X⊤X)−1X⊤y" in squashed  # the rest after (…)^{-1} was lost (the test below)


# Each: the TeX, and what LibreOffice's PDF of the DOCX shows of it, in pieces (whitespace removed; a
# script's place in pdftotext's text varies). Before the DOCX marked them, a script on ")" or "]" (its
# lone base) or an unpaired bracket showed "¿" and lost the rest of the equation, and every "|" was
# "∨" (logical or).
BRACKETS = [
    (r"(X^\top X)^{-1} X^\top y = b", ["(X⊤X)−1X⊤y=b"]),
    (r"f(x)^2 + 1 = g", ["f(x)", "+1=g"]),
    (r"[x]_i + y = h", ["[x]i+y=h"]),
    (r"((a)^2 + b)^3 = e", ["((a)", "+b)", "=e"]),
    (r"|x|^2 + \|v\|_2 = w", ["|x|", "+∥v∥2=w"]),
    (r"P(A | B) = 0.5", ["P(A|B)=0.5"]),
    (r"x \in [0, 1) \cup (2, 3] = s", ["x∈[0,1)∪(2,3]=s"]),
]


def test_libreoffice_shows_scripts_on_brackets_bars_and_intervals_in_the_docx(project: Path, tmp_path: Path):
    line = "Brackets: " + " and ".join(f"${tex}$" for tex, _ in BRACKETS) + ". End of brackets."
    copy, _ = with_line_in_intro(project, tmp_path / "brackets", line)
    assert run_cli("docx", "--root", str(copy), "--out", str(tmp_path / "out")).returncode == 0
    docx = tmp_path / "out" / f"{SLUG}.docx"
    with zipfile.ZipFile(docx) as word:
        document = etree.fromstring(word.read("word/document.xml"))
    m = "{http://schemas.openxmlformats.org/officeDocument/2006/math}"
    bases = ["".join(e.itertext()) for script in document.iter(f"{m}sSup", f"{m}sSub") for e in script.findall(f"{m}e")]
    assert "(X⊤X)" in bases and "f" not in bases and "[x]" in bases and "|x|" in bases  # the group is the base
    squashed = re.sub(
        r"\s+",
        "",
        subprocess.run(["pdftotext", str(libreoffice_pdf(docx, tmp_path)), "-"], capture_output=True, text=True).stdout,
    )
    shown = squashed[squashed.index("Brackets:") : squashed.index("Endofbrackets.")]
    assert "¿" not in shown and "∨" not in shown
    for _, pieces in BRACKETS:
        assert all(piece in shown for piece in pieces), (pieces, shown)


def test_the_jats_has_formulas_with_mathml_and_tex(project: Path, tmp_path: Path):
    assert run_cli("submission", "--root", str(project), "--out", str(tmp_path)).returncode == 0
    [bundle] = tmp_path.glob("*.zip")
    with zipfile.ZipFile(bundle) as archive:
        xml = etree.fromstring(archive.read("manuscript.xml"))
    mml = "{http://www.w3.org/1998/Math/MathML}math"
    inline = xml.findall(".//inline-formula")
    display = xml.findall(".//disp-formula")
    assert len(inline) == 2 and len(display) == COUNT - 2
    for formula in inline + display:
        alternatives = formula.find("alternatives")
        assert alternatives.find("tex-math").text and alternatives.find(mml) is not None
    assert inline[0].find("alternatives/tex-math").text == INLINE[0]
    numbered = [f for f in display if f.get("id")]
    assert [f.findtext("label") for f in numbered] == ["(1)", "(2)", "(3)"]
    assert {x.get("rid") for x in xml.iter("xref") if x.get("rid", "").startswith("eq")} <= {
        f.get("id") for f in numbered
    }


@pytest.mark.parametrize(
    ("tex", "message", "column"),
    [
        (r"$\frac{a}{$", "Missing close brace", 10),  # the brace left open
        (r"$x = \fracc{a}{b}$", r"Undefined control sequence \fracc", 6),
        (r"$$\left( a + b$$", r"Extra \left or missing \right", 3),
    ],
)
def test_bad_tex_is_an_error_at_its_file_line_and_column(
    project: Path, tmp_path: Path, tex: str, message: str, column: int
):
    broken, line = with_line_in_intro(project, tmp_path / "broken", f"See {tex} here.")
    for command in (["check"], ["html"]):
        result = run_cli(*command, "--root", str(broken), "--out", str(tmp_path / "out"))
        assert result.returncode == 1
        found = re.search(rf"intro\.md:{line}:(\d+): error\[math-syntax\]: .*{re.escape(message)}", result.stderr)
        assert found, result.stderr
        assert int(found.group(1)) == len("See ") + column
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").glob("*.html"))


def test_an_edit_elsewhere_typesets_no_equation_again(project: Path, tmp_path: Path, monkeypatch):
    copy = copy_project(project, tmp_path / "copy")
    out = tmp_path / "out"
    build(copy, out)
    math.forget()

    def no_typesetting(*args, **kwargs):
        raise AssertionError("an unchanged equation was typeset again")

    monkeypatch.setattr(math, "_ask", no_typesetting)
    intro = copy / "manuscript" / "intro.md"
    intro.write_text(intro.read_text(encoding="utf-8") + "\nOne more sentence.\n", encoding="utf-8")
    assert sorted(build(copy, out).rebuilt) == ["docx", "html", "pdf"]


def test_an_equation_the_pdf_sets_smaller_to_fit_is_a_warning_at_its_place(project: Path, tmp_path: Path):
    # WeasyPrint scales an image wider than its line or cell down to fit (max-width: 100%): an equation
    # then prints smaller than its text, unreadably so for a long one; the build says so, each time.
    long = " + ".join(f"a_{{{i}}} x^{{{i}}}" for i in range(40))
    changed, line = with_line_in_intro(project, tmp_path / "wide", f"Wide: ${long}$, and narrow: $x^2$.")
    out = tmp_path / "out"
    for run in range(3):  # built; up to date; the page alone rebuilt (its file gone), the PDF left: said each time
        if run == 2:
            next(out.glob("*.html")).unlink()
        result = run_cli("--root", str(changed), "--out", str(out))
        assert result.returncode == 0, result.stderr
        said = re.findall(r"intro\.md:(\d+):(\d+): warning\[math-too-wide\]: .* at (\d+) % of its size", result.stderr)
        assert len(said) == 1 and said[0][:2] == (str(line), str(len("Wide: ") + 2)) and int(said[0][2]) < 50
    rows = {row.split()[0]: row for row in result.stdout.splitlines() if row.startswith("  ")}
    assert "up to date" in rows["pdf"] and "up to date" not in rows["html"]


def test_an_edited_equation_leaves_no_svg_behind(project: Path, tmp_path: Path):
    # The media folder holds what the last PDF showed: an edited equation's old SVG goes, and so do the
    # sizes files of an earlier version (eq-*.json); an HTML-only build removes nothing.
    copy = copy_project(project, tmp_path / "copy")
    out = tmp_path / "out"
    build(copy, out)
    media = out / ".press-media"
    before = {p.name for p in media.glob("eq-*.svg")}
    assert len(before) == COUNT
    (media / f"eq-{'0' * 40}.json").write_text("{}")
    results = copy / "manuscript" / "results.md"
    results.write_text(results.read_text(encoding="utf-8").replace("e^{-k t}", "e^{-k t + 1}"), encoding="utf-8")
    build(copy, out, ["html"])
    assert {p.name for p in media.glob("eq-*.svg")} == before
    build(copy, out)
    after = {p.name for p in media.glob("eq-*.svg")}
    assert len(after) == COUNT and len(after - before) == 1
    assert not list(media.glob("eq-*.json"))
    assert set(json.loads((media / "equations.json").read_text())) == {name.removesuffix(".svg") for name in after}


ROWS = [
    ("align", r"t_{1/2} &= \frac{\ln 2}{k} \label{eq:a} \\ CL &= k \cdot V_d \label{eq:b}"),
    (
        "align",
        r"a &= b + c \label{x1} \\ ddd &+ e - \sum_{i=1}^n x_i \label{x2} \\ f &\le \left(\frac{g}{h}\right)^2 \nonumber",
    ),
    ("align", r"x &= 1 & y &= 2 \label{p} \\ xx &= 10 & yyy &= \int_0^1 f \label{q}"),
    (
        "align",
        r"\mathrm{CL} &= \frac{\text{dose}}{\mathrm{AUC}} \quad \text{(steady)} \label{s1} \\ k &= \frac{CL}{V_d} \label{s2}",
    ),
    ("alignat", r"{2} a &= b & c &= d \label{m1} \\ aa &= bb & {c}c &= \{dd\} \label{m2}"),
]


@pytest.mark.parametrize(("name", "body"), ROWS)
def test_the_rows_of_an_environment_set_one_by_one_keep_its_columns(name: str, body: str):
    # Two \labels: each row is its own numbered equation, set on its own, each as wide as the whole
    # environment with every glyph where MathJax sets it in the environment: centred, they line up.
    from press import equations

    raw = f"\\begin{{{name}}}{body}\\end{{{name}}}"
    rows = equations._environment(raw)
    padded = equations.aligned_rows([{"t": "Para", "c": rows}])
    assert len(padded) == len(rows) > 1
    whole = equations.ENVIRONMENT.match(raw)
    tex = equations.NONUMBER.sub("", equations.LABEL.sub("", whole.group("body"))).strip()
    inner = equations.ENVIRONMENTS[name]
    environment = math.render(f"\\begin{{{inner}}}{whole.group('argument') or ''}{tex}\\end{{{inner}}}", True)
    starts = re.compile(rb"M(-?\d+) ")  # where each outline starts, across: glyphs in reading order
    each = [math.render(padded[id(equations._row_math(row))], True) for row in rows]
    assert [x for row in each for x in starts.findall(row.svg)] == starts.findall(environment.svg)
    assert {round(row.width, 4) for row in each} == {round(environment.width, 4)}
    assert all(row.height < environment.height / 1.5 for row in each)  # each its own row's height


def test_rows_with_intertext_or_in_a_gather_are_set_as_they_are():
    from press import equations

    for raw in (
        r"\begin{align} a &= b \label{u} \\ \intertext{so} c &= d \label{v} \end{align}",
        r"\begin{gather} a = b \label{g1} \\ cc = d \label{g2} \end{gather}",
    ):
        rows = equations._environment(raw)
        assert len(rows) == 2 and equations.aligned_rows([{"t": "Para", "c": rows}]) == {}


def test_a_padded_row_mathjax_cannot_typeset_is_typeset_as_written(tmp_path: Path):
    from press.renditions import Media

    media = Media(tmp_path, tmp_path / ".press-media")
    name, size, svg = media._equation(r"\mathllap{\frac{a}", True, fallback=r"\frac{a}{b}")
    assert svg == math.render(r"\frac{a}{b}", True).svg and (tmp_path / ".press-media" / name).read_bytes() == svg
    with pytest.raises(math.MathError):
        media._equation(r"\mathllap{\frac{c}", True)


def test_a_kept_equation_svg_that_is_not_what_its_sizes_vouch_for_is_typeset_again(tmp_path: Path):
    # The kept SVGs are written without fsync: a crash may tear one, and a torn one must never be used.
    from press.renditions import Media

    media = Media(tmp_path, tmp_path / ".press-media")
    name, size = media.equation(r"\frac{a}{b}", True)
    media.keep()  # as the build does once its outputs are written
    svg = tmp_path / ".press-media" / name
    whole = svg.read_bytes()
    svg.write_bytes(whole[: len(whole) // 2])
    math.forget()
    again = Media(tmp_path, tmp_path / ".press-media")  # the next build
    assert again.equation(r"\frac{a}{b}", True) == (name, size)
    assert svg.read_bytes() == whole


def test_a_clean_build_of_text_with_math_starts_mathjax_before_the_checks(tmp_path: Path):
    from press.build import _typesets_equations

    assert _typesets_equations(b"Clearance is $CL = k V_d$.", tmp_path / "build")
    assert _typesets_equations(b"\\begin{equation} x \\end{equation}", tmp_path / "build")
    assert not _typesets_equations(b"No mathematics here.", tmp_path / "build")
    kept = tmp_path / "build" / ".press-media"
    kept.mkdir(parents=True)
    (kept / "equations.json").write_text("{}")
    assert not _typesets_equations(b"Clearance is $CL = k V_d$.", tmp_path / "build")  # a rebuild: most are kept


def test_the_print_rendering_needs_no_typeset_equation(tmp_path: Path, monkeypatch):
    # The print HTML goes to pandoc, and to the PDF worker, while node is still typesetting: an
    # equation's <img> has the SVG's own size, and its depth is the layout's (pdf_equations).
    import threading

    from press.renditions import Media
    from press.writers.shared import rendering_ast

    typeset = threading.Event()
    render = math.render

    def slow(tex, display):
        assert typeset.wait(30), "never let through"
        return render(tex, display)

    monkeypatch.setattr(math, "render", slow)
    math.forget()
    media = Media(tmp_path, tmp_path / ".press-media")
    media.expect(False, True)
    kept = []
    media.on_kept = lambda path, failure, svg: kept.append((path, failure))
    para = {"t": "Para", "c": [{"t": "Math", "c": [{"t": "InlineMath"}, r"\frac{a}{b}"]}]}
    ast = {"pandoc-api-version": [1, 23], "meta": {}, "blocks": [para]}
    done: list = []
    threading.Thread(target=lambda: done.append(rendering_ast("print", ast, media)), daemon=True).start()
    deadline = time.monotonic() + 10
    while not done and time.monotonic() < deadline:
        time.sleep(0.01)
    assert done, "the rendering waited for the typesetting"
    page = done[0]["blocks"][0]["c"][0]["c"][1]
    assert "style=" not in page and kept == []
    typeset.set()
    media.kept()
    name, _ = media.equation(r"\frac{a}{b}", False)
    assert f'src="media:{name}"' in page
    assert kept == [(tmp_path / ".press-media" / name, None)]
    assert (tmp_path / ".press-media" / name).is_file()


def test_the_pdf_job_goes_to_the_worker_before_its_equations_are_kept(project: Path, tmp_path: Path, monkeypatch):
    # Its layout begins while node typesets, and no equation is kept (written, flattened, said to the
    # worker) before the job is with the worker: that would take this process's time before then.
    import threading

    from press.pdf_worker import PdfWorker
    from press.renditions import Media

    sent, send, equation = threading.Event(), PdfWorker.send, Media.equation
    said: list = []
    monkeypatch.setattr(PdfWorker, "send", lambda self, job: (said.append(job.announced), sent.set(), send(self, job)))
    monkeypatch.setattr(
        Media, "equation", lambda self, *pair: equation(self, *pair) if sent.is_set() else pytest.fail("kept first")
    )
    math.forget()
    out = tmp_path / "build"
    assert sorted(build(copy_project(project, tmp_path / "copy"), out).rebuilt) == ["docx", "html", "pdf"]
    assert said == [True]
    text = subprocess.run(["pdftotext", str(out / f"{SLUG}.pdf"), "-"], capture_output=True, text=True).stdout
    assert "Pharmacokinetics" in text and "\\frac" not in text


def test_a_changed_job_is_laid_out_here_not_the_one_sent_early(project: Path, tmp_path: Path, monkeypatch):
    # Never seen: but should the job the PDF's writer makes differ from the one sent early, the PDF
    # is this one's, laid out in the build's own process.
    from press.writers import pdf

    made = pdf.job_for

    def job_for(*args, announced: bool = False, **kwargs):
        job = made(*args, announced=announced, **kwargs)
        return dataclasses.replace(job, html=job.html.replace("Pharmacokinetics", "Changed")) if announced else job

    monkeypatch.setattr(pdf, "job_for", job_for)
    math.forget()
    out = tmp_path / "build"
    build(copy_project(project, tmp_path / "copy"), out)
    text = subprocess.run(["pdftotext", str(out / f"{SLUG}.pdf"), "-"], capture_output=True, text=True).stdout
    assert "Pharmacokinetics" in text and "Changed" not in text


def test_an_equation_that_cannot_be_kept_is_said_to_the_worker_and_raised_where_waited_for(tmp_path: Path):
    from press.renditions import Media
    from press.writers.shared import rendering_ast

    math.forget()
    media = Media(tmp_path, tmp_path / ".press-media")
    media.expect(False, True)
    kept = []
    media.on_kept = lambda path, failure, svg: kept.append((path.name, failure))
    para = {"t": "Para", "c": [{"t": "Math", "c": [{"t": "InlineMath"}, r"\frac{a}{"]}]}
    rendering_ast("print", {"pandoc-api-version": [1, 23], "meta": {}, "blocks": [para]}, media)
    with pytest.raises(math.MathError, match="Missing close brace"):
        media.kept()
    [(name, failure)] = kept
    assert name.startswith("eq-") and "Missing close brace" in failure


def test_a_kept_equation_is_used_as_it_is_by_the_next_build(tmp_path: Path, monkeypatch):
    # One file of sizes for all the equations (Media.keep), not a file each beside its SVG.
    from press.renditions import Media

    media = Media(tmp_path, tmp_path / ".press-media")
    shown = [media.equation(tex, display) for tex, display in [(r"\frac{a}{b}", True), (r"x^2", False)]]
    media.keep()
    assert sorted(p.suffix for p in (tmp_path / ".press-media").iterdir()) == [".json", ".svg", ".svg"]
    math.forget()
    monkeypatch.setattr(math, "render", lambda *args: pytest.fail("a kept equation was typeset again"))
    again = Media(tmp_path, tmp_path / ".press-media")
    assert [again.equation(tex, display) for tex, display in [(r"\frac{a}{b}", True), (r"x^2", False)]] == shown


def test_a_rebuild_after_an_edit_starts_no_node_process(project: Path, tmp_path: Path):
    # The early typesetting (press.build) is for a clean build: here every equation is kept.
    copy = copy_project(project, tmp_path / "copy")
    out = tmp_path / "out"
    build(copy, out)
    math.close()
    math.forget()
    intro = copy / "manuscript" / "intro.md"
    intro.write_text(intro.read_text(encoding="utf-8") + "\nOne more sentence.\n", encoding="utf-8")
    assert sorted(build(copy, out).rebuilt) == ["docx", "html", "pdf"]
    assert math._worker is None


def test_a_wrong_early_guess_typesets_ahead_and_still_gives_the_equations_and_errors(
    project: Path, out: Path, tmp_path: Path, monkeypatch
):
    # The build typesets the early pandoc pass's equations beside loading; when that pass read other
    # text than the one loaded, what it typeset is only wasted, and the checks report as ever.
    started = guessed_wrongly(
        monkeypatch, "Guessed $\\guessed{a}$ and $$ y_{guessed} = 1 $$ and $CL = k \\cdot V_d$.\n"
    )
    broken, line = with_line_in_intro(project, tmp_path / "broken", r"See $x = \fracc{a}{b}$ here.")
    math.forget()
    with pytest.raises(PressError) as raised:
        build(broken, tmp_path / "out")
    assert started
    [problem] = [d for d in raised.value.diagnostics if d.code == "math-syntax"]
    assert problem.file.endswith("/manuscript/intro.md")
    assert (problem.line, problem.column) == (line, len("See ") + 6)
    assert r"Undefined control sequence \fracc" in problem.message
    assert typeset_within((r" y_{guessed} = 1 ", True))  # typeset ahead, shown by no one
    assert isinstance(math.check(r"\guessed{a}", False), math.MathError)  # and reported by no one

    math.forget()
    good = tmp_path / "good"
    assert "pdf" in build(project, good).rebuilt  # the guess again, wrong for this text too
    assert (r" y_{guessed} = 1 ", True) in math._typeset  # typeset ahead
    # What the PDF shows is what a build without the guess typeset (the module's), and no more.
    shown = {p.name: p.read_bytes() for p in (good / ".press-media").glob("eq-*")}
    assert shown == {p.name: p.read_bytes() for p in (out / ".press-media").glob("eq-*")} and len(shown) == COUNT
    assert (good / ".press-media" / "equations.json").read_bytes() == (
        out / ".press-media" / "equations.json"
    ).read_bytes()


def test_check_typesets_ahead_too_and_reports_as_without(project: Path, tmp_path: Path, monkeypatch, capsys):
    # check has no outputs to keep equations in: it typesets them all, so it starts as a clean build does.
    from press.check import check

    guessed_wrongly(monkeypatch, "Guessed $$ z_{check} = 2 $$.\n")
    broken, line = with_line_in_intro(project, tmp_path / "broken", r"See $\frac{a}{$ here.")
    math.forget()
    assert check(broken) == 1
    assert re.search(rf"intro\.md:{line}:{len('See ') + 10}: error\[math-syntax\]", capsys.readouterr().err)
    assert typeset_within((" z_{check} = 2 ", True))  # typeset ahead, though no one asked for it
    assert math.check(" z_{check} = 2 ", True) is None


# MathJax typesets these, pandoc's TeX reader reads none of them: written from MathJax's MathML.
UNREAD = [r"\textcolor{blue}{b + 1}", r"\fbox{abc}", r"\bra{\psi}", r"\prescript{14}{6}{C}"]
UNREAD_DISPLAY = r" x = a_0 + \cfrac{1}{a_1 + \cfrac{1}{a_2}} "
# Nor this one; and pandoc's reading of its MathML has no binomial (it would be a fraction): its TeX stays.
UNFAITHFUL = r"\tbinom{n}{k}"


@pytest.fixture(scope="module")
def unread(project: Path, tmp_path_factory) -> tuple[Path, Path, str, int]:
    """The project with UNREAD inline, UNREAD_DISPLAY numbered and UNFAITHFUL added, built with its
    submission bundle: (the project, its build folder, what the build said, UNFAITHFUL's line)."""
    line = "Beside $a^2$: " + ", ".join(f"${tex}$" for tex in [*UNREAD, UNFAITHFUL]) + "."
    changed, number = with_line_in_intro(project, tmp_path_factory.mktemp("unread") / "project", line)
    results = changed / "manuscript" / "results.md"
    results.write_text(
        results.read_text(encoding="utf-8") + f"\n$${UNREAD_DISPLAY}$$ {{#eq:continued}}\n\nSee @eq:continued.\n",
        encoding="utf-8",
    )
    built = run_cli("--root", str(changed), "--out", str(changed / "build"))
    assert built.returncode == 0, built.stderr
    bundled = run_cli("submission", "--root", str(changed), "--out", str(changed / "dist"))
    assert bundled.returncode == 0, bundled.stderr
    return changed, changed / "build", built.stderr, number


def test_only_an_equation_pandoc_reads_neither_way_is_a_warning_at_its_place(unread):
    # \textcolor and the others reach every format (below); \tbinom's DOCX equation would be wrong.
    from press import mathml

    assert mathml.unconvertible([(r"\textcolor{blue}{b}", False), (r"\color{blue}{b}", False)]) == {
        (r"\textcolor{blue}{b}", False)
    }
    _, _, said, line = unread
    column = len("Beside $a^2$: " + ", ".join(f"${tex}$" for tex in UNREAD) + ", ") + 2
    assert re.search(rf"intro\.md:{line}:{column}: warning\[math-not-converted\]", said), said
    assert said.count("math-not-converted") == 1


def test_the_page_has_mathjax_mathml_where_pandoc_cannot_read_the_tex(unread):
    _, built, _, _ = unread
    page = (built / f"{SLUG}.html").read_text(encoding="utf-8")
    root = html.fromstring(page)
    annotations = {a.text: a for a in root.iter("annotation") if a.get("encoding") == "application/x-tex"}
    for tex in [*UNREAD, UNFAITHFUL, UNREAD_DISPLAY]:
        assert tex in annotations, tex
    assert 'class="math' not in page  # pandoc's span of TeX it could not read: none left
    coloured = annotations[UNREAD[0]].getparent().getparent()
    assert coloured.tag == "math" and coloured.get("display") == "inline"
    assert coloured.find(".//mstyle").get("mathcolor") == "blue"
    assert annotations[UNREAD[1]].getparent().find(".//menclose").get("notation") == "box"
    numbered = root.get_element_by_id("eq:continued")
    assert numbered.find("math").get("display") == "block"
    assert numbered.findtext("span[@class='equation-number']") == "(4)"


def test_chromium_shows_mathjax_mathml_as_math(unread):
    _, built, _, _ = unread
    problems, (sizes, line) = in_chromium(
        built / f"{SLUG}.html",
        "[...document.querySelectorAll('math annotation')].map(a => [a.textContent,"
        " [a.closest('math').getBoundingClientRect().width, a.closest('math').getBoundingClientRect().height]])",
        "parseFloat(getComputedStyle(document.querySelector('.body p')).lineHeight)",
    )
    shown = dict(sizes)
    assert problems == []
    # The MathML laid out as math: wider than nothing, and far narrower than its TeX set as text.
    for tex in UNREAD:
        width, _ = shown[tex]
        assert 5 < width < 6 * len(tex), (tex, width)
    assert shown[UNREAD_DISPLAY][1] > 2 * line  # a continued fraction stands three levels high


def bundled_jats(project: Path):
    """The JATS of the project's submission bundle (built into its dist/)."""
    [bundle] = (project / "dist").glob("*.zip")
    with zipfile.ZipFile(bundle) as archive:
        return etree.fromstring(archive.read("manuscript.xml"))


def test_the_jats_has_mathjax_mathml_beside_the_tex_pandoc_cannot_read(unread):
    xml = bundled_jats(unread[0])
    mml = "{http://www.w3.org/1998/Math/MathML}"
    formulas = {f.findtext("alternatives/tex-math"): f for f in xml.iter("inline-formula", "disp-formula")}
    for tex in [*UNREAD, UNFAITHFUL, UNREAD_DISPLAY]:
        assert formulas[tex].find(f"alternatives/{mml}math") is not None, tex
        assert not (formulas[tex].text or "").strip()
    assert formulas[UNREAD[2]].find(f"alternatives/{mml}math").get("display") == "inline"
    continued = formulas[UNREAD_DISPLAY]
    assert continued.get("id") and continued.findtext("label") == "(4)"
    assert [child.tag for child in continued] == ["label", "alternatives"]
    assert continued.find(f".//{mml}mfrac//{mml}mfrac") is not None


def test_the_jats_sets_an_aligned_environment_in_display_style(unread):
    xml = bundled_jats(unread[0])
    mml = "{http://www.w3.org/1998/Math/MathML}"
    tables = {
        f.findtext("alternatives/tex-math").strip(): f.find(f"alternatives/{mml}math/{mml}mtable")
        for f in xml.iter("disp-formula")
    }
    aligned = next(table for tex, table in tables.items() if tex.startswith(r"\begin{aligned}"))
    assert aligned.get("displaystyle") == "true"
    cases = next(f for f in xml.iter("disp-formula") if "cases" in f.findtext("alternatives/tex-math"))
    assert all(table.get("displaystyle") is None for table in cases.iter(f"{mml}mtable"))  # text style, as in LaTeX


def test_the_docx_has_word_equations_where_pandoc_cannot_read_the_tex(unread, tmp_path: Path):
    _, built, _, _ = unread
    with zipfile.ZipFile(built / f"{SLUG}.docx") as word:
        document = word.read("word/document.xml").decode()
    for command in (r"\textcolor", r"\fbox", r"\bra", r"\prescript", r"\cfrac"):
        assert command not in document, command
    assert r"\tbinom" in document  # said (the warning above): pandoc's reading would be a fraction
    converted = libreoffice_pdf(built / f"{SLUG}.docx", tmp_path)
    text = re.sub(r"\s+", "", subprocess.run(["pdftotext", str(converted), "-"], capture_output=True, text=True).stdout)
    # (LibreOffice draws a Word equation's bare "|" as "∨¿", whatever TeX it came from: $|x|$ too.)
    assert "b+1" in text and "abc" in text and "⟨ψ" in text and "14" in text
