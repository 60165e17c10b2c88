"""A manuscript with one figure of each accepted format, made here: Pillow for the raster ones, a small
SVG, and a one-page vector PDF laid out by WeasyPrint. Each figure is one flat colour with a word on it,
so a reader of any output can tell by its pixels that the figure is there.

Used by the figure tests and by benchmarks/figures.py (which asks for several of each).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from conftest import FIXTURES, copy_project


@dataclass(frozen=True)
class FigureSpec:
    kind: str  # png, jpeg, tiff, svg, pdf
    ident: str  # the cross-reference id, fig:<ident>
    rgb: tuple[int, int, int]
    folder: str  # where it lives, relative to the project
    width: str | None  # the width the Markdown asks for


FIGURES = (
    FigureSpec("png", "png", (220, 30, 30), "figures", "50%"),
    FigureSpec("jpeg", "jpeg", (30, 160, 60), "figures", None),
    FigureSpec("tiff", "tiff", (30, 60, 200), "figures", "70%"),
    FigureSpec("svg", "svg", (240, 150, 20), "manuscript/img", None),
    FigureSpec("pdf", "pdf", (140, 40, 160), "figures/vector", "80%"),
)
SUFFIX = {"png": "png", "jpeg": "jpg", "tiff": "tif", "svg": "svg", "pdf": "pdf"}


def figure_bytes(kind: str, rgb: tuple[int, int, int], label: str = "") -> bytes:
    """A 2100 x 1050 px figure (7 x 3.5 in at 300 dpi: the text width) of one colour, with ``label`` on it."""
    label = label or kind.upper()
    hex_colour = "#{:02x}{:02x}{:02x}".format(*rgb)
    if kind in ("png", "jpeg", "tiff"):
        from PIL import Image, ImageDraw

        image = Image.new("RGB", (2100, 1050), rgb)
        ImageDraw.Draw(image).text((40, 40), label, fill=(255, 255, 255))
        buffer = io.BytesIO()
        image.save(buffer, format=kind.upper(), dpi=(300, 300), **({"quality": 95} if kind == "jpeg" else {}))
        return buffer.getvalue()
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="7in" height="3.5in" viewBox="0 0 700 350">'
        f'<rect x="0" y="0" width="700" height="350" fill="{hex_colour}"/>'
        f'<text x="20" y="50" font-family="sans-serif" font-size="36" fill="#ffffff">{label}</text></svg>\n'
    )
    if kind == "svg":
        return svg.encode("utf-8")
    from weasyprint import HTML

    page = (
        "<style>@page { size: 7in 3.5in; margin: 0 } body { margin: 0 }"
        f" div {{ width: 7in; height: 3.5in; background: {hex_colour}; color: #fff; font: 36pt sans-serif }}</style>"
        f"<div>{label}</div>"
    )
    return HTML(string=page).write_pdf()


def figure_project(destination: Path, copies: int = 1) -> Path:
    """The minimal fixture with ``copies`` figures of each format, each referenced once in the text."""
    project = copy_project(FIXTURES / "minimal", destination)
    lines = ["", "# Figures", ""]
    for n in range(copies):
        for spec in FIGURES:
            suffix = f"-{n + 1}" if copies > 1 else ""
            name = f"{spec.kind}{suffix}.{SUFFIX[spec.kind]}"
            folder = project / spec.folder
            folder.mkdir(parents=True, exist_ok=True)
            (folder / name).write_bytes(figure_bytes(spec.kind, spec.rgb, f"{spec.kind.upper()}{suffix}"))
            target = Path("..", spec.folder, name).as_posix().replace("../manuscript/", "")
            attributes = f"#fig:{spec.ident}{suffix}" + (f" width={spec.width}" if spec.width else "")
            lines += [
                f"@fig:{spec.ident}{suffix} shows a {spec.kind.upper()} figure.",
                "",
                f"![A {spec.kind.upper()} figure of one colour.]({target}){{{attributes}}}",
                "",
            ]
    results = project / "manuscript" / "results.md"
    results.write_text(results.read_text(encoding="utf-8") + "\n".join(lines) + "\n", encoding="utf-8")
    return project
