"""Line numbers in the review PDF's left margin, each on the baseline of a line WeasyPrint laid out.

A fixed grid of numbers drifts as soon as a heading, a caption or an equation breaks the rhythm of
the text, so the numbers are placed from the layout itself: every line box with text in it on each
page (running headers and footers, which live in margin boxes, and table cells aside), by its
baseline. The numbers are laid out by WeasyPrint too, as a second small document of one page per
page, and drawn onto the article's pages as one marked-content artifact each: real text that
``pdftotext`` shows and a reader can select, outside the tagged PDF's reading order.

Imported by the PDF worker: WeasyPrint is imported only inside the functions.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

MERGE_PT = 1.0  # lines whose baselines are this close stand side by side (a flex row): one number
PX_PER_PT = 4 / 3  # WeasyPrint lays out in CSS pixels


def text_baselines(page_box: Any, unnumbered: frozenset[str] = frozenset()) -> list[float]:
    """The baselines (CSS px from the page's top) of the page's lines of text, top to bottom, one per row.

    ``unnumbered``: classes of elements whose lines are not numbered (the licence notes).
    """
    found = sorted(line.position_y + line.baseline for line in _text_lines(page_box, unnumbered))
    merged: list[float] = []
    for y in found:
        if not merged or y - merged[-1] > MERGE_PT * PX_PER_PT:
            merged.append(y)
    return merged


def _text_lines(box: Any, unnumbered: frozenset[str]) -> Iterator[Any]:
    from weasyprint.formatting_structure import boxes

    if isinstance(box, boxes.MarginBox | boxes.TableBox):
        return  # running headers and footers; a table's cells are its own grid, not lines of text
    element = box.element
    if unnumbered and element is not None and unnumbered & set((element.get("class") or "").split()):
        return
    if isinstance(box, boxes.LineBox):
        if _has_text(box):
            yield box
        return  # an inline-block's lines stand on this line: one number
    for child in getattr(box, "children", ()):
        yield from _text_lines(child, unnumbered)


def _has_text(box: Any) -> bool:
    from weasyprint.formatting_structure import boxes

    if isinstance(box, boxes.TextBox):
        return bool(box.text.strip())
    if isinstance(box, boxes.InlineReplacedBox):
        return True  # an inline equation is content of the line
    return any(_has_text(child) for child in getattr(box, "children", ()))


def numbering(pages: list[list[float]], restart: str) -> list[list[tuple[int, float]]]:
    """Each page's (number, baseline): numbered on from page to page, or from 1 on each page (``page``)."""
    numbered, number = [], 0
    for baselines in pages:
        if restart == "page":
            number = 0
        row = []
        for y in baselines:
            number += 1
            row.append((number, y))
        numbered.append(row)
    return numbered


def numbers_html(numbered: list[list[tuple[int, float]]], size: tuple[float, float], left: float, css: str) -> str:
    """One page per page of the article, its numbers one a line in a column ending ``left`` px from the
    page's left edge.

    The lines are packed 2 px apart (a page holds hundreds): ``add_line_numbers`` then moves each onto
    its line's baseline. One column of lines a page lays out in a fraction of the time a positioned
    box a number takes.
    """
    width, height = size
    pages = []
    for index, rows in enumerate(numbered):
        column = "\n".join(str(n) for n, _y in rows)  # one text, preformatted: no element a line
        last = index == len(numbered) - 1
        pages.append(f'<div class="p"{" style=break-after:auto" if last else ""}><div class="n">{column}</div></div>')
    return (
        "<!DOCTYPE html><html><head><meta charset=utf-8><style>"
        f"@page {{ size: {width:.3f}px {height:.3f}px; margin: 0 }}"
        "html, body { margin: 0; padding: 0; background: none }"
        f".p {{ height: {height - 1:.3f}px; overflow: hidden; break-after: page }}"
        f".n {{ width: {left:.3f}px; text-align: right; white-space: pre }}"
        f"{css} .n {{ line-height: 2px }}</style></head><body>{''.join(pages)}</body></html>"
    )


def add_line_numbers(
    document: Any,
    restart: str,
    left: float,
    css: str,
    base_url: str,
    fetcher: Any,
    unnumbered: frozenset[str] = frozenset(),
) -> int:
    """Number the text lines of ``document`` (a rendered WeasyPrint Document) in place; the count of lines.

    ``left``: where the numbers end, in px from the page's left edge; ``css``: their font, size and
    colour; ``unnumbered``: classes of elements whose lines are left unnumbered.
    """
    from weasyprint import HTML

    pages = [text_baselines(page._page_box, unnumbered) for page in document.pages]
    numbered = numbering(pages, restart)
    first = document.pages[0]
    html = numbers_html(numbered, (first.width, first.height), left, css)
    numbers = HTML(string=html, base_url=base_url, url_fetcher=fetcher).render(font_config=document.font_config)
    if len(numbers.pages) != len(document.pages):
        raise RuntimeError(f"line numbers: {len(numbers.pages)} pages for the article's {len(document.pages)}")
    for page, numbers_page, rows in zip(document.pages, numbers.pages, numbered, strict=True):
        _align(numbers_page._page_box, [y for _n, y in rows])
        _paint_over(page, numbers_page)
    document._line_numbers = numbers  # its fonts and boxes are drawn when the article is written
    return sum(len(rows) for rows in numbered)


def _align(page_box: Any, baselines: list[float]) -> None:
    """Move each number's line so that its baseline is its line's."""
    from weasyprint.formatting_structure import boxes

    html_box = page_box.children[0]
    body = html_box.children[0]
    page_div = body.children[0]
    column = page_div.children[0] if page_div.children else None
    lines = [line for line in getattr(column, "children", ()) if isinstance(line, boxes.LineBox)]
    if len(lines) != len(baselines):
        raise RuntimeError(f"line numbers: {len(lines)} laid out for {len(baselines)} lines")
    for line, target in zip(lines, baselines, strict=True):
        line.translate(0, target - (line.position_y + line.baseline))


def _paint_over(page: Any, numbers_page: Any) -> None:
    """Draw ``numbers_page`` over ``page`` as one artifact, untagged, when the article is written."""
    from weasyprint.draw import draw_page

    paint_article = page.paint

    def paint(stream: Any, scale: float = 1) -> None:
        paint_article(stream, scale)
        tags, stream._tags = stream._tags, None  # no structure element of its own: an artifact
        if tags is not None:
            stream.begin_marked_content("Artifact")
        try:
            with stream.stacked():
                stream.transform(a=scale, d=scale)
                draw_page(numbers_page._page_box, stream)
        finally:
            if tags is not None:
                stream.end_marked_content()
            stream._tags = tags

    page.paint = paint
