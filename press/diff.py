"""`python build.py diff REV`: what changed since an earlier version, as Word revisions and marked-up pages.

Both versions are resolved as a build resolves them (press.resolve), side by side; press.compare
marks the changes in the new document's AST, and the existing writers render that: the DOCX
writer turns the change Spans into real tracked changes, the HTML and PDF show them coloured and
underlined or struck through, with a summary on the first page and a change bar in the PDF's
margin. All three are written in memory and published together, or not at all.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import html
import io
import re
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .compare import WHOLE, Changes, accepted, compare, title_text
from .document import stringify
from .model import PressError, display_path, error
from .renditions import Media
from .writers.shared import Shared

DEFAULT_AUTHOR = "press"
SUFFIX = "-changes"  # <slug>-changes.docx, .pdf, .html
EXTENSIONS = (".docx", ".pdf", ".html")

# Colour and a line both, so that the marks survive greyscale printing and colour blindness.
CHANGES_CSS = """
.insertion { color: #0b57a4; text-decoration: underline; text-decoration-thickness: 0.08em; }
.deletion { color: #b3261e; text-decoration: line-through; }
/* Images (figures, and the PDF's typeset equations) take no text decoration: a frame instead,
   solid and faded for a deletion, dashed for an insertion. */
.deletion img, .press-deleted img { outline: 0.4mm solid #b3261e; outline-offset: 0.3mm; opacity: 0.45; }
.insertion img, .press-inserted img { outline: 0.4mm dashed #0b57a4; outline-offset: 0.3mm; }
.press-deleted { color: #b3261e; }
.press-inserted { color: #0b57a4; }
.press-changed { border-left: 1.2mm solid #b3261e; margin-left: -5mm; padding-left: 3.8mm; }
.changes-summary { border: 0.3mm solid #888; padding: 2mm 4mm; margin: 0 0 5mm 0; font-size: 9pt;
  break-inside: avoid; }
.changes-summary h2 { font-size: 11pt; margin: 1mm 0 2mm 0; }
.changes-summary table { width: auto; border-collapse: collapse; margin: 1mm 0 2mm 0; }
.changes-summary th, .changes-summary td { padding: 0.4mm 3mm 0.4mm 0; text-align: left; vertical-align: top; }
.changes-summary td.n { text-align: right; font-variant-numeric: tabular-nums; }
.changes-summary ul { margin: 0.5mm 0 1.5mm 0; padding-left: 5mm; }
@media screen { .changes-summary { max-width: 46rem; margin: 1.5rem auto; font-size: 0.85rem; } }
.changes-summary .key .insertion, .changes-summary .key .deletion { padding: 0 0.5mm; }
"""


@dataclass
class Comparison:
    """The new version with its changes marked, and the summary of them."""

    label: str  # what it is compared with: the revision, or the folder
    document: Any  # press.document.Document: the new version's, its AST the marked one
    changes: Changes
    resolved: Any  # the new version's press.resolve.Resolved
    earlier_figures: dict[str, Any]  # target in the marked AST -> press.renditions.Source: old figures' files

    @property
    def slug(self) -> str:
        return self.document.metadata.slug


def revision_date(document: Any) -> str:
    """The revisions' date: the article's date (press.document.article_date: metadata, SOURCE_DATE_EPOCH, ...)."""
    return f"{document.date}T00:00:00Z"


def compare_versions(
    root: Path,
    revision: str | None = None,
    against: Path | None = None,
    author: str = DEFAULT_AUTHOR,
    new: Any | None = None,
) -> Comparison:
    """Resolve the earlier version (git ``revision`` or the copy ``against``) and the one at ``root``, and compare.

    ``new``: the working copy already resolved (the submission has it). Raises PressError for a bad
    revision or folder, and with the earlier version's own diagnostics (its files named
    ``REV:path``) when it does not build.
    """
    from .revision import copy_project, revision_project

    if against is not None:
        label = display_path(against)
        label = against.resolve().name if label in (".", "") else label  # "changes since ." says nothing
        return _compare_at(root, copy_project(against), label, author, new)
    assert revision is not None
    with revision_project(root, revision) as old_root:
        return _compare_at(root, old_root, revision, author, new)


def _compare_at(root: Path, old_root: Path, label: str, author: str, new: Any | None) -> Comparison:
    """Resolve the version at ``old_root`` beside the one at ``root`` (unless ``new`` is it), and compare."""
    from .resolve import resolve

    with ThreadPoolExecutor(max_workers=1) as pool:
        future = pool.submit(resolve, root) if new is None else None
        old = _resolve_old(old_root, label)
        new = future.result() if future is not None else new
    document = new.document
    old_ast, earlier = _earlier_figures(old.document.ast, old_root, root)
    marked, changes = compare(
        old_ast,
        document.ast,
        author,
        revision_date(document),
        _image_digests(old_ast, old_root, earlier),
        _image_digests(document.ast, root),
    )
    return Comparison(label, dataclasses.replace(document, ast=marked), changes, new, earlier)


EARLIER = "press-earlier:"  # the target of a figure file as the earlier version had it


def _image_path(root: Path, target: str) -> Path | None:
    from urllib.parse import unquote

    if not target or "://" in target or target.startswith(("data:", "/")):
        return None
    from .project import locate

    path = (locate(root).text_dir / unquote(target)).resolve()
    return path if path.is_relative_to(root.resolve()) and path.is_file() else None


def _earlier_figures(ast: dict, old_root: Path, root: Path) -> tuple[dict, dict[str, Any]]:
    """The earlier AST with each image whose file is not the same now pointing at its earlier file.

    Those files are read now, while the earlier version's folder exists; the writers find them by
    their ``press-earlier:`` targets (_BothVersionsMedia).
    """
    import json

    from .ast import elements
    from .renditions import Media

    ast = json.loads(json.dumps(ast))
    media = Media(old_root)
    earlier: dict[str, Any] = {}
    try:
        for element in elements(ast["blocks"]):
            if element["t"] != "Image":
                continue
            target = element["c"][2][0]
            old_path, new_path = _image_path(old_root, target), _image_path(root, target)
            if old_path is None or (new_path is not None and old_path.read_bytes() == new_path.read_bytes()):
                continue
            source = media.source(target)
            if source is not None:
                element["c"][2][0] = EARLIER + target
                earlier[EARLIER + target] = dataclasses.replace(source, target=EARLIER + target)
    finally:
        media.close()
    return ast, earlier


def _image_digests(ast: dict, root: Path, earlier: dict[str, Any] | None = None) -> dict[str, str]:
    """Each image target of ``ast`` -> the digest of its file's bytes."""
    from .ast import elements

    digests = {}
    for element in elements(ast["blocks"]):
        if element["t"] == "Image":
            target = element["c"][2][0]
            if earlier and target in earlier:
                digests[target] = _sha256(earlier[target].data)
            elif (path := _image_path(root, target)) is not None:
                digests[target] = _sha256(path.read_bytes())
    return digests


def _resolve_old(old_root: Path, label: str) -> Any:
    from .resolve import resolve
    from .revision import prefixed

    try:
        return resolve(old_root)
    except PressError as exc:
        raise PressError(prefixed(exc.diagnostics, old_root, label)) from None


# ---- writing ----


def changes_files(comparison: Comparison, pdf_renderer: Any = None) -> dict[str, bytes]:
    """Extension -> bytes of the three changes files; plus "assets": the HTML's files beside it, by name."""
    from .formats import FORMATS, WriteOptions
    from .writers import pdf

    summary = summary_html(comparison)
    with ThreadPoolExecutor(max_workers=3) as pool:
        shared = _shared(comparison, pool, ("print", "web"))
        options = WriteOptions()
        word = pool.submit(_docx, shared)
        page = pool.submit(lambda: _with_summary(FORMATS["html"].write(shared, options).decode("utf-8"), summary, MAIN))
        assets = pool.submit(FORMATS["html"].assets, shared, options)
        job = pdf.job_for(shared)
        job.html = _with_summary(job.html, summary)
        job.identifier = _sha256(job.identifier + b"|changes").encode()[:32]  # not the article PDF's identifier
        typeset = (pdf_renderer or pdf.render_job)(job)
        return {".docx": word.result(), ".pdf": typeset, ".html": page.result().encode("utf-8")} | {
            "assets": assets.result()
        }


def changes_docx(comparison: Comparison) -> bytes:
    """Only the DOCX with the tracked changes."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        return _docx(_shared(comparison, pool, ()))


def _docx(shared: Shared) -> bytes:
    from .formats import WriteOptions
    from .writers import docx

    document = dataclasses.replace(shared.document, ast={**shared.document.ast})
    document.ast["blocks"] = tracked_code_blocks(document.ast["blocks"])
    return mark_paragraph_revisions(docx.write(_WithDocument(shared, document), WriteOptions()))


class _WithDocument:
    """``shared`` with another document: what the DOCX writer reads (the rest is ``shared``'s)."""

    def __init__(self, shared: Shared, document: Any):
        self._shared, self.document = shared, document

    def __getattr__(self, name: str) -> Any:
        return getattr(self._shared, name)


def tracked_code_blocks(blocks: list[dict]) -> list[dict]:
    """Code blocks inserted or deleted whole, as paragraphs of code in one change Span each.

    pandoc's DOCX writer tracks Spans only: a code block is written as it is, so "Accept all" kept a
    deleted one and "Reject all" an inserted one. As a paragraph in Word's "Source Code" style with
    its lines as code runs and line breaks, it reads the same and its text is a revision.
    """
    out = []
    for block in blocks:
        kind = block["t"]
        if kind == "CodeBlock":
            (ident, classes, attributes), text = block["c"]
            cls = next((c for c, whole in WHOLE.items() if whole in classes), None)
            if cls is not None:
                lines: list[dict] = []
                for number, line in enumerate(text.split("\n")):
                    lines += [{"t": "LineBreak"}] if number else []
                    lines += [{"t": "Code", "c": [["", [], []], line]}] if line else []
                marks = [pair for pair in attributes if pair[0] in ("author", "date")]
                span = {"t": "Span", "c": [["", [cls], marks], lines]}
                block = {
                    "t": "Div",
                    "c": [[ident, [], [["custom-style", "Source Code"]]], [{"t": "Para", "c": [span]}]],
                }
        elif kind in ("Div", "BlockQuote"):
            inner = block["c"][1] if kind == "Div" else block["c"]
            inner = tracked_code_blocks(inner)
            block = {"t": kind, "c": [block["c"][0], inner] if kind == "Div" else inner}
        elif kind in ("BulletList", "OrderedList"):
            items = block["c"] if kind == "BulletList" else block["c"][1]
            items = [tracked_code_blocks(item) for item in items]
            block = {"t": kind, "c": items if kind == "BulletList" else [block["c"][0], items]}
        out.append(block)
    return out


def _shared(comparison: Comparison, pool: ThreadPoolExecutor, renderings: tuple[str, ...]) -> Shared:
    media = _BothVersionsMedia(comparison.document.manuscript.root, comparison.earlier_figures)
    return _ChangesShared(comparison.document, pool, renderings=renderings, media=media)


class _BothVersionsMedia(Media):
    """The working copy's figures, and the earlier version's files of the figures that changed or went."""

    def __init__(self, root: Path, earlier: dict[str, Any]):
        super().__init__(root)
        self._earlier = earlier

    def _read(self, target: str) -> Any:
        return self._earlier.get(target) or super()._read(target)


class _ChangesShared(Shared):
    """The writers' shared document, with the marks' CSS added wherever a writer passes its CSS."""

    def context(self, rendering: str = "print", **extra: Any) -> dict[str, Any]:
        if "css" in extra:  # the page and the PDF; the DOCX has styles, not CSS
            extra["css"] = extra["css"] + CHANGES_CSS
        context = super().context(rendering, **extra)
        # The page's contents list the new version's headings, in their new words: a deleted
        # heading (it has no id) is not there, a reworded one is not both old and new words run together.
        context["toc"] = [
            {**entry, "text": title_text(block["c"][2])}
            for entry, block in zip(context["toc"], _toc_headers(self.document.ast), strict=True)
            if entry["id"]
        ]
        return context

    @functools.cached_property
    def description(self) -> str:
        """The page's and the PDF's description: the new abstract's, without the deleted words."""
        text = " ".join(stringify(accepted(self.document.ast["blocks"][0]["c"][1])).split())
        return text if len(text) <= 300 else text[:297].rsplit(" ", 1)[0] + "…"  # as Shared's


def _toc_headers(ast: dict) -> list[dict]:
    """The headings press.context.table_of_contents lists, in its order."""
    return [b for b in ast["blocks"] if b["t"] == "Header" and b["c"][0] <= 2]


BODY = re.compile(r"<body\b[^>]*>")
MAIN = re.compile(r"<main\b[^>]*>")


def _with_summary(page: str, summary: str, where: re.Pattern = BODY) -> str:
    """The rendered page with the summary first in its body (the PDF: on the first page, above the
    title) or its ``<main>`` (the page: after the skip link and the masthead, in the landmark the
    skip link leads to). The templates stay the journal's own; without the element, first."""
    found = where.search(page) or BODY.search(page)
    return page[: found.end()] + "\n" + summary + page[found.end() :] if found else summary + page


def summary_html(comparison: Comparison) -> str:
    changes = comparison.changes
    esc = html.escape
    parts = [
        '<section class="changes-summary" aria-label="Summary of changes">',
        f"<h2>Changes since {esc(comparison.label)}</h2>",
        f'<p class="key"><span class="insertion">inserted text</span> · <span class="deletion">deleted text</span>'
        f" · a bar in the margin marks each changed paragraph. {changes.words_added} word(s) added, "
        f"{changes.words_removed} removed.</p>",
    ]
    rows = [s for s in changes.sections if s.words_added or s.words_removed]
    if rows:
        parts.append("<table><thead><tr><th>Section</th><th>Words added</th><th>Words removed</th></tr></thead><tbody>")
        parts += [
            f'<tr><td>{esc(s.title)}</td><td class="n">{s.words_added}</td><td class="n">{s.words_removed}</td></tr>'
            for s in rows
        ]
        parts.append("</tbody></table>")
    for title, items in (
        ("References added", changes.references_added),
        ("References removed", changes.references_removed),
        ("Figures", changes.figures),
        ("Tables", changes.tables),
    ):
        if items:
            parts.append(f"<p><strong>{title}:</strong></p><ul>")
            parts += [f"<li>{esc(_shorten(item))}</li>" for item in items]
            parts.append("</ul>")
    if not changes.any:
        parts.append("<p>No changes.</p>")
    parts.append("</section>")
    return "\n".join(parts)


def _shorten(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


# ---- the DOCX: whole paragraphs and rows ----

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
M = "http://schemas.openxmlformats.org/officeDocument/2006/math"
CONTENT = {f"{{{W}}}{name}" for name in ("t", "delText", "drawing", "tab", "br", "footnoteReference", "sym")}
CONTENT.add(f"{{{M}}}t")  # an equation's text: Word's equations have runs of their own (m:r)


def mark_paragraph_revisions(data: bytes) -> bytes:
    """The DOCX with each paragraph and table row whose content is all inserted (or all deleted) marked so.

    pandoc's writer marks runs only; a paragraph mark left unmarked would stay behind, empty, when
    Word rejects an inserted paragraph (or accepts a deleted one). Each revision also gets an id of
    its own, after the bookmarks' (pandoc numbers them all 1; the two share one space of ids), in
    the body and the footnotes alike.
    """
    from lxml import etree

    from .writers.docx import normalise_zip

    source = zipfile.ZipFile(io.BytesIO(data))
    parts = {
        name: etree.fromstring(source.read(name))
        for name in ("word/document.xml", "word/footnotes.xml")
        if name in source.namelist()
    }
    revisions = (f"{{{W}}}ins", f"{{{W}}}del")
    for root in parts.values():
        for paragraph in root.iter(f"{{{W}}}p"):
            if (mark := _all_in(paragraph)) is not None:
                ppr = _properties(paragraph, "pPr", first=True)
                _properties(ppr, "rPr", before="sectPr").insert(0, _revision(mark))
        for row in root.iter(f"{{{W}}}tr"):
            if (mark := _all_in(row)) is not None:
                _properties(row, "trPr", first=True, after="tblPrEx").append(_revision(mark))
    taken = [
        int(value)
        for root in parts.values()
        for element in root.iter()
        if element.tag not in revisions and (value := element.get(f"{{{W}}}id", "")).isdigit()
    ]
    number = max(taken, default=0)
    for root in parts.values():
        for revision in root.iter(*revisions):
            number += 1
            revision.set(f"{{{W}}}id", str(number))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for name in source.namelist():
            content = source.read(name)
            if name in parts:
                content = etree.tostring(parts[name], xml_declaration=True, encoding="UTF-8", standalone=True)
            target.writestr(name, content)
    return normalise_zip(out.getvalue())


def _properties(parent: Any, name: str, first: bool = False, after: str = "", before: str = "") -> Any:
    """``parent``'s properties element ``w:name``, made where the schema wants it when it has none."""
    from lxml import etree

    found = parent.find(f"{{{W}}}{name}")
    if found is not None:
        return found
    element = etree.Element(f"{{{W}}}{name}")
    previous = parent.find(f"{{{W}}}{after}") if after else None
    following = parent.find(f"{{{W}}}{before}") if before else None
    if previous is not None:
        previous.addnext(element)
    elif following is not None:
        following.addprevious(element)
    elif first:
        parent.insert(0, element)
    else:
        parent.append(element)
    return element


def _all_in(container: Any) -> Any:
    """The w:ins or w:del that holds every run with content in ``container``, if they all share one kind."""
    kinds: set[str] = set()
    first = None
    for run in container.iter(f"{{{W}}}r", f"{{{M}}}r"):
        if not any(child.tag in CONTENT for child in run):
            continue
        holder = run.getparent()
        while holder is not None and holder is not container and holder.tag not in (f"{{{W}}}ins", f"{{{W}}}del"):
            holder = holder.getparent()
        if holder is None or holder is container:
            return None
        kinds.add(holder.tag)
        first = first if first is not None else holder
    return first if len(kinds) == 1 else None


def _revision(mark: Any) -> Any:
    from lxml import etree

    element = etree.Element(mark.tag)
    for name in ("author", "date"):
        value = mark.get(f"{{{W}}}{name}")
        if value is not None:
            element.set(f"{{{W}}}{name}", value)
    return element


# ---- the command ----


def output_names(slug: str) -> list[str]:
    return [f"{slug}{SUFFIX}{ext}" for ext in EXTENSIONS]


def write_changes(
    root: Path, out_dir: Path, revision: str | None, against: Path | None, author: str = DEFAULT_AUTHOR
) -> tuple[Comparison, list[Path], float]:
    """Compare and publish the three files into ``out_dir`` at once (nothing when anything fails)."""
    from .build import prepare_out_dir
    from .pdf_worker import PdfWorker
    from .publish import build_lock, clean_stale, discard, publish, stage
    from .record import sha256_file

    started = time.perf_counter()
    worker = PdfWorker.start(root)  # WeasyPrint's import, beside the two resolves
    try:
        comparison = compare_versions(root, revision, against, author)

        def render(job: Any) -> bytes:
            if worker is None:
                from .writers.pdf import render_job

                return render_job(job)
            worker.send(job)
            return worker.result()

        files = changes_files(comparison, render)
    finally:
        if worker is not None:
            worker.stop()
    assets = files.pop("assets")
    targets = [out_dir / name for name in output_names(comparison.slug)]
    with build_lock(out_dir):
        prepare_out_dir(out_dir)
        clean_stale(out_dir)
        staged: dict[Path, Path] = {}
        try:
            for target, ext in zip(targets, EXTENSIONS, strict=True):
                staged[target] = stage(out_dir, target.name, files[ext])
            for name, content in assets.items():  # the page's fonts and figures: the build's own, by content
                if not (out_dir / name).is_file() or sha256_file(out_dir / name) != _sha256(content):
                    staged[out_dir / name] = stage(out_dir, name, content)
            publish(staged)
        except BaseException:
            discard(staged)
            raise
    return comparison, targets, time.perf_counter() - started


def _sha256(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def run(args: argparse.Namespace) -> int:
    """The ``diff`` command: ``diff REV`` or ``diff --against DIR``."""
    from .report import print_diagnostics

    words, against = list(args.query), args.against
    if against is not None and words:
        raise PressError([error("diff", None, "diff-usage", "give a revision or --against DIR, not both")])
    if against is None and len(words) != 1:
        raise PressError(
            [
                error(
                    "diff",
                    None,
                    "diff-usage",
                    "name one git revision to compare with (a tag, a commit, HEAD~3), or --against DIR",
                    "python build.py diff v1-submitted",
                )
            ]
        )
    comparison, targets, seconds = write_changes(
        args.root, args.out_dir, words[0] if words else None, against, args.author or DEFAULT_AUTHOR
    )
    warnings = comparison.resolved.diagnostics  # the earlier version's are history: not repeated here
    if warnings:
        print_diagnostics(warnings, args.report_format)
    for target in targets:
        print(f"  {target.suffix[1:]:<5} {display_path(target)}  ({target.stat().st_size / 1024:.0f} KiB)")
    changes = comparison.changes
    print(
        f"changes since {comparison.label}: {changes.words_added} word(s) added, {changes.words_removed} removed, "
        f"{len(changes.references_added)} reference(s) added, {len(changes.references_removed)} removed, "
        f"{len(changes.figures)} figure and {len(changes.tables)} table change(s), in {seconds:.2f} s"
    )
    return 0
