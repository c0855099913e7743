"""A language model as judge: it rates each response with the rubric the clinicians get.

EPITOME ER/IP/EX (0-2) and the MITI 4.2.1 globals cultivating change talk and softening sustain
talk (1-5 or N/A) and partnership (1-5), with the definitions and anchors of
``carelens.review.questions``, so the judge can be checked against the clinicians. The judge is any
responder the generation engine can reach (``[scoring.judge] responder``); its requests go through
the engine, so they are rate-limited, retried and cached (the engine's SQLite cache): a re-run
asks nothing again. The reply must be a JSON object, validated by ``JudgeRating``.

Metrics: ``judge_<key>`` for each rubric item (N/A and failures are left out of the scores table)
and ``judge_valid``: 1 when the reply was a valid rating, 0 when it was refused, filtered, failed or
did not parse, so no failure is silent.
"""

import json
import re
from collections import Counter
from collections.abc import Sequence
from typing import Any, Literal, TypeVar

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from carelens.errors import CarelensError
from carelens.llm.settings import ClientConfig
from carelens.review.questions import EPITOME, MITI, NA, Question
from carelens.scoring.base import BaseScorer, Pair
from carelens.scoring.settings import JudgeConfig, ScoringConfig

ITEMS = tuple(q.key for q in (*EPITOME, *MITI))
JSON_OBJECT = re.compile(r"\{.*\}", re.DOTALL)
Rating = TypeVar("Rating", bound=BaseModel)


def _na_or_int(value: Any) -> Any:
    if value is None or (isinstance(value, str) and value.strip().upper().replace("/", "") == NA):
        return None
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return value


class JudgeRating(BaseModel):
    """The judge's answer: EPITOME levels 0-2; MITI globals 1-5, None for N/A where allowed."""

    model_config = ConfigDict(extra="ignore", strict=False)

    ER: Literal[0, 1, 2]
    IP: Literal[0, 1, 2]
    EX: Literal[0, 1, 2]
    MITI_CCT: int | None = Field(ge=1, le=5)
    MITI_SST: int | None = Field(ge=1, le=5)
    MITI_PARTNERSHIP: int = Field(ge=1, le=5)

    @field_validator(*ITEMS, mode="before")
    @classmethod
    def _normalise(cls, value: Any) -> Any:
        value = _na_or_int(value)
        if isinstance(value, bool) or isinstance(value, float):
            raise ValueError("give a whole number")
        return value


def _describe(question: Question) -> str:
    scale = ", ".join(
        f"{level} = {question.anchors.get(level, question.level_labels.get(level, level))}"
        for level in question.levels
    )
    na = ' Answer "NA" when it does not apply.' if question.allows_na else ""
    return f'- "{question.key}" ({question.label}): {question.definition} Scale: {scale}.{na}'


SYSTEM_PROMPT = "\n".join(
    [
        "You rate replies to people who asked for mental-health support on an online forum, as a clinical "
        "psychologist would. Rate the reply only, in the context of the seeker's post.",
        "",
        *[_describe(q) for q in (*EPITOME, *MITI)],
        "",
        "Answer with one JSON object and nothing else, with exactly these keys: "
        + ", ".join(f'"{k}"' for k in ITEMS)
        + '. Example: {"ER": 1, "IP": 2, "EX": 0, "MITI_CCT": "NA", "MITI_SST": 4, "MITI_PARTNERSHIP": 3}',
    ]
)


def messages(post: str, response: str) -> list[dict[str, str]]:
    """The chat messages that ask the judge to rate one response."""
    return [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": f"Seeker's post:\n{post}\n\nReply to rate:\n{response}"},
    ]


def parse_json_answer(text: str | None, model: type[Rating]) -> Rating | None:
    """A judge's answer read as ``model`` (the first {...} block, so code fences are tolerated), or
    None when there is none or it does not validate."""
    match = JSON_OBJECT.search(text or "")
    if not match:
        return None
    try:
        return model.model_validate(json.loads(match.group(0)))
    except (json.JSONDecodeError, ValidationError):
        return None


def parse_rating(text: str | None) -> JudgeRating | None:
    """The empathy / MITI rating in a judge's answer, or None."""
    return parse_json_answer(text, JudgeRating)


class JudgeScorer(BaseScorer):
    """Rubric ratings of each response by the configured judge model (see the module docstring).

    ``generation`` is the study's ``[generation]`` settings (providers, limits, cache) as a dict or
    a ``ClientConfig``; the evidence of each rating names the judge, or why there is no rating.
    """

    registered = "judge"
    metrics = (*(f"judge_{k}" for k in ITEMS), "judge_valid")
    ranges = {
        "judge_ER": (0, 2),
        "judge_IP": (0, 2),
        "judge_EX": (0, 2),
        "judge_MITI_CCT": (1, 5),
        "judge_MITI_SST": (1, 5),
        "judge_MITI_PARTNERSHIP": (1, 5),
        "judge_valid": (0, 1),
    }

    def __init__(
        self,
        *,
        responder: str,
        temperature: float = 0.0,
        max_tokens: int = 400,
        seed: int | None = 13,
        concurrency: int = 4,
        generation: dict[str, Any] | ClientConfig | None = None,
    ) -> None:
        self.judge = JudgeConfig(
            responder=responder,
            temperature=temperature,
            max_tokens=max_tokens,
            seed=seed,
            concurrency=concurrency,
        )
        self.responder, self.temperature, self.max_tokens = responder, temperature, max_tokens
        self.seed, self.concurrency = seed, concurrency
        base = ClientConfig.model_validate(generation) if isinstance(generation, dict) else generation
        self.generation = (base or ClientConfig()).model_copy(update={"concurrency": concurrency})
        self.name = f"judge:{responder}"
        self.notes: dict[str, Any] = {}

    def get_params(self) -> dict[str, Any]:
        params = super().get_params()
        params["generation"] = self.generation.model_dump(mode="json")
        return params

    @classmethod
    def from_config(cls, config: ScoringConfig, generation: ClientConfig | None = None) -> "JudgeScorer":
        if config.judge is None:
            raise CarelensError(
                "the judge scorer needs a [scoring.judge] table with a 'responder'", where="scoring.judge"
            )
        return cls(**config.judge.model_dump(), generation=generation)

    def score(self, pairs: Sequence[Pair]) -> pd.DataFrame:
        from carelens.llm.engine import ChatRequest, SamplingParams, run_requests

        params = SamplingParams(
            temperature=self.judge.temperature, max_tokens=self.judge.max_tokens, seed=self.judge.seed
        )
        requests = [
            ChatRequest(self.judge.responder, messages(post, response), params, tag="judge")
            for post, response in pairs
        ]
        cache = self.generation.cache
        results = run_requests(requests, config=self.generation, cache_path=cache, progress_label="judge")
        values: dict[str, list[float]] = {m: [] for m in self.metrics}
        evidence: dict[str, list[str]] = {m: [] for m in self.metrics}
        outcomes: Counter[str] = Counter()
        for result in results:
            rating = parse_rating(result.text) if result.ok else None
            outcome = result.status if not result.ok else ("ok" if rating else "unparsed")
            outcomes[outcome] += 1
            rated = rating.model_dump() if rating else {}
            for k in ITEMS:
                value = rated.get(k)
                values[f"judge_{k}"].append(float(value) if value is not None else float("nan"))
                evidence[f"judge_{k}"].append(f"rated {value} by {self.name}" if value is not None else "")
            values["judge_valid"].append(1.0 if rating else 0.0)
            evidence["judge_valid"].append(
                f"a valid rating from {self.name}"
                if rating
                else f"no valid rating from {self.name}: {outcome}"
            )
        for outcome, count in outcomes.items():
            self.notes[outcome] = self.notes.get(outcome, 0) + count
        return self.frame(values, evidence)
