"""A folder written in full or not at all: staged beside its target, renamed when complete.

``clinai validate``, ``clinai validate-survival`` and ``clinai meta-analyse`` each write a
whole output folder (metrics, reports, ``audit.json``). They build it under a hidden name
next to the target and rename it into place only when every file is written, so a failure
(or Ctrl-C) never leaves a folder that looks complete.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["staged_folder"]


@contextmanager
def staged_folder(target: Path) -> Iterator[Path]:
    """Yield a hidden folder beside ``target``, renamed to ``target`` when the block succeeds.

    A failure anywhere in the block removes it: no folder that looks complete is left.

    Parameters
    ----------
    target : pathlib.Path
        The output folder; it must not exist or be empty (an empty one is replaced).

    Yields
    ------
    pathlib.Path
        The staging folder to write into (its name is random, so two writers never share it).

    Examples
    --------
    >>> import tempfile
    >>> target = Path(tempfile.mkdtemp()) / "out"
    >>> with staged_folder(target) as staging:
    ...     _ = (staging / "a.txt").write_text("a")
    >>> sorted(p.name for p in target.parent.iterdir()), (target / "a.txt").read_text()
    (['out'], 'a')
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.parent / f".{target.name}.tmp-{secrets.token_hex(4)}"
    staging.mkdir()
    try:
        yield staging
        if target.exists():  # an empty folder given as --out
            target.rmdir()
        os.replace(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)  # gone already after a successful rename
