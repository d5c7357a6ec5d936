"""Several processes tuning one Optuna study: ``clinai train CONFIG --workers N``.

The workers share the study through its storage (PostgreSQL for real scale-out,
a SQLite file on one machine). ``--workers N`` starts ``N - 1`` extra processes
(multiprocessing, 'spawn') beside the calling one; all of them run
:func:`clinai.models.tune_model` (or, for a survival family,
:func:`clinai.models.tune_survival_model`) on the same study, whose ``n_trials`` is the
total of all workers. Processes started on other machines with the same
storage URL and study name join the same study the same way. The extra local
workers send each finished trial back through a queue, so the caller shows one
progress bar and logs every local trial to MLflow.

Budget. Each worker creates a trial only while the complete plus running
trials of the study are below ``n_trials``, and checks that under a lock
shared by all workers (:func:`study_lock`: a PostgreSQL advisory lock, or a
lock file for a SQLite database), so the total is exact.

Reproducibility. The sampler is reseeded for every trial from the seed and
the trial number (:func:`clinai.models.tune_model`). With one worker the
trials, the selected model and every figure are the same on each run. With
several, each trial sees whatever the others have finished at that moment, so
the order and the parameters of the trials, and therefore the selected
hyperparameters, vary between runs. What still holds: the budget (exactly
``n_trials`` complete trials, numbers unique), each trial's score is a
deterministic function of its recorded parameters (the folds and the
estimator are seeded), and selection and calibration are deterministic given
the study's trials.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import multiprocessing
import os
import queue as queue_module
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from clinai import models
from clinai._utils import redact_url
from clinai.exceptions import ClinaiError, ConfigError, ModelError

if TYPE_CHECKING:
    from multiprocessing.context import SpawnProcess
    from multiprocessing.queues import Queue

    from clinai.models import TrialRecord, TuningResult

__all__ = [
    "WORKERS_MSG",
    "check_storage_driver",
    "check_workers",
    "study_lock",
    "tune_with_workers",
]

logger = logging.getLogger(__name__)

WORKERS_MSG = "--workers must be an integer >= 1; got {value!r}"
IN_MEMORY_MSG = (
    "--workers {workers} needs an Optuna storage that the workers share, not an in-memory "
    "study: set tuning.storage to postgresql+psycopg2://USER@HOST/DB (or a sqlite:/// file)"
)
_STORAGE_URL_MSG = "tuning.storage {url!r} is not a database URL SQLAlchemy reads: {error}"
_STORAGE_DRIVER_MSG = (
    "tuning.storage {url!r} needs the database driver {driver!r}, which is not installed: "
    "pip install it{hint}"
)
_STORAGE_CONNECT_MSG = (
    "could not connect to tuning.storage {url!r}: {error}; check that the database server "
    "runs and the URL's host, port, user and database"
)
_PSYCOPG2_HINT = ", or name the installed one in the URL: postgresql+psycopg2://USER@HOST/DB"
WORKER_FAILED_MSG = "tuning worker {index} of {workers} failed: {error}"
WORKER_EXIT_MSG = "tuning worker {index} of {workers} stopped with exit code {code}"

LockFactory = Callable[[], AbstractContextManager[Any]]
#: Seconds given to extra workers to stop after SIGTERM before they are killed.
_STOP_S = 10.0
_POLL_S = 0.2


def check_workers(workers: int, storage: str | None) -> None:
    """Refuse a worker count that cannot work with ``storage`` (``None``: in memory).

    Raises
    ------
    ConfigError
        If ``workers`` is not an integer >= 1, or several workers are asked for
        with an in-memory study.
    """
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ConfigError(WORKERS_MSG.format(value=workers))
    if workers > 1 and (storage is None or ":memory:" in storage):
        raise ConfigError(IN_MEMORY_MSG.format(workers=workers))


def check_storage_driver(storage: str | None) -> None:
    """Refuse an Optuna storage URL whose database driver is not installed, in one line.

    SQLAlchemy 2.1 reads ``postgresql://`` as ``postgresql+psycopg://`` (psycopg 3); a
    machine set up by the README recipe has psycopg2, and the run stopped deep inside
    Optuna with "internal error: ModuleNotFoundError: No module named 'psycopg'".

    Raises
    ------
    ConfigError
        Naming the URL (password hidden), the missing driver and what to write instead.
    """
    if storage is None or ":memory:" in storage:
        return
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    shown = redact_url(storage)
    try:
        dialect = make_url(storage).get_dialect()
    except (ArgumentError, NoSuchModuleError, ValueError) as exc:
        raise ConfigError(_STORAGE_URL_MSG.format(url=shown, error=exc)) from None
    try:
        dialect.import_dbapi()
    except ImportError as exc:
        missing = getattr(exc, "name", None) or str(exc)
        hint = _PSYCOPG2_HINT if dialect.name == "postgresql" else ""
        raise ConfigError(
            _STORAGE_DRIVER_MSG.format(url=shown, driver=missing, hint=hint)
        ) from None


def _lock_key(study_name: str) -> int:
    """Return a signed 64-bit key (PostgreSQL advisory locks) derived from the study name."""
    digest = hashlib.sha256(f"clinai-optuna-study:{study_name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@contextlib.contextmanager
def _postgres_lock(storage: str, study_name: str) -> Iterator[LockFactory]:
    # A session-level advisory lock on a connection of its own: PostgreSQL frees it when
    # the connection ends, so a killed worker never leaves the study locked.
    import sqlalchemy
    from sqlalchemy.pool import NullPool

    key = _lock_key(study_name)
    engine = sqlalchemy.create_engine(storage, poolclass=NullPool)
    try:
        try:
            opened = engine.connect()
        except sqlalchemy.exc.OperationalError as exc:
            error = str(exc.orig or exc).strip().splitlines()[0]
            raise ConfigError(
                _STORAGE_CONNECT_MSG.format(url=redact_url(storage), error=error)
            ) from None
        with opened as connection:
            connection = connection.execution_options(isolation_level="AUTOCOMMIT")

            @contextlib.contextmanager
            def hold() -> Iterator[None]:
                connection.execute(sqlalchemy.text("SELECT pg_advisory_lock(:key)"), {"key": key})
                try:
                    yield
                finally:
                    connection.execute(
                        sqlalchemy.text("SELECT pg_advisory_unlock(:key)"), {"key": key}
                    )

            yield hold
    finally:
        engine.dispose()


#: A lock file nobody holds that is older than this was left by a killed process.
STALE_LOCK_AGE_S = 3600.0
_LOCK_PREFIX = "clinai-optuna-"


def _sweep_stale_locks(folder: Path, *, min_age_s: float = STALE_LOCK_AGE_S) -> int:
    """Remove the study lock files in ``folder`` that are old and held by nobody.

    A SIGKILLed worker cannot remove its lock file. Removing one is safe even when
    a live process still tunes that study: whoever takes a lock checks that its open
    file is still the one at the path (see :func:`_file_lock`). Returns the count.
    """
    import fcntl

    removed = 0
    now = time.time()
    for path in folder.glob(f"{_LOCK_PREFIX}*.lock"):
        try:
            if now - path.stat().st_mtime < min_age_s:
                continue
            with path.open("a") as handle:
                try:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue  # a live process holds it
                path.unlink(missing_ok=True)
                removed += 1
        except OSError:  # another process removed it first, or no permission
            continue
    return removed


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[LockFactory]:
    """Lock ``path`` exclusively (per hold); remove the file when this process is done.

    The file is removed only while its lock is held, and whoever takes the lock
    checks that the open file is still the one at ``path`` (else it opens the path
    again). Two processes therefore never hold locks on two different files, even
    when one of them removes the file while the other still tunes the study: the
    other creates it afresh at its next trial, and the last one out removes it.
    """
    import fcntl

    handle: Any = None

    def is_current(fd: int) -> bool:
        try:
            on_disk = os.stat(path)
        except FileNotFoundError:
            return False
        held = os.fstat(fd)
        return (on_disk.st_dev, on_disk.st_ino) == (held.st_dev, held.st_ino)

    def acquire() -> Any:
        nonlocal handle
        while True:
            if handle is None:
                handle = path.open("a")
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            if is_current(handle.fileno()):
                return handle
            # Removed (or replaced) by its last holder while we waited: open the path again.
            handle.close()
            handle = None

    @contextlib.contextmanager
    def hold() -> Iterator[None]:
        held = acquire()
        try:
            yield
        finally:
            fcntl.flock(held.fileno(), fcntl.LOCK_UN)

    try:
        yield hold
    finally:
        held = acquire()
        try:
            path.unlink(missing_ok=True)
        finally:
            fcntl.flock(held.fileno(), fcntl.LOCK_UN)
            held.close()


@contextlib.contextmanager
def study_lock(storage: str | None, study_name: str) -> Iterator[LockFactory]:
    """Open the lock that every process tuning ``study_name`` in ``storage`` shares.

    Yields a factory for :func:`clinai.models.tune_model`'s ``budget_lock``:
    a PostgreSQL advisory lock keyed by the study name (held on a connection of
    its own), a lock file in the temporary folder for a SQLite file (removed
    when the context exits; one left by a killed process is removed by the next
    study that starts once it is an hour old and unheld), and no lock
    for an in-memory study or another database (one process only; there,
    concurrent workers may exceed the budget by a few trials).

    Parameters
    ----------
    storage : str or None
        Optuna storage URL; ``None`` for an in-memory study.
    study_name : str
        The study.

    Yields
    ------
    callable
        Returns a context manager that holds the lock.
    """
    if storage is None or ":memory:" in storage:
        yield contextlib.nullcontext
    elif storage.startswith("postgresql"):
        with _postgres_lock(storage, study_name) as hold:
            yield hold
    elif storage.startswith("sqlite:///") and os.name == "posix":
        # In the temporary folder, keyed by the database's path: no clutter beside it.
        database = Path(storage.removeprefix("sqlite:///").split("?", 1)[0]).resolve()
        digest = hashlib.sha256(f"{database}\n{study_name}".encode()).hexdigest()[:24]
        folder = Path(tempfile.gettempdir())
        if removed := _sweep_stale_locks(folder):
            logger.info("removed %s stale study lock file(s) of killed processes", removed)
        with _file_lock(folder / f"{_LOCK_PREFIX}{digest}.lock") as hold:
            yield hold
    else:
        logger.warning("no cross-process lock for %s: use one tuning worker", storage.split(":")[0])
        yield contextlib.nullcontext


def _thread_limit(n_jobs: int) -> AbstractContextManager[Any]:
    """Cap BLAS and OpenMP threads of this process at ``n_jobs`` while several workers run.

    Each process would otherwise start one BLAS thread per core, and N workers on
    the same cores slow each other down (measured: 2 workers on 2 cores ran 0.7x
    as fast as 1 without the cap, 1.4x with it).
    """
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=max(1, int(n_jobs)))


def _tuner(name: str) -> Callable[..., TuningResult]:
    """Return the tuner of a model family: binary, or survival (competing risks included)."""
    if models.get_model_task(name) == "binary":
        return models.tune_model
    return models.tune_survival_model


def _worker_main(index: int, tune_kwargs: dict[str, Any], results: Queue[Any]) -> None:
    """Entry point of an extra worker process: tune, report each trial, then 'done' or 'error'."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        with (
            _thread_limit(tune_kwargs.get("n_jobs", 1)),
            study_lock(tune_kwargs["storage"], tune_kwargs["study_name"]) as lock,
        ):
            _tuner(tune_kwargs["name"])(
                **tune_kwargs,
                budget_lock=lock,
                on_trial=lambda record: results.put(("trial", index, record)),
            )
    except ClinaiError as exc:
        results.put(("error", index, str(exc)))
    except Exception as exc:  # reported to the parent, which raises it as one line
        results.put(("error", index, f"{type(exc).__name__}: {exc}"))
    else:
        results.put(("done", index, None))


def _drain(
    results: Queue[Any],
    on_trial: Callable[[TrialRecord], None] | None,
    errors: dict[int, str],
    *,
    wait_s: float = 0.0,
) -> None:
    """Hand queued trial records to ``on_trial`` and collect worker errors."""
    while True:
        try:
            kind, index, payload = results.get(timeout=wait_s) if wait_s else results.get_nowait()
        except queue_module.Empty:
            return
        wait_s = 0.0
        if kind == "trial" and on_trial is not None:
            on_trial(payload)
        elif kind == "error":
            errors[index] = payload


def _stop(processes: list[SpawnProcess]) -> None:
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join(_STOP_S)
        if process.is_alive():
            process.kill()
            process.join()


def tune_with_workers(
    name: str,
    *,
    workers: int = 1,
    on_trial: Callable[[TrialRecord], None] | None = None,
    **tune_kwargs: Any,
) -> TuningResult:
    """Tune one model family with ``workers`` processes sharing its Optuna study.

    This process is one of the workers; ``workers - 1`` more are started with
    multiprocessing ('spawn') and given the same arguments. It returns once the
    study holds ``n_trials`` complete trials (all workers together) and the
    extra workers have stopped. With several workers each one's BLAS and
    OpenMP threads are capped at ``n_jobs`` (default 1), so keep
    ``workers * n_jobs`` within the machine's cores.

    Parameters
    ----------
    name : str
        Model family.
    workers : int, default=1
        Processes tuning the study, this one included.
    on_trial : callable, optional
        Called in this process with the :class:`~clinai.models.TrialRecord` of
        every trial that a local worker finished (those of the extra workers
        arrive after this process's next trial, or at the end).
    **tune_kwargs
        The other arguments of :func:`clinai.models.tune_model`, or of
        :func:`clinai.models.tune_survival_model` for a survival family (``X``,
        ``y``, ``storage``, ``study_name``, ``n_trials``, ...).

    Returns
    -------
    TuningResult
        The study's result, with the trials of every worker.

    Raises
    ------
    ConfigError
        If ``workers`` is invalid or the study is in memory while ``workers > 1``.
    ModelError
        If tuning fails here or in an extra worker.
    """
    check_workers(workers, tune_kwargs.get("storage"))
    kwargs = {"name": name, **tune_kwargs}
    if workers == 1:
        with study_lock(kwargs["storage"], kwargs["study_name"]) as lock:
            return _tuner(name)(**kwargs, budget_lock=lock, on_trial=on_trial)
    errors: dict[int, str] = {}
    context = multiprocessing.get_context("spawn")
    results: Queue[Any] = context.Queue()
    processes = [
        context.Process(
            target=_worker_main,
            args=(index, kwargs, results),
            name=f"clinai-tuning-{name}-{index}",
            daemon=True,
        )
        for index in range(1, workers)
    ]

    def on_own_trial(record: TrialRecord) -> None:
        if on_trial is not None:
            on_trial(record)
        _drain(results, on_trial, errors)

    try:
        for process in processes:
            process.start()
        with (
            _thread_limit(kwargs.get("n_jobs", 1)),
            study_lock(kwargs["storage"], kwargs["study_name"]) as lock,
        ):
            result = _tuner(name)(**kwargs, budget_lock=lock, on_trial=on_own_trial)
        while any(process.is_alive() for process in processes):
            _drain(results, on_trial, errors, wait_s=_POLL_S)
        _drain(results, on_trial, errors)
    finally:
        _stop(processes)
        results.close()
    for index, process in enumerate(processes, start=1):
        if index in errors:
            raise ModelError(
                WORKER_FAILED_MSG.format(index=index, workers=workers, error=errors[index])
            )
        if process.exitcode != 0:
            raise ModelError(
                WORKER_EXIT_MSG.format(index=index, workers=workers, code=process.exitcode)
            )
    return result
