"""Responder specs: ``local:<model>``, ``openai:<model>``, ``azure:<deployment>``,
``openai-compatible:<name>@<base-url>`` (generated), or a collected source such as ``peer``."""

from dataclasses import dataclass

PROVIDER_KINDS = ("local", "openai", "azure", "openai-compatible")
LOCAL_MODELS = ("smollm2-135m",)
COLLECTED_PREFIXES = ("recorded",)
SPEC_FORMS = ("local:smollm2-135m, openai:<model>, azure:<deployment>, "
              "openai-compatible:<name>@<http(s)://host/v1>, or a collected source: peer, therapist, "
              "recorded:<name>")


@dataclass(frozen=True)
class ModelSpec:
    """A parsed model responder: provider kind, model (or deployment) name and, where given, base URL."""

    spec: str
    kind: str
    model: str
    base_url: str | None = None

    @property
    def local(self) -> bool:
        return self.kind == "local"


def parse_responder(spec: str) -> ModelSpec | None:
    """Parse a responder spec: a ModelSpec for a model, None for a collected source.

    Raises ValueError (naming the allowed forms) for a malformed model spec or an unknown provider.
    """
    kind, sep, rest = spec.partition(":")
    if not sep:
        if not spec.strip() or spec != spec.strip():
            raise ValueError(f"responder {spec!r}: empty or padded name; allowed forms: {SPEC_FORMS}")
        return None
    if kind in COLLECTED_PREFIXES:
        if not rest:
            raise ValueError(f"responder {spec!r}: give a name after 'recorded:'")
        return None
    if kind not in PROVIDER_KINDS:
        raise ValueError(f"responder {spec!r}: unknown provider '{kind}'; allowed forms: {SPEC_FORMS}")
    if kind == "openai-compatible":
        name, at, url = rest.partition("@")
        if not name or not at or not url.startswith(("http://", "https://")):
            raise ValueError(f"responder {spec!r}: write openai-compatible:<name>@<http(s)://host/v1>")
        return ModelSpec(spec, kind, name, url.rstrip("/"))
    if not rest:
        raise ValueError(f"responder {spec!r}: give a model name after '{kind}:'")
    if kind == "local" and rest not in LOCAL_MODELS:
        raise ValueError(f"responder {spec!r}: unknown local model; allowed: {', '.join(LOCAL_MODELS)}")
    return ModelSpec(spec, kind, rest)


def model_spec(spec: str) -> ModelSpec:
    """Parse a spec that must name a model (not a collected source)."""
    parsed = parse_responder(spec)
    if parsed is None:
        raise ValueError(f"responder {spec!r} is a collected source, not a model; "
                         f"allowed forms: {SPEC_FORMS}")
    return parsed
