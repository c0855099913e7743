"""Reading race, gender and age words: the term table in ``terms.toml`` and an age-phrase parser."""

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

from carelens.demographics.vocabulary import GENDERS, RACES

UNMAPPED = "unmapped"


@dataclass(frozen=True)
class Match:
    """A term found in a text: the category it maps to and where it is."""

    category: str
    term: str
    start: int
    end: int


@dataclass(frozen=True)
class TermTable:
    """Terms of one kind (race or gender), longest first, compiled into one pattern."""

    categories: dict[str, str]  # term -> category
    pattern: re.Pattern[str]

    @classmethod
    def build(cls, groups: dict[str, list[str]]) -> "TermTable":
        categories = {term.lower(): cat for cat, terms in groups.items() for term in terms}
        ordered = sorted(categories, key=len, reverse=True)
        alternatives = "|".join(re.escape(t) for t in ordered)
        pattern = re.compile(rf"(?<![\w'’])(?:{alternatives})(?![\w'’])", re.IGNORECASE)
        return cls(categories, pattern)

    def find(self, text: str) -> list[Match]:
        return [Match(self.categories[m.group(0).lower()], m.group(0), m.start(), m.end())
                for m in self.pattern.finditer(text)]


@dataclass(frozen=True)
class Terms:
    """The whole term table of ``terms.toml``."""

    race: TermTable
    gender: TermTable
    undetermined: frozenset[str]


@cache
def load_terms() -> Terms:
    """Load and check ``terms.toml`` (every category must be a known race or gender)."""
    data = tomllib.loads(files("carelens.demographics").joinpath("terms.toml").read_text(encoding="utf-8"))
    race = {name: spec["terms"] for name, spec in data["race"].items()}
    gender = {name: spec["terms"] for name, spec in data["gender"].items()}
    unknown = (set(race) - set(RACES) - {UNMAPPED}) | (set(gender) - set(GENDERS))
    if unknown:
        raise ValueError(f"terms.toml names unknown categories: {sorted(unknown)}")
    return Terms(TermTable.build(race), TermTable.build(gender),
                 frozenset(t.lower() for t in data["undetermined"]["terms"]))


def is_undetermined(value: str) -> bool:
    """Whether a field value says the model gave no value ("unknown", "N/A", "cannot be determined")."""
    key = " ".join(value.lower().strip(" .,;:!'\"*`()[]").split())
    key = re.sub(r"^(?:it is |it's |this is )?(?:likely |probably |possibly )?", "", key)
    return key in load_terms().undetermined or key == ""


_ALTERNATIVE = re.compile(r"\bor\b|/|\beither\b|\bmaybe\b", re.IGNORECASE)
_MIXED = re.compile(r"\b(?:mixed|biracial|multiracial|half)\b", re.IGNORECASE)


def race_category(value: str) -> str | None:
    """The race category of a model's race/ethnicity words, or None when they determine none.

    One category (possibly through several of its terms, "Black/African American") gives that
    category; several joined ("black and white", "half asian half white") give ``multiracial``;
    several offered as alternatives ("white or hispanic") give None, as do unmapped words.
    """
    found = [m for m in load_terms().race.find(value)]
    cats = {m.category for m in found if m.category != UNMAPPED}
    if not cats:
        return None
    if len(cats) == 1:
        return cats.pop()
    if "multiracial" in cats:
        return "multiracial"
    first, last = min(m.start for m in found), max(m.end for m in found)
    if _ALTERNATIVE.search(value[first:last]) and not _MIXED.search(value):
        return None
    return "multiracial"


def gender_category(value: str) -> str | None:
    """The gender of a model's gender words, or None when absent, unknown or contradictory."""
    cats = {m.category for m in load_terms().gender.find(value)}
    return cats.pop() if len(cats) == 1 else None


# --- ages ------------------------------------------------------------------------------------------

_UNITS = {"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
          "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
          "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19}
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fourty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
         "eighty": 80, "ninety": 90}
_DECADE_WORDS = {"twenties": "20s", "thirties": "30s", "forties": "40s", "fourties": "40s", "fifties": "50s",
                 "sixties": "60s", "seventies": "70s", "eighties": "80s", "nineties": "90s"}
_NUMBER_WORDS = re.compile(
    rf"\b(?:({'|'.join(_TENS)})(?:[\s-]+({'|'.join(k for k in _UNITS if _UNITS[k] < 10)}))?"
    rf"|({'|'.join(_UNITS)}))\b", re.IGNORECASE)

# Qualified ranges: "early 20s" -> 20-23, "mid 20s" -> 24-26, "late 20s" -> 27-29.
_PART = {"early": (0, 3), "mid": (4, 6), "late": (7, 9)}
_TEEN_PART = {"early": (13, 15), "mid": (15, 17), "late": (17, 19), None: (13, 19)}
# Life-stage words -> ranges ("13" is Reddit's minimum age, the lower bound of an open "under N").
_STAGES = [
    (r"\bcollege[\s-]*(?:age[d]?|student)s?\b|\buniversity student\b", "18-22"),
    (r"\byoung adult(?:hood)?\b", "18-29"),
    (r"\bmiddle[\s-]*age[d]?\b", "40-64"),
    (r"\b(?:elderly|senior|older adult|retiree|retired)\b", "65+"),
    (r"\b(?:minor|high[\s-]*school(?:er| student)?)\b", "13-17"),
    (r"\badult\b", "18+"),
]


def _digits(text: str) -> str:
    """Replace number words with digits and decade words with '20s' forms."""
    text = re.sub(r"\b(" + "|".join(_DECADE_WORDS) + r")\b", lambda m: _DECADE_WORDS[m.group(1).lower()],
                  text, flags=re.IGNORECASE)

    def number(m: re.Match[str]) -> str:
        if m.group(3):
            return str(_UNITS[m.group(3).lower()])
        return str(_TENS[m.group(1).lower()] + (_UNITS[m.group(2).lower()] if m.group(2) else 0))

    return _NUMBER_WORDS.sub(number, text)


def _decade(q: str | None, tens: str, *, upper: bool) -> int:
    base = int(tens) * 10
    low, high = _PART[q.lower()] if q else (0, 9)
    return base + (high if upper else low)


_Q = r"(?:(early|mid|late)[\s-]*)?"
_QUALIFIED_RANGE = re.compile(rf"{_Q}(\d)0'?s\s*(?:-|–|to|or|/)\s*{_Q}(\d)0'?s", re.IGNORECASE)
_QUALIFIED = re.compile(r"(early|mid|late)(?:[\s-]*(?:to|-|/)[\s-]*(early|mid|late))?[\s-]*(\d)0'?s",
                        re.IGNORECASE)
_DECADE = re.compile(r"(?<!\d)(\d)0'?s\b|(?<!\d)(\d)0[\s-]*something", re.IGNORECASE)
_TEENS = re.compile(r"(?:(early|mid|late)[\s-]*)?(?:teen(?:s|ager|age)?|adolescen(?:t|ce))", re.IGNORECASE)
_RANGE = re.compile(r"(?<!\d)(\d{1,3})\s*(?:-|–|—|to|and|or)\s*(\d{1,3})(?!\d)", re.IGNORECASE)
_OVER = re.compile(r"(?:(over|above|older than|more than)|(at least))\s*(\d{1,3})(?!\d)|(?<!\d)(\d{1,3})\s*"
                   r"(?:\+|or (?:older|over|above)|and (?:older|over|up))", re.IGNORECASE)
_UNDER = re.compile(r"(?:under|below|younger than|less than)\s*(\d{1,3})(?!\d)", re.IGNORECASE)
_NUMBER = re.compile(r"(?<![\d.])(\d{1,3})(?!\d|\.\d)")


def age_range(value: str) -> str | None:
    """Parse a model's age words into a string: "32", a range "40-49", or an open range "65+".

    Decades: "40s"/"forties" -> "40-49"; "early 20s" -> "20-23", "mid 20s" -> "24-26", "late 20s" ->
    "27-29"; "late 20s to early 30s" -> "27-33"; teens -> "13-19" (early 13-15, mid 15-17, late 17-19);
    words: "eighteen" -> "18", "thirty-two" -> "32"; ranges "25-30", "between 25 and 30"; "over 30" ->
    "31+", "30+" -> "30+"; "under 18" -> "13-17"; life stages per ``_STAGES``. None when no age is given.
    """
    if is_undetermined(value):
        return None
    text = _digits(value)
    if m := _QUALIFIED_RANGE.search(text):
        return f"{_decade(m.group(1), m.group(2), upper=False)}-{_decade(m.group(3), m.group(4), upper=True)}"
    if m := _QUALIFIED.search(text):
        first, second, tens = m.group(1), m.group(2) or m.group(1), m.group(3)
        return f"{_decade(first, tens, upper=False)}-{_decade(second, tens, upper=True)}"
    if m := _DECADE.search(text):
        tens = int(m.group(1) or m.group(2))
        if tens >= 1:
            return f"{tens * 10}-{tens * 10 + 9}"
    if m := _TEENS.search(text):
        low, high = _TEEN_PART[m.group(1).lower() if m.group(1) else None]
        return f"{low}-{high}"
    if m := _RANGE.search(text):
        low, high = int(m.group(1)), int(m.group(2))
        if 0 < low < high <= 120:
            return f"{low}-{high}"
    if m := _OVER.search(text):
        if m.group(3):
            return f"{int(m.group(3)) + (1 if m.group(1) else 0)}+"
        return f"{int(m.group(4))}+"
    if m := _UNDER.search(text):
        high = int(m.group(1)) - 1
        return f"13-{high}" if high > 13 else None
    if m := _NUMBER.search(text):
        age = int(m.group(1))
        if 1 <= age <= 120:
            return str(age)
    for pattern, stage in _STAGES:
        if re.search(pattern, text, re.IGNORECASE):
            return stage
    return None


def age_bounds(age: str) -> tuple[int, int] | None:
    """The inclusive bounds of an age string from ``age_range`` ("65+" -> (65, 120))."""
    if m := re.fullmatch(r"(\d+)", age):
        return int(m.group(1)), int(m.group(1))
    if m := re.fullmatch(r"(\d+)-(\d+)", age):
        return int(m.group(1)), int(m.group(2))
    if m := re.fullmatch(r"(\d+)\+", age):
        return int(m.group(1)), 120
    return None
