"""The one bootstrap engine that every concern uses.

Resamples (of patients when they have several rows), percentile intervals that
contain their estimates, and the fast path for large samples.
"""

from __future__ import annotations

from clinai.evaluation.resampling._bootstrap import BootstrapResult, bootstrap, bootstrap_indices

__all__ = ["BootstrapResult", "bootstrap", "bootstrap_indices"]
