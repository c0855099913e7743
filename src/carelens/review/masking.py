"""Mask demographic mentions in posts so that raters judge the response, not the poster.

Like the paper, mentions of gender, age, ethnicity and nationality become ``[gender]``, ``[age]``,
``[ethnicity]`` and ``[nationality]``. ``MASKING_TABLE`` lists every rule in the order it is applied
(earlier rules win, so "African American" is one ethnicity, not ethnicity + nationality); each rule
carries an example that the tests check. ``write_masking_table`` writes the table beside a round.

Deliberately not masked: pronouns, kinship and partner words (mom, wife, boyfriend), and implicit cues
("wearing my natural hair"): masking them would change what the response answers. "black"/"white"/
"brown" are masked only next to a person word or after "I'm"/"as a"/"being", to spare "black coffee".
Shorthand such as "24F" is read as age 13-99 plus gender, so "20m" (metres) may be masked too.
"""

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from carelens.store import atomic_path

CATEGORIES = ("gender", "age", "ethnicity", "nationality")

_AGE = r"(?:1[3-9]|[2-9]\d)"
_PERSON = (
    r"(?:woman|women|man|men|girls?|boys?|females?|males?|person|people|guys?|lady|ladies|kids?|teens?|"
    r"famil(?:y|ies)|folks?|americans?|community|students?|moms?|dads?|mothers?|fathers?|wives|wife|"
    r"husbands?|sons?|daughters?|friends?|child(?:ren)?|queens?|kings?|individuals?|communities)"
)
_DECADES = r"(?:teens|twenties|thirties|forties|fifties|sixties|seventies|eighties|[1-9]0'?s)"
_NATIONALITIES = (
    "afghan|albanian|algerian|american|argentin(?:e|ian)|armenian|australian|austrian|bangladeshi|belgian|"
    "bolivian|bosnian|brazilian|british|bulgarian|cambodian|cameroonian|canadian|chilean|chinese|"
    "colombian|congolese|costa rican|croatian|cuban|czech|danish|dominican|dutch|ecuadorian|egyptian|"
    "english|eritrean|ethiopian|filipin[oa]|finnish|french|german|ghanaian|greek|guatemalan|haitian|"
    "honduran|hungarian|indian|indonesian|iranian|iraqi|irish|israeli|italian|jamaican|japanese|"
    "jordanian|kenyan|korean|kurdish|lebanese|libyan|malaysian|mexican|moroccan|nepali|nepalese|"
    "nicaraguan|nigerian|norwegian|pakistani|palestinian|persian|peruvian|polish|portuguese|"
    "puerto rican|romanian|russian|salvadoran|saudi|scottish|serbian|singaporean|somali|"
    "spanish|sri lankan|sudanese|swedish|swiss|syrian|taiwanese|thai|trinidadian|"
    "tunisian|turkish|ugandan|ukrainian|venezuelan|vietnamese|welsh|yemeni|zimbabwean"
)

_COUNTRIES = (
    "afghanistan|algeria|argentina|australia|bangladesh|brazil|cameroon|canada|chile|china|colombia|congo|"
    "cuba|egypt|england|ethiopia|france|germany|ghana|greece|guatemala|haiti|honduras|hong kong|india|"
    "indonesia|iran|iraq|ireland|israel|italy|jamaica|japan|kenya|korea|south korea|lebanon|malaysia|"
    "mexico|morocco|nepal|nigeria|pakistan|palestine|peru|philippines|poland|portugal|puerto rico|romania|"
    "russia|saudi arabia|scotland|somalia|south africa|spain|sri lanka|sudan|syria|taiwan|thailand|"
    "trinidad|turkey|uganda|ukraine|united kingdom|united states|venezuela|vietnam|zimbabwe|(?-i:USA|US|UK)"
)


@dataclass(frozen=True)
class MaskRule:
    """One regular expression (case-insensitive) and what replaces a match."""

    category: str
    pattern: str
    replacement: str
    description: str
    example: str
    expected: str

    def compiled(self) -> re.Pattern[str]:
        return re.compile(self.pattern, re.IGNORECASE)


def _rule(category: str, pattern: str, description: str, example: str, expected: str,
          replacement: str | None = None) -> MaskRule:
    return MaskRule(category, pattern, replacement or f"[{category}]", description, example, expected)


MASKING_TABLE: tuple[MaskRule, ...] = (
    _rule("age", rf"\b{_AGE}\s?(?:y/?o|yo|y\.o\.)?\s?(?=[mf]\b)", "age before M/F shorthand",
          "me (24F) and him", "me ([age][gender]) and him"),
    _rule("gender", r"(?<=\[age\])[mf]\b", "M/F after a masked age",
          "[age]F", "[age][gender]"),
    _rule("gender", rf"(?<!['’])\b[mf](?={_AGE}\b)", "M/F right before an age (F24), not I'm 24",
          "F24 here, I'm 24", "[gender][age] here, I'm [age]"),
    _rule("age", rf"(?<=\[gender\])\s?{_AGE}\b", "age after masked M/F", "[gender]24", "[gender][age]"),
    _rule("age", r"\b\d{1,2}\s?(?:-\s?)?(?:y/o|yo|y\.o\.|yrs?\.? old|years?[- ]old|year-old)(?=\W|$)",
          "number of years", "[32y/o, black female] -- as a 32 year old", "[[age], [ethnicity] [gender]] "
          "-- as a [age]"),
    _rule("age", r"\b(aged?\s)\d{1,2}\b", "age N / aged N", "aged 45 now", "aged [age] now",
          replacement=r"\1[age]"),
    _rule("age", rf"\b((?:i['’]?m|i am|turn(?:ed|ing)?)\s+(?:now\s+|only\s+|almost\s+)?){_AGE}\b"
          r"(?!\s*(?:%|percent|times|minutes|mins|hours|hrs|days|weeks|months|lbs|kg|pounds|feet|ft|cm|"
          r"miles|km|[ap]m\b))", "I'm 23 / turning 30 (not I'm 20 minutes late)",
          "I’m 23 and turning 30 soon, I'm 20 minutes late",
          "I’m [age] and turning [age] soon, I'm 20 minutes late", replacement=r"\1[age]"),
    _rule("age", rf"\b((?:in )?my )(?:early |mid |mid-|late )?{_DECADES}", "in my (early/late) 20s",
          "I'm in my late twenties", "I'm in my [age]", replacement=r"\1[age]"),
    _rule("age", r"\b\d{1,2}(?:st|nd|rd|th) birthday\b", "Nth birthday", "my 30th birthday",
          "my [age] birthday", replacement="[age] birthday"),
    _rule("age", r"\b(?:teen(?:ager|aged?)?s?|adolescents?|middle[- ]aged|elderly)\b", "age words",
          "a teenager who", "a [age] who"),
    _rule("ethnicity", r"\b(?:african[- ]americans?|native americans?|pacific islanders?|"
          r"(?:person|people|women|men|woman|man) of colou?r|mixed[- ]race|bi-?racial|multi-?racial|"
          r"latin[oaxe]s?|hispanics?|caucasians?|b?ipoc|poc|indigenous|aboriginal|africans?|asians?|"
          r"arabs?|afro-\w+)\b", "ethnicity words", "I'm a Latina woman of color",
          "I'm a [ethnicity] [ethnicity]"),
    _rule("ethnicity", rf"\b(?:black|white|brown)(?=[\s,-]+{_PERSON}\b)", "black/white/brown + person word",
          "black female", "[ethnicity] [gender]"),
    _rule("ethnicity", r"\b((?:i'?m|i am|as an?|being)\s+(?:an?\s+)?)(?:black|white|brown)\b",
          "I'm/as a black/white/brown", "being Black is hard", "being [ethnicity] is hard",
          replacement=r"\1[ethnicity]"),
    _rule("nationality", rf"\b(?:{_NATIONALITIES})s?\b", "demonyms", "a Nigerian student in Canada",
          "a [nationality] student in Canada"),
    _rule("nationality", rf"\b((?:from|born in|grew up in|moved here from|immigrated from)\s+(?:the\s+)?)"
          rf"(?:{_COUNTRIES})\b", "country of origin (from X, born in X)",
          "I am from India and live in England, away from us", "I am from [nationality] and live in England, "
          "away from us",
          replacement=r"\1[nationality]"),
    _rule("gender", r"\b(?:females?|males?|wom[ae]n|m[ae]n|girls?|boys?|lad(?:y|ies)|guy|gals?|"
          r"gentlem[ae]n|trans(?:gender)?(?: wom[ae]n| m[ae]n)?|trans(?:man|woman|men|women)|"
          r"non-?binary|enby|cis(?:gender)?|genderqueer|genderfluid|agender|ftm|mtf)\b",
          "gender words", "as a trans man and a girl", "as a [gender] and a [gender]"),
)

_COMPILED = tuple((rule, rule.compiled()) for rule in MASKING_TABLE)


@dataclass(frozen=True)
class Masked:
    """A masked text and how many mentions of each category were masked."""

    text: str
    counts: dict[str, int]


def mask_demographics(text: str) -> Masked:
    """Apply every rule of ``MASKING_TABLE`` in order."""
    counts: Counter[str] = Counter()
    for rule, regex in _COMPILED:
        text, n = regex.subn(rule.replacement, text)
        counts[rule.category] += n
    return Masked(text, {c: counts[c] for c in CATEGORIES})


def masking_table_frame() -> pd.DataFrame:
    """The masking table as a frame: order, category, pattern, replacement, description, example."""
    return pd.DataFrame([
        {"order": i, "category": r.category, "pattern": r.pattern, "replacement": r.replacement,
         "description": r.description, "example": r.example, "masked_example": r.expected}
        for i, r in enumerate(MASKING_TABLE, start=1)
    ])


def write_masking_table(path: Path) -> None:
    """Write the masking table as CSV, atomically."""
    with atomic_path(path) as tmp:
        masking_table_frame().to_csv(tmp, index=False)
