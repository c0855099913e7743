"""Write a round's answers into the run directory as the ``ratings`` table (Parquet) and as CSV."""

from dataclasses import dataclass
from pathlib import Path

from carelens.review.db import ReviewDB
from carelens.store import RunDir, atomic_path


@dataclass(frozen=True)
class Export:
    rows: int
    raters: int
    paths: tuple[Path, ...]


def export_ratings(db: ReviewDB, run: RunDir) -> Export:
    """Write ``RUN/tables/ratings.parquet`` and ``RUN/review/ratings.csv``.

    Besides the ``ratings`` columns (item_id, rater_id, question, value, time) each row carries the
    item's ``response_id`` and ``source`` (ai/human), which agreement needs and raters never see.
    """
    frame = db.ratings()
    run.write_table("ratings", frame)
    csv_path = run.path / "review" / "ratings.csv"
    with atomic_path(csv_path) as tmp:
        frame.to_csv(tmp, index=False)
    return Export(len(frame), int(frame["rater_id"].nunique()), (run.table_path("ratings"), csv_path))
