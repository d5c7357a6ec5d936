"""Background threads for I/O, and numpy's huge-page switch."""

from __future__ import annotations

import threading

import pytest

from clinai._utils import BackgroundCalls, ordinary_pages, prefetched


def test_prefetched_yields_every_item_in_order_from_another_thread() -> None:
    producers: set[str] = set()

    def items():
        for i in range(5):
            producers.add(threading.current_thread().name)
            yield i

    assert list(prefetched(items(), depth=2)) == [0, 1, 2, 3, 4]
    assert producers and threading.current_thread().name not in producers


def test_prefetched_raises_where_the_source_failed() -> None:
    def items():
        yield 1
        raise ValueError("row group 2 is corrupt")

    got = prefetched(items())
    assert next(got) == 1
    with pytest.raises(ValueError, match="row group 2 is corrupt"):
        next(got)


def test_background_calls_run_in_order_and_report_the_first_error() -> None:
    done: list[int] = []
    calls = BackgroundCalls(depth=2)
    for i in range(6):
        calls.submit(done.append, i)
    calls.wait()
    assert done == list(range(6))

    def fail(message: str) -> None:
        raise OSError(message)

    calls.submit(fail, "disk full")
    with pytest.raises(OSError, match="disk full"):
        calls.wait()
    calls.close()


def test_ordinary_pages_turns_the_advice_off_and_restores_it() -> None:
    multiarray = pytest.importorskip("numpy._core.multiarray")
    switch = multiarray._set_madvise_hugepage
    before = switch(True)
    try:
        with ordinary_pages():
            assert switch(False) is False  # the advice was off inside the block
        assert switch(True) is True  # and on again after it
    finally:
        switch(before)
