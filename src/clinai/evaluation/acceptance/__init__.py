"""Acceptance criteria: each metric of ``metrics.json`` checked against its pre-stated bounds."""

from __future__ import annotations

from clinai.evaluation.acceptance._acceptance import AcceptanceResult, evaluate_acceptance

__all__ = ["AcceptanceResult", "evaluate_acceptance"]
