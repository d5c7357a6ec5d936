"""Database passwords in storage and tracking URLs never reach the resolved config or MLflow."""

from __future__ import annotations

from clinai.config import load_config
from clinai.runs._prepare import config_for_output, resolved_config_yaml


def test_passwords_are_hidden(tmp_path) -> None:
    config_file = tmp_path / "c.yaml"
    config_file.write_text(
        "experiment: x\npipeline: icu_mortality\n"
        "data: {source: {type: bundled, name: vcdExtra/ICU}}\n"
        "tuning: {storage: 'postgresql+psycopg2://clinai:s3cret-pw@db.example:5432/optuna'}\n"
        "tracking: {uri: 'http://mlflow:hidden-too@mlflow.example:5000'}\n"
    )
    config = load_config(config_file)
    text = resolved_config_yaml(config)
    assert "s3cret-pw" not in text and "hidden-too" not in text
    plain = config_for_output(config)
    assert plain["tuning"]["storage"] == "postgresql+psycopg2://clinai:***@db.example:5432/optuna"
    assert plain["tracking"]["uri"] == "http://mlflow:***@mlflow.example:5000"
    assert config.tuning.storage.endswith("s3cret-pw@db.example:5432/optuna")  # still usable
