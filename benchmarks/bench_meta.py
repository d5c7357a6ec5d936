"""Pooling across hospitals: speed of ``pool_metric`` and coverage of its intervals.

Data are SYNTHETIC (no patient behind any row). A simulated region has ``--sites`` hospitals
(default 20) of ``--patients`` patients each (default 5,000). Hospital ``j``'s true AUROC is
``expit(mu + u_j)`` with ``u_j ~ N(0, tau^2)`` (``mu = logit(0.78)``, ``tau = 0.25`` on the logit
scale: true AUROCs of about 0.69-0.85 across hospitals); its event rate is drawn from
U(0.05, 0.20). Patients' scores follow the binormal model: ``N(0, 1)`` for non-events and
``N(d_j, 1)`` for events with ``d_j = sqrt(2) Phi^-1(AUROC_j)``, whose AUROC is exactly
``AUROC_j``. Each site's summary is its logit AUROC and the DeLong standard error on the logit
scale (``clinai.evaluation.delong_ci``, ``transform="logit"``: the SE is read back from the
interval, ``(logit(high) - logit(low)) / (2 z)``), as a site summary stores them.

Part (a), speed: ``clinai.evaluation.pool_metric("auroc", ...)`` (REML, HKSJ, prediction
interval, back-transform) on the 20 summaries, the median of ``--repeats`` calls; target under
1 s. Baseline for the ratio (named, measured in the same run on the same inputs):
``statsmodels.stats.meta_analysis.combine_effects`` (its default Paule-Mandel tau^2) plus its
``conf_int``; and like for like, DerSimonian-Laird with the Wald interval in both. The time to
build the summaries (DeLong on 20 x 5,000 rows) is printed apart.

Part (b), coverage: ``--simulations`` regions (default 200), each pooled with REML + HKSJ at
95 %. Reported: the share of regions whose pooled 95 % prediction interval (on the AUROC scale)
covers the true mean AUROC of the region's simulated hospitals (target >= 90 %, issue 17); the
share whose 95 % confidence interval covers the pooled quantity's target ``expit(mu)`` and the
share whose confidence interval covers the hospitals' true mean AUROC; and the share of regions
whose prediction interval covers the true AUROC of one NEW hospital drawn from the same region
(the prediction interval's own target; nominal 95 %). The same with DL + Wald for contrast.

    python benchmarks/bench_meta.py [--sites 20] [--patients 5000] [--simulations 200]
                                    [--repeats 200] [--out FILE]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np
from _common import ROOT, write_json  # first: puts the repository root on sys.path
from scipy import special, stats

from clinai.evaluation import delong_ci, pool_metric

MEAN_AUROC = 0.78
TAU = 0.25
SEED = 2026


def simulate_region(
    rng: np.random.Generator, sites: int, patients: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Return the sites' logit AUROCs, their DeLong SEs, their true AUROCs and a new site's."""
    true_logit = special.logit(MEAN_AUROC) + rng.normal(0.0, TAU, size=sites + 1)
    true_auroc = special.expit(true_logit)
    z = float(stats.norm.ppf(0.975))
    estimates, errors = np.empty(sites), np.empty(sites)
    for j in range(sites):
        y = rng.binomial(1, rng.uniform(0.05, 0.20), size=patients)
        separation = np.sqrt(2.0) * stats.norm.ppf(true_auroc[j])
        score = rng.normal(size=patients) + separation * y
        interval = delong_ci(y, special.expit(score), transform="logit")
        estimates[j] = special.logit(interval.estimate)
        errors[j] = (special.logit(interval.ci_high) - special.logit(interval.ci_low)) / (2 * z)
    return estimates, errors, true_auroc[:sites], float(true_auroc[sites])


def _median_seconds(func: Any, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        func()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def bench_speed(args: argparse.Namespace) -> dict[str, Any]:
    """Part (a): time pool_metric on one region's summaries against statsmodels."""
    from statsmodels.stats.meta_analysis import combine_effects

    rng = np.random.default_rng(SEED)
    started = time.perf_counter()
    estimates, errors, _, _ = simulate_region(rng, args.sites, args.patients)
    build_s = time.perf_counter() - started
    print(f"(a) {args.sites} site summaries of {args.patients:,} patients built in {build_s:.2f} s")

    pooled = pool_metric("auroc", estimates, errors)
    clinai_s = _median_seconds(lambda: pool_metric("auroc", estimates, errors), args.repeats)
    variances = errors**2
    baseline_s = _median_seconds(
        lambda: combine_effects(estimates, variances).conf_int(alpha=0.05), args.repeats
    )
    print(
        f"  pooled AUROC {pooled.estimate:.3f} (95% CI {pooled.ci_low:.3f}-{pooled.ci_high:.3f}; "
        f"PI {pooled.pi_low:.3f}-{pooled.pi_high:.3f}), tau^2 {pooled.analysis.tau2:.4f}, "
        f"I^2 {pooled.analysis.i2:.0%}"
    )
    print(
        f"  clinai pool_metric (REML, HKSJ): {clinai_s * 1e3:.2f} ms per pooling "
        f"(median of {args.repeats}; target < 1 s)"
    )
    print(
        f"  baseline statsmodels combine_effects (Paule-Mandel) + conf_int: "
        f"{baseline_s * 1e3:.2f} ms; ratio clinai / statsmodels = {clinai_s / baseline_s:.2f}"
    )
    dl_s = _median_seconds(
        lambda: pool_metric("auroc", estimates, errors, method="DL", ci="wald"), args.repeats
    )
    dl_baseline_s = _median_seconds(
        lambda: combine_effects(estimates, variances, method_re="dl").conf_int(alpha=0.05),
        args.repeats,
    )
    print(
        f"  like for like, DerSimonian-Laird + Wald: clinai {dl_s * 1e3:.2f} ms, statsmodels "
        f"{dl_baseline_s * 1e3:.2f} ms; ratio = {dl_s / dl_baseline_s:.2f}"
    )
    return {
        "dl_pool_metric_s": dl_s,
        "dl_statsmodels_s": dl_baseline_s,
        "sites": args.sites,
        "patients": args.patients,
        "build_summaries_s": build_s,
        "pool_metric_s": clinai_s,
        "statsmodels_combine_effects_s": baseline_s,
        "ratio": clinai_s / baseline_s,
        "pooled": pooled.to_dict(),
    }


def bench_coverage(args: argparse.Namespace) -> dict[str, Any]:
    """Part (b): coverage of the prediction and confidence intervals over simulated regions."""
    rng = np.random.default_rng(SEED + 1)
    target = float(special.expit(special.logit(MEAN_AUROC)))
    settings = {"REML + HKSJ": ("REML", "hksj"), "DL + Wald": ("DL", "wald")}
    hits = {name: np.zeros(4, dtype=int) for name in settings}
    started = time.perf_counter()
    for _ in range(args.simulations):
        estimates, errors, true_auroc, new_site = simulate_region(rng, args.sites, args.patients)
        mean_auroc = float(true_auroc.mean())
        for name, (method, ci) in settings.items():
            pooled = pool_metric("auroc", estimates, errors, method=method, ci=ci)
            hits[name] += [
                pooled.pi_low <= mean_auroc <= pooled.pi_high,
                pooled.ci_low <= target <= pooled.ci_high,
                pooled.ci_low <= mean_auroc <= pooled.ci_high,
                pooled.pi_low <= new_site <= pooled.pi_high,
            ]
    seconds = time.perf_counter() - started
    print(
        f"(b) coverage over {args.simulations} simulated regions ({args.sites} hospitals of "
        f"{args.patients:,}; tau = {TAU} on the logit scale; {seconds:.0f} s):"
    )
    labels = (
        "PI covers the hospitals' true mean AUROC (target >= 90%)",
        "CI covers expit(mu), the pooled target",
        "CI covers the hospitals' true mean AUROC",
        "PI covers a new hospital's true AUROC (nominal 95%)",
    )
    result: dict[str, Any] = {"simulations": args.simulations, "seconds": seconds}
    for name, counts in hits.items():
        shares = counts / args.simulations
        print(f"  {name}:")
        for label, share in zip(labels, shares, strict=True):
            print(f"    {label}: {share:.1%}")
        result[name] = dict(
            zip(("pi_mean", "ci_target", "ci_mean", "pi_new_site"), shares.tolist(), strict=True)
        )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=20)
    parser.add_argument("--patients", type=int, default=5_000)
    parser.add_argument("--simulations", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "meta.json")
    args = parser.parse_args()
    write_json(args.out, {"speed": bench_speed(args), "coverage": bench_coverage(args)})


if __name__ == "__main__":
    main()
