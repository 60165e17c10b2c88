"""Parsing without pandoc's bare-URI extension is used only where it gives the very same AST."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import FIXTURES, ROOT
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from press import pandoc
from press.document import source_text
from press.load import load

PIECES = [" ", "\n", "\n\n", "@", ":", "/", ".", "-", "#", "<", ">", "[", "]", "{", "}", "(", ")", "*", "_"]
PIECES += ["sec", "tbl", "fig", "eq", "Sec", "Eq", "http", "https", "www", "mailto", "doi", "x", "ą", "10", "30"]
PIECES += [
    "@sec:intro",
    "{#sec:intro}",
    "@eq:mass",
    "$$ a $$ {#eq:mass}",
    "\\label{eq:mass}",
    "$",
    "[@smith2020pain]",
    "zofia@example.org",
    "example.org",
    "//host",
    "::",
]
TEXTS = st.lists(st.sampled_from(PIECES), max_size=14).map("".join)


def parsed(args: list[str], text: str) -> dict:
    return json.loads(pandoc.run(args, text.encode("utf-8")))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TEXTS)
@example("Write to zofia@example.org or see @sec:intro [@smith2020pain] at 10:30.")
@example("# Methods {#sec:methods}\n\nA <b>bold</b> claim (see @tbl:data).")
@example("_http::_")  # emphasis around a URI: found in CI
@example("$$ E = mc^2 $$ {#eq:energy}\n\nBy @eq:energy, \\eqref{eq:energy} and (eq:energy), eq:energy.")
@example("x-http://host and (https://host) and .doi:10.1/x")
def test_text_with_nothing_uri_like_parses_the_same_without_the_extension(text: str):
    if pandoc.markdown_to_ast_args(text) == pandoc.PLAIN_READER:
        assert parsed(pandoc.PLAIN_READER, text) == parsed(pandoc.BARE_URI_READER, text)


def test_the_shipped_manuscript_takes_the_faster_reader():
    """Its sections' markers ("<!--press-file:0-->") hold "-file:0", which is no link in a comment."""
    assert pandoc.markdown_to_ast_args(source_text(load(ROOT))) == pandoc.PLAIN_READER


@pytest.mark.parametrize("project", [ROOT, FIXTURES / "minimal", FIXTURES / "check" / "at-signs"], ids=lambda p: p.name)
def test_the_manuscripts_parse_the_same_either_way(project: Path):
    text = source_text(load(project))
    assert parsed(pandoc.markdown_to_ast_args(text), text) == parsed(pandoc.BARE_URI_READER, text)


def test_a_bare_url_is_still_a_link_and_its_at_sign_no_citation():
    ast = pandoc.markdown_to_ast("See https://example.org/@someone for more.\n")
    kinds = [element["t"] for element in ast["blocks"][0]["c"]]
    assert "Link" in kinds and "Cite" not in kinds
