"""Security of the rating app: tokens, own items only, blinding, CSRF, escaping, restart.

Most checks use Starlette's TestClient; the last group goes over real HTTP to uvicorn on 127.0.0.1.
"""

import hashlib
import re

import httpx
import pytest
from fastapi.testclient import TestClient
from review_fixtures import XSS, Round, Server
from sqlalchemy import select

from carelens.review.app import COOKIE, create_app
from carelens.review.db import NotAssigned, accounts_t, answers_t, items_t

ROUTES = [("GET", "/"), ("GET", "/item/1"), ("GET", "/done"), ("POST", "/done"), ("GET", "/admin"),
          ("GET", "/api/progress"),
          ("POST", "/api/answer"), ("POST", "/item/1"), ("POST", "/admin/export"), ("POST", "/admin/raters"),
          ("POST", "/signout"), ("GET", "/docs"), ("GET", "/openapi.json"), ("GET", "/nonexistent")]


@pytest.fixture
def client(review_round: Round) -> TestClient:
    return TestClient(create_app(review_round.db, review_round.run.path))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def signed_in(client: TestClient, token: str) -> TestClient:
    response = client.get(f"/signin/{token}", follow_redirects=False)
    assert response.status_code == 303
    return client


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf-token" content="([0-9a-f]{64})"', html)
    assert match, "page carries no CSRF token"
    return match.group(1)


def item_id_of(html: str) -> str:
    match = re.search(r'data-item-id="([^"]+)"', html)
    assert match
    return match.group(1)


def all_answers(rnd: Round) -> list[tuple]:
    with rnd.db.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(answers_t.c.item_id, answers_t.c.rater_id,
                                                      answers_t.c.question, answers_t.c.value))]


# --- authentication ----------------------------------------------------------------------------

@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_nothing_without_a_token(client: TestClient, method: str, path: str) -> None:
    response = client.request(method, path, follow_redirects=False)
    assert response.status_code == 401
    assert "sign in" in response.text.lower() and "data-item-id" not in response.text


@pytest.mark.parametrize("token", ["garbage", "ann.", "ann.wrong-secret", ".x", "nobody.x" * 3, "x" * 500])
def test_bad_tokens_are_refused_everywhere(client: TestClient, review_round: Round, token: str) -> None:
    assert client.get("/", headers=bearer(token), follow_redirects=False).status_code == 401
    assert client.get(f"/signin/{token}", follow_redirects=False).status_code == 401
    client.cookies.set(COOKIE, token)
    assert client.get("/api/progress").status_code == 401


def test_a_secret_of_another_account_does_not_work(client: TestClient, review_round: Round) -> None:
    bob_secret = review_round.tokens["bob"].split(".", 1)[1]
    assert client.get("/api/progress", headers=bearer(f"ann.{bob_secret}")).status_code == 401
    assert client.get("/api/progress", headers=bearer(f"admin.{bob_secret}")).status_code == 401


def test_tokens_are_stored_only_as_hashes(review_round: Round) -> None:
    with review_round.db.engine.connect() as conn:
        stored = dict(conn.execute(select(accounts_t.c.account_id, accounts_t.c.token_hash)).all())
    db_bytes = b"".join(p.read_bytes() for p in (review_round.run.path / "review").glob("review.db*"))
    for account, token in review_round.tokens.items():
        secret = token.split(".", 1)[1]
        assert stored[account] == hashlib.sha256(secret.encode()).hexdigest()
        assert secret.encode() not in db_bytes


def test_sign_in_sets_an_httponly_cookie_and_leaves_the_token_out_of_the_url(client: TestClient,
                                                                          review_round: Round) -> None:
    response = client.get(f"/signin/{review_round.tokens['ann']}", follow_redirects=False)
    cookie = response.headers["set-cookie"].lower()
    assert response.headers["location"] == "/" and "httponly" in cookie and "samesite=lax" in cookie
    assert response.headers["referrer-policy"] == "no-referrer"
    page = client.get("/")
    assert page.status_code == 200 and page.url.path == "/item/1"
    assert review_round.tokens["ann"] not in page.text


def test_reissue_invalidates_the_old_link(client: TestClient, review_round: Round) -> None:
    old = review_round.tokens["ann"]
    new = review_round.db.reissue("ann")
    assert client.get("/api/progress", headers=bearer(old)).status_code == 401
    assert client.get("/api/progress", headers=bearer(new)).status_code == 200


# --- authorisation and blinding ------------------------------------------------------------------

def test_roles_are_separate(client: TestClient, review_round: Round) -> None:
    ann, admin = bearer(review_round.tokens["ann"]), bearer(review_round.tokens["admin"])
    assert client.get("/admin", headers=ann).status_code == 403
    assert client.get("/item/1", headers=admin).status_code == 403
    assert client.get("/admin", headers=admin).status_code == 200


def test_a_rater_reaches_only_their_own_items(client: TestClient, review_round: Round) -> None:
    cat = bearer(review_round.tokens["cat"])  # cat has 2 of the 6 items
    assert client.get("/item/2", headers=cat).status_code == 200
    assert client.get("/item/3", headers=cat).status_code == 404
    assert client.get("/item/0", headers=cat).status_code == 404
    cat_page = client.get("/item/1", headers=cat).text
    csrf = csrf_of(cat_page)
    cat_items = {item_id_of(client.get(f"/item/{k}", headers=cat).text) for k in (1, 2)}
    foreign = next(i for i in review_round.db.item_ids() if i not in cat_items)
    response = client.post("/api/answer", headers={**cat, "X-CSRF-Token": csrf},
                           json={"item_id": foreign, "question": "ER", "value": "2"})
    assert response.status_code == 404
    # the form route refuses an item id that is not the one at that position
    response = client.post("/item/1", headers=cat, data={"csrf": csrf, "item_id": foreign, "ER": "2"},
                           follow_redirects=False)
    assert response.status_code == 404
    with pytest.raises(NotAssigned):
        review_round.db.save_answer("cat", foreign, "ER", "2")
    assert all_answers(review_round) == []


def test_a_rater_never_sees_who_wrote_it_nor_others_answers(client: TestClient, review_round: Round) -> None:
    ann, bob = bearer(review_round.tokens["ann"]), bearer(review_round.tokens["bob"])
    with review_round.db.engine.connect() as conn:
        items = conn.execute(select(items_t)).all()
    # "clinician" (a condition) is also in the page title and "human" an answer option: not checked
    secrets_ = {r.responder for r in items} | {r.response_id for r in items} | {r.group_label for r in items}
    secrets_ |= {"recorded", "smollm", "gpt", "social_media", "source"}
    page = client.get("/item/1", headers=ann).text
    item_id = item_id_of(page)
    client.post("/api/answer", headers={**ann, "X-CSRF-Token": csrf_of(page)},
                json={"item_id": item_id, "question": "ER", "value": "2"})
    client.post("/api/answer", headers={**ann, "X-CSRF-Token": csrf_of(page)},
                json={"item_id": item_id, "question": "COMMENT", "value": "ann-private-note"})
    bob_pages = [client.get(f"/item/{k}", headers=bob).text for k in range(1, 7)]
    bob_page = next(p for p in bob_pages if item_id_of(p) == item_id)
    assert "checked" not in bob_page and "ann-private-note" not in bob_page
    for text in (page, bob_page, client.get("/api/progress", headers=bob).text,
                 client.get("/done", headers=bob).text):
        lowered = text.lower()
        assert not [s for s in secrets_ if s.lower() in lowered]
    assert client.get("/api/progress", headers=bob).json()["answered_per_item"] == [0] * 6


def test_the_admin_sees_progress_not_answers(client: TestClient, review_round: Round) -> None:
    ann = bearer(review_round.tokens["ann"])
    page = client.get("/item/1", headers=ann).text
    for question, value in (("COMMENT", "ann-private-note"), ("IP", "2")):
        client.post("/api/answer", headers={**ann, "X-CSRF-Token": csrf_of(page)},
                    json={"item_id": item_id_of(page), "question": question, "value": value})
    admin_page = client.get("/admin", headers=bearer(review_round.tokens["admin"])).text
    assert "ann-private-note" not in admin_page
    assert re.search(r'data-rater="ann">.*?0 / 6.*?<td>1</td>', admin_page, re.S)  # one item started


# --- CSRF ----------------------------------------------------------------------------------------

def test_state_changes_need_the_csrf_token(client: TestClient, review_round: Round) -> None:
    ann, bob, admin = (bearer(review_round.tokens[k]) for k in ("ann", "bob", "admin"))
    page = client.get("/item/1", headers=ann).text
    item_id, ann_csrf = item_id_of(page), csrf_of(page)
    bob_csrf = csrf_of(client.get("/item/1", headers=bob).text)
    body = {"item_id": item_id, "question": "ER", "value": "1"}
    assert client.post("/api/answer", headers=ann, json=body).status_code == 403
    assert client.post("/api/answer", headers={**ann, "X-CSRF-Token": "0" * 64}, json=body).status_code == 403
    assert client.post("/api/answer", headers={**ann, "X-CSRF-Token": bob_csrf}, json=body).status_code == 403
    assert client.post("/item/1", headers=ann, data={"item_id": item_id, "ER": "1"},
                       follow_redirects=False).status_code == 403
    admin_csrf = csrf_of(client.get("/admin", headers=admin).text)
    assert client.post("/admin/export", headers=admin, data={"csrf": ann_csrf}).status_code == 403
    assert client.post("/admin/raters", headers=admin, data={"rater_id": "eve"}).status_code == 403
    assert all_answers(review_round) == [] and not review_round.run.has_table("ratings")
    # a cross-origin (or opaque-origin) POST is refused even with the right token
    for origin in ("http://evil.test", "null"):
        assert client.post("/api/answer", headers={**ann, "X-CSRF-Token": ann_csrf, "Origin": origin},
                           json=body).status_code == 403
    assert all_answers(review_round) == []
    # and the right token works
    assert client.post("/api/answer", headers={**ann, "X-CSRF-Token": ann_csrf}, json=body).status_code == 200
    assert client.post("/admin/export", headers=admin, data={"csrf": admin_csrf}).status_code == 200
    assert review_round.run.read_table("ratings")["value"].tolist() == ["1"]


def test_invalid_answers_are_refused(client: TestClient, review_round: Round) -> None:
    ann = bearer(review_round.tokens["ann"])
    page = client.get("/item/1", headers=ann).text
    headers = {**ann, "X-CSRF-Token": csrf_of(page)}
    for question, value in [("ER", "3"), ("ER", "NA"), ("MITI_PARTNERSHIP", "NA"), ("AI_GUESS", "maybe"),
                            ("FOO", "1"), ("COMMENT", "x" * 5001)]:
        response = client.post("/api/answer", headers=headers,
                               json={"item_id": item_id_of(page), "question": question, "value": value})
        assert response.status_code == 400, (question, value)
    assert all_answers(review_round) == []


# --- escaping and headers ------------------------------------------------------------------------

def test_post_text_is_escaped_and_scripts_are_limited_to_this_server(client: TestClient,
                                                                     review_round: Round) -> None:
    ann = bearer(review_round.tokens["ann"])
    pages = [client.get(f"/item/{k}", headers=ann) for k in range(1, 7)]
    with_xss = [p for p in pages if "alert(&#39;pwned&#39;)" in p.text]
    assert with_xss, "the fixture post with a script tag was not drawn"
    for page in pages:
        assert XSS not in page.text and "<b>Hang in there</b>" not in page.text
        assert "script-src 'self'" in page.headers["content-security-policy"]
        assert page.headers["x-frame-options"] == "DENY" and page.headers["cache-control"] == "no-store"
    assert "&lt;script&gt;" in with_xss[0].text
    assert any("&lt;b&gt;Hang in there&lt;/b&gt;" in p.text for p in pages)  # three peer replies drawn


def test_a_comment_with_markup_comes_back_escaped(client: TestClient, review_round: Round) -> None:
    ann = bearer(review_round.tokens["ann"])
    page = client.get("/item/1", headers=ann).text
    client.post("/api/answer", headers={**ann, "X-CSRF-Token": csrf_of(page)},
                json={"item_id": item_id_of(page), "question": "COMMENT", "value": "</textarea>" + XSS})
    again = client.get("/item/1", headers=ann).text
    assert XSS not in again and "&lt;/textarea&gt;&lt;script&gt;" in again


# --- over real HTTP ------------------------------------------------------------------------------

def test_over_http_tokens_csrf_and_restart(server: Server, review_round: Round) -> None:
    with httpx.Client(base_url=server.url) as http:
        for method, path in ROUTES:
            assert http.request(method, path).status_code == 401, path
        assert http.get("/", headers=bearer("ann.forged")).status_code == 401
        ann = bearer(review_round.tokens["ann"])
        page = http.get("/item/1", headers=ann)
        assert page.status_code == 200
        item_id, csrf = item_id_of(page.text), csrf_of(page.text)
        body = {"item_id": item_id, "question": "MITI_CCT", "value": "NA"}
        assert http.post("/api/answer", headers=ann, json=body).status_code == 403
        assert http.post("/api/answer", headers={**ann, "X-CSRF-Token": csrf}, json=body).status_code == 200
    server.restart()
    with httpx.Client(base_url=server.url) as http:
        page = http.get("/item/1", headers=bearer(review_round.tokens["ann"])).text
        assert 'id="MITI_CCT-NA" name="MITI_CCT" value="NA" data-key="n"\n           checked' in page
        assert csrf_of(page) == csrf  # the CSRF key lives in the database, so it survives too
        assert http.get("/item/1", headers=bearer(review_round.tokens["bob"])).status_code == 200


def test_the_admin_creates_a_rater_whose_link_works(client: TestClient, review_round: Round) -> None:
    admin = bearer(review_round.tokens["admin"])
    csrf = csrf_of(client.get("/admin", headers=admin).text)
    add = {"csrf": csrf, "rater_id": "dee", "name": "Dr Dee"}
    page = client.post("/admin/raters", headers=admin, data=add)
    link = re.search(r'value="(http://testserver/signin/dee\.[^"]+)"', page.text)
    assert page.status_code == 200 and link
    token = link.group(1).rsplit("/", 1)[1]
    assert client.get("/api/progress", headers=bearer(token)).json()["total"] == 6
    again = client.post("/admin/raters", headers=admin, data=add).text
    assert "exists" in again and "/signin/dee." not in again
    for rater_id, message in (("admin", "reserved"), ("<b>x</b>", "bad account id &#39;&lt;b&gt;x")):
        assert message in client.post("/admin/raters", headers=admin, data={**add, "rater_id": rater_id}).text
