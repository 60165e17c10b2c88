"""Atomic publication of outputs: write beside the target, then rename; never a half-written file."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

TEMP_PREFIX = ".press-tmp-"


def clean_stale(out_dir: Path) -> None:
    """Remove temporary files left behind by a killed run."""
    if out_dir.is_dir():
        for stale in out_dir.glob(TEMP_PREFIX + "*"):
            stale.unlink(missing_ok=True)


def stage(out_dir: Path, name: str, data: bytes) -> Path:
    """Write ``data`` to a temporary file in ``out_dir`` and return its path (not yet published)."""
    fd, temp = tempfile.mkstemp(prefix=f"{TEMP_PREFIX}{name}.", dir=out_dir)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
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


def discard(staged: dict[Path, Path]) -> None:
    for temp in staged.values():
        temp.unlink(missing_ok=True)
