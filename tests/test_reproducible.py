"""Reproducible bytes and archival PDFs: two clean builds at different times give the same HTML, PDF,
DOCX and submission ZIP; dates come from the metadata or SOURCE_DATE_EPOCH, never the clock; every PDF
variant passes `qpdf --check`, embeds all its fonts, and declares what it claims to be."""

from __future__ import annotations

import datetime as dt
import io
import os
import shutil
import subprocess
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from conftest import FIXTURES, ROOT, run_cli
from docx import Document as WordDocument
from lxml import etree
from pypdf import PdfReader
from pypdf.generic import BooleanObject, DictionaryObject, IndirectObject

from press.load import load

SLUG = "ketamine-chronic-pain-review"
MINIMAL = FIXTURES / "minimal"
MINIMAL_SLUG = "minimal-article"
FORMATS = ("html", "pdf", "docx")
# SOURCE_DATE_EPOCH for the one run that sets it: 2024-03-01 00:00:00 UTC. Midnight, so the PDF's and
# the DOCX's dates say exactly this instant whether the pipeline keeps the time or only the day.
EPOCH = 1709251200
EPOCH_PDF_DATE = "D:20240301000000"
EPOCH_W3CDTF = "2024-03-01T00:00:00Z"
PDF_VARIANTS = (None, "pdf/a-3b", "pdf/ua-1")
NS = {
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "pdfaid": "http://www.aiim.org/pdfa/ns/id/",
    "pdfuaid": "http://www.aiim.org/pdfua/ns/id/",
    "dcterms": "http://purl.org/dc/terms/",
    "cp": "http://schemas.openxmlformats.org/package/2006/metadata/core-properties",
}


def article_date(root: Path) -> str:
    """The date the outputs must carry when SOURCE_DATE_EPOCH is unset: the metadata's, else 1 January
    of the copyright year."""
    metadata = load(root).metadata
    return metadata.date or f"{metadata.copyright_year}-01-01"


SHIPPED_DATE = article_date(ROOT)
MINIMAL_DATE = article_date(MINIMAL)


def environment(source_date_epoch: int | None = None) -> dict[str, str]:
    """The caller's environment without SOURCE_DATE_EPOCH (a CI runner may set one), or with ours."""
    env = {name: value for name, value in os.environ.items() if name != "SOURCE_DATE_EPOCH"}
    if source_date_epoch is not None:
        env["SOURCE_DATE_EPOCH"] = str(source_date_epoch)
    return env


def build(*args: str, env: dict[str, str] | None = None) -> None:
    result = run_cli(*args, env=env or environment())
    assert result.returncode == 0, f"build.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"


def wait_until_later(started: float, seconds: float = 1.1) -> None:
    """Let at least ``seconds`` pass since ``started``: a second build must run on another clock second."""
    remaining = seconds - (time.monotonic() - started)
    if remaining > 0:
        time.sleep(remaining)


def first_difference(a: bytes, b: bytes) -> str:
    offset = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
    return f"sizes {len(a)} and {len(b)}, first difference at byte {offset}: {a[offset : offset + 60]!r} vs {b[offset : offset + 60]!r}"


def assert_same_bytes(a: Path, b: Path) -> None:
    data_a, data_b = a.read_bytes(), b.read_bytes()
    assert data_a == data_b, f"{a.name} differs between two builds: {first_difference(data_a, data_b)}"


def pdf_date(iso_date: str) -> str:
    """2025-01-01 -> D:20250101000000, the start of a PDF date string (its time zone may follow)."""
    return "D:" + iso_date.replace("-", "") + "000000"


def zip_stamp(iso_date: str) -> tuple[int, int, int, int, int, int]:
    year, month, day = (int(part) for part in iso_date.split("-"))
    return (year, month, day, 0, 0, 0)


def core_created(docx: Path) -> str:
    """dcterms:created as written in docProps/core.xml."""
    with zipfile.ZipFile(docx) as package:
        core = etree.fromstring(package.read("docProps/core.xml"))
    return core.findtext("dcterms:created", namespaces=NS)


def xmp_values(reader: PdfReader, namespace: str, name: str) -> list[str]:
    """Every value of an XMP property, written either as an element or as an rdf:Description attribute."""
    xmp = etree.fromstring(reader.trailer["/Root"]["/Metadata"].get_data())
    values = [element.text for element in xmp.iter(f"{{{namespace}}}{name}")]
    values += [
        description.get(f"{{{namespace}}}{name}")
        for description in xmp.iter(f"{{{NS['rdf']}}}Description")
        if description.get(f"{{{namespace}}}{name}") is not None
    ]
    return [str(value).strip() for value in values]


def raw_bytes(value) -> bytes:
    """The bytes of a PDF string object, whether pypdf decoded it as text or kept it as bytes."""
    return bytes(value) if isinstance(value, bytes) else value.original_bytes


def resolve(value):
    return value.get_object() if isinstance(value, IndirectObject) else value


def fonts_in(resources, seen: set[int]) -> list[DictionaryObject]:
    """The font dictionaries of a /Resources dictionary and of the form XObjects it uses, recursively."""
    resources = resolve(resources)
    if not isinstance(resources, DictionaryObject) or id(resources) in seen:
        return []
    seen.add(id(resources))
    fonts = [resolve(font) for font in (resolve(resources.get("/Font")) or {}).values()]
    for xobject in (resolve(resources.get("/XObject")) or {}).values():
        xobject = resolve(xobject)
        if xobject.get("/Subtype") == "/Form" and "/Resources" in xobject:
            fonts += fonts_in(xobject["/Resources"], seen)
    return fonts


def unembedded_fonts(pdf: Path) -> tuple[list[str], int]:
    """Names of the fonts used on the pages whose program is not in the file, and how many fonts were seen.

    A Type0 font's glyphs live in its descendant CIDFont, so that font's descriptor is the one to look
    at; a Type3 font is drawn by content streams inside the PDF, so it is embedded by construction.
    """
    reader = PdfReader(pdf)
    missing, seen_fonts, seen = [], 0, set()
    for page in reader.pages:
        for font in fonts_in(page.get("/Resources"), seen):
            seen_fonts += 1
            if font.get("/Subtype") == "/Type3":
                if "/CharProcs" not in font:
                    missing.append(f"{font.get('/Name')} (Type3 without /CharProcs)")
                continue
            described = [resolve(d) for d in font.get("/DescendantFonts", [])] if "/DescendantFonts" in font else [font]
            for each in described:
                descriptor = resolve(each.get("/FontDescriptor"))
                if descriptor is None or not any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")):
                    missing.append(str(each.get("/BaseFont", font.get("/BaseFont"))))
    return missing, seen_fonts


# ---- two clean builds of the shipped manuscript ----


@pytest.fixture(scope="module")
def shipped_twice(tmp_path_factory) -> tuple[Path, Path]:
    """The shipped manuscript built from scratch into A, then, on a later clock second, into B."""
    a, b = tmp_path_factory.mktemp("reproducible-A"), tmp_path_factory.mktemp("reproducible-B")
    build("--force", "--out", str(a))
    finished = time.monotonic()
    wait_until_later(finished)
    build("--force", "--out", str(b))
    return a, b


@pytest.mark.parametrize("fmt", FORMATS)
def test_two_clean_builds_give_identical_bytes(shipped_twice, fmt):
    a, b = shipped_twice
    assert_same_bytes(a / f"{SLUG}.{fmt}", b / f"{SLUG}.{fmt}")


def test_pdf_id_and_dates_are_fixed(shipped_twice):
    readers = [PdfReader(folder / f"{SLUG}.pdf") for folder in shipped_twice]
    ids = [[raw_bytes(part) for part in reader.trailer["/ID"]] for reader in readers]
    assert ids[0] == ids[1], "the PDF's /ID changes from build to build"
    for reader in readers:
        info = reader.trailer["/Info"].get_object()
        for key in ("/CreationDate", "/ModDate"):
            assert str(info[key]).startswith(pdf_date(SHIPPED_DATE)), (key, info[key], SHIPPED_DATE)
        assert xmp_values(reader, "http://ns.adobe.com/xap/1.0/", "CreateDate") == [f"{SHIPPED_DATE}T00:00:00Z"]
        assert xmp_values(reader, "http://ns.adobe.com/xap/1.0/", "ModifyDate") == [f"{SHIPPED_DATE}T00:00:00Z"]


def test_docx_entries_have_a_fixed_date_and_a_fixed_order(shipped_twice):
    listings = []
    for folder in shipped_twice:
        with zipfile.ZipFile(folder / f"{SLUG}.docx") as package:
            infos = package.infolist()
        stamps = {info.date_time for info in infos}
        # The ZIP epoch or the article's date: either is fixed; the build's clock is neither.
        assert stamps in ({(1980, 1, 1, 0, 0, 0)}, {zip_stamp(SHIPPED_DATE)}), stamps
        assert {info.external_attr for info in infos} == {0o644 << 16}
        listings.append([info.filename for info in infos])
        assert core_created(folder / f"{SLUG}.docx") == f"{SHIPPED_DATE}T00:00:00Z"
    assert listings[0] == listings[1]
    assert listings[0][0] == "[Content_Types].xml"


# ---- two submission runs (the small fixture: test_submission.py runs the shipped one) ----


@pytest.fixture(scope="module")
def submissions_twice(tmp_path_factory) -> tuple[Path, Path]:
    """The submission ZIP of the minimal project, written twice, a clock second apart, into two folders."""
    bundles = []
    for name in ("submission-1", "submission-2"):
        out = tmp_path_factory.mktemp(name)
        started = time.monotonic()
        build("submission", "--root", str(MINIMAL), "--out", str(out))
        zips = sorted(out.glob("*.zip"))
        assert [z.name for z in zips] == [f"{MINIMAL_SLUG}-submission-{MINIMAL_DATE}.zip"], list(out.iterdir())
        bundles.append(zips[0])
        wait_until_later(started)
    return bundles[0], bundles[1]


def test_two_submission_runs_give_identical_zips(submissions_twice):
    first, second = submissions_twice
    assert_same_bytes(first, second)


def test_submission_jats_is_identical_across_runs(submissions_twice):
    texts = []
    for bundle in submissions_twice:
        with zipfile.ZipFile(bundle) as archive:
            texts.append(archive.read("manuscript.xml"))
    assert texts[0] == texts[1], f"manuscript.xml differs: {first_difference(*texts)}"
    etree.fromstring(texts[0])  # and it is well-formed XML


def test_submission_entries_have_the_article_date_and_a_fixed_order(submissions_twice):
    listings = []
    for bundle in submissions_twice:
        with zipfile.ZipFile(bundle) as archive:
            infos = archive.infolist()
            inner_docx = archive.read("manuscript.docx")
        assert {info.date_time for info in infos} == {zip_stamp(MINIMAL_DATE)}
        assert {info.external_attr for info in infos} == {0o644 << 16}
        listings.append([info.filename for info in infos])
        # The DOCX inside the bundle is itself a ZIP with fixed dates.
        with zipfile.ZipFile(io.BytesIO(inner_docx)) as package:
            assert len({info.date_time for info in package.infolist()}) == 1
    assert listings[0] == listings[1]
    assert listings[0][0] == "MANIFEST.txt"


# ---- SOURCE_DATE_EPOCH ----


@pytest.fixture(scope="module")
def epoch_build(tmp_path_factory) -> Path:
    """The minimal project (its metadata has no date) built with SOURCE_DATE_EPOCH set."""
    assert load(MINIMAL).metadata.date is None, "the fixture must not fix its own date"
    out = tmp_path_factory.mktemp("epoch")
    build("pdf", "docx", "--root", str(MINIMAL), "--out", str(out), env=environment(EPOCH))
    return out


def test_pdf_dates_follow_source_date_epoch(epoch_build):
    reader = PdfReader(epoch_build / f"{MINIMAL_SLUG}.pdf")
    info = reader.trailer["/Info"].get_object()
    assert str(info["/CreationDate"]).startswith(EPOCH_PDF_DATE), info["/CreationDate"]
    assert str(info["/ModDate"]).startswith(EPOCH_PDF_DATE), info["/ModDate"]
    assert xmp_values(reader, "http://ns.adobe.com/xap/1.0/", "CreateDate") == [EPOCH_W3CDTF]


def test_docx_created_follows_source_date_epoch(epoch_build):
    docx = epoch_build / f"{MINIMAL_SLUG}.docx"
    assert core_created(docx) == EPOCH_W3CDTF
    created = WordDocument(str(docx)).core_properties.created
    assert created.replace(tzinfo=dt.UTC) == dt.datetime.fromtimestamp(EPOCH, dt.UTC)


def test_without_source_date_epoch_the_dates_come_from_the_copyright_year(pdf_variants):
    """The counterpart of the two tests above: the same project built without it."""
    reader = PdfReader(pdf_variants[None])
    info = reader.trailer["/Info"].get_object()
    assert str(info["/CreationDate"]).startswith(pdf_date(MINIMAL_DATE)), info["/CreationDate"]
    assert MINIMAL_DATE == "2025-01-01"  # the fixture has no date and copyright year 2025


# ---- PDF variants ----


@pytest.fixture(scope="module")
def pdf_variants(tmp_path_factory) -> dict[str | None, Path]:
    """The minimal project's PDF in each variant, built side by side into separate folders."""

    def one(variant: str | None) -> Path:
        out = tmp_path_factory.mktemp(f"variant-{(variant or 'default').replace('/', '-')}")
        build("pdf", "--root", str(MINIMAL), "--out", str(out), *(["--pdf-variant", variant] if variant else []))
        return out / f"{MINIMAL_SLUG}.pdf"

    with ThreadPoolExecutor(max_workers=len(PDF_VARIANTS)) as pool:
        return dict(zip(PDF_VARIANTS, pool.map(one, PDF_VARIANTS), strict=True))


def qpdf() -> str:
    found = shutil.which("qpdf") or ("/usr/bin/qpdf" if Path("/usr/bin/qpdf").exists() else None)
    if found is None:
        if os.environ.get("CI", "").lower() in {"true", "1"}:
            pytest.fail("qpdf is not installed: CI must provide it (apt-get install qpdf)")
        pytest.skip("qpdf is not installed (apt-get install qpdf); CI runs this check")
    return found


@pytest.mark.parametrize("variant", PDF_VARIANTS, ids=lambda v: v or "default")
def test_qpdf_check_passes(pdf_variants, variant):
    result = subprocess.run([qpdf(), "--check", str(pdf_variants[variant])], capture_output=True, text=True)
    # qpdf exits 0 when clean, 3 with warnings, 2 with errors: only a clean file passes.
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No syntax or stream encoding errors found" in result.stdout


@pytest.mark.parametrize("variant", PDF_VARIANTS, ids=lambda v: v or "default")
def test_every_font_is_embedded(pdf_variants, variant):
    missing, seen = unembedded_fonts(pdf_variants[variant])
    assert seen > 0, "no fonts found on any page: the check would prove nothing"
    assert missing == [], f"fonts not embedded: {missing}"


@pytest.mark.parametrize("variant", (None, "pdf/ua-1"), ids=lambda v: v or "default")
def test_pdf_is_tagged(pdf_variants, variant):
    catalog = PdfReader(pdf_variants[variant]).trailer["/Root"]
    assert "/StructTreeRoot" in catalog
    assert resolve(catalog.get("/MarkInfo", {})).get("/Marked") == BooleanObject(True)


def test_pdf_a_3b_declares_part_3_conformance_b(pdf_variants):
    reader = PdfReader(pdf_variants["pdf/a-3b"])
    assert xmp_values(reader, NS["pdfaid"], "part") == ["3"]
    assert xmp_values(reader, NS["pdfaid"], "conformance") == ["B"]
    assert "/OutputIntents" in reader.trailer["/Root"]  # PDF/A needs an output intent for its colours


def test_pdf_ua_1_declares_part_1(pdf_variants):
    reader = PdfReader(pdf_variants["pdf/ua-1"])
    assert xmp_values(reader, NS["pdfuaid"], "part") == ["1"]
    assert xmp_values(reader, NS["pdfaid"], "part") == []


def test_default_pdf_claims_no_archival_conformance(pdf_variants):
    reader = PdfReader(pdf_variants[None])
    assert xmp_values(reader, NS["pdfaid"], "part") == []
    assert xmp_values(reader, NS["pdfuaid"], "part") == []
