"""How the client reaches models: per-provider settings, prices, concurrency, PII stripping, the cache.

Every stage that asks a model passes a ``ClientConfig``; the study file's ``[generation]`` section is
one (``GenerationConfig`` extends it), so ``[generation.providers.<kind>]``, ``[generation.prices]``,
``concurrency``, ``strip_pii`` and ``cache`` apply to the probe, the rewrite, the generate stage and
the judge alike.
"""

import re

from pydantic import Field, field_validator

from carelens.settings_base import Section

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class ProviderConfig(Section):
    """How to reach one provider kind (``openai``, ``azure``, ``openai-compatible``, ``local``) or one
    responder spec. Secrets are read from the environment variables named here, never from the file.

    ``base_url``: the API root (``openai``: default https://api.openai.com/v1; ``azure``: the resource
    endpoint, default ``$AZURE_OPENAI_ENDPOINT``). ``headers``: extra HTTP headers; a value written
    ``env:NAME`` is read from the environment variable NAME at run time. ``requests_per_minute`` and
    ``tokens_per_minute`` hold at every time scale: no second sees more than a sixtieth of them.
    """

    base_url: str | None = None
    api_key_env: str | None = None
    api_version: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    requests_per_minute: float | None = Field(default=None, gt=0)
    tokens_per_minute: float | None = Field(default=None, gt=0)
    concurrency: int | None = Field(default=None, ge=1)
    timeout_seconds: float = Field(default=60.0, gt=0)
    max_attempts: int = Field(default=6, ge=1)
    strip_pii: bool | None = None

    @field_validator("api_key_env")
    @classmethod
    def _env_name(cls, value: str | None) -> str | None:
        if value is not None and not _ENV_NAME.match(value):
            raise ValueError("must be the NAME of an environment variable holding the key (e.g. "
                             "OPENAI_API_KEY), never the key itself")
        return value


class Price(Section):
    """US dollars per million tokens."""

    input: float = Field(ge=0)
    output: float = Field(ge=0)


class ClientConfig(Section):
    """The client settings shared by every stage.

    ``concurrency``: requests in flight per responder (a provider's own ``concurrency`` wins).
    ``strip_pii`` (default: on for every non-local provider) removes usernames, @handles, e-mail
    addresses, phone numbers and URLs from what is sent. ``providers``: per provider kind or responder
    spec. ``prices``: per model name or responder spec. ``cache``: the SQLite response cache (default
    ``~/.cache/carelens/generation.sqlite``).
    """

    concurrency: int = Field(default=8, ge=1)
    strip_pii: bool | None = None
    providers: dict[str, ProviderConfig] = Field(default_factory=dict)
    prices: dict[str, Price] = Field(default_factory=dict)
    cache: str | None = None
