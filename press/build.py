"""The build: load once, check, resolve once, write each format, publish atomically.

Incremental: the build record (press.record) says which outputs are up to date. When all requested
ones are, the build returns before importing the pipeline (no pandoc, no WeasyPrint). Otherwise it
rebuilds only the stale outputs: the one pandoc pass starts before loading (on a guess that parse()
verifies), a worker process imports WeasyPrint meanwhile, and the writers run in parallel. Citeproc's
renderings, the HTML of each part of the document and the "How to cite" line are kept beside the
record and reused while their inputs stay the same (press.kept).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .formats import BUILT_FORMATS, COMMON_PACKAGES, FORMATS
from .model import Diagnostic, PressError, Templates, error
from .pdf_worker import PdfWorker
from .project import Project, locate, peek_metadata
from .record import (
    BuildRecord,
    Fingerprints,
    OutputRecord,
    describe_key,
    input_path_key,
    read_record,
    sha256_file,
    why_stale,
    write_record,
)

if TYPE_CHECKING:  # the pipeline's modules are imported only when something is rebuilt
    import argparse

    from .document import Document
    from .model import Manuscript
    from .renditions import Media
    from .resolve import Resolved
    from .writers.shared import Shared

JINJA_SUFFIXES = (".html", ".xml", ".htm")


@dataclass
class Output:
    format: str
    path: Path
    seconds: float
    size: int
    up_to_date: bool = False  # True: the record showed nothing it depends on changed; not rewritten
    reason: str = ""  # why it was rebuilt: "not built before", "manuscript/02-methods.md changed", "forced"


@dataclass
class BuildResult:
    outputs: list[Output] = field(default_factory=list)  # every requested format, rebuilt or up to date
    warnings: list[Diagnostic] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rebuilt(self) -> list[str]:
        return [o.format for o in self.outputs if not o.up_to_date]

    @property
    def up_to_date(self) -> list[str]:
        return [o.format for o in self.outputs if o.up_to_date]


def prepare_out_dir(out_dir: Path) -> None:
    from .model import display_path

    if out_dir.exists() and not out_dir.is_dir():
        raise PressError(
            [
                error(
                    display_path(out_dir),
                    None,
                    "output-not-folder",
                    "the output path exists and is not a folder",
                    "choose another --out",
                )
            ]
        )
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        probe = out_dir / ".press-write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise PressError(
            [
                error(
                    display_path(out_dir),
                    None,
                    "output-unwritable",
                    f"cannot write to the output folder: {exc.strerror}",
                )
            ]
        ) from None


def build(
    root: Path,
    out_dir: Path,
    formats: list[str] | None = None,
    progress: Callable[[Output], None] | None = None,
    pdf_variant: str | None = None,
    force: bool = False,
) -> BuildResult:
    """Build ``formats`` (all by default) of the manuscript at ``root`` into ``out_dir``.

    Outputs the build record shows to be up to date are left as they are (``force`` rebuilds them).
    Two builds into the same folder never interleave: the second waits for the first.
    """
    from .publish import build_lock

    with build_lock(out_dir):
        return _build_locked(root, out_dir, formats, progress, pdf_variant, force)


def _build_locked(
    root: Path,
    out_dir: Path,
    formats: list[str] | None,
    progress: Callable[[Output], None] | None,
    pdf_variant: str | None,
    force: bool,
) -> BuildResult:
    started = time.perf_counter()
    formats = [fmt for fmt in BUILT_FORMATS if fmt in (formats or BUILT_FORMATS)]
    record = read_record(out_dir)
    fingerprints = Fingerprints(root, {}, record.pandoc)
    stale = _stale_formats(record, formats, out_dir, fingerprints, pdf_variant, force)
    if not stale:
        result = BuildResult(warnings=_recorded_warnings(record, formats))
        for fmt in formats:
            entry = record.outputs[fmt]
            result.outputs.append(Output(fmt, out_dir / entry.file, 0.0, entry.size, up_to_date=True))
        return _finish(result, progress, started)

    # Started first, each beside the other: the PDF worker's preparation and the pandoc pass (then
    # the checks and the print HTML) are the two longest chains before the PDF's layout can start.
    project = locate(root)
    pdf_worker = PdfWorker.start(project.source) if "pdf" in stale else None
    prefetch = start_pandoc_early(project, peek_metadata(project))
    if "pdf" in stale:  # only the PDF shows typeset equations: the checks alone can wait for node
        start_typesetting(prefetch, out_dir)
    try:
        with ThreadPoolExecutor(max_workers=4) as pool:
            run = Rebuild(project, out_dir, formats, stale, record, fingerprints, pdf_variant, pdf_worker, pool, force)
            result, rebuilt = _rebuild(run, prefetch)
    finally:
        if prefetch is not None:
            prefetch.cancel()  # a no-op when it was used; stops it when loading failed
        if pdf_worker is not None:
            pdf_worker.stop()
    record.outputs.update(rebuilt)
    record.pandoc = fingerprints.pandoc_known
    write_record(out_dir, record)  # after publication: a record never vouches for bytes not yet in place
    return _finish(result, progress, started)


def _finish(result: BuildResult, progress: Callable[[Output], None] | None, started: float) -> BuildResult:
    if progress:
        for output in result.outputs:
            progress(output)
    result.seconds = time.perf_counter() - started
    return result


def _stale_formats(
    record: BuildRecord,
    formats: list[str],
    out_dir: Path,
    fingerprints: Fingerprints,
    pdf_variant: str | None,
    force: bool,
) -> dict[str, str]:
    """Format -> why it must be rebuilt, for each requested format that is not up to date."""
    if force:
        return dict.fromkeys(formats, "forced")
    slug = next((Path(entry.file).stem for entry in record.outputs.values()), None)
    fingerprints.options = build_options(formats, out_dir, slug, pdf_variant)
    stale = {}
    for fmt in formats:
        reason = why_stale(record.outputs.get(fmt), out_dir, fingerprints, describe_key)
        if reason:
            stale[fmt] = reason
    return stale


def build_options(formats: list[str], out_dir: Path, slug: str | None, pdf_variant: str | None) -> dict[str, str]:
    """The options that shape the bytes: the PDF variant, and which downloads the HTML links to."""
    downloads = [fmt for fmt in ("pdf", "docx") if fmt in formats or (slug and (out_dir / f"{slug}.{fmt}").exists())]
    return {"pdf_variant": pdf_variant or "", "downloads": ",".join(downloads)}


def _recorded_warnings(record: BuildRecord, formats: list[str]) -> list[Diagnostic]:
    """The warnings of the builds that wrote these outputs: their inputs are unchanged, so are these."""
    seen: dict[Diagnostic, None] = {}
    for fmt in formats:
        for warning in record.outputs[fmt].warnings:
            seen.setdefault(Diagnostic(**warning), None)
    return list(seen)


@dataclass
class Rebuild:
    """One rebuild of the stale outputs: what its steps share."""

    project: Project  # located once: every step reads its files from there
    out_dir: Path
    formats: list[str]
    stale: dict[str, str]  # format -> why it is rebuilt
    record: BuildRecord
    fingerprints: Fingerprints
    pdf_variant: str | None
    pdf_worker: PdfWorker | None
    pool: ThreadPoolExecutor
    force: bool  # rebuild from scratch: citeproc's kept renderings are not used either


def _rebuild(run: Rebuild, prefetch: Any) -> tuple[BuildResult, dict[str, OutputRecord]]:
    """Resolve once, then write the stale formats (press.schedule says when), publish and fingerprint them."""
    from .context import how_to_cite_html
    from .kept import Kept, read_kept, write_kept
    from .publish import clean_stale
    from .renditions import MEDIA_DIR, Media
    from .resolve import resolve
    from .writers.shared import Shared, html_parts_for, rendering_ast

    project, out_dir = run.project, run.out_dir
    # Hash the project's files before reading them: if one is saved during the build, the record
    # keeps the older hash and the next build redoes the work, never the other way round.
    run.fingerprints.prime(project.input_folders())
    # A killed run's temporary files go before this run stages any of its own: the figures' renditions
    # are staged in .press-media/ while citeproc runs, and a sweep after that removed them mid-rename.
    clean_stale(out_dir)
    kept = Kept() if run.force else read_kept(out_dir)  # work an earlier build kept (press.kept)
    todo = [fmt for fmt in run.formats if fmt in run.stale]
    # Only the PDF's rendering starts early; the others are rendered when their writer asks.
    renderings = ("print",) if "pdf" in todo else tuple(dict.fromkeys(FORMATS[fmt].rendering for fmt in todo))
    html_parts = html_parts_for(kept)
    media = Media(project, out_dir / MEDIA_DIR)  # the figures' renditions, kept by content between builds
    if run.pdf_worker is not None:
        media.on_kept = run.pdf_worker.preload  # the worker reads each typeset equation as it waits
        if "pdf" in todo:
            media.hold_keeping()  # until the PDF's job is sent (_send_early), or the document has no math
    early: dict[str, Future] = {}

    def loaded(manuscript: Manuscript) -> None:  # work that needs only the metadata, beside the pandoc pass
        early["how to cite"] = run.pool.submit(
            lambda: how_to_cite_html(_front_matter_only(manuscript), kept["how-to-cite"])
        )

    def render_ahead(unresolved: Any) -> None:  # while citeproc runs: the figures, the first rendering's parts
        media.prefetch(unresolved, todo, run.pool)  # (the equations are typeset by the checks, press.resolve)
        # Typesets nothing: an equation's size is the layout's (pdf_equations), and bad TeX is the
        # checks' to report, at its file, line and column.
        html_parts[renderings[0]].prerender(run.pool, rendering_ast(renderings[0], unresolved, media))

    def parsed(parse: Any) -> None:  # the media stage looks for no figure or equation the parse has not
        media.expect(parse.has_images, parse.has_math, parse.has_units)

    shared: list[Shared] = []

    def documented(document: Document) -> None:  # while the checks may still typeset: the first rendering
        media.prefetch(document.ast, todo, run.pool)  # those asked for while citeproc ran are not again
        shared.append(Shared(document, run.pool, early["how to cite"], renderings, kept, html_parts, media))
        if "pdf" in todo and run.pdf_worker is not None and media.math_expected:
            # The PDF's layout begins now, while node typesets: the worker waits for each equation
            # where its layout reaches it. Should the checks then find an error, it is stopped.
            early["pdf job"] = _send_early(run.pdf_worker, shared[0], run.pdf_variant, media)
        else:
            media.let_keep()

    resolved = resolve(
        project,
        kept=kept,
        prefetched=prefetch,
        loaded=loaded,
        while_citeproc=render_ahead,
        parsed_hook=parsed,
        document_hook=documented,
    )
    prepare_out_dir(out_dir)
    slug = resolved.manuscript.metadata.slug
    options = build_options(run.formats, out_dir, slug, run.pdf_variant)  # before anything is published
    shrunk: list[tuple[str, int]] = []
    written = _write_stale(run, todo, resolved, shared[0], slug, options, early.get("pdf job"), shrunk)
    found = _shrunk_warnings(shrunk, resolved) + _layout_warnings_kept(run, written)
    if found:
        from .checks import sort_diagnostics

        resolved.diagnostics = sort_diagnostics(list(dict.fromkeys(resolved.diagnostics + found)))
    # Each asset's hash, once: it decides what is staged and goes into the record.
    digests = {fmt: {name: _sha256(data) for name, data in assets.items()} for fmt, ((_, assets), _) in written.items()}
    result = _publish(run, slug, written, digests, resolved.diagnostics)
    if kept.changed:
        write_kept(out_dir, kept)
    media.keep()
    return result, _record_entries(run, resolved, slug, written, digests, media, options)


Written = dict[str, tuple[tuple[bytes, dict[str, bytes]], float]]  # format -> ((output, assets), seconds)


# Warnings that only the writing of an output finds (its layout), not the resolve that every build runs.
LAYOUT_WARNINGS = {"pdf": frozenset({"math-too-wide"})}


def _layout_warnings_kept(run: Rebuild, written: Written) -> list[Diagnostic]:
    """The layout's warnings of each output asked for and left as it is (up to date): the build that
    wrote it said them, and its inputs are unchanged, so they still hold; this build's resolve cannot
    find them again."""
    kept = []
    for fmt in run.formats:
        entry = run.record.outputs.get(fmt)
        if fmt in written or entry is None:
            continue
        kept += [Diagnostic(**w) for w in entry.warnings if w.get("code") in LAYOUT_WARNINGS.get(fmt, ())]
    return kept


def _shrunk_warnings(shrunk: list[tuple[str, int]], resolved: Resolved) -> list[Diagnostic]:
    """A warning at each equation the PDF's layout set smaller than its size, to fit its line or cell,
    at its place (file, line, column: the resolve's Expression, which the writers' release of the
    document leaves), found by its TeX as the PDF's alt text has it."""
    from .model import warning

    places: dict[str, Any] = {}
    for expression in resolved.expressions:
        places.setdefault(" ".join(expression.tex.split()), expression)
    least: dict[str, int] = {}  # each equation once, at the least of its sizes
    for tex, percent in shrunk:
        least[tex] = min(percent, least.get(tex, percent))
    found = []
    for tex, percent in least.items():
        place = places.get(tex)
        if place is None:
            continue
        found.append(
            warning(
                place.file,
                place.line,
                "math-too-wide",
                f"this equation is wider than its place in the PDF, which sets it at {percent} % of its size",
                "break a display equation into lines (\\begin{aligned} ... \\\\ ... \\end{aligned}), or"
                " set a long inline one as a display equation",
                column=place.column,
            )
        )
    return found


def _send_early(worker: PdfWorker, shared: Shared, variant: str | None, media: Media) -> Future:
    """The PDF's job, sent to the worker before its equations are typeset (each is said to it as it
    is kept: Media.on_kept), from a thread of its own (it waits for the print rendering, which the
    pool renders): the job sent. The equations are kept from then on (Media.let_keep)."""
    from .writers.pdf import job_for

    sent: Future = Future()

    def send() -> None:
        try:
            job = job_for(shared, variant, announced=True)
            worker.send(job)
            sent.set_result(job)
        except BaseException as exc:  # noqa: BLE001 - the PDF's writer meets it (render_pdf)
            sent.set_exception(exc)
        finally:
            media.let_keep()

    threading.Thread(target=send, name="press-pdf-early", daemon=True).start()
    return sent


def _write_stale(
    run: Rebuild,
    todo: list[str],
    resolved: Resolved,
    shared: Shared,
    slug: str,
    options: dict[str, str],
    sent: Future | None = None,
    shrunk: list[tuple[str, int]] | None = None,
) -> Written:
    """Each stale format's bytes and the files published beside it, in the order press.schedule sets.
    ``sent``: the PDF's job, if it went to the worker early (_send_early); ``shrunk`` is told the
    equations the PDF's layout set smaller (press.writers.pdf.render_job)."""
    from .formats import WriteOptions
    from .schedule import WriteSchedule

    downloads = {fmt: f"{slug}{FORMATS[fmt].extension}" for fmt in options["downloads"].split(",") if fmt}
    schedule = WriteSchedule()

    def render_pdf(job: Any) -> bytes:
        from .writers.pdf import render_job

        told = shrunk if shrunk is not None else []
        if run.pdf_worker is None:
            schedule.handed_over()
            return render_job(job, told)
        if sent is not None and dataclasses.replace(job, announced=True) != sent.result():
            run.pdf_worker.stop()  # not the job it was sent (never seen): laid out here instead
            schedule.handed_over()
            return render_job(job, told)
        if sent is None:
            run.pdf_worker.send(job)  # before the other writers take their share of this process
        # (Sent early: every equation is kept by now (job_for), and result() says nothing more comes.)
        schedule.handed_over()
        data = run.pdf_worker.result()
        told += run.pdf_worker.shrunk
        return data

    def release() -> None:  # while the PDF is laid out, this process needs neither the document nor its renderings
        shared.release()
        resolved.release()

    write_options = WriteOptions(pdf_variant=run.pdf_variant, downloads=downloads, pdf_renderer=render_pdf)

    def write(fmt: str) -> tuple[bytes, dict[str, bytes]]:
        return FORMATS[fmt].write(shared, write_options), FORMATS[fmt].assets(shared, write_options)

    return schedule.run({fmt: functools.partial(write, fmt) for fmt in todo}, release)


def _publish(
    run: Rebuild, slug: str, written: Written, digests: dict[str, dict[str, str]], diagnostics: list[Diagnostic]
) -> BuildResult:
    """Stage every written output and asset, then rename them all into place; drop assets no longer used.

    An output left as it is still has to be in its place: if it was stale for another reason (not
    requested now), the record keeps its old entry, which stays true of its bytes.
    """
    from .publish import discard, publish, stage

    out_dir = run.out_dir
    staged: dict[Path, Path] = {}
    result = BuildResult(warnings=diagnostics)
    try:
        for fmt in run.formats:
            target = out_dir / f"{slug}{FORMATS[fmt].extension}"
            if fmt not in written:
                entry = run.record.outputs[fmt]
                result.outputs.append(Output(fmt, target, 0.0, entry.size, up_to_date=True))
                continue
            (data, assets), seconds = written[fmt]
            staged[target] = stage(out_dir, target.name, data)
            for name, content in assets.items():
                if sha256_file(out_dir / name) != digests[fmt][name]:  # one already in place is left as it is
                    staged[out_dir / name] = stage(out_dir, name, content)
            result.outputs.append(Output(fmt, target, seconds, len(data), reason=run.stale[fmt]))
        publish(staged)
    except BaseException:
        discard(staged)
        raise
    _remove_unused_assets(out_dir, run.record, {fmt: output for fmt, (output, _seconds) in written.items()})
    return result


def _record_entries(
    run: Rebuild,
    resolved: Resolved,
    slug: str,
    written: Written,
    digests: dict[str, dict[str, str]],
    media: Media,
    options: dict[str, str],
) -> dict[str, OutputRecord]:
    """What the record says of each output just written: its bytes' and assets' hashes and its inputs'."""
    fingerprints = run.fingerprints
    fingerprints.options = options
    fingerprints.pandoc()
    warnings = [d.as_dict() for d in resolved.diagnostics]
    inputs = format_inputs(resolved.manuscript, [source.path for source in media.sources()])
    return {
        fmt: OutputRecord(
            fmt,
            f"{slug}{FORMATS[fmt].extension}",
            _sha256(data),
            len(data),
            fingerprints.snapshot(inputs[fmt]),
            warnings,
            dict(sorted(digests[fmt].items())),
        )
        for fmt, ((data, _assets), _seconds) in written.items()
    }


def _remove_unused_assets(out_dir: Path, record: BuildRecord, written: dict[str, tuple[bytes, dict]]) -> None:
    """Files that an earlier build published beside a rewritten output, and that it no longer uses."""
    used = {name for _data, assets in written.values() for name in assets}
    for fmt in written:
        entry = record.outputs.get(fmt)
        for name in entry.assets if entry else ():
            if name not in used and not any(name in other.assets for f, other in record.outputs.items() if f != fmt):
                (out_dir / name).unlink(missing_ok=True)


def start_pandoc_early(project: Project, metadata: dict[str, Any]) -> Any:
    """Start the build's one pandoc pass before loading, on the sections the metadata names.

    A guess read without validation: parse() uses the result only when load() produced exactly the
    same text, so a wrong guess costs a wasted process, never a wrong document.
    """
    try:
        from . import pandoc
        from .model import join_sections

        if project.single:
            texts = _paper_texts(project, metadata)
            if texts is None:
                return None
        else:
            names = ([metadata["abstract"]] if metadata.get("abstract") else []) + list(metadata["sections"])
            texts = [(project.text_dir / n).read_bytes().decode("utf-8").removeprefix("\ufeff") for n in names]
        text = join_sections(texts)
        return pandoc.Prefetch(pandoc.markdown_to_ast_args(text), text.encode("utf-8"))
    except Exception:  # noqa: BLE001 - only a guess: load() reports whatever is wrong with the project
        return None


def _paper_texts(project: Project, metadata: dict[str, Any]) -> list[str] | None:
    """A single-file paper's abstract (from its front matter) and body, as load() makes them
    (press.load._load_paper), or None where that is not simply done: Quarto's shortcodes expand."""
    from .front_matter import abstract_text, body_text
    from .project import front_matter_text

    text = project.source.read_bytes().decode("utf-8").removeprefix("\ufeff")
    block = front_matter_text(text)
    if block is None or "{{<" in text:
        return None
    texts = [body_text(text, block[1])]
    abstract = metadata.get("abstract")
    if isinstance(abstract, str) and abstract.strip():
        import yaml

        root = yaml.compose("\n" + block[0])  # line 1 is the fence, as the front matter's reader has it
        lines = [key.start_mark.line + 1 for key, _ in root.value if getattr(key, "value", None) == "abstract"]
        if len(lines) != 1:
            return None
        texts.insert(0, abstract_text(abstract, lines[0]))
    return texts


def start_typesetting(prefetch: Any, out_dir: Path | None = None) -> None:
    """Start node and the typesetting of the early pandoc pass's equations, when it seems to have some
    that ``out_dir`` keeps none of yet; ``out_dir`` None: for a command that keeps nothing (check).

    node loads MathJax (~0.3 s) beside the pandoc pass, and typesets its equations beside loading.
    """
    if prefetch is None or not _typesets_equations(prefetch.data, out_dir):
        return
    from . import math

    math.start()
    _typeset_early(prefetch)


def _typesets_equations(text: bytes, out_dir: Path | None) -> bool:
    """A guess: the text seems to have TeX math, and no equation has been typeset into ``out_dir``
    yet (a clean build; a rebuild finds most equations kept and may typeset none)."""
    from .renditions import EQUATIONS, MEDIA_DIR

    if out_dir is not None and (out_dir / MEDIA_DIR / EQUATIONS).exists():
        return False
    return b"$" in text or b"\\begin{" in text


def _typeset_early(prefetch: Any) -> None:
    """Typeset the equations of the early pandoc pass, in a thread of its own, as soon as pandoc is done.

    Typesetting is the longest step before the PDF's layout can start, and the checks would begin
    it only after loading, parsing and measuring. Only a head start into the memo that the checks and
    the PDF's rendering read (press.math, keyed by each expression's TeX and mode): a wrong guess
    typesets expressions nobody asks for, never a wrong one; whatever the parse finds besides (the
    LaTeX environments press.equations makes math) the checks typeset as before, and they report
    every error and a missing node themselves.
    """
    from . import math
    from .ast import elements

    def typeset() -> None:
        try:
            out = prefetch.result()  # None once parse() found its guess wrong and stopped it
            if out is not None:
                blocks = json.loads(out)["blocks"]
                math.render_all(
                    [(e["c"][1], e["c"][0]["t"] == "DisplayMath") for e in elements(blocks) if e["t"] == "Math"]
                )
        except Exception:  # noqa: BLE001 - only a head start: the checks typeset and report as without it
            pass

    threading.Thread(target=typeset, name="press-math-early", daemon=True).start()


def _front_matter_only(manuscript: Manuscript) -> Document:
    """A Document with the metadata and no text yet: enough for the "How to cite" line."""
    from . import pandoc
    from .document import Document

    return Document(manuscript, {"pandoc-api-version": pandoc.api_version(), "meta": {}, "blocks": []}, [], [])


def _sha256(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def format_inputs(manuscript: Manuscript, figures: Iterable[Path] = ()) -> dict[str, list[str]]:
    """Format -> every input key its output depends on (see press.record for the kinds of key).

    ``figures``: the figure files the document shows, wherever in the project they are.
    """
    root = manuscript.root
    metadata = manuscript.metadata
    sources = [metadata.path, *(s.path for s in ([manuscript.abstract] if manuscript.abstract else []))]
    sources += [s.path for s in manuscript.sections]
    sources += [*manuscript.bib_paths, manuscript.csl_path, *manuscript.layout.files(), *figures]
    if metadata.journal.profile_path is not None:
        sources.append(metadata.journal.profile_path)
    common = list(dict.fromkeys(input_path_key(path, root) for path in sources))
    # bib/*.bib: a new file joins the bibliography (a paper's folder holds outputs too: not listed)
    if not metadata.bibliography_files and not manuscript.layout.single:
        common.append("listing:bib")
    templates = manuscript.templates
    # A project's templates/ overrides the toolchain's file by file: adding or removing a file there
    # changes what is used, so the listing of every templates folder in use is an input.
    common.append("listing:templates")
    for folder in templates.dirs:
        if folder.resolve() != (root / "templates").resolve():
            common.append("listing:" + folder.resolve().as_posix())
    common += [f"package:{name}" for name in COMMON_PACKAGES]
    common += ["pandoc", "toolchain", "python", "env:SOURCE_DATE_EPOCH"]
    inputs = {}
    for fmt, used in templates_by_format(templates).items():
        keys = common + [input_path_key(templates / name, root) for name in used]
        keys += [f"package:{name}" for name in FORMATS[fmt].packages]
        keys += [f"option:{name}" for name in FORMATS[fmt].options]
        inputs[fmt] = keys
    return inputs


def templates_by_format(templates: Templates) -> dict[str, list[str]]:
    """The template files each format reads: its own, their Jinja includes, and any file no format claims."""
    claimed = {fmt: _with_includes(templates, FORMATS[fmt].templates) for fmt in BUILT_FORMATS}
    every = set(templates.names())
    unclaimed = {
        name for name in every - set().union(*claimed.values()) if not name.endswith(JINJA_SUFFIXES)
    }  # an unrendered Jinja template cannot change an output; any other file might
    return {fmt: sorted(names | unclaimed) for fmt, names in claimed.items()}


def _with_includes(templates: Templates, names: tuple[str, ...]) -> set[str]:
    import jinja2
    from jinja2 import meta

    from .templating import environment

    env = environment(templates)
    found: set[str] = set()
    pending = list(names)
    while pending:
        name = pending.pop()
        if name in found:
            continue
        found.add(name)
        if not name.endswith(JINJA_SUFFIXES) or not (templates / name).is_file():
            continue
        try:
            source = (templates / name).read_text(encoding="utf-8")
            referenced = list(meta.find_referenced_templates(env.parse(source)))
        except (jinja2.TemplateSyntaxError, OSError, UnicodeDecodeError):
            referenced = []
        if None in referenced:  # an include chosen at run time: it could be any template
            referenced = [name for name in templates.names() if name.endswith(JINJA_SUFFIXES)]
        pending += [r for r in referenced if r]
    return found


def run(args: argparse.Namespace) -> int:
    """The ``build`` command: build the formats named (all by default), one line per format, then a summary."""
    from .model import display_path
    from .report import print_diagnostics

    def progress(output: Output) -> None:
        detail = "up to date" if output.up_to_date else f"{output.seconds:.2f} s, {output.size / 1024:.0f} KiB"
        print(f"  {output.format:<5} {display_path(output.path)}  ({detail})")

    result = build(args.root, args.out_dir, args.formats or None, progress, args.pdf_variant, args.force)
    if result.warnings:
        print_diagnostics(result.warnings, args.report_format)
    print(
        f"built {len(result.rebuilt)} format(s)"
        + (f", {len(result.up_to_date)} up to date" if result.up_to_date else "")
        + f" in {result.seconds:.2f} s"
        + (f", {len(result.warnings)} warning(s)" if result.warnings else "")
    )
    return 0
