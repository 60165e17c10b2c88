"""What a Quarto paper carries that pandoc alone does not read: shortcodes and executable code chunks.

Quarto expands ``{{< var name >}}`` before pandoc sees the text, from ``_variables.yml``; so does press.
Any other shortcode (``{{< video … >}}``, ``{{< include … >}}``, ``{{< embed … >}}``) is Quarto's
own, and would reach every output as its raw text: an error at its line, with what to write instead.
An executable code chunk (```` ```{python} ````) is shown as code, never run: a warning.
"""

from __future__ import annotations

import re
from typing import Any

from .model import Diagnostic, LineIndex, error, warning
from .project import Project

SHORTCODE = re.compile(r"\{\{<\s*(?P<name>[\w-]+)(?P<args>[^>]*?)\s*>\}\}")
CODE_CHUNK = re.compile(
    r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*\{(?P<engine>[A-Za-z][\w-]*)[^}\n]*\}[ \t]*$", re.MULTILINE
)
INSTEAD = {
    "include": "paste the included file's text in, or list it as a section of a press project",
    "embed": "save the cell's output as an image in figures/ and include it as ![caption](figures/...)",
    "video": "link to the video: [title](https://...)",
    "pagebreak": "leave it out: press lays out the pages",
}


def expand_shortcodes(text: str, project: Project, display: str) -> tuple[str, list[Diagnostic]]:
    """``text`` with its ``var`` shortcodes expanded, and what cannot be (other shortcodes, code chunks)."""
    found: list[Diagnostic] = []
    lines = LineIndex(text)
    if "{{<" in text:
        from .front_matter import quarto_variables

        variables = quarto_variables(project.source.parent)

        def expand(match: re.Match) -> str:
            line, column = lines.position(match.start())
            name, args = match.group("name"), match.group("args").strip()
            if name == "var":
                value = _lookup(variables, args)
                if value is not None:
                    return str(value)
                found.append(
                    error(
                        display,
                        line,
                        "quarto-shortcode",
                        f"variable '{args}' is not in _variables.yml",
                        "add it to _variables.yml beside the paper, or write its value here",
                        column=column,
                    )
                )
                return match.group(0)
            found.append(
                error(
                    display,
                    line,
                    "quarto-shortcode",
                    f"the Quarto shortcode '{name}' is expanded only by Quarto, and would be printed as it is",
                    INSTEAD.get(name, "write what it stands for in Markdown"),
                    column=column,
                )
            )
            return match.group(0)

        text = SHORTCODE.sub(expand, text)

    def chunk(match: re.Match) -> str:
        line, _ = lines.position(match.start())
        found.append(
            warning(
                display,
                line,
                "quarto-code-chunk",
                f"this {match.group('engine')} code chunk is shown as code: press runs no code",
                "run it (in Quarto or Jupyter), save what it makes as a figure or a table, and include that",
            )
        )
        # pandoc reads ```{python} as no fence at all: as a code block of that language it is shown as code.
        return f"{match.group('indent')}{match.group('fence')}{match.group('engine')}"

    return CODE_CHUNK.sub(chunk, text), found


def _lookup(variables: dict[str, Any], dotted: str) -> Any:
    value: Any = variables
    for part in dotted.strip("'\"").split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value if isinstance(value, str | int | float) and not isinstance(value, bool) else None
