"""The named datasets carelens knows: where each comes from, its license, and its parser."""

import importlib
from collections.abc import Callable
from dataclasses import dataclass

from carelens.datasets.bundle import Bundle
from carelens.datasets.sources import COUNSEL_CHAT, EPITOME, MH_EVAL, Upstream
from carelens.errors import CarelensError


@dataclass(frozen=True)
class Dataset:
    """A registered dataset: upstream files, what it holds, and the parser that reads it."""

    name: str
    upstream: Upstream
    prefixes: tuple[str, ...]
    description: str
    parser: str  # "module:function" returning a Bundle

    def files(self) -> list[str]:
        return [f for prefix in self.prefixes for f in self.upstream.files(prefix)]

    def parse(self) -> Bundle:
        module, func = self.parser.split(":")
        parse_fn: Callable[[], Bundle] = getattr(importlib.import_module(module), func)
        return parse_fn().conformed()


DATASETS: dict[str, Dataset] = {
    d.name: d
    for d in (
        Dataset(
            "mh-eval-reddit",
            MH_EVAL,
            ("original_reddit/",),
            "Posts from 26 mental-health subreddits with their peer replies (responder 'peer').",
            "carelens.datasets.mh_eval:parse_reddit",
        ),
        Dataset(
            "mh-eval-gpt4",
            MH_EVAL,
            ("gpt4_responses/", "eval_sets/"),
            "The paper's recorded GPT-4 replies under its 5 prompt conditions (responder "
            "'recorded:gpt-4'), with the authors' scores, plus its White/Asian peer eval sets.",
            "carelens.datasets.mh_eval:parse_gpt4",
        ),
        Dataset(
            "mh-eval-counterfactual",
            MH_EVAL,
            ("counterfactuals/",),
            "11 neutral posts x 8 explicit/implicit race-gender cue variants, 10 recorded GPT-4 "
            "replies each.",
            "carelens.datasets.mh_eval:parse_counterfactual",
        ),
        Dataset(
            "epitome",
            EPITOME,
            ("",),
            "EPITOME Reddit seeker posts and peer responses labelled for ER/IP/EX (0/1/2).",
            "carelens.datasets.epitome:parse",
        ),
        Dataset(
            "counsel-chat",
            COUNSEL_CHAT,
            ("",),
            "Questions answered by licensed therapists on counselchat.com (responder 'therapist').",
            "carelens.datasets.counsel_chat:parse",
        ),
    )
}


def get_dataset(name: str) -> Dataset:
    if name not in DATASETS:
        raise CarelensError(f"unknown dataset '{name}'; known: {', '.join(sorted(DATASETS))}")
    return DATASETS[name]
