"""The base of every study-file section: unknown keys are errors, not silently ignored."""

from pydantic import BaseModel, ConfigDict


class Section(BaseModel):
    """A study-file table. Typos in keys are reported with the allowed keys."""

    model_config = ConfigDict(extra="forbid", frozen=True)
