"""The revision round's comparison: two resolved documents in, one document with the changes marked out.

The comparison is made on pandoc's AST after citations and cross-references are resolved, never on
the Markdown (latexdiff's lesson): blocks are aligned first, then the words of each pair of blocks
that changed. What is compared is a normalised key of each element, so that

- a re-wrapped paragraph (SoftBreak or Space) and a moved block are not changes;
- a renumbered figure, table or equation (caption labels, equation numbers, cross-reference links)
  is not a change: only what the number points at counts;
- a citation is one unit, compared by its keys, modes, prefixes and suffixes; its rendering is the
  new version's;
- an equation, a figure, a code block and a table row are compared and marked as wholes.

A change is a pandoc ``Span`` of class ``insertion`` or ``deletion`` with ``author`` and ``date``
attributes: pandoc's DOCX writer turns those into Word revisions (``w:ins``, ``w:del``), and the
HTML shows them as ``<span class="insertion">``. Each block with a change also carries the class
``press-changed`` (a Div around it when it has no attributes of its own): the PDF's change bar.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Any

from .citeproc import REFS_ID
from .document import stringify
from .equations import EQUATION_CLASS

INSERTION, DELETION = "insertion", "deletion"
CHANGED = "press-changed"  # a block that holds a change: the change bar
WHOLE = {INSERTION: "press-inserted", DELETION: "press-deleted"}  # a block inserted or deleted as a whole
# Inline elements whose content is compared word by word when the element itself stays.
CONTAINERS = {"Emph", "Strong", "Underline", "Strikeout", "Superscript", "Subscript", "SmallCaps", "Span", "Link"}
LABEL = re.compile(r"^(Figure|Table) \d+\.$")  # the caption label press.document.number_targets writes
ATTRIBUTED = {"Header": 1, "Div": 0, "Figure": 0, "Table": 0, "CodeBlock": 0}  # block kind -> where its Attr is


@dataclass
class SectionChange:
    title: str
    words_added: int = 0
    words_removed: int = 0


@dataclass
class Changes:
    """What the summary on the first page says."""

    sections: list[SectionChange] = field(default_factory=list)
    references_added: list[str] = field(default_factory=list)  # each entry's text
    references_removed: list[str] = field(default_factory=list)
    figures: list[str] = field(default_factory=list)  # "Figure 2 changed", "a figure removed (Figure 3 before)"
    tables: list[str] = field(default_factory=list)

    @property
    def words_added(self) -> int:
        return sum(s.words_added for s in self.sections)

    @property
    def words_removed(self) -> int:
        return sum(s.words_removed for s in self.sections)

    @property
    def any(self) -> bool:
        return bool(
            self.words_added
            or self.words_removed
            or self.references_added
            or self.references_removed
            or self.figures
            or self.tables
        )


def compare(
    old: dict,
    new: dict,
    author: str,
    date: str,
    old_images: dict[str, str] | None = None,
    new_images: dict[str, str] | None = None,
) -> tuple[dict, Changes]:
    """The new document (pandoc JSON, as press.document resolves it) with what changed since ``old`` marked.

    Both are the whole article: abstract Div, its end marker, body, References heading, ``refs`` Div.
    ``date``: ISO 8601, the revisions' date. ``old_images``, ``new_images``: each version's image
    targets -> a digest of the file's content, so that a figure whose file changed is a changed
    figure, and one whose file was only renamed is not. Neither input is changed.
    """
    comparer = _Comparer([["author", author], ["date", date]], old_images or {}, new_images or {})
    old_blocks, new_blocks = old["blocks"], new["blocks"]
    blocks = [
        *comparer.blocks(old_blocks[:1], new_blocks[:1]),  # the abstract Div
        *new_blocks[1:2],  # its end marker
        *comparer.blocks(old_blocks[2:-2], new_blocks[2:-2]),
        *new_blocks[-2:-1],  # the References heading
        *comparer.blocks(old_blocks[-1:], new_blocks[-1:]),
    ]
    changes = summarise(blocks, comparer, old_blocks[-1], new_blocks[-1])
    return {**new, "blocks": blocks}, changes


# ---- keys: what counts as the same ----


def _normal(node: Any, images: dict[str, str]) -> Any:
    """``node`` without what is not a change: line breaks of the source, numbers, citeproc's hashes;
    each image by its file's content (``images``: target -> digest)."""
    if isinstance(node, list):
        return [_normal(item, images) for item in node]
    if not isinstance(node, dict) or "t" not in node:
        return node
    kind, content = node["t"], node.get("c")
    if kind == "Image":
        target = content[2][0]
        return {"t": "Image", "c": [_normal(content[:2], images), images.get(target, target)]}
    if kind in ("Space", "SoftBreak"):
        return {"t": "Space"}
    if kind == "Cite":
        return {
            "t": "Cite",
            "c": [
                [
                    c["citationId"],
                    c["citationMode"]["t"],
                    _normal(c["citationPrefix"], images),
                    _normal(c["citationSuffix"], images),
                ]
                for c in content[0]
            ],
        }
    if kind == "Link" and "crossref" in content[0][1]:
        return {"t": "CrossRef", "c": content[2][0]}
    if kind == "Span" and "equation-number" in content[0][1]:
        return {"t": "EquationNumber"}
    if kind == "Strong" and LABEL.match(stringify(content)):
        return {"t": "Label", "c": stringify(content).split()[0]}
    return {"t": kind, "c": _normal(content, images)}


def key(node: Any, images: dict[str, str] | None = None) -> str:
    """What ``node`` is compared by (see _normal)."""
    return json.dumps(_normal(node, images or {}), sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _kind(block: dict) -> str:
    """Blocks of one kind may be compared inside; blocks of different kinds only replace each other."""
    kind = block["t"]
    if kind == "Header":
        return f"Header{block['c'][0]}"
    if kind == "Div":
        return f"Div#{block['c'][0][0]}" if block["c"][0][0] else "Div"
    return kind


# ---- marking ----


def _span(cls: str, attrs: list, inlines: list) -> list:
    if cls == DELETION:
        inlines = _without_ids(inlines)
    return [{"t": "Span", "c": [["", [cls], attrs], inlines]}] if inlines else []


ATTR_AT = {**ATTRIBUTED, "Span": 0, "Code": 0, "Image": 0, "Link": 0}  # element kind -> where its Attr is


def _without_ids(node: Any) -> Any:
    """A copy of ``node`` with no identifiers: deleted text keeps none, since the new version may
    use the same ones (a figure replaced under its old id would otherwise be two, in the HTML's ids
    and the DOCX's bookmarks)."""
    if isinstance(node, list):
        return [_without_ids(item) for item in node]
    if not isinstance(node, dict):
        return node
    copy = {key: _without_ids(value) for key, value in node.items()}
    where = ATTR_AT.get(node.get("t"))
    if where is not None and copy["c"][where][0]:
        copy["c"][where] = ["", *copy["c"][where][1:]]
    return copy


def with_class(block: dict, cls: str) -> dict:
    """``block`` with ``cls`` among its classes; a Div around it when it has no attributes."""
    where = ATTRIBUTED.get(block["t"])
    if where is None:
        return {"t": "Div", "c": [["", [cls], []], [block]]}
    attr = block["c"][where]
    if cls in attr[1]:
        return block
    content = list(block["c"])
    content[where] = [attr[0], [*attr[1], cls], attr[2]]
    return {**block, "c": content}


class _Comparer:
    def __init__(self, attrs: list, old_images: dict[str, str], new_images: dict[str, str]):
        self.attrs = attrs
        self.old_images, self.new_images = old_images, new_images
        self.figures: list[str] = []
        self.tables: list[str] = []

    # -- blocks --

    def keys(self, old: list, new: list) -> tuple[list[str], list[str]]:
        return [key(o, self.old_images) for o in old], [key(n, self.new_images) for n in new]

    def blocks(self, old: list[dict], new: list[dict]) -> list[dict]:
        return self._sequence(old, new, *self.keys(old, new), self._block_pair, self._whole)

    def _sequence(
        self,
        old: list,
        new: list,
        old_keys: list[str],
        new_keys: list[str],
        pair: Callable[[Any, Any], list],
        whole: Callable[[Any, str], list],
        kind: Callable[[Any], str] = _kind,
    ) -> list:
        """``new`` merged with ``old``: equal items as they are, the others paired by kind or marked whole.

        An item deleted in one place and inserted, the same, in another was moved: it stands in its
        new place, unmarked.
        """
        opcodes = SequenceMatcher(None, old_keys, new_keys, autojunk=False).get_opcodes()
        gone = Counter(old_keys[i] for tag, i1, i2, _, _ in opcodes if tag != "equal" for i in range(i1, i2))
        came = Counter(new_keys[j] for tag, _, _, j1, j2 in opcodes if tag != "equal" for j in range(j1, j2))
        moved_out, moved_in = gone & came, gone & came
        out: list = []
        for tag, i1, i2, j1, j2 in opcodes:
            if tag == "equal":
                out += new[j1:j2]
                continue
            olds = [(o, k) for o, k in zip(old[i1:i2], old_keys[i1:i2], strict=True) if not _take(moved_out, k)]
            news = [(n, k, _take(moved_in, k)) for n, k in zip(new[j1:j2], new_keys[j1:j2], strict=True)]
            # Paired by kind, in order: a changed paragraph is compared word by word with the old one.
            old_kinds = [kind(o) for o, _ in olds]
            new_kinds = [kind(n) if not moved else "\0moved" for n, _, moved in news]
            for op, a1, a2, b1, b2 in SequenceMatcher(None, old_kinds, new_kinds, autojunk=False).get_opcodes():
                if op == "equal":
                    for (o, _), (n, _, _) in zip(olds[a1:a2], news[b1:b2], strict=True):
                        out += pair(o, n)
                    continue
                for o, _ in olds[a1:a2]:
                    out += whole(o, DELETION)
                for n, _, moved in news[b1:b2]:
                    out += [n] if moved else whole(n, INSERTION)
        return out

    def _block_pair(self, old: dict, new: dict) -> list[dict]:
        """Two blocks of one kind that differ."""
        kind = new["t"]
        if kind in ("Para", "Plain", "Header") and not _alike(*self.keys(_text_of(old), _text_of(new))):
            return [*self._whole(old, DELETION), *self._whole(new, INSERTION)]
        if kind in ("Para", "Plain"):
            inlines, changed = self.inlines(old["c"], new["c"])
            block = {"t": kind, "c": inlines}
            return [with_class(block, CHANGED) if changed else block]
        if kind == "Header":
            inlines, changed = self.inlines(old["c"][2], new["c"][2])
            block = {"t": "Header", "c": [new["c"][0], new["c"][1], inlines]}
            return [with_class(block, CHANGED) if changed else block]
        if kind == "Div":
            return [{"t": "Div", "c": [new["c"][0], self.blocks(old["c"][1], new["c"][1])]}]
        if kind == "BlockQuote":
            return [{"t": "BlockQuote", "c": self.blocks(old["c"], new["c"])}]
        if kind == "BulletList":
            return [{"t": "BulletList", "c": self._items(old["c"], new["c"])}]
        if kind == "OrderedList":
            return [{"t": "OrderedList", "c": [new["c"][0], self._items(old["c"][1], new["c"][1])]}]
        if kind == "Table" and key(old["c"][2]) == key(new["c"][2]) and len(old["c"][4]) == len(new["c"][4]):
            return [self._table(old, new)]
        if kind == "Figure":
            self.figures.append(f"{_label(new) or 'a figure'} changed")
        elif kind == "Table":
            self.tables.append(f"{_label(new) or 'a table'} changed")
        return [*self._whole(old, DELETION, count=False), *self._whole(new, INSERTION, count=False)]

    def _items(self, old: list[list[dict]], new: list[list[dict]]) -> list[list[dict]]:
        def whole(item: list[dict], cls: str) -> list[list[dict]]:
            return [[with_class(b, CHANGED) for b in _marked_blocks(item, cls, self.attrs)]]

        def pair(o: list[dict], n: list[dict]) -> list[list[dict]]:
            return [self.blocks(o, n)]

        return self._sequence(old, new, *self.keys(old, new), pair, whole, kind=lambda _item: "item")

    def _table(self, old: dict, new: dict) -> dict:
        """A table whose columns stayed: its caption word by word, its rows as wholes."""
        attr, caption, colspecs, head, bodies, foot = new["c"]
        old_caption = old["c"][1]
        caption = [caption[0], self.blocks(old_caption[1], caption[1])]
        head = [head[0], self._rows(old["c"][3][1], head[1])]
        bodies = [
            [n[0], n[1], self._rows(o[2], n[2]), self._rows(o[3], n[3])]
            for o, n in zip(old["c"][4], bodies, strict=True)
        ]
        foot = [foot[0], self._rows(old["c"][5][1], foot[1])]
        self.tables.append(f"{_label(new) or 'a table'} changed")
        return with_class({"t": "Table", "c": [attr, caption, colspecs, head, bodies, foot]}, CHANGED)

    def _rows(self, old: list, new: list) -> list:
        def whole(row: list, cls: str) -> list:
            return [_marked_row(row, cls, self.attrs)]

        def pair(o: list, n: list) -> list:
            return [*whole(o, DELETION), *whole(n, INSERTION)]

        return self._sequence(old, new, *self.keys(old, new), pair, whole, kind=lambda _r: "row")

    def _whole(self, block: dict, cls: str, count: bool = True) -> list[dict]:
        """A block inserted or deleted as a whole: every inline of it in a change Span."""
        if count and block["t"] == "Figure":
            self.figures.append(f"{_label(block) or 'a figure'} {'added' if cls == INSERTION else 'removed'}")
        elif count and block["t"] == "Table":
            self.tables.append(f"{_label(block) or 'a table'} {'added' if cls == INSERTION else 'removed'}")
        if block["t"] == "Div" and block["c"][0][0] == REFS_ID:
            return [{"t": "Div", "c": [block["c"][0], self.blocks([], block["c"][1]) if cls == INSERTION else []]}]
        marked = [with_class(with_class(b, WHOLE[cls]), CHANGED) for b in _marked_blocks([block], cls, self.attrs)]
        for code in (b for b in marked if b["t"] == "CodeBlock"):  # its revision's author and date, for the DOCX
            code["c"][0] = [code["c"][0][0], code["c"][0][1], [*code["c"][0][2], *self.attrs]]
        return marked

    # -- inlines --

    def inlines(self, old: list[dict], new: list[dict]) -> tuple[list[dict], bool]:
        """``new`` with the words changed since ``old`` marked, and whether anything changed."""
        old_keys, new_keys = self.keys(old, new)
        opcodes = _coalesce(SequenceMatcher(None, old_keys, new_keys, autojunk=False).get_opcodes(), new_keys)
        out: list[dict] = []
        changed = False
        for tag, i1, i2, j1, j2 in opcodes:
            if tag == "equal":
                out += new[j1:j2]
                continue
            changed = True
            if tag == "replace" and i2 - i1 == 1 and j2 - j1 == 1 and _same_container(old[i1], new[j1]):
                out.append(self._container(old[i1], new[j1]))
                continue
            out += _span(DELETION, self.attrs, old[i1:i2])
            out += _span(INSERTION, self.attrs, new[j1:j2])
        return out, changed

    def _container(self, old: dict, new: dict) -> dict:
        kind = new["t"]
        if kind in ("Span", "Link"):
            content = list(new["c"])
            content[1] = self.inlines(old["c"][1], new["c"][1])[0]
            return {"t": kind, "c": content}
        if kind == "Note":
            return {"t": "Note", "c": self.blocks(old["c"], new["c"])}
        return {"t": kind, "c": self.inlines(old["c"], new["c"])[0]}


# Two paragraphs in one place that share less than this part of the shorter one's words are a
# paragraph replaced by another, shown as such, not one rewritten word by word between the few words
# they share ("the", "of"). Of the shorter one: a paragraph cut down to a sentence is still itself.
ALIKE = 0.5


def _text_of(block: dict) -> list[dict]:
    return block["c"][2] if block["t"] == "Header" else block["c"]


def _alike(old_keys: list[str], new_keys: list[str]) -> bool:
    """Whether two runs of inlines share enough of their words to be compared word by word."""
    old_words = [k for k in old_keys if k != SPACE_KEY]
    new_words = [k for k in new_keys if k != SPACE_KEY]
    if min(len(old_words), len(new_words)) < 4:
        return True  # a short heading or line: word by word is as clear
    shared = sum(
        size for _, _, size in SequenceMatcher(None, old_words, new_words, autojunk=False).get_matching_blocks()
    )
    return shared / min(len(old_words), len(new_words)) >= ALIKE


def _take(counter: Counter, item: str) -> bool:
    if counter[item] > 0:
        counter[item] -= 1
        return True
    return False


SPACE_KEY = key({"t": "Space"})


def _coalesce(opcodes: list[tuple], new_keys: list[str]) -> list[tuple]:
    """Opcodes with a change, a space or two, and a change merged into one change.

    Otherwise a rewritten sentence reads as a jumble: every old word deleted and every new word
    inserted one by one between the spaces they share.
    """
    out: list[list] = []
    for op in opcodes:
        tag, i1, i2, j1, j2 = op
        if out and tag != "equal" and len(out) >= 2 and out[-1][0] == "equal" and out[-2][0] != "equal":
            between = new_keys[out[-1][3] : out[-1][4]]
            if all(k == SPACE_KEY for k in between):
                out.pop()
                previous = out.pop()
                out.append(["replace", previous[1], i2, previous[3], j2])
                continue
        if out and tag != "equal" and out[-1][0] != "equal":
            previous = out.pop()
            out.append(["replace", previous[1], i2, previous[3], j2])
            continue
        out.append(list(op))
    return [tuple(op) for op in out]


def _same_container(old: dict, new: dict) -> bool:
    """Two inlines whose content is compared word by word: the same container with the same attributes."""
    kind = new["t"]
    if old["t"] != kind or kind not in {*CONTAINERS, "Note"}:
        return False
    if kind == "Span":
        return old["c"][0] == new["c"][0] and EQUATION_CLASS not in new["c"][0][1]
    if kind == "Link":
        return old["c"][0] == new["c"][0] and old["c"][2] == new["c"][2] and "crossref" not in new["c"][0][1]
    return True


def _marked_inlines(inlines: list[dict], cls: str, attrs: list) -> list[dict]:
    return _span(cls, attrs, inlines)


def _marked_blocks(blocks: list[dict], cls: str, attrs: list) -> list[dict]:
    """``blocks`` with every run of inlines in them in one change Span of class ``cls``."""
    if cls == DELETION:
        blocks = _without_ids(blocks)
    out = []
    for block in blocks:
        kind, c = block["t"], block.get("c")
        if kind in ("Para", "Plain"):
            block = {"t": kind, "c": _marked_inlines(c, cls, attrs)}
        elif kind == "Header":
            block = {"t": kind, "c": [c[0], c[1], _marked_inlines(c[2], cls, attrs)]}
        elif kind in ("Div", "Figure"):
            if kind == "Figure":
                caption = [c[1][0], _marked_blocks(c[1][1], cls, attrs)]
                block = {"t": kind, "c": [c[0], caption, _marked_blocks(c[2], cls, attrs)]}
            else:
                block = {"t": kind, "c": [c[0], _marked_blocks(c[1], cls, attrs)]}
        elif kind == "BlockQuote":
            block = {"t": kind, "c": _marked_blocks(c, cls, attrs)}
        elif kind == "BulletList":
            block = {"t": kind, "c": [_marked_blocks(item, cls, attrs) for item in c]}
        elif kind == "OrderedList":
            block = {"t": kind, "c": [c[0], [_marked_blocks(item, cls, attrs) for item in c[1]]]}
        elif kind == "LineBlock":
            block = {"t": kind, "c": [_marked_inlines(line, cls, attrs) for line in c]}
        elif kind == "DefinitionList":
            block = {
                "t": kind,
                "c": [
                    [_marked_inlines(term, cls, attrs), [_marked_blocks(d, cls, attrs) for d in defs]]
                    for term, defs in c
                ],
            }
        elif kind == "Table":
            attr, caption, colspecs, head, bodies, foot = c
            block = {
                "t": kind,
                "c": [
                    attr,
                    [caption[0], _marked_blocks(caption[1], cls, attrs)],
                    colspecs,
                    [head[0], [_marked_row(r, cls, attrs) for r in head[1]]],
                    [
                        [
                            b[0],
                            b[1],
                            [_marked_row(r, cls, attrs) for r in b[2]],
                            [_marked_row(r, cls, attrs) for r in b[3]],
                        ]
                        for b in bodies
                    ],
                    [foot[0], [_marked_row(r, cls, attrs) for r in foot[1]]],
                ],
            }
        # CodeBlock, RawBlock, HorizontalRule: nothing to wrap; the block's class marks it.
        out.append(block)
    return out


def _marked_row(row: list, cls: str, attrs: list) -> list:
    attr, cells = row
    marked = [[cell[0], cell[1], cell[2], cell[3], _marked_blocks(cell[4], cls, attrs)] for cell in cells]
    return [[attr[0], [*attr[1], WHOLE[cls]], attr[2]], marked]


def _label(block: dict) -> str:
    """ "Figure 2" or "Table 1", from the caption label of a numbered figure or table."""
    for element in _walk(block["c"][1]):
        if element.get("t") == "Strong" and LABEL.match(stringify(element["c"])):
            return stringify(element["c"]).rstrip(".")
    return ""


def _walk(node: Any):
    from .ast import elements

    return elements(node)


# ---- the summary ----


def _words(inlines: list[dict]) -> int:
    """Words in a run of inlines; a citation or an equation counts as one."""
    count = 0
    stack = list(inlines)
    while stack:
        item = stack.pop()
        if not isinstance(item, dict):
            continue
        kind = item["t"]
        if kind == "Str":
            count += 1 if any(ch.isalnum() for ch in item["c"]) else 0
        elif kind in ("Cite", "Math") or (kind == "Span" and EQUATION_CLASS in item["c"][0][1]):
            count += 1
        elif kind in ("Span", "Link"):
            stack += item["c"][1]
        elif kind in ("Emph", "Strong", "Underline", "Strikeout", "Superscript", "Subscript", "SmallCaps"):
            stack += item["c"]
        elif kind == "Quoted":
            stack += item["c"][1]
        elif kind == "Note":
            from .ast import elements

            stack += [e for e in elements(item["c"]) if e["t"] == "Str"]
    return count


def accepted(node: Any) -> Any:
    """``node`` with every change accepted: deletions dropped, insertions unwrapped (a copy)."""
    if isinstance(node, dict):
        return {key: accepted(value) for key, value in node.items()}
    if not isinstance(node, list):
        return node
    out: list = []
    for item in node:
        if isinstance(item, dict) and item.get("t") == "Span" and item["c"][0][1][:1] in ([INSERTION], [DELETION]):
            if INSERTION in item["c"][0][1]:
                out += accepted(item["c"][1])
            continue
        out.append(accepted(item))
    return out


def title_text(inlines: list[dict]) -> str:
    """A heading's text as the new version has it (or the old one's, when it was deleted whole)."""
    kept = [i for i in inlines if not (i["t"] == "Span" and DELETION in i["c"][0][1])]
    return stringify(kept) or stringify(inlines)


def summarise(blocks: list[dict], comparer: _Comparer, old_refs: dict, new_refs: dict) -> Changes:
    """Words added and removed per top-level section, the references added and removed, figures and tables."""
    from .ast import elements

    sections = [SectionChange("Abstract")]
    for index, block in enumerate(blocks):
        if index == len(blocks) - 2:  # the References heading: the reference list is counted by entry
            break
        if block["t"] == "Div" and CHANGED in block["c"][0][1] and block["c"][1] and block["c"][1][0]["t"] == "Header":
            block = block["c"][1][0]
        if block["t"] == "Header" and block["c"][0] == 1 and index > 1:
            removed = WHOLE[DELETION] in block["c"][1][1]
            sections.append(SectionChange(title_text(block["c"][2]) + (" (removed)" if removed else "")))
        for element in elements(block):
            if element["t"] == "Span" and element["c"][0][1][:1] in ([INSERTION], [DELETION]):
                words = _words(element["c"][1])
                if INSERTION in element["c"][0][1]:
                    sections[-1].words_added += words
                else:
                    sections[-1].words_removed += words
    old_entries, new_entries = _entries(old_refs), _entries(new_refs)
    return Changes(
        sections=sections,
        references_added=[text for ident, text in new_entries.items() if ident not in old_entries],
        references_removed=[text for ident, text in old_entries.items() if ident not in new_entries],
        figures=comparer.figures,
        tables=comparer.tables,
    )


def _entries(refs: dict) -> dict[str, str]:
    """The reference list's entries: id -> text."""
    return {
        entry["c"][0][0]: " ".join(stringify(entry["c"][1]).split())
        for entry in refs["c"][1]
        if entry["t"] == "Div" and entry["c"][0][0]
    }
