"""The PDF worker process: it lays out the job it is handed, reports what it refused, and a worker
that is gone is an error with its reason, never a hang."""

from __future__ import annotations

import io

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


def test_equations_named_before_the_job_are_read_while_it_waits(tmp_path):
    # The build names each typeset equation as it is kept; the worker reads them before the job comes.
    import pikepdf

    from press import flatten, math
    from press.writers import pdf_equations

    rendered = math.render(r"\frac{a}{b} + x^2", False)
    name = f"eq-{'0' * 40}.svg"
    (tmp_path / name).write_bytes(flatten.flatten(rendered.svg) or rendered.svg)
    pdf_equations.preload(tmp_path / name)
    (tmp_path / name).unlink()  # read already: the layout does not read it again
    assert pdf_equations.load(tmp_path / name) is not None
    assert pdf_equations.load(tmp_path / name) is None  # once a layout: WeasyPrint keeps its images

    (tmp_path / name).write_bytes(flatten.flatten(rendered.svg) or rendered.svg)
    pdf = worker()
    try:
        for _ in range(3):
            pdf.preload(tmp_path / name)
        page = job(f'<p>So <img src="media:{name}" style="width: 3em; height: 1.4em"> holds.</p>')
        page.media_dir = tmp_path
        page.allowed = [*page.allowed, tmp_path]
        pdf.send(page)
        pdf.preload(tmp_path / name)  # after the job: nothing more is read, and nothing fails
        data = pdf.result()
    finally:
        pdf.stop()
    with pikepdf.open(io.BytesIO(data)) as document:
        forms = [o for o in document.objects if isinstance(o, pikepdf.Stream) and o.get("/Subtype") == "/Form"]
    assert len(forms) == 1
