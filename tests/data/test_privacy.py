from __future__ import annotations

import hashlib
import hmac
import re

import pandas as pd
import pytest

from clinai.data import _privacy, get_pseudonym_key, pseudonymise
from clinai.exceptions import DataError

KEY = b"a-test-key-that-is-long-enough-32b"


def test_matches_the_stdlib_hmac_reference() -> None:
    ids = pd.Series(["MRN001", "MRN002", "0101801234"], index=[5, 6, 7], name="mrn")
    result = pseudonymise(ids, key=KEY)
    expected = [hmac.new(KEY, i.encode("utf-8"), hashlib.sha256).hexdigest() for i in ids]
    assert result.tolist() == expected
    assert list(result.index) == [5, 6, 7] and result.name == "mrn"
    assert all(re.fullmatch(r"[0-9a-f]{64}", p) for p in result)


def test_deterministic_and_keyed() -> None:
    ids = pd.Series(["a", "b", "a"])
    first = pseudonymise(ids, key=KEY)
    assert first.tolist() == pseudonymise(ids, key=KEY).tolist()
    assert first.iloc[0] == first.iloc[2] != first.iloc[1]
    other = pseudonymise(ids, key=b"another key")
    assert not set(first) & set(other)


def test_integer_ids_hash_like_their_text() -> None:
    assert (
        pseudonymise(pd.Series([17]), key=KEY).iloc[0]
        == pseudonymise(pd.Series(["17"]), key=KEY).iloc[0]
    )


def test_missing_identifier() -> None:
    message = _privacy.IDS_MISSING.format(name=" 'mrn'", count=1)
    with pytest.raises(DataError, match=re.escape(message)):
        pseudonymise(pd.Series(["a", None], name="mrn"), key=KEY)


def test_bad_keys() -> None:
    with pytest.raises(DataError, match=re.escape(_privacy.EMPTY_KEY)):
        pseudonymise(pd.Series(["a"]), key=b"")
    with pytest.raises(DataError, match=re.escape(_privacy.KEY_NOT_BYTES.format(type="str"))):
        pseudonymise(pd.Series(["a"]), key="text")  # type: ignore[arg-type]


def test_key_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLINAI_PSEUDONYM_KEY", "s3cret-k3y")
    assert get_pseudonym_key(required=True) == b"s3cret-k3y"
    assert get_pseudonym_key(required=False) == b"s3cret-k3y"


@pytest.mark.parametrize("value", [None, ""])
def test_missing_key(monkeypatch: pytest.MonkeyPatch, value: str | None) -> None:
    if value is None:
        monkeypatch.delenv("CLINAI_PSEUDONYM_KEY", raising=False)
    else:
        monkeypatch.setenv("CLINAI_PSEUDONYM_KEY", value)
    assert get_pseudonym_key(required=False) is None
    with pytest.raises(DataError, match=f"^{re.escape(_privacy.KEY_NOT_SET)}$"):
        get_pseudonym_key(required=True)
    assert _privacy.KEY_NOT_SET.startswith(
        "CLINAI_PSEUDONYM_KEY is not set: data.require_pseudonymisation is true; "
        "export a secret key"
    )


def test_key_never_appears_in_messages_or_logs(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "VERY-SECRET-KEY-123"
    monkeypatch.setenv("CLINAI_PSEUDONYM_KEY", secret)
    caplog.set_level("DEBUG", logger="clinai")
    key = get_pseudonym_key(required=True)
    assert key is not None
    messages = []
    for bad in (pd.Series(["a", None]),):
        with pytest.raises(DataError) as info:
            pseudonymise(bad, key=key)
        messages.append(str(info.value))
    pseudonymise(pd.Series(["a", "b"]), key=key)
    text = " ".join(messages) + caplog.text
    assert secret not in text
    for constant in (_privacy.KEY_NOT_SET, _privacy.EMPTY_KEY, _privacy.IDS_MISSING):
        assert secret not in constant
