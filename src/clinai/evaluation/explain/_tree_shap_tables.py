"""Exact path-dependent TreeSHAP of a LightGBM model from per-leaf lookup tables.

Why not only LightGBM's ``pred_contrib``: its TreeSHAP (Lundberg et al. 2020,
Algorithm 2) costs ``O(T L D^2)`` per row (trees, leaves, depth); for 100
trees of 31 leaves (depth about 11) that was 0.44 ms per row on 2 threads,
44 s for 100,000 rows (``benchmarks/bench_explain.py``). The values depend on a
row only through which of each leaf's path conditions it meets, so they can be
tabulated per leaf once and looked up per row, ``O(T L D)`` per row (the idea
of FastTreeSHAP v2, Yang 2021, arXiv:2109.09847; written here from the
formula below for numpy).

The formula. For a leaf ``l`` with value ``v`` whose path splits on the
distinct features ``P`` (``d = |P|``), let ``z_j`` be the product over the
path's splits on feature ``j`` of the fraction of training rows that went the
path's way (``child count / node count``), and ``A`` the features whose every
split on the path the row follows. The leaf's game over ``P`` gives coalition
``S`` the value ``v prod_{j in S} 1[j in A] prod_{j in P minus S} z_j``, whose
Shapley value for ``i`` in ``P`` is

    phi_i = v (1[i in A] - z_i) sum_{S subset of A minus i} w(|S|) prod_{j in P minus S minus i} z_j

with ``w(k) = k! (d - k - 1)! / d!``. Writing ``C(U) = prod_{j in P minus U} z_j``
and ``E(B) = sum_k w(k) e_{|B| - k}(z_B)`` (``e`` the elementary symmetric
polynomials of the ``z`` of ``B``), this is ``v (1 - z_i) C(A) E(A minus i)`` for
``i`` in ``A`` and ``-v C(A) E(A)`` otherwise: no division, so it holds for
``z = 0`` too. A model's SHAP value of a row is the sum over its leaves; the
base value is the sum over trees of the count-weighted mean leaf value.

Routing follows LightGBM's numerical decision: a NaN becomes 0 unless the
split's missing type is ``NaN``; a missing value (NaN, or zero for missing type
``Zero``) goes the default way; otherwise ``x <= threshold`` goes left.
Categorical splits and linear trees are not handled (:func:`tree_tables`
returns ``None`` and the caller falls back to ``pred_contrib``). Tested equal
to ``pred_contrib`` to ``1e-9`` with missing values and zero-as-missing.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["LeafTable", "TreeTables", "tree_shap_from_tables", "tree_tables"]

#: LightGBM's kZeroThreshold: |x| <= 1e-35 counts as zero for missing type ``Zero``.
_ZERO = 1e-35
#: A leaf whose path has more distinct features than this is not tabulated (its table has
#: d x 2^d entries: 8 MB at d = 16).
MAX_PATH_FEATURES = 16


@dataclass(frozen=True)
class _Split:
    feature: int
    threshold: float
    default_left: bool
    missing: str


@dataclass(frozen=True)
class LeafTable:
    """One leaf: the path's conditions per distinct feature and the lookup table."""

    features: np.ndarray  # (d,) distinct features of the path
    conditions: tuple[tuple[tuple[int, bool], ...], ...]  # per feature: (split, goes left)
    table: np.ndarray  # (d, 2**d): contribution to features[i] for the met-set A


@dataclass(frozen=True)
class TreeTables:
    """Every tree's splits and leaf tables, and the base value."""

    splits: tuple[tuple[_Split, ...], ...]
    leaves: tuple[tuple[LeafTable, ...], ...]
    base_value: float
    n_features: int


def _symmetric_polynomials(z: np.ndarray) -> np.ndarray:
    """``e_m(z_B)`` for every subset ``B`` (bitmask) of ``z``: shape (2^d, d + 1)."""
    d = z.shape[0]
    e = np.zeros((1, d + 1))
    e[0, 0] = 1.0
    for j in range(d):
        with_j = e.copy()
        with_j[:, 1:] += z[j] * e[:, :-1]
        e = np.concatenate([e, with_j])  # subsets with bit j set come second
    return e


def _complement_products(z: np.ndarray) -> np.ndarray:
    """``C(U) = prod_{j not in U} z_j`` for every subset ``U`` (bitmask)."""
    c = np.ones(1)
    for j in range(z.shape[0]):
        c = np.concatenate([c * z[j], c])
    return c


def _leaf_table(value: float, z: np.ndarray) -> np.ndarray:
    """Contribution table of one leaf, ``(d, 2^d)``, from its value and path fractions."""
    d = z.shape[0]
    k = np.arange(d)
    weights = np.array(
        [math.factorial(s) * math.factorial(d - s - 1) / math.factorial(d) for s in k]
    )
    e = _symmetric_polynomials(z)
    masks = np.arange(1 << d)
    size = np.zeros(1, dtype=np.intp)
    for _ in range(d):
        size = np.concatenate([size, size + 1])  # subset sizes, in the bitmask order
    # E(B) = sum_{k <= |B|} w(k) e_{|B| - k}(z_B)
    index = size[:, None] - k[None, :]
    terms = np.where(index >= 0, np.take_along_axis(e, np.clip(index, 0, d), axis=1), 0.0)
    big_e = (terms * weights[None, :]).sum(axis=1)
    c = _complement_products(z)
    table = np.empty((d, 1 << d))
    for i in range(d):
        bit = 1 << i
        member = (masks & bit) != 0
        table[i] = np.where(
            member, value * (1.0 - z[i]) * c * big_e[masks & ~bit], -value * c * big_e
        )
    return table


def tree_tables(booster: Any) -> TreeTables | None:
    """Tabulate a LightGBM booster's leaves; ``None`` where this method does not apply.

    Not handled (``None``): several trees per iteration (multiclass), categorical
    splits, linear trees, a path with more than :data:`MAX_PATH_FEATURES` distinct
    features.
    """
    model = booster.dump_model()
    if model.get("num_tree_per_iteration", 1) != 1:
        return None
    n_features = int(model["max_feature_idx"]) + 1
    all_splits: list[tuple[_Split, ...]] = []
    all_leaves: list[tuple[LeafTable, ...]] = []
    base = 0.0
    for tree in model["tree_info"]:
        if tree.get("num_cat", 0) or tree.get("is_linear", False):
            return None
        root = tree["tree_structure"]
        splits: list[_Split] = []
        leaves: list[LeafTable] = []
        if "leaf_value" in root:  # a stump without splits: only the base value moves
            base += float(root["leaf_value"])
            all_splits.append(())
            all_leaves.append(())
            continue
        total = float(root["internal_count"])
        # depth-first: (node, path of (split index, feature, goes left, fraction))
        stack: list[tuple[dict[str, Any], list[tuple[int, int, bool, float]]]] = [(root, [])]
        while stack:
            node, path = stack.pop()
            if "leaf_value" in node:
                value = float(node["leaf_value"])
                base += value * float(node["leaf_count"]) / total
                features = sorted({feature for _, feature, _, _ in path})
                if len(features) > MAX_PATH_FEATURES:
                    return None
                z = np.ones(len(features))
                conditions: list[list[tuple[int, bool]]] = [[] for _ in features]
                position = {feature: i for i, feature in enumerate(features)}
                for split_index, feature, left, fraction in path:
                    z[position[feature]] *= fraction
                    conditions[position[feature]].append((split_index, left))
                leaves.append(
                    LeafTable(
                        np.array(features, dtype=np.intp),
                        tuple(tuple(c) for c in conditions),
                        _leaf_table(value, z),
                    )
                )
                continue
            if node.get("decision_type", "<=") != "<=":
                return None
            split_index = len(splits)
            splits.append(
                _Split(
                    int(node["split_feature"]),
                    float(node["threshold"]),
                    bool(node["default_left"]),
                    str(node["missing_type"]),
                )
            )
            count = float(node["internal_count"])
            for child, left in ((node["left_child"], True), (node["right_child"], False)):
                child_count = float(child.get("internal_count", child.get("leaf_count", 0)))
                fraction = child_count / count if count > 0 else 0.0
                stack.append(
                    (child, [*path, (split_index, int(node["split_feature"]), left, fraction)])
                )
        all_splits.append(tuple(splits))
        all_leaves.append(tuple(leaves))
    return TreeTables(tuple(all_splits), tuple(all_leaves), base, n_features)


def _goes_left(split: _Split, column: np.ndarray, has_nan: bool) -> np.ndarray:
    """LightGBM's numerical decision for every row."""
    if has_nan:
        nan = np.isnan(column)
        value = column if split.missing == "NaN" else np.where(nan, 0.0, column)
        missing = nan if split.missing == "NaN" else None
    else:
        value, missing = column, None
    if split.missing == "Zero":
        missing = (value > -_ZERO) & (value <= _ZERO)
    left = value <= split.threshold
    if missing is not None and missing.any():
        left = np.where(missing, split.default_left, left)
    return left


def _tree_contributions(
    tables: TreeTables, tree: int, X: np.ndarray, has_nan: np.ndarray, out: np.ndarray
) -> None:
    """Add one tree's SHAP values of the rows of ``X`` to ``out`` (features x rows)."""
    splits = tables.splits[tree]
    if not splits:
        return
    left = [
        _goes_left(split, X[:, split.feature], bool(has_nan[split.feature])) for split in splits
    ]
    for leaf in tables.leaves[tree]:
        index = np.zeros(X.shape[0], dtype=np.intp)
        for i, conditions in enumerate(leaf.conditions):
            met: np.ndarray | None = None
            for split_index, goes_left in conditions:
                follows = left[split_index] if goes_left else ~left[split_index]
                met = follows if met is None else met & follows
            index |= met.astype(np.intp) << i  # type: ignore[union-attr]
        # one feature at a time: a 1-D take from a table row that stays in cache and an
        # in-place add to a contiguous row (4x faster than one 2-D fancy-indexed add)
        for i, feature in enumerate(leaf.features.tolist()):
            row = out[feature]
            np.add(row, leaf.table[i].take(index), out=row)


def tree_shap_from_tables(
    tables: TreeTables,
    X: np.ndarray,
    *,
    n_threads: int | None = None,
) -> np.ndarray:
    """Exact path-dependent TreeSHAP values (log-odds), shape (n, m), from :func:`tree_tables`.

    Trees are shared out over ``n_threads`` threads (numpy releases the GIL in
    the per-row work), each adding into its own accumulator.
    """
    from concurrent.futures import ThreadPoolExecutor

    X = np.asarray(X, dtype="float64")
    has_nan = np.isnan(X).any(axis=0)
    n_trees = len(tables.splits)
    threads = max(1, min(n_threads or os.cpu_count() or 1, n_trees or 1))
    accumulators = [np.zeros((tables.n_features, X.shape[0])) for _ in range(threads)]

    def work(worker: int) -> None:
        for tree in range(worker, n_trees, threads):
            _tree_contributions(tables, tree, X, has_nan, accumulators[worker])

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(work, range(threads)))
    total = accumulators[0]
    for extra in accumulators[1:]:
        total += extra
    return np.ascontiguousarray(total.T)
