"""The article page: one self-contained HTML5 file (CSS and script inlined)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..templating import render
from .shared import Shared

if TYPE_CHECKING:
    from ..formats import WriteOptions


def write(shared: Shared, options: WriteOptions) -> bytes:
    downloads = options.downloads
    templates = shared.document.manuscript.templates
    css = (templates / "article.css").read_text(encoding="utf-8")
    script = (templates / "article.js").read_text(encoding="utf-8")
    # Every download key is present (None when not built): templates use strict undefined names.
    links = {fmt: downloads.get(fmt) for fmt in ("pdf", "docx")}
    html = render(templates, "article.html", **shared.context("web", css=css, script=script, downloads=links))
    return html.encode("utf-8")
