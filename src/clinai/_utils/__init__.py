"""Small helpers every layer may use: atomic writes, hashing, JSON encoding, threads."""

from __future__ import annotations

from clinai._utils._io import (
    atomic_write_bytes,
    atomic_write_text,
    redact_url,
    sha256_file,
    sha256_text,
    to_jsonable,
)
from clinai._utils._memory import ordinary_pages
from clinai._utils._numbers import finite_float
from clinai._utils._threads import BackgroundCalls, prefetched

__all__ = [
    "BackgroundCalls",
    "atomic_write_bytes",
    "atomic_write_text",
    "finite_float",
    "ordinary_pages",
    "prefetched",
    "redact_url",
    "sha256_file",
    "sha256_text",
    "to_jsonable",
]
