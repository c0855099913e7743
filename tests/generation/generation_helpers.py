"""Helpers for the generation tests: variants and collected replies, a study over a run directory."""

from pathlib import Path

import pandas as pd

from carelens.config import LoadedStudy, parse_study
from carelens.ids import original_variant_id, stable_id
from carelens.store import RunDir
from carelens.study import StageContext
from carelens.tables import conform

POSTS = {
    "p1": "I have felt empty for weeks. u/throwaway_22 told me to post here. Call me 555-123-4567?",
    "p2": "My anxiety is so bad I can't leave the house. Email me at sad.person@example.com",
    "p3": "I lost my job and I don't know what to do with myself {anymore}.",
}


def variants_frame(fidelity_fail: tuple[str, ...] = ()) -> pd.DataFrame:
    """Three original variants and one explicit-cue variant of p1 (its fidelity may fail)."""
    rows = [{"variant_id": original_variant_id(pid), "post_id": pid, "race": "", "gender": "", "age": "",
             "cue_kind": "none", "cue": "", "text": text, "fidelity_ok": True, "fidelity_note": "",
             "defects": ""} for pid, text in POSTS.items()]
    cued = stable_id("v", "p1", "black-female-explicit")
    rows.append({"variant_id": cued, "post_id": "p1", "race": "black", "gender": "female", "age": "32",
                 "cue_kind": "explicit", "cue": "[32y/o, black female] -- ",
                 "text": "[32y/o, black female] -- " + POSTS["p1"], "fidelity_ok": cued not in fidelity_fail,
                 "fidelity_note": "", "defects": ""})
    return conform("variants", pd.DataFrame(rows))


def collected_frame() -> pd.DataFrame:
    rows = []
    for pid in POSTS:
        for i in range(2):
            rows.append({"response_id": stable_id("r", "peer", pid, i),
                         "variant_id": original_variant_id(pid), "post_id": pid, "responder": "peer",
                         "condition": "peer", "sample": i,
                         "text": f"peer reply {i} to {pid}", "status": "ok", "meta": "{}"})
    return conform("responses", pd.DataFrame(rows))


STUDY = """
[study]
name = "gen-test"
seed = 7
output = "run"

[[data]]
file = "posts.tsv"

[generation]
cache = "cache.sqlite"
{generation}
"""


def stage_context(folder: Path, generation: str, variants: pd.DataFrame | None = None,
                  collected: pd.DataFrame | None = None) -> StageContext:
    """A stage context for a study with this [generation] body, its run directory under ``folder``."""
    text = STUDY.replace("{generation}", generation)
    path = folder / "study.toml"
    path.write_text(text, encoding="utf-8")
    loaded = LoadedStudy(parse_study(text, str(path)), path, text)
    run = RunDir(loaded.output_dir)
    run.write_table("variants", variants if variants is not None else variants_frame())
    run.write_table("collected_responses", collected if collected is not None else collected_frame())
    return StageContext(loaded, run)
