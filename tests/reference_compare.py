"""Compare rendered APA 7th reference-list entries with a published list.

Pure functions only (no pandoc, no file access), so the logic can be unit
tested and reused with any renderer.

An APA 7th reference is split into its components (authors, year, title,
container, volume, issue, pages or article number, DOI, ...) after a set of
*named* normalisations has been applied to both strings.  Every normalisation
exists either because two typographically different strings mean the same
thing (e.g. U+2011 vs ASCII hyphen) or because the published list breaks an
APA rule that the renderer applies correctly (e.g. the 21+ author
truncation).  They are listed in ``NORMALISATIONS``; nothing else is
forgiven: any other difference in any component is reported.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

__all__ = [
    "NORMALISATIONS",
    "APA_MAX_LISTED_AUTHORS",
    "ELLIPSIS",
    "ParsedReference",
    "normalise_text",
    "parse_authors",
    "apa_truncate_authors",
    "parse_reference",
    "compare",
    "compare_all",
]

#: Every normalisation applied before comparing, with the reason for it.
NORMALISATIONS: dict[str, str] = {
    "unicode-nfc": "Unicode NFC composition, so that a precomposed 'é' equals 'e' + combining acute accent.",
    "dashes": "Hyphen/dash variants U+2010-U+2015, U+2212 (minus), U+FE58, "
    "U+FE63, U+FF0D are all mapped to the ASCII hyphen-minus. The published "
    "list typesets hyphens as U+2011 non-breaking hyphens (even inside the "
    "DOI of Sinner & Graf 2008) and ranges as en dashes.",
    "whitespace": "NBSP and other Unicode spaces become a plain space, runs of "
    "whitespace (line wraps of the HTML output) collapse to one space, "
    "zero-width characters and soft hyphens are dropped.",
    "quotes": "Typographic quotes/apostrophes (’ ‘ ‛ ′ “ ” „) are mapped to "
    "ASCII ' and \". pandoc's smart typography renders Lavand'homme and "
    "d'Anesthésie with U+2019; the published list uses ASCII '.",
    "ellipsis": "'. . .' and '...' equal '…' (U+2026), the APA author ellipsis.",
    "space-after-year": "A missing space after '(YYYY).' is inserted: the "
    "published list prints '(2021).Efficacy' (Van der Velzen et al.) and "
    "'(2021).Ketamine' (Israel et al.).",
    "ampersand-before-last-author": "Authors are compared as a list of names, "
    "so the '&' before the final author is not part of any name. The "
    "published entry of Calsina-Berna et al. (2024) omits the '&' that APA "
    "requires.",
    "apa-author-truncation": "APA 7th (section 9.8) lists at most 20 authors; "
    "with 21 or more it gives the first 19, an ellipsis and the last author. "
    "Both author lists are brought into that form before comparing. The "
    "published entry of Treede et al. (2015) lists all 22 authors.",
    "trailing-period": "The final period of the reference and of each "
    "component is ignored (APA omits it after a DOI/URL; components are "
    "compared without their separators).",
    "doi-prefix": "DOIs are compared without their resolver prefix (https://doi.org/, http://dx.doi.org/, doi:).",
}

#: APA 7th: up to 20 authors are listed; with more, 19 + ellipsis + last.
APA_MAX_LISTED_AUTHORS = 20
APA_TRUNCATED_HEAD = 19
ELLIPSIS = "\u2026"

_DASHES = dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"), "-")
_QUOTES = {
    **dict.fromkeys(map(ord, "\u2018\u2019\u201a\u201b\u2032\u02bc"), "'"),
    **dict.fromkeys(map(ord, "\u201c\u201d\u201e\u201f\u2033"), '"'),
}
_SPACES = dict.fromkeys(
    map(ord, "\u00a0\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000\t\n\r\f\v"),
    " ",
)
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)

_YEAR_RE = re.compile(r"\((?P<year>\d{4}[a-z]?|n\.\s?d\.)(?:,\s*[^)]*)?\)\.")
_DOI_RE = re.compile(r"(?:https?://(?:dx\.)?doi\.org/|doi:\s*)(?P<doi>10\.\S+?)\.?$", re.IGNORECASE)
_URL_RE = re.compile(r"(?P<url>https?://\S+?)\.?$")
_INITIALS_RE = re.compile(r"^(?:\w{1,2}\.(?:[ -](?=\w))?)+$")
_JOURNAL_SOURCE_RE = re.compile(
    r"^(?P<container>.+?), (?P<volume>[^,()\s]+)"
    r"(?:\((?P<issue>[^()]+)\))?"
    r"(?:, (?P<pages>.+))?$"
)
_CHAPTER_SOURCE_RE = re.compile(
    r"^In (?:(?P<editors>.+?) \((?:Eds?|Trans|Comp)\.\), )?"
    r"(?P<container>.+?)"
    r"(?: \((?P<details>[^()]*\b(?:Vol|pp?|ed)\.[^()]*)\))?"
    r"(?:\. (?P<publisher>.+))?$"
)
_SPLIT_CANDIDATE_RE = re.compile(r"[.?!] ")


def normalise_text(text: str) -> str:
    """Apply the character-level normalisations of ``NORMALISATIONS``.

    (unicode-nfc, dashes, whitespace, quotes, ellipsis, space-after-year).
    """
    text = unicodedata.normalize("NFC", text)
    text = text.translate(_INVISIBLE).translate(_SPACES)
    text = text.translate(_DASHES).translate(_QUOTES)
    text = re.sub(r"\.\s\.\s\.|\.\.\.", ELLIPSIS, text)
    text = re.sub(r" {2,}", " ", text).strip()
    # space-after-year: "(2021).Efficacy" -> "(2021). Efficacy"
    text = re.sub(r"(\((?:\d{4}[a-z]?|n\.\s?d\.)\)\.)(?=\S)", r"\1 ", text)
    return text


def _strip_period(text: str | None) -> str | None:
    if text is None:
        return None
    text = text.strip()
    while text.endswith(".") and not text.endswith(ELLIPSIS):
        # keep the period of a final initial ("W. M.") only in author lists,
        # which are not passed through here
        text = text[:-1].rstrip()
    return text or None


def _split_names(segment: str) -> list[str]:
    """Split 'A, B. C., D, E., & F, G.' into ['A, B. C.', 'D, E.', 'F, G.']."""
    segment = segment.strip().strip(",").strip()
    # ampersand-before-last-author
    segment = re.sub(r",?\s*&\s+", ", ", segment)
    if not segment:
        return []
    names: list[str] = []
    for token in (t.strip() for t in segment.split(", ")):
        if not token:
            continue
        if names and _INITIALS_RE.match(token) and not _INITIALS_RE.match(names[-1].split(", ")[-1]):
            names[-1] = f"{names[-1]}, {token}"
        else:
            names.append(token)
    return names


def parse_authors(segment: str) -> list[str]:
    """Parse the author element of an APA reference into a list of names.

    An APA author ellipsis is kept as the marker ``ELLIPSIS`` in the list.
    """
    segment = segment.strip()
    if ELLIPSIS in segment:
        head, _, tail = segment.partition(ELLIPSIS)
        return _split_names(head) + [ELLIPSIS] + _split_names(tail)
    return _split_names(segment)


def apa_truncate_authors(authors: list[str]) -> list[str]:
    """Bring an author list into APA 7th form (apa-author-truncation)."""
    if ELLIPSIS in authors or len(authors) <= APA_MAX_LISTED_AUTHORS:
        return list(authors)
    return authors[:APA_TRUNCATED_HEAD] + [ELLIPSIS] + authors[-1:]


@dataclass
class ParsedReference:
    """Components of one APA 7th reference (after normalise_text)."""

    authors: list[str] = field(default_factory=list)
    year: str | None = None
    title: str | None = None
    kind: str | None = None  # "journal", "chapter" or None (unparsed source)
    editors: str | None = None
    container: str | None = None
    volume: str | None = None
    issue: str | None = None
    pages: str | None = None
    publisher: str | None = None
    doi: str | None = None
    url: str | None = None
    unparsed: str | None = None  # text that could not be split further

    COMPARED = (
        "year",
        "title",
        "editors",
        "container",
        "volume",
        "issue",
        "pages",
        "publisher",
        "doi",
        "url",
        "unparsed",
    )


def _parse_source(source: str) -> dict | None:
    if source.startswith("In "):
        m = _CHAPTER_SOURCE_RE.match(source)
        if m:
            parts = {
                "kind": "chapter",
                "editors": m["editors"],
                "container": m["container"],
                "publisher": m["publisher"],
            }
            details = m["details"] or ""
            vol = re.search(r"\bVol\. ([^,)]+)", details)
            pages = re.search(r"\bpp?\. ([^,)]+)", details)
            parts["volume"] = vol.group(1) if vol else None
            parts["pages"] = pages.group(1) if pages else None
            return parts
        return None
    m = _JOURNAL_SOURCE_RE.match(source)
    if m and ". " not in m["container"]:
        return {
            "kind": "journal",
            "container": m["container"],
            "volume": m["volume"],
            "issue": m["issue"],
            "pages": m["pages"],
        }
    return None


def parse_reference(text: str) -> ParsedReference:
    """Split an APA 7th reference string into its components."""
    text = normalise_text(text)
    ref = ParsedReference()
    m = _YEAR_RE.search(text)
    if not m:
        ref.unparsed = _strip_period(text)
        return ref
    ref.authors = parse_authors(text[: m.start()])
    ref.year = m["year"]
    rest = text[m.end() :].strip()

    doi = _DOI_RE.search(rest)
    if doi:
        ref.doi = doi["doi"]
        rest = rest[: doi.start()].strip()
    else:
        url = _URL_RE.search(rest)
        if url:
            ref.url = url["url"]
            rest = rest[: url.start()].strip()
    rest = _strip_period(rest) or ""

    # The title ends at the first ". " (or "? ", "! ") after which the rest
    # parses as a source element; titles may themselves contain ". ".
    for cand in _SPLIT_CANDIDATE_RE.finditer(rest):
        source = rest[cand.end() :]
        parts = _parse_source(source)
        if parts is None:
            continue
        punct = cand.group(0)[0]
        ref.title = rest[: cand.start()] + ("" if punct == "." else punct)
        for name, value in parts.items():
            setattr(ref, name, _strip_period(value) if value else None)
        return ref
    ref.unparsed = rest or None
    return ref


def _fmt(value) -> str:
    return "None" if value is None else repr(value)


def _compare_authors(rendered: list[str], published: list[str]) -> list[str]:
    r = apa_truncate_authors(rendered)
    p = apa_truncate_authors(published)
    if r == p:
        return []
    diffs: list[str] = []
    if len(r) != len(p):
        diffs.append(
            f"author count differs: rendered {len(r)} vs published {len(p)} (rendered {r!r} vs published {p!r})"
        )
        return diffs
    for i, (a, b) in enumerate(zip(r, p, strict=False), start=1):
        if a != b:
            diffs.append(f"author {i} differs: rendered {a!r} vs published {b!r}")
    return diffs


def compare(rendered: str, published: str, key: str = "") -> list[str]:
    """Return human-readable differences between two APA references.

    The list is empty when both are equal after the documented
    normalisations (see ``NORMALISATIONS``).
    """
    prefix = f"{key}: " if key else ""
    r = parse_reference(rendered)
    p = parse_reference(published)
    diffs = [prefix + d for d in _compare_authors(r.authors, p.authors)]
    if r.kind != p.kind and r.kind and p.kind:
        diffs.append(f"{prefix}reference type differs: rendered {r.kind} vs published {p.kind}")
    for name in ParsedReference.COMPARED:
        a, b = getattr(r, name), getattr(p, name)
        if a == b:
            continue
        if a is None:
            diffs.append(f"{prefix}{name} missing in rendered (published {b!r})")
        elif b is None:
            diffs.append(f"{prefix}{name} not in published (rendered {a!r})")
        else:
            diffs.append(f"{prefix}{name} differs: rendered {a!r} vs published {b!r}")
    return diffs


def compare_all(rendered: dict[str, str], published: list[dict]) -> list[str]:
    """Compare every published entry ({'key', 'published'}) with its rendering.

    Also reports published keys that were not rendered and rendered keys that
    are not in the published list.
    """
    diffs: list[str] = []
    published_keys = [item["key"] for item in published]
    for item in published:
        key = item["key"]
        if key not in rendered:
            diffs.append(f"{key}: not rendered")
            continue
        diffs.extend(compare(rendered[key], item["published"], key))
    for key in rendered:
        if key not in published_keys:
            diffs.append(f"{key}: rendered but not in the published list")
    return diffs
