"""Monitoring a deployed model: data drift, estimated performance, control charts, verdicts.

Pure statistics for ``clinai monitor``: drift of the features and the predicted
risk against aggregated development bins (:func:`drift_reference`,
:func:`count_bins`, :func:`feature_drift`, :func:`feature_drift_frame`).
No I/O; every result is frozen with a ``to_dict()``. Each module's ``__all__``
is re-exported here, so a name is listed once.
"""

from __future__ import annotations

from clinai.evaluation.monitoring import _drift, _updating
from clinai.evaluation.monitoring._drift import *  # noqa: F403
from clinai.evaluation.monitoring._updating import *  # noqa: F403

__all__ = [*_drift.__all__, *_updating.__all__]
