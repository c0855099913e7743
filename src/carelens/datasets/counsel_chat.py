"""CounselChat (Bertagnolli 2020): questions answered by licensed therapists (responder ``therapist``)."""

import json
from collections import Counter

import pandas as pd

from carelens.datasets.bundle import Bundle
from carelens.datasets.fetch import dataset_file
from carelens.datasets.readers import read_delimited
from carelens.datasets.sources import COUNSEL_CHAT
from carelens.errors import CarelensError
from carelens.ids import original_variant_id, stable_id

FILE = "20200325_counsel_chat.csv"


def parse() -> Bundle:
    """One post per question (title + text), one ``therapist`` response per answer.

    Empty answers are dropped and counted; identical answers to one question are kept once and counted.
    """
    path = dataset_file(COUNSEL_CHAT, FILE)
    frame = read_delimited(path, sep=",")
    needed = ["questionID", "questionTitle", "questionText", "topic", "therapistInfo", "answerText", "split"]
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise CarelensError(f"missing column(s) {missing}", where=str(path))
    notes: Counter[str] = Counter()
    posts: dict[str, dict[str, object]] = {}
    responses: dict[str, dict[str, object]] = {}
    for row in frame.itertuples(index=False):
        title, body = str(row.questionTitle).strip(), str(row.questionText).strip()
        text = f"{title}\n\n{body}" if body and body != title else title
        if not text:
            notes["questions_empty"] += 1
            continue
        pid = stable_id("p", "counsel-chat", row.questionID)
        posts.setdefault(
            pid,
            {"post_id": pid, "text": text, "source": "counsel-chat", "community": row.topic, "defects": ""},
        )
        answer = str(row.answerText).strip()
        if not answer:
            notes["answers_empty"] += 1
            continue
        rid = stable_id("r", "counsel-chat", pid, answer)
        if rid in responses:
            notes["answers_duplicated"] += 1
            continue
        responses[rid] = {
            "response_id": rid,
            "post_id": pid,
            "variant_id": original_variant_id(pid),
            "responder": "therapist",
            "condition": "therapist",
            "sample": 0,
            "text": answer,
            "status": "ok",
            "meta": json.dumps({"therapist": row.therapistInfo, "split": row.split}),
        }
    notes.update(posts=len(posts), responses=len(responses))
    return Bundle(
        pd.DataFrame(list(posts.values())),
        responses=pd.DataFrame(list(responses.values())),
        notes=dict(notes),
    )
