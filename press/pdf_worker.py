"""The PDF worker: a process of its own that imports WeasyPrint and lays out one PDF beside the build.

The build starts it before loading the manuscript; it prepares (WeasyPrint's import, the hyphenation
dictionary) while the build's pandoc pass runs, then lays out the one PdfJob it is handed. Layout is
Python that would otherwise take turns with the rest of the build under one GIL.
"""

from __future__ import annotations

import contextlib
import os
import queue
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from .model import PressError
from .project import peek_metadata


class PdfWorker:
    """A process that lays out the PDF: WeasyPrint's import and its layout run beside the rest.

    Started before loading, it imports WeasyPrint and loads the hyphenation dictionary while pandoc
    works, then lays out one PdfJob. In one process all this Python would take turns with the rest of
    the build under the GIL; in two, the second core takes its share.
    """

    def __init__(self, process: subprocess.Popen, errors: Any):
        self.process = process
        self.errors = errors  # a temporary file: a pipe that nobody reads could fill and stall the worker
        self._stdin = threading.Lock()  # messages come from the equations' thread and from the PDF writer
        self._sent = False
        self.shrunk: list[tuple[str, int]] = []  # the layout's equations set smaller, to fit (render_job)

    @classmethod
    def start(cls, root: Path) -> PdfWorker | None:
        import tempfile

        env = dict(os.environ)
        package_parent = str(Path(__file__).resolve().parent.parent)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_parent, env.get("PYTHONPATH")]))
        errors = tempfile.TemporaryFile()
        try:
            process = subprocess.Popen(
                # -P: the working folder is not put on the path, so a folder of the author's named press/
                # can never stand in for this package.
                [sys.executable, "-P", "-c", "from press.pdf_worker import serve_pdf_job; serve_pdf_job()", str(root)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=errors,
                env=env,
            )
        except OSError:
            errors.close()
            return None  # the PDF is then laid out in this process
        return cls(process, errors)

    def preload(self, equation: Path, failure: str | None = None, svg: bytes | None = None) -> None:
        """Say that this typeset equation, which the job shows (press.writers.pdf_equations), is kept
        (or, with ``failure``, could not be): its layout, which may have begun, goes on past it. Said
        from the thread that keeps the equations (press.renditions.Media) as node typesets them.

        Given its ``svg``, its PDF form is made here and sent ready-made, so that the worker's
        layout, which is the build's longest job, spends none of its time on it; otherwise (or for
        an SVG press.flatten did not write) the worker reads the file."""
        from .writers import pdf_equations

        form = pdf_equations.Equation.read(equation.name, svg) if svg is not None and failure is None else None
        self._write(("equation", str(equation), failure, form))

    def send(self, job: Any) -> None:
        """Hand the job over in one write, not in communicate()'s small pieces, each of which needs this
        process's GIL while the other writers hold it: the job arrived late. It may come before the
        equations it shows are typeset: the layout waits for each where it reaches it."""
        from . import pandoc

        self._write(("job", job))
        pandoc.beside_layout(True)

    def finish(self) -> None:
        """Nothing more will be said: every equation the job shows is kept (or failed). The worker's
        input is closed; an equation not said is then read as it is."""
        with self._stdin:
            if not self._sent:
                self._sent = True
                with contextlib.suppress(OSError, ValueError):
                    self.process.stdin.close()

    def _write(self, message: tuple[Any, ...]) -> None:
        import pickle

        data = pickle.dumps(message)
        with self._stdin:
            if self._sent:
                return  # the input is closed: nothing more is read
            try:
                self.process.stdin.write(data)
                self.process.stdin.flush()
            except (BrokenPipeError, ValueError):
                self._sent = True  # the worker is gone: result() says why
                with contextlib.suppress(OSError):
                    self.process.stdin.close()  # what is left unwritten is dropped

    def result(self) -> bytes:
        import pickle

        from . import pandoc

        self.finish()

        try:
            out = self.process.stdout.read()
            self.process.wait()
        finally:
            pandoc.beside_layout(False)
        if self.process.returncode != 0 or not out:
            self.errors.seek(0)
            err = self.errors.read()
            detail = err.decode("utf-8", "replace").strip().splitlines()[-1:] or [f"exit {self.process.returncode}"]
            raise RuntimeError(f"the PDF worker failed: {detail[0]}")
        kind, value, *more = pickle.loads(out)
        if kind == "pdf":
            self.shrunk = more[0] if more else []
            return value
        if kind == "diagnostics":
            raise PressError(value)
        raise RuntimeError(value)

    def stop(self) -> None:
        from . import pandoc

        pandoc.beside_layout(False)
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for pipe in (self.process.stdin, self.process.stdout):
            # What another thread had buffered for the worker (an equation being sent as the build stopped
            # on an error) cannot be written to a process that is gone: closing still frees the pipe.
            with contextlib.suppress(OSError):
                pipe.close()
        self.errors.close()


def serve_pdf_job() -> None:
    """The PDF worker's side (see PdfWorker): prepare, then lay out the one job read from stdin."""
    import pickle

    from .writers import pdf_equations
    from .writers.pdf import import_weasyprint, render_job

    jobs: queue.SimpleQueue = queue.SimpleQueue()
    # Read from the start: the build never waits to write, and each equation is read as it comes.
    threading.Thread(target=_read_messages, args=(jobs,), name="press-messages", daemon=True).start()
    import_weasyprint()  # now, while the parent loads and runs pandoc

    try:
        import pyphen

        lang = str(peek_metadata(Path(sys.argv[1])).get("lang") or "en")
        pyphen.Pyphen(lang=lang)  # pyphen caches the parsed dictionary; WeasyPrint's use is then free
    except Exception:  # noqa: BLE001 - a language without a dictionary is not hyphenated either way
        pass
    job = jobs.get()
    if job is None:
        os._exit(0)  # the build ended without a job (it stopped on an error)
    if job.announced:
        pdf_equations.expect_announcements()  # the job came before its equations: each is waited for
    collect_less()  # after the job and the dictionary: frozen earlier, the layout's peak memory was higher
    try:
        shrunk: list[tuple[str, int]] = []
        result: tuple[Any, ...] = ("pdf", render_job(job, shrunk), shrunk)
    except PressError as exc:
        result = ("diagnostics", exc.diagnostics)
    except Exception as exc:  # noqa: BLE001 - reported by the parent as an internal error
        result = ("error", f"{type(exc).__name__}: {exc}")
    sys.stdout.buffer.write(pickle.dumps(result))
    sys.stdout.flush()
    os._exit(0)  # the parent waits for the end of the output: skip the interpreter's teardown


def _read_messages(jobs) -> None:
    """The worker's input, until the build closes it: each equation as it is kept (read at once, while
    the layout may be waiting for it), and the job."""
    import pickle

    from .writers import pdf_equations

    sent = False
    try:
        while True:
            try:
                message = pickle.load(sys.stdin.buffer)
            except EOFError:
                break
            if message[0] == "job":
                jobs.put(message[1])
                sent = True
            else:
                _, path, failure, form = message
                pdf_equations.announce(Path(path), failure, form)
    finally:
        pdf_equations.close_announcements()
        if not sent:
            jobs.put(None)


def collect_less() -> None:
    """Garbage collection for a process that does one job and exits: less often, and never again over
    what is already loaded.

    WeasyPrint's layout makes millions of objects that live to the end of the job; with the default
    thresholds the collector kept walking them, a growing share of a longer layout's time, for no
    memory saved. Called once the job is read: called before, the peak memory was higher
    (README, "Measured").
    """
    import gc

    gc.freeze()  # what is loaded stays: never walked again
    gc.set_threshold(50_000, 20, 20)
