"""The round's database: items, accounts (hashed tokens), each rater's order, and the answers.

SQLite in WAL mode under ``RUN/review/review.db`` by default; any SQLAlchemy URL (e.g.
``postgresql+psycopg://...``) works for a multi-site round. One database holds one round.

Tokens are ``<account id>.<secret>``, the secret 256 random bits; only its SHA-256 is stored (a slow hash
adds nothing against a 256-bit secret) and it is checked with a constant-time compare. Answers have a
foreign key to the rater's assignment, so the database itself refuses answers to items not assigned.
Questions asked once per rater (the AI share) live in ``rater_answers``; a round created before that
table existed gets it when it is next opened by ``require_round`` or ``ratings``.
"""

import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import (
    Column,
    Connection,
    Engine,
    ForeignKey,
    ForeignKeyConstraint,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    delete,
    event,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from carelens.errors import CarelensError
from carelens.review.masking import CATEGORIES
from carelens.review.questions import BY_KEY, REQUIRED, percent
from carelens.store import now

ACCOUNT_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
ADMIN = "admin"

metadata = MetaData()
meta_t = Table("meta", metadata, Column("key", String(64), primary_key=True), Column("value", Text))
items_t = Table(
    "items", metadata,
    Column("item_id", String(64), primary_key=True),
    Column("response_id", String(64), nullable=False),
    Column("post_id", String(64)),
    Column("variant_id", String(64)),
    Column("responder", String(200), nullable=False),
    Column("source", String(16), nullable=False),
    Column("condition", String(200), nullable=False),
    Column("group_label", String(200), nullable=False),
    Column("post_text", Text, nullable=False),
    Column("response_text", Text, nullable=False),
    *(Column(f"masked_{c}", Integer, nullable=False) for c in CATEGORIES),
)
accounts_t = Table(
    "accounts", metadata,
    Column("account_id", String(40), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("name", String(200), nullable=False),
    Column("token_hash", String(64), nullable=False),
    Column("created", String(32), nullable=False),
)
assignments_t = Table(
    "assignments", metadata,
    Column("rater_id", String(40), ForeignKey("accounts.account_id"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("item_id", String(64), ForeignKey("items.item_id"), nullable=False),
    UniqueConstraint("rater_id", "item_id"),
)
answers_t = Table(
    "answers", metadata,
    Column("item_id", String(64), primary_key=True),
    Column("rater_id", String(40), primary_key=True),
    Column("question", String(32), primary_key=True),
    Column("value", Text, nullable=False),
    Column("time", String(32), nullable=False),
    ForeignKeyConstraint(["rater_id", "item_id"], ["assignments.rater_id", "assignments.item_id"]),
)
rater_answers_t = Table(
    "rater_answers", metadata,
    Column("rater_id", String(40), ForeignKey("accounts.account_id"), primary_key=True),
    Column("question", String(32), primary_key=True),
    Column("value", Text, nullable=False),
    Column("time", String(32), nullable=False),
)


class NotAssigned(Exception):
    """The item is not one of the rater's."""


@dataclass(frozen=True)
class Account:
    account_id: str
    role: str
    name: str
    token_hash: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def default_url(run_path: Path) -> str:
    return f"sqlite:///{(Path(run_path) / 'review' / 'review.db').resolve()}"


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL mode, foreign keys and a busy timeout."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise CarelensError(f"not a database URL: {exc}", where="--db") from None
    try:
        if parsed.get_backend_name() != "sqlite":
            return create_engine(parsed, pool_pre_ping=True)
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, connect_args={"check_same_thread": False})
    except (ImportError, NoSuchModuleError) as exc:
        shown = parsed.render_as_string(hide_password=True)
        raise CarelensError(f"cannot open {shown}: {exc} (is the database driver installed?)",
                            where="--db") from None
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


class ReviewDB:
    """All reads and writes of a round."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)

    @property
    def safe_url(self) -> str:
        """The URL with any password hidden."""
        return make_url(self.url).render_as_string(hide_password=True)

    @contextmanager
    def _tx(self) -> Iterator[Connection]:
        with self.engine.begin() as conn:
            yield conn

    # --- round -----------------------------------------------------------------------------------

    def has_round(self) -> bool:
        with self.engine.connect() as conn:
            if not self.engine.dialect.has_table(conn, "meta"):
                return False
            return conn.execute(select(meta_t.c.value).where(meta_t.c.key == "round_id")).first() is not None

    def require_round(self) -> None:
        if not self.has_round():
            raise CarelensError("no review round in this database (run 'carelens review create' first)",
                                where=self.safe_url)
        self._add_missing_tables()

    def _add_missing_tables(self) -> None:
        metadata.create_all(self.engine, tables=[rater_answers_t])  # checks first: a no-op when present

    def create_round(self, items: pd.DataFrame, info: dict[str, Any]) -> str:
        """Store the items and round info; return the admin's token. Refuses if a round exists."""
        if self.has_round():
            raise CarelensError("this database already holds a round; use another --db or remove it",
                                where=self.safe_url)
        metadata.create_all(self.engine)
        rows = items.rename(columns={"group": "group_label"})[[c.name for c in items_t.columns]]
        secret = secrets.token_urlsafe(32)
        with self._tx() as conn:
            records = rows.astype(object).where(rows.notna(), None).to_dict("records")
            conn.execute(insert(items_t), records)
            conn.execute(insert(accounts_t).values(account_id=ADMIN, role="admin", name="Administrator",
                                                   token_hash=_hash(secret), created=now()))
            conn.execute(insert(meta_t), [
                {"key": "round_id", "value": info["round_id"]},
                {"key": "seed", "value": str(info["seed"])},
                {"key": "created", "value": now()},
                {"key": "secret_key", "value": secrets.token_hex(32)},
                {"key": "info", "value": json.dumps(info, default=str)},
            ])
        return f"{ADMIN}.{secret}"

    def meta(self, key: str) -> str:
        with self.engine.connect() as conn:
            value = conn.execute(select(meta_t.c.value).where(meta_t.c.key == key)).scalar_one_or_none()
        if value is None:
            raise CarelensError(f"round has no '{key}'", where=self.safe_url)
        return str(value)

    def item_ids(self) -> list[str]:
        with self.engine.connect() as conn:
            return list(conn.execute(select(items_t.c.item_id).order_by(items_t.c.item_id)).scalars())

    # --- accounts --------------------------------------------------------------------------------

    def add_account(self, account_id: str, role: str, name: str, order: list[str] | None = None) -> str:
        """Create an account (a rater with their item order, or the admin); return its sign-in token."""
        if not ACCOUNT_ID.match(account_id):
            raise CarelensError(f"bad account id '{account_id}': use 1-40 of a-z 0-9 _ - (lower case)",
                                where="NAME")
        secret = secrets.token_urlsafe(32)
        with self._tx() as conn:
            exists = conn.execute(select(accounts_t.c.account_id).where(
                accounts_t.c.account_id == account_id)).first()
            if exists:
                raise CarelensError(f"account '{account_id}' exists (use --reissue for a new link)",
                                    where="NAME")
            conn.execute(insert(accounts_t).values(account_id=account_id, role=role, name=name or account_id,
                                                   token_hash=_hash(secret), created=now()))
            if order:
                conn.execute(insert(assignments_t), [
                    {"rater_id": account_id, "position": i, "item_id": item_id}
                    for i, item_id in enumerate(order, start=1)
                ])
        return f"{account_id}.{secret}"

    def reissue(self, account_id: str) -> str:
        """Replace an account's token (the old link stops working); return the new token."""
        secret = secrets.token_urlsafe(32)
        with self._tx() as conn:
            done = conn.execute(update(accounts_t).where(accounts_t.c.account_id == account_id)
                                .values(token_hash=_hash(secret))).rowcount
        if not done:
            raise CarelensError(f"no account '{account_id}'", where="NAME")
        return f"{account_id}.{secret}"

    def authenticate(self, token: str | None) -> Account | None:
        """The account whose token this is, or None. The secret is compared in constant time."""
        if not token or "." not in token or len(token) > 200:
            return None
        account_id, secret = token.split(".", 1)
        with self.engine.connect() as conn:
            row = conn.execute(select(accounts_t).where(accounts_t.c.account_id == account_id)).first()
        stored = row.token_hash if row else "0" * 64
        if hmac.compare_digest(_hash(secret), stored) and row is not None:
            return Account(row.account_id, row.role, row.name, row.token_hash)
        return None

    @cached_property
    def _secret_key(self) -> bytes:
        return self.meta("secret_key").encode()

    def csrf_token(self, account: Account) -> str:
        """A per-account CSRF token: an HMAC of the account and its token hash under the round's key."""
        return hmac.new(self._secret_key, f"csrf:{account.account_id}:{account.token_hash}".encode(),
                        hashlib.sha256).hexdigest()

    def check_csrf(self, account: Account, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(self.csrf_token(account), str(token))

    def raters(self) -> list[Account]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(accounts_t).where(accounts_t.c.role == "rater")
                                .order_by(accounts_t.c.account_id)).all()
        return [Account(r.account_id, r.role, r.name, r.token_hash) for r in rows]

    # --- a rater's items and answers -------------------------------------------------------------

    def count(self, rater_id: str) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(assignments_t)
                                    .where(assignments_t.c.rater_id == rater_id)).scalar_one())

    def item_at(self, rater_id: str, position: int) -> dict[str, str] | None:
        """What the rater sees of their item at ``position``: id and texts, never who wrote it."""
        query = (select(items_t.c.item_id, items_t.c.post_text, items_t.c.response_text)
                 .join(assignments_t, assignments_t.c.item_id == items_t.c.item_id)
                 .where(assignments_t.c.rater_id == rater_id, assignments_t.c.position == position))
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return dict(row._mapping) if row else None

    def answers(self, rater_id: str, item_id: str) -> dict[str, str]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(answers_t.c.question, answers_t.c.value).where(
                answers_t.c.rater_id == rater_id, answers_t.c.item_id == item_id)).all()
        return {q: v for q, v in rows}

    def save_answer(self, rater_id: str, item_id: str, question: str, value: str) -> None:
        """Store (or replace) one answer; an empty optional answer is removed.

        Raises ``ValueError`` for an unknown question or value, ``NotAssigned`` for another's item.
        """
        spec = BY_KEY.get(question)
        if spec is None:
            raise ValueError(f"unknown question '{question}'")
        if spec.per_rater:
            raise ValueError(f"{question} is asked once per rater, not per item")
        if not spec.valid(value):
            raise ValueError(f"'{value[:40]}' is not an answer to {question}")
        with self._tx() as conn:
            assigned = conn.execute(select(assignments_t.c.position).where(
                assignments_t.c.rater_id == rater_id, assignments_t.c.item_id == item_id)).first()
            if assigned is None:
                raise NotAssigned(item_id)
            key = {"item_id": item_id, "rater_id": rater_id, "question": question}
            conn.execute(delete(answers_t).where(*(answers_t.c[k] == v for k, v in key.items())))
            if value.strip():
                conn.execute(insert(answers_t).values(**key, value=value, time=now()))

    def save_rater_answer(self, rater_id: str, question: str, value: str) -> None:
        """Store (or replace) a rater's answer to a question asked once per rater.

        Raises ``ValueError`` for an unknown or per-item question or an invalid value.
        """
        spec = BY_KEY.get(question)
        if spec is None or not spec.per_rater:
            raise ValueError(f"'{question[:40]}' is not a question asked once per rater")
        canonical = percent(value) if spec.kind == "percent" else value
        if canonical is None or not spec.valid(canonical):
            raise ValueError(f"'{value[:40]}' is not an answer to {question}")
        with self._tx() as conn:
            key = {"rater_id": rater_id, "question": question}
            conn.execute(delete(rater_answers_t).where(*(rater_answers_t.c[k] == v for k, v in key.items())))
            conn.execute(insert(rater_answers_t).values(**key, value=canonical, time=now()))

    def rater_answers(self, rater_id: str) -> dict[str, str]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(rater_answers_t.c.question, rater_answers_t.c.value).where(
                rater_answers_t.c.rater_id == rater_id)).all()
        return {q: v for q, v in rows}

    def completion(self, rater_id: str) -> list[int]:
        """Per position (1-based order), how many required questions are answered."""
        joined = assignments_t.outerjoin(answers_t, (answers_t.c.item_id == assignments_t.c.item_id)
                                         & (answers_t.c.rater_id == assignments_t.c.rater_id)
                                         & answers_t.c.question.in_(REQUIRED))
        query = (select(assignments_t.c.position, func.count(answers_t.c.question)).select_from(joined)
                 .where(assignments_t.c.rater_id == rater_id)
                 .group_by(assignments_t.c.position).order_by(assignments_t.c.position))
        with self.engine.connect() as conn:
            return [int(n) for _, n in conn.execute(query).all()]

    # --- admin -----------------------------------------------------------------------------------

    def progress(self) -> list[dict[str, Any]]:
        """Per rater: items assigned, complete, started, last save. No answers."""
        out = []
        with self.engine.connect() as conn:
            last = dict(conn.execute(select(answers_t.c.rater_id, func.max(answers_t.c.time))
                                     .group_by(answers_t.c.rater_id)).all())
            shared = set(conn.execute(select(rater_answers_t.c.rater_id).where(
                rater_answers_t.c.question == "AI_SHARE")).scalars())
        for rater in self.raters():
            done = self.completion(rater.account_id)
            out.append({"rater_id": rater.account_id, "name": rater.name, "items": len(done),
                        "complete": sum(n == len(REQUIRED) for n in done),
                        "started": sum(0 < n < len(REQUIRED) for n in done),
                        "ai_share_given": rater.account_id in shared,
                        "last_saved": last.get(rater.account_id) or ""})
        return out

    def ratings(self) -> pd.DataFrame:
        """Every answer in the ``ratings`` table's columns, plus response_id and source of the item.

        A once-per-rater answer (AI_SHARE) has the round id as its item id and no response_id or source.
        """
        self._add_missing_tables()
        query = (select(answers_t.c.item_id, answers_t.c.rater_id, answers_t.c.question, answers_t.c.value,
                        answers_t.c.time, items_t.c.response_id, items_t.c.source)
                 .join(items_t, items_t.c.item_id == answers_t.c.item_id)
                 .order_by(answers_t.c.rater_id, answers_t.c.item_id, answers_t.c.question))
        per_rater = select(rater_answers_t).order_by(rater_answers_t.c.rater_id, rater_answers_t.c.question)
        round_id = self.meta("round_id")
        with self.engine.connect() as conn:
            rows = [tuple(r) for r in conn.execute(query).all()]
            rows += [(round_id, r.rater_id, r.question, r.value, r.time, None, None)
                     for r in conn.execute(per_rater).all()]
        columns = ["item_id", "rater_id", "question", "value", "time", "response_id", "source"]
        return pd.DataFrame(rows, columns=columns).astype("string")
