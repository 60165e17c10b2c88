"""JATS XML from pandoc's JATS writer: well-formed, with article-meta, permissions and licence, and
every reference as a structured <element-citation> carrying its DOI."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from conftest import AUTHORS, FIXTURES, LICENSE_URL, ROOT
from lxml import etree

from press.document import build_document
from press.formats import WriteOptions
from press.load import load
from press.writers import jats
from press.writers.shared import Shared

XLINK = "{http://www.w3.org/1999/xlink}href"


def jats_tree(root: Path, blinded: bool = False) -> tuple[etree._ElementTree, object]:
    manuscript = load(root)
    document = build_document(manuscript)
    with ThreadPoolExecutor(max_workers=2) as pool:
        data = jats.write(Shared(document, pool), WriteOptions(blinded=blinded))
    # No DTD loading, no entities, no network: the parse itself proves well-formedness.
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    return etree.fromstring(data, parser).getroottree(), manuscript


@pytest.fixture(scope="module")
def shipped() -> tuple[etree._ElementTree, object]:
    return jats_tree(ROOT)


@pytest.fixture(scope="module")
def minimal() -> tuple[etree._ElementTree, object]:
    return jats_tree(FIXTURES / "minimal")


def test_is_a_standalone_jats_article(shipped):
    tree, _ = shipped
    assert tree.getroot().tag == "article"
    assert "JATS" in tree.docinfo.doctype
    assert tree.getroot().get("article-type") == "review-article"
    assert tree.findtext("front/article-meta/title-group/article-title") == (
        "Ketamine as an optional treatment in chronic pain – a review"
    )


def test_every_author_is_a_contributor_in_order(shipped):
    tree, _ = shipped
    contribs = tree.findall("front/article-meta/contrib-group/contrib[@contrib-type='author']")
    names = [f"{c.findtext('name/given-names')} {c.findtext('name/surname')}" for c in contribs]
    assert names == AUTHORS


def test_permissions_hold_copyright_and_the_cc_by_licence(shipped):
    tree, _ = shipped
    permissions = tree.find("front/article-meta/permissions")
    assert permissions.findtext("copyright-year") == "2025"
    holder = " ".join(permissions.findtext("copyright-holder").split())
    assert holder == ", ".join(AUTHORS)
    assert " ".join(permissions.findtext("copyright-statement").split()).startswith("Copyright © 2025 Mathias")
    licence = permissions.find("license")
    assert licence.get(XLINK) == LICENSE_URL
    assert licence.get("license-type") == "open-access"
    licence_text = " ".join("".join(licence.find("license-p").itertext()).split())
    assert "Creative Commons Attribution 4.0 International License" in licence_text


def test_abstract_and_keywords_are_in_article_meta(shipped):
    tree, manuscript = shipped
    abstract = " ".join("".join(tree.find("front/article-meta/abstract").itertext()).split())
    assert abstract.startswith("Background. Chronic pain is a common and disabling condition")
    assert tree.xpath("front/article-meta/kwd-group/kwd/text()") == manuscript.metadata.keywords
    assert not tree.xpath("//body//*[@id='abstract']")  # not repeated in the body


def test_every_reference_is_an_element_citation_with_its_doi(shipped):
    tree, manuscript = shipped
    refs = tree.findall("back/ref-list/ref")
    assert {ref.get("id").removeprefix("ref-") for ref in refs} == set(manuscript.bibliography)
    assert all(ref.find("element-citation") is not None for ref in refs)
    expected = {e.fields["doi"].lower() for e in manuscript.bibliography.values() if e.fields.get("doi")}
    assert len(expected) == 32
    found = [doi.lower() for doi in tree.xpath("back/ref-list/ref/element-citation/pub-id[@pub-id-type='doi']/text()")]
    assert sorted(found) == sorted(expected)
    for key, entry in manuscript.bibliography.items():
        if entry.fields.get("doi"):
            ref = tree.find(f"back/ref-list/ref[@id='ref-{key}']")
            assert ref.findtext("element-citation/pub-id").lower() == entry.fields["doi"].lower()


def test_every_citation_points_at_a_reference(shipped):
    tree, _ = shipped
    ids = set(tree.xpath("//ref/@id"))
    rids = tree.xpath("//xref[@ref-type='bibr']/@rid")
    assert len(rids) > 50
    assert set(rids) <= ids


def test_ids_are_unique(minimal, shipped):
    for tree, _ in (minimal, shipped):
        counts = Counter(tree.xpath("//@id"))
        assert [ident for ident, n in counts.items() if n > 1] == []


def test_affiliations_orcid_and_email_when_given(minimal):
    tree, _ = minimal
    first, second, third = tree.findall("front/article-meta/contrib-group/contrib")
    assert first.findtext("contrib-id[@contrib-id-type='orcid']") == "https://orcid.org/0000-0002-1825-0097"
    assert first.findtext("email") == "zofia@example.org"
    assert first.findtext("name/surname") == "Łącka"
    assert [aff.findtext("institution-wrap/institution") for aff in second.findall("aff")] == [
        "Uniwersytet Testowy, Kraków, Poland",
        "Université d'Essai, Besançon, France",
    ]
    assert third.find("aff") is None and third.find("email") is None


def test_blinded_jats_has_no_contributors_or_names():
    tree, _ = jats_tree(FIXTURES / "minimal", blinded=True)
    assert tree.find("front/article-meta/contrib-group") is None
    assert tree.findtext("front/article-meta/permissions/copyright-holder") == "The authors"
    meta = etree.tostring(tree.find("front"), encoding="unicode")
    assert "Łącka" not in meta and "Müller" not in meta
