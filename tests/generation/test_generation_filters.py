"""PII stripping and refusal detection."""

import pytest

from carelens.llm.detect import filter_from_error_body, refusal_pattern
from carelens.llm.privacy import strip_messages, strip_pii
from support.fake_openai import PAPER_REFUSAL


@pytest.mark.parametrize(("text", "expected", "counts"), [
    ("ask u/sad_person or /u/Bob-22 about it", "ask [user] or [user] about it", {"username": 2}),
    ("dm @jane_doe.", "dm [user].", {"handle": 1}),
    ("mail jane.doe+x@mail.co.uk now", "mail [email] now", {"email": 1}),
    ("see https://reddit.com/u/foo?x=1, or www.example.org.", "see [url], or [url].", {"url": 2}),
    ("call +1 (555) 123-4567 or 020 7946 0958", "call [phone] or [phone]", {"phone": 2}),
    ("I am 32, it was 2019-2020, I owe $1,200,000", "I am 32, it was 2019-2020, I owe $1,200,000", {}),
    ("twitter @ me and email@ nowhere", "twitter @ me and email@ nowhere", {}),
])
def test_strip_pii(text: str, expected: str, counts: dict[str, int]) -> None:
    stripped, found = strip_pii(text)
    assert stripped == expected
    assert dict(found) == counts


def test_strip_messages_sums_counts() -> None:
    messages, counts = strip_messages([{"role": "system", "content": "ref u/abc_1"},
                                       {"role": "user", "content": "u/xyz_2 at a@b.io"}])
    assert [m["content"] for m in messages] == ["ref [user]", "[user] at [email]"]
    assert dict(counts) == {"username": 2, "email": 1}


@pytest.mark.parametrize("text", [
    PAPER_REFUSAL,
    "Here are some thoughts. Sadly I'm not able to provide the help that you need right now.",
    "I'm sorry, but I can't help with that.",
    "I’m sorry, I can’t assist with this request.",
    "I cannot comply.",
])
def test_refusals_found(text: str) -> None:
    assert refusal_pattern(text)


@pytest.mark.parametrize("text", [
    "I'm sorry you're going through this. You deserve support.",
    "I can't help but notice how much you care about your family.",
    "You are not alone. " * 20 + "I can't help with everything, but talking to a counselor could.",
    "",
    None,
])
def test_not_refusals(text: str | None) -> None:
    assert refusal_pattern(text) is None


def test_filter_from_error_body() -> None:
    assert filter_from_error_body({"code": "content_filter", "param": "prompt"})["where"] == "prompt"
    inner = {"error": {"code": None, "innererror": {"code": "ResponsibleAIPolicyViolation"}}}
    assert filter_from_error_body(inner) is not None
    assert filter_from_error_body({"error": {"code": "rate_limit_exceeded"}}) is None
    assert filter_from_error_body("not a dict") is None
