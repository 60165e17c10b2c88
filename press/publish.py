"""Atomic publication of outputs: write beside the target, then rename; never a half-written file."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

TEMP_PREFIX = ".press-tmp-"


def clean_stale(out_dir: Path) -> None:
    """Remove temporary files left behind by a killed run, in the folder and its subfolders (assets)."""
    if out_dir.is_dir():
        folders = [out_dir, *(p for p in out_dir.iterdir() if p.is_dir() and not p.is_symlink())]
        for folder in folders:
            for stale in folder.glob(TEMP_PREFIX + "*"):
                stale.unlink(missing_ok=True)


def stage(out_dir: Path, name: str, data: bytes, durable: bool = True) -> Path:
    """Write ``data`` to a temporary file beside ``out_dir/name`` and return its path (not yet published).

    ``name`` may lie in a subfolder (``fonts/x.woff2``): the folder is made, the file is not yet there.
    ``durable``: on disk before it is renamed (fsync), so that a crash leaves the old file or the new
    one; without, a crash may leave a torn file, for what is checked when it is read back.
    """
    folder = (out_dir / name).parent
    folder.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f"{TEMP_PREFIX}{Path(name).name}.", dir=folder)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.chmod(temp, 0o644)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return Path(temp)


def publish(staged: dict[Path, Path]) -> None:
    """Rename every staged file onto its target: each rename is atomic."""
    for target, temp in staged.items():
        os.replace(temp, target)


def replace(out_dir: Path, name: str, data: bytes, durable: bool = True) -> None:
    """Replace ``out_dir/name`` with ``data`` at once: staged beside it, then renamed (see ``stage``)."""
    os.replace(stage(out_dir, name, data, durable), out_dir / name)


def discard(staged: dict[Path, Path]) -> None:
    for temp in staged.values():
        temp.unlink(missing_ok=True)


@contextlib.contextmanager
def build_lock(out_dir: Path) -> Iterator[None]:
    """One build at a time per output folder: a second one waits, saying so, rather than interleave.

    The lock file lives in the system's temporary folder (named from the output folder's path), so a
    build that fails before writing leaves the output folder as it was, not even created.
    """
    key = hashlib.sha256(str(out_dir.resolve()).encode()).hexdigest()[:16]
    path = Path(tempfile.gettempdir()) / f"press-build-{key}.lock"
    with open(path, "a+b") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"another build is writing to {out_dir}; waiting for it to finish", file=sys.stderr, flush=True)
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
