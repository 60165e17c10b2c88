"""The PDF worker process: it lays out the job it is handed, reports what it refused, and a worker
that is gone is an error with its reason, never a hang."""

from __future__ import annotations

import hashlib
import io
import select
import time
from pathlib import Path

import pytest
from conftest import FIXTURES
from pypdf import PdfReader

from press.fonts import font_dirs
from press.model import PressError
from press.pdf_worker import PdfWorker
from press.writers.pdf import PdfJob

PROJECT = FIXTURES / "minimal"


def job(body: str) -> PdfJob:
    html = f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Job</title></head><body>{body}</body></html>'
    return PdfJob(
        html=html,
        base_url=(PROJECT / "manuscript").as_uri() + "/",
        allowed=[PROJECT / "manuscript", *font_dirs()],
        shown_dir="manuscript",
        variant=None,
        identifier=b"0123456789abcdef0123456789abcdef",
        xmp=b"",
    )


def worker() -> PdfWorker:
    started = PdfWorker.start(PROJECT)
    assert started is not None
    return started


def test_the_worker_lays_out_the_job_it_is_handed():
    pdf = worker()
    try:
        pdf.send(job("<p>Zażółć gęślą jaźń, garçon.</p>" * 400))  # more than a pipe's buffer
        data = pdf.result()
    finally:
        pdf.stop()
    assert "garçon" in PdfReader(io.BytesIO(data)).pages[0].extract_text()


def test_pandoc_runs_beside_the_layout_give_way_to_it(tmp_path, monkeypatch):
    # What pandoc runs while the worker lays the PDF out (the DOCX, the page, the checks) starts at a
    # lower priority; before the job is sent and after its result, at the build's own.
    from press import pandoc

    fake = tmp_path / "pandoc"
    fake.write_text("#!/bin/sh\ncat >/dev/null\nnice\n")  # reads its input (sent after the priority is set)
    fake.chmod(0o755)
    monkeypatch.setattr(pandoc, "pandoc_path", lambda: str(fake))
    own = int(pandoc.run([], b"x"))
    if own >= 19:
        pytest.skip("the tests run at the lowest priority already")
    pdf = worker()
    try:
        pdf.send(job("<p>Laid out.</p>"))
        beside = int(pandoc.run([], b"x"))
        pdf.result()
    finally:
        pdf.stop()
    assert beside == min(19, own + pandoc.BESIDE_LAYOUT_NICENESS) != own
    assert int(pandoc.run([], b"x")) == own


def test_what_the_worker_refused_comes_back_as_a_diagnostic(tmp_path):
    outside = tmp_path / "secret.png"
    outside.write_bytes(b"not an image")
    pdf = worker()
    try:
        pdf.send(job(f'<p><img src="{outside.as_uri()}" alt=""></p>'))
        with pytest.raises(PressError) as raised:
            pdf.result()
    finally:
        pdf.stop()
    assert [d.code for d in raised.value.diagnostics] == ["resource-refused"]


def test_a_worker_that_is_gone_is_an_error_with_its_reason():
    pdf = worker()
    pdf.process.kill()
    pdf.process.wait()
    try:
        pdf.send(job("<p>Never laid out.</p>"))  # no one reads: not an exception here
        with pytest.raises(RuntimeError, match="the PDF worker failed"):
            pdf.result()
    finally:
        pdf.stop()


def test_equations_are_read_as_they_are_said_and_once(tmp_path):
    # The build says each typeset equation as it is kept; the worker reads it then, not in the layout.
    from press import flatten, math
    from press.writers import pdf_equations

    rendered = math.render(r"\frac{a}{b} + x^2", False)
    name = f"eq-{'0' * 40}.svg"
    (tmp_path / name).write_bytes(flatten.flatten(rendered.svg) or rendered.svg)
    pdf_equations.announce(tmp_path / name)
    (tmp_path / name).unlink()  # read already: the layout does not read it again
    assert pdf_equations.load(tmp_path / name) is not None
    assert pdf_equations.load(tmp_path / name) is None  # once a layout: WeasyPrint keeps its images


def equation_job(tmp_path: Path, tex: str, announced: bool = True):
    """A job showing ``tex`` typeset (its SVG in tmp_path, not yet said to any worker) and its path."""
    from press import flatten, math

    rendered = math.render(tex, False)
    name = f"eq-{hashlib.sha1(tex.encode()).hexdigest()}.svg"
    (tmp_path / name).write_bytes(flatten.flatten(rendered.svg) or rendered.svg)
    page = job(f'<p>So <img class="math inline" src="media:{name}"> holds.</p>')
    page.media_dir = tmp_path
    page.allowed = [*page.allowed, tmp_path]
    page.announced = announced
    return page, tmp_path / name


def forms_in(data: bytes) -> list:
    import pikepdf

    with pikepdf.open(io.BytesIO(data)) as document:
        return [o for o in document.objects if isinstance(o, pikepdf.Stream) and o.get("/Subtype") == "/Form"]


def test_a_job_sent_before_its_equations_waits_for_each_where_its_layout_reaches_it(tmp_path):
    page, path = equation_job(tmp_path, r"\frac{a}{b} + x^2")
    svg = path.read_bytes()
    path.unlink()  # not typeset yet: read now, it would be no equation at all (an error)
    pdf = worker()
    try:
        pdf.send(page)  # before the equation is said: the layout begins, and waits for it
        time.sleep(2)
        assert pdf.process.poll() is None and not select.select([pdf.process.stdout], [], [], 0)[0]
        path.write_bytes(svg)
        for _ in range(2):
            pdf.preload(path)  # said (twice: nothing fails)
        data = pdf.result()
    finally:
        pdf.stop()
    assert len(forms_in(data)) == 1


def test_an_equation_sent_with_its_svg_reaches_the_worker_as_its_form(tmp_path):
    # The build makes the form from the SVG it kept and sends it ready-made: the worker reads no file.
    page, path = equation_job(tmp_path, r"\sqrt{x} + \frac{1}{y}")
    svg = path.read_bytes()
    path.unlink()
    pdf = worker()
    try:
        pdf.send(page)
        pdf.preload(path, None, svg)
        data = pdf.result()
    finally:
        pdf.stop()
    import pikepdf

    with pikepdf.open(io.BytesIO(data)) as document:
        [form] = [o for o in document.objects if isinstance(o, pikepdf.Stream) and o.get("/Subtype") == "/Form"]
        assert b" c\n" in form.read_bytes()  # the glyphs' curves, drawn from what was sent


def test_an_equation_said_to_have_failed_is_the_jobs_error(tmp_path):
    page, path = equation_job(tmp_path, r"x^3")
    pdf = worker()
    try:
        pdf.send(page)
        pdf.preload(path, "OSError: no space left on device")
        with pytest.raises(RuntimeError, match="was not typeset: OSError: no space left"):
            pdf.result()
    finally:
        pdf.stop()


def test_a_job_whose_equations_are_kept_already_reads_them_as_they_are(tmp_path):
    # review_build and diff send a job made once every equation is kept (job_for): nothing is said.
    page, _ = equation_job(tmp_path, r"y_1 + y_2", announced=False)
    pdf = worker()
    try:
        pdf.send(page)
        data = pdf.result()
    finally:
        pdf.stop()
    assert len(forms_in(data)) == 1


def test_stopping_a_worker_with_bytes_still_buffered_for_it_raises_nothing(tmp_path):
    # A build that stops on an error (bad TeX) stops the worker while the equations' thread may have
    # bytes buffered for its stdin: closing that pipe flushed them into a dead process, and the
    # BrokenPipeError was an internal error (exit 2) instead of the error at its file and line.
    import subprocess
    import sys
    import tempfile

    process = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)"], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    worker = PdfWorker(process, tempfile.TemporaryFile())
    process.stdin.write(b"not yet flushed")  # stays in the pipe's buffer
    process.kill()
    process.wait()
    worker.stop()
    assert process.stdin.closed and process.stdout.closed
