"""Every notebook runs top to bottom (in a scratch directory, so no store lands in the repo)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
#: What each notebook leaves behind (a glob under its working directory).
WRITES = {
    "01_quickstart.ipynb": "runs/icu_mortality/*/model_card.md",
    "02_monitoring.ipynb": "monitoring_demo/monitoring/monitoring.json",
}
#: Notebooks that take minutes (a run, a year of scoring and monitoring): slow tests.
SLOW = {"02_monitoring.ipynb"}

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    "path",
    [pytest.param(p, marks=[pytest.mark.slow] if p.name in SLOW else []) for p in NOTEBOOKS],
    ids=lambda p: p.name,
)
def test_notebook_runs(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("configs", "pipelines"):
        (tmp_path / name).symlink_to(ROOT / name)
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "1")
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()
    outputs = [
        o for cell in notebook.cells if cell.cell_type == "code" for o in cell.get("outputs", [])
    ]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert (tmp_path / "mlruns.db").is_file()
    assert any(tmp_path.glob(WRITES[path.name]))
