"""The build: load once, check, resolve once, write each format, publish atomically."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from .checks import run_checks
from .document import build_document
from .load import display_path, load
from .model import Diagnostic, PressError, error
from .publish import clean_stale, discard, publish, stage
from .writers import docx, html, pdf
from .writers.shared import Shared

FORMATS = ("html", "pdf", "docx")


@dataclass
class Output:
    format: str
    path: Path
    seconds: float
    size: int


@dataclass
class BuildResult:
    outputs: list[Output] = field(default_factory=list)
    warnings: list[Diagnostic] = field(default_factory=list)
    seconds: float = 0.0


def prepare_out_dir(out_dir: Path) -> None:
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
    root: Path, out_dir: Path, formats: list[str] | None = None, progress: Callable[[Output], None] | None = None
) -> BuildResult:
    """Build ``formats`` (all by default) of the manuscript at ``root`` into ``out_dir``."""
    started = time.perf_counter()
    formats = list(formats or FORMATS)
    manuscript = load(root)
    diagnostics = run_checks(manuscript)
    errors = [d for d in diagnostics if d.severity == "error"]
    if errors:
        raise PressError(diagnostics)
    document = build_document(manuscript)
    prepare_out_dir(out_dir)
    clean_stale(out_dir)
    slug = manuscript.metadata.slug
    targets = {fmt: out_dir / f"{slug}.{fmt}" for fmt in formats}
    downloads = {
        fmt: f"{slug}.{fmt}" for fmt in ("pdf", "docx") if fmt in formats or (out_dir / f"{slug}.{fmt}").exists()
    }
    writers = {
        "html": lambda shared: html.write(shared, downloads),
        "pdf": lambda shared: pdf.write(shared, variant=pdf_variant),
        "docx": lambda shared: docx.write(shared),
    }
    staged: dict[Path, Path] = {}
    result = BuildResult(warnings=diagnostics)
    try:
        with ThreadPoolExecutor(max_workers=4) as pool:
            shared = Shared(document, pool)
            # The PDF is the longest job: start it first so the others overlap with it.
            order = sorted(formats, key=lambda f: f != "pdf")
            futures = {fmt: pool.submit(_timed, writers[fmt], shared) for fmt in order}
            for fmt in formats:
                data, seconds = futures[fmt].result()
                staged[targets[fmt]] = stage(out_dir, targets[fmt].name, data)
                result.outputs.append(Output(fmt, targets[fmt], seconds, len(data)))
        publish(staged)
    except BaseException:
        discard(staged)
        raise
    for output in result.outputs:
        if progress:
            progress(output)
    result.seconds = time.perf_counter() - started
    return result


def _timed(writer: Callable[[Shared], bytes], shared: Shared) -> tuple[bytes, float]:
    begun = time.perf_counter()
    return writer(shared), time.perf_counter() - begun
