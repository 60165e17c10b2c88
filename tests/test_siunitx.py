"""siunitx's quantities (\\SI, \\si, \\num, \\qty, ...) in a LaTeX-first paper: read by pandoc's LaTeX reader,
in the text and in math, the same in the PDF, the web page and the DOCX; what pandoc cannot read is
still reported at its place."""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from conftest import FIXTURES, needs_mathjax, run_cli
from docx import Document
from lxml import html

from press import siunitx

DRAFT = "draft.md"
LINE = (
    r"A dose of \SI{5}{\milli\gram\per\kilo\gram\per\hour} was infused over \SI{30}{\minute} at \qty{37}{\celsius},"
    r" with $k$ in \si{\per\hour}, a ratio of \num{1.5e-3}, and $c = \SI{2.4}{\micro\gram\per\milli\litre}$ at peak."
)


@pytest.mark.parametrize(
    ("unit", "powered"),
    [
        (r"\milli\gram\per\kilo\gram\per\hour", r"\milli\gram\kilo\gram\tothe{-1}\hour\tothe{-1}"),
        (r"\per\hour", r"\hour\tothe{-1}"),
        (r"\kilogram\metre\per\second\squared", r"\kilogram\metre\second\tothe{-2}"),
        (r"\per\square\metre", r"\metre\tothe{-2}"),
        (r"\mole \per \cubic \deci\metre", r"\mole\deci\metre\tothe{-3}"),
        (r"mg/kg", r"mg/kg"),  # no \per: as written
        (r"\per kg", r"\per kg"),  # no unit macro after \per: as written
    ],
)
def test_each_per_is_the_power_of_the_unit_after_it(unit: str, powered: str):
    assert siunitx._powered(unit) == powered


@pytest.mark.parametrize(
    ("tex", "found"),
    [
        (r"x = \SI{5}{\mg} + \num{3}", [(4, 15, r"\SI{5}{\mg}"), (18, 25, r"\num{3}")]),
        (r"\SI[per-mode=symbol]{5}{\gram\per\litre}", [(0, 40, r"\SI[per-mode=symbol]{5}{\gram\litre\tothe{-1}}")]),
        (r"\num{{1}2}", [(0, 10, r"\num{{1}2}")]),
        (r"\SI{5}", []),  # an argument short: MathJax names it
        (r"\SIunit{5} \sin x", []),  # not a siunitx command
    ],
)
def test_commands_are_found_with_their_arguments(tex: str, found: list):
    assert siunitx.commands(tex) == found


@pytest.fixture(scope="module")
def paper(tmp_path_factory) -> Path:
    needs_mathjax()
    root = tmp_path_factory.mktemp("siunitx") / "paper"
    shutil.copytree(FIXTURES / "latex-first", root)
    draft = root / DRAFT
    draft.write_text(draft.read_text(encoding="utf-8").replace("\n# References", f"\n{LINE}\n\n# References"))
    return root


@pytest.fixture(scope="module")
def built(paper: Path) -> tuple[Path, str]:
    result = run_cli("--root", str(paper), "--out", str(paper / "out"))
    assert result.returncode == 0, result.stderr
    return paper / "out", result.stderr


def test_quantities_in_the_text_are_in_every_format(built):
    out, stderr = built
    assert "raw-latex" not in stderr  # none is left out
    expected = ["5\xa0mg\xa0kg−1\xa0h−1", "30\xa0min", "37\xa0°C", "h−1", "1.5\xa0×\xa010−3"]
    pdf = subprocess.run(["pdftotext", str(next(out.glob("*.pdf"))), "-"], capture_output=True, text=True).stdout
    docx = "\n".join(p.text for p in Document(str(next(out.glob("*.docx")))).paragraphs)
    page = html.fromstring(next(out.glob("*.html")).read_text(encoding="utf-8"))
    paragraph = next(p for p in page.iter("p") if "A dose of" in p.text_content())
    shown = paragraph.text_content()
    for text in (re.sub(r"[ \xa0]+", "\xa0", pdf), docx, shown):
        for quantity in expected:
            assert quantity.replace("\xa0", "") in text.replace("\xa0", "").replace(" ", ""), (quantity, text[:400])
        assert "\\SI" not in text and "\\si" not in text
    assert [s.text for s in paragraph.iter("sup")][:2] == ["−1", "−1"]  # mg kg⁻¹ h⁻¹: each unit its power


def test_a_quantity_in_math_is_pandocs_reading_in_every_format(built):
    out, _ = built
    page = html.fromstring(next(out.glob("*.html")).read_text(encoding="utf-8"))
    maths = [m for m in page.iter("{*}math", "math") if "2.4" in m.text_content()]
    assert len(maths) == 1 and "2.4 μg ml" in maths[0].text_content().replace("\xa0", " ")
    pdf = subprocess.run(["pdftotext", str(next(out.glob("*.pdf"))), "-"], capture_output=True, text=True).stdout
    assert "\\SI" not in pdf and "SI{" not in pdf
    with zipfile.ZipFile(next(out.glob("*.docx"))) as word:
        document = word.read("word/document.xml").decode("utf-8")
    assert "2.4" in document and "\\SI" not in document and "μg" in document


def test_what_pandoc_cannot_read_is_reported_at_its_place(paper: Path, tmp_path: Path):
    broken = tmp_path / "broken"
    shutil.copytree(paper, broken, ignore=shutil.ignore_patterns("out"))
    draft = broken / DRAFT
    lines = draft.read_text(encoding="utf-8").splitlines()
    line = r"Text \numproduct{2 x 3} and $x = \SI{5}{\mg} + \fracc{a}{b}$ end."
    lines[-1:-1] = ["", line, ""]
    draft.write_text("\n".join(lines) + "\n", encoding="utf-8")
    number = lines.index(line) + 1
    result = run_cli("check", "--root", str(broken))
    assert result.returncode == 1
    assert f"{DRAFT}:{number}:{line.index(chr(92) + 'fracc') + 1}: error[math-syntax]" in result.stderr
    assert "Undefined control sequence \\fracc" in result.stderr
    assert f"{DRAFT}:{number}:{line.index(chr(92) + 'numproduct') + 1}: warning[raw-latex]" in result.stderr
