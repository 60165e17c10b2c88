"""Metadata validation: every problem names the file and line, with a suggestion where one helps."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from press.metadata import LICENSES, field_table, load_metadata, slugify, validate
from press.metadata_schema import SCHEMA
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


# ---- the schema: types, every problem at once, and what stays accepted ----


def loaded(tmp_path: Path, text: str):
    path = tmp_path / "metadata.yaml"
    path.write_text(text, encoding="utf-8")
    return load_metadata(path, "manuscript/metadata.yaml")


@pytest.mark.parametrize(
    ("text", "field", "line", "words"),
    [
        (VALID + 'allow_raw_html: "false"\n', "allow_raw_html", 12, "expected true or false"),
        (
            VALID.replace("    affiliations: [a1]", '    affiliations: [a1]\n    corresponding: "no"'),
            "authors[0].corresponding",
            5,
            "expected true or false",
        ),
        (VALID + 'keywords: "a, b"\n', "keywords", 12, "expected a list"),
        (VALID + 'declarations: "none"\n', "declarations", 12, "expected a mapping"),
        (VALID + "bibliography: {a: 1}\n", "bibliography", 12, "expected text or a list"),
    ],
    ids=["allow_raw_html", "corresponding", "keywords", "declarations", "bibliography"],
)
def test_a_value_of_the_wrong_type_is_an_error_naming_the_type(tmp_path: Path, text, field, line, words):
    [problem] = problems(tmp_path, text)
    assert (problem.code, problem.line) == ("metadata-type", line)
    assert f"field '{field}'" in problem.message and words in problem.message


def test_quoted_false_never_allows_raw_html(tmp_path: Path):
    [problem] = problems(tmp_path, VALID + "allow_raw_html: 'false'\n")
    assert "without quotes" in problem.hint


@pytest.mark.parametrize(
    ("extra", "code", "line", "words"),
    [
        ("short_title: [a, b]\n", "metadata-type", 12, "expected text"),  # string
        ("allow_raw_html: yes please\n", "metadata-type", 12, "expected true or false"),  # boolean
        ("keywords:\n  one: two\n", "metadata-type", 13, "expected a list of text"),  # list
        ("journal: Journal of Tests\n", "metadata-type", 12, "expected a mapping"),  # mapping
        ("date: 12/03/2025\n", "metadata-date", 12, "expected a date YYYY-MM-DD"),  # date
        ("date: 2025-02-30\n", "metadata-date", 12, "expected a date YYYY-MM-DD"),  # a date that is none
        ("journal:\n  limits:\n    figures: ten\n", "metadata-type", 14, "expected a whole number"),  # integer
    ],
    ids=["string", "boolean", "list", "mapping", "date", "impossible-date", "integer"],
)
def test_each_schema_type_is_checked_at_its_line(tmp_path: Path, extra, code, line, words):
    [problem] = problems(tmp_path, VALID + extra)
    assert (problem.code, problem.line) == (code, line) and words in problem.message


def test_an_enum_lists_its_values_and_suggests_the_closest(tmp_path: Path):
    [problem] = problems(tmp_path, VALID.replace("CC-BY-4.0", "CC BY-SA 4.0"))
    assert (problem.code, problem.line) == ("metadata-license", 7)
    assert "expected one of: CC-BY-4.0, CC-BY-SA-4.0, CC-BY-NC-4.0, CC-BY-NC-ND-4.0" in problem.message
    assert problem.hint == "did you mean 'CC-BY-SA-4.0'?"


def test_every_problem_is_reported_in_one_run_in_line_order(tmp_path: Path):
    text = (
        VALID.replace("[a1]", "[a2]\n    orcid: 1234\n    corresponding: 'yes'")
        .replace("year: 2025", "year: '2025'")
        .replace('title: "A title"\n', "")
        + "keywords: a, b\nallow_raw_html: 'false'\nlicense: CC-BY-4.0\nsectoins: [b.md]\n"
    )
    found = [(p.line, p.code) for p in problems(tmp_path, text)]
    assert found == [
        (1, "metadata-missing-title"),
        (3, "metadata-unknown-affiliation"),
        (4, "metadata-orcid"),
        (5, "metadata-type"),
        (10, "metadata-copyright-year"),
        (13, "metadata-type"),
        (14, "metadata-type"),
        (15, "metadata-duplicate-field"),
        (16, "metadata-unknown-field"),
    ]


def test_missing_and_empty_required_fields_are_located(tmp_path: Path):
    found = {p.code: p for p in problems(tmp_path, VALID.replace("  year: 2025\n", "").replace("[a.md]", ""))}
    assert (
        found["metadata-copyright-year"].line == 9
        and "'copyright.year' is missing" in found["metadata-copyright-year"].message
    )
    assert found["metadata-no-sections"].line == 10 and "'sections' is empty" in found["metadata-no-sections"].message
    [problem] = problems(tmp_path, VALID.replace("sections: [a.md]", "sections: []"))
    assert (problem.code, problem.line) == ("metadata-no-sections", 11)
    [problem] = problems(tmp_path, VALID.replace("  - name: Ada Łęcka\n", "  - name: ' '\n"))
    assert (problem.code, problem.line) == ("metadata-author-name", 3)


def test_what_was_accepted_before_gives_the_same_metadata(tmp_path: Path):
    text = (
        VALID.replace("  - name: Ada Łęcka\n    affiliations: [a1]\n", "")
        .replace(
            "authors:\n", "authors:\n  - Bo Li\n  - name: Ada Łęcka\n    affiliations: a1\n    corresponding: true\n"
        )
        .replace("holders: authors", "holders: Press Ltd")
        + "date: 2025-03-04\nbibliography: refs.bib\nkeywords: [pain, 2019]\n"
    )
    metadata = loaded(tmp_path, text)
    assert [(a.name, a.affiliations, a.corresponding) for a in metadata.authors] == [
        ("Bo Li", [], False),
        ("Ada Łęcka", ["a1"], True),
    ]
    assert metadata.copyright_holders == ["Press Ltd"]
    assert (metadata.date, metadata.bibliography_files, metadata.keywords) == (
        "2025-03-04",
        ["refs.bib"],
        ["pain", "2019"],
    )
    metadata = loaded(tmp_path, VALID.replace("holders: authors", "holders: [A, B]") + "bibliography: [a.bib, b.bib]\n")
    assert (metadata.copyright_holders, metadata.bibliography_files) == (["A", "B"], ["a.bib", "b.bib"])
    assert metadata.authors[0].affiliations == ["a1"] and metadata.allow_raw_html is False


def test_an_empty_field_is_a_field_left_out(tmp_path: Path):
    text = VALID.replace("    affiliations: [a1]", "    affiliations: [a1]\n    orcid: ''\n    email:") + (
        "short_title:\nlang: ''\nkeywords:\njournal:\n  name:\n  limits:\ndeclarations:\n  funding: ' '\nallow_raw_html:\n"
    )
    metadata = loaded(tmp_path, text)
    assert (metadata.short_title, metadata.lang, metadata.keywords, metadata.declarations) == (None, "en", [], {})
    assert (metadata.authors[0].orcid, metadata.authors[0].email) == (None, None)
    assert (metadata.journal.name, metadata.journal.csl, metadata.journal.limits) == (None, "apa", {})


def test_validate_takes_metadata_read_from_elsewhere(tmp_path: Path):
    """Another source (a paper's front matter) gives its mapping and its lines, and gets the same checks."""
    data = {
        "title": "T",
        "authors": ["Ann Bee"],
        "license": "CC-BY-4.0",
        "copyright": {"year": 2025},
        "sections": ["a.md"],
    }
    metadata = validate(data, {}, "paper.md", tmp_path / "paper.md")
    assert (metadata.title, metadata.copyright_holders, metadata.slug) == ("T", ["Ann Bee"], "t")
    with pytest.raises(PressError) as caught:
        validate({**data, "allow_raw_html": "false"}, {"allow_raw_html": 3}, "paper.md", tmp_path / "paper.md")
    [problem] = caught.value.diagnostics
    assert (problem.file, problem.line, problem.code) == ("paper.md", 3, "metadata-type")


@pytest.mark.parametrize(
    ("extra", "line"),
    [("date: 2025-13-45\n", 12), ("title2: !!python/object:os.system x\n", 12), ("abstract: &a [*a]\n", 12)],
    ids=["impossible-date", "unsafe-tag", "self-alias"],
)
def test_yaml_the_reader_cannot_turn_into_values_is_a_located_error(tmp_path: Path, extra, line):
    assert {p.line for p in problems(tmp_path, VALID + extra)} == {line}


def test_the_schema_is_valid_json_schema_and_plain_json():
    import jsonschema

    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert json.loads(json.dumps(SCHEMA)) == SCHEMA
    assert SCHEMA["properties"]["license"]["enum"] == list(LICENSES)


def test_the_readme_field_table_is_the_schemas():
    table = field_table()
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    assert table in readme, "README.md's metadata field table differs from press.metadata.field_table(): paste it"

    def names(node: dict) -> set[str]:
        fields = node.get("properties") or node.get("items", {}).get("properties") or {}
        return {n for name, child in fields.items() for n in {name} | names(child)}

    assert all(f"`{name}`" in table for name in names(SCHEMA))
