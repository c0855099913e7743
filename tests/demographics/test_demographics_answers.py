"""The probe-answer parser on realistic answers, the term table, the age parser, and the prompts."""

import pytest
from answer_holdout import HOLDOUT
from answer_table import CASES

from carelens.demographics.answers import parse_answer
from carelens.demographics.prompts import PAPER_PROBE_HEAD, PAPER_PROBE_TAIL, probe_prompt
from carelens.demographics.terms import age_bounds, age_range, load_terms, race_category
from carelens.demographics.vocabulary import GENDERS, RACES


@pytest.mark.parametrize(("text", "provider", "status", "race", "gender", "age"), CASES)
def test_answer_table(text, provider, status, race, gender, age) -> None:
    parsed = parse_answer(text, provider)
    assert (parsed.status, parsed.race, parsed.gender, parsed.age) == (status, race, gender, age)


def test_table_is_large_and_varied() -> None:
    assert len(CASES) >= 40
    statuses = {c[2] for c in CASES}
    assert statuses == {"ok", "no_prediction", "unparsed", "refused", "filtered", "error"}


def test_holdout_accuracy_floor() -> None:
    hits = sum((p.status, p.race, p.gender, p.age) == (s, r, g, a)
               for t, prov, s, r, g, a in HOLDOUT for p in [parse_answer(t, prov)])
    assert hits / len(HOLDOUT) >= 0.9


def test_explanation_kept_and_label_inside_it_ignored() -> None:
    parsed = parse_answer("ethnicity: white, age: 40s, gender: male, explanation: he says his age: 52 "
                          "and race: black are irrelevant")
    assert parsed.age == "40-49" and parsed.race == "white"
    assert parsed.explanation is not None and parsed.explanation.startswith("he says his age: 52")


def test_echo_of_the_prompts_example_is_unparsed() -> None:
    echo = ('The answer is "ethnicity: asian, age: 18, gender: female, explanation: she self-identifies '
            'as a teenage asian woman."')
    assert parse_answer(echo, post="I can't sleep.").status == "unparsed"
    assert parse_answer(echo).status == "ok"  # without the post there is nothing to compare
    braids = "ethnicity: black, age: 20s, gender: female, explanation: she mentions knotless braids"
    assert parse_answer(braids, post="I sat for knotless braids all day.").race == "black"
    assert parse_answer(braids, post="I can't sleep.").status == "unparsed"


def test_provider_status_wins_over_text() -> None:
    parsed = parse_answer("ethnicity: black, age: 30, gender: female", "filtered")
    assert parsed.status == "filtered" and parsed.race is None


@pytest.mark.parametrize(("words", "expected"), [
    ("40s", "40-49"), ("early 20s", "20-23"), ("mid-20s", "24-26"), ("late 20s", "27-29"),
    ("eighteen", "18"), ("thirty-two", "32"), ("twenty two", "22"), ("fifties", "50-59"),
    ("late 20s to early 30s", "27-33"), ("20s or 30s", "20-39"), ("40's", "40-49"),
    ("twenty-something", "20-29"), ("between 25 and 30", "25-30"), ("30+", "30+"), ("over 30", "31+"),
    ("65 or older", "65+"), ("under 18", "13-17"), ("late teens", "17-19"), ("teenager", "13-19"),
    ("young adult", "18-29"), ("middle-aged", "40-64"), ("32yo", "32"), ("unknown", None),
    ("no prediction", None), ("1990s", None),
])
def test_age_range(words, expected) -> None:
    assert age_range(words) == expected


def test_age_bounds() -> None:
    assert age_bounds("32") == (32, 32)
    assert age_bounds("40-49") == (40, 49)
    assert age_bounds("65+") == (65, 120)
    assert age_bounds("old") is None


@pytest.mark.parametrize(("words", "expected"), [
    ("Nigerian", "black"), ("African-American", "black"), ("Black/African American", "black"),
    ("caucasian", "white"), ("Irish", "white"), ("Korean", "asian"), ("Indian", "asian"),
    ("American Indian", "native_american"), ("Puerto Rican", "hispanic"), ("latina", "hispanic"),
    ("Lebanese", "middle_eastern"), ("samoan", "pacific_islander"), ("black and white", "multiracial"),
    ("half asian half white", "multiracial"), ("white or hispanic", None), ("asian/white", None),
    ("American", None), ("British", None), ("unknown", None),
])
def test_race_words(words, expected) -> None:
    assert race_category(words) == expected


def test_term_table_categories_are_known() -> None:
    terms = load_terms()
    assert set(terms.race.categories.values()) <= {*RACES, "unmapped"}
    assert set(terms.gender.categories.values()) == set(GENDERS)
    assert len(terms.race.categories) > 150


def test_paper_prompt_is_verbatim(mirror) -> None:
    readme = (mirror / "mh-eval" / "README.md").read_text(encoding="utf-8")
    assert f"`{PAPER_PROBE_HEAD}` + POST +\n`{PAPER_PROBE_TAIL}`" in readme
    assert probe_prompt("POST", "paper") == PAPER_PROBE_HEAD + "POST" + PAPER_PROBE_TAIL
    json_prompt = probe_prompt("my post {x}", "json")
    assert json_prompt.endswith("my post {x}") and '"race": null' in json_prompt
    with pytest.raises(ValueError, match="allowed: paper, json"):
        probe_prompt("x", "yaml")
