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
_lock = threading.Lock()


def read(sources: list[str]) -> None:
    """pandoc's LaTeX reader's reading of each piece of TeX not yet read: one pandoc run for them all."""
    from . import pandoc

    with _lock:
        unknown = [source for source in dict.fromkeys(sources) if source not in _readings]
    if not unknown:
        return
    text = f"\n\n{MARK}\n\n".join(unknown)
    try:
        out = pandoc.run(["--sandbox", "-f", "latex+raw_tex", "-t", "json"], text.encode("utf-8"))
        blocks = json.loads(out)["blocks"]
    except (pandoc.PandocError, OSError, ValueError):
        blocks = None
    pieces: list[list[dict]] = [[]]
    for block in blocks or []:
        if block == {"t": "Para", "c": [{"t": "Str", "c": MARK}]}:
            pieces.append([])
        else:
            pieces[-1].append(block)
    whole = blocks is not None and len(pieces) == len(unknown)
    with _lock:
        for source, made in zip(unknown, pieces if whole else [[]] * len(unknown), strict=True):
            _readings[source] = made[0]["c"] if _read_whole(made) and not UNREAD.search(source) else None


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
