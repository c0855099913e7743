"""``carelens review``: create a rating round, add raters, serve the app, export, and compute agreement.

The round lives in ``RUN/review/review.db`` (SQLite, WAL) unless ``--db`` (or ``$CARELENS_REVIEW_DB``)
names another SQLAlchemy URL. ``RUN/review/round.json`` records the draw; ``RUN/review/masking.csv`` the
masking rules applied to the posts.
"""

import ipaddress
import json
from pathlib import Path
from typing import Annotated

import typer

from carelens.errors import CarelensError
from carelens.progress import console
from carelens.review.db import ADMIN, ReviewDB, default_url
from carelens.review.masking import CATEGORIES, write_masking_table
from carelens.review.packets import draw_items, rater_order
from carelens.store import RunDir, now, write_text_atomic

app = typer.Typer(help="Blinded clinician review: rounds, the rating app, agreement.", no_args_is_help=True)

RunArg = Annotated[Path, typer.Argument(help="The run directory.", file_okay=False)]
DbOpt = Annotated[str | None, typer.Option("--db", envvar="CARELENS_REVIEW_DB",
                                           help="SQLAlchemy URL of the round's database "
                                                "(default: SQLite in RUN/review/review.db).")]
BaseUrlOpt = Annotated[str, typer.Option(help="Where raters reach the app (used in sign-in links).")]
DEFAULT_BASE = "http://127.0.0.1:8765"


def _db(run: Path, url: str | None) -> ReviewDB:
    return ReviewDB(url or default_url(run))


def _link(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/signin/{token}"


def _fail(exc: CarelensError) -> typer.Exit:
    console.print(f"[red]error:[/red] {exc}")
    return typer.Exit(2)


@app.command()
def create(
    run: RunArg,
    size: Annotated[int, typer.Option(help="Number of responses in the round.")] = 50,
    seed: Annotated[int, typer.Option(help="Seed of the draw and of the raters' orders.")] = 13,
    responder: Annotated[list[str] | None, typer.Option(
        help="Only responders matching this pattern (fnmatch; repeatable), e.g. 'peer', 'recorded:*'.")]
    = None,
    match: Annotated[str, typer.Option(
        help="'posts': pair each AI item with a human reply to the same post, so the posts shown do not "
             "differ by source (used when the round has both); 'none': draw each source on its own.")]
    = "posts",
    db: DbOpt = None,
    base_url: BaseUrlOpt = DEFAULT_BASE,
) -> None:
    """Draw a stratified sample of responses, mask the posts, and store the round.

    Every item shows its original post (a cued variant's cue is not shown), masked alike for AI and
    human items; round.json records this under "blinding".
    """
    try:
        rundir = RunDir(run)
        draw = draw_items(rundir, size, seed, responder, match)
        store = _db(run, db)
        info = {**draw.summary(), "seed": seed, "size": size, "responders": responder or [],
                "database": store.safe_url, "created": now(),
                "masked": {c: int(draw.items[f"masked_{c}"].sum()) for c in CATEGORIES}}
        token = store.create_round(draw.items, info)
    except CarelensError as exc:
        raise _fail(exc) from None
    write_masking_table(run / "review" / "masking.csv")
    write_text_atomic(run / "review" / "round.json", json.dumps(info, indent=2))
    if len(draw.items) < size:
        matched = draw.blinding["match"] == "posts"
        why = " (matched on posts: pairs of one AI and one human reply to a post)" if matched else ""
        console.print(f"[yellow]only {len(draw.items)} responses drawn (asked for {size}){why}[/yellow]")
    by_source = draw.items["source"].value_counts().to_dict()
    console.print(f"round {draw.round_id}: {len(draw.items)} items ({by_source}) in "
                  f"{len(draw.strata)} strata; masked {info['masked']}; blinding {draw.blinding}")
    console.print("Admin sign-in link (shown once; keep it private):")
    typer.echo(_link(base_url, token))


@app.command("add-rater")
def add_rater(
    run: RunArg,
    rater_id: Annotated[str, typer.Argument(metavar="NAME", help="Rater id: 1-40 of a-z 0-9 _ -.")],
    name: Annotated[str, typer.Option(help="Display name.")] = "",
    items: Annotated[int | None, typer.Option(help="Rate only this many items (default: all).")] = None,
    reissue: Annotated[bool, typer.Option(help="Issue a new link for an existing account "
                                               "(also 'admin'); the old link stops working.")] = False,
    db: DbOpt = None,
    base_url: BaseUrlOpt = DEFAULT_BASE,
) -> None:
    """Create a rater account (with their own item order) and print their secret sign-in link."""
    try:
        store = _db(run, db)
        store.require_round()
        if reissue:
            token = store.reissue(rater_id)
        else:
            if rater_id == ADMIN:
                raise CarelensError("'admin' is reserved; use --reissue for a new admin link", where="NAME")
            order = rater_order(store.item_ids(), int(store.meta("seed")), rater_id)
            if items is not None:
                if not 1 <= items <= len(order):
                    raise CarelensError(f"must be 1 to {len(order)}", where="--items")
                order = order[:items]
            token = store.add_account(rater_id, "rater", name, order)
    except CarelensError as exc:
        raise _fail(exc) from None
    console.print(f"Sign-in link for {rater_id} (send it privately):")
    typer.echo(_link(base_url, token))


@app.command()
def serve(
    run: RunArg,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8765,
    secure_cookies: Annotated[bool, typer.Option(help="Mark the sign-in cookie Secure (serve over HTTPS).")]
    = False,
    db: DbOpt = None,
) -> None:
    """Serve the rating app.

    Beyond this machine, serve it through an HTTPS reverse proxy that passes the Host header (POSTs
    whose Origin does not match Host are refused) and use --secure-cookies.
    """
    import uvicorn

    from carelens.review.app import create_app

    try:
        application = create_app(_db(run, db), run, secure_cookies=secure_cookies)
    except CarelensError as exc:
        raise _fail(exc) from None
    try:
        local = ipaddress.ip_address(host).is_loopback
    except ValueError:
        local = host == "localhost"
    if not local and not secure_cookies:
        console.print("[yellow]listening beyond this machine without --secure-cookies: "
                      "serve through an HTTPS proxy[/yellow]")
    uvicorn.run(application, host=host, port=port, log_level="warning", proxy_headers=False)


@app.command()
def export(run: RunArg, db: DbOpt = None) -> None:
    """Write the answers to RUN/tables/ratings.parquet and RUN/review/ratings.csv."""
    from carelens.review.export import export_ratings

    try:
        store = _db(run, db)
        store.require_round()
        result = export_ratings(store, RunDir(run))
    except CarelensError as exc:
        raise _fail(exc) from None
    console.print(f"exported {result.rows} answers from {result.raters} raters: "
                  + ", ".join(map(str, result.paths)))


@app.command()
def agreement(
    run: Annotated[Path | None, typer.Argument(help="The run directory (answers from its round, scores "
                                                    "from its scores table, output to RUN/review/).")]
    = None,
    ratings: Annotated[Path | None, typer.Option(help="Read answers from a CSV (item, rater, question, "
                                                      "value[, source, response_id]) instead.")] = None,
    out: Annotated[Path | None, typer.Option(help="Output folder (default RUN/review).")] = None,
    resamples: Annotated[int, typer.Option(help="Bootstrap resamples for alpha's CI.")] = 1000,
    seed: Annotated[int, typer.Option(help="Bootstrap seed.")] = 0,
    na: Annotated[str, typer.Option(
        "--na", help="N/A answers: 'exclude' leaves them out of every statistic; 'category' counts N/A as "
                     "its own category (nominal kappa and alpha).")] = "exclude",
    db: DbOpt = None,
) -> None:
    """Inter-rater agreement, AI-guess accuracy, AI-share estimates and the scorer against each clinician.

    Every table gives the number of rated pairs per question: the pairs of answers that entered it.
    """
    from carelens.review.agreement import (
        compute_agreement,
        markdown_table,
        normalise,
        read_ratings_csv,
        write_agreement,
    )
    from carelens.review.reliability import check_na

    try:
        check_na(na)
        if run is None and (ratings is None or out is None):
            raise CarelensError("give a run directory, or --ratings CSV with --out DIR", where="RUN")
        rundir = RunDir(run) if run is not None else None
        if ratings is not None:
            frame, source = read_ratings_csv(ratings), str(ratings)
        else:
            assert rundir is not None
            store = _db(rundir.path, db)
            if store.has_round():
                frame, source = store.ratings(), store.safe_url
            else:
                frame, source = rundir.read_table("ratings"), str(rundir.table_path("ratings"))
            frame = normalise(frame, source)
        if frame.empty:
            raise CarelensError("no answers to analyse", where=source)
        scores = rundir.read_table("scores") if rundir is not None and rundir.has_table("scores") else None
        result = compute_agreement(frame, scores, source=source, resamples=resamples, seed=seed, na=na)
        target = out or (rundir.path / "review" if rundir else Path("."))
        paths = write_agreement(result, target)
    except CarelensError as exc:
        raise _fail(exc) from None
    typer.echo(markdown_table(result))
    for note in result["notes"]:
        console.print(f"[yellow]note:[/yellow] {note}")
    console.print("wrote " + ", ".join(map(str, paths)))
