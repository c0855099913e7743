"""Fixtures of the review tests (defined in review_fixtures.py)."""

from review_fixtures import review_round, review_run, server  # noqa: F401
