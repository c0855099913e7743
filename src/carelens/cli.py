"""The carelens command line: one command per stage, ``run`` for all, and ``quickstart``."""

import json
from importlib.resources import as_file, files
from pathlib import Path
from typing import Annotated, NoReturn

import duckdb
import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from carelens.analysis.commands import plan
from carelens.api.check import check
from carelens.config import DataSource, load_study
from carelens.datasets.fetch import dataset_file
from carelens.datasets.importing import check_file_source, import_file, problem_listing
from carelens.datasets.registry import DATASETS, get_dataset
from carelens.demographics import commands as demographics_commands
from carelens.errors import CarelensError, path_error
from carelens.generation import commands as generation_commands
from carelens.review import commands as review_commands
from carelens.scoring import commands as scoring_commands
from carelens.store import RunDir
from carelens.study import STAGE_NAMES, StageFailed, run_study

app = typer.Typer(help=__doc__, no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False)
data_app = typer.Typer(help="Named datasets: list, show, fetch.", no_args_is_help=True)
import_app = typer.Typer(
    help="Import your own posts or responses (CSV, TSV, JSONL, Parquet).", no_args_is_help=True
)
app.command("plan")(plan)
app.command("check")(check)
app.add_typer(data_app, name="data")
app.add_typer(import_app, name="import")
app.add_typer(
    generation_commands.app,
    name="generation",
    help="Prompt conditions, the response cache, and one-off requests to check an endpoint.",
)
app.add_typer(
    demographics_commands.app,
    name="demographics",
    help="The cue bank, the probe's answer parser, and the manipulation check.",
)
app.add_typer(scoring_commands.app, name="models")
app.add_typer(review_commands.app, name="review", help="Blinded clinician rating rounds and agreement.")

out = Console(soft_wrap=True)
err = Console(stderr=True)

StudyArg = Annotated[Path, typer.Argument(help="The study file (TOML).")]
ForceOpt = Annotated[bool, typer.Option("--force", help="Re-run stages even when up to date.")]
OutputOpt = Annotated[
    Path | None, typer.Option("--output", "-o", help="Run directory (overrides the study's).")
]


def _run(study: Path, until: str | None, force: bool, output: Path | None) -> RunDir:
    run = run_study(load_study(study, output), until=until, force=force)
    out.print(f"run directory: {run.path}", markup=False)
    if (run.path / "report.html").exists() and until in (None, "report"):
        out.print(f"report: {run.path / 'report.html'}", markup=False)
    return run


@app.command()
def validate(study: StudyArg) -> None:
    """Check a study file; every problem is listed with its key path and the allowed values."""
    loaded = load_study(study)
    problems = [
        problem
        for index, source in enumerate(loaded.study.data)
        if source.file is not None
        for problem in check_file_source(source, loaded.resolve(source.file), f"data[{index}]")
    ]
    if problems:
        raise CarelensError(problem_listing(problems), where=str(study))
    name = loaded.study.study.name
    detail = f"{study} (study '{name}', run directory {loaded.output_dir})"
    out.print(f"[green]ok[/green]: {escape(detail)}")


@app.command()
def run(study: StudyArg, force: ForceOpt = False, output: OutputOpt = None) -> None:
    """Run every stage of a study, skipping the stages whose inputs are unchanged."""
    _run(study, None, force, output)


def _stage_command(stage: str) -> None:
    def command(study: StudyArg, force: ForceOpt = False, output: OutputOpt = None) -> None:
        _run(study, stage, force, output)

    command.__doc__ = f"Run the study up to the '{stage}' stage (earlier stages run only if out of date)."
    app.command(name=stage)(command)


for _stage in STAGE_NAMES[1:]:
    _stage_command(_stage)


@app.command()
def quickstart(
    output: Annotated[Path, typer.Option("--output", "-o")] = Path("runs/quickstart"), force: ForceOpt = False
) -> None:
    """Run the embedded quick-start study on real posts and print where the report is."""
    with as_file(files("carelens").joinpath("studies/quickstart.toml")) as study:
        _run(study, None, force, output)


@app.command()
def query(
    run_dir: Annotated[Path, typer.Argument(help="A run directory.")],
    sql: Annotated[str, typer.Argument(help="SQL over the run's tables, e.g. 'select * from scores'.")],
    csv: Annotated[bool, typer.Option("--csv", help="Print CSV instead of a table.")] = False,
) -> None:
    """Query a run's tables with DuckDB (each table is a view of the same name)."""
    tables = sorted((run_dir / "tables").glob("*.parquet"))
    if not tables:
        raise CarelensError("no tables found (is this a run directory?)", where=str(run_dir))
    con = duckdb.connect()
    for table in tables:
        con.execute(f"create view \"{table.stem}\" as select * from read_parquet('{table}')")
    try:
        frame = con.execute(sql).fetchdf()
    except duckdb.Error as exc:
        raise CarelensError(f"query failed: {exc}") from None
    if csv:
        out.print(frame.to_csv(index=False), end="", markup=False, highlight=False)
        return
    view = Table(*(escape(str(c)) for c in frame.columns))
    for row in frame.itertuples(index=False):
        view.add_row(*(escape(str(v)[:80]) for v in row))
    out.print(view)


@data_app.command("list")
def data_list() -> None:
    """The registered datasets."""
    view = Table("name", "description", "license")
    for dataset in DATASETS.values():
        view.add_row(dataset.name, dataset.description, dataset.upstream.license)
    out.print(view)


@data_app.command("show")
def data_show(name: str) -> None:
    """Parse a dataset and report its communities, posts and replies after cleaning, and its defects."""
    dataset = get_dataset(name)
    bundle = dataset.parse()
    out.print(f"[bold]{dataset.name}[/bold]: {dataset.description}")
    out.print(f"upstream: {dataset.upstream.repository} @ {dataset.upstream.commit}")
    out.print(f"license: {dataset.upstream.license}\ncitation: {dataset.upstream.citation}")
    out.print(f"communities: {bundle.posts['community'].nunique()}")
    out.print(
        f"posts: {len(bundle.posts)}   variants: {len(bundle.variants)}   responses: {len(bundle.responses)}"
    )
    for responder, count in bundle.responses["responder"].value_counts().items():
        out.print(f"  responses by {responder}: {count}")
    for (scorer, metric), count in bundle.scores.groupby(["scorer", "metric"]).size().items():
        out.print(f"  recorded scores {scorer} {metric}: {count}", markup=False, highlight=False)
    view = Table("community", "posts")
    for community, count in bundle.posts["community"].value_counts().sort_index().items():
        view.add_row(str(community), str(count))
    out.print(view)
    out.print("cleaning and defects: " + json.dumps(bundle.notes, sort_keys=True))


@data_app.command("fetch")
def data_fetch(name: str) -> None:
    """Fetch a dataset's files into the cache (or check the mirror), verifying every sha256."""
    dataset = get_dataset(name)
    for relpath in dataset.files():
        path = dataset_file(dataset.upstream, relpath)
        out.print(f"[green]ok[/green] {escape(str(path))}")


def _pairs(pairs: list[str], option: str, what: str) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name or not value:
            raise CarelensError(f"{option} expects {what}, got '{pair}'")
        if name in mapping:
            raise CarelensError(f"{option} {name} is given twice")
        mapping[name] = value
    return mapping


def _source(
    kind: str, file: Path, options: dict[str, list[str]], header: str | None, header_line: bool, scorer: str
) -> DataSource:
    """The command line's options as the data entry a study would give (one implementation for both)."""
    fields: dict[str, object] = {
        "file": str(file),
        "kind": kind,
        "columns": _pairs(options["map"], "--map", "NAME=COLUMN"),
        "scores": _pairs(options["score"], "--score", "METRIC=COLUMN"),
        "set": _pairs(options["set"], "--set", "NAME=VALUE"),
        "scorer": scorer,
        "header_line": header_line,
    }
    if header is not None:
        fields["header"] = [name.strip() for name in header.split(",")]
    try:
        return DataSource.model_validate(fields)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise CarelensError(problems) from None


def _study_text(source: DataSource, responders: list[str], name: str) -> str:
    """A study file whose one [[data]] entry imports the file exactly as the command line did."""
    entry = [f"file = {json.dumps(str(Path(source.file or '').resolve()))}", f'kind = "{source.kind}"']
    if source.header is not None:
        entry.append(f"header = {json.dumps(source.header)}")
    if not source.header_line:
        entry.append("header_line = false")
    for option in ("columns", "scores", "set"):
        values: dict[str, str] = getattr(source, option)
        if values:
            inline = ", ".join(f"{json.dumps(k)} = {json.dumps(v)}" for k, v in values.items())
            entry.append(f"{option} = {{ {inline} }}")
    if source.scores:
        entry.append(f"scorer = {json.dumps(source.scorer)}")
    return (
        f"[study]\nname = {json.dumps(name)}\n\n[[data]]\n" + "\n".join(entry) + "\n\n"
        f"[generation]\nresponders = {json.dumps(responders)}\n\n"
        '[scoring]\nscorers = ["text", "empathy", "sentiment", "offensive", "safety"]\n'
    )


def _import(source: DataSource, study: Path | None) -> None:
    file = Path(source.file or "")
    if study is not None and study.exists():
        raise CarelensError("refusing to overwrite an existing file", where=str(study))
    bundle = import_file(file, source)
    notes = bundle.notes
    out.print(
        f"[green]ok[/green]: {escape(str(file))}: {notes['records']} records, {len(bundle.posts)} posts, "
        f"{len(bundle.responses)} responses"
    )
    if len(bundle.responses):
        for (responder, status), count in bundle.responses.groupby(["responder", "status"]).size().items():
            out.print(f"  {responder} [{status}]: {count}", markup=False, highlight=False)
    counted = {
        "posts_empty_skipped": "records without a post text, skipped",
        "replies_empty": "empty or whitespace-only replies, kept with status empty",
        "refusals_detected": "replies without a status read as refusals (status refused)",
        "nul_fields_cleaned": "fields with NUL bytes removed",
        "collected_scores": "recorded scores",
        "scores_missing": "empty recorded-score cells (missing scores)",
    }
    for note, label in counted.items():
        if notes.get(note):
            out.print(f"  {label}: {notes[note]}", markup=False)
    if notes.get("numeric_meta_columns"):
        out.print(
            f"  numeric columns kept in meta: {', '.join(notes['numeric_meta_columns'])} "
            "(recorded scores? read them with --score METRIC=COLUMN)",
            markup=False,
            highlight=False,
        )
    if study is not None:
        responders = sorted(bundle.responses["responder"].unique()) if len(bundle.responses) else ["peer"]
        study.write_text(_study_text(source, responders, study.stem), encoding="utf-8")
        out.print(f"study written: {study} (run it with: carelens run {study})", markup=False)


MapOpt = Annotated[list[str], typer.Option("--map", help="NAME=COLUMN: which of your columns is NAME.")]
StudyOut = Annotated[Path | None, typer.Option("--study", help="Also write a study file that imports it.")]
HeaderOpt = Annotated[
    str | None,
    typer.Option("--header", help="NAME,NAME,...: the field names to use instead of the file's header line."),
]
NoHeaderLineOpt = Annotated[
    bool, typer.Option("--no-header-line", help="The file has no header line (give the names with --header).")
]
ScoreOpt = Annotated[
    list[str], typer.Option("--score", help="METRIC=COLUMN: a column of recorded scores (numbers).")
]
SetOpt = Annotated[
    list[str], typer.Option("--set", help="NAME=VALUE: a constant field for every row (e.g. responder=...).")
]
ScorerOpt = Annotated[
    str, typer.Option("--scorer", help="The scorer name the recorded scores are stored under.")
]


@import_app.command("posts")
def import_posts(
    file: Path,
    map: MapOpt = [],  # noqa: B006
    header: HeaderOpt = None,
    no_header_line: NoHeaderLineOpt = False,
    set: SetOpt = [],  # noqa: B006
    study: StudyOut = None,
) -> None:
    """Check posts (column 'text'; optional post_id, community) and optionally write a study for them."""
    options = {"map": map, "score": [], "set": set}
    _import(_source("posts", file, options, header, not no_header_line, "recorded"), study)


@import_app.command("responses")
def import_responses(
    file: Path,
    map: MapOpt = [],  # noqa: B006
    header: HeaderOpt = None,
    no_header_line: NoHeaderLineOpt = False,
    score: ScoreOpt = [],  # noqa: B006
    set: SetOpt = [],  # noqa: B006
    scorer: ScorerOpt = "recorded",
    study: StudyOut = None,
) -> None:
    """Check responses (columns post, response, responder; optional condition, status, post_id), their
    recorded scores, and optionally write a study for them."""
    options = {"map": map, "score": score, "set": set}
    _import(_source("responses", file, options, header, not no_header_line, scorer), study)


def main() -> None:
    """Entry point: user errors (and files or folders that cannot be read or written) print one plain
    message, never interpreted as markup, and exit with code 2."""
    try:
        app(prog_name="carelens")
    except CarelensError as exc:
        _exit_with(exc)
    except StageFailed as exc:
        err.print(str(exc), highlight=False, soft_wrap=True, markup=False)
        raise SystemExit(1) from None
    except OSError as exc:
        if exc.filename is None:
            raise
        _exit_with(path_error(exc))


def _exit_with(exc: CarelensError) -> NoReturn:
    err.print(Text.assemble(("error:", "bold red"), " ", str(exc)), highlight=False, soft_wrap=True)
    raise SystemExit(2) from None
