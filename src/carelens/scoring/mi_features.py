"""Interpretable features of a reply sentence for the MI behaviour-code model.

Each feature is a cue a MITI coder looks for: the question form, the opening word, whom the sentence
addresses, advice and permission phrases, reflection stems, autonomy and affirmation words, and how
much of the sentence restates the seeker's own words. ``FEATURES`` names the columns of
``sentence_features``; the model card lists their weights.
"""

import re

import numpy as np

from carelens.scoring.mi_text import content_words

WH = frozenset("what how why when where who which whats hows".split())
AUX = frozenset(
    "do does did are is was were have has can could would will should may might am isn't aren't don't "
    "doesn't didn't haven't won't wouldn't".split()
)
IMPERATIVE = frozenset(
    """try take remember keep don't dont stay make find talk reach consider seek be give let focus go get
    stop use ask look start join write call please practice avoid allow think reconsider set spend
    trust embrace continue tell explain learn listen read check see cut own treat begin encourage
    believe accept know understand surround prioritize hang""".split()
)
SECOND = frozenset("you your yours yourself you're you've you'll you'd u ur".split())
FIRST = frozenset("i me my mine myself i'm i've i'll i'd".split())
PATTERNS: dict[str, str] = {
    "advice": r"\b(should|need to|have to|must|might want to|may want to|could try|try to|try and"
    r"|it might help"
    r"|it may help|might help|could help|may help|consider|i suggest|i recommend|i would encourage"
    r"|i encourage|encourage you|(it's|it is) (important|crucial|essential|vital|best|a good idea) to"
    r"|make sure|why not|don't hesitate|recommend)\b",
    "reflect": r"\b(sounds like|sounds as though|it seems|seems like|you feel|you're feeling|you are feeling"
    r"|you must be|must be (so |really )?(hard|difficult|tough|painful|frustrating|exhausting)"
    r"|you've been|you have been|you're going through|you are going through|i hear|i can see|you mention"
    r"|you said|you want|you're dealing|you are dealing|you're struggling|you are struggling|part of you"
    r"|at the same time|you don't want|you're not sure|you are not sure|you wish)\b",
    "autonomy": r"\b(up to you|your choice|your decision|your call|only you|you decide|you get to"
    r"|your own terms"
    r"|whatever you decide|you know yourself|you know best|you know your|the expert|your right"
    r"|feels right to you|right for you|what's best for you|leave the rest|your life)\b",
    "permission": r"\b(if you want|if you'd like|if you would like|if you like|if you're open|if you are open"
    r"|if it helps|if you feel (ready|comfortable|up)|feel free to ignore"
    r"|would it be (okay|ok|alright|all right)"
    r"|may or may not|might not (suit|fit|work for)|take what|if you're interested|if you are interested"
    r"|if you're up for|if you are up for)\b",
    "seek": r"\b(what do you think|how does that sound|what would you|would you like"
    r"|would you be (willing|open)"
    r"|does that (fit|sound)|together|your thoughts|what are your thoughts|let's|let us|how would you feel"
    r"|what feels)\b",
    "affirm": r"\b(brave|bravery|courage|courageous|strength|strong|proud|commend|admire|admirable|great job"
    r"|good job|well done|deserve|wonderful that|impressive|resilien\w*|smart|wise|big step|important step"
    r"|kudos|good for you)\b",
    "confront": r"\b(ridiculous|excuses?|ashamed|stupid|selfish|overreact\w*|grow up|stop whining|your fault"
    r"|you're wrong|lazy|pathetic|ungrateful|closed-minded|self-absorbed|feeling sorry for yourself"
    r"|brought (this|it) on|are you sure you)\b",
    "sympathy": r"\b(sorry|hugs?|sending|good luck|take care|i hope|hope you|hoping|thank|thanks|glad"
    r"|not alone|best wishes|wishing)\b",
    "normalise": r"\b(many people|a lot of people|lots of people|it's normal|it is normal|it's common|common"
    r"|not uncommon|everyone|people often|often|usually|can be)\b",
}
COMPILED = {name: re.compile(pattern, re.IGNORECASE) for name, pattern in PATTERNS.items()}
WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")
URL = re.compile(r"https?://|www\.|\]\(")

FEATURES: tuple[str, ...] = (
    "ends_with_question",
    "has_question_mark",
    "opens_with_wh",
    "opens_with_auxiliary",
    "opens_with_imperative",
    "opens_with_you",
    "opens_with_i",
    "second_person_rate",
    "first_person_rate",
    *(f"cue_{name}" for name in PATTERNS),
    "post_overlap",
    "log_words",
    "has_link",
)


def sentence_features(sentence: str, post_words: set[str]) -> np.ndarray:
    """The ``FEATURES`` of one sentence, given the content words of the post it answers."""
    text = sentence.replace("’", "'")
    words = WORD.findall(text.lower())
    first = words[0] if words else ""
    n = max(len(words), 1)
    own = content_words(text)
    stripped = text.rstrip(" )*_\"'!.:;😊🙂")
    values = [
        float(stripped.endswith("?")),
        float("?" in text),
        float(first in WH),
        float(first in AUX),
        float(first in IMPERATIVE),
        float(first in SECOND),
        float(first in FIRST),
        sum(w in SECOND for w in words) / n,
        sum(w in FIRST for w in words) / n,
        *(float(bool(COMPILED[name].search(text))) for name in PATTERNS),
        len(own & post_words) / len(own) if own else 0.0,
        float(np.log1p(len(words))),
        float(bool(URL.search(text))),
    ]
    return np.asarray(values, dtype=np.float32)
