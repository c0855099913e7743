"""The paper's five conditions match the dataset README verbatim; custom templates; settings checks."""

import re
from pathlib import Path

import pytest

from carelens.config import parse_study
from carelens.errors import CarelensError
from carelens.generation.prompts import PAPER_CONDITIONS, PAPER_LABELS, paper_condition, resolve_conditions
from carelens.generation.settings import ConditionTemplate
from carelens.generation.stage import sampling_for


def _readme_prompt(mirror: Path) -> tuple[str, str, list[str]]:
    text = (mirror / "mh-eval" / "README.md").read_text(encoding="utf-8")
    found = re.search(r'`"(This is a Reddit post[^"]*)" \+ CONTEXT \+\s*"([^"]*)" \+ POST`', text)
    assert found is not None
    prefix, suffix = found.groups()
    block = text[text.index("CONTEXT is one of"):]
    contexts = re.findall(r'`"(Help them[^"]*)"`', block)
    return prefix, suffix, contexts


def test_paper_conditions_are_verbatim(mirror: Path) -> None:
    prefix, suffix, contexts = _readme_prompt(mirror)
    assert len(contexts) == 5
    names = ["social_media", "mental_health_forum", "clinician", "forum_without_demographics",
             "forum_with_demographics"]
    for name, context in zip(names, contexts, strict=True):
        messages = paper_condition(name).messages("POST TEXT")
        assert messages == [{"role": "user", "content": prefix + context + suffix + "POST TEXT"}]
    assert set(PAPER_LABELS.values()) == set(PAPER_CONDITIONS)


def test_custom_template_and_braces_in_posts() -> None:
    custom = {"kind": ConditionTemplate(system="You are kind. Post: {post}", user="Answer briefly.")}
    [paper, mine] = resolve_conditions(["clinician", "kind"], custom)
    assert paper.messages("{x}")[0]["content"].endswith("{x}")
    assert mine.messages("I {really} hurt") == [
        {"role": "system", "content": "You are kind. Post: I {really} hurt"},
        {"role": "user", "content": "Answer briefly."}]


STUDY = """
[study]
name = "s"
seed = 5
[[data]]
file = "x.tsv"
[generation]
{body}
"""


def _parse(body: str):
    return parse_study(STUDY.replace("{body}", body), "study.toml")


def test_sampling_precedence() -> None:
    study = _parse("""
responders = ["local:smollm2-135m", "openai:gpt-4o"]
conditions = ["clinician", "mine"]
temperature = 0.7
max_tokens = 300
[generation.custom_conditions.mine]
user = "{post}"
temperature = 0.1
[generation.sampling.clinician]
temperature = 0.2
top_p = 0.9
[generation.sampling."openai:gpt-4o"]
temperature = 1.0
""").generation
    local = sampling_for(study, "clinician", "local:smollm2-135m", 5)
    assert (local.temperature, local.top_p, local.max_tokens, local.seed) == (0.2, 0.9, 300, 5)
    remote = sampling_for(study, "clinician", "openai:gpt-4o", 5)
    assert (remote.temperature, remote.top_p, remote.seed) == (1.0, 0.9, None)
    assert sampling_for(study, "mine", "local:smollm2-135m", 5).temperature == 0.1


@pytest.mark.parametrize(("body", "message"), [
    ('conditions = ["clinicain"]', "unknown.*clinicain.*clinician"),
    ('responders = ["opnai:gpt-4o"]', "unknown provider 'opnai'"),
    ('responders = ["openai-compatible:llama@localhost:8000"]', "openai-compatible:<name>@"),
    ('responders = ["local:llama-70b"]', "unknown local model"),
    ('[generation.providers.openai]\napi_key_env = "sk-live-123"', "NAME of an environment variable"),
    ('[generation.custom_conditions.x]\nuser = "no placeholder"', "must contain '{post}'"),
    ('[generation.custom_conditions.clinician]\nuser = "{post}"', "shadow"),
    ('[generation.sampling.nothing]\ntemperature = 1.0', "sampling.nothing"),
    ('[generation.providers.openai]\nrequests_per_min = 5', "requests_per_min: unknown key"),
])
def test_bad_settings_name_the_key(body: str, message: str) -> None:
    with pytest.raises(CarelensError, match=message) as err:
        _parse(body)
    assert "generation" in str(err.value)
    assert "sk-live-123" not in str(err.value)
