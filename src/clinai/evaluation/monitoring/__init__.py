"""Monitoring a deployed model: data drift, estimated performance, control charts, verdicts.

Pure statistics for ``clinai monitor`` and ``clinai update``:

- drift of the features and the predicted risk against aggregated development
  bins (:func:`drift_reference`, :func:`count_bins`, :func:`feature_drift`,
  :func:`feature_drift_frame`);
- performance estimated from the risks before outcomes arrive
  (:func:`estimated_performance`, CBPE);
- the risk-adjusted CUSUM of observed against expected events
  (:func:`risk_adjusted_cusum`, :func:`cusum_limit`);
- a period's verdict against the plan's limits (:func:`period_verdict`; the names a
  plan may use: :data:`MONITORING_METRICS`, :data:`MONITORING_ACTIONS`);
- the least extensive adequate model update (:func:`closed_testing_update`).

No I/O; every result is frozen with a ``to_dict()``. Each module's ``__all__``
is re-exported here, so a name is listed once.
"""

from __future__ import annotations

from clinai.evaluation.monitoring import (
    _control,
    _drift,
    _drift_reference,
    _estimated,
    _updating,
    _verdict,
)
from clinai.evaluation.monitoring._control import *  # noqa: F403
from clinai.evaluation.monitoring._drift import *  # noqa: F403
from clinai.evaluation.monitoring._drift_reference import *  # noqa: F403
from clinai.evaluation.monitoring._estimated import *  # noqa: F403
from clinai.evaluation.monitoring._updating import *  # noqa: F403
from clinai.evaluation.monitoring._verdict import *  # noqa: F403

__all__ = [
    *_drift_reference.__all__,
    *_drift.__all__,
    *_estimated.__all__,
    *_control.__all__,
    *_verdict.__all__,
    *_updating.__all__,
]
