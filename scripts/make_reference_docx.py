"""Make templates/reference.docx, the Word styles of the journal, from pandoc's default reference.

Run: python scripts/make_reference_docx.py   (the result is checked in; rerun after changing styles)

Starts from pandoc's own reference document (so every style pandoc uses exists), then sets the
journal's fonts, sizes and spacing, and adds the styles our front matter uses (Affiliation,
Keywords, Attribution). Deterministic: the zip entries get a fixed date.
"""

from __future__ import annotations

import io
import subprocess
import sys
import warnings
from pathlib import Path

import pypandoc
from docx import Document
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Cm, Pt, RGBColor

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from press.writers.docx import normalise_zip  # noqa: E402

OUT = Path(__file__).resolve().parent.parent / "templates" / "reference.docx"
SERIF = "Times New Roman"
SANS = "Arial"
ACCENT = RGBColor(0x8A, 0x1C, 0x1C)


def style(doc, name: str, base: str = "Normal"):
    try:
        with warnings.catch_warnings():
            # python-docx warns on "Caption", a built-in whose stored name is lower-case; the lookup works.
            warnings.simplefilter("ignore", UserWarning)
            return doc.styles[name]
    except KeyError:
        created = doc.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        created.base_style = doc.styles[base]
        created.quick_style = True
        return created


def make() -> bytes:
    default = subprocess.run(
        [pypandoc.get_pandoc_path(), "--print-default-data-file", "reference.docx"], capture_output=True, check=True
    ).stdout
    doc = Document(io.BytesIO(default))
    for section in doc.sections:
        section.page_height, section.page_width = Cm(29.7), Cm(21.0)
        section.left_margin = section.right_margin = Cm(2.5)
        section.top_margin = section.bottom_margin = Cm(2.5)

    normal = doc.styles["Normal"]
    normal.font.name, normal.font.size = SERIF, Pt(12)
    for name in ("Body Text", "First Paragraph"):
        s = style(doc, name)
        s.font.name, s.font.size = SERIF, Pt(12)
        s.paragraph_format.line_spacing = 1.5
        s.paragraph_format.space_after = Pt(6)
    # "Compact" is what pandoc uses inside table cells and tight lists: single-spaced and smaller.
    compact = style(doc, "Compact")
    compact.font.name, compact.font.size = SERIF, Pt(10)
    compact.paragraph_format.line_spacing = 1.0
    compact.paragraph_format.space_before = compact.paragraph_format.space_after = Pt(2)

    title = style(doc, "Title")
    title.font.name, title.font.size, title.font.bold = SANS, Pt(20), True
    title.font.color.rgb = RGBColor(0, 0, 0)
    title.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.LEFT
    title.paragraph_format.space_after = Pt(12)

    author = style(doc, "Author")
    author.font.name, author.font.size, author.font.bold = SERIF, Pt(12), False
    author.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.LEFT
    author.paragraph_format.space_after = Pt(6)

    affiliation = style(doc, "Affiliation")
    affiliation.font.name, affiliation.font.size, affiliation.font.italic = SERIF, Pt(10), False
    affiliation.paragraph_format.space_after = Pt(2)

    abstract_title = style(doc, "Abstract Title")
    abstract_title.font.name, abstract_title.font.size, abstract_title.font.bold = SANS, Pt(12), True
    abstract_title.font.color.rgb = ACCENT
    abstract_title.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.LEFT
    abstract_title.paragraph_format.space_before = Pt(18)

    abstract = style(doc, "Abstract")
    abstract.font.name, abstract.font.size = SERIF, Pt(11)
    abstract.paragraph_format.left_indent = abstract.paragraph_format.right_indent = Cm(0.8)
    abstract.paragraph_format.space_after = Pt(6)

    keywords = style(doc, "Keywords")
    keywords.font.name, keywords.font.size = SERIF, Pt(11)
    keywords.paragraph_format.left_indent = Cm(0.8)
    keywords.paragraph_format.space_after = Pt(12)

    attribution = style(doc, "Attribution")
    attribution.font.name, attribution.font.size = SERIF, Pt(9)
    attribution.font.color.rgb = RGBColor(0x44, 0x44, 0x44)
    attribution.paragraph_format.space_after = Pt(18)

    for level, size in ((1, 14), (2, 12), (3, 12)):
        heading = style(doc, f"Heading {level}")
        heading.font.name, heading.font.size, heading.font.bold = SANS, Pt(size), True
        heading.font.italic = level == 3
        heading.font.color.rgb = RGBColor(0, 0, 0) if level > 1 else ACCENT
        heading.paragraph_format.space_before = Pt(18 if level == 1 else 12)
        heading.paragraph_format.space_after = Pt(6)

    for name in ("Caption", "Table Caption", "Image Caption"):
        caption = style(doc, name)
        caption.font.name, caption.font.size, caption.font.italic = SERIF, Pt(10), False
        caption.paragraph_format.space_before = Pt(6)
        caption.paragraph_format.space_after = Pt(6)
        caption.paragraph_format.keep_with_next = name == "Table Caption"

    bibliography = style(doc, "Bibliography")
    bibliography.font.name, bibliography.font.size = SERIF, Pt(11)
    bibliography.paragraph_format.left_indent = Cm(1.27)
    bibliography.paragraph_format.first_line_indent = Cm(-1.27)
    bibliography.paragraph_format.space_after = Pt(4)

    props = doc.core_properties
    props.author = props.last_modified_by = props.title = props.subject = props.keywords = props.comments = ""
    props.revision = 1

    buffer = io.BytesIO()
    doc.save(buffer)
    return normalise_zip(buffer.getvalue())


if __name__ == "__main__":
    OUT.write_bytes(make())
    print(f"wrote {OUT}", file=sys.stderr)
