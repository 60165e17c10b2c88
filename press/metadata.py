"""Load and validate the manuscript's metadata YAML, keeping the line of every field.

The fields, their types and their meanings are the JSON Schema in press.metadata_schema; ``validate``
checks a mapping read from any source against it, ``load_metadata`` reads manuscript/metadata.yaml.
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from .codes import LEVELS
from .metadata_schema import SCHEMA, SCHEMAS
from .model import Author, Diagnostic, JournalProfile, License, Metadata, PressError, error, unprintable

if TYPE_CHECKING:
    from .kept import Memo

LICENSES: dict[str, License] = {
    "CC-BY-4.0": License(
        "CC-BY-4.0",
        "Creative Commons Attribution 4.0 International License",
        "https://creativecommons.org/licenses/by/4.0/",
        "CC BY 4.0",
    ),
    "CC-BY-SA-4.0": License(
        "CC-BY-SA-4.0",
        "Creative Commons Attribution-ShareAlike 4.0 International License",
        "https://creativecommons.org/licenses/by-sa/4.0/",
        "CC BY-SA 4.0",
    ),
    "CC-BY-NC-4.0": License(
        "CC-BY-NC-4.0",
        "Creative Commons Attribution-NonCommercial 4.0 International License",
        "https://creativecommons.org/licenses/by-nc/4.0/",
        "CC BY-NC 4.0",
    ),
    "CC-BY-NC-ND-4.0": License(
        "CC-BY-NC-ND-4.0",
        "Creative Commons Attribution-NonCommercial-NoDerivatives 4.0 International License",
        "https://creativecommons.org/licenses/by-nc-nd/4.0/",
        "CC BY-NC-ND 4.0",
    ),
}


def slugify(text: str) -> str:
    """An ASCII file-name slug; python-slugify transliterates letters NFKD cannot (ł, ø, ß)."""
    from slugify import slugify as transliterating_slugify

    return transliterating_slugify(text) or "article"


class _Reader:
    """Turns a composed YAML node tree into plain values, remembering each field's line."""

    def __init__(self, display: str):
        self.display = display
        self.lines: dict[str, int] = {}
        self.diagnostics: list[Diagnostic] = []
        self.loader = yaml.SafeLoader("")
        self.open: set[int] = set()  # the mappings and lists being read, outermost first

    def value(self, node: yaml.Node, path: str) -> Any:
        self.lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode | yaml.SequenceNode):
            if id(node) in self.open:
                # An alias inside the very node it names (`x: &a [*a]`) would be read forever.
                self.err(node, "yaml-syntax", f"field '{path}' contains itself through an alias", "remove the alias")
                return None
            self.open.add(id(node))
            try:
                return self._collection(node, path)
            finally:
                self.open.discard(id(node))
        try:
            value = _scalar(self.loader, node)
        except yaml.constructor.ConstructorError:
            self.err(node, "yaml-syntax", f"field '{path}' has the YAML tag '{node.tag}', which is not supported")
            return None
        if isinstance(value, str) and (bad := unprintable(value)):
            self.err(
                node,
                "metadata-control-character",
                f"field '{path}' contains the control character {bad}",
                "delete it (it is invisible in most editors); no output format can carry it",
            )
        return value

    def _collection(self, node: yaml.MappingNode | yaml.SequenceNode, path: str) -> Any:
        if isinstance(node, yaml.MappingNode):
            result: dict[str, Any] = {}
            for key_node, value_node in node.value:
                key = str(key_node.value)
                child = f"{path}.{key}" if path else key
                if key in result:
                    self.err(key_node, "metadata-duplicate-field", f"field '{child}' is given twice")
                self.lines[child] = key_node.start_mark.line + 1
                result[key] = self.value(value_node, child)
            return result
        return [self.value(item, f"{path}[{i}]") for i, item in enumerate(node.value)]

    def err(self, node_or_line: Any, code: str, message: str, hint: str | None = None) -> None:
        line = (
            node_or_line if isinstance(node_or_line, int) or node_or_line is None else node_or_line.start_mark.line + 1
        )
        self.diagnostics.append(error(self.display, line, code, message, hint))


def _scalar(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    # Resolve the scalar with the safe loader's own rules (ints, bools, nulls; dates kept as text).
    try:
        value = loader.construct_object(node, deep=True)
    except ValueError:
        # Looks like a date but is none (2025-13-45): the text, which the schema then reports.
        return node.value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def load_metadata(path: Path, display: str, validated: Memo | None = None) -> Metadata:
    """Read and validate ``path``; raise PressError with every problem found.

    ``validated``: what earlier builds found valid (press.kept). Text found valid against this schema
    before is not validated again, so an unchanged metadata file costs no validator import.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PressError(
            [
                error(
                    display,
                    None,
                    "metadata-missing",
                    "metadata file not found",
                    "create manuscript/metadata.yaml (see README), or keep the paper as one Markdown file "
                    "with YAML front matter (python build.py paper.md)",
                )
            ]
        ) from None
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise PressError([error(display, line, "encoding", "file is not valid UTF-8")]) from None
    data, lines, problems = read_yaml(text, display)
    return validate_once(data, lines, display, path, problems, text, validated)


def validate_once(
    data: dict[str, Any],
    lines: dict[str, int],
    display: str,
    path: Path,
    problems: list[Diagnostic],
    text: str,
    validated: Memo | None,
) -> Metadata:
    """``validate``, skipped for a ``text`` (whatever the data was read from) found valid before."""
    key = validity_key(text) if validated is not None else ""
    if validated is not None and not problems and validated.get(key) == "valid":
        return validate(data, lines, display, path, schema=False)
    metadata = validate(data, lines, display, path, problems)
    if validated is not None:
        validated.put(key, "valid")
    return metadata


def read_yaml(
    text: str, display: str, what: str = "metadata"
) -> tuple[dict[str, Any], dict[str, int], list[Diagnostic]]:
    """The mapping ``text`` holds, the line of each of its fields (dotted paths), and the problems found
    reading it (duplicate fields, control characters); PressError when it is no YAML mapping."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        # "while scanning a quoted scalar" (context) is where the author must look; the problem mark
        # of an unclosed quote is the end of the file.
        mark = exc.context_mark or exc.problem_mark
        message = f"YAML syntax error: {exc.problem}"
        if exc.context:
            message += f" ({exc.context})"
        raise PressError(
            [
                error(
                    display,
                    mark.line + 1 if mark else None,
                    "yaml-syntax",
                    message,
                    column=mark.column + 1 if mark else None,
                )
            ]
        ) from None
    except yaml.YAMLError as exc:
        raise PressError([error(display, None, "yaml-syntax", f"YAML error: {exc}")]) from None
    reader = _Reader(display)
    if node is None or not isinstance(node, yaml.MappingNode):
        raise PressError(
            [
                error(
                    display,
                    1,
                    "metadata-not-mapping",
                    f"{what} must be a YAML mapping of fields (title:, authors:, ...)",
                )
            ]
        )
    data = reader.value(node, "")
    return data, reader.lines, reader.diagnostics


def validate(
    data: dict[str, Any],
    lines: dict[str, int],
    display: str,
    path: Path,
    found_while_reading: Iterable[Diagnostic] = (),
    schema: bool = True,
) -> Metadata:
    """The Metadata of ``data``, a mapping read from ``display`` (the file shown in messages).

    ``lines`` maps each dotted field path (``authors[0].orcid``) to its line; ``found_while_reading``
    are the reader's own problems (duplicate fields, control characters). Raises PressError with every
    problem, these included, ordered by line. ``schema=False`` only for data already found valid.
    """
    given = without_empty_fields(data)
    found = list(found_while_reading)
    found.extend(schema_diagnostics(given, lines, display) if schema else ())
    found.extend(_unknown_affiliations(given, lines, display))
    if found:
        unique = list(dict.fromkeys(found))  # one missing field fails 'required' once for each field missing
        raise PressError(sorted(unique, key=lambda d: d.line or 0))
    return _metadata(given, lines, path)


def validity_key(text: str, schema: str = "metadata") -> str:
    """What a verdict of "valid" rests on: the schema and the text (not pandoc: no pandoc output is kept)."""
    digest = hashlib.sha256(json.dumps(SCHEMAS[schema], sort_keys=True).encode())
    digest.update(b"\0" + text.encode("utf-8"))
    return digest.hexdigest()


def schema_diagnostics(
    given: dict[str, Any], lines: dict[str, int], display: str, schema: str = "metadata"
) -> list[Diagnostic]:
    """Every problem the schema named finds in ``given`` (empty fields left out), at its field's line."""
    return [
        found for problem in _validator(schema).iter_errors(given) for found in _diagnostics(problem, lines, display)
    ]


@functools.cache
def _validator(schema: str = "metadata") -> Any:
    # Imported here, not at the top: jsonschema's import is costly, and only a validation should pay it
    # (README, "Measured"); the validator is built once a process.
    import jsonschema

    cls = jsonschema.Draft202012Validator
    return cls(SCHEMAS[schema], format_checker=cls.FORMAT_CHECKER)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def without_empty_fields(value: Any) -> Any:
    """``value`` without the mapping entries left empty (``name:``, ``~``, blank text): such a field is not given."""
    if isinstance(value, dict):
        return {key: without_empty_fields(item) for key, item in value.items() if not _blank(item)}
    if isinstance(value, list):
        return [without_empty_fields(item) for item in value]
    return value


def _dotted(parts: Sequence[str | int]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _line(lines: dict[str, int], parts: Sequence[str | int]) -> int:
    """The line of the field at ``parts``, else of the nearest enclosing one that has a line."""
    for end in range(len(parts), -1, -1):
        line = lines.get(_dotted(parts[:end]))
        if line is not None:
            return line
    return 1


TYPE_WORDS = {
    "string": "text",
    "number": "a number",
    "integer": "a whole number",
    "boolean": "true or false",
    "array": "a list",
    "object": "a mapping",
}


def expected(node: dict[str, Any]) -> str:
    """What a value of schema ``node`` must be, in plain words ("true or false", "text or a list")."""
    if "x-expected" in node:
        return node["x-expected"]
    if "enum" in node:
        return "one of: " + ", ".join(str(value) for value in node["enum"])
    types = node["type"] if isinstance(node["type"], list) else [node["type"]]
    if "string" in types:  # a number where text is wanted is text to the author
        types = [t for t in types if t not in ("number", "integer")]
    words = " or ".join(TYPE_WORDS[t] for t in types)
    if "array" in types and node.get("minItems"):
        words = words.replace("a list", "a non-empty list")
    items = node.get("items", {})
    if "array" in types and "type" in items and not {"x-expected", "properties"} & items.keys():
        words += f" of {expected(items)}"
    if "minimum" in node and "maximum" in node:
        words += f" from {node['minimum']} to {node['maximum']}"
    elif "minimum" in node:
        words += f" of {node['minimum']} or more"
    return words


def _described(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return "blank" if not value.strip() else f"the text '{value if len(value) <= 60 else value[:57] + '...'}'"
    if isinstance(value, list):
        return "a list" if value else "an empty list"
    if isinstance(value, dict):
        return "a mapping"
    return "empty" if value is None else repr(value)


def _diagnostics(problem: Any, lines: dict[str, int], display: str) -> Iterator[Diagnostic]:
    """The diagnostics of one jsonschema ValidationError, at the line of the field it is about."""
    parts = list(problem.absolute_path)
    node = problem.schema
    if problem.validator == "additionalProperties" and problem.validator_value is False:
        allowed = sorted(node.get("properties", {}))
        for key in problem.instance:
            if key in allowed:
                continue
            close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
            hint = f"did you mean '{close[0]}'?" if close else "allowed fields: " + ", ".join(allowed)
            field = _dotted([*parts, key])
            yield error(
                display, _line(lines, [*parts, key]), "metadata-unknown-field", f"unknown field '{field}'", hint
            )
        return
    if problem.validator == "required":
        for name in problem.validator_value:
            if name in problem.instance:
                continue
            child = node["properties"][name]
            field = _dotted([*parts, name])
            state = "empty" if field in lines else "missing"  # an empty field was there, and has a line
            yield error(
                display,
                _line(lines, [*parts, name]),
                child.get("x-code", "metadata-missing-field"),
                f"field '{field}' is {state}; expected {expected(child)}",
                child.get("x-hint"),
            )
        return
    field = _dotted(parts)
    yield error(
        display,
        _line(lines, parts),
        node.get("x-code", "metadata-type"),
        f"field '{field}' is {_described(problem.instance)}; expected {expected(node)}",
        node.get("x-hint") or _hint(problem, node, parts),
    )


def _hint(problem: Any, node: dict[str, Any], parts: list[str | int]) -> str | None:
    value = problem.instance
    if problem.validator == "enum":
        close = difflib.get_close_matches(str(value), [str(v) for v in node["enum"]], n=1, cutoff=0.5)
        return f"did you mean '{close[0]}'?" if close else None
    if problem.validator != "type":
        return None
    types = node["type"] if isinstance(node["type"], list) else [node["type"]]
    if types == ["boolean"] and isinstance(value, str):
        return "write true or false without quotes"
    if "string" in types and isinstance(value, bool):
        return "YAML reads yes, no, on, off, true and false as true or false: put the text in quotes"
    if "array" in types and isinstance(value, str | int | float):
        key = next((p for p in reversed(parts) if isinstance(p, str)), "field")
        return f"e.g. {key}: [{value}]"
    return None


def _is_text(value: Any) -> bool:
    return isinstance(value, str | int | float) and not isinstance(value, bool)


def _unknown_affiliations(given: dict[str, Any], lines: dict[str, int], display: str) -> Iterator[Diagnostic]:
    """An author's affiliation id that is not under 'affiliations': what JSON Schema cannot say."""
    known = given.get("affiliations", {})
    authors = given.get("authors")
    if not isinstance(known, dict) or not isinstance(authors, list):
        return  # already a type error
    for i, raw in enumerate(authors):
        if not isinstance(raw, dict):
            continue
        ids = raw.get("affiliations", [])
        for aff in ids if isinstance(ids, list) else [ids]:
            if _is_text(aff) and str(aff) not in known:
                yield error(
                    display,
                    _line(lines, ["authors", i, "affiliations"]),
                    "metadata-unknown-affiliation",
                    f"author '{_text(raw.get('name'))}' names affiliation '{aff}', which is not under 'affiliations'",
                )


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _listed(value: Any) -> list[str]:
    """A field that takes one value or a list of them, as a list of texts."""
    return [str(item) for item in (value if isinstance(value, list) else [value])]


def _metadata(data: dict[str, Any], lines: dict[str, int], path: Path) -> Metadata:
    """The Metadata of ``data``, which the schema has found valid."""
    authors = []
    for raw in data["authors"]:
        raw = {"name": raw} if isinstance(raw, str) else raw
        orcid = _text(raw.get("orcid"))
        authors.append(
            Author(
                _text(raw["name"]) or "",
                _listed(raw.get("affiliations", [])),
                orcid.removeprefix("https://orcid.org/") if orcid else None,
                _text(raw.get("email")),
                bool(raw.get("corresponding", False)),
            )
        )
    copyright_ = data["copyright"]
    holders = copyright_.get("holders", "authors")
    journal = data.get("journal", {})
    title = _text(data["title"]) or ""
    return Metadata(
        path=path,
        title=title,
        short_title=_text(data.get("short_title")),
        subtitle=_text(data.get("subtitle")),
        slug=_text(data.get("slug")) or slugify(title),
        lang=_text(data.get("lang")) or "en",
        article_type=_text(data.get("article_type")),
        authors=authors,
        affiliations={str(k): str(v) for k, v in data.get("affiliations", {}).items()},
        keywords=[str(k) for k in data.get("keywords", [])],
        license=LICENSES[data["license"]],
        copyright_year=int(copyright_["year"]),
        copyright_holders=[a.name for a in authors] if holders == "authors" else _listed(holders),
        journal=JournalProfile(
            _text(journal.get("name")),
            _text(journal.get("csl")) or "apa",
            {k: int(v) for k, v in journal.get("limits", {}).items()},
            given=journal,  # press.profiles lays these over the journal profile's
        ),
        abstract_file=_text(data.get("abstract")),
        section_files=[str(s) for s in data["sections"]],
        bibliography_files=_listed(data["bibliography"]) if "bibliography" in data else [],
        date=_text(data.get("date")),
        declarations={k: str(v).strip() for k, v in data.get("declarations", {}).items()},
        allow_raw_html=bool(data.get("allow_raw_html", False)),
        lines=lines,
        check_levels={str(code): level for level in LEVELS for code in data.get("check", {}).get(level, [])},
    )


def field_table() -> str:
    """The README's table of the metadata fields, made from the schema's types and descriptions."""
    required = SCHEMA["required"]
    rows = [f"| `{name}` | {_meaning(node, name in required)} |" for name, node in SCHEMA["properties"].items()]
    return "\n".join(["| field | meaning |", "|---|---|", *rows]) + "\n"


def _meaning(node: dict[str, Any], required: bool, nested: bool = False) -> str:
    words = "one of " + ", ".join(f"`{v}`" for v in node["enum"]) if "enum" in node else expected(node)
    words += ", required" if required else ""
    text = f"({words}): {node['description']}" if nested else f"{words}: {node['description']}"
    fields = node.get("properties") or node.get("items", {}).get("properties")
    if not fields:
        return text
    needed = node.get("required") or node.get("items", {}).get("required", [])
    kinds = {expected(child) for child in fields.values()}
    if len(kinds) == 1 and not needed:  # alike fields (the limits, the declarations): one type for all
        listed = ", ".join(f"`{name}` ({child['description']})" for name, child in fields.items())
        return f"{text}: {listed}, each {kinds.pop()}"
    listed = "; ".join(f"`{name}` {_meaning(child, name in needed, nested=True)}" for name, child in fields.items())
    return f"{text}. Fields: {listed}"
