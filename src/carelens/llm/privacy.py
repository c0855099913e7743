"""Strip personal identifiers from text before it leaves the machine.

Removed, in this order, each replaced by a bracketed placeholder: URLs, e-mail addresses, Reddit
usernames (``u/name``, ``/u/name``), @handles and phone numbers (at least 9 digits). Counts per kind are
returned so the manifest can say what was removed.
"""

import re
from collections import Counter

_PATTERNS: tuple[tuple[str, re.Pattern[str], str], ...] = (
    ("url", re.compile(r"(?i)\b(?:https?://|www\.)[^\s<>\"')\]]*[^\s<>\"')\].,;:!?]"), "[url]"),
    ("email", re.compile(r"(?i)\b[\w.+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}\b"), "[email]"),
    ("username", re.compile(r"(?<![\w/])/?u/[A-Za-z0-9_-]{3,20}\b"), "[user]"),
    ("handle", re.compile(r"(?<![\w@.])@[A-Za-z0-9_](?:[A-Za-z0-9_.]{0,28}[A-Za-z0-9_])?"), "[user]"),
    ("phone", re.compile(r"(?<![\w+])\+?\(?\d[\d\s().-]{7,18}\d(?![\w])"), "[phone]"),
)
_MIN_PHONE_DIGITS = 9


def strip_pii(text: str) -> tuple[str, Counter[str]]:
    """Return the text with identifiers replaced, and how many of each kind were removed."""
    counts: Counter[str] = Counter()
    for kind, pattern, placeholder in _PATTERNS:
        def replace(match: re.Match[str], kind: str = kind, placeholder: str = placeholder) -> str:
            if kind == "phone" and sum(ch.isdigit() for ch in match.group()) < _MIN_PHONE_DIGITS:
                return match.group()
            counts[kind] += 1
            return placeholder

        text = pattern.sub(replace, text)
    return text, counts


def strip_messages(messages: list[dict[str, str]]) -> tuple[list[dict[str, str]], Counter[str]]:
    """Strip every message's content; return the new messages and the summed counts."""
    total: Counter[str] = Counter()
    out = []
    for message in messages:
        content, counts = strip_pii(message["content"])
        total.update(counts)
        out.append({**message, "content": content})
    return out, total
