"""The build record: what each output in build/ was made from, so an unchanged input is never rebuilt.

``build/.press-record.json`` holds, per output, the SHA-256 of its bytes and a fingerprint of every
input it depends on. An input is named by a key that says how to fingerprint it again:

- ``file:<path>``         SHA-256 of the file's bytes (``absent`` when it does not exist); the path is
                          relative to the project root when inside it, absolute otherwise
- ``listing:<dir>``       the sorted names of the files under a folder (a new template, a new .bib)
- ``package:<name>``      the installed version of a Python distribution
- ``pandoc``              pandoc's version
- ``toolchain``           SHA-256 of press's own source, so a changed toolchain rebuilds
- ``env:<NAME>``          an environment variable (SOURCE_DATE_EPOCH sets the article's date)
- ``option:<name>``       a build option (pdf_variant, the download links of the HTML)

Deciding that an output is up to date costs a few file hashes and no import of pandoc, Jinja2 or
WeasyPrint: this module needs the standard library only. Like Sphinx's environment and unlike make,
the decision rests on content, not on timestamps: touching a file without changing it rebuilds nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RECORD_NAME = ".press-record.json"
SCHEMA = 1
ABSENT = "absent"
TOOLCHAIN_DIR = Path(__file__).resolve().parent


@dataclass
class OutputRecord:
    """One output as it was last written: its bytes' hash and the fingerprint of each input."""

    format: str
    file: str  # name inside the output folder
    sha256: str
    size: int
    inputs: dict[str, str]
    warnings: list[dict[str, Any]] = field(default_factory=list)  # diagnostics of the build that wrote it
    # Files published beside it that it uses (the page's fonts and figures): name -> SHA-256.
    assets: dict[str, str] = field(default_factory=dict)


@dataclass
class BuildRecord:
    outputs: dict[str, OutputRecord] = field(default_factory=dict)
    pandoc: dict[str, Any] = field(default_factory=dict)  # binary path, size, mtime and its version

    def as_json(self) -> str:
        data = {
            "schema": SCHEMA,
            "pandoc": self.pandoc,
            "outputs": {fmt: vars(out) for fmt, out in sorted(self.outputs.items())},
        }
        return json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def record_path(out_dir: Path) -> Path:
    return out_dir / RECORD_NAME


def read_record(out_dir: Path) -> BuildRecord:
    """The record in ``out_dir``; an empty one when there is none or it cannot be read (rebuild all)."""
    try:
        data = json.loads(record_path(out_dir).read_text(encoding="utf-8"))
        if data.get("schema") != SCHEMA:
            return BuildRecord()
        outputs = {fmt: OutputRecord(**entry) for fmt, entry in data["outputs"].items()}
        return BuildRecord(outputs, data.get("pandoc", {}))
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return BuildRecord()


def write_record(out_dir: Path, record: BuildRecord) -> None:
    """Replace the record atomically (temporary file, then rename), after the outputs are published."""
    from .publish import replace

    replace(out_dir, RECORD_NAME, record.as_json().encode("utf-8"))


def sha256_file(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return ABSENT


def input_path_key(path: Path, root: Path) -> str:
    """The ``file:`` key of a path: relative to the project when inside it, so a moved project still matches."""
    path = path.resolve()
    try:
        return "file:" + path.relative_to(root.resolve()).as_posix()
    except ValueError:
        return "file:" + path.as_posix()


def listing(folder: Path) -> str:
    """Hash of the sorted relative names of every file under ``folder`` (``absent`` when missing)."""
    if not folder.is_dir():
        return ABSENT
    names = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    return hashlib.sha256("\n".join(names).encode("utf-8")).hexdigest()


_versions: dict[str, str] | None = None


def installed_versions() -> dict[str, str]:
    """Version of each installed distribution, by normalized name, read from the dist-info folder names.

    Listing site-packages is far cheaper than importing importlib.metadata, whose import alone
    would be a large share of the no-op build's budget.
    """
    global _versions  # the installed set cannot change under a running process in any way we honour
    if _versions is None:
        found: dict[str, str] = {}
        for entry in sys.path:
            try:
                names = os.listdir(entry or ".")
            except OSError:
                continue
            for name in names:
                if name.endswith(".dist-info") and "-" in name:
                    dist, version = name[: -len(".dist-info")].split("-", 1)
                    found.setdefault(normalize(dist), version)
        _versions = found
    return _versions


def normalize(name: str) -> str:
    return name.lower().replace("-", "_").replace(".", "_")


def package_version(name: str) -> str:
    version = installed_versions().get(normalize(name))
    if version is None:
        from importlib import metadata  # an install layout without dist-info folders (e.g. eggs)

        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            version = ABSENT
    return version


_toolchain_hash: str | None = None


def toolchain_hash() -> str:
    """SHA-256 over press's own Python source: a build made by other code is not up to date."""
    global _toolchain_hash  # the code a process runs is the code it loaded: hash it once
    if _toolchain_hash is None:
        digest = hashlib.sha256()
        for path in sorted(TOOLCHAIN_DIR.rglob("*.py")):
            digest.update(path.relative_to(TOOLCHAIN_DIR).as_posix().encode() + b"\0")
            digest.update(path.read_bytes())
        _toolchain_hash = digest.hexdigest()
    return _toolchain_hash


def pandoc_state(known: dict[str, Any]) -> dict[str, Any]:
    """pandoc's binary and version; the version is asked of pandoc only when the binary changed."""
    path = known.get("path")
    if path:
        try:
            stat = os.stat(path)
            if [stat.st_size, stat.st_mtime_ns] == known.get("stat"):
                return known
        except OSError:
            pass
    from . import pandoc

    path = pandoc.pandoc_path()
    stat = os.stat(path)
    return {"path": path, "stat": [stat.st_size, stat.st_mtime_ns], "version": pandoc.pandoc_version()}


class Fingerprints:
    """The current fingerprint of any input key, each computed at most once per build."""

    def __init__(self, root: Path, options: dict[str, str], pandoc_known: dict[str, Any] | None = None):
        self.root = root.resolve()
        self.options = options
        self.pandoc_known = pandoc_known or {}
        self._cache: dict[str, str] = {}

    def pandoc(self) -> dict[str, Any]:
        self.pandoc_known = pandoc_state(self.pandoc_known)
        return self.pandoc_known

    def __getitem__(self, key: str) -> str:
        if key not in self._cache:
            self._cache[key] = self._compute(key)
        return self._cache[key]

    def _compute(self, key: str) -> str:
        kind, _, name = key.partition(":")
        if kind == "file":
            return sha256_file(self.root / name)  # an absolute name stays absolute under "/"
        if kind == "listing":
            return listing(self.root / name)
        if kind == "package":
            return package_version(name)
        if kind == "pandoc":
            return self.pandoc()["version"]
        if kind == "toolchain":
            return toolchain_hash()
        if kind == "env":
            return os.environ.get(name, "")
        if kind == "option":
            return self.options.get(name, "")
        if kind == "python":
            return sys.version.split()[0]
        return f"unknown input kind {kind!r}"  # a record from another version: never equal, so rebuild

    def prime(self, folders: Iterable[Path]) -> None:
        """Fingerprint every file under ``folders`` now, so later lookups give the content of this moment."""
        for folder in folders:
            if folder.is_dir():
                for path in folder.rglob("*"):
                    if path.is_file():
                        self[input_path_key(path, self.root)]

    def snapshot(self, keys: Iterable[str]) -> dict[str, str]:
        return {key: self[key] for key in sorted(set(keys))}


def why_stale(
    entry: OutputRecord | None, out_dir: Path, fingerprints: Fingerprints, describe: Callable[[str], str] = str
) -> str | None:
    """None when the output is up to date; otherwise the first reason it must be rebuilt."""
    if entry is None:
        return "not built before"
    output = out_dir / entry.file
    try:
        size = output.stat().st_size
    except OSError:
        return "output missing"
    if size != entry.size or sha256_file(output) != entry.sha256:
        return "output changed since it was built"
    for name, digest in entry.assets.items():
        if sha256_file(out_dir / name) != digest:
            return f"{name} changed since it was built"
    for key, fingerprint in entry.inputs.items():
        if fingerprints[key] != fingerprint:
            return f"{describe(key)} changed"
    return None


def describe_key(key: str) -> str:
    """An input key as a reader would say it: ``file:manuscript/a.md`` -> ``manuscript/a.md``."""
    kind, _, name = key.partition(":")
    if kind in ("file", "listing"):
        return name
    if kind == "toolchain":
        return "the press toolchain"
    return key
