"""The inference probe: ask a model the race, gender and age of each variant's author.

Every variant gets exactly one ``inferences`` row per probe model: the parsed answer with its status
(see ``answers``), the raw reply (or the provider's error), nothing dropped. A variant without text
(a failed rewrite) is not sent; its row has status ``error`` and says why.
"""

from pathlib import Path

import pandas as pd

from carelens.demographics.answers import parse_answer
from carelens.demographics.prompts import probe_prompt
from carelens.llm.engine import ChatRequest, ChatResult, SamplingParams, run_requests
from carelens.llm.settings import ClientConfig
from carelens.tables import conform, empty_table


def probe_requests(texts: list[str], model: str, style: str, params: SamplingParams) -> list[ChatRequest]:
    """One request per text with the probe prompt (``paper`` or ``json``)."""
    return [ChatRequest(model, [{"role": "user", "content": probe_prompt(text, style)}], params, tag="probe")
            for text in texts]


def inference_row(variant_id: str, model: str, result: ChatResult,
                  post: str | None = None) -> dict[str, object]:
    """An ``inferences`` row from one engine result (provider failures keep their status); with the
    probed ``post``, an answer echoing the prompt's examples is ``unparsed``."""
    parsed = parse_answer(result.text, result.status, post)
    raw = result.text if result.text is not None else (result.error or "")
    return {"variant_id": variant_id, "model": model, "race": parsed.race, "gender": parsed.gender,
            "age": parsed.age, "explanation": parsed.explanation, "raw": raw, "status": parsed.status}


def probe_variants(variants: pd.DataFrame, model: str, *, style: str = "paper",
                   params: SamplingParams | None = None, config: ClientConfig | None = None,
                   cache_path: Path | str | None = None, show_progress: bool = True) -> pd.DataFrame:
    """Probe every variant with ``model``; the ``inferences`` table, one row per variant."""
    if variants.empty:
        return empty_table("inferences")
    texts = variants["text"].fillna("").astype(str).tolist()
    ids = variants["variant_id"].astype(str).tolist()
    sendable = [i for i, text in enumerate(texts) if text.strip()]
    requests = probe_requests([texts[i] for i in sendable], model, style, params or SamplingParams())
    results = run_requests(requests, config=config, cache_path=cache_path, progress_label="probe",
                           show_progress=show_progress) if requests else []
    by_index = dict(zip(sendable, results, strict=True))
    rows = []
    for i, vid in enumerate(ids):
        if i in by_index:
            rows.append(inference_row(vid, model, by_index[i], texts[i]))
        else:
            rows.append({"variant_id": vid, "model": model, "race": None, "gender": None, "age": None,
                         "explanation": None, "raw": "variant has no text; not probed", "status": "error"})
    return conform("inferences", pd.DataFrame(rows, columns=list(empty_table("inferences").columns)))
