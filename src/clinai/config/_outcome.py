"""The ``outcome:`` block of an experiment config: binary (the default) or survival.

A config without ``outcome:`` is a binary use case, exactly as before the block
existed (the block is left out of the resolved config and its hash then, so no
binary run's outputs change). ``type: survival`` asks the pipeline's
``outcome()`` for a follow-up time and an event per patient and validates
predicted risks at each of ``horizons`` (in the time unit of the data).
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = ["EventCodes", "OutcomeConfig"]

HORIZONS_NEEDED = (
    "outcome.horizons must list at least one positive time for a survival outcome "
    "(e.g. horizons: [365] in the data's time unit)"
)
HORIZONS_POSITIVE = "outcome.horizons must be positive, finite times; got {bad}"
HORIZONS_BINARY = (
    "outcome.horizons is only read for type: survival; remove it or set outcome.type: survival"
)
HORIZONS_NOT_BOOL = "outcome.horizons must be times (numbers), not true/false; got {value!r}"
CODES_BINARY = (
    "outcome.event_codes is only read for type: survival; remove it or set outcome.type: survival"
)
CODES_EQUAL = "outcome.event_codes: censored and event must be different codes; got {code}"
CODES_COMPETING = (
    "outcome.event_codes.competing must list codes distinct from censored ({censored}), "
    "event ({event}) and each other; got {competing}"
)


class EventCodes(BaseModel):
    """Which values of the pipeline's event column mean censored and the event."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    censored: int = 0
    event: int = 1
    #: Codes of competing events (e.g. death before recurrence); empty: none.
    competing: list[int] = Field(default_factory=list)

    @model_validator(mode="after")
    def _different(self) -> EventCodes:
        if self.censored == self.event:
            raise ValueError(CODES_EQUAL.format(code=self.event))
        codes = {self.censored, self.event, *self.competing}
        if len(codes) != len(self.competing) + 2:
            raise ValueError(
                CODES_COMPETING.format(
                    censored=self.censored, event=self.event, competing=self.competing
                )
            )
        return self


class OutcomeConfig(BaseModel):
    """The outcome kind of an experiment.

    ``type: binary`` (default): the pipeline's ``outcome()`` returns 0/1.
    ``type: survival``: it returns a frame with columns ``time`` (follow-up, >= 0)
    and ``event`` (``event_codes.event`` for the event, ``event_codes.censored``
    for censoring; default 1 and 0); every patient is kept, censored or not.
    ``horizons`` are the times the predicted risks speak of, sorted; the first is
    the one the run validates and reports.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["binary", "survival"] = "binary"
    horizons: list[float] = Field(default_factory=list)
    event_codes: EventCodes | None = None

    @field_validator("horizons", mode="before")
    @classmethod
    def _one_or_more(cls, value: object) -> object:
        """Read ``horizons: 365`` as ``[365]``; refuse true/false (YAML would make them 1/0)."""
        values = value if isinstance(value, list) else [value]
        for item in values:
            if isinstance(item, bool):
                raise ValueError(HORIZONS_NOT_BOOL.format(value=item))
        return values if isinstance(value, (int, float, str)) else value

    @model_validator(mode="after")
    def _horizons(self) -> OutcomeConfig:
        if self.type == "binary":
            if self.horizons:
                raise ValueError(HORIZONS_BINARY)
            if self.event_codes is not None:
                raise ValueError(CODES_BINARY)
            return self
        if not self.horizons:
            raise ValueError(HORIZONS_NEEDED)
        bad = [h for h in self.horizons if not (math.isfinite(h) and h > 0)]
        if bad:
            raise ValueError(HORIZONS_POSITIVE.format(bad=bad))
        return self

    @property
    def is_survival(self) -> bool:
        """Whether this is a time-to-event outcome."""
        return self.type == "survival"

    @property
    def codes(self) -> EventCodes:
        """The event codes (default 0 censored, 1 event)."""
        return self.event_codes or EventCodes()
