"""`python build.py submission`: every file a journal's submission system asks for, in one ZIP.

Check once, resolve the document once, then write the full and blinded manuscripts, the title
page, JATS, the bibliography and the sources from that one Document, and publish the bundle
atomically. Equal sources give an equal ZIP, byte for byte.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any

from pandocfilters import walk

from . import pandoc
from .build import prepare_out_dir
from .checks.counts import Count
from .checks.declarations import DECLARATIONS, REQUIRED_CODE, check_declarations
from .context import build_context, meta_value
from .document import Document
from .fonts import font_dirs, font_face_css
from .formats import FORMATS, WriteOptions
from .load import display_path
from .model import Diagnostic, Manuscript, PressError
from .publish import clean_stale, discard, publish, stage
from .report import print_diagnostics
from .resolve import resolve
from .review import describe_layout
from .review import rendering as review_rendering
from .templating import render
from .writers import docx, jats, pdf
from .writers.shared import Shared

# Name inside the bundle -> what it is for, printed after the build (sources under source/ are added).
DESCRIPTIONS = {
    "MANIFEST.txt": "size and SHA-256 of every other file",
    "manuscript.pdf": "the full article",
    "manuscript.docx": "the full article",
    "manuscript-blinded.pdf": "for double-blind review: no author details",
    "manuscript-blinded.docx": "for double-blind review: no author details",
    "title-page.pdf": "title, authors, affiliations, correspondence, declarations",
    "title-page.docx": "title, authors, affiliations, correspondence, declarations",
    "manuscript.xml": "JATS XML (Article Authoring 1.2)",
    "references.bib": "the bibliography",
    "manuscript-changes.docx": "what changed since the earlier version, as tracked changes (--since)",
    "manuscript-changes.pdf": "what changed since the earlier version, marked, with a summary (--since)",
    "manuscript-changes.html": "what changed since the earlier version, marked, with a summary (--since)",
}
SOURCE_DIR = "source"


@dataclass
class BundleFile:
    name: str  # POSIX path inside the ZIP
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass
class SubmissionResult:
    path: Path
    files: list[BundleFile]
    size: int
    seconds: float
    warnings: list[Diagnostic] = field(default_factory=list)
    review: str = ""  # the journal profile's review layout of the manuscripts, in words ("": typeset)


def run(args: argparse.Namespace) -> int:
    """The ``submission`` command: build the bundle into --out (default ROOT/dist) and print what is inside."""
    report_format = args.report_format
    out_dir = args.out if args.out is not None else args.root / "dist"
    since = getattr(args, "since", None)
    result = build_submission(args.root, out_dir, since, getattr(args, "author", None))
    if report_format == "json":  # one document on stdout, as `check --format json` prints
        listing = {
            "bundle": str(result.path),
            "size": result.size,
            "files": [{"name": f.name, "size": len(f.data), "sha256": f.sha256} for f in result.files],
            "diagnostics": [d.as_dict() for d in result.warnings],
        }
        print(json.dumps(listing, ensure_ascii=False, indent=2))
        return 0
    print_diagnostics(result.warnings, report_format)  # before the listing, in a terminal too
    print(f"submission bundle: {display_path(result.path)}  ({_size(result.size)}, {result.seconds:.1f} s)")
    width = max(len(f.name) for f in result.files)
    for file in result.files:
        note = DESCRIPTIONS.get(file.name) or describe(file.name)
        if result.review and file.name.startswith("manuscript") and file.name.endswith((".pdf", ".docx")):
            note += f" ({result.review})"
        print(f"  {file.name:<{width}}  {_size(len(file.data)):>9}  {note}")
    if result.warnings:
        print(f"{len(result.warnings)} warning(s); the title page says 'Not provided' where a fact is missing")
    return 0


def describe(name: str) -> str:
    """What a file of the bundle that DESCRIPTIONS does not name is for."""
    if name.startswith(SOURCE_DIR + "/"):
        return "source file"
    kind, _, number = name.partition(".")[0].partition("-")
    if kind in ("figure", "image") and number.isdigit():
        return f"{kind} {number}, as its own file (the JATS <graphic> names it)"
    return ""


def _size(size: int) -> str:
    return f"{size} B" if size < 1024 else f"{size / 1024:.0f} KiB" if size < 1024 * 1024 else f"{size / 2**20:.1f} MiB"


def bundle_name(document: Document) -> str:
    return f"{document.metadata.slug}-submission-{document.date}.zip"


def build_submission(
    root: Path, out_dir: Path, since: str | None = None, author: str | None = None
) -> SubmissionResult:
    """Check, resolve once, write every file, and publish ``out_dir/<slug>-submission-<date>.zip``.

    ``since``: a git revision; what changed since then (press.diff) goes into the bundle too.
    """
    started = time.perf_counter()
    resolved = resolve(root)
    document = resolved.document
    # A declaration the journal profile requires is a warning of a build, and stops the submission,
    # whatever check: says of the warning (the journal's rule, not the manuscript's to waive).
    found = check_declarations(resolved.manuscript)
    required = [replace(d, severity="error") for d in found if d.code == REQUIRED_CODE]
    if required:
        raise PressError(required)
    changes = _changes_files(root, since, author, resolved) if since else []  # before anything is written
    prepare_out_dir(out_dir)
    clean_stale(out_dir)
    files = write_files(document, resolved.counts, changes)
    data = zip_bundle(files, document.date)
    target = out_dir / bundle_name(document)
    staged: dict[Path, Path] = {}
    try:
        staged[target] = stage(out_dir, target.name, data)
        publish(staged)
    except BaseException:
        discard(staged)
        raise
    seconds = time.perf_counter() - started
    layout = document.metadata.journal.review
    review = describe_layout(layout) if layout is not None else ""
    return SubmissionResult(target, files, len(data), seconds, resolved.diagnostics, review)


def _changes_files(root: Path, since: str, author: str | None, resolved: Any) -> list[BundleFile]:
    from .diff import DEFAULT_AUTHOR, changes_files, compare_versions

    comparison = compare_versions(root, since, author=author or DEFAULT_AUTHOR, new=resolved)
    files = changes_files(comparison)
    return [BundleFile(f"manuscript-changes{ext}", files[ext]) for ext in (".docx", ".pdf", ".html")]


def write_files(document: Document, counts: list[Count], changes: list[BundleFile] = ()) -> list[BundleFile]:
    """Every file of the bundle, in the bundle's order, MANIFEST.txt first; ``changes`` after the manuscripts.

    The manuscripts are in the journal profile's review layout when it has one (press.review), and
    blinded copies come too when it asks for them (the default profile does both).
    """
    journal = document.metadata.journal
    with ThreadPoolExecutor(max_workers=4) as pool:
        shared = Shared(document, pool, renderings=(review_rendering(journal.review) if journal.review else "print",))
        # The PDFs one after another in one thread: WeasyPrint's layout holds the GIL, so
        # parallel renders would gain nothing and Pango is not documented as thread-safe. The
        # pandoc jobs (subprocesses) run beside them.
        full, blinded = WriteOptions(review=journal.review), WriteOptions(blinded=True, review=journal.review)
        pdfs = pool.submit(
            lambda: (
                pdf.write(shared, full),
                pdf.write(shared, blinded) if journal.blinded else b"",
                title_page_pdf(shared, counts),
            ),
        )
        full_docx = pool.submit(docx.write, shared, full)
        blinded_docx = pool.submit(docx.write, shared, blinded) if journal.blinded else None
        title_docx = pool.submit(title_page_docx, shared, counts)
        xml = pool.submit(jats.write, shared, WriteOptions())
        figures = pool.submit(FORMATS["jats"].assets, shared, WriteOptions())
        full_pdf, blinded_pdf, title_pdf = pdfs.result()
        blinded_files = (
            [
                BundleFile("manuscript-blinded.pdf", blinded_pdf),
                BundleFile("manuscript-blinded.docx", blinded_docx.result()),
            ]
            if blinded_docx is not None
            else []
        )
        files = [
            BundleFile("manuscript.pdf", full_pdf),
            BundleFile("manuscript.docx", full_docx.result()),
            *blinded_files,
            BundleFile("title-page.pdf", title_pdf),
            BundleFile("title-page.docx", title_docx.result()),
            *changes,
            BundleFile("manuscript.xml", xml.result()),
            *(BundleFile(name, data) for name, data in figures.result().items()),
            BundleFile("references.bib", references_bib(document.manuscript)),
            *source_files(document),
        ]
    return [BundleFile("MANIFEST.txt", manifest(files, document)), *files]


def references_bib(manuscript: Manuscript) -> bytes:
    """The bibliography as one file: the single .bib as it is, or every .bib one after another."""
    if len(manuscript.bib_paths) == 1:
        return manuscript.bib_paths[0].read_bytes()
    parts = []
    for path in manuscript.bib_paths:
        parts.append(f"% ---- {path.relative_to(manuscript.root).as_posix()} ----\n".encode() + path.read_bytes())
    return b"\n".join(parts)


def _inside(path: Path, folder: Path) -> PurePosixPath | None:
    """``path`` as written relative to ``folder``; None when it, or what it links to, lies outside."""
    if not path.resolve().is_relative_to(folder.resolve()):
        return None
    try:
        return PurePosixPath(Path(os.path.normpath(path)).relative_to(folder).as_posix())
    except ValueError:
        return None


def source_files(document: Document) -> list[BundleFile]:
    """The metadata, the Markdown files it lists, and local images, under source/ as in the project."""
    manuscript = document.manuscript
    root = manuscript.root
    paths = [manuscript.metadata.path]
    paths += [section.path for section in ([manuscript.abstract] if manuscript.abstract else [])]
    paths += [section.path for section in manuscript.sections]
    paths += image_paths(document)
    files: list[BundleFile] = []
    seen: set[PurePosixPath] = set()
    for path in paths:
        relative = _inside(path, root)
        if relative is None or relative in seen or not path.is_file():
            continue  # the checks refuse files outside the project; never bundle them
        seen.add(relative)
        files.append(BundleFile(f"{SOURCE_DIR}/{relative}", path.read_bytes()))
    return files


def image_paths(document: Document) -> list[Path]:
    """Local image files the document shows (relative to manuscript/, as the PDF resolves them)."""
    found: list[Path] = []

    def visit(key: str, value: Any, _f: str, _m: Any) -> None:
        if key == "Image":
            target = value[2][0]
            if target and "://" not in target and not target.startswith(("data:", "/")):
                found.append(document.manuscript.layout.text_dir / target)

    walk(document.ast["blocks"], visit, "", {})
    return found


def manifest(files: list[BundleFile], document: Document) -> bytes:
    """A table of every other file in the bundle: size in bytes, SHA-256, path."""
    lines = [
        f"# {document.metadata.slug}: submission bundle of {document.date}",
        "# Every file in this bundle except MANIFEST.txt: size in bytes, SHA-256, path.",
        "",
    ]
    width = max(len(str(len(f.data))) for f in files)
    lines += [f"{len(f.data):>{width}}  {f.sha256}  {f.name}" for f in files]
    return ("\n".join(lines) + "\n").encode("utf-8")


def zip_bundle(files: list[BundleFile], date: str) -> bytes:
    """The ZIP: entries in the given order, all dated the article's date, fixed permissions."""
    year, month, day = (int(part) for part in date.split("-"))
    stamp = (year, month, day, 0, 0, 0) if year >= 1980 else (1980, 1, 1, 0, 0, 0)  # ZIP dates start in 1980
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        for file in files:
            info = zipfile.ZipInfo(file.name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.create_system = 3  # Unix, whatever the machine: the same bytes everywhere
            bundle.writestr(info, file.data, compresslevel=9)
    return buffer.getvalue()


# ---- the title page ----


def title_page_context(document: Document, counts: list[Count]) -> dict[str, Any]:
    """What the title page shows: the article context, the declarations and the counts of `check`."""
    context = build_context(document)
    declarations = document.metadata.declarations
    required = document.metadata.journal.required_declarations  # the journal profile's (press.profiles)
    context["declaration_list"] = [
        {"key": key, "label": label, "text": declarations.get(key), "required": key in required}
        for key, label in DECLARATIONS
    ]
    context["counts"] = counts
    return context


def title_page_pdf(shared: Shared, counts: list[Count]) -> bytes:
    from weasyprint import HTML

    document = shared.document
    manuscript = document.manuscript
    templates = manuscript.templates
    css = (templates / "title-page.css").read_text(encoding="utf-8")
    html = render(
        templates, "title-page.html", **title_page_context(document, counts), css=css, fonts_css=font_face_css()
    )
    fetcher = pdf.url_fetcher_for([manuscript.layout.text_dir, *templates.dirs, *font_dirs()])
    try:
        rendered = HTML(string=html, base_url=manuscript.layout.text_dir.as_uri() + "/", url_fetcher=fetcher).render(
            pdf_tags=True
        )
    except Exception:  # noqa: BLE001 - WeasyPrint wraps the fetcher's refusal in various types
        _raise_refused(fetcher, templates / "title-page.html")
        raise
    _raise_refused(fetcher, templates / "title-page.html")
    rendered.metadata.xmp_metadata.append(pdf.xmp_license(shared))
    identifier = hashlib.sha256(f"{manuscript.metadata.slug}|{document.date}|title-page".encode()).hexdigest()[:32]
    return rendered.write_pdf(pdf_identifier=identifier.encode(), pdf_tags=True)


def _raise_refused(fetcher: Any, template: Path) -> None:
    if getattr(fetcher, "refused", []):
        raise pdf.refused_error(display_path(template), fetcher.refused)


def title_page_docx(shared: Shared, counts: list[Count]) -> bytes:
    document = shared.document
    metadata = document.metadata
    templates = document.manuscript.templates
    html = render(templates, "title-page-body.html", **title_page_context(document, counts))
    holders = ", ".join(metadata.copyright_holders)
    rights = f"Copyright © {metadata.copyright_year} {holders}. {metadata.license.name} ({metadata.license.url})"
    meta = {"lang": metadata.lang, "license": metadata.license.url, "rights": rights}
    ast = {
        "pandoc-api-version": document.ast["pandoc-api-version"],
        "meta": {k: meta_value(v) for k, v in meta.items()},
        "blocks": pandoc.html_to_ast(html)["blocks"],
    }
    data = pandoc.ast_to(
        ast,
        "docx",
        ["--reference-doc", str(templates / "reference.docx")],
        env={"SOURCE_DATE_EPOCH": docx.source_date_epoch(document.date)},
        sandbox=False,
    )
    return docx.set_core_properties(data, document, rights, blinded=False)
