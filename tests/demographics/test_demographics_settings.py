"""The [demographics] study section: canonical names, and errors that name the key and allowed values."""

import pytest

from carelens.config import parse_study
from carelens.errors import CarelensError

HEAD = '[study]\nname = "s"\n[[data]]\ndataset = "mh-eval-counterfactual"\n[demographics]\n'


def _parse(section: str):
    return parse_study(HEAD + section, "study.toml").demographics


def test_names_are_canonicalised() -> None:
    config = _parse('design = "counterfactual"\nraces = ["Black", "Hispanic/Latino", "asian"]\n'
                    'genders = ["Female", "nonbinary"]\nages = [32, "45"]\n')
    assert config.races == ["black", "hispanic", "asian"]
    assert config.genders == ["female", "non-binary"]
    assert config.ages == [32, 45]


@pytest.mark.parametrize(("section", "message"), [
    ('races = ["black", "martian"]', r"demographics\.races: .*unknown race 'martian'; allowed: black, white"),
    ('genders = ["woman"]', r"demographics\.genders: .*unknown gender 'woman'; allowed: female, male"),
    ("ages = [7]", r"demographics\.ages: .*outside 13\.\.100"),
    ('races = ["black", "Black"]', "listed twice"),
    ('design = "observational"', "needs a probe model: set demographics.probe"),
    ('design = "counterfactual"', "needs groups: set demographics.races"),
    ('design = "counterfactual"\nraces = ["black"]\ncue_kinds = ["implicit"]\nimplicit_methods = ["rewrite"]',
     "needs demographics.rewrite_model"),
    ('explicit_templates = ["fancy"]', "unknown explicit template 'fancy'; allowed names: paper, first-pers"),
    ('explicit_templates = ["I am {race}."]', "must contain {post} exactly once"),
    ('explicit_templates = ["{post} {colour}"]', r"unknown placeholders \['colour'\]"),
    ('design = "counterfactual"\ngenders = ["female"]\nexplicit_templates = ["{Race}: {post}"]',
     r"uses \{Race\}, which needs demographics\.races"),
    ('design = "counterfactual"\nraces = ["pacific_islander"]\ncue_kinds = ["implicit"]',
     "no implicit cue for .*race=pacific_islander"),
    ('probe = "gpt-4"', "collected source, not a model"),
    ('probe = "martian:x"', "unknown provider 'martian'"),
    ('cue_position = "middle"', r"demographics\.cue_position"),
    ("desing = 'none'", "did you mean 'design'"),
])
def test_errors_name_the_key(section, message) -> None:
    with pytest.raises(CarelensError, match=message):
        _parse(section)


def test_paper_design_is_valid() -> None:
    config = _parse('design = "counterfactual"\nraces = ["black", "white"]\ngenders = ["female", "male"]\n'
                    'ages = [32]\ncue_kinds = ["explicit", "implicit"]\nprobe = "local:smollm2-135m"\n')
    assert config.probe == "local:smollm2-135m" and config.explicit_templates == ["paper"]
