"""Journal profiles: a journal's defaults in one small YAML file, picked by ``journal: {profile: NAME}``.

A profile sets the CSL style, the limits, the declarations required, the article types, the review
layout of the submission (press.review), blinding and the reference list's heading. The metadata's
own ``journal`` fields override it field by field (``limits`` and ``review`` key by key), so changing
journal is one line. Profiles ship in press/profiles/; a project's ``journals/NAME.yaml`` adds one, or
replaces the shipped one of that name. Each file is validated against ``PROFILE_SCHEMA``
(press.metadata_schema) with the metadata's machinery: every problem at its file and line.
"""

from __future__ import annotations

import argparse
import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .metadata import read_yaml, schema_diagnostics, validity_key, without_empty_fields
from .model import JournalProfile, Metadata, PressError, ReviewLayout, display_path, error

if TYPE_CHECKING:
    from .kept import Memo

SHIPPED_DIR = Path(__file__).resolve().parent / "profiles"
PROJECT_DIR = "journals"  # a project's own profiles, beside manuscript/
DEFAULT = "default"


@dataclass(frozen=True)
class Profile:
    name: str
    path: Path
    description: str
    fields: dict[str, Any]  # as the schema found them valid, empty fields left out
    lines: dict[str, int]  # dotted field -> line in the file


def available(root: Path | None = None) -> dict[str, Path]:
    """Profile name -> its file: the shipped ones, and the project's, which win by name."""
    found = {path.stem: path for path in sorted(SHIPPED_DIR.glob("*.yaml"))}
    if root is not None:
        found |= {path.stem: path for path in sorted((root / PROJECT_DIR).glob("*.yaml")) if path.is_file()}
    return dict(sorted(found.items()))


def read_profile(name: str, path: Path, validated: Memo | None = None) -> Profile:
    """The profile in ``path``; PressError with each problem at its line.

    ``validated``: what earlier builds found valid (press.kept), as for the metadata: a profile found
    valid before is not validated again, so an unchanged one costs no validator import.
    """
    shown = display_path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PressError(
            [error(shown, None, "profile-unreadable", f"cannot read the journal profile: {exc}")]
        ) from None
    data, lines, problems = read_yaml(text, shown, "a journal profile")
    fields = without_empty_fields(data)
    key = validity_key(text, "profile") if validated is not None else ""
    if not (validated is not None and not problems and validated.get(key) == "valid"):
        problems += schema_diagnostics(fields, lines, shown, "profile")
    if problems:
        raise PressError(sorted(dict.fromkeys(problems), key=lambda d: d.line or 0))
    if validated is not None:
        validated.put(key, "valid")
    return Profile(name, path, str(fields["description"]).strip(), fields, lines)


def journal_for(metadata: Metadata, root: Path, validated: Memo | None = None) -> JournalProfile:
    """The journal's rules: the profile the metadata names (else the default), with the metadata's fields over it.

    ``validated``: the verdicts of earlier builds (read_profile).
    """
    given = metadata.journal.given
    name = str(given.get("profile") or DEFAULT).strip()
    profiles = available(root)
    if name not in profiles:
        close = difflib.get_close_matches(name, list(profiles), n=1, cutoff=0.5)
        raise PressError(
            [
                error(
                    display_path(metadata.path),
                    metadata.line_of("journal.profile"),
                    "metadata-profile",
                    f"unknown journal profile '{name}'",
                    f"did you mean '{close[0]}'?"
                    if close
                    else f"profiles: {', '.join(profiles)} (`python build.py profiles`), or add {PROJECT_DIR}/{name}.yaml",
                )
            ]
        )
    profile = read_profile(name, profiles[name], validated)
    fields = {**profile.fields, **given}
    fields["limits"] = {**profile.fields.get("limits", {}), **given.get("limits", {})}
    return JournalProfile(
        name=_text(fields.get("name")),
        csl=_text(fields.get("csl")) or "apa",
        limits={key: int(value) for key, value in fields["limits"].items()},
        profile=name,
        required_declarations=tuple(fields.get("required_declarations", ())),
        article_types=tuple(str(kind) for kind in fields.get("article_types", ())),
        blinded=bool(fields.get("blinded", True)),
        references_heading=_text(fields.get("references_heading")) or "References",
        review=_review(profile.fields.get("review", False), given.get("review")),
        given=given,
        profile_path=profile.path,
        profile_lines={key: line for key, line in profile.lines.items() if key not in _given_keys(given)},
    )


def _given_keys(given: dict[str, Any]) -> set[str]:
    keys = set(given)
    keys |= {f"limits.{key}" for key in given.get("limits", {})}
    return keys


def _review(profile: Any, given: Any) -> ReviewLayout | None:
    """The review layout: the metadata's ``review`` over the profile's; ``false`` in either is none."""
    if given is False or (given is None and profile is False):
        return None
    fields = {**(profile if isinstance(profile, dict) else {}), **(given if isinstance(given, dict) else {})}
    return ReviewLayout(**{key: float(v) if key == "line_spacing" else v for key, v in fields.items()})


def _text(value: Any) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text or None


def run(args: argparse.Namespace) -> int:
    """The ``profiles`` command: every journal profile this project can use, one a line."""
    root = args.root.resolve()
    listed = []
    for name, path in available(root).items():
        try:
            listed.append((name, read_profile(name, path).description, path))
        except PressError as exc:
            listed.append((name, f"(invalid: {exc.diagnostics[0].message})", path))
    width = max(len(name) for name, _d, _p in listed)
    for name, description, path in listed:
        own = "  [project]" if not path.is_relative_to(SHIPPED_DIR) else ""
        print(f"{name:<{width}}  {description}{own}")
    print(f"{len(listed)} profile(s); pick one with 'journal: {{profile: NAME}}' in the metadata")
    return 0
