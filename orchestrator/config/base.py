"""The base of every settings section: unknown keys, NaN and infinity are errors; settings never change."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Strict(BaseModel):
    # NaN and infinity would slip past every range check (a NaN limit compares false with everything).
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
