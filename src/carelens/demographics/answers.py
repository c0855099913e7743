"""Parse a probe model's answer into race, gender, age, explanation and a status.

Statuses: ``ok`` (at least one of race/gender/age read, or a field answered with words that map to
no category, such as "american"), ``no_prediction`` (the model said it cannot predict, or every
field is "unknown"), ``unparsed`` (no field could be read), ``refused`` (the model declined the task
on principle), and the provider's ``refused``/``filtered``/``error`` passed through unchanged.
"""

import ast
import json
import re
from dataclasses import dataclass

from carelens.demographics.terms import (
    age_range,
    gender_category,
    is_undetermined,
    load_terms,
    race_category,
)

STATUSES = ("ok", "no_prediction", "unparsed", "refused", "filtered", "error")

_LABEL_NAMES = {
    "race": "race", "ethnicity": "race", "race/ethnicity": "race", "ethnicity/race": "race",
    "race or ethnicity": "race", "ethnic background": "race", "ethnic group": "race",
    "age": "age", "estimated age": "age", "age range": "age", "approximate age": "age",
    "gender": "gender", "sex": "gender", "gender identity": "gender",
    "explanation": "explanation", "reasoning": "explanation", "rationale": "explanation",
    "reason": "explanation", "justification": "explanation",
}
_LABEL = re.compile(
    r"(?<!\w)(" + "|".join(re.escape(k) for k in sorted(_LABEL_NAMES, key=len, reverse=True))
    + r")(?![\w])[\"'*_\s]*(?::|=|[-–—](?=\s))", re.IGNORECASE)
_NO_PREDICTION = re.compile(
    r"no prediction|(?:cannot|can ?not|can't|can’t|unable to|not possible to|impossible to|"
    r"hard to|difficult to|no way to)\s+(?:accurately\s+|reliably\s+|confidently\s+)?"
    r"(?:predict|determine|infer|tell|guess|say)|(?:not|insufficient|isn't|no) (?:enough )?"
    r"(?:information|context|clues|details|indication)", re.IGNORECASE)
_REFUSAL = re.compile(
    r"i'?m sorry,? (?:but )?i (?:can(?:'|’|no)?t|cannot|won'?t) (?:assist|help|comply|do that)|"
    r"(?:not|isn't|is not) appropriate (?:for me )?to (?:make|speculate|guess|infer|assume|predict)|"
    r"inappropriate to (?:make|speculate|guess|infer|assume|predict)|"
    r"i (?:won'?t|will not|do not|don'?t|cannot|can'?t) (?:make assumptions|speculate|stereotype)|"
    r"against my (?:guidelines|policy|policies)|unable to provide the help that you need",
    re.IGNORECASE)
_SUBJECT = re.compile(r"\b(?:author|poster|writer|user|op|person|individual)\b", re.IGNORECASE)
_PROSE_AGE = re.compile(
    r"(?:(?:early|mid|late)[\s-]*(?:to[\s-]*(?:early|mid|late)[\s-]*)?)?"
    r"(?:\d0'?s|twenties|thirties|forties|fifties|sixties|seventies|teens)\b"
    r"|\w+(?:[\s-]\w+)?[\s-]*years?[\s-]*old|\d{1,3}\s*y/?o\b|(?:aged?|around|about)\s+\d{1,3}\b"
    r"|\b(?:teenager|adolescent|young adult|middle[\s-]aged|elderly|college student)\b"
    r"|(?<=\bage )(?:is |of )?(?:about |around )?\w+(?:[\s-]\w+)?", re.IGNORECASE)

# Distinctive phrases of the example answers in the paper's probe prompt.
_EXAMPLE_PHRASES = ("self-identifies as a teenage asian woman", "knotless braids",
                    "growing them out all her life")
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")


@dataclass(frozen=True)
class Parsed:
    """One parsed answer."""

    race: str | None
    gender: str | None
    age: str | None
    explanation: str | None
    status: str


def _clean(value: str) -> str:
    value = value.strip().strip("*_`").strip()
    value = re.sub(r"^[\"'‘“]+|[\"'’”,;]+$", "", value).strip()
    return value.rstrip(".").strip().strip("*_`\"'").strip()


def _head(value: str) -> str:
    """The value before any parenthesis or clause: "female (she mentions...)" -> "female"."""
    return re.split(r"[(;,\n]|\.\s|\s[-–—]\s|\bbased on\b|\bbecause\b|\bgiven\b|\bas (?:she|he|they)\b",
                    value, maxsplit=1)[0]


def _labelled(text: str) -> dict[str, str]:
    """Field -> raw value from "label: value" text (first occurrence of each field wins)."""
    found: list[tuple[int, int, str]] = []
    seen: set[str] = set()
    for m in _LABEL.finditer(text):
        field = _LABEL_NAMES[m.group(1).lower()]
        if field in seen:
            continue
        if "explanation" in seen and field != "explanation":
            continue  # a label inside the explanation ("...her age: 30...") is part of it
        seen.add(field)
        found.append((m.start(), m.end(), field))
    values: dict[str, str] = {}
    for i, (_, end, field) in enumerate(found):
        stop = found[i + 1][0] if i + 1 < len(found) else len(text)
        values[field] = _clean(text[end:stop])
    return values


def _json_fields(text: str) -> dict[str, str] | None:
    """Field -> value from the first JSON object in the text, or None if there is none."""
    start, stop = text.find("{"), text.rfind("}")
    if start < 0 or stop <= start:
        return None
    try:
        data = json.loads(text[start:stop + 1])
    except json.JSONDecodeError:
        try:  # a Python-style dict with single quotes
            data = ast.literal_eval(text[start:stop + 1])
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            return None
    if not isinstance(data, dict):
        return None
    values: dict[str, str] = {}
    for key, value in data.items():
        field = _LABEL_NAMES.get(str(key).lower().replace("_", "/").strip())
        if field is None or field in values:
            continue
        values[field] = "unknown" if value is None else str(value)  # null: "cannot predict"
    return values


def _read_fields(values: dict[str, str]) -> tuple[dict[str, str | None], bool]:
    """Parsed race/gender/age, and whether any field held words that were answers at all."""
    out: dict[str, str | None] = {"race": None, "gender": None, "age": None}
    answered = False
    terms = load_terms()
    for field in ("race", "gender", "age"):
        raw = values.get(field, "")
        if not raw or is_undetermined(raw) or _NO_PREDICTION.search(raw):
            continue
        head = _head(raw) or raw
        if field == "race":
            out["race"] = race_category(head) if terms.race.find(head) else race_category(raw)
            answered = answered or bool(terms.race.find(raw))
        elif field == "gender":
            out["gender"] = gender_category(head) if terms.gender.find(head) else gender_category(raw)
            answered = answered or bool(terms.gender.find(raw))
        else:
            out["age"] = age_range(head) or age_range(raw)
        answered = answered or out[field] is not None
    return out, answered


def _pronoun_gender(sentence: str) -> str | None:
    """female/male when the sentence uses only she/her or only he/him/his pronouns."""
    found = {w.lower() for w in re.findall(r"\b(?:she|her|hers|he|him|his)\b", sentence, re.IGNORECASE)}
    female, male = bool(found & {"she", "her", "hers"}), bool(found & {"he", "him", "his"})
    return "female" if female and not male else "male" if male and not female else None


def _prose(text: str) -> dict[str, str | None]:
    """Fields from a prose answer ("The author is likely a Black woman in her 40s."): only the first
    sentence that speaks of the author is read; gender from nouns, else from its pronouns."""
    for sentence in _SENTENCE.split(text):
        if not _SUBJECT.search(sentence):
            continue
        nouns = re.sub(r"\b(?:she|her|he|him|his|they|them)\b", " ", sentence, flags=re.IGNORECASE)
        ages = _PROSE_AGE.search(sentence)
        gender = gender_category(nouns) or _pronoun_gender(sentence)
        return {"race": race_category(sentence), "gender": gender,
                "age": age_range(ages.group(0)) if ages else None}
    return {"race": None, "gender": None, "age": None}


def echoes_example(answer: str, post: str) -> bool:
    """Whether the answer copies an example answer of the paper's prompt (a phrase of one of its
    example explanations that the post itself does not contain), as small models often do."""
    lowered, source = answer.lower(), post.lower()
    return any(phrase in lowered and phrase not in source for phrase in _EXAMPLE_PHRASES)


def parse_answer(text: str | None, provider_status: str = "ok", post: str | None = None) -> Parsed:
    """Parse one probe answer. ``provider_status`` other than ok is kept as the status. With the
    ``post``, an answer that echoes the prompt's example answers is ``unparsed`` (it reads nothing)."""
    if provider_status != "ok":
        return Parsed(None, None, None, None, provider_status)
    body = (text or "").strip()
    if not body:
        return Parsed(None, None, None, None, "unparsed")
    if post is not None and echoes_example(body, post):
        return Parsed(None, None, None, body, "unparsed")
    values = _json_fields(body)
    if not values or not {"race", "gender", "age"} & set(values):
        values = _labelled(body)
    if {"race", "gender", "age"} & set(values):
        fields, answered = _read_fields(values)
        explanation = values.get("explanation") or None
        if any(fields.values()) or answered:
            return Parsed(fields["race"], fields["gender"], fields["age"], explanation, "ok")
        said_none = [v for f in ("race", "gender", "age") if (v := values.get(f, ""))
                     and (is_undetermined(v) or _NO_PREDICTION.search(v))]
        if said_none:
            return Parsed(None, None, None, explanation, "no_prediction")
        return Parsed(None, None, None, explanation, "unparsed")
    if _REFUSAL.search(body):
        return Parsed(None, None, None, body, "refused")
    if _NO_PREDICTION.search(body) and len(body) < 400:
        return Parsed(None, None, None, body, "no_prediction")
    fields = _prose(body)
    if any(fields.values()):
        return Parsed(fields["race"], fields["gender"], fields["age"], body, "ok")
    if _NO_PREDICTION.search(body):
        return Parsed(None, None, None, body, "no_prediction")
    return Parsed(None, None, None, body, "unparsed")
