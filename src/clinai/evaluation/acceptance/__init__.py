"""Acceptance criteria: each metric of ``metrics.json`` checked against its pre-stated bounds."""

from __future__ import annotations

from clinai.evaluation.acceptance._acceptance import AcceptanceResult, evaluate_acceptance
from clinai.evaluation.acceptance._survival import SURVIVAL_ALIASES, survival_acceptance_view

__all__ = [
    "SURVIVAL_ALIASES",
    "AcceptanceResult",
    "evaluate_acceptance",
    "survival_acceptance_view",
]
