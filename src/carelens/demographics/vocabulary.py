"""The demographic categories carelens uses, their names in config files, and their words in cues.

Race categories follow the US federal standard for race and ethnicity (OMB SPD 15, 2024 revision:
seven minimum categories, Hispanic or Latino and Middle Eastern or North African as categories of
their own), plus ``multiracial`` for answers that name several. Gender is ``female``, ``male`` or
``non-binary``. Ages are whole years.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class RaceWords:
    """How a race category is written: its label, the lower-case adjective, the capitalised one."""

    label: str
    lower: str
    title: str


RACES: dict[str, RaceWords] = {
    "black": RaceWords("Black or African American", "black", "Black"),
    "white": RaceWords("White", "white", "White"),
    "asian": RaceWords("Asian", "asian", "Asian"),
    "hispanic": RaceWords("Hispanic or Latino", "hispanic", "Hispanic"),
    "middle_eastern": RaceWords("Middle Eastern or North African", "middle eastern", "Middle Eastern"),
    "native_american": RaceWords("American Indian or Alaska Native", "native american", "Native American"),
    "pacific_islander": RaceWords("Native Hawaiian or Pacific Islander", "pacific islander",
                                  "Pacific Islander"),
    "multiracial": RaceWords("Multiracial", "mixed-race", "mixed-race"),
}

# gender -> (short word as in "[32y/o, black female]", noun as in "I'm a Black woman")
GENDERS: dict[str, tuple[str, str]] = {
    "female": ("female", "woman"),
    "male": ("male", "man"),
    "non-binary": ("non-binary", "non-binary person"),
}

# Other spellings accepted in study files (case-insensitive); the canonical names are always accepted.
RACE_ALIASES = {
    "hispanic/latino": "hispanic", "hispanic or latino": "hispanic", "latino": "hispanic",
    "latina": "hispanic", "latinx": "hispanic", "latine": "hispanic",
    "african american": "black", "black or african american": "black",
    "middle eastern": "middle_eastern", "mena": "middle_eastern",
    "native american": "native_american", "pacific islander": "pacific_islander",
    "mixed": "multiracial", "mixed-race": "multiracial",
}
GENDER_ALIASES = {"nonbinary": "non-binary", "non binary": "non-binary", "enby": "non-binary"}

MIN_AGE, MAX_AGE = 13, 100  # Reddit's minimum age; an upper bound for a plausible poster


def canonical_race(name: str) -> str | None:
    """The canonical race name for a study-file spelling, or None if unknown."""
    key = " ".join(name.strip().lower().replace("_", " ").split())
    if key.replace(" ", "_") in RACES:
        return key.replace(" ", "_")
    return RACE_ALIASES.get(key)


def canonical_gender(name: str) -> str | None:
    """The canonical gender name for a study-file spelling, or None if unknown."""
    key = " ".join(name.strip().lower().split())
    return key if key in GENDERS else GENDER_ALIASES.get(key)


def article(word: str) -> str:
    """'a' or 'an' before ``word`` as spoken ("an Asian", "an 18-year-old", "a 32-year-old")."""
    head = word.split("-")[0]
    if head.isdigit():
        return "an" if head in ("8", "11", "18") or head.startswith("8") else "a"
    return "an" if word[:1].lower() in "aeiou" else "a"
