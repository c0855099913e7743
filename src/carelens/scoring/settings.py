"""The [scoring] section of the study file: which scorers run and how."""

from typing import Any, Literal

from pydantic import Field, field_validator

from carelens.settings_base import Section


class JudgeConfig(Section):
    """A language model that rates each response with the clinicians' rubric (the ``judge`` scorer).

    ``responder`` is a model spec as in ``[generation].responders`` (``local:smollm2-135m``,
    ``openai:gpt-4o``, ``openai-compatible:<name>@<base-url>`` ...).
    """

    responder: str = Field(min_length=1)
    temperature: float = Field(default=0.0, ge=0, le=2)
    max_tokens: int = Field(default=400, ge=16)
    seed: int | None = 13
    concurrency: int = Field(default=4, ge=1)


class ScoringConfig(Section):
    """Scorers by registered name (see ``carelens.scoring.base``) and their options.

    - ``scorers``: built-in names (empathy, offensive, toxigen, sentiment, sentiment-roberta, safety,
      text, judge) or names registered by plugins under the ``carelens.scorers`` entry point.
    - ``empathy_variant``: ``span`` (the default: a head on frozen MiniLM features of the reply mixed
      with sentence heads learnt from EPITOME's rationale spans, trains in a few minutes), ``fast``
      (the reply head alone, about a minute) or ``full`` (MiniLM fine-tuned on the response, about 14
      minutes on 2 cores). The first use of a variant trains it when the cache has none.
    - ``truncate_tokens``: score (and train on) only the first N word-piece tokens of a response; the
      EPITOME paper used 64. None uses the whole response.
    - ``empathy_model``: a folder holding a trained empathy model, instead of the one in the cache.
    - ``toxigen_model`` / ``sentiment_model``: hub names or local folders of the paper's classifiers.
    - ``on_unavailable``: ``skip`` a scorer whose model cannot be loaded offline (with a message
      recorded in the run's manifest) or stop with an ``error``.
    - ``batch_size``: pairs per scoring batch; ``workers``: processes for the pure-Python scorers.
    - ``judge``: the model that rates responses for the ``judge`` scorer.
    - ``options``: per-scorer tables ``[scoring.options.<name>]``: any constructor parameter of a
      built-in scorer (e.g. ``[scoring.options.empathy] window_words = 64``), or a plugin's options.
    """

    scorers: list[str] = Field(
        default_factory=lambda: ["empathy", "offensive", "sentiment", "safety", "text", "mi"]
    )
    empathy_variant: Literal["span", "fast", "full"] = "span"
    truncate_tokens: int | None = Field(default=None, ge=8)
    empathy_model: str | None = None
    toxigen_model: str = "tomh/toxigen_roberta"
    sentiment_model: str = "siebert/sentiment-roberta-large-english"
    on_unavailable: Literal["skip", "error"] = "skip"
    batch_size: int = Field(default=512, ge=1)
    workers: int = Field(default=2, ge=1)
    judge: JudgeConfig | None = None
    options: dict[str, dict[str, Any]] = Field(default_factory=dict)

    @field_validator("scorers")
    @classmethod
    def _known_scorers(cls, names: list[str]) -> list[str]:
        from carelens.scoring.base import scorer_names

        allowed = scorer_names()
        unknown = [n for n in names if n not in allowed]
        if unknown:
            raise ValueError(f"unknown scorer(s) {unknown}; allowed: {', '.join(allowed)}")
        if len(set(names)) != len(names):
            raise ValueError("a scorer is listed twice")
        return names
