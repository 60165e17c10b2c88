"""Metadata validation: every problem names the file and line, with a suggestion where one helps."""

from __future__ import annotations

from pathlib import Path

import pytest

from press.metadata import load_metadata, slugify
from press.model import PressError

VALID = """\
title: "A title"
authors:
  - name: Ada Łęcka
    affiliations: [a1]
affiliations:
  a1: Somewhere
license: CC-BY-4.0
copyright:
  year: 2025
  holders: authors
sections: [a.md]
"""


def problems(tmp_path: Path, text: str) -> list:
    path = tmp_path / "metadata.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PressError) as caught:
        load_metadata(path, "manuscript/metadata.yaml")
    return caught.value.diagnostics


def test_valid_metadata_loads(tmp_path: Path):
    path = tmp_path / "metadata.yaml"
    path.write_text(VALID, encoding="utf-8")
    metadata = load_metadata(path, "m.yaml")
    assert metadata.title == "A title"
    assert metadata.copyright_holders == ["Ada Łęcka"]
    assert metadata.slug == "a-title"
    assert metadata.license.url == "https://creativecommons.org/licenses/by/4.0/"


def test_misspelt_field_is_an_error_with_line_and_suggestion(tmp_path: Path):
    [problem] = problems(tmp_path, VALID + "keywrods: [a]\n")
    assert (problem.code, problem.line, problem.file) == ("metadata-unknown-field", 12, "manuscript/metadata.yaml")
    assert "keywords" in problem.hint


def test_misspelt_author_field_names_its_path(tmp_path: Path):
    [problem] = problems(tmp_path, VALID.replace("    affiliations: [a1]", "    orcdi: 0000-0002-1825-0097"))
    assert problem.message == "unknown field 'authors[0].orcdi'"
    assert problem.line == 4 and "orcid" in problem.hint


def test_missing_title_is_an_error(tmp_path: Path):
    [problem] = problems(tmp_path, VALID.replace('title: "A title"\n', ""))
    assert problem.code == "metadata-missing-title"


def test_unknown_licence_id_suggests_the_closest(tmp_path: Path):
    [problem] = problems(tmp_path, VALID.replace("CC-BY-4.0", "CC-BY-4"))
    assert (problem.code, problem.line) == ("metadata-license", 7)
    assert "CC-BY-4.0" in problem.hint


def test_yaml_syntax_error_gives_line(tmp_path: Path):
    [problem] = problems(tmp_path, VALID + "keywords: [a, b\n")
    assert problem.code == "yaml-syntax" and problem.line is not None and problem.line >= 12


def test_unknown_affiliation_and_bad_orcid_are_errors(tmp_path: Path):
    text = VALID.replace("[a1]", "[a2]\n    orcid: 1234")
    codes = {p.code for p in problems(tmp_path, text)}
    assert codes == {"metadata-unknown-affiliation", "metadata-orcid"}


def test_slug_is_ascii():
    assert slugify("Żółć i café – przegląd") == "zolc-i-cafe-przeglad"
