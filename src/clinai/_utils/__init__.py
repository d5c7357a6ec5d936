"""Small helpers every layer may use: atomic writes, hashing, JSON encoding."""

from __future__ import annotations

from clinai._utils._io import (
    atomic_write_bytes,
    atomic_write_text,
    redact_url,
    sha256_file,
    sha256_text,
    to_jsonable,
)

__all__ = [
    "atomic_write_bytes",
    "atomic_write_text",
    "redact_url",
    "sha256_file",
    "sha256_text",
    "to_jsonable",
]
