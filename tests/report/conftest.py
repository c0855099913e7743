"""The report tests' run: hand-built analysis tables (see report_fixtures)."""

from report_fixtures import report_run  # noqa: F401
