"""The MLflow model registry: versions, aliases, version tags, loading a registered model.

Versions are registered by :meth:`clinai.tracking.MlflowTracker.log_model`; this
module reads and changes them afterwards (``clinai train`` points ``candidate`` at
a new version, ``clinai approve`` points ``approved`` at it, a failed run deletes
its version). Aliases replace MLflow's deprecated stages.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from clinai.tracking._client import MlflowStore, tag_text, use_globally

if TYPE_CHECKING:
    from mlflow import MlflowClient

__all__ = ["ModelRegistry", "delete_version", "delete_versions_of_run"]

logger = logging.getLogger(__name__)


def delete_version(client: MlflowClient, name: str, version: int | str) -> None:
    """Delete one registered version, and the registered model if it has no version left."""
    client.delete_model_version(name, str(version))
    if not client.search_model_versions(f"name = '{name}'"):
        client.delete_registered_model(name)


def delete_versions_of_run(client: MlflowClient, run_id: str) -> None:
    """Delete the registered versions of a failed run (and models left without a version).

    A process killed between registering its model and finishing leaves a version
    that points at a run that never finished: a failed run leaves nothing registered.
    """
    for version in client.search_model_versions(f"run_id = '{run_id}'"):
        delete_version(client, version.name, version.version)
        logger.warning(
            "deleted version %s of model %s: its run %s never finished",
            version.version,
            version.name,
            run_id,
        )


class ModelRegistry:
    """Registered models of one MLflow store: aliases, version tags, deletion, loading.

    Parameters
    ----------
    store : MlflowStore or str
        The store (shared with a tracker: ``tracker.registry``) or its tracking URI.

    Examples
    --------
    >>> registry = MlflowTracker("sqlite:///mlruns.db", "icu").registry  # doctest: +SKIP
    >>> registry.set_alias("icu", "candidate", 3)  # doctest: +SKIP
    """

    def __init__(self, store: MlflowStore | str) -> None:
        self._store = store if isinstance(store, MlflowStore) else MlflowStore(store)

    def __repr__(self) -> str:
        return f"ModelRegistry({self._store!r})"

    def set_alias(self, name: str, alias: str, version: int | str) -> None:
        """Point ``alias`` (e.g. ``candidate``, ``approved``) of model ``name`` at ``version``.

        ``models:/<name>@<alias>`` then loads that version.
        """
        with self._store.failure(f"setting alias {alias!r} of model {name!r} to version {version}"):
            self._store.client.set_registered_model_alias(name, alias, str(version))

    def delete_alias_of(self, name: str, alias: str, version: int | str) -> bool:
        """Remove ``alias`` of model ``name`` if it points at ``version``; return whether it did."""
        with self._store.failure(f"removing alias {alias!r} of model {name!r}"):
            client = self._store.client
            aliases = client.get_registered_model(name).aliases or {}
            if str(aliases.get(alias)) != str(version):
                return False
            client.delete_registered_model_alias(name, alias)
        return True

    def delete_version(self, name: str, version: int | str) -> None:
        """Delete a registered version (and the registered model if it has no version left).

        Used when a run fails after registration (e.g. the PHI guard or the audit log):
        a failed run must leave nothing in the registry. Its aliases go with it.
        """
        with self._store.failure(f"deleting version {version} of model {name!r}"):
            delete_version(self._store.client, name, version)
        logger.info("deleted version %s of model %s", version, name)

    def model_version(self, name: str, version: int | str) -> dict[str, Any] | None:
        """Return ``{"run_id", "tags", "aliases"}`` of a registered version, or None if absent."""
        from mlflow.exceptions import MlflowException

        with self._store.failure(f"reading version {version} of model {name!r}"):
            try:
                found = self._store.client.get_model_version(name, str(version))
            except MlflowException as exc:
                logger.debug("model %s has no version %s: %s", name, version, exc)
                return None
        return {
            "run_id": found.run_id,
            "tags": dict(found.tags or {}),
            "aliases": list(found.aliases or []),
        }

    def set_version_tags(self, name: str, version: int | str, tags: Mapping[str, Any]) -> None:
        """Set tags (e.g. the acceptance verdict, the card's hash) on a registered version."""
        with self._store.failure(f"tagging version {version} of model {name!r}"):
            for key, value in tags.items():
                self._store.client.set_model_version_tag(
                    name, str(version), str(key), tag_text(value)
                )

    def latest_metrics(self, name: str) -> dict[str, Any] | None:
        """Return ``{"version", "metrics"}`` of the newest registered version of ``name``.

        ``metrics`` is that version's ``metrics.json`` artifact (the validation result the
        change log of the next report compares with); ``None`` if the model has no version
        yet or its run kept no ``metrics.json``.
        """
        import mlflow.artifacts

        with self._store.failure(f"reading the latest registered version of model {name!r}"):
            try:
                found = self._store.client.search_model_versions(f"name = '{name}'")
            except Exception as exc:  # the model is not registered yet
                logger.debug("no registered versions of %s: %s", name, exc)
                return None
            versions = [v for v in found if v.run_id]
            if not versions:
                return None
            latest = max(versions, key=lambda v: int(v.version))
            try:
                with contextlib.redirect_stderr(io.StringIO()):  # no progress bar on stderr
                    path = mlflow.artifacts.download_artifacts(
                        run_id=latest.run_id,
                        artifact_path="metrics.json",
                        tracking_uri=self._store.tracking_uri,
                    )
            except Exception as exc:
                logger.debug("version %s of %s has no metrics.json: %s", latest.version, name, exc)
                return None
            metrics = json.loads(Path(path).read_text(encoding="utf-8"))
        return {"version": str(latest.version), "metrics": metrics}

    def load_version(
        self, name: str, *, alias: str | None = None, version: int | str | None = None
    ) -> dict[str, Any] | None:
        """Load one registered version of ``name``, named by ``alias`` or by ``version``.

        Parameters
        ----------
        name : str
            The registered model.
        alias : str, optional
            An alias (``approved``, ``candidate``); used when ``version`` is None.
        version : int or str, optional
            A version number; takes precedence over ``alias``.

        Returns
        -------
        dict or None
            ``{"model", "version", "alias", "run_id", "tags", "uri", "input_schema"}``:
            the scikit-learn model as logged, its version (str), the alias it was
            found by (or None), the MLflow run, the version's tags, the
            ``models:/`` URI, and the signature's inputs as a list of
            ``{"name", "type"}`` (MLflow type names such as ``double``, ``long``,
            ``string``; empty if the model has no signature). None if the model,
            alias or version does not exist.
        """
        import mlflow.models
        import mlflow.sklearn
        from mlflow.exceptions import MlflowException

        client = self._store.client
        try:
            if version is not None:
                found = client.get_model_version(name, str(version))
            else:
                found = client.get_model_version_by_alias(name, str(alias))
        except MlflowException as exc:  # no such model, alias or version
            logger.debug("model %s has no version %s / alias %s: %s", name, version, alias, exc)
            return None
        uri = f"models:/{name}/{found.version}"
        with self._store.failure(f"loading version {found.version} of model {name!r}"):
            use_globally(self._store.tracking_uri)
            # MLflow draws a download progress bar on stderr: keep it out of the CLI output.
            with contextlib.redirect_stderr(io.StringIO()):
                model = mlflow.sklearn.load_model(uri)
                signature = mlflow.models.get_model_info(uri).signature
        inputs = [] if signature is None or signature.inputs is None else signature.inputs.inputs
        return {
            "model": model,
            "version": str(found.version),
            "alias": None if version is not None else alias,
            "run_id": found.run_id,
            "tags": dict(found.tags or {}),
            "uri": uri,
            "input_schema": [
                {"name": str(col.name), "type": str(getattr(col.type, "name", col.type))}
                for col in inputs
            ],
        }

    def load_model(
        self, name: str, *, aliases: Sequence[str] = ("approved", "candidate")
    ) -> dict[str, Any] | None:
        """Load the registered version of ``name`` the first of ``aliases`` points at.

        This is the model currently in use (``approved``) or, if none is approved
        yet, the latest ``candidate``, so a new version can be compared with it on
        the same patients.

        Returns
        -------
        dict or None
            ``{"model", "version", "alias", "run_id_tag"}`` (the scikit-learn model
            as logged; ``run_id_tag`` is the version's ``clinai_run_id`` tag, or
            None); None if no alias points at a version or the model is not
            registered.
        """
        import mlflow.sklearn

        for alias in aliases:
            try:
                version = self._store.client.get_model_version_by_alias(name, alias)
            except Exception as exc:  # no such model or alias
                logger.debug("model %s has no alias %s: %s", name, alias, exc)
                continue
            with self._store.failure(f"loading version {version.version} of model {name!r}"):
                use_globally(self._store.tracking_uri)
                # MLflow draws a download progress bar on stderr: keep it out of the CLI output.
                with contextlib.redirect_stderr(io.StringIO()):
                    model = mlflow.sklearn.load_model(f"models:/{name}@{alias}")
            return {
                "model": model,
                "version": str(version.version),
                "alias": alias,
                "run_id_tag": (version.tags or {}).get("clinai_run_id"),
            }
        return None
