"""Sentences of a reply, as the `mi` scorer codes them, and the words it compares with the post.

The splitter is part of the labelled data's contract: a labelled real sentence is stored as
(dataset, response id, sentence index, hash of the sentence), so changing how texts are split
invalidates the labels, and ``sentence_hash`` lets the training code detect it.
"""

import hashlib
import re

# A line's leading list marker: "1.", "2)", "-", "*", "•".
LIST_MARKER = re.compile(r"^\s*(?:\d{1,2}[.)]|[-*•–])\s+")
# A sentence ends at . ! ? (a run of them, with closing quotes or brackets) followed by white space,
# or at . ! ? between a lower-case word and a capital ("...the day.Then"), as CounselChat answers run.
SENTENCE_END = re.compile(r"(?:(?<=[.!?])|(?<=[.!?][\"'”’)\]]))\s+|(?<=[a-z][.!?])(?=[A-Z][a-z])")
LETTER = re.compile(r"[A-Za-z]")
WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")
STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has have
    having he her here hers herself him himself his how i if in into is it its itself just me more most
    my myself no nor not now of off on once only or other our ours ourselves out over own same she should
    so some such than that the their theirs them themselves then there these they this those through to
    too under until up very was we were what when where which while who whom why will with would you
    your yours yourself yourselves i'm you're it's that's don't can't i've you've i'll you'll i'd you'd
    really feel feeling like get got go going know think want things thing something make also even much
    many one way lot still well sure yeah ok okay oh just maybe""".split()
)


def split_sentences(text: str) -> list[str]:
    """The sentences of a text: lines, then sentence ends; list markers removed; no letter, no sentence."""
    out: list[str] = []
    for line in text.replace("\r", "\n").split("\n"):
        line = LIST_MARKER.sub("", line).strip()
        if not line:
            continue
        for part in SENTENCE_END.split(line):
            part = part.strip()
            if LETTER.search(part):
                out.append(part)
    return out


def sentence_hash(sentence: str) -> str:
    """A short content hash of a sentence (12 hex digits of sha256), stored beside its label."""
    return hashlib.sha256(sentence.encode("utf-8")).hexdigest()[:12]


def content_words(text: str) -> set[str]:
    """Lower-cased words of a text without stop words, crudely stemmed (plural s, -ing, -ed)."""
    words = set()
    for word in WORD.findall(text.lower().replace("’", "'")):
        if word in STOPWORDS or len(word) < 3:
            continue
        for suffix in ("ing", "ed", "s"):
            if word.endswith(suffix) and len(word) - len(suffix) >= 3:
                word = word[: -len(suffix)]
                break
        words.add(word)
    return words
