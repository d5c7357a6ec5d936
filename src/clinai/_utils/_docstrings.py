"""Docstring placeholders filled from a table of shared numpydoc text, for any layer.

A layer whose public functions document the same arguments (or a whole section) in
the same words keeps each block once, in a read-only mapping, and decorates those
functions with ``doc_filler(blocks, table)``: each docstring line holding only
``{name}`` becomes the block ``name``, indented as the placeholder is, when the
module is imported (as pandas' ``doc`` decorator does). A block's own lines may name
other blocks. ``help()``, IDEs and the doctests read the filled text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

__all__ = ["UNKNOWN_BLOCK", "doc_filler"]

_F = TypeVar("_F", bound=Callable[..., Any])

# worded as clinai.evaluation._docstrings.UNKNOWN_BLOCK_MSG, so that fill_doc may use this
UNKNOWN_BLOCK = (
    "the docstring of {owner} names the shared block {{{name}}}, which {table} does not define"
)

# a line holding only a placeholder: its indentation, then ``{name}``
_PLACEHOLDER = re.compile(r"^(?P<indent>[ ]*)\{(?P<name>\w+)\}[ ]*$", re.MULTILINE)


def doc_filler(blocks: Mapping[str, str], table: str) -> Callable[[_F], _F]:
    r"""Return a decorator that fills a function's placeholder lines from ``blocks``.

    Parameters
    ----------
    blocks : mapping of str to str
        The shared text by placeholder name, unindented.
    table : str
        Where ``blocks`` is defined, for the message of a misspelt placeholder.

    Returns
    -------
    callable
        A decorator returning the function itself, its ``__doc__`` filled (left
        as it is when Python runs with ``-OO``, which drops docstrings). It raises
        ``KeyError`` at import when a docstring names a block ``blocks`` lacks.

    Examples
    --------
    >>> fill = doc_filler({"x": "x : float\n    The value."}, "example")
    >>> @fill
    ... def f(x):
    ...     '''Return x.
    ...
    ...     {x}
    ...     '''
    >>> print(f.__doc__.splitlines()[2:4])
    ['    x : float', '        The value.']
    """

    def filled(text: str, owner: str) -> str:
        def block(match: re.Match[str]) -> str:
            name, indent = match["name"], match["indent"]
            if name not in blocks:
                raise KeyError(UNKNOWN_BLOCK.format(owner=owner, name=name, table=table))
            lines = filled(blocks[name], owner).splitlines()
            # a blank line stays blank: a block may hold several sections
            return "\n".join(indent + line if line else line for line in lines)

        return _PLACEHOLDER.sub(block, text)

    def decorate(func: _F) -> _F:
        if func.__doc__ is not None:
            func.__doc__ = filled(func.__doc__, func.__qualname__)
        return func

    return decorate
