"""When a build writes each stale format, and when it gives memory back: the rules in one place.

1. The PDF starts first, in a thread of its own. Until its job is handed to the worker process
   that lays it out, nothing else is written: every CPU cycle before then is on the build's
   critical path (the layout is the longest job).
2. While the PDF is laid out, the DOCX and then the HTML page are written one after the other, on
   the core the layout leaves idle. Side by side, with their pandoc processes, they took part of
   the layout's core too, and their memory added up. The DOCX goes first: its pandoc run is the
   larger, and the layout's memory grows as it goes. Their pandoc runs start at a lower priority
   (press.pandoc.beside_layout): where the build's equations keep the other core busy too, they
   give way to the layout.
3. Without a PDF, the other formats are written side by side.
4. While the PDF is laid out, this process gives its freed heap back to the system after the
   hand-over and after each writer, and once every other format is written it lets go of the
   document itself (``release``): the worker's layout needs the memory more.

Writers run in threads of their own, never in the pool that runs the pandoc jobs they wait for,
so no writer can ever wait for a thread that only it could free.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

Writer = Callable[[], Any]
Timed = tuple[Any, float]  # what the writer returned and the seconds it took

# While a PDF is laid out, the other formats in the order they take their turn.
TURNS = ("docx", "html")


class WriteSchedule:
    """Runs the writers of one build by the rules above."""

    def __init__(self, give_back: Callable[[], None] | None = None) -> None:
        self._handed_over = threading.Event()
        self._give_back = give_back or give_back_free_memory

    def handed_over(self) -> None:
        """Said by the PDF's writer once its job is with the worker (or, laid out here, about to start)."""
        self._handed_over.set()

    def run(self, writers: dict[str, Writer], release: Callable[[], None]) -> dict[str, Timed]:
        """Each writer's bytes and seconds. ``release`` lets go of what only the writers other than the
        PDF's needed; it is called once they are done and while the PDF is still laid out."""
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="press-write") as threads:
            if "pdf" not in writers:
                futures = {fmt: threads.submit(_timed, writer) for fmt, writer in writers.items()}
                return {fmt: future.result() for fmt, future in futures.items()}
            pdf = threads.submit(self._pdf, writers["pdf"])
            self._handed_over.wait()
            if pdf.done():
                pdf.result()  # it failed before its layout began: say so before writing the others
            self._give_back()
            done: dict[str, Timed] = {}
            for fmt in [fmt for fmt in TURNS if fmt in writers]:
                done[fmt] = _timed(writers[fmt])
                self._give_back()
            release()
            self._give_back()
            done["pdf"] = pdf.result()
            return done

    def _pdf(self, writer: Writer) -> Timed:
        try:
            return _timed(writer)
        finally:
            self._handed_over.set()  # never leave the others waiting, whatever happened


def _timed(writer: Writer) -> Timed:
    begun = time.perf_counter()
    return writer(), time.perf_counter() - begun


def give_back_free_memory() -> None:
    """Return the heap this process has freed to the system, where glibc would keep it for later.

    While the PDF is laid out this process only waits, holding what the print rendering and the
    other writers freed, beside the worker's layout. A no-op where the C library has no malloc_trim.
    """
    import ctypes

    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return
    trim(0)
