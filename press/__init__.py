"""press: Markdown + BibTeX to the journal's PDF, HTML and DOCX, with checked citations."""

__version__ = "0.1.0"
