"""EPITOME (Sharma et al. 2020): seeker posts, peer responses and ER/IP/EX levels (0/1/2)."""

import json

import pandas as pd

from carelens.datasets.bundle import Bundle
from carelens.datasets.fetch import dataset_file
from carelens.datasets.readers import read_delimited
from carelens.datasets.sources import EPITOME
from carelens.errors import CarelensError
from carelens.ids import original_variant_id, stable_id

MECHANISM_FILES = {
    "ER": "emotional-reactions-reddit.csv",
    "IP": "interpretations-reddit.csv",
    "EX": "explorations-reddit.csv",
}


def load_labels() -> pd.DataFrame:
    """One row per labelled pair: sp_id, rp_id, seeker_post, response_post, ER, IP, EX, defects, and
    each mechanism's rationale (``ER_rationales``...: the labellers' spans joined by ``|``, "" for none).

    The three files hold the same rows in the same order; that is checked, not assumed. Pairs that
    appear twice are kept and flagged ``duplicate_pair`` (plus ``conflicting_labels`` when their
    labels differ) so a trainer can decide what to do with them.
    """
    frames = {}
    for mechanism, name in MECHANISM_FILES.items():
        path = dataset_file(EPITOME, name)
        frame = read_delimited(path, sep=",")
        for col in ("sp_id", "rp_id", "seeker_post", "response_post", "level"):
            if col not in frame.columns:
                raise CarelensError(f"missing column '{col}'", where=str(path))
        frames[mechanism] = frame
    base = frames["ER"][["sp_id", "rp_id", "seeker_post", "response_post"]].copy()
    for mechanism, frame in frames.items():
        if not frame["rp_id"].equals(base["rp_id"]) or not frame["sp_id"].equals(base["sp_id"]):
            raise CarelensError("rows are not aligned with the ER file", where=MECHANISM_FILES[mechanism])
        base[mechanism] = pd.to_numeric(frame["level"], errors="raise").astype(int)
        spans = frame["rationales"] if "rationales" in frame.columns else pd.Series("", index=frame.index)
        base[f"{mechanism}_rationales"] = spans.fillna("").astype(str)
    for col in ("seeker_post", "response_post"):
        base[col] = base[col].fillna("").astype(str)
    key = ["sp_id", "rp_id"]
    duplicated = base.duplicated(key, keep=False)
    conflicting = base.groupby(key)[list(MECHANISM_FILES)].transform("nunique").max(axis=1) > 1
    base["defects"] = [
        ";".join(flag for flag, on in (("duplicate_pair", d), ("conflicting_labels", c)) if on)
        for d, c in zip(duplicated, conflicting, strict=True)
    ]
    return base


def parse() -> Bundle:
    """EPITOME as posts (seeker posts) and peer responses, with the labels in ``meta``."""
    labels = load_labels()
    posts = labels.drop_duplicates("sp_id")[["sp_id", "seeker_post"]].copy()
    posts["post_id"] = [stable_id("p", "epitome", sp) for sp in posts["sp_id"]]
    post_ids = dict(zip(posts["sp_id"], posts["post_id"], strict=True))
    out_posts = pd.DataFrame(
        {
            "post_id": posts["post_id"],
            "text": posts["seeker_post"],
            "source": "epitome",
            "community": "epitome-reddit",
            "defects": "",
        }
    )
    pairs = labels.drop_duplicates(["sp_id", "rp_id"])
    responses = pd.DataFrame(
        {
            "response_id": [
                stable_id("r", "epitome", sp, rp)
                for sp, rp in zip(pairs["sp_id"], pairs["rp_id"], strict=True)
            ],
            "post_id": [post_ids[sp] for sp in pairs["sp_id"]],
            "responder": "peer",
            "condition": "peer",
            "sample": 0,
            "text": pairs["response_post"],
            "status": "ok",
            "meta": [
                json.dumps({"ER": int(er), "IP": int(ip), "EX": int(ex), "defects": d})
                for er, ip, ex, d in zip(pairs["ER"], pairs["IP"], pairs["EX"], pairs["defects"], strict=True)
            ],
        }
    )
    responses["variant_id"] = [original_variant_id(p) for p in responses["post_id"]]
    notes = {
        "rows": len(labels),
        "rows_of_repeated_pairs": int(labels["defects"].str.contains("duplicate_pair").sum()),
        "rows_with_conflicting_labels": int(labels["defects"].str.contains("conflicting_labels").sum()),
        "repeated_pairs_kept_once": len(labels) - len(pairs),
    }
    return Bundle(posts=out_posts, responses=responses, notes=notes)
