"""The journal PDF: print HTML from the templates, laid out by WeasyPrint with the shipped fonts."""

from __future__ import annotations

import hashlib
from pathlib import Path
from xml.sax.saxutils import escape

from ..fonts import font_dirs, font_face_css
from ..load import display_path
from ..model import PressError, error
from ..templating import render
from .shared import Shared

PDF_VARIANTS = ("pdf/a-3b", "pdf/ua-1")


def url_fetcher_for(allowed: list[Path]):
    """A WeasyPrint fetcher that serves local files inside ``allowed`` folders only.

    Anything else (other files, http(s), ftp) is refused and recorded, so the build can report it:
    rendering never reads outside the project and never touches the network.
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
            if parsed.scheme == "file":
                path = Path(unquote(parsed.path)).resolve()
                if any(path.is_relative_to(root) for root in roots):
                    return super().fetch(url, headers)
            self.refused.append(url)
            raise ValueError(f"refused to load '{url}': only files inside the project may be used")

    fetcher = ProjectFetcher(allowed_protocols=("file", "data"))
    fetcher.refused = []
    return fetcher


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


def print_html(shared: Shared, blinded: bool = False) -> str:
    templates = shared.document.manuscript.templates_dir
    css = (templates / "print.css").read_text(encoding="utf-8")
    return render(templates, "print.html", **shared.context(css=css, fonts_css=font_face_css(), blinded=blinded))


def write(shared: Shared, variant: str | None = None, blinded: bool = False) -> bytes:
    from weasyprint import HTML

    manuscript = shared.document.manuscript
    fetcher = url_fetcher_for(
        [manuscript.root / "manuscript", manuscript.root / "figures", manuscript.templates_dir, *font_dirs()]
    )
    html = print_html(shared, blinded)
    identifier = hashlib.sha256(f"{manuscript.metadata.slug}|{shared.document.date}|{blinded}".encode()).hexdigest()[
        :32
    ]
    try:
        document = HTML(
            string=html, base_url=(manuscript.root / "manuscript").as_uri() + "/", url_fetcher=fetcher
        ).render(pdf_tags=True, pdf_variant=variant)
    except Exception:  # noqa: BLE001 - WeasyPrint wraps fetcher errors in various types
        refused = getattr(fetcher, "refused", [])
        if refused:
            raise PressError(
                [
                    error(
                        display_path(manuscript.root / "manuscript"),
                        None,
                        "resource-refused",
                        f"refused to load '{refused[0]}': only files inside the project may be used",
                    )
                ]
            ) from None
        raise
    refused = getattr(fetcher, "refused", [])
    if refused:
        raise PressError(
            [
                error(
                    display_path(manuscript.root / "manuscript"),
                    None,
                    "resource-refused",
                    f"refused to load '{url}': only files inside the project may be used",
                )
                for url in refused
            ]
        )
    document.metadata.xmp_metadata.append(xmp_license(shared, blinded))
    finisher = None
    if variant is None:
        # WeasyPrint writes an XMP stream only for PDF/A and PDF/UA; the licence must be there always.
        def finisher(doc, pdf_file):
            doc.metadata.include_in_pdf(pdf_file, None, None, None, compress=True)

    return document.write_pdf(pdf_identifier=identifier.encode(), pdf_variant=variant, pdf_tags=True, finisher=finisher)
