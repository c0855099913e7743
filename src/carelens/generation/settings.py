"""The [generation] section of the study file: who answers, under which prompt conditions, and how.

Example::

    [generation]
    responders = ["peer", "local:smollm2-135m", "openai:gpt-4o"]
    conditions = ["social_media", "clinician"]
    samples = 10
    temperature = 0.7

    [generation.sampling.clinician]            # per condition (a condition name) ...
    temperature = 0.2
    [generation.sampling."openai:gpt-4o"]      # ... or per responder (a responder spec); responder wins
    max_tokens = 400

    [generation.providers.openai]              # per provider kind, or per responder spec
    api_key_env = "OPENAI_API_KEY"             # the NAME of an environment variable, never the key
    requests_per_minute = 500
    tokens_per_minute = 30000                  # both hold per second too (no minute-sized bursts)

    [generation.prices."gpt-4o"]               # per model name or responder spec, USD per million tokens
    input = 2.5
    output = 10.0
"""

from pydantic import Field, field_validator, model_validator

from carelens.generation.prompts import PAPER_CONDITIONS
from carelens.llm.settings import ClientConfig
from carelens.llm.specs import parse_responder
from carelens.settings_base import Section


class SamplingOverride(Section):
    """Sampling parameters for one condition or one responder; unset keys keep the outer value."""

    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, gt=0, le=1)
    max_tokens: int | None = Field(default=None, ge=1)
    seed: int | None = None


class ConditionTemplate(SamplingOverride):
    """A user-defined prompt condition. ``{post}`` in either part is replaced by the post text.

    It may set its own sampling parameters (as ``[generation.sampling.<name>]`` would).
    """

    system: str = ""
    user: str = "{post}"

    @model_validator(mode="after")
    def _has_post(self) -> "ConditionTemplate":
        if "{post}" not in self.system and "{post}" not in self.user:
            raise ValueError("a condition template must contain '{post}' in 'system' or 'user'")
        return self


class GenerationConfig(ClientConfig):
    """Responders, conditions and sampling.

    A responder is either a collected source (``peer``, ``therapist``, ``recorded:gpt-4``), whose
    replies come with the data, or a model spec such as ``local:smollm2-135m``, ``openai:gpt-4o``,
    ``azure:<deployment>`` or ``openai-compatible:<name>@<base-url>``, which is generated.

    ``conditions`` names the paper's conditions (``social_media``, ``mental_health_forum``,
    ``clinician``, ``forum_without_demographics``, ``forum_with_demographics``) or keys of
    ``custom_conditions``. Sampling: the values here, then ``sampling.<condition>``, then
    ``sampling."<responder>"`` (unset means the provider's default; the local model defaults to
    max_tokens 160, temperature 0.7 and the study seed). With a seed, sample i uses seed + i.
    ``max_error_share`` (0..1, default 0): the share of ``error`` rows (requests that failed after
    their retries) above which the stage fails; its rows are still written, and a re-run retries
    exactly those rows. The client settings (``providers``, ``prices``, ``concurrency``,
    ``strip_pii``, ``cache``) are ``carelens.llm.settings.ClientConfig``'s and serve every stage.
    """

    responders: list[str] = Field(default_factory=lambda: ["peer"])
    conditions: list[str] = Field(default_factory=lambda: ["mental_health_forum"])
    custom_conditions: dict[str, ConditionTemplate] = Field(default_factory=dict)
    samples: int = Field(default=1, ge=1)
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, gt=0, le=1)
    max_tokens: int | None = Field(default=None, ge=1)
    seed: int | None = None
    sampling: dict[str, SamplingOverride] = Field(default_factory=dict)
    max_error_share: float = Field(default=0.0, ge=0, le=1)

    @field_validator("responders")
    @classmethod
    def _responders(cls, value: list[str]) -> list[str]:
        for spec in value:
            parse_responder(spec)  # raises ValueError with the allowed forms
        if len(set(value)) != len(value):
            raise ValueError("a responder is listed twice")
        return value

    @model_validator(mode="after")
    def _names(self) -> "GenerationConfig":
        clash = sorted(set(self.custom_conditions) & set(PAPER_CONDITIONS))
        if clash:
            raise ValueError(f"custom_conditions: {clash} would shadow the paper's conditions; rename them")
        known = [*PAPER_CONDITIONS, *self.custom_conditions]
        unknown = [c for c in self.conditions if c not in known]
        if unknown:
            raise ValueError(f"conditions: unknown {unknown}; allowed: {', '.join(known)} "
                             "(or define one under [generation.custom_conditions.<name>])")
        for key in self.sampling:
            if key not in known and key not in self.responders:
                raise ValueError(f"sampling.{key}: not a condition ({', '.join(known)}) nor a listed "
                                 f"responder ({', '.join(self.responders)})")
        return self
