"""The reviewed strings of the model card and the validation report, one file per language.

Headings and clinical terms are never translated on the fly: they come from
``locales/<language>.yaml`` (package data), which a clinician fluent in the
language has reviewed. Every language file holds the same keys as ``en.yaml``;
a key missing from a language falls back to English.
"""

from __future__ import annotations

import functools
import logging
from importlib import resources
from types import MappingProxyType
from typing import Any

__all__ = ["get_language_names", "get_strings"]

logger = logging.getLogger(__name__)

_UNKNOWN_LANGUAGE = (
    "The 'language' parameter must be one of {valid} (see clinai.reporting.get_language_names()). "
    "Got {got!r} instead."
)


def get_language_names() -> list[str]:
    """Return the languages that model cards and reports can be written in.

    Returns
    -------
    list of str
        ISO 639-1 codes, sorted, e.g. ``["da", "en"]``.

    Examples
    --------
    >>> from clinai.reporting import get_language_names
    >>> "da" in get_language_names() and "en" in get_language_names()
    True
    """
    folder = resources.files("clinai.reporting").joinpath("locales")
    return sorted(
        entry.name.removesuffix(".yaml")
        for entry in folder.iterdir()
        if entry.name.endswith(".yaml")
    )


@functools.lru_cache(maxsize=8)
def _load(language: str) -> dict[str, str]:
    import yaml

    text = (
        resources.files("clinai.reporting")
        .joinpath("locales", f"{language}.yaml")
        .read_text(encoding="utf-8")
    )
    data: Any = yaml.safe_load(text)
    if not isinstance(data, dict):  # pragma: no cover - guarded by the tests of the files
        raise ValueError(f"locales/{language}.yaml must be a mapping of strings")
    return {str(key): str(value) for key, value in data.items()}


def get_strings(language: str) -> MappingProxyType[str, str]:
    """Return the reviewed strings of ``language``, falling back to English per key.

    Parameters
    ----------
    language : str
        A code from :func:`get_language_names`.

    Returns
    -------
    mappingproxy
        Read-only mapping from string key (e.g. ``"intended_use"``) to text.

    Raises
    ------
    ValueError
        If ``language`` has no strings file.
    """
    valid = get_language_names()
    if language not in valid:
        raise ValueError(_UNKNOWN_LANGUAGE.format(valid=valid, got=language))
    strings = dict(_load("en"))
    if language != "en":
        own = _load(language)
        missing = sorted(set(strings) - set(own))
        if missing:
            logger.warning("locales/%s.yaml lacks %s; using English for those", language, missing)
        strings.update(own)
    return MappingProxyType(strings)
