"""Synthetic manuscripts N times the size of a real one, for benchmarks: generated, never committed.

``scaled_project(source, target, factor)`` writes a project whose sections and references are both
``factor`` times the source's: copy k of every section cites copy k of every reference, and copy k
of every heading, table and figure has ids of its own, so the checks pass and cross-references
resolve as in the original. Each copy's references have first authors of their own (no author-year
collisions, so citeproc does no more disambiguation than on the original) and DOIs of their own (a
DOI under two keys is an error). The abstract stays single; the journal limits are scaled.

    .venv/bin/python benchmarks/synthetic.py 10 /tmp/ten-times   # from the shipped manuscript
"""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import yaml
from pybtex.database import BibliographyData, Entry, Person, parse_file

TOOLCHAIN = Path(__file__).resolve().parent.parent
CROSSREF_ID = re.compile(r"(?<=[#@])((?:sec|tbl|fig):[\w-]+)")
SYLLABLES = ("ka", "lo", "mi", "ne", "ru", "sa", "to", "vi", "we", "zo")


def copy_suffix(copy: int) -> str:
    return "" if copy == 1 else f"c{copy}"


def family_suffix(copy: int) -> str:
    """A pronounceable, distinct tail for the first author's family name in each copy: Smith -> Smithkalo."""
    if copy == 1:
        return ""
    digits = f"{copy:02d}"
    return "".join(SYLLABLES[int(d)] for d in digits)


def scale_bibliography(source: Path, target: Path, factor: int) -> dict[str, list[str]]:
    """Write ``factor`` copies of every entry; return original key -> its key in each copy."""
    data = parse_file(str(source), bib_format="bibtex")
    if factor == 1:  # the file itself, byte for byte
        shutil.copy(source, target)
        return {key: [key] for key in data.entries}
    out = BibliographyData()
    keys: dict[str, list[str]] = {key: [] for key in data.entries}
    for copy in range(1, factor + 1):
        for key, entry in data.entries.items():
            new_key = key + copy_suffix(copy)
            fields = dict(entry.fields)
            if copy > 1 and "doi" in fields:
                fields["doi"] = f"{fields['doi']}.{copy_suffix(copy)}"
            persons = {role: [Person(str(p)) for p in people] for role, people in entry.persons.items()}
            if copy > 1 and persons.get("author"):
                first = persons["author"][0]
                first.last_names = [*first.last_names[:-1], first.last_names[-1] + family_suffix(copy)]
            out.entries[new_key] = Entry(entry.type, fields=fields, persons=persons)
            keys[key].append(new_key)
    target.write_text(out.to_string("bibtex"), encoding="utf-8")
    return keys


def scale_section(text: str, copy: int, keys: dict[str, list[str]]) -> str:
    """Copy ``copy`` of a section: its citations point at that copy's references, its ids are its own."""
    if copy == 1:
        return text
    suffix = "-" + copy_suffix(copy)
    text = CROSSREF_ID.sub(lambda m: m.group(1) + suffix, text)
    pattern = re.compile(r"(?<=@)(" + "|".join(sorted(map(re.escape, keys), key=len, reverse=True)) + r")\b")
    return pattern.sub(lambda m: keys[m.group(1)][copy - 1], text)


def scaled_project(source: Path, target: Path, factor: int) -> Path:
    """A project at ``target`` with ``factor`` times the sections and references of ``source``."""
    if target.exists():
        shutil.rmtree(target)
    (target / "manuscript").mkdir(parents=True)
    (target / "bib").mkdir()
    metadata_text = (source / "manuscript" / "metadata.yaml").read_text(encoding="utf-8")
    metadata = yaml.safe_load(metadata_text)
    bib_names = metadata.get("bibliography") or [p.name for p in sorted((source / "bib").glob("*.bib"))]
    keys: dict[str, list[str]] = {}
    for name in bib_names:
        keys.update(scale_bibliography(source / "bib" / name, target / "bib" / name, factor))
    if metadata.get("abstract"):
        shutil.copy(source / "manuscript" / metadata["abstract"], target / "manuscript" / metadata["abstract"])
    sections = []
    for copy in range(1, factor + 1):
        for name in metadata["sections"]:
            text = (source / "manuscript" / name).read_text(encoding="utf-8")
            new_name = name if copy == 1 else f"{copy_suffix(copy)}-{name}"
            (target / "manuscript" / new_name).write_text(scale_section(text, copy, keys), encoding="utf-8")
            sections.append(new_name)
    metadata["sections"] = sections
    limits = (metadata.get("journal") or {}).get("limits") or {}
    for name, value in limits.items():
        if name != "abstract_words" and isinstance(value, int):
            limits[name] = value * factor
    (target / "manuscript" / "metadata.yaml").write_text(
        yaml.safe_dump(metadata, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    if (source / "templates").is_dir():
        shutil.copytree(source / "templates", target / "templates")
    return target


def word_count(project: Path) -> int:
    """Words in the abstract and sections, split on white space: the same measure at every size."""
    metadata = yaml.safe_load((project / "manuscript" / "metadata.yaml").read_text(encoding="utf-8"))
    names = ([metadata["abstract"]] if metadata.get("abstract") else []) + metadata["sections"]
    return sum(len((project / "manuscript" / n).read_text(encoding="utf-8").split()) for n in names)


if __name__ == "__main__":
    factor, target = int(sys.argv[1]), Path(sys.argv[2])
    project = scaled_project(TOOLCHAIN, target, factor)
    print(f"{project}: {factor}x, {word_count(project)} words")
