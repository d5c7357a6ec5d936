"""An Optuna storage URL that cannot work stops in one line, with its password hidden.

SQLAlchemy 2.1 reads ``postgresql://`` as psycopg 3, which the README recipe does not install
(it installs psycopg2): the run stopped with "internal error: ModuleNotFoundError: No module
named 'psycopg'"; an unreachable server with "internal error: OperationalError".
"""

from __future__ import annotations

import importlib.util

import pytest

from clinai.exceptions import ConfigError
from clinai.runs._workers import check_storage_driver, study_lock


@pytest.mark.parametrize("url", ["sqlite:///optuna.db", "sqlite:///:memory:", None])
def test_sqlite_and_memory_need_nothing_more(url: str | None) -> None:
    check_storage_driver(url)


def test_a_missing_driver_is_named_with_the_password_hidden() -> None:
    if importlib.util.find_spec("MySQLdb") is not None:
        pytest.skip("MySQLdb is installed here")
    with pytest.raises(ConfigError) as caught:
        check_storage_driver("mysql://clinai:s3cret@db.example/optuna")
    message = str(caught.value)
    assert "needs the database driver 'MySQLdb', which is not installed" in message
    assert "s3cret" not in message and "clinai:***@db.example" in message


def test_plain_postgresql_names_psycopg2_when_psycopg_3_is_missing() -> None:
    if importlib.util.find_spec("psycopg") is not None:
        pytest.skip("psycopg 3 is installed here: postgresql:// works")
    with pytest.raises(ConfigError, match=r"driver 'psycopg'.*postgresql\+psycopg2://"):
        check_storage_driver("postgresql://clinai@db.example/optuna")
    check_storage_driver("postgresql+psycopg2://clinai@db.example/optuna")  # installed


def test_not_a_url_is_refused() -> None:
    with pytest.raises(ConfigError, match="is not a database URL"):
        check_storage_driver("optuna.db")


def test_an_unreachable_server_stops_in_one_line() -> None:
    url = "postgresql+psycopg2://clinai:s3cret@127.0.0.1:9/optuna"  # port 9: nothing listens
    with pytest.raises(ConfigError) as caught, study_lock(url, "study"):
        pass
    message = str(caught.value)
    assert message.startswith("could not connect to tuning.storage")
    assert "Connection refused" in message and "s3cret" not in message
