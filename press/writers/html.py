"""The article page: HTML5 with its CSS and script inlined, its fonts and figures published beside it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..fonts import web_font_face_css, web_font_files
from ..templating import render
from .shared import Shared

if TYPE_CHECKING:
    from ..formats import WriteOptions


def write(shared: Shared, options: WriteOptions) -> bytes:
    downloads = options.downloads
    templates = shared.document.manuscript.templates
    # The same faces as the PDF, from the fonts/ folder published beside the page (assets()).
    css = web_font_face_css() + "\n" + (templates / "article.css").read_text(encoding="utf-8")
    script = (templates / "article.js").read_text(encoding="utf-8")
    # Every download key is present (None when not built): templates use strict undefined names.
    links = {fmt: downloads.get(fmt) for fmt in ("pdf", "docx")}
    html = render(templates, "article.html", **shared.context("web", css=css, script=script, downloads=links))
    return html.encode("utf-8")


def assets(shared: Shared, options: WriteOptions) -> dict[str, bytes]:
    """The page's fonts (and their licences) and its figures' renditions, published beside it."""
    templates = shared.document.manuscript.templates
    return {name: (templates / name).read_bytes() for name in web_font_files()} | shared.media.published()
