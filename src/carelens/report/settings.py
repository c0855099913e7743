"""The [report] section of the study file."""

from pydantic import Field

from carelens.settings_base import Section


class ReportConfig(Section):
    """Report options."""

    title: str | None = Field(
        default=None, description="the page title (default: 'carelens report: <study>')"
    )
    examples_per_group: int = Field(
        default=2, ge=0, le=50, description="example replies shown per group and responder (0: none)"
    )
