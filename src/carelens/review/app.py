"""The rating web app: server-rendered pages for raters and the admin, plus a small JSON API.

Every page and API call needs a valid token, sent as the ``carelens_review`` cookie (set by the sign-in
link ``/signin/<token>``) or as ``Authorization: Bearer <token>``; only ``/signin/`` and ``/static/``
are open. Raters reach only their own items, by position in their own order, and see neither who
wrote a response nor other raters' answers. Every POST needs the account's CSRF token (form field
``csrf`` or header ``X-CSRF-Token``) and, when the browser sends one, a same-origin ``Origin``.
Templates are autoescaped; the Content-Security-Policy allows scripts and styles from this server only.
Once every item is rated, ``/done`` asks the one question per rater (the AI share), posted as a form.
"""

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader
from markupsafe import Markup, escape
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.templating import Jinja2Templates

from carelens.errors import CarelensError
from carelens.review.db import Account, NotAssigned, ReviewDB
from carelens.review.export import export_ratings
from carelens.review.packets import rater_order
from carelens.review.questions import AI_GUESS as AI_GUESS_Q
from carelens.review.questions import AI_SHARE, EPITOME, MITI, QUESTIONS, REQUIRED
from carelens.store import RunDir

HERE = Path(__file__).parent
COOKIE = "carelens_review"
PUBLIC_PREFIXES = ("/signin/", "/static/")
MASK_TOKEN = re.compile(r"\[(gender|age|ethnicity|nationality)\]")
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
                               "connect-src 'self'; form-action 'self'; base-uri 'none'; "
                               "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # not no-referrer: under it browsers send "Origin: null", which the origin check refuses
    "Referrer-Policy": "same-origin",
}


class AnswerIn(BaseModel):
    item_id: str
    question: str
    value: str


def highlight_masks(text: str) -> Markup:
    """Escape the text, then mark the masking placeholders so raters can tell them from the poster's words."""
    return Markup(MASK_TOKEN.sub(r'<span class="mask">[\1]</span>', str(escape(text))))


def _token(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return request.cookies.get(COOKIE)


def _same_origin(request: Request) -> bool:
    """True unless the browser says the request comes from another origin (scheme may differ behind TLS)."""
    origin = request.headers.get("origin")
    return origin is None or urlsplit(origin).netloc == request.headers.get("host", "")


def create_app(db: ReviewDB, run_path: Path, *, secure_cookies: bool = False) -> FastAPI:
    """The app for the round in ``db``; exports go to the run directory ``run_path``."""
    db.require_round()
    run = RunDir(run_path)
    seed = int(db.meta("seed"))
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=True)
    env.filters["masks"] = highlight_masks
    templates = Jinja2Templates(env=env)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    def page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        account: Account | None = getattr(request.state, "account", None)
        context.update(account=account, csrf=db.csrf_token(account) if account else "")
        return templates.TemplateResponse(request, name, context, status_code=status)

    def problem(request: Request, status: int, message: str) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": message}, status_code=status)
        return page(request, "message.html", status=status, title=message, message=message)

    @app.middleware("http")
    async def guard(request: Request, call_next: Any) -> Response:
        request.state.account = None
        if not request.url.path.startswith(PUBLIC_PREFIXES):
            account = await run_in_threadpool(db.authenticate, _token(request))
            if account is None:
                response = problem(request, 401, "Please sign in with your personal link.")
                return _secure(response)
            request.state.account = account
        if request.method not in ("GET", "HEAD") and not _same_origin(request):
            return _secure(problem(request, 403, "Cross-origin request refused."))
        return _secure(await call_next(request))

    def _secure(response: Response) -> Response:
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        return problem(request, exc.status_code, str(exc.detail))

    def rater(request: Request) -> Account:
        account: Account = request.state.account
        if account.is_admin:
            raise HTTPException(403, "This page is for raters.")
        return account

    def admin(request: Request) -> Account:
        account: Account = request.state.account
        if not account.is_admin:
            raise HTTPException(403, "This page is for the administrator.")
        return account

    async def check_csrf(request: Request) -> None:
        token = request.headers.get("x-csrf-token")
        if token is None and request.headers.get("content-type", "").startswith(
                ("application/x-www-form-urlencoded", "multipart/form-data")):
            token = (await request.form()).get("csrf")  # type: ignore[assignment]
        if not db.check_csrf(request.state.account, token):
            raise HTTPException(403, "Missing or wrong CSRF token; reload the page.")

    @app.get("/signin/{token}")
    def signin(request: Request, token: str) -> Response:
        account = db.authenticate(token)
        if account is None:
            return problem(request, 401, "This sign-in link is not valid.")
        response = RedirectResponse("/", status_code=303, headers={"Referrer-Policy": "no-referrer"})
        response.set_cookie(COOKIE, token, httponly=True, samesite="lax", secure=secure_cookies,
                            max_age=60 * 60 * 24 * 90, path="/")
        return response

    @app.post("/signout")
    async def signout(request: Request) -> Response:
        await check_csrf(request)
        request.state.account = None
        response = page(request, "message.html", title="Signed out",
                        message="You are signed out. Your answers are saved; use your link to come back.")
        response.delete_cookie(COOKIE, path="/")
        return response

    @app.get("/favicon.ico")
    def favicon() -> Response:
        return Response(status_code=204)

    @app.get("/")
    def home(request: Request) -> Response:
        account: Account = request.state.account
        if account.is_admin:
            return RedirectResponse("/admin", status_code=303)
        done = db.completion(account.account_id)
        todo = next((i for i, n in enumerate(done, start=1) if n < len(REQUIRED)), None)
        return RedirectResponse(f"/item/{todo}" if todo else "/done", status_code=303)

    @app.get("/item/{position}")
    def item_page(request: Request, position: int) -> Response:
        account = rater(request)
        item = db.item_at(account.account_id, position)
        if item is None:
            raise HTTPException(404, "No such item.")
        done = db.completion(account.account_id)
        return page(request, "item.html", item=item, position=position, total=len(done),
                    answers=db.answers(account.account_id, item["item_id"]),
                    completion=done, required=len(REQUIRED),
                    complete=sum(n == len(REQUIRED) for n in done),
                    epitome=EPITOME, miti=MITI, ai_guess=AI_GUESS_Q)

    def save_form(account: Account, position: int, item_id: str, answers: dict[str, str], go: str) -> str:
        """Save the answers posted for the item at ``position``; return where to go next."""
        item = db.item_at(account.account_id, position)
        if item is None or item_id != item["item_id"]:
            raise HTTPException(404, "No such item.")
        for question, value in answers.items():
            try:
                db.save_answer(account.account_id, item_id, question, value)
            except ValueError as exc:
                raise HTTPException(400, str(exc)) from None
        target = position + {"prev": -1, "next": 1}.get(go, 0)
        return "/done" if target > db.count(account.account_id) else f"/item/{max(target, 1)}"

    @app.post("/item/{position}")
    async def item_submit(request: Request, position: int) -> Response:
        await check_csrf(request)
        account = rater(request)
        form = await request.form()
        answers = {q.key: value for q in QUESTIONS
                   if isinstance(value := form.get(q.key), str) and (value or q.kind == "text")}
        target = await run_in_threadpool(save_form, account, position, str(form.get("item_id", "")), answers,
                                         str(form.get("go", "next")))
        return RedirectResponse(target, status_code=303)

    def save_one(account: Account, answer: AnswerIn) -> dict[str, Any]:
        try:
            db.save_answer(account.account_id, answer.item_id, answer.question, answer.value)
        except NotAssigned:
            raise HTTPException(404, "No such item.") from None
        except ValueError as exc:
            raise HTTPException(400, str(exc)) from None
        done = db.completion(account.account_id)
        answered = db.answers(account.account_id, answer.item_id).keys() & set(REQUIRED)
        return {"saved": True, "complete": sum(n == len(REQUIRED) for n in done), "total": len(done),
                "item_answered": len(answered), "required": len(REQUIRED)}

    @app.post("/api/answer")
    async def api_answer(request: Request, answer: AnswerIn) -> dict[str, Any]:
        await check_csrf(request)
        return await run_in_threadpool(save_one, rater(request), answer)

    @app.get("/api/progress")
    def api_progress(request: Request) -> dict[str, Any]:
        account: Account = request.state.account
        if account.is_admin:
            return {"raters": db.progress()}
        done = db.completion(account.account_id)
        return {"complete": sum(n == len(REQUIRED) for n in done), "total": len(done),
                "answered_per_item": done, "required": len(REQUIRED),
                "ai_share_given": AI_SHARE.key in db.rater_answers(account.account_id)}

    def done_context(account: Account) -> dict[str, Any]:
        done = db.completion(account.account_id)
        return {"completion": done, "required": len(REQUIRED), "total": len(done),
                "complete": sum(n == len(REQUIRED) for n in done), "share_question": AI_SHARE,
                "ai_share": db.rater_answers(account.account_id).get(AI_SHARE.key)}

    @app.get("/done")
    def done_page(request: Request, saved: str = "") -> Response:
        account = rater(request)
        return page(request, "done.html", saved=saved == "1", **done_context(account))

    def save_share(account: Account, value: str) -> None:
        context = done_context(account)
        if context["complete"] < context["total"]:
            raise HTTPException(409, "Please rate every item before this last question.")
        try:
            db.save_rater_answer(account.account_id, AI_SHARE.key, value)
        except ValueError:
            raise HTTPException(400, "Please give a percentage from 0 to 100.") from None

    @app.post("/done")
    async def done_submit(request: Request) -> Response:
        """The rater's one estimate of the share of AI responses (asked once all items are rated)."""
        await check_csrf(request)
        account = rater(request)
        value = (await request.form()).get(AI_SHARE.key)
        await run_in_threadpool(save_share, account, value if isinstance(value, str) else "")
        return RedirectResponse("/done?saved=1", status_code=303)

    def admin_page(request: Request, **extra: Any) -> Response:
        return page(request, "admin.html", progress=db.progress(), n_items=len(db.item_ids()), **extra)

    @app.get("/admin")
    def admin_home(request: Request) -> Response:
        admin(request)
        return admin_page(request)

    @app.post("/admin/raters")
    async def admin_add_rater(request: Request) -> Response:
        await check_csrf(request)
        admin(request)
        form = await request.form()
        rater_id, name = str(form.get("rater_id", "")).strip(), str(form.get("name", "")).strip()
        return await run_in_threadpool(add_rater, request, rater_id, name)

    def add_rater(request: Request, rater_id: str, name: str) -> Response:
        if rater_id == "admin":
            return admin_page(request, error="'admin' is reserved.")
        try:
            token = db.add_account(rater_id, "rater", name, rater_order(db.item_ids(), seed, rater_id))
        except CarelensError as exc:
            return admin_page(request, error=str(exc))
        link = str(request.base_url).rstrip("/") + f"/signin/{token}"
        return admin_page(request, new_link={"rater_id": rater_id, "link": link})

    @app.post("/admin/export")
    async def admin_export(request: Request) -> Response:
        await check_csrf(request)
        admin(request)
        result = await run_in_threadpool(export_ratings, db, run)
        return await run_in_threadpool(admin_page, request, exported=result)

    return app
