"""The Jinja2 environment: autoescaping HTML and XML, undefined names are errors."""

from __future__ import annotations

import functools
from pathlib import Path

import jinja2

from .load import display_path
from .model import PressError, Templates, error


@functools.cache
def environment(templates: Templates) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(folder) for folder in templates.dirs]),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html", "xml", "htm"), default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render(templates: Templates, name: str, **context) -> str:
    """Render a template; a broken template becomes a diagnostic naming its file and line."""
    try:
        return environment(templates).get_template(name).render(**context)
    except jinja2.TemplateSyntaxError as exc:
        where = Path(exc.filename) if exc.filename else templates / (exc.name or name)
        raise PressError(
            [error(display_path(where), exc.lineno, "template-syntax", f"template syntax error: {exc.message}")]
        ) from None
    except jinja2.TemplateNotFound as exc:
        raise PressError(
            [
                error(
                    display_path(templates / str(exc.name)),
                    None,
                    "template-missing",
                    f"template '{exc.name}' not found in " + " or ".join(display_path(d) for d in templates.dirs),
                )
            ]
        ) from None
    except jinja2.UndefinedError as exc:
        raise PressError(
            [
                error(
                    display_path(templates / name),
                    _template_line(exc),
                    "template-undefined",
                    f"template uses an undefined value: {exc.message}",
                )
            ]
        ) from None


def _template_line(exc: Exception) -> int | None:
    tb = exc.__traceback__
    line = None
    while tb is not None:
        if (
            tb.tb_frame.f_code.co_filename.endswith((".html", ".xml", ".css"))
            or "template" in tb.tb_frame.f_code.co_name
        ):
            line = tb.tb_lineno
        tb = tb.tb_next
    return line
