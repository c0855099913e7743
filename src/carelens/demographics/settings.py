"""The [demographics] section of the study file: none, observational or counterfactual.

Example (the paper's counterfactual design, plus implicit cues from the cue bank)::

    [demographics]
    design = "counterfactual"
    races = ["black", "white"]
    genders = ["female", "male"]
    ages = [32]
    cue_kinds = ["explicit", "implicit"]
    explicit_templates = ["paper"]          # "[32y/o, black female] -- <post>"
    implicit_methods = ["bank"]             # or "rewrite" (needs rewrite_model)
    probe = "local:smollm2-135m"            # the inference probe, for the manipulation check

Observational (the paper's main design): ``design = "observational"`` with a ``probe``; posts are
grouped by the probe's inferred race; ``control = "no-race"`` (the paper: posts with no inferred
race) or ``"random"`` (a seeded random sample of all posts, ``control_size`` of them).
"""

import string
from collections.abc import Callable, Iterable
from typing import Literal

from pydantic import Field, field_validator, model_validator

from carelens.demographics.vocabulary import (
    GENDERS,
    MAX_AGE,
    MIN_AGE,
    RACES,
    canonical_gender,
    canonical_race,
)
from carelens.settings_base import Section

# Named explicit templates; "{post}" is the post, the rest is the cue.
EXPLICIT_TEMPLATES = {
    "paper": "[{short}] -- {post}",   # the paper's prefix: "[32y/o, black female] -- "
    "first-person": "{sentence} {post}",   # "I'm a 32-year-old Black woman. "
    "first-person-end": "{post}\n\n{sentence}",
}
# Placeholders a template may use, and the design attribute each needs (None: always available).
PLACEHOLDERS = {"post": None, "short": None, "sentence": None, "person": None,
                "race": "races", "Race": "races", "gender": "genders", "age": "ages"}


def template_fields(template: str) -> list[str]:
    """The placeholder names used in a template."""
    return [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]


def _check_template(template: str) -> None:
    try:
        names = template_fields(template)
    except ValueError as exc:
        raise ValueError(f"explicit template {template!r} is not a valid template: {exc}") from None
    unknown = sorted(set(names) - set(PLACEHOLDERS))
    if unknown:
        raise ValueError(f"explicit template {template!r} uses unknown placeholders {unknown}; "
                         f"allowed: {', '.join('{' + p + '}' for p in PLACEHOLDERS)}")
    if names.count("post") != 1 or not (template.startswith("{post}") or template.endswith("{post}")):
        raise ValueError(f"explicit template {template!r} must contain {{post}} exactly once, at its start "
                         "or end (the cue is the rest)")


def _canonical_names(value: list[str], canonical: Callable[[str], str | None], allowed: Iterable[str],
                     kind: str) -> list[str]:
    """Each name in its canonical form; unknown or repeated names are errors listing the allowed ones."""
    out = []
    for name in value:
        found = canonical(name)
        if found is None:
            raise ValueError(f"unknown {kind} {name!r}; allowed: {', '.join(allowed)}")
        out.append(found)
    if len(set(out)) != len(out):
        raise ValueError(f"a {kind} is listed twice: {value}")
    return out


class DemographicsConfig(Section):
    """The demographic design of a study.

    design: ``none`` (originals only), ``observational`` (group real posts by the probe's inference)
        or ``counterfactual`` (cue variants of every post, plus the unchanged original as control).
    races / genders / ages: the groups of a counterfactual design (races: black, white, asian,
        hispanic, middle_eastern, native_american, pacific_islander, multiracial; genders: female, male,
        non-binary; ages: whole years). In an observational design ``races`` restricts which inferred
        races form groups (others are grouped as ``other``).
    crossing: ``full`` (every combination, e.g. race x gender) or ``separate`` (one attribute at a time).
    cue_kinds: ``explicit`` (templates) and/or ``implicit`` (cue bank and/or rewrite).
    explicit_templates: names in ``EXPLICIT_TEMPLATES`` or custom templates with ``{post}`` at their
        start or end and placeholders {short} {sentence} {person} {race} {Race} {gender} {age}.
    implicit_methods: ``bank`` (insert a cue-bank sentence at a sentence boundary) and/or ``rewrite``
        (``rewrite_model`` weaves the same cue into the post).
    cue_banks: ``builtin`` (the packaged ``cue_bank.toml``) and/or paths to TOML files of the same form.
    cues_per_cell: distinct implicit cues per post and design cell.
    cue_position: where a bank cue goes: after the first sentence, at the start, at the end, or at a
        seeded random sentence boundary.
    min_similarity / max_length_change / min_retained: fidelity thresholds (embedding cosine similarity
        to the original; |relative length change|; for rewrites, the share of the original's words kept
        in order). With the defaults, on 60 random mh-eval posts, about 95% of template variants and
        90% of race x gender x age cue-bank variants pass; the failures are short posts, where the cue
        is a large part of the text.
    probe: the model (a responder spec) that infers race, gender and age; ``probe_prompt``: ``paper``
        (its prompt verbatim) or ``json``.
    control / control_size: the observational control group (see module doc).
    """

    design: Literal["none", "observational", "counterfactual"] = "none"
    races: list[str] = Field(default_factory=list)
    genders: list[str] = Field(default_factory=list)
    ages: list[int] = Field(default_factory=list)
    crossing: Literal["full", "separate"] = "full"
    cue_kinds: list[Literal["explicit", "implicit"]] = Field(default_factory=lambda: ["explicit"])  # type: ignore[arg-type]
    explicit_templates: list[str] = Field(default_factory=lambda: ["paper"])
    implicit_methods: list[Literal["bank", "rewrite"]] = Field(
        default_factory=lambda: ["bank"])  # type: ignore[arg-type]
    cue_banks: list[str] = Field(default_factory=lambda: ["builtin"], min_length=1)
    cues_per_cell: int = Field(default=1, ge=1)
    cue_position: Literal["after-first", "start", "end", "random"] = "after-first"
    rewrite_model: str | None = None
    rewrite_max_tokens: int = Field(default=1024, ge=16)
    min_similarity: float = Field(default=0.75, ge=0, le=1)
    max_length_change: float = Field(default=0.6, gt=0)
    min_retained: float = Field(default=0.9, ge=0, le=1)
    probe: str | None = None
    probe_prompt: Literal["paper", "json"] = "paper"
    probe_max_tokens: int = Field(default=96, ge=16)
    probe_temperature: float | None = Field(default=0.0, ge=0, le=2)
    control: Literal["no-race", "random"] = "no-race"
    control_size: int | None = Field(default=None, ge=1)

    @field_validator("races")
    @classmethod
    def _races(cls, value: list[str]) -> list[str]:
        return _canonical_names(value, canonical_race, RACES, "race")

    @field_validator("genders")
    @classmethod
    def _genders(cls, value: list[str]) -> list[str]:
        return _canonical_names(value, canonical_gender, GENDERS, "gender")

    @field_validator("ages")
    @classmethod
    def _ages(cls, value: list[int]) -> list[int]:
        bad = [a for a in value if not MIN_AGE <= a <= MAX_AGE]
        if bad:
            raise ValueError(f"ages {bad} outside {MIN_AGE}..{MAX_AGE}")
        if len(set(value)) != len(value):
            raise ValueError(f"an age is listed twice: {value}")
        return value

    @field_validator("explicit_templates")
    @classmethod
    def _templates(cls, value: list[str]) -> list[str]:
        for template in value:
            if template not in EXPLICIT_TEMPLATES:
                if "{" not in template:
                    raise ValueError(f"unknown explicit template {template!r}; allowed names: "
                                     f"{', '.join(EXPLICIT_TEMPLATES)}, or a template containing {{post}}")
                _check_template(template)
        return value

    @field_validator("probe", "rewrite_model")
    @classmethod
    def _model(cls, value: str | None) -> str | None:
        if value is not None:
            from carelens.llm.specs import model_spec

            model_spec(value)  # ValueError naming the allowed forms
        return value

    @model_validator(mode="after")
    def _design(self) -> "DemographicsConfig":
        if self.design == "observational" and self.probe is None:
            raise ValueError("design 'observational' needs a probe model: set demographics.probe "
                             "(e.g. \"local:smollm2-135m\")")
        groups = self.races or self.genders or self.ages
        if self.design == "counterfactual" and self.cue_kinds and not groups:
            raise ValueError("design 'counterfactual' needs groups: set demographics.races, "
                             "demographics.genders and/or demographics.ages")
        if "implicit" in self.cue_kinds and "rewrite" in self.implicit_methods and self.rewrite_model is None:
            raise ValueError("implicit_methods 'rewrite' needs demographics.rewrite_model")
        if "explicit" in self.cue_kinds:
            for template in self.explicit_templates:
                text = EXPLICIT_TEMPLATES.get(template, template)
                for name in template_fields(text):
                    needs = PLACEHOLDERS[name]
                    if needs and (not getattr(self, needs) or self.crossing == "separate"):
                        raise ValueError(f"explicit template {template!r} uses {{{name}}}, which needs "
                                         f"demographics.{needs} in every variant (set it, with crossing "
                                         "'full')")
        if self.cue_banks == ["builtin"] and self.design == "counterfactual" and "implicit" in self.cue_kinds:
            from carelens.demographics.cuebank import builtin_bank

            missing = builtin_bank().missing(self.races, self.genders, bool(self.ages))
            if missing:
                raise ValueError(f"the built-in cue bank has no implicit cue for {missing}; add a cue bank "
                                 "(demographics.cue_banks) or drop 'implicit' from demographics.cue_kinds")
        return self
