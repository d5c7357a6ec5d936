"""Resampling counts for the fast bootstrap: exact multinomial draws into per-thread buffers."""

from __future__ import annotations

import mmap
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from clinai.evaluation.resampling._fast_layout import _Layout


#: Units per block of the blocked multinomial draw.
_BLOCK = 1 << 15
#: Largest resampling count the compact count buffers hold (uint8).
_COMPACT_MAX = np.iinfo(np.uint8).max


class CountOverflowError(ArithmeticError):
    """A unit was drawn more often than a compact (uint8) count buffer can hold.

    With ``n`` draws among ``n`` units a count is about Poisson(1), so a count
    above 255 has a probability of about ``1 / 256!`` per unit; when it happens,
    the chunk is drawn again, with the same seeds, into int64 buffers.
    """


def _buffer(shape: tuple[int, ...], dtype: type = np.float64) -> np.ndarray:
    """Allocate a zeroed array in ordinary 4 kB pages, for the large buffers of a thread.

    numpy asks the kernel for transparent huge pages on large arrays; where
    huge pages are only given on request (``defrag = madvise``, the common
    default), the first touch of each 2 MB page then waits for the kernel to
    compact memory. Measured on this project's 2-core VM: the first chunk of
    a worker took 1.7 s with numpy's allocation and 0.5 s with this one.
    """
    count = int(np.prod(shape))
    memory = mmap.mmap(-1, max(1, count * np.dtype(dtype).itemsize))
    return np.frombuffer(memory, dtype=dtype, count=count).reshape(shape)


def _multinomial_counts(
    rng: np.random.Generator, units: int, out: np.ndarray, out_float: np.ndarray | None = None
) -> None:
    """Write into ``out`` the counts of ``units`` draws with replacement among ``units`` units.

    An exact multinomial sample, drawn in cache-sized blocks: first how many of
    the draws fall in each block of :data:`_BLOCK` units (a multinomial over the
    blocks, with probabilities proportional to their sizes), then that many
    uniform draws within the block. Counting block by block keeps the counters
    in cache; one ``bincount`` over all units scatters at random over ``8 n``
    bytes and was twice as slow. A full block has ``2**15`` units, so a uniform
    draw in it is 15 random bits: four draws come from each 64-bit output of the
    generator (3.7 ns per draw with the count, against 8.6 ns for
    ``Generator.integers``, measured at ``n = 10^6``), counted by a compiled loop
    (:func:`~._fast_kernels.count_draws`). ``out_float``, if given,
    receives the same counts as float64. Raises :class:`CountOverflowError` when
    ``out`` is uint8 and a count does not fit.
    """
    from clinai.evaluation.resampling._fast_kernels import count_draws

    check = out.dtype == np.uint8 and units > _COMPACT_MAX
    scratch = np.empty(min(units, _BLOCK), dtype=np.int64)
    n_blocks = -(-units // _BLOCK)
    sizes = np.full(n_blocks, _BLOCK, dtype=np.int64)
    sizes[-1] = units - _BLOCK * (n_blocks - 1)
    totals = rng.multinomial(units, sizes / units)
    bits = rng.bit_generator
    start = 0
    for size, total in zip(sizes.tolist(), totals.tolist(), strict=True):
        if size == _BLOCK:
            draws = bits.random_raw(-(-total // 4)).view(np.uint16)[:total]
        else:
            draws = rng.integers(0, size, size=total)
        block = scratch[:size]
        count_draws(draws, _BLOCK - 1, block)
        if check and int(block.max()) > _COMPACT_MAX:
            raise CountOverflowError(int(block.max()))
        out[start : start + size] = block
        if out_float is not None:
            out_float[start : start + size] = block
        start += size


def _with_headroom(size: int) -> int:
    """Return ``size`` and a quarter more: the capacity a kept buffer is grown to.

    Grown to the exact size, a pass over monthly periods remapped every thread's
    buffers (about 240 MB each at 850,000 rows) whenever a month was a few rows larger
    than every earlier one (2-3 times in 12 months; 28- to 31-day months differ by
    11%): about 300,000 page faults in the 10^7-row benchmark. The headroom costs no
    memory until it is used (untouched pages of a mapping are not resident).
    """
    return size + size // 4


class _WorkspacePool:
    """Flat byte buffers of finished workspaces, for the next call's workspaces to reuse."""

    def __init__(self) -> None:
        self._free: list[dict[str, np.ndarray]] = []
        self._lock = threading.Lock()
        self._features: np.ndarray | None = None

    def take(self) -> dict[str, np.ndarray]:
        """Return a free set of buffers by name (empty when none is free)."""
        with self._lock:
            return self._free.pop() if self._free else {}

    def give(self, storage: dict[str, np.ndarray]) -> None:
        """Hand a set of buffers back once its workspace is done."""
        with self._lock:
            self._free.append(storage)

    def features(self, shape: tuple[int, int]) -> np.ndarray:
        """Return a float64 buffer of ``shape`` for a call's feature matrix, kept for the next call.

        The matrix (20 columns x the period's rows, 133 MB at 833,000 rows) was mapped
        afresh for every period: 12 x 33,000 page faults in a 10^7-row pass. The calls of
        one block run one after the other, so one buffer serves them all.
        """
        need = shape[0] * shape[1]
        with self._lock:
            if self._features is None or self._features.shape[0] < need:
                self._features = _buffer((_with_headroom(need),))
            return self._features[:need].reshape(shape)


_POOL: ContextVar[_WorkspacePool | None] = ContextVar("clinai_fast_bootstrap_pool", default=None)


@contextmanager
def reused_workspaces() -> Iterator[None]:
    """Keep the fast bootstrap's per-thread buffers from one call to the next in this block.

    Each call of :func:`~._fast_bootstrap.fast_replicates` otherwise maps its
    threads' buffers afresh (about 240 MB per thread at 850,000 rows) and pays a page
    fault per 4 kB on its first chunk, then unmaps them: about 0.3 s of CPU per
    thread and call. A monitoring pass bootstraps one period after another; inside
    this block the buffers of a finished call serve the next (grown when it needs
    more). The numbers are the same: every value a replicate reads is written by
    its own chunk first. Not shared between threads that call at the same time.
    """
    token = _POOL.set(_WorkspacePool())
    try:
        yield
    finally:
        _POOL.reset(token)


def current_pool() -> _WorkspacePool | None:
    """Return the pool of the enclosing :func:`reused_workspaces` block, if any."""
    return _POOL.get()


class _Workspace:
    """Buffers of one worker thread, reused from chunk to chunk.

    Arrays of chunk x n values are larger than what the C allocator recycles
    (32 MB), so allocating them per chunk would map fresh memory and pay a page
    fault per 4 kB every time (measured: a third of the time per replicate).
    The counts are held twice, as integers for the running sums (an integer
    ``cumsum`` is 4 times faster than a float one: no floating-point add latency
    chain) and as float64 for the matrix product, both written from the same
    cache-resident block. The integer counts, and the patients' counts they are
    gathered from, are uint8 by default (``compact``): the engine is limited by
    memory traffic (two threads on this project's 2-core VM ran no faster than
    one), and a patients' count vector of 700,000 bytes stays in a core's L2
    cache during the random gather, where int64 took 5.6 MB. With ``storage`` (a
    :class:`_WorkspacePool`'s set) the arrays are views of its byte buffers.
    """

    def __init__(
        self,
        layout: _Layout,
        size: int,
        *,
        compact: bool = True,
        storage: dict[str, np.ndarray] | None = None,
        fused: bool = False,
    ) -> None:
        n = layout.n1 + layout.n0
        count_type = np.uint8 if compact else np.int64
        self.compact = compact
        self.storage = storage
        self.fused = fused
        self.weights = self._array("weights", (size, n), np.float64)
        if fused:  # gather_rank_sums: running sums in one reused row each, kept at positions
            self.clusters: np.ndarray | None = self._array(
                "clusters", (size, layout.n_clusters), count_type
            )
            self.scratch1 = self._array("scratch1", (1, layout.n1 + 1), np.int64)[0]
            self.scratch0 = self._array("scratch0", (1, layout.n0 + 1), np.int64)[0]
            self.pairs2 = self._array("pairs2", (1, size), np.int64)
            self.at1 = self._array("at1", (size, layout.positions1.shape[0]), np.int64)
            self.at0 = self._array("at0", (size, layout.positions0.shape[0]), np.int64)
            return
        self.counts = self._array("counts", (size, n), count_type)
        self.c1 = self._array("c1", (size, layout.n1 + 1), np.int64)
        self.c0 = self._array("c0", (size, layout.n0 + 1), np.int64)
        self.below0 = self._array("below0", (size, layout.n1), np.int64)
        self.below1 = self._array("below1", (size, layout.n1), np.int64)
        self.precision = self._array("precision", (size, layout.n1), np.float64)
        self.clusters = (
            None
            if layout.codes is None
            else self._array("clusters", (size, layout.n_clusters), count_type)
        )

    def _array(self, name: str, shape: tuple[int, int], dtype: type) -> np.ndarray:
        """Return a fresh buffer, or a view of the storage's (grown when too small)."""
        if self.storage is None:
            return _buffer(shape, dtype)
        need = shape[0] * shape[1] * np.dtype(dtype).itemsize
        flat = self.storage.get(name)
        if flat is None or flat.shape[0] < need:
            flat = _buffer((_with_headroom(max(1, need)),), np.uint8)
            self.storage[name] = flat
        return flat[:need].view(dtype).reshape(shape)


def _counts(
    layout: _Layout, seeds: Sequence[np.random.SeedSequence], workspace: _Workspace
) -> np.ndarray:
    """Resampling counts (replicates x rows, canonical order), one generator per replicate.

    Also fills ``workspace.weights`` with the same counts as float64, and
    ``workspace.c1`` and ``workspace.c0`` with each class's running sums (one
    compiled pass over the rows: :mod:`._fast_kernels`).
    """
    from clinai.evaluation.resampling._fast_kernels import gather_running_sums, running_sums

    size = len(seeds)
    units = layout.n_clusters
    weights = workspace.weights[:size]
    out = workspace.counts[:size]
    c1, c0 = workspace.c1[:size], workspace.c0[:size]
    if layout.codes is None:
        for row, seed in enumerate(seeds):
            _multinomial_counts(np.random.default_rng(seed), units, out[row], weights[row])
        running_sums(out, layout.n1, c1, c0)
        return out
    clusters = workspace.clusters[:size]  # type: ignore[index]
    for row, seed in enumerate(seeds):
        _multinomial_counts(np.random.default_rng(seed), units, clusters[row])
    codes = layout.codes.view(np.uint64)  # no negative-index checks in the compiled gather
    gather_running_sums(clusters, codes, layout.n1, out, weights, c1, c0)
    return out


def _fused_counts(
    layout: _Layout, seeds: Sequence[np.random.SeedSequence], workspace: _Workspace
) -> None:
    """Draw a chunk's counts (the draws of :func:`_counts`) into a fused workspace.

    Writes the counts as float64 into ``workspace.weights``, and ``pairs2``, ``at1``
    and ``at0`` (:func:`~._fast_kernels.gather_rank_sums`); no average precision.
    """
    from clinai.evaluation.resampling._fast_kernels import gather_rank_sums

    size = len(seeds)
    assert workspace.clusters is not None  # a fused workspace always holds them
    clusters = workspace.clusters[:size]
    for row, seed in enumerate(seeds):
        # rows resampled (no codes): each row is a unit, drawn as _counts draws rows
        _multinomial_counts(np.random.default_rng(seed), layout.n_clusters, clusters[row])
    gather_rank_sums(
        clusters,
        layout.unit_codes,
        layout.n1,
        layout.lo0,
        layout.lo0 if layout.hi0 is None else layout.hi0,
        layout.positions1,
        layout.positions0,
        workspace.weights[:size],
        workspace.scratch1,
        workspace.scratch0,
        workspace.pairs2[0, :size],
        workspace.at1[:size],
        workspace.at0[:size],
    )
