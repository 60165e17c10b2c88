"""`python build.py pdf docx --review`: the review manuscript (press.review) into build/, to look at.

``<slug>-review.pdf`` and ``<slug>-review.docx``, beside the typeset ``<slug>.pdf`` and ``.docx``,
never over them: build/ keeps the typeset layout, which the build record goes on vouching for. The
review files are written anew each time, outside the record.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from .review import layout_of, rendering

SUFFIX = "-review"
REVIEW_FORMATS = ("pdf", "docx")


def build_review(
    root: Path, out_dir: Path, formats: list[str], pdf_variant: str | None = None
) -> tuple[list[tuple[Path, float, int]], list]:
    """Write ``<slug>-review.pdf`` / ``.docx`` into ``out_dir``, published together; (path, seconds, size) each.

    Always written anew, and outside the build record, which goes on vouching for the typeset outputs.
    As in a build, the PDF is laid out by a worker process started first (press.pdf_worker), which
    imports WeasyPrint while this one loads and runs pandoc.
    """
    from .pdf_worker import PdfWorker

    worker = PdfWorker.start(root) if "pdf" in formats else None
    try:
        return _build_review(root, out_dir, formats, worker, pdf_variant)
    finally:
        if worker is not None:
            worker.stop()


def _build_review(
    root: Path, out_dir: Path, formats: list[str], worker: Any, pdf_variant: str | None
) -> tuple[list[tuple[Path, float, int]], list]:
    from concurrent.futures import ThreadPoolExecutor

    from .build import prepare_out_dir
    from .formats import FORMATS, WriteOptions
    from .publish import discard, publish, stage
    from .resolve import resolve
    from .writers.shared import Shared

    def render_pdf(job: Any) -> bytes:
        worker.send(job)
        return worker.result()

    resolved = resolve(root)
    layout = layout_of(resolved.manuscript.metadata)
    slug = resolved.manuscript.metadata.slug
    prepare_out_dir(out_dir)
    written: list[tuple[Path, float, int]] = []
    staged: dict[Path, Path] = {}
    with ThreadPoolExecutor(max_workers=4) as pool:
        shared = Shared(resolved.document, pool, renderings=(rendering(layout),))
        renderer = render_pdf if worker is not None else None
        options = WriteOptions(review=layout, pdf_variant=pdf_variant, pdf_renderer=renderer)
        futures = {fmt: pool.submit(_timed, FORMATS[fmt].write, shared, options) for fmt in formats}
        try:
            for fmt, future in futures.items():
                data, seconds = future.result()
                target = out_dir / f"{slug}{SUFFIX}{FORMATS[fmt].extension}"
                staged[target] = stage(out_dir, target.name, data)
                written.append((target, seconds, len(data)))
            publish(staged)
        except BaseException:
            discard(staged)
            raise
    return written, resolved.diagnostics


def _timed(write: Any, *args: Any) -> tuple[bytes, float]:
    started = time.perf_counter()
    data = write(*args)
    return data, time.perf_counter() - started


def run(args: argparse.Namespace) -> int:
    """``build --review``: the review layout of the formats named (pdf and docx by default) into --out."""
    from .model import display_path
    from .report import print_diagnostics

    unsupported = [fmt for fmt in args.formats if fmt not in REVIEW_FORMATS]
    if unsupported:
        print(f"--review: the review layout is a PDF and a DOCX, not {', '.join(unsupported)}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    formats = args.formats or list(REVIEW_FORMATS)
    written, warnings = build_review(args.root, args.out_dir, formats, args.pdf_variant)
    for path, seconds, size in written:
        print(f"  {path.suffix[1:]:<5} {display_path(path)}  ({seconds:.2f} s, {size / 1024:.0f} KiB)")
    if warnings:
        print_diagnostics(warnings, args.report_format)
    print(f"built the review layout of {len(written)} format(s) in {time.perf_counter() - started:.2f} s")
    return 0
