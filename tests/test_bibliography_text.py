"""BibTeX field values decoded from LaTeX: the shortcut for plain text agrees with latexcodec."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from pybtex.backends.plaintext import Backend as PlainTextBackend
from pybtex.richtext import Text

from press.bibliography import PLAIN_TEXT, latex_to_text

# Characters that LaTeX decoding may change, drawn often, among any others.
MARKUP = list("\\{}~$%#_^&`'<>-!?, \t\n") + ["--", "''", "``", ",,", "<<", ">>", "?`", "\\'e", "{\\l}"]
VALUES = st.lists(st.one_of(st.sampled_from(MARKUP), st.characters(codec="utf-8")), max_size=12).map("".join)


def decoded_by_latexcodec(value: str) -> str | None:
    try:
        return Text.from_latex(value).render(PlainTextBackend())
    except Exception:  # noqa: BLE001 - latex_to_text keeps such values as they are
        return None


@settings(max_examples=400, deadline=None)
@given(VALUES)
@example("Ketamine: a review - part 1")
@example("a  b")
@example("50%")
@example("x?`")
@example(",,")
def test_plain_text_is_exactly_what_latexcodec_returns(value: str):
    if PLAIN_TEXT.fullmatch(value):
        assert decoded_by_latexcodec(value) == value


@pytest.mark.parametrize(
    ("value", "text"),
    [("Caf{\\'e} -- na\\\"ive", "Café – naïve"), ("{\\L}{\\'o}d{\\'z}", "Łódź"), ("Smith \\& Jones", "Smith & Jones")],
)
def test_markup_is_decoded(value: str, text: str):
    assert latex_to_text(value) == text


def test_every_ligature_latexcodec_knows_keeps_text_off_the_shortcut():
    """Ligatures of plain characters (",," is „) come from latexcodec's table: none may look plain."""
    import latexcodec.codec

    table = latexcodec.codec._LATEX_UNICODE_TABLE  # the table latexcodec decodes with
    for tokens, text in table.unicode_map.items():
        latex = "".join(token.text for token in tokens)
        if latex != text:
            assert not PLAIN_TEXT.fullmatch(f"a{latex}b"), (latex, text)
