"""Generation commands: list the prompt conditions, inspect the cache, try one responder."""

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from carelens.config import load_study
from carelens.generation.prompts import PAPER_CONDITIONS, PAPER_LABELS, SWAPPED_LABELS_NOTE, paper_condition
from carelens.generation.settings import GenerationConfig
from carelens.generation.stage import sampling_for
from carelens.llm.cache import ResultCache, default_cache_path
from carelens.llm.engine import ChatRequest, run_requests

CachePath = Annotated[Path | None, typer.Option(help="Cache file (default: the carelens cache folder).")]
Clear = Annotated[str | None, typer.Option(help="Delete the results of this responder ('all': every one).")]
StudyFile = Annotated[Path | None, typer.Option(help="A study file whose [generation] settings apply.")]
Responder = Annotated[str, typer.Argument(help="A model spec, e.g. openai-compatible:m@http://host/v1")]

app = typer.Typer(help="Prompt conditions, the response cache, and a one-request check of a responder.",
                  no_args_is_help=True)
out = Console()


@app.command()
def conditions() -> None:
    """List the paper's five prompt conditions with their exact prompt."""
    labels = {name: label for label, name in PAPER_LABELS.items()}
    for name in PAPER_CONDITIONS:
        out.print(f"[bold]{name}[/bold] (paper label '{labels[name]}')", soft_wrap=True)
        out.print(f"  {paper_condition(name).user}", markup=False, soft_wrap=True)
    out.print(f"[dim]{SWAPPED_LABELS_NOTE}[/dim]", soft_wrap=True)


@app.command()
def cache(path: CachePath = None, clear: Clear = None) -> None:
    """Show how many results the response cache holds per responder, or clear some."""
    with ResultCache(path or default_cache_path()) as store:
        if clear:
            removed = store.clear(None if clear == "all" else clear)
            out.print(f"removed {removed} stored results")
            return
        table = Table("responder", "stored results")
        for responder, count in sorted(store.stats().items()):
            table.add_row(escape(responder), str(count))
        out.print(f"cache: {store.path}", markup=False)
        out.print(table)


@app.command()
def ask(
    responder: Responder,
    post: Annotated[str, typer.Argument(help="The post text.")],
    condition: Annotated[str, typer.Option(help="A paper condition name.")] = "mental_health_forum",
    study: StudyFile = None,
) -> None:
    """Send one post to one responder (not cached) and print the outcome: checks an endpoint's settings."""
    config = load_study(study).study.generation if study else GenerationConfig()
    if condition not in PAPER_CONDITIONS:
        raise typer.BadParameter(f"unknown condition; allowed: {', '.join(PAPER_CONDITIONS)}",
                                 param_hint="--condition")
    params = sampling_for(config, condition, responder, 13)
    request = ChatRequest(responder, paper_condition(condition).messages(post), params, tag="ask")
    [result] = run_requests([request], config=config, use_cache=False, show_progress=False)
    out.print(f"status: {result.status}", markup=False)
    if result.error:
        out.print(f"error: {result.error}", markup=False)
    if result.text:
        out.print(result.text, markup=False)
    if result.status == "error":
        raise typer.Exit(1)
