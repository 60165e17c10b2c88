"""The journal PDF: print HTML from the templates, laid out by WeasyPrint with the shipped fonts."""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from html import escape  # not xml.sax.saxutils: it imports urllib.request, and leaves quotes as they are
from pathlib import Path
from typing import TYPE_CHECKING

from ..fonts import font_dirs, font_face_css
from ..model import PressError, error

if TYPE_CHECKING:  # the PDF worker process (press.build) imports this module for render_job: keep it light
    from ..formats import WriteOptions
    from ..model import ReviewLayout
    from .shared import Shared

PDF_VARIANTS = ("pdf/a-3b", "pdf/ua-1")
MEDIA_SCHEME = "media"  # a figure's rendition, by name (url_fetcher_for)


def url_fetcher_for(allowed: list[Path], media_dir: Path | None = None):
    """A WeasyPrint fetcher that serves local files inside ``allowed`` folders only.

    Anything else (other files, http(s), ftp) is refused and recorded, so the build can report it:
    rendering never reads outside the project and never touches the network. ``media:NAME`` is the
    figure rendition NAME in ``media_dir`` (press.renditions): WeasyPrint names an image in the PDF
    after its URL, which must not depend on where the project or its output folder is.
    """
    from urllib.parse import unquote, urlparse

    from weasyprint.urls import URLFetcher

    roots = [p.resolve() for p in allowed]

    class ProjectFetcher(URLFetcher):
        refused: list[str] = []

        def fetch(self, url, headers=None):
            parsed = urlparse(url)
            if parsed.scheme == "data":
                return super().fetch(url, headers)
            if parsed.scheme == MEDIA_SCHEME and media_dir is not None:
                path = media_dir / Path(unquote(parsed.path)).name
                if path.is_file():
                    return super().fetch(path.as_uri(), headers)
            if parsed.scheme == "file":
                path = Path(unquote(parsed.path)).resolve()
                if any(path.is_relative_to(root) for root in roots):
                    return super().fetch(url, headers)
            self.refused.append(url)
            raise ValueError(f"refused to load '{url}': only files inside the project may be used")

    fetcher = ProjectFetcher(allowed_protocols=("file", "data"))
    fetcher.refused = []
    fetcher.media_dir = media_dir  # where press.writers.pdf_equations reads the equations from
    return fetcher


def refused_error(shown_dir: str, refused: list[str]) -> PressError:
    """What WeasyPrint was refused: each URL, so the author can find the reference."""
    return PressError(
        [
            error(
                shown_dir,
                None,
                "resource-refused",
                f"refused to load '{url}': only files inside the project may be used",
            )
            for url in dict.fromkeys(refused)
        ]
    )


def xmp_license(shared: Shared, blinded: bool = False) -> bytes:
    """XMP rights metadata: the licence URL and statement, machine-readable in the PDF."""
    metadata = shared.document.metadata
    holders = "The authors" if blinded else ", ".join(metadata.copyright_holders)
    statement = f"Copyright © {metadata.copyright_year} {holders}. {metadata.license.name}."
    return (
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:xmpRights="http://ns.adobe.com/xap/1.0/rights/" xmlns:cc="http://creativecommons.org/ns#">'
        f'<dc:rights><rdf:Alt><rdf:li xml:lang="x-default">{escape(statement)}</rdf:li></rdf:Alt></dc:rights>'
        "<xmpRights:Marked>True</xmpRights:Marked>"
        f"<xmpRights:WebStatement>{escape(metadata.license.url)}</xmpRights:WebStatement>"
        f'<cc:license rdf:resource="{escape(metadata.license.url)}"/>'
        "</rdf:Description></rdf:RDF>"
    ).encode()


def print_html(shared: Shared, blinded: bool = False, review: ReviewLayout | None = None) -> str:
    from ..templating import render

    templates = shared.document.manuscript.templates
    css = (templates / "print.css").read_text(encoding="utf-8")
    rendering = "print"
    if review is not None:  # the review manuscript (press.review): its CSS over the journal's
        from ..review import rendering as review_rendering
        from ..review import review_css

        css += "\n" + review_css(templates, review)
        rendering = review_rendering(review)
    context = shared.context(rendering, css=css, fonts_css=font_face_css(), blinded=blinded)
    return render(templates, "print.html", **context)


@dataclass
class PdfJob:
    """What WeasyPrint needs, as plain values: a build can lay the PDF out in a process of its own."""

    html: str
    base_url: str
    allowed: list[Path]  # folders whose files the print HTML may load
    shown_dir: str  # the manuscript folder, as messages show it
    variant: str | None
    identifier: bytes
    xmp: bytes
    media_dir: Path | None = None  # where the figures' renditions are (media:NAME URLs)
    formulas: tuple[str, ...] = ()  # the alt texts (their TeX) of the typeset equations' images
    # The review layout's line numbers (press.line_numbers): "continuous", "page", or None for none;
    # where the numbers end (CSS px from the page's left edge) and their CSS.
    line_numbers: str | None = None
    numbers_right: float = 0.0
    numbers_css: str = ""
    unnumbered: frozenset[str] = frozenset()  # classes of elements whose lines are not numbered
    # Sent before its equations were all typeset: the worker waits for each as the build says it is
    # kept (press.pdf_worker). Otherwise every equation is kept before the job is made.
    announced: bool = False


def job_for(
    shared: Shared,
    variant: str | None = None,
    blinded: bool = False,
    review: ReviewLayout | None = None,
    announced: bool = False,
) -> PdfJob:
    """The PDF's job. Unless ``announced`` (its equations said to the worker as they are kept: the
    build's PdfWorker), every equation it shows is typeset and kept first, so that wherever it is
    laid out, each is there to read."""
    from ..load import display_path

    manuscript = shared.document.manuscript
    seed = f"{manuscript.metadata.slug}|{shared.document.date}|{blinded}" + ("|review" if review else "")
    identifier = hashlib.sha256(seed.encode()).hexdigest()[:32]
    if not announced:
        shared.media.kept()
    numbering = {}
    if review is not None:
        from ..review import pdf_review

        numbering = pdf_review(review)
    return PdfJob(
        html=print_html(shared, blinded, review),
        base_url=manuscript.layout.text_dir.as_uri() + "/",
        allowed=[*manuscript.layout.content_folders(), *manuscript.templates.dirs, *font_dirs()],
        media_dir=shared.media.folder,
        formulas=tuple(sorted(shared.media.equation_alt_texts())),
        shown_dir=display_path(manuscript.layout.text_dir),
        variant=variant,
        identifier=identifier.encode(),
        xmp=xmp_license(shared, blinded),
        announced=announced,
        **numbering,
    )


def write(shared: Shared, options: WriteOptions) -> bytes:
    """The PDF; ``options.pdf_renderer`` lays the job out elsewhere (the build's worker process), else here."""
    return (options.pdf_renderer or render_job)(job_for(shared, options.pdf_variant, options.blinded, options.review))


class _Deflate:
    """zlib as pydyf sees it, with its level-9 stream compression at zlib's default level instead."""

    def __getattr__(self, name: str):
        import zlib

        return getattr(zlib, name)

    @staticmethod
    def compressobj(level: int = -1, *args, **kwargs):
        import zlib

        return zlib.compressobj(min(level, 6) if level >= 0 else level, *args, **kwargs)


def deflate_at_default_level() -> None:
    """Make pydyf compress the PDF's streams at zlib's default level (6) instead of 9.

    pydyf deflates every stream at level 9, and twice when the PDF has an identifier (ours always
    has one: it makes the bytes reproducible). Level 9 costs several times the CPU of level 6 for
    slightly smaller streams, on the build's critical path (README, "Measured"). Only the level
    changes; the output stays deterministic and valid.
    """
    import zlib

    import pydyf

    if getattr(pydyf, "zlib", None) is zlib:  # pydyf pinned through WeasyPrint; else leave it be
        pydyf.zlib = _Deflate()


def import_weasyprint() -> None:
    """Import WeasyPrint, finding its C libraries in one ``ldconfig -p`` listing.

    WeasyPrint opens each library (Pango, HarfBuzz, ...) by trying several names; for each name
    that is not a file, cffi asks ctypes.util.find_library, which on Linux runs ldconfig and then
    probes with gcc and ld (WeasyPrint issue #1125): about 70 processes and a quarter of a second
    of the PDF's critical path. During the import, find_library reads one cached listing instead,
    as its first step does. Should the import fail that way, it is done again the usual way.
    """
    import ctypes.util
    import sys

    if "weasyprint" in sys.modules:
        return
    usual = ctypes.util.find_library
    ctypes.util.find_library = _find_library_in_listing
    try:
        import weasyprint  # noqa: F401
    except OSError:
        for name in [name for name in sys.modules if name == "weasyprint" or name.startswith("weasyprint.")]:
            del sys.modules[name]
        ctypes.util.find_library = usual
        import weasyprint  # noqa: F401
    finally:
        ctypes.util.find_library = usual


# ldconfig's tag for this machine's libraries, as ctypes.util reads it (else plain "libc6").
LDCONFIG_ABI = {"x86_64": "libc6,x86-64", "ppc64": "libc6,64bit", "sparc64": "libc6,64bit", "s390x": "libc6,64bit"}


def _find_library_in_listing(name: str) -> str | None:
    import os
    import re

    abi = LDCONFIG_ABI.get(os.uname().machine, "libc6")
    found = re.search(
        rb"\s(lib" + re.escape(os.fsencode(name)) + rb"\.\S+)\s+\(" + re.escape(abi.encode()), _ldconfig()
    )
    return os.fsdecode(found.group(1)) if found else None


@functools.cache
def _ldconfig() -> bytes:
    import os
    import subprocess

    try:
        env = {**os.environ, "LC_ALL": "C", "LANG": "C"}
        return subprocess.run(["/sbin/ldconfig", "-p"], capture_output=True, env=env, check=False).stdout
    except OSError:
        return b""


# An equation set below this share of its size (to fit its line or its cell) is said (``shrunk``).
SHRUNK = 0.9


def render_job(job: PdfJob, shrunk: list[tuple[str, int]] | None = None) -> bytes:
    """The job laid out and written. ``shrunk``: given, it is told each typeset equation the layout
    set smaller than its size, to fit (its TeX, and the percentage of its size it has)."""
    from . import pdf_equations

    import_weasyprint()
    from weasyprint import HTML

    deflate_at_default_level()
    pdf_equations.install()
    fetcher = url_fetcher_for(job.allowed, job.media_dir)
    variant = job.variant
    try:
        document = HTML(string=job.html, base_url=job.base_url, url_fetcher=fetcher).render(
            pdf_tags=True, pdf_variant=variant
        )
    except Exception:  # noqa: BLE001 - WeasyPrint wraps fetcher errors in various types
        if getattr(fetcher, "refused", []):
            raise refused_error(job.shown_dir, fetcher.refused) from None
        raise
    if getattr(fetcher, "refused", []):
        raise refused_error(job.shown_dir, fetcher.refused)
    if shrunk is not None and job.formulas:
        shrunk += _shrunk_equations(document)
    if job.line_numbers:
        from ..line_numbers import add_line_numbers

        add_line_numbers(
            document, job.line_numbers, job.numbers_right, job.numbers_css, job.base_url, fetcher, job.unnumbered
        )
    document.metadata.xmp_metadata.append(job.xmp)
    formulas = set(job.formulas)

    def finisher(doc, pdf_file):
        if formulas:
            tag_formulas(pdf_file, formulas)
        if variant is None:
            # WeasyPrint writes an XMP stream only for PDF/A and PDF/UA; the licence must be there always.
            doc.metadata.include_in_pdf(pdf_file, None, None, None, compress=True)

    return document.write_pdf(pdf_identifier=job.identifier, pdf_variant=variant, pdf_tags=True, finisher=finisher)


def _shrunk_equations(document) -> list[tuple[str, int]]:
    """(TeX, percentage) of each typeset equation laid out narrower than its size: a CSS max-width
    (the text's, a table cell's) scales it down to fit."""
    from .pdf_equations import PendingEquation

    found = []
    for page in document.pages:
        for box in page._page_box.descendants():
            image = getattr(box, "replacement", None)
            if not isinstance(image, PendingEquation) or box.element is None:
                continue
            width = image.get_intrinsic_size(1, box.style["font_size"])[0]
            if width and box.width < SHRUNK * width:
                found.append((box.element.get("alt") or "", int(100 * box.width / width)))
    return found


def tag_formulas(pdf_file, alt_texts: set[str]) -> None:
    """The typeset equations' images as the tagged PDF's Formula elements (WeasyPrint tags every <img>
    as a Figure), each with its TeX as /Alt, so a screen reader reads it as mathematics."""
    import pydyf

    for item in pdf_file.objects:
        if isinstance(item, pydyf.Dictionary) and item.get("S") == "/Figure":
            alt = item.get("Alt")
            if isinstance(alt, pydyf.String) and alt.string in alt_texts:
                item["S"] = "/Formula"
