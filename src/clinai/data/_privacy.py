"""Pseudonymisation of patient identifiers with a keyed HMAC-SHA256.

The key comes from the environment variable ``CLINAI_PSEUDONYM_KEY`` and is
never logged, stored or put into a message. Without the key a pseudonym cannot
be linked back to the identifier, and the same key gives the same pseudonym,
so one patient's rows stay together across files and runs.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os

import pandas as pd

from clinai.exceptions import DataError

__all__ = ["PSEUDONYM_KEY_ENV", "get_pseudonym_key", "pseudonymise"]

logger = logging.getLogger(__name__)

PSEUDONYM_KEY_ENV = "CLINAI_PSEUDONYM_KEY"

KEY_NOT_SET = (
    "CLINAI_PSEUDONYM_KEY is not set: data.require_pseudonymisation is true; export a secret "
    "key (for example: export CLINAI_PSEUDONYM_KEY=\"$(python -c 'import secrets; "
    "print(secrets.token_hex(32))')\") and keep it out of the repository"
)
EMPTY_KEY = "the pseudonymisation key is empty: pass the bytes of a secret key"
KEY_NOT_BYTES = "the pseudonymisation key must be bytes, got {type}: pass key.encode('utf-8')"
IDS_MISSING = (
    "patient identifier column{name} has {count} missing value(s): every row needs a patient "
    "identifier; fix the data or data.patient_id"
)


def get_pseudonym_key(*, required: bool) -> bytes | None:
    """Read the pseudonymisation key from ``CLINAI_PSEUDONYM_KEY``.

    Parameters
    ----------
    required : bool
        Whether a missing key is an error (``data.require_pseudonymisation``).

    Returns
    -------
    bytes or None
        The UTF-8 bytes of the key, or None when it is not set (or empty) and
        not required.

    Raises
    ------
    DataError
        If ``required`` and the variable is not set or empty. The key itself
        never appears in a message or log line.

    Examples
    --------
    >>> key = get_pseudonym_key(required=False)  # None unless CLINAI_PSEUDONYM_KEY is set
    """
    value = os.environ.get(PSEUDONYM_KEY_ENV, "")
    if not value:
        if required:
            raise DataError(KEY_NOT_SET)
        logger.debug("%s is not set", PSEUDONYM_KEY_ENV)
        return None
    return value.encode("utf-8")


def pseudonymise(ids: pd.Series, *, key: bytes) -> pd.Series:
    """Replace identifiers by their keyed HMAC-SHA256 (64 lowercase hex characters).

    Each identifier is converted with ``str()`` and encoded as UTF-8 before
    hashing, so ``1`` (int) and ``"1"`` give the same pseudonym but ``1.0`` does
    not: read identifiers as text.

    Parameters
    ----------
    ids : pandas.Series
        Patient identifiers.
    key : bytes
        Secret key (see :func:`get_pseudonym_key`); the same key always gives the
        same pseudonyms.

    Returns
    -------
    pandas.Series
        Pseudonyms (str) with the index and name of ``ids``.

    Raises
    ------
    DataError
        If the key is empty or not bytes, or an identifier is missing.

    Examples
    --------
    >>> import pandas as pd
    >>> p = pseudonymise(pd.Series(["MRN001"]), key=b"secret")
    >>> len(p.iloc[0])
    64
    """
    if not isinstance(key, bytes | bytearray):
        raise DataError(KEY_NOT_BYTES.format(type=type(key).__name__))
    if not key:
        raise DataError(EMPTY_KEY)
    n_missing = int(ids.isna().sum())
    if n_missing:
        name = f" '{ids.name}'" if ids.name is not None else ""
        raise DataError(IDS_MISSING.format(name=name, count=n_missing))
    secret = bytes(key)
    digests = [
        hmac.new(secret, str(value).encode("utf-8"), hashlib.sha256).hexdigest()
        for value in ids.tolist()
    ]
    return pd.Series(digests, index=ids.index, name=ids.name, dtype=object)
