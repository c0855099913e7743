"""The once-per-rater AI-share question in the app: asked after the last item, saved, resumed, exported,
and under the same sign-in, CSRF and origin rules as every other answer."""

import re

import pytest
from fastapi.testclient import TestClient
from review_fixtures import Round
from test_review_security import all_answers, bearer, csrf_of, item_id_of

from carelens.review.app import create_app
from carelens.review.questions import REQUIRED

ANSWERS = {"ER": "1", "IP": "2", "EX": "0", "MITI_CCT": "NA", "MITI_SST": "3", "MITI_PARTNERSHIP": "4",
           "AI_GUESS": "human"}


@pytest.fixture
def client(review_round: Round) -> TestClient:
    return TestClient(create_app(review_round.db, review_round.run.path))


def rate_all(client: TestClient, token: str) -> None:
    headers = bearer(token)
    total = client.get("/api/progress", headers=headers).json()["total"]
    for position in range(1, total + 1):
        page = client.get(f"/item/{position}", headers=headers).text
        client.post(f"/item/{position}", headers=headers, follow_redirects=False,
                    data={"csrf": csrf_of(page), "item_id": item_id_of(page), "go": "next", **ANSWERS})


def share_of(rnd: Round, rater: str) -> str | None:
    return rnd.db.rater_answers(rater).get("AI_SHARE")


def test_asked_only_once_every_item_is_rated(client: TestClient, review_round: Round) -> None:
    cat = bearer(review_round.tokens["cat"])  # two items
    done = client.get("/done", headers=cat).text
    assert 'name="AI_SHARE"' not in done and "one last question" in done.lower()
    response = client.post("/done", headers=cat, data={"csrf": csrf_of(done), "AI_SHARE": "30"})
    assert response.status_code == 409 and share_of(review_round, "cat") is None
    rate_all(client, review_round.tokens["cat"])
    assert client.get("/", headers=cat).url.path == "/done"
    done = client.get("/done", headers=cat).text
    assert "One last question" in done and 'name="AI_SHARE"' in done and "Thank you" not in done


def test_saved_resumed_changed_and_exported(client: TestClient, review_round: Round) -> None:
    cat = bearer(review_round.tokens["cat"])
    rate_all(client, review_round.tokens["cat"])
    csrf = csrf_of(client.get("/done", headers=cat).text)
    response = client.post("/done", headers=cat, data={"csrf": csrf, "AI_SHARE": "35"},
                           follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/done?saved=1"
    assert share_of(review_round, "cat") == "35"
    # a fresh app (a restarted server) shows the saved answer
    again = TestClient(create_app(review_round.db, review_round.run.path)).get("/done", headers=cat).text
    assert "Thank you" in again and 'value="35"' in again
    assert client.get("/api/progress", headers=cat).json()["ai_share_given"] is True
    client.post("/done", headers=cat, data={"csrf": csrf, "AI_SHARE": "60"})
    assert share_of(review_round, "cat") == "60"
    # the admin sees that it was given, not what
    admin = bearer(review_round.tokens["admin"])
    progress = {r["rater_id"]: r for r in client.get("/api/progress", headers=admin).json()["raters"]}
    assert progress["cat"]["ai_share_given"] and not progress["ann"]["ai_share_given"]
    assert re.search(r'data-rater="cat">.*?<td>yes</td>', client.get("/admin", headers=admin).text, re.S)
    admin_csrf = csrf_of(client.get("/admin", headers=admin).text)
    assert client.post("/admin/export", headers=admin, data={"csrf": admin_csrf}).status_code == 200
    ratings = review_round.run.read_table("ratings")
    share = ratings[ratings["question"] == "AI_SHARE"]
    assert len(share) == 1 and share.iloc[0]["value"] == "60" and share.iloc[0]["rater_id"] == "cat"
    assert share.iloc[0]["item_id"] == review_round.db.meta("round_id")
    assert len(ratings) == 2 * len(REQUIRED) + 1


def test_the_same_security_rules_apply(client: TestClient, review_round: Round) -> None:
    cat, bob = bearer(review_round.tokens["cat"]), bearer(review_round.tokens["bob"])
    rate_all(client, review_round.tokens["cat"])
    csrf = csrf_of(client.get("/done", headers=cat).text)
    bob_csrf = csrf_of(client.get("/done", headers=bob).text)
    assert client.post("/done", data={"csrf": csrf, "AI_SHARE": "10"}).status_code == 401
    assert client.post("/done", headers=cat, data={"AI_SHARE": "10"}).status_code == 403
    assert client.post("/done", headers=cat, data={"csrf": bob_csrf, "AI_SHARE": "10"}).status_code == 403
    for origin in ("http://evil.test", "null"):
        response = client.post("/done", headers={**cat, "Origin": origin},
                               data={"csrf": csrf, "AI_SHARE": "10"})
        assert response.status_code == 403
    admin = bearer(review_round.tokens["admin"])
    admin_csrf = csrf_of(client.get("/admin", headers=admin).text)
    assert client.post("/done", headers=admin, data={"csrf": admin_csrf, "AI_SHARE": "10"}).status_code == 403
    for bad in ("101", "-1", "lots", "", "1e400", "<script>"):
        assert client.post("/done", headers=cat, data={"csrf": csrf, "AI_SHARE": bad}).status_code == 400, bad
    assert share_of(review_round, "cat") is None
    # never as a per-item answer
    page = client.get("/item/1", headers=cat).text
    response = client.post("/api/answer", headers={**cat, "X-CSRF-Token": csrf_of(page)},
                           json={"item_id": item_id_of(page), "question": "AI_SHARE", "value": "10"})
    assert response.status_code == 400
    assert not [a for a in all_answers(review_round) if a[2] == "AI_SHARE"]
