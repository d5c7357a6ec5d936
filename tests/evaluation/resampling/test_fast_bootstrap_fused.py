"""The monitor's fast-bootstrap path leaves every replicate unchanged, to the bit.

Without the average precision the chunks are drawn by one fused kernel (no chunk-sized
running sums), and inside ``reused_workspaces`` the buffers serve the next call.
"""

from __future__ import annotations

import numpy as np
import pytest

from clinai.evaluation.resampling import _fast_draws

from .test_fast_bootstrap import fast_for, simulate


def _replicates(
    n: int,
    seed: int,
    *,
    average_precision: bool = False,
    patients: bool = True,
    ties: bool = True,
    n_boot: int = 40,
) -> dict[str, np.ndarray]:
    """Patients resampled (several rows each), as the monitor's periods, by default."""
    y, p, _ = simulate(n, seed, ties=ties)
    codes = None
    if patients:
        drawn = np.random.default_rng(seed).integers(0, n // 2, n)
        codes = np.unique(drawn, return_inverse=True)[1]
    return fast_for(
        y,
        p,
        codes=codes,
        n_boot=n_boot,
        seed=np.random.SeedSequence(seed),
        workers=2,
        average_precision=average_precision,
    )


def _same(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> bool:
    return a.keys() == b.keys() and all(a[k].tobytes() == b[k].tobytes() for k in a)


@pytest.mark.parametrize(
    ("patients", "ties", "n_boot"),
    [(True, True, 40), (False, True, 40), (True, False, 40), (True, True, 49)],
)
def test_the_fused_chunks_equal_the_chunks_with_average_precision(
    patients: bool, ties: bool, n_boot: int
) -> None:
    """The path pinned by test_fast_bootstrap_pinned, less its average precision.

    Its chunks of 16 replicates are paired (32, 40); with 49 the last chunk of one
    replicate stays alone (32, 48, 49), as its product is a matrix-vector one.
    """
    options = {"patients": patients, "ties": ties, "n_boot": n_boot}
    fused = _replicates(7_000, 4, **options)
    full = _replicates(7_000, 4, **options, average_precision=True)
    assert "auprc" not in fused
    del full["auprc"]
    assert _same(fused, full)


# a small call, a larger one (the buffers grow), a smaller one again (views of larger buffers)
SIZES = ((6_000, 1), (9_000, 2), (4_000, 3))


def test_reused_buffers_give_the_same_replicates_to_the_bit() -> None:
    fresh = [_replicates(n, seed) for n, seed in SIZES]
    with _fast_draws.reused_workspaces():
        reused = [_replicates(n, seed) for n, seed in SIZES]
        pool = _fast_draws.current_pool()
        assert pool is not None and len(pool._free) >= 1  # handed back after each call
    assert _fast_draws.current_pool() is None
    for before, after in zip(fresh, reused, strict=True):
        assert _same(before, after)


def test_an_overflow_redraw_inside_the_block_uses_wider_buffers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fresh = _replicates(*SIZES[0])
    monkeypatch.setattr(_fast_draws, "_COMPACT_MAX", 1)  # every chunk redraws into int64
    with _fast_draws.reused_workspaces():
        reused = [_replicates(*SIZES[0]) for _ in range(2)]
    assert all(_same(fresh, r) for r in reused)


def test_kept_buffers_have_headroom_so_a_slightly_larger_call_maps_nothing_new() -> None:
    """Months differ in size: a period a few rows larger than every earlier one reuses them."""
    with _fast_draws.reused_workspaces():
        first = _replicates(6_000, 1)
        pool = _fast_draws.current_pool()
        assert pool is not None and pool._features is not None
        features = pool._features
        kept = {id(flat) for storage in pool._free for flat in storage.values()}
        larger = _replicates(6_300, 2)  # 5% more rows: within the quarter of headroom
        assert pool._features is features
        assert {id(flat) for storage in pool._free for flat in storage.values()} == kept
    assert _same(first, _replicates(6_000, 1)) and _same(larger, _replicates(6_300, 2))
