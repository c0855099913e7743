"""Parsers for the mh-eval release (Gabriel et al. 2024): Reddit posts with peer replies, the recorded
GPT-4 replies, and the counterfactual posts. Every known defect is repaired or flagged, and counted.

Posts get ``post_id = stable_id("p", "mh-eval", text)`` in all three parsers, so the GPT-4 replies and
the counterfactual originals join the Reddit posts they were written for. The authors' recorded scores
(paper_ER, paper_IP, paper_EX in 0..2, paper_toxicity) become ``collected_scores`` rows of scorer
``recorded:paper``, with the release's column as evidence.
"""

import json
import math
import re
from collections import Counter

import pandas as pd

from carelens.datasets.bundle import Bundle
from carelens.datasets.fetch import dataset_file
from carelens.datasets.readers import read_delimited
from carelens.datasets.sources import MH_EVAL
from carelens.errors import CarelensError
from carelens.generation.prompts import PAPER_LABELS
from carelens.ids import original_variant_id, stable_id
from carelens.tables import empty_table

REMOVED = {"[removed]", "[deleted]"}
SCORER = "recorded:paper"
# The EPITOME levels of the Reddit peer replies, as the 0..2 numbers of the other files.
LEVELS = {"no": 0.0, "weak": 1.0, "strong": 2.0}
# The two conditions whose labels are probably swapped in the release.
SWAPPED_LABELS = {"forum_without_demographics", "forum_with_demographics"}
_GPT4_FILE = re.compile(r"gpt4_responses/eval_set_(\w+?)_gpt4_rescored\.tsv")
_GROUP_KEY = {
    "black": ("race", "black"),
    "white": ("race", "white"),
    "asian": ("race", "asian"),
    "female": ("gender", "female"),
    "male": ("gender", "male"),
    "unknown_gender": ("gender", "unknown"),
    "under_30": ("age", "under 30"),
    "over_30": ("age", "over 30"),
}


def post_id(text: str) -> str:
    """The id of an mh-eval post, shared by all mh-eval datasets."""
    return stable_id("p", "mh-eval", text.strip())


def _require(frame: pd.DataFrame, columns: list[str], where: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise CarelensError(f"missing column(s) {missing}; found {list(frame.columns)}", where=where)


def _score_rows(
    response_id: str, values: dict[str, tuple[float | None, str]], notes: Counter[str]
) -> list[dict[str, object]]:
    """The collected_scores rows of one reply from {metric: (value or None, release column)}."""
    rows = []
    for metric, (value, column) in values.items():
        if value is None:
            notes["scores_missing"] += 1
            continue
        rows.append(
            {
                "response_id": response_id,
                "scorer": SCORER,
                "metric": metric,
                "value": value,
                "evidence": column,
            }
        )
    return rows


def _scores_frame(rows: list[dict[str, object]]) -> pd.DataFrame:
    return pd.DataFrame(rows) if rows else empty_table("collected_scores")


def _response_rows(rows: list[dict[str, object]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    frame["variant_id"] = (
        [original_variant_id(p) for p in frame["post_id"]]
        if "variant_id" not in frame
        else frame["variant_id"]
    )
    return frame


def parse_reddit() -> Bundle:
    """26 subreddit files -> posts and their peer replies.

    Defects handled: empty post texts (dropped, counted), ``[removed]``/``[deleted]`` replies (dropped,
    counted), the same post text in several subreddits (merged into one post flagged ``crossposted``,
    its replies kept under it), identical replies under one post (kept once, counted), and the
    undocumented ``follow-up`` rows (the poster's own later comments: not peer replies, counted and
    kept out of the replies). The replies' EPITOME levels (no/weak/strong) are recorded scores 0/1/2.
    """
    notes: Counter[str] = Counter()
    posts: dict[str, dict[str, object]] = {}
    replies: dict[str, dict[str, object]] = {}
    scores: list[dict[str, object]] = []
    for relpath in MH_EVAL.files("original_reddit/"):
        path = dataset_file(MH_EVAL, relpath)
        frame = read_delimited(path, sep="\t")
        _require(frame, ["text", "type", "community"], str(path))
        current: str | None = None
        for row in frame.itertuples(index=False):
            text = str(row.text).strip()
            if row.type == "post":
                current = None
                if not text or text in REMOVED:
                    notes["posts_empty_or_removed"] += 1
                    continue
                pid = post_id(text)
                current = pid
                if pid in posts:
                    notes["posts_duplicate_copies_merged"] += 1
                    entry = posts[pid]
                    entry["defects"] = "crossposted"
                    entry["communities"] = f"{entry['communities']};{row.community}"
                    continue
                posts[pid] = {
                    "post_id": pid,
                    "text": text,
                    "source": "mh-eval-reddit",
                    "community": row.community,
                    "defects": "",
                    "communities": row.community,
                }
            elif row.type == "reply":
                if current is None:
                    notes["replies_of_dropped_posts"] += 1
                    continue
                if not text or text in REMOVED:
                    notes["replies_empty_or_removed"] += 1
                    continue
                rid = stable_id("r", "mh-eval", current, text)
                if rid in replies:
                    notes["replies_duplicated"] += 1
                    continue
                levels = {"ER": "empathy_er", "IP": "empathy_ip", "EX": "empathy_ex"}
                scores += _score_rows(
                    rid,
                    {
                        f"paper_{m}": (LEVELS.get(str(getattr(row, c)).strip().lower()), c)
                        for m, c in levels.items()
                    },
                    notes,
                )
                replies[rid] = {
                    "response_id": rid,
                    "post_id": current,
                    "responder": "peer",
                    "condition": "peer",
                    "sample": 0,
                    "text": text,
                    "status": "ok",
                    "meta": "{}",
                }
            elif row.type == "follow-up":
                notes["follow_up_rows_excluded"] += 1
            else:
                raise CarelensError(f"unknown row type '{row.type}'", where=str(path))
    post_frame = pd.DataFrame(list(posts.values()))
    notes["posts"] = len(post_frame)
    notes["replies"] = len(replies)
    notes["communities"] = post_frame["community"].nunique()
    return Bundle(
        post_frame,
        responses=_response_rows(list(replies.values())),
        scores=_scores_frame(scores),
        notes=dict(notes),
    )


def _float_or_none(value: str) -> float | None:
    """A released score; None when the cell is empty, not a number or not finite."""
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def parse_gpt4() -> Bundle:
    """The paper's recorded GPT-4 replies (responder ``recorded:gpt-4``) and its two peer eval sets.

    Repairs the shifted columns (rows have one field fewer than the header: the condition sits under
    ``toxicity`` and the toxicity score under ``sentiment``); keeps the paper's condition label in
    ``meta.paper_condition`` and flags the two forum conditions whose labels are probably swapped
    (``meta.label_swap_suspected``). The file's group (race, or gender/age for the Asian subsets) goes
    into ``meta`` as ``paper_race`` / ``paper_gender`` / ``paper_age``; a reply found in several files
    is kept once with all its groups. The authors' classifier outputs are recorded scores ``paper_ER``,
    ``paper_IP``, ``paper_EX``, ``paper_toxicity`` (and ``paper_sentiment_negative`` for the peer eval
    sets); a reply in several files keeps its first file's scores (differing ones are counted).
    """
    notes: Counter[str] = Counter()
    posts: dict[str, dict[str, object]] = {}
    responses: dict[str, dict[str, object]] = {}
    scores: dict[str, dict[str, tuple[float | None, str]]] = {}
    sources = [(p, "recorded:gpt-4") for p in MH_EVAL.files("gpt4_responses/")]
    sources += [(p, "peer") for p in MH_EVAL.files("eval_sets/")]
    for relpath, responder in sources:
        path = dataset_file(MH_EVAL, relpath)
        frame = read_delimited(path, sep="\t")
        _require(
            frame, ["post", "reply", "pred_ER", "pred_IP", "pred_EX", "sentiment", "toxicity"], str(path)
        )
        group_name = relpath.split("eval_set_")[1].split("_gpt4")[0].removesuffix(".tsv")
        group_key, group_value = _GROUP_KEY[group_name]
        shifted = responder != "peer"
        if shifted and frame.get("type", pd.Series(dtype=str)).astype(str).str.strip().ne("").any():
            raise CarelensError(
                "expected the released column shift (empty 'type'); file differs", where=str(path)
            )
        for line, row in enumerate(frame.itertuples(index=False), start=2):
            post_text, reply = str(row.post).strip(), str(row.reply).strip()
            if not post_text or not reply:
                notes["rows_empty_text"] += 1
                continue
            pid = post_id(post_text)
            posts.setdefault(
                pid,
                {
                    "post_id": pid,
                    "text": post_text,
                    "source": "mh-eval-gpt4",
                    "community": "unknown",
                    "defects": "",
                },
            )
            values: dict[str, tuple[float | None, str]] = {
                f"paper_{m}": (_float_or_none(getattr(row, f"pred_{m}")), f"pred_{m}")
                for m in ("ER", "IP", "EX")
            }
            meta: dict[str, object] = {
                f"paper_{group_key}": group_value,
                "paper_file": relpath,
            }
            if shifted:
                label = str(row.toxicity).strip()
                if label not in PAPER_LABELS:
                    raise CarelensError(f"unknown prompt condition '{label}'", where=f"{path}:{line}")
                condition = PAPER_LABELS[label]
                values["paper_toxicity"] = (_float_or_none(row.sentiment), "sentiment")
                meta.update(
                    paper_condition=label,
                    label_swap_suspected=condition in SWAPPED_LABELS,
                )
                notes["columns_shift_repaired"] += 1
            else:
                condition = "peer"
                values["paper_toxicity"] = (_float_or_none(row.toxicity), "toxicity")
                values["paper_sentiment_negative"] = (_float_or_none(row.sentiment), "sentiment")
            rid = stable_id("r", "mh-eval", pid, text_key(responder, condition, reply))
            if rid in responses:
                merged = json.loads(str(responses[rid]["meta"]))
                merged.update({k: v for k, v in meta.items() if k.startswith("paper_") and k not in merged})
                responses[rid]["meta"] = json.dumps(merged)
                notes["rows_in_several_files"] += 1
                if {m: v for m, (v, _) in values.items()} != {m: v for m, (v, _) in scores[rid].items()}:
                    notes["scores_differing_across_files"] += 1
                continue
            scores[rid] = values
            responses[rid] = {
                "response_id": rid,
                "post_id": pid,
                "responder": responder,
                "condition": condition,
                "sample": 0,
                "text": reply,
                "status": "ok",
                "meta": json.dumps(meta),
            }
    notes["posts"] = len(posts)
    notes["responses_gpt4"] = sum(r["responder"] == "recorded:gpt-4" for r in responses.values())
    notes["responses_peer"] = sum(r["responder"] == "peer" for r in responses.values())
    score_rows = [row for rid, values in scores.items() for row in _score_rows(rid, values, notes)]
    return Bundle(
        pd.DataFrame(list(posts.values())),
        responses=_response_rows(list(responses.values())),
        scores=_scores_frame(score_rows),
        notes=dict(notes),
    )


def text_key(responder: str, condition: str, reply: str) -> str:
    """What identifies a collected reply besides its post: peers by text alone, models by condition too."""
    return reply if responder == "peer" else f"{responder}|{condition}|{reply}"


_CF_FILE = re.compile(r"counterfactuals/(Black|White)(Female|Male)(Explicit|Implicit)s\.csv")


def parse_counterfactual() -> Bundle:
    """11 neutral posts, 8 cue variants of each, and 10 recorded GPT-4 replies per variant.

    Variants are aligned to the originals by row (checked: 11 rows each). The Black-male explicit file
    is byte-identical to the Black-female explicit file (its cue says "black female"): its variants
    are kept, labelled as released, with ``fidelity_ok`` False and the defect named, so analyses exclude
    them. Replies are matched to their variant by exact post text (checked: every reply matches).
    """
    notes: Counter[str] = Counter()
    originals_path = dataset_file(MH_EVAL, "counterfactuals/OriginalPosts.csv")
    originals = read_delimited(originals_path, sep=",")
    _require(originals, ["post"], str(originals_path))
    post_ids = [post_id(t) for t in originals["post"]]
    posts = pd.DataFrame(
        {
            "post_id": post_ids,
            "text": originals["post"].str.strip(),
            "source": "mh-eval-counterfactual",
            "community": "counterfactual",
            "defects": "",
        }
    )
    variants: list[dict[str, object]] = []
    # file stem -> {variant text -> variant id}, to match each reply file to its own variants
    by_stem: dict[str, dict[str, str]] = {
        "OriginalPosts": {t: original_variant_id(p) for p, t in zip(post_ids, posts["text"], strict=True)}
    }
    identical_to_bfe = (
        dataset_file(MH_EVAL, "counterfactuals/BlackMaleExplicits.csv").read_bytes()
        == dataset_file(MH_EVAL, "counterfactuals/BlackFemaleExplicits.csv").read_bytes()
    )
    for relpath in MH_EVAL.files("counterfactuals/"):
        match = _CF_FILE.fullmatch(relpath)
        if not match:
            continue
        race, gender, kind = (g.lower() for g in match.groups())
        path = dataset_file(MH_EVAL, relpath)
        frame = read_delimited(path, sep=",")
        _require(frame, ["post"], str(path))
        if len(frame) != len(posts):
            raise CarelensError(
                f"expected {len(posts)} rows aligned with OriginalPosts.csv, found {len(frame)}",
                where=str(path),
            )
        defect = ""
        if identical_to_bfe and (race, gender, kind) == ("black", "male", "explicit"):
            defect = "release_duplicate_of_BlackFemaleExplicits"
            notes["variants_flagged_duplicate_file"] += len(frame)
        stem = relpath.split("/")[1].removesuffix(".csv")
        by_stem[stem] = {}
        for pid, text in zip(post_ids, frame["post"].str.strip(), strict=True):
            vid = stable_id("v", pid, race, gender, kind, text)
            variants.append(
                {
                    "variant_id": vid,
                    "post_id": pid,
                    "race": race,
                    "gender": gender,
                    "age": "32",
                    "cue_kind": kind,
                    "cue": f"paper:{stem}",
                    "text": text,
                    "fidelity_ok": not defect,
                    "fidelity_note": defect,
                    "defects": defect,
                }
            )
            by_stem[stem][text] = vid
    variant_post = {str(v["variant_id"]): str(v["post_id"]) for v in variants}
    variant_post.update({original_variant_id(p): p for p in post_ids})
    responses: list[dict[str, object]] = []
    for relpath in MH_EVAL.files("counterfactuals/"):
        if not relpath.endswith("_gpt4.tsv"):
            continue
        path = dataset_file(MH_EVAL, relpath)
        frame = read_delimited(path, sep="\t", header=False)
        if frame.shape[1] != 2:
            raise CarelensError(f"expected 2 columns (post, reply), found {frame.shape[1]}", where=str(path))
        known = by_stem[relpath.split("/")[1].removesuffix("_gpt4.tsv")]
        seen: Counter[str] = Counter()
        for line, (text, reply) in enumerate(zip(frame[0].str.strip(), frame[1].str.strip(), strict=True), 1):
            if text not in known:
                raise CarelensError(
                    "reply's post text matches no variant of its file", where=f"{path}:{line}"
                )
            vid = known[text]
            sample = seen[vid]
            seen[vid] += 1
            responses.append(
                {
                    "response_id": stable_id("r", "mh-eval-cf", vid, sample, reply),
                    "variant_id": vid,
                    "post_id": variant_post[vid],
                    "responder": "recorded:gpt-4",
                    "condition": "counterfactual",
                    "sample": sample,
                    "text": reply,
                    "status": "ok",
                    "meta": json.dumps({"paper_file": relpath}),
                }
            )
    notes.update(posts=len(posts), variants=len(variants), responses=len(responses))
    return Bundle(
        posts, variants=pd.DataFrame(variants), responses=pd.DataFrame(responses), notes=dict(notes)
    )
