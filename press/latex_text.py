"""Raw LaTeX in the text that pandoc's LaTeX reader reads: ``\\emph{in vivo}``, ``\\textbf``, ``\\textit``,
``\\texttt``, ``\\textsc``, ``\\underline``, ``\\textsuperscript``, ``\\footnote``, ``\\url``, ``\\href``,
``\\enquote``, siunitx's ``\\SI`` and the rest, as papers first written for LaTeX carry them.

pandoc's Markdown reader keeps a LaTeX command in the text as raw TeX, which every output here (none is
LaTeX) drops: "the \\emph{in vivo} study" became "the  study", with a warning. Each piece is read by
pandoc's LaTeX reader instead, all of a document's in one run (``read``), with raw_tex on, so that a
command it does not know stays raw TeX in its reading. A piece it reads whole (one paragraph, no raw
TeX left in it) becomes those inlines, in place (``in_text``): emphasis, strong, code, small caps, a
footnote, a link. One it does not (``\\ce{H2O}``, ``\\todo``, ``\\vspace``) stays raw, and
press.checks.latex says it is left out. ``\\today`` stays raw too: the build's date would make the
outputs differ from day to day.

A raw block (a ``figure`` environment with its ``\\includegraphics``, ``\\caption`` and ``\\label``, a
``table`` with its ``tabular``, ``itemize``, ``enumerate``, ``quote``) is read the same way, as blocks
(``as_blocks``): a figure and a table with their ids, numbered and referenced as Markdown's are (the
parse then reads them as it reads its own: press.equations). Commands that only lay out
(``\\centering``, ``\\small``) are left out of such a reading; one that keeps a raw block stays raw.

siunitx's commands are given to it with each ``\\per`` written as a power (press.siunitx.rewritten),
and their readings are what the math gets for them.
"""

from __future__ import annotations

import json
import re
import threading

from .ast import elements

# Between two pieces in one pandoc run: a paragraph of its own, which the LaTeX reader keeps as it is.
MARK = "PRESSLATEXMARK"
UNREAD = re.compile(r"\\today(?![A-Za-z])")

_readings: dict[str, list[dict] | None] = {}  # a piece of TeX (as pandoc is given it) -> its inlines
_block_readings: dict[str, list[dict] | None] = {}  # a raw block's TeX -> its blocks
_lock = threading.Lock()


def read(sources: list[str]) -> None:
    """pandoc's LaTeX reader's reading of each piece of TeX of the text not yet read: one pandoc run."""
    with _lock:
        unknown = [source for source in dict.fromkeys(sources) if source not in _readings]
    if not unknown:
        return
    pieces = _pandoc_pieces(unknown)
    with _lock:
        for source, made in zip(unknown, pieces, strict=True):
            _readings[source] = made[0]["c"] if _read_whole(made) and not UNREAD.search(source) else None


def _pandoc_pieces(sources: list[str]) -> list[list[dict]]:
    """The blocks pandoc's LaTeX reader reads from each of ``sources``, from one run; none for each when
    pandoc fails."""
    from . import pandoc

    text = f"\n\n{MARK}\n\n".join(sources)
    try:
        out = pandoc.run(["--sandbox", "-f", "latex+raw_tex", "-t", "json"], text.encode("utf-8"))
        blocks = json.loads(out)["blocks"]
    except (pandoc.PandocError, OSError, ValueError):
        return [[] for _ in sources]
    pieces: list[list[dict]] = [[]]
    for block in blocks:
        if block == {"t": "Para", "c": [{"t": "Str", "c": MARK}]}:
            pieces.append([])
        else:
            pieces[-1].append(block)
    return pieces if len(pieces) == len(sources) else [[] for _ in sources]


# Commands that only lay out what is around them: left out of a block's reading, as the PDF's own
# layout takes their place.
LAYOUT_ONLY = re.compile(
    r"\\(?:centering|raggedright|raggedleft|noindent|small|footnotesize|scriptsize|normalsize|"
    r"smallskip|medskip|bigskip|FloatBarrier|par)\s*"
)


def as_blocks(raws: list[dict], sources: list[str]) -> list[dict]:
    """Each of ``raws`` (RawBlock TeX: a figure or table environment, a list, a quotation), its TeX as
    pandoc is given it in ``sources``, as the blocks pandoc's LaTeX reader reads from it, in place (a
    Div without attributes around them); one whose reading keeps a raw block (a command it does not
    know) left as it is. A raw command in a paragraph of the reading stays, for ``read`` and the checks.
    Returns the blocks put in place, for the parse's own reading of them (press.equations); ``spliced``
    then takes them out of their Div."""
    with _lock:
        unknown = [source for source in dict.fromkeys(sources) if source not in _block_readings]
    if unknown:
        pieces = _pandoc_pieces(unknown)
        with _lock:
            for source, made in zip(unknown, pieces, strict=True):
                made = _without_layout(made)
                readable = made and not UNREAD.search(source) and not any(e["t"] == "RawBlock" for e in elements(made))
                _block_readings[source] = [_table_with_its_id(block) for block in made] if readable else None
    put: list[dict] = []
    for element, source in zip(raws, sources, strict=True):
        with _lock:
            made = _block_readings.get(source)
        if made is not None:
            made = json.loads(json.dumps(made))  # each place its own copy: the parse is changed in place
            element["t"], element["c"] = "Div", [["", [READ], []], made]
            put += made
    return put


READ = "press-latex-read"  # the class of the Div that holds a raw block's reading until it is spliced in


def spliced(node):
    """``node`` (blocks, or any part of the AST) with each raw block's reading (``as_blocks``) in its place
    in the list that held it, not in a Div: a ``\\section`` read is a heading of the document, in its
    contents and its parts. In place."""
    if isinstance(node, list):
        out = []
        for item in node:
            if isinstance(item, dict) and item.get("t") == "Div" and item["c"][0][1] == [READ]:
                out += spliced(item["c"][1])
            else:
                out.append(spliced(item))
        node[:] = out
    elif isinstance(node, dict) and isinstance(node.get("c"), list):
        spliced(node["c"])
    return node


def _without_layout(blocks: list[dict]) -> list[dict]:
    """``blocks`` without the raw TeX that only lays out (LAYOUT_ONLY)."""

    def kept(item):
        if isinstance(item, list):
            return [kept(i) for i in item if not _layout_only(i)]
        if isinstance(item, dict):
            return {key: kept(value) for key, value in item.items()}
        return item

    return kept(blocks)


def _layout_only(item) -> bool:
    return (
        isinstance(item, dict)
        and item.get("t") in ("RawBlock", "RawInline")
        and item["c"][0] in ("tex", "latex")
        and LAYOUT_ONLY.sub("", item["c"][1]).strip() == ""
    )


def _table_with_its_id(block: dict) -> dict:
    """pandoc's reading of a table environment, a Div with the \\label's id around the Table, as the Table
    with that id (as Markdown's ``{#tbl:x}`` gives it), so that it is numbered and referenced."""
    if block["t"] == "Div" and block["c"][0][0] and len(block["c"][1]) == 1 and block["c"][1][0]["t"] == "Table":
        table = block["c"][1][0]
        if not table["c"][0][0]:
            return {"t": "Table", "c": [[block["c"][0][0], *table["c"][0][1:]], *table["c"][1:]]}
    return block


def _read_whole(blocks: list[dict]) -> bool:
    """Whether a reading is one paragraph of inlines with no raw TeX left in it (but a citation's own:
    pandoc keeps ``\\cite{a}`` as the Cite's content, which citeproc replaces)."""
    if len(blocks) != 1 or blocks[0]["t"] != "Para" or not blocks[0]["c"]:
        return False
    return not any(e["t"] in ("RawInline", "RawBlock") for e in elements(blocks, prune=frozenset({"Cite"})))


def reading(source: str) -> list[dict] | None:
    """The inlines pandoc read from ``source`` (given to ``read``); None when it did not read it whole."""
    with _lock:
        return _readings.get(source)


def in_text(raws: list[dict], sources: list[str]) -> None:
    """Each of ``raws`` (RawInline TeX of the text) as the inlines of its reading, in place, its TeX as
    pandoc was given it (``read``) in ``sources``; one without a reading left as it is."""
    for element, source in zip(raws, sources, strict=True):
        made = reading(source)
        if made is not None:
            # In place: the span, without attributes, is its inlines in every output.
            element["t"], element["c"] = "Span", [["", [], []], made]
