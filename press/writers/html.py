"""The article page: HTML5 with its CSS and script inlined, its fonts and figures published beside it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..ast import elements
from ..fonts import web_font_face_css, web_font_files
from ..templating import render
from .shared import Shared

if TYPE_CHECKING:
    from ..formats import WriteOptions


def write(shared: Shared, options: WriteOptions) -> bytes:
    downloads = options.downloads
    templates = shared.document.manuscript.templates
    # The same faces as the PDF, from the fonts/ folder published beside the page (assets()).
    css = web_font_face_css() + "\n" + (MATH_FONT_FACE + "\n" if _math_font(shared) else "")
    css += (templates / "article.css").read_text(encoding="utf-8")
    script = (templates / "article.js").read_text(encoding="utf-8")
    # Every download key is present (None when not built): templates use strict undefined names.
    links = {fmt: downloads.get(fmt) for fmt in ("pdf", "docx")}
    html = render(templates, "article.html", **shared.context("web", css=css, script=script, downloads=links))
    return html.encode("utf-8")


def assets(shared: Shared, options: WriteOptions) -> dict[str, bytes]:
    """The page's fonts (and their licences) and its figures' renditions, published beside it."""
    templates = shared.document.manuscript.templates
    files = {name: (templates / name).read_bytes() for name in web_font_files()} | shared.media.published()
    if font := _math_font(shared):
        files |= {"fonts/STIXTwoMath-Regular.woff2": font[0], "fonts/OFL-STIXTwoMath.txt": font[1]}
    return files


MATH_FONT_FACE = (
    '@font-face { font-family: "STIX Two Math"; src: url("fonts/STIXTwoMath-Regular.woff2") format("woff2"); '
    "font-display: swap; }"
)


def _math_font(shared: Shared) -> tuple[bytes, bytes] | None:
    """STIX Two Math and its licence when the article has equations (press.math), else None."""
    if shared.media.math_expected is False or not any(
        e["t"] == "Math" for e in elements(shared.document.ast["blocks"])
    ):
        return None
    from .. import math

    return math.web_font()
