"""YAML that refuses a key given twice in one mapping.

PyYAML's safe loader keeps the last of two equal keys without a word (YAML 1.1 leaves it to the
loader), so a hand-typed config with ``patient_id:`` written twice ran on the second value. A
config is short and typed by hand: a repeated key is always a mistake, so it stops the load.
Keys merged in with ``<<`` may be overridden, as YAML intends.
"""

from __future__ import annotations

from typing import Any

import yaml

__all__ = ["RepeatedKeyError", "load_unique"]

_MERGE_TAG = "tag:yaml.org,2002:merge"


class RepeatedKeyError(yaml.YAMLError):
    """A mapping gives the same key twice; ``lines`` are the 1-based lines of both."""

    def __init__(self, key: Any, lines: tuple[int, int]) -> None:
        super().__init__(f"key {key!r} given twice (lines {lines[0]} and {lines[1]})")
        self.key, self.lines = key, lines


class _UniqueKeyLoader(yaml.SafeLoader):
    """The safe loader, refusing a repeated key."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        if key_node.tag == _MERGE_TAG:
            continue
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        try:
            if key in seen:
                raise RepeatedKeyError(key, (seen[key], line))
            seen[key] = line
        except TypeError:  # an unhashable key: the safe loader reports it itself
            continue
    return loader.construct_mapping(node, deep=True)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load_unique(text: str) -> Any:
    """Parse YAML ``text`` as :func:`yaml.safe_load` does, refusing a repeated key.

    Raises
    ------
    RepeatedKeyError
        If a mapping gives one key twice.
    yaml.YAMLError
        If the text is not YAML.
    """
    return yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader subclass: safe
